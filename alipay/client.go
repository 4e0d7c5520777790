package alipay

import (
	"alishop/alipay/wire"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
// Alipay's signatures (AlipayPublicKey in key mode, or Certificates in
// certificate mode) are required.
type Config struct {
	AppID string
	// PrivateKey is the app private key (应用私钥): an *rsa.PrivateKey, or
	// any crypto.Signer with an RSA public key, such as a key held in a
	// KMS or an HSM.
	PrivateKey crypto.Signer

	// AlipayPublicKey is Alipay's public key (支付宝公钥, not the app's own):
	// key mode.
	AlipayPublicKey *rsa.PublicKey
	// Certificates selects certificate mode (see ParseCertificates).
	Certificates *Certificates

	// Gateway is "production" (the default), "sandbox", or the URL of a
	// gateway such as an offline simulator's; see ResolveGateway.
	Gateway  string
	SignType SignType // RSA2 (default) or RSA for old apps

	// API is the protocol of the server-side calls (precreate, create,
	// query, refund, refund query, close, cancel, bill download URL):
	// APIv2 (the default) or APIv3. OpenAPI v3 lives next to gateway.do
	// (…/gateway.do → …/v3/alipay/trade/query) and signs with RSA2 only.
	API API

	// NotifyURL and ReturnURL are the defaults for calls that take them.
	NotifyURL string
	ReturnURL string

	// EncryptKey, when set, is the AES key (the console's base64 string,
	// decoded by DecodeAESKey) used to encrypt request content
	// (encrypt_type=AES) and to decrypt encrypted answers.
	EncryptKey []byte

	HTTPClient *http.Client     // default: a client with a 15 s timeout
	Now        func() time.Time // default: time.Now
	// Sleep waits d, or until ctx is done (it then returns ctx.Err()); the
	// face-to-face payment waits with it between queries. Default: a timer.
	Sleep        func(ctx context.Context, d time.Duration) error
	AppAuthToken string // ISV calls on behalf of a merchant

	// OnCall, when set, is called after every call sent to Alipay, with
	// its method, outcome and duration (for metrics). It runs on the
	// caller's goroutine before the call returns, so it must be quick.
	OnCall func(CallReport)
}

// Client calls Alipay's gateway. It is safe for concurrent use.
type Client struct {
	cfg    Config
	appPub *rsa.PublicKey // the public half of cfg.PrivateKey
	// v3Origin and v3Prefix split the v3 base URL: the scheme and host, and
	// the path up to the gateway's last '/' (the v3 URI signed starts there).
	v3Origin, v3Prefix string
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" {
		return nil, errors.New("alipay: Config.AppID is empty")
	}
	if cfg.PrivateKey == nil {
		return nil, errors.New("alipay: Config.PrivateKey is nil")
	}
	appPub, ok := cfg.PrivateKey.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("alipay: Config.PrivateKey holds a %T key; Alipay needs RSA", cfg.PrivateKey.Public())
	}
	if cfg.AlipayPublicKey == nil && cfg.Certificates == nil {
		return nil, errors.New("alipay: set Config.AlipayPublicKey (key mode) or Config.Certificates (certificate mode)")
	}
	if cfg.AlipayPublicKey != nil && SameKey(cfg.AlipayPublicKey, appPub) {
		return nil, ErrAppKeyAsAlipayKey
	}
	if cfg.Certificates != nil {
		cfg.Certificates = cfg.Certificates.clone()
		if !SameKey(cfg.Certificates.appKey, appPub) {
			return nil, errors.New("alipay: the app certificate does not hold the public key of Config.PrivateKey (wrong app certificate or wrong private key)")
		}
		for _, k := range cfg.Certificates.alipayKeys {
			if SameKey(k, appPub) {
				return nil, ErrAppKeyAsAlipayKey
			}
		}
	}
	if cfg.SignType == "" {
		cfg.SignType = SignTypeRSA2
	}
	if _, err := cfg.SignType.hash(); err != nil {
		return nil, err
	}
	if bits := appPub.N.BitLen(); cfg.SignType == SignTypeRSA2 && bits < 2048 {
		return nil, fmt.Errorf("alipay: RSA2 needs a key of at least 2048 bits; the app private key has %d", bits)
	}
	if k, ok := cfg.PrivateKey.(*rsa.PrivateKey); ok {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("alipay: app private key: %w", err)
		}
	}
	gw, err := ResolveGateway(cfg.Gateway)
	if err != nil {
		return nil, err
	}
	cfg.Gateway = gw
	switch cfg.API {
	case "":
		cfg.API = APIv2
	case APIv2:
	case APIv3:
		if cfg.SignType != SignTypeRSA2 {
			return nil, errors.New("alipay: OpenAPI v3 signs with RSA2 only")
		}
	default:
		return nil, fmt.Errorf("alipay: Config.API %q: want v2 or v3", cfg.API)
	}
	u, _ := url.Parse(gw)
	origin := u.Scheme + "://" + u.Host
	prefix := u.EscapedPath()
	prefix = prefix[:strings.LastIndexByte(prefix, '/')+1]
	if prefix == "" {
		prefix = "/"
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
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	// The client keeps its own copies, so later changes to the caller's
	// Config cannot race with calls.
	cfg.EncryptKey = bytes.Clone(cfg.EncryptKey)
	return &Client{cfg: cfg, appPub: appPub, v3Origin: origin, v3Prefix: prefix}, nil
}

