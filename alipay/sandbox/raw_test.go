package sandbox

import (
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"alishop/alipay"
)

// formCall is one gateway call sent the way gopay and smartwalle send it:
// every parameter, sign included, in the form body, signed by the Java rule.
type formCall struct {
	appID  string
	key    *rsa.PrivateKey
	method string
	biz    string
	extra  map[string]string // more public parameters (notify_url, encrypt_type…)
}

func (e *testEnv) formRequest(t *testing.T, c formCall) *http.Request {
	t.Helper()
	if c.appID == "" {
		c.appID = testAppID
	}
	if c.key == nil {
		c.key = appKey
	}
	p := map[string]string{
		"app_id": c.appID, "method": c.method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": alipay.FormatTime(t0), "version": "1.0", "biz_content": c.biz,
	}
	for k, v := range c.extra {
		p[k] = v
	}
	p["sign"] = javaSign(t, c.key, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	req, err := http.NewRequest("POST", e.srv.URL+"/gateway.do?charset=utf-8", strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// call sends c and returns the answer node, the raw body and whether the
// signature over the node verified.
func (e *testEnv) call(t *testing.T, c formCall) (map[string]any, string, bool) {
	t.Helper()
	return e.rawCall(c.method, e.formRequest(t, c))
}
