package alipay

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Gateways.
const (
	ProductionGateway = "https://openapi.alipay.com/gateway.do"
	// SandboxGateway is the sandbox launched in 2023. The old
	// openapi.alipaydev.com sandbox is dead; its app ids no longer work.
	SandboxGateway = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
)

// Config configures a Client. AppID, PrivateKey and one way of verifying
// Alipay's signatures (AlipayPublicKey, or certificate mode) are required.
type Config struct {
	AppID      string
	PrivateKey *rsa.PrivateKey // the app private key (应用私钥)

	// Key mode: Alipay's public key (支付宝公钥), not the app's own.
	AlipayPublicKey *rsa.PublicKey

	// Certificate mode: see UseCertificates. AppCertSN and AlipayRootCertSN
	// are sent (and signed) with every request; AlipayCerts maps each
	// alipay_cert_sn to the key that verifies responses carrying it, so
	// several certificates may be loaded across a rotation.
	AppCertSN        string
	AlipayRootCertSN string
	AlipayCerts      map[string]*rsa.PublicKey

	// Gateway is the gateway URL: ProductionGateway (the default),
	// SandboxGateway, or any URL such as an offline simulator's.
	Gateway  string
	SignType SignType // RSA2 (default) or RSA for old apps

	// NotifyURL and ReturnURL are the defaults for calls that take them.
	NotifyURL string
	ReturnURL string

	// EncryptKey, when set, is the AES key (the console's base64 string,
	// decoded) used to encrypt biz_content (encrypt_type=AES).
	EncryptKey []byte

	HTTPClient   *http.Client     // default: a client with a 15 s timeout
	Now          func() time.Time // default: time.Now
	AppAuthToken string           // ISV calls on behalf of a merchant

	appCertKey *rsa.PublicKey      // set by UseCertificates; New checks it against PrivateKey
	roots      []*x509.Certificate // the RSA roots of the bundle given to UseCertificates
}

// Client calls Alipay's gateway. It is safe for concurrent use.
type Client struct {
	cfg Config
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" {
		return nil, errors.New("alipay: Config.AppID is empty")
	}
	if cfg.PrivateKey == nil {
		return nil, errors.New("alipay: Config.PrivateKey is nil")
	}
	if cfg.AlipayPublicKey == nil && len(cfg.AlipayCerts) == 0 {
		return nil, errors.New("alipay: set Config.AlipayPublicKey (key mode) or load certificates (certificate mode)")
	}
	if cfg.AlipayPublicKey != nil && SameKey(cfg.AlipayPublicKey, &cfg.PrivateKey.PublicKey) {
		return nil, ErrAppKeyAsAlipayKey
	}
	for _, k := range cfg.AlipayCerts {
		if SameKey(k, &cfg.PrivateKey.PublicKey) {
			return nil, ErrAppKeyAsAlipayKey
		}
	}
	if (cfg.AppCertSN == "") != (cfg.AlipayRootCertSN == "") {
		return nil, errors.New("alipay: certificate mode needs both AppCertSN and AlipayRootCertSN")
	}
	if cfg.appCertKey != nil && !SameKey(cfg.appCertKey, &cfg.PrivateKey.PublicKey) {
		return nil, errors.New("alipay: the app certificate does not hold the public key of Config.PrivateKey (wrong app certificate or wrong private key)")
	}
	if cfg.SignType == "" {
		cfg.SignType = RSA2
	}
	if _, err := cfg.SignType.hash(); err != nil {
		return nil, err
	}
	if bits := cfg.PrivateKey.N.BitLen(); cfg.SignType == RSA2 && bits < 2048 {
		return nil, fmt.Errorf("alipay: RSA2 needs a key of at least 2048 bits; the app private key has %d", bits)
	}
	if err := cfg.PrivateKey.Validate(); err != nil {
		return nil, fmt.Errorf("alipay: app private key: %w", err)
	}
	if cfg.Gateway == "" {
		cfg.Gateway = ProductionGateway
	}
	u, err := url.Parse(cfg.Gateway)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alipay: bad gateway URL %q (want production, sandbox or an http(s) URL)", cfg.Gateway)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(cfg.Gateway, "?") {
		// Alipay would merge a query into the signed parameters.
		return nil, fmt.Errorf("alipay: gateway URL %q must not carry a query or a fragment", cfg.Gateway)
	}
	if cfg.EncryptKey != nil {
		if err := checkAESKey(cfg.EncryptKey); err != nil {
			return nil, err
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The client keeps its own copies, so later changes to the caller's
	// Config cannot race with calls.
	cfg.AlipayCerts = maps.Clone(cfg.AlipayCerts)
	cfg.roots = slices.Clone(cfg.roots)
	cfg.EncryptKey = bytes.Clone(cfg.EncryptKey)
	return &Client{cfg: cfg}, nil
}

// ResolveGateway maps "production" (or "") and "sandbox" to the gateway URLs
// and checks that anything else is an http(s) URL.
func ResolveGateway(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "production", "prod":
		return ProductionGateway, nil
	case "sandbox":
		return SandboxGateway, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("alipay: bad gateway %q: want production, sandbox or an http(s) URL without a query", s)
	}
	return s, nil
}

