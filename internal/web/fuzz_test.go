package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/web"
)

// FuzzNotify posts arbitrary bodies to /alipay/notify. Without Alipay's
// private key no body can verify, so none may be answered "success", none
// may change the unpaid order, and every one must be stored (the budget for
// stored unverified messages is raised past what a fuzzing run sends; the
// budget itself is tested by the attack suite).
func FuzzNotify(f *testing.F) {
	h := newHarnessWith(f, func(c *web.Config) {
		c.Limits.UnverifiedBurst = 1 << 30
		c.Limits.UnverifiedTotalBurst = 1 << 30
	})
	o := h.buy(h.goods.ID)
	genuine := h.sign(h.genuine(o, "2026112522001400000000000001"))
	f.Add(strings.Replace(genuine, "sign=", "sign=x", 1))
	f.Add(strings.Replace(genuine, "total_amount=369.00", "total_amount=369.01", 1))
	f.Add(genuine + "&app_id=2021")
	f.Add("app_id=%zz")
	f.Add("")
	f.Add("sign=&sign_type=RSA2&out_trade_no=" + o.OutTradeNo)
	client := &http.Client{Timeout: 5 * time.Second}
	var last int64 // id of the last stored notification seen
	f.Fuzz(func(t *testing.T, body string) {
		if body == genuine {
			return
		}
		resp, err := client.Post(h.srv.URL+"/alipay/notify", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		ans, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(ans) == "success" {
			t.Fatalf("forged body answered success: %q", body)
		}
		stored, err := h.db.Notifications(context.Background(), last, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 {
			t.Fatalf("%d notifications stored, want 1", len(stored))
		}
		last = stored[0].ID
		got, err := h.db.Order(context.Background(), o.OutTradeNo)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != shop.StatusUnpaid {
			t.Fatalf("order changed to %s by %q", got.Status, body)
		}
	})
}
