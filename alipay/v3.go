package alipay

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// OpenAPI v3 (https://openapi.alipay.com/v3/...) authenticates a request with
// an Authorization header instead of form parameters:
//
//	Authorization: ALIPAY-SHA256withRSA app_id=…[,app_cert_sn=…],nonce=…,timestamp=<ms>,sign=<base64>
//
// where sign is SHA256withRSA over
//
//	<auth string>\n<METHOD>\n<request URI with query>\n<body>\n[<app_auth_token>\n]
//
// Responses are signed by Alipay over "alipay-timestamp\nalipay-nonce\nbody\n"
// (the values of the response headers alipay-timestamp and alipay-nonce) and
// the signature is in the alipay-signature header.

// V3Scheme is the scheme word of the v3 Authorization header.
const V3Scheme = "ALIPAY-SHA256withRSA"

// V3Request is what the v3 Authorization header covers.
type V3Request struct {
	AppID     string
	AppCertSN string // certificate mode only
	Nonce     string // unique per request; V3Authorization fills a random one if empty
	// Timestamp is the request time; it is sent as Unix milliseconds.
	Timestamp    time.Time
	Method       string // GET, POST, …
	URI          string // path and query, e.g. /v3/alipay/trade/query
	Body         []byte // the exact body sent ("" for GET)
	AppAuthToken string // ISV calls only
}

