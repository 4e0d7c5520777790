package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/internal/shop"
)

// TestRefundConfirmNeedsStepOne: the confirmation accepts only a key that
// step 1 issued, for its order and amount, before it expires, with the
// reason given in step 1. Every refusal is a 422 with the reason on the
// order page, and nothing is stored or sent to Alipay.
func TestRefundConfirmNeedsStepOne(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	o, other := e.paid(), e.paid()
	c := e.login()
	step1 := func(no, amount, reason string) string {
		t.Helper()
		resp, body := e.post("/admin/orders/"+no+"/refunds", url.Values{"amount": {amount}, "reason": {reason}}, nil, c)
		m := refundKey.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("step 1: %s\n%s", resp.Status, body)
		}
		return m[1]
	}
	confirm := func(no, key, amount string) (*http.Response, string) {
		return e.post("/admin/orders/"+no+"/refunds/confirm", url.Values{"key": {key}, "amount": {amount}, "reason": {"表单里的原因"}}, nil, c)
	}
	nothingMade := func(what string) {
		t.Helper()
		for _, no := range []string{o.OutTradeNo, other.OutTradeNo} {
			rs, err := e.db.OrderRefunds(context.Background(), no)
			tv, _ := e.sb.Trade(e.app.AppID, no)
			if err != nil || len(rs) != 0 || len(tv.Refunds) != 0 {
				t.Fatalf("%s: refunds of %s stored %+v, at the sandbox %+v (%v)", what, no, rs, tv.Refunds, err)
			}
		}
	}
	key := step1(o.OutTradeNo, "30.00", "尺码不合适")
	for _, c := range []struct {
		name, no, key, amount, says string
	}{
		{"a well-formed key step 1 never issued", o.OutTradeNo, shop.NewOutRequestNo(time.Now()), "30.00", "退款确认无效或已过期"},
		{"the key for another amount", o.OutTradeNo, key, "88.00", "该退款确认属于订单"},
		{"the key for another order", other.OutTradeNo, key, "30.00", "该退款确认属于订单"},
		{"a malformed key", o.OutTradeNo, "R123", "30.00", "退款确认无效或已过期"},
	} {
		resp, body := confirm(c.no, c.key, c.amount)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.says) {
			t.Errorf("%s: %s, page says %q: %.300s", c.name, resp.Status, c.says, body)
		}
		nothingMade(c.name)
	}

	// Expired: step 1 again after PendingRefundTTL.
	e.sb.Advance(context.Background(), shop.PendingRefundTTL)
	if resp, body := confirm(o.OutTradeNo, key, "30.00"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "已过期") {
		t.Fatalf("expired key: %s %.300s", resp.Status, body)
	}
	nothingMade("expired key")

	// A fresh key: made once, with step 1's reason, not the form's.
	key = step1(o.OutTradeNo, "30.00", "尺码不合适")
	resp, _ := confirm(o.OutTradeNo, key, "30.00")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "repeat") {
		t.Fatalf("confirm: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := confirm(o.OutTradeNo, key, "30.00"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "repeat=1") {
		t.Fatalf("confirm again: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	r, err := e.db.Refund(context.Background(), key)
	tv, _ := e.sb.Trade(e.app.AppID, o.OutTradeNo)
	if err != nil || r.Reason != "尺码不合适" || r.Status != shop.RefundSucceeded || len(tv.Refunds) != 1 {
		t.Fatalf("refund %+v (%v), %d at the sandbox", r, err, len(tv.Refunds))
	}
}

// TestRefundRestockForm: an order holding stock offers 退回库存 on the
// refund form; the confirmation page says how many go back, and only the
// confirmed refund gives them back, once; the order's record says so. A
// refund without the box leaves the stock as it is.
func TestRefundRestockForm(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	ctx := context.Background()
	g := e.goods
	g.Stock = stock(5)
	if err := e.svc.SaveGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	stockNow := func() int64 {
		t.Helper()
		g, err := e.svc.Goods(ctx, g.ID)
		if err != nil || g.Stock == nil {
			t.Fatalf("goods %+v %v", g, err)
		}
		return *g.Stock
	}
	o, kept := e.paid(), e.paid()
	if o.StockHeld != 1 || stockNow() != 3 {
		t.Fatalf("paid order holds %d, stock %d", o.StockHeld, stockNow())
	}
	c := e.login()
	_, body := e.get("/admin/orders/"+o.OutTradeNo, c)
	if !strings.Contains(body, `id="restock" name="restock" value="1"`) || !strings.Contains(body, "退回库存 1 件") {
		t.Fatalf("the refund form offers no restock:\n%s", body)
	}
	step1 := func(no string, v url.Values) string {
		t.Helper()
		before := stockNow()
		resp, body := e.post("/admin/orders/"+no+"/refunds", v, nil, c)
		m := refundKey.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("step 1: %s\n%s", resp.Status, body)
		}
		if v.Get("restock") != "" && !strings.Contains(body, `<dd id="confirm-restock">是，1 件回到商品库存</dd>`) ||
			v.Get("restock") == "" && !strings.Contains(body, `<dd id="confirm-restock">否</dd>`) {
			t.Fatalf("the confirmation does not say what happens to the stock:\n%s", body)
		}
		if stockNow() != before {
			t.Fatalf("step 1 changed the stock from %d to %d", before, stockNow())
		}
		return m[1]
	}
	key := step1(o.OutTradeNo, url.Values{"amount": {"88.00"}, "reason": {"未发货，买家取消"}, "restock": {"1"}})
	for range 2 {
		resp, _ := e.post("/admin/orders/"+o.OutTradeNo+"/refunds/confirm", url.Values{"key": {key}, "amount": {"88.00"}}, nil, c)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %s", resp.Status)
		}
		if stockNow() != 4 {
			t.Fatalf("stock after the restocking refund: %d", stockNow())
		}
	}
	_, body = e.get("/admin/orders/"+o.OutTradeNo, c)
	if !strings.Contains(body, "商家退回库存 1 件") {
		t.Fatalf("the order's record does not show the restock:\n%s", body)
	}
	key = step1(kept.OutTradeNo, url.Values{"amount": {"10.00"}, "reason": {"差价"}})
	if resp, _ := e.post("/admin/orders/"+kept.OutTradeNo+"/refunds/confirm", url.Values{"key": {key}, "amount": {"10.00"}}, nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %s", resp.Status)
	}
	if stockNow() != 4 || e.order(kept.OutTradeNo).StockHeld != 1 {
		t.Fatalf("a refund without restock: stock %d, order holds %d", stockNow(), e.order(kept.OutTradeNo).StockHeld)
	}
}