// AppID returns the configured app id.
func (c *Client) AppID() string { return c.cfg.AppID }

// Gateway returns the configured gateway URL.
func (c *Client) Gateway() string { return c.cfg.Gateway }

// request holds the parameters of one gateway call before signing.
type request struct {
	method string
	biz    any               // marshalled to biz_content; nil → none
	extra  map[string]string // notify_url, return_url, …
}

// params builds and signs the full parameter set of a call.
func (c *Client) params(r request) (map[string]string, error) {
	p := map[string]string{
		"app_id":    c.cfg.AppID,
		"method":    r.method,
		"format":    "JSON",
		"charset":   "utf-8",
		"sign_type": string(c.cfg.SignType),
		"timestamp": FormatTime(c.cfg.Now()),
		"version":   "1.0",
	}
	if c.cfg.AppCertSN != "" {
		p["app_cert_sn"] = c.cfg.AppCertSN
		p["alipay_root_cert_sn"] = c.cfg.AlipayRootCertSN
	}
	if c.cfg.AppAuthToken != "" {
		p["app_auth_token"] = c.cfg.AppAuthToken
	}
	for k, v := range r.extra {
		if reservedParams[k] {
			return nil, fmt.Errorf("%w: %s is set by the client and cannot be given as an extra parameter", ErrInvalidParam, k)
		}
		if v != "" {
			p[k] = v
		}
	}
	if r.biz != nil {
		biz, err := marshalBiz(r.biz)
		if err != nil {
			return nil, err
		}
		if c.cfg.EncryptKey != nil {
			enc, err := EncryptContent(c.cfg.EncryptKey, biz)
			if err != nil {
				return nil, err
			}
			p["encrypt_type"] = "AES"
			biz = []byte(enc)
		}
		p["biz_content"] = string(biz)
	}
	if err := SignRequest(c.cfg.PrivateKey, p); err != nil {
		return nil, err
	}
	return p, nil
}

// reservedParams are the protocol parameters the client sets itself.
var reservedParams = map[string]bool{
	"app_id": true, "method": true, "format": true, "charset": true, "sign_type": true, "sign": true,
	"timestamp": true, "version": true, "biz_content": true, "app_cert_sn": true, "alipay_root_cert_sn": true,
	"encrypt_type": true,
}

// marshalBiz writes compact JSON without HTML escaping (so "&" stays "&").
func marshalBiz(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("alipay: biz_content: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// maxResponse bounds the size of a gateway response.
const maxResponse = 8 << 20

// Call invokes any gateway method: biz is marshalled to biz_content (nil for
// none), the response is verified, and the node is unmarshalled into out
// (which may be nil). A response with code other than 10000 returns *Error.
func (c *Client) Call(ctx context.Context, method string, biz any, out any) error {
	return c.do(ctx, request{method: method, biz: biz}, out)
}

// CallWithParams is Call with extra protocol parameters (notify_url, …).
func (c *Client) CallWithParams(ctx context.Context, method string, extra map[string]string, biz any, out any) error {
	return c.do(ctx, request{method: method, biz: biz, extra: extra}, out)
}

func (c *Client) do(ctx context.Context, r request, out any) error {
	body, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	return c.DecodeResponse(r.method, body, out)
}

// send signs and posts a request and returns the raw response body.
func (c *Client) send(ctx context.Context, r request) ([]byte, error) {
	p, err := c.params(r)
	if err != nil {
		return nil, err
	}
	// As the Java SDK does: the protocol parameters (charset included, as the
	// gateway wants it in the URL) go in the query, biz_content in the body.
	var form string
	if biz, ok := p["biz_content"]; ok {
		form = "biz_content=" + string(appendQueryEscape(nil, biz))
	}
	u := c.cfg.Gateway + querySep(c.cfg.Gateway) + encodeParams(p, "biz_content")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form))
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", r.method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w: %w", r.method, ErrUnknownOutcome, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w: reading response: %w", r.method, ErrUnknownOutcome, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alipay: %s: %w: HTTP %s", r.method, ErrUnknownOutcome, resp.Status)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("alipay: %s: %w: response larger than %d bytes", r.method, ErrUnknownOutcome, maxResponse)
	}
	return body, nil
}

