package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
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
func (r V3Request) SignContent() []byte {
	var b []byte
	b = append(b, r.AuthString()...)
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
	sig, err := Sign(key, RSA2, r.SignContent())
	if err != nil {
		return "", err
	}
	return V3Scheme + " " + r.AuthString() + ",sign=" + sig, nil
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
	return Verify(pub, RSA2, V3ResponseSignContent(timestamp, nonce, body), signature)
}