// AuthString returns "app_id=…[,app_cert_sn=…],nonce=…,timestamp=…".
func (r V3Request) AuthString() string {
	var b strings.Builder
	b.WriteString("app_id=" + r.AppID)
	if r.AppCertSN != "" {
		b.WriteString(",app_cert_sn=" + r.AppCertSN)
	}
	b.WriteString(",nonce=" + r.Nonce)
	b.WriteString(",timestamp=" + strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
	return b.String()
}

// SignContent returns the v3 string-to-sign of the request.
func (r V3Request) SignContent() []byte { return r.signContent(r.AuthString()) }

func (r V3Request) signContent(auth string) []byte {
	b := make([]byte, 0, len(auth)+len(r.Method)+len(r.URI)+len(r.Body)+len(r.AppAuthToken)+5)
	b = append(b, auth...)
	b = append(b, '\n')
	b = append(b, strings.ToUpper(r.Method)...)
	b = append(b, '\n')
	b = append(b, r.URI...)
	b = append(b, '\n')
	b = append(b, r.Body...)
	b = append(b, '\n')
	if r.AppAuthToken != "" {
		b = append(b, r.AppAuthToken...)
		b = append(b, '\n')
	}
	return b
}

// V3Authorization signs r with the app private key and returns the value of
// the Authorization header. An empty Nonce is replaced by 32 random hex digits.
func V3Authorization(key crypto.Signer, r V3Request) (string, error) {
	if r.AppID == "" || r.Method == "" || !strings.HasPrefix(r.URI, "/") || r.Timestamp.IsZero() {
		return "", fmt.Errorf("%w: a v3 request needs app id, method, a URI starting with / and a timestamp", ErrInvalidParam)
	}
	if strings.ContainsAny(r.Nonce, ",= ") {
		return "", fmt.Errorf("%w: nonce %q must not contain ',', '=' or spaces", ErrInvalidParam, r.Nonce)
	}
	if r.Nonce == "" {
		var n [16]byte
		if _, err := rand.Read(n[:]); err != nil {
			return "", err
		}
		r.Nonce = hex.EncodeToString(n[:])
	}
	auth := r.AuthString()
	sig, err := Sign(key, SignTypeRSA2, r.signContent(auth))
	if err != nil {
		return "", err
	}
	return V3Scheme + " " + auth + ",sign=" + sig, nil
}

// V3ResponseSignContent returns what Alipay signs in a v3 response:
// "timestamp\nnonce\nbody\n".
func V3ResponseSignContent(timestamp, nonce string, body []byte) []byte {
	b := make([]byte, 0, len(timestamp)+len(nonce)+len(body)+3)
	b = append(b, timestamp...)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	b = append(b, body...)
	b = append(b, '\n')
	return b
}

// VerifyV3Response checks a v3 response: signature is the alipay-signature
// header, timestamp and nonce the alipay-timestamp and alipay-nonce headers,
// body the exact response body. It returns nil, or an error wrapping
// ErrSignature or ErrUnsigned.
func VerifyV3Response(pub *rsa.PublicKey, timestamp, nonce string, body []byte, signature string) error {
	if signature == "" || timestamp == "" || nonce == "" {
		return fmt.Errorf("%w: no alipay-signature, alipay-timestamp or alipay-nonce header", ErrUnsigned)
	}
	return Verify(pub, SignTypeRSA2, V3ResponseSignContent(timestamp, nonce, body), signature)
}

// v3Route is the OpenAPI v3 route of a gateway method.
type v3Route struct{ verb, path string }

// v3Routes is the one table of the methods the client calls over v3: the
// HTTP method (POST sends the business content as the JSON body, GET as the
// query string) and the path below the directory of gateway.do. The sandbox
// serves the same table (V3Route).
var v3Routes = map[string]v3Route{
	"alipay.trade.query":                             {http.MethodPost, "/v3/alipay/trade/query"},
	"alipay.trade.refund":                            {http.MethodPost, "/v3/alipay/trade/refund"},
	"alipay.trade.fastpay.refund.query":              {http.MethodPost, "/v3/alipay/trade/fastpay/refund/query"},
	"alipay.trade.close":                             {http.MethodPost, "/v3/alipay/trade/close"},
	"alipay.trade.cancel":                            {http.MethodPost, "/v3/alipay/trade/cancel"},
	"alipay.trade.precreate":                         {http.MethodPost, "/v3/alipay/trade/precreate"},
	"alipay.trade.create":                            {http.MethodPost, "/v3/alipay/trade/create"},
	"alipay.trade.pay":                               {http.MethodPost, "/v3/alipay/trade/pay"},
	"alipay.data.dataservice.bill.downloadurl.query": {http.MethodGet, "/v3/alipay/data/dataservice/bill/downloadurl/query"},
	"alipay.system.oauth.token":                      {http.MethodPost, "/v3/alipay/system/oauth/token"},
	"alipay.user.info.share":                         {http.MethodPost, "/v3/alipay/user/info/share"},
	"alipay.user.agreement.query":                    {http.MethodGet, "/v3/alipay/user/agreement/query"},
	"alipay.user.agreement.unsign":                   {http.MethodPost, "/v3/alipay/user/agreement/unsign"},
	"alipay.fund.trans.uni.transfer":                 {http.MethodPost, "/v3/alipay/fund/trans/uni/transfer"},
	"alipay.fund.trans.common.query":                 {http.MethodGet, "/v3/alipay/fund/trans/common/query"},
	"alipay.fund.account.query":                      {http.MethodGet, "/v3/alipay/fund/account/query"},
	"alipay.data.bill.balance.query":                 {http.MethodGet, "/v3/alipay/data/bill/balance/query"},
	"alipay.trade.royalty.relation.bind":             {http.MethodPost, "/v3/alipay/trade/royalty/relation/bind"},
	"alipay.trade.royalty.relation.unbind":           {http.MethodPost, "/v3/alipay/trade/royalty/relation/unbind"},
	"alipay.trade.royalty.relation.batchquery":       {http.MethodPost, "/v3/alipay/trade/royalty/relation/batchquery"},
	"alipay.trade.order.settle":                      {http.MethodPost, "/v3/alipay/trade/order/settle"},
	"alipay.trade.order.settle.query":                {http.MethodGet, "/v3/alipay/trade/order/settle/query"},
}

// V3Route returns the OpenAPI v3 route of a gateway method that the client
// calls over v3 when Config.API is APIv3: verb is the HTTP method (POST
// carries the business content as the JSON body, GET as the query string)
// and path is below the directory of gateway.do, e.g. POST
// /v3/alipay/trade/query. ok is false for a method called over v2 only.
func V3Route(method string) (verb, path string, ok bool) {
	r, ok := v3Routes[method]
	return r.verb, r.path, ok
}

// v3Request builds the signed HTTP request of a v3 call: the business
// content as the JSON body (for GET, as the query), notify_url inside the
// body, the Authorization header over the URI and body as sent.
func (c *Client) v3Request(ctx context.Context, r request, route v3Route) (*http.Request, error) {
	verb := route.verb
	uri := c.v3Prefix + strings.TrimPrefix(route.path, "/")
	var body []byte
	notifyURL := ""
	query := map[string]string{}
	for k, v := range r.extra {
		switch k {
		case "notify_url":
			notifyURL = v
		case "auth_token":
			// The user's access token (alipay.user.info.share) goes in the
			// query string of a v3 call.
			query[k] = v
		default:
			return nil, fmt.Errorf("%w: %s cannot be sent over OpenAPI v3", ErrInvalidParam, k)
		}
	}
	if verb == http.MethodGet {
		params, ok := r.biz.(map[string]string)
		if !ok {
			return nil, fmt.Errorf("%w: %s over v3 takes string parameters", ErrInvalidParam, r.method)
		}
		for k, v := range params {
			query[k] = v
		}
	}
	if len(query) > 0 {
		uri += "?" + EncodeForm(query)
	}
	if verb != http.MethodGet {
		biz := []byte("{}")
		if r.biz != nil {
			var err error
			if biz, err = marshalBiz(r.biz); err != nil {
				return nil, err
			}
		}
		if notifyURL != "" {
			biz = appendJSONField(biz, "notify_url", notifyURL)
		}
		body = biz
	}
	contentType := "application/json; charset=utf-8"
	if c.cfg.EncryptKey != nil && verb != http.MethodGet {
		enc, err := EncryptContent(c.cfg.EncryptKey, body)
		if err != nil {
			return nil, err
		}
		body, contentType = []byte(enc), "text/plain; charset=utf-8"
	}
	vr := V3Request{AppID: c.cfg.AppID, Timestamp: c.cfg.Now(), Method: verb, URI: uri, Body: body, AppAuthToken: c.cfg.AppAuthToken}
	if certs := c.cfg.Certificates; certs != nil {
		vr.AppCertSN = certs.appSN
	}
	auth, err := V3Authorization(c.cfg.PrivateKey, vr)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, verb, c.v3Origin+uri, rd)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", r.method, err)
	}
	h := req.Header
	h["Authorization"] = []string{auth}
	h["Accept"] = []string{"application/json"}
	h["Alipay-Request-Id"] = []string{randomHex()}
	if body != nil {
		h["Content-Type"] = []string{contentType}
	}
	if c.cfg.EncryptKey != nil && body != nil {
		h["Alipay-Encrypt-Type"] = []string{"AES"}
	}
	if c.cfg.AppAuthToken != "" {
		h["Alipay-App-Auth-Token"] = []string{c.cfg.AppAuthToken}
	}
	if certs := c.cfg.Certificates; certs != nil {
		h["Alipay-Root-Cert-Sn"] = []string{certs.rootSN}
	}
	return req, nil
}

