package web_test

import (
	"testing"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
)

// TestNotifyGenuine: a genuine notification pays the order once, answers
// exactly "success", and is stored raw.
func TestNotifyGenuine(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.buy(h.goods.ID)
	if o.Status != shop.StatusUnpaid || o.Amount != alipay.MustAmount("369.00") || o.Subject != h.goods.Name {
		t.Fatalf("new order: %+v", o)
	}
	body := h.sign(h.genuine(o, "2026112522001400000000000001"))
	code, resp := h.notify("POST", body)
	if code != 200 || resp != "success" {
		t.Fatalf("genuine notification: %d %q, want 200 success", code, resp)
	}
	got := h.order(o.OutTradeNo)
	if got.Status != shop.StatusPaid || got.TradeNo != "2026112522001400000000000001" || got.PaidVia != "notify" || got.PaidAt.IsZero() {
		t.Fatalf("after notification: %+v", got)
	}
	ns := h.notifications()
	if len(ns) != 1 || string(ns[0].Body) != body || !ns[0].Verified || ns[0].Outcome != shop.OutcomeApplied {
		t.Fatalf("stored: %+v", ns)
	}
}

// TestNotifyBad runs the table of bad notifications against the handler.
func TestNotifyBad(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.buy(h.goods.ID) // stays unpaid
	b := h.buy(h.goods.ID) // paid first by its genuine notification
	tg := h.target()
	bBody := shoptest.Sign(t, tg.AlipayKey, tg.Genuine(b, "2026112522001400000000000002"))
	if code, resp := h.notify("POST", bBody); code != 200 || resp != "success" {
		t.Fatalf("paying b: %d %q", code, resp)
	}
	shoptest.BadNotifications(t, tg, h.order(a.OutTradeNo), h.order(b.OutTradeNo), bBody)
}
