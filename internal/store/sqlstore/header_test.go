package sqlstore_test

import (
	"net/http"
	"reflect"
	"testing"

	"alishop/internal/store/sqlstore"
)

// HeaderText writes canonical "Name: value" lines in name order, and
// ParseHeaderText reads them back.
func TestHeaderText(t *testing.T) {
	t.Parallel()
	h := map[string][]string{"alipay-nonce": {"n1"}, "Alipay-Signature": {"c2ln+/=="}, "Content-Type": {"application/json"}}
	text := sqlstore.HeaderText(h)
	if text != "Alipay-Nonce: n1\nAlipay-Signature: c2ln+/==\nContent-Type: application/json\n" {
		t.Errorf("HeaderText = %q", text)
	}
	back, err := sqlstore.ParseHeaderText(text)
	want := http.Header{"Alipay-Nonce": {"n1"}, "Alipay-Signature": {"c2ln+/=="}, "Content-Type": {"application/json"}}
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("ParseHeaderText = %v, %v; want %v", back, err, want)
	}
	if sqlstore.HeaderText(nil) != "" {
		t.Error("no header is not empty text")
	}
	if h, err := sqlstore.ParseHeaderText(""); h != nil || err != nil {
		t.Errorf(`ParseHeaderText("") = %v, %v`, h, err)
	}
	if _, err := sqlstore.ParseHeaderText("no colon\n"); err == nil {
		t.Error("a line without \": \" parses")
	}
}