// appendJSONField adds "key":value to the JSON object obj.
func appendJSONField(obj []byte, key, value string) []byte {
	obj = bytes.TrimRight(obj, " \n")
	out := make([]byte, 0, len(obj)+len(key)+len(value)+8)
	out = append(out, obj[:len(obj)-1]...)
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) > 0 {
		out = append(out, ',')
	}
	k, _ := json.Marshal(key)
	v, _ := json.Marshal(value)
	out = append(out, k...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}')
}

func randomHex() string {
	var n [16]byte
	_, _ = rand.Read(n[:])
	return hex.EncodeToString(n[:])
}

// doV3 makes a v3 call and decodes its answer into out.
func (c *Client) doV3(ctx context.Context, r request, route v3Route, out any) (*Response, error) {
	req, err := c.v3Request(ctx, r, route)
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(req, r.method)
	if resp != nil {
		resp.API = APIv3
	}
	if err != nil {
		return resp, err
	}
	return resp, c.DecodeResponse(resp, out)
}

// v3Key returns the key that verifies a v3 answer naming certSN in its
// alipay-sn header. In certificate mode the header must name a loaded
// Alipay certificate.
func (c *Client) v3Key(certSN string) (*rsa.PublicKey, error) {
	certs := c.cfg.Certificates
	if certs == nil {
		return c.cfg.AlipayPublicKey, nil
	}
	if certSN == "" {
		return nil, fmt.Errorf("%w: no alipay-sn header in certificate mode", ErrUnknownCertSN)
	}
	if k, ok := certs.alipayKeys[certSN]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownCertSN, certSN)
}

