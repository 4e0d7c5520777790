package shop_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"alishop/internal/shop"
)

// AnswerHeader keeps only the alipay-* headers and Content-Type, one value
// each, within MaxAnswerHeader; HeaderText and ParseHeaderText round-trip.
func TestAnswerHeader(t *testing.T) {
	h := http.Header{
		"Alipay-Signature": {"c2ln+/=="}, "Alipay-Timestamp": {"1764244800000"}, "Alipay-Nonce": {"n1", "n2"},
		"Alipay-Trace-Id": {"trace"}, "Content-Type": {"application/json"},
		"Set-Cookie": {"s=1"}, "Server": {"x"}, "Alipay-Huge": {strings.Repeat("a", shop.MaxAnswerHeader)},
		"Alipay-Bad": {"a\r\nSet-Cookie: s=1"},
	}
	got := shop.AnswerHeader(h)
	want := http.Header{"Alipay-Signature": {"c2ln+/=="}, "Alipay-Timestamp": {"1764244800000"}, "Alipay-Nonce": {"n1"},
		"Alipay-Trace-Id": {"trace"}, "Content-Type": {"application/json"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AnswerHeader = %v, want %v", got, want)
	}
	text := shop.HeaderText(got)
	if text != "Alipay-Nonce: n1\nAlipay-Signature: c2ln+/==\nAlipay-Timestamp: 1764244800000\nAlipay-Trace-Id: trace\nContent-Type: application/json\n" {
		t.Errorf("HeaderText = %q", text)
	}
	back, err := shop.ParseHeaderText(text)
	if err != nil || !reflect.DeepEqual(back, got) {
		t.Errorf("ParseHeaderText = %v, %v; want %v", back, err, got)
	}
	if shop.AnswerHeader(http.Header{"Server": {"x"}}) != nil || shop.HeaderText(nil) != "" {
		t.Error("no kept header is not nil/empty")
	}
	if h, err := shop.ParseHeaderText(""); h != nil || err != nil {
		t.Errorf(`ParseHeaderText("") = %v, %v`, h, err)
	}
	if _, err := shop.ParseHeaderText("no colon\n"); err == nil {
		t.Error("a line without \": \" parses")
	}
}
