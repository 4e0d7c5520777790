package alipay

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzVerifyNotification checks that verifying any body as a
// notification never panics (the form itself is fuzzed in package wire).
func FuzzVerifyNotification(f *testing.F) {
	v := loadVectors(f)
	for _, n := range v.NotifyVerify {
		f.Add(n.Body)
	}
	for _, s := range []string{"", "a", "a=", "=b", "a=1&a=2", "a=%zz", "a;b=c", "sign=&sign_type=RSA2&x= ", "alipay_cert_sn=1&sign=x"} {
		f.Add(s)
	}
	c := newTestClientWithAlipayKey(f, &testKey(f, 1).PublicKey, testAppID)
	f.Fuzz(func(t *testing.T, body string) {
		_, _ = c.VerifyNotification([]byte(body))
		_, _ = c.VerifyAgreementNotification([]byte(body))
	})
}

// FuzzResponse checks the response extractor: no panic, the extracted node
// is a JSON value found verbatim in the body, and DecodeResponse succeeds
// only on bodies whose node the Alipay key really signed.
func FuzzResponse(f *testing.F) {
	v := loadVectors(f)
	for _, r := range v.ResponseVerify {
		f.Add([]byte(r.Body), "alipay.trade.query")
	}
	f.Add([]byte(`{"error_response":{"code":"40002"},"sign":"x"}`), "a.b")
	f.Add([]byte(`{"a_b_response":{},"a_b_response":{}}`), "a.b")
	f.Add([]byte(`{"a_b_response":"ZW5j","sign":""}`), "a.b")
	f.Add([]byte(`[1,2]`), "")
	pub := v.pub(f, "sandbox_app_public_key_spki_base64")
	c := newTestClientWithAlipayKey(f, pub, testAppID)
	f.Fuzz(func(t *testing.T, body []byte, method string) {
		raw, err := ExtractResponse(body, method)
		if err == nil {
			if !json.Valid(raw.Content) || !bytes.Contains(body, raw.Content) {
				t.Fatalf("extracted %q is not a JSON value found in the body", raw.Content)
			}
			if raw.Node != ResponseNode(method) && raw.Node != "error_response" {
				t.Fatalf("node %q", raw.Node)
			}
		}
		var out map[string]any
		err = c.DecodeResponse(&Response{Method: method, StatusCode: 200, Body: body}, &out)
		if err == nil || errors.As(err, new(*Error)) && !errors.Is(err, ErrUnsigned) {
			if raw == nil || VerifyResponseContent(pub, SignTypeRSA2, raw.Content, raw.Sign) != nil {
				t.Fatalf("DecodeResponse accepted an unverified body %q: %v", body, err)
			}
		}
	})
}
