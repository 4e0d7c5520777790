package wire

import (
	"net/http"
	"net/textproto"
	"testing"
)

func FuzzHeaderKey(f *testing.F) {
	for _, s := range []string{"", "a", "alipay-signature", "ALIPAY-SN", "Content-Type", "x y", "ä-b", "a--b", "-a", "1a-b2", "foo_bar", "A\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := canonicalHeaderKey(s), textproto.CanonicalMIMEHeaderKey(s); got != want {
			t.Fatalf("canonicalHeaderKey(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestHeaderIsHTTPHeader(t *testing.T) {
	hh := http.Header{}
	hh.Add("alipay-signature", "s")
	hh.Add("Alipay-Sn", "1")
	hh.Add("alipay-sn", "2")
	h := Header(hh)
	for _, k := range []string{"Alipay-Signature", "ALIPAY-SIGNATURE", "alipay-sn", "Missing", "bad key"} {
		if h.Get(k) != hh.Get(k) || len(h.Values(k)) != len(hh.Values(k)) {
			t.Errorf("%q: Get %q Values %q; http.Header: %q %q", k, h.Get(k), h.Values(k), hh.Get(k), hh.Values(k))
		}
	}
	if back := http.Header(h); back.Get("alipay-sn") != "1" {
		t.Errorf("converted back: %v", back)
	}
}