// ResolveGateway maps "production" (or "") and "sandbox" to the gateway URLs
// and checks that anything else is an http(s) URL without a query or a
// fragment (Alipay would merge a query into the signed parameters). New
// applies it to Config.Gateway.
func ResolveGateway(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "production", "prod":
		return ProductionGateway, nil
	case "sandbox":
		return SandboxGateway, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") {
		return "", fmt.Errorf("alipay: bad gateway %q: want production, sandbox or an http(s) URL without a query", s)
	}
	return s, nil
}

// querySep is the separator that appends a query to u: "?" or "&".
func querySep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

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
	if certs := c.cfg.Certificates; certs != nil {
		p["app_cert_sn"] = certs.appSN
		p["alipay_root_cert_sn"] = certs.rootSN
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
	sig, err := Sign(c.cfg.PrivateKey, c.cfg.SignType, SignContent(p, RuleV2))
	if err != nil {
		return nil, err
	}
	p["sign"] = sig
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

// Call invokes any gateway method: the answer is verified and its node
// unmarshalled into out (which may be nil). An answer with a code other
// than 10000 returns *Error. With Config.API set to APIv3, the methods that
// have a v3 route (V3Route) go over v3 (Biz as the JSON body, notify_url
// inside it); others stay on v2.
func (c *Client) Call(ctx context.Context, r CallRequest, out any) (*Response, error) {
	return c.do(ctx, request{method: r.Method, biz: r.Biz, extra: r.Params}, out)
}

// do makes a call, over v3 when configured and the method has a v3 route,
// and reports it (Config.OnCall).
func (c *Client) do(ctx context.Context, r request, out any) (*Response, error) {
	start := time.Now()
	api := APIv2
	var resp *Response
	var err error
	if route, ok := v3Routes[r.method]; ok && c.cfg.API == APIv3 {
		api = APIv3
		resp, err = c.doV3(ctx, r, route, out)
	} else if resp, err = c.send(ctx, r); err == nil {
		err = c.DecodeResponse(resp, out)
	}
	c.report(r.method, api, start, resp, err)
	return resp, err
}

// send signs and posts a request and returns the answer.
func (c *Client) send(ctx context.Context, r request) (*Response, error) {
	p, err := c.params(r)
	if err != nil {
		return nil, err
	}
	// As the Java SDK does: the protocol parameters (charset included, as the
	// gateway wants it in the URL) go in the query, biz_content in the body.
	var form string
	if biz, ok := p["biz_content"]; ok {
		form = "biz_content=" + url.QueryEscape(biz)
	}
	u := c.cfg.Gateway + querySep(c.cfg.Gateway) + wire.EncodeFormWithout(p, "biz_content")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form))
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", r.method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	return c.roundTrip(req, r.method)
}

// roundTrip sends req and reads the answer, bounded to maxResponse bytes.
// Any failure leaves the outcome of the call unknown.
func (c *Client) roundTrip(req *http.Request, method string) (*Response, error) {
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, &wire.TransportError{Err: err})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	raw := &Response{Method: method, API: APIv2, StatusCode: resp.StatusCode, Header: wire.Header(resp.Header), Body: body}
	if err != nil {
		return raw, wire.WithResponse(raw, fmt.Errorf("alipay: %s: %w: reading response: %w", method, ErrUnknownOutcome, &wire.TransportError{Err: err}))
	}
	if len(body) > maxResponse {
		raw.Body = body[:maxResponse]
		return raw, wire.WithResponse(raw, fmt.Errorf("alipay: %s: %w: response larger than %d bytes", method, ErrUnknownOutcome, maxResponse))
	}
	return raw, nil
}

// DecodeResponse verifies an answer of the gateway and unmarshals its node
// into out. It is what every call uses; it also verifies an answer stored
// earlier. Its errors carry raw (see ResponseOf).
func (c *Client) DecodeResponse(raw *Response, out any) error {
	if err := c.decodeResponse(raw, out); err != nil {
		return wire.WithResponse(raw, err)
	}
	return nil
}

func (c *Client) decodeResponse(r *Response, out any) error {
	if r.API == APIv3 {
		return c.decodeV3(r, out)
	}
	method, body := r.Method, r.Body
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("alipay: %s: %w: HTTP %d", method, ErrUnknownOutcome, r.StatusCode)
	}
	raw, err := ExtractResponse(body, method)
	if err != nil {
		return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, err)
	}
	content := raw.Content
	var e Error
	if raw.Sign == "" {
		// Alipay leaves some gateway errors unsigned. Report the error, but
		// never treat an unsigned body as a verified success.
		if json.Unmarshal(content, &e) == nil && e.Code != "" && e.Code != CodeSuccess {
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
	if e.Code != CodeSuccess && (e.Code != CodeUserPaying || method != "alipay.trade.pay") {
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
	certs := c.cfg.Certificates
	if certs == nil {
		return c.cfg.AlipayPublicKey, nil
	}
	if sn == "" {
		if c.cfg.AlipayPublicKey != nil {
			return c.cfg.AlipayPublicKey, nil
		}
		if len(certs.alipayKeys) == 1 {
			for _, k := range certs.alipayKeys {
				return k, nil
			}
		}
		return nil, fmt.Errorf("%w: none in the response and several certificates are loaded", ErrUnknownCertSN)
	}
	if k, ok := certs.alipayKeys[sn]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownCertSN, sn)
}
