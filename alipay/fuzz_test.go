package alipay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"
)

// FuzzForm checks the form canonicaliser: ParseForm agrees with
// url.ParseQuery (rejecting repeated keys), a parsed form survives an
// EncodeForm round trip, the strings to sign follow their rules, and
// verifying any body as a notification never panics.
func FuzzForm(f *testing.F) {
	v := loadVectors(f)
	for _, n := range v.NotifyVerify {
		f.Add(n.Body)
	}
	for _, r := range v.RequestSign {
		f.Add(r.SortedQueryWithSign)
	}
	for _, s := range []string{"", "a", "a=", "=b", "a=1&a=2", "a=%zz", "a=%4", "a;b=c", "a=b;c", "&&a=1&&", "a=+%2B%25", "sign=&sign_type=RSA2&x= "} {
		f.Add(s)
	}
	c := newTestClientWithAlipayKey(f, &testKey(f, 1).PublicKey, testAppID)
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Count(body, "&") > 1000 {
			return // beyond url.ParseQuery's parameter limit; not a notification
		}
		got, err := ParseForm(body)
		ref, refErr := url.ParseQuery(body)
		var want map[string]string
		if refErr == nil {
			want, refErr = singleValues(ref)
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("ParseForm(%q) err = %v, url.ParseQuery err = %v", body, err, refErr)
		}
		_, _ = c.VerifyNotification([]byte(body)) // must not panic
		_, _ = c.VerifyNotification([]byte(body))
		if err != nil {
			return
		}
		if !maps.Equal(got, want) {
			t.Fatalf("ParseForm(%q) = %v, want %v", body, got, want)
		}
		if enc := EncodeForm(got); enc != ref.Encode() {
			t.Fatalf("EncodeForm = %q, url.Values.Encode = %q", enc, ref.Encode())
		}
		back, err := ParseForm(EncodeForm(got))
		if err != nil || !maps.Equal(back, got) {
			t.Fatalf("round trip of %v: %v, %v", got, back, err)
		}
		v1, v2, req := SignContent(got, RuleV1), SignContent(got, RuleV2), SignContent(got, RuleV2)
		if !bytes.Equal(v2, req) {
			t.Fatal("rule v2 and the request rule differ")
		}
		if !bytes.Equal(v1, SignContent(back, RuleV1)) {
			t.Fatal("string to sign changed across a round trip")
		}
		for k, val := range got {
			if len(got) > 64 {
				break // the check is quadratic; small forms cover it
			}
			pair := k + "=" + val
			included := !isEmpty(k) && !isEmpty(val) && k != "sign"
			if included && !strings.Contains(string(req), pair) {
				t.Fatalf("%q missing from the request string %q", pair, req)
			}
			if included && k != "sign_type" && !strings.Contains(string(v1), pair) {
				t.Fatalf("%q missing from the v1 string %q", pair, v1)
			}
		}
		pairs, err := parseFormPairs(body, nil)
		if err != nil || !bytes.Equal(appendSignContent(nil, pairs, RuleV1), v1) {
			t.Fatalf("pairs path differs from the map path: %v", err)
		}
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

// FuzzAmount checks that ParseAmount never panics, accepts only what it can
// write back, and that String and JSON round-trip exactly.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{"0.01", "88.88", "13.5", "100", "0", "1.001", "-1", "1e3", "99999999999.99", "00.10", ".5", "5.", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		if a < 0 {
			t.Fatalf("ParseAmount(%q) = %d", s, a)
		}
		b, err := ParseAmount(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip of %q: %s → %v, %v", s, a, b, err)
		}
		js, _ := json.Marshal(a)
		var c Amount
		if err := json.Unmarshal(js, &c); err != nil || c != a {
			t.Fatalf("JSON round trip of %s: %s", a, js)
		}
		if _, err := ParseTime(s); err == nil && len(s) < 19 {
			t.Fatalf("ParseTime accepted %q", s)
		}
	})
}

// singleValues flattens url.Values, refusing keys given more than once.
func singleValues(v url.Values) (map[string]string, error) {
	m := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) != 1 {
			return nil, fmt.Errorf("%w: %q", ErrMultiValued, k)
		}
		m[k] = vs[0]
	}
	return m, nil
}
