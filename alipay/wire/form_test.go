package wire

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"
)

// FuzzForm checks the form canonicaliser: ParseForm agrees with
// url.ParseQuery (rejecting repeated keys), a parsed form survives an
// EncodeForm round trip, and the strings to sign follow their rules.
func FuzzForm(f *testing.F) {
	f.Add("app_id=2021000000000000&charset=utf-8&gmt_payment=2024-01-02+15%3A04%3A05&notify_id=n1&out_trade_no=o_1&sign=YWJj%2Bde%2F&sign_type=RSA2&subject=%E5%95%86%E5%93%81&total_amount=88.88&trade_status=TRADE_SUCCESS")
	for _, s := range []string{"", "a", "a=", "=b", "a=1&a=2", "a=%zz", "a=%4", "a;b=c", "a=b;c", "&&a=1&&", "a=+%2B%25", "sign=&sign_type=RSA2&x= "} {
		f.Add(s)
	}
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
		pairs, err := ParsePairs(body, nil)
		if err != nil || !bytes.Equal(AppendSignContent(nil, pairs, RuleV1), v1) {
			t.Fatalf("pairs path differs from the map path: %v", err)
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