// DecodeResponse verifies a raw gateway response of method and unmarshals
// its node into out. It is what every call uses; it is exported for responses
// obtained some other way.
func (c *Client) DecodeResponse(method string, body []byte, out any) error {
	raw, err := ExtractResponse(body, method)
	if err != nil {
		return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, err)
	}
	content := raw.Content
	var e Error
	if raw.Sign == "" {
		// Alipay leaves some gateway errors unsigned. Report the error, but
		// never treat an unsigned body as a verified success.
		if json.Unmarshal(content, &e) == nil && e.Code != "" && e.Code != "10000" {
			e.Method, e.Unverified = method, true
			return &e
		}
		return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, ErrUnsigned)
	}
	pub, err := c.responseKey(raw.CertSN)
	if err != nil {
		return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, err)
	}
	if err := VerifyResponseContent(pub, c.cfg.SignType, content, raw.Sign); err != nil {
		return fmt.Errorf("alipay: %s: response %w: %w", method, err, ErrUnknownOutcome)
	}
	if len(content) > 0 && content[0] == '"' { // AES-encrypted node
		var enc string
		if err := json.Unmarshal(content, &enc); err != nil {
			return fmt.Errorf("alipay: %s: %w: %w: %v", method, ErrUnknownOutcome, ErrBadResponse, err)
		}
		if c.cfg.EncryptKey == nil {
			return fmt.Errorf("alipay: %s: %w: response is encrypted but no EncryptKey is set", method, ErrUnknownOutcome)
		}
		if content, err = DecryptContent(c.cfg.EncryptKey, enc); err != nil {
			return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, err)
		}
	}
	if !utf8.Valid(content) {
		// The signature held, so the bytes are Alipay's, but in a charset
		// other than UTF-8 (GBK): refuse rather than return mangled text.
		return fmt.Errorf("alipay: %s: %w: %w: the response is not UTF-8 (GBK?); this client sends charset=utf-8 and reads UTF-8 only", method, ErrUnknownOutcome, ErrBadResponse)
	}
	// From here on the signature held: Alipay processed the call, so a
	// response that cannot be read leaves its outcome unknown.
	if err := json.Unmarshal(content, &e); err != nil {
		return fmt.Errorf("alipay: %s: %w: %w: %v", method, ErrUnknownOutcome, ErrBadResponse, err)
	}
	if e.Code == "" {
		return fmt.Errorf("alipay: %s: %w: %w: no code in the response", method, ErrUnknownOutcome, ErrBadResponse)
	}
	if e.Code != "10000" {
		e.Method = method
		return &e
	}
	if out != nil {
		if err := json.Unmarshal(content, out); err != nil {
			return fmt.Errorf("alipay: %s: %w: %w: %v", method, ErrUnknownOutcome, ErrBadResponse, err)
		}
	}
	return nil
}

func (c *Client) responseKey(sn string) (*rsa.PublicKey, error) {
	if len(c.cfg.AlipayCerts) > 0 {
		if sn == "" {
			if c.cfg.AlipayPublicKey != nil {
				return c.cfg.AlipayPublicKey, nil
			}
			if len(c.cfg.AlipayCerts) == 1 {
				for _, k := range c.cfg.AlipayCerts {
					return k, nil
				}
			}
			return nil, fmt.Errorf("%w: none in the response and several certificates are loaded", ErrUnknownCertSN)
		}
		if k, ok := c.cfg.AlipayCerts[sn]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownCertSN, sn)
	}
	return c.cfg.AlipayPublicKey, nil
}

// notifyKeys lists the keys that may have signed a notification or return
// (which normally carry no cert SN): the public key, or every loaded Alipay
// certificate, the one named by sn (if any) first.
func (c *Client) notifyKeys(sn string) []*rsa.PublicKey {
	if c.cfg.AlipayPublicKey != nil {
		return []*rsa.PublicKey{c.cfg.AlipayPublicKey}
	}
	keys := make([]*rsa.PublicKey, 0, len(c.cfg.AlipayCerts))
	if k, ok := c.cfg.AlipayCerts[sn]; ok {
		keys = append(keys, k)
	}
	for s, k := range c.cfg.AlipayCerts {
		if s != sn {
			keys = append(keys, k)
		}
	}
	return keys
}
