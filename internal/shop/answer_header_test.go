package shop_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"alishop/internal/shop"
)

// AnswerHeader keeps only the alipay-* headers and Content-Type, one value
// each, canonical, within MaxAnswerHeader.
func TestAnswerHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Alipay-Signature": {"c2ln+/=="}, "Alipay-Timestamp": {"1764244800000"}, "Alipay-Nonce": {"n1", "n2"},
		"Alipay-Trace-Id": {"trace"}, "Content-Type": {"application/json"},
		"Set-Cookie": {"s=1"}, "Server": {"x"}, "Alipay-Huge": {strings.Repeat("a", shop.MaxAnswerHeader)},
		"Alipay-Bad": {"a\r\nSet-Cookie: s=1"}, "alipay-sn": {"sn1"},
	}
	got := shop.AnswerHeader(h)
	want := map[string][]string{"Alipay-Signature": {"c2ln+/=="}, "Alipay-Timestamp": {"1764244800000"}, "Alipay-Nonce": {"n1"},
		"Alipay-Trace-Id": {"trace"}, "Content-Type": {"application/json"}, "Alipay-Sn": {"sn1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AnswerHeader = %v, want %v", got, want)
	}
	if shop.AnswerHeader(http.Header{"Server": {"x"}}) != nil {
		t.Error("no kept header is not nil")
	}
}