// checkV3 verifies the signature headers of a v3 answer over its body.
func (c *Client) checkV3(r *Response) error {
	pub, err := c.v3Key(r.Header.Get("Alipay-Sn"))
	if err != nil {
		return err
	}
	return VerifyV3Response(pub, r.Header.Get("Alipay-Timestamp"), r.Header.Get("Alipay-Nonce"), r.Body, r.Header.Get("Alipay-Signature"))
}

// v3Fail is the body of a v3 error answer.
type v3Fail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// decodeV3 verifies a v3 answer. A 2xx answer must be signed; its body
// (decrypted if it came encrypted) is unmarshalled into out. Any other
// status is an error answer, reported as *Error: SubCode and SubMsg hold the
// v3 code and message, HTTPStatus the status, TraceID the alipay-trace-id.
func (c *Client) decodeV3(r *Response, out any) error {
	method := r.Method
	signed := r.Header.Get("Alipay-Signature") != ""
	var verr error
	if signed {
		verr = c.checkV3(r)
	}
	if r.StatusCode < 200 || r.StatusCode > 299 {
		if verr != nil {
			return fmt.Errorf("alipay: %s: HTTP %d: response %w: %w", method, r.StatusCode, verr, ErrUnknownOutcome)
		}
		var f v3Fail
		if err := json.Unmarshal(r.Body, &f); err != nil || f.Code == "" {
			return fmt.Errorf("alipay: %s: %w: %w: HTTP %d without a v3 error body", method, ErrUnknownOutcome, ErrBadResponse, r.StatusCode)
		}
		return &Error{Method: method, SubCode: SubCode(f.Code), SubMsg: f.Message, HTTPStatus: r.StatusCode,
			TraceID: r.Header.Get("Alipay-Trace-Id"), Unverified: !signed}
	}
	if !signed {
		return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, ErrUnsigned)
	}
	if verr != nil {
		return fmt.Errorf("alipay: %s: response %w: %w", method, verr, ErrUnknownOutcome)
	}
	body := r.Body
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
		if c.cfg.EncryptKey == nil {
			return fmt.Errorf("alipay: %s: %w: response is encrypted but no EncryptKey is set", method, ErrUnknownOutcome)
		}
		var err error
		if body, err = DecryptContent(c.cfg.EncryptKey, strings.TrimSpace(string(body))); err != nil {
			return fmt.Errorf("alipay: %s: %w: %w", method, ErrUnknownOutcome, err)
		}
	}
	if !utf8.Valid(body) {
		return fmt.Errorf("alipay: %s: %w: %w: the response is not UTF-8", method, ErrUnknownOutcome, ErrBadResponse)
	}
	if len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
		return fmt.Errorf("alipay: %s: %w: %w: not a JSON object", method, ErrUnknownOutcome, ErrBadResponse)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("alipay: %s: %w: %w: %v", method, ErrUnknownOutcome, ErrBadResponse, err)
		}
	}
	return nil
}
