package reconcile_test

import (
	"context"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
)

// posEnv is a shop whose notifications never arrive (the sandbox drops
// them), so that only the counter page and the reconciler can settle a
// counter order.
func posEnv(t *testing.T) *shoptest.Env {
	t.Helper()
	e := shoptest.NewEnv(t, shoptest.EnvOptions{})
	if _, err := e.Sandbox.AddFaults([]sandbox.Fault{{Kind: sandbox.KindDrop}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func charge(t *testing.T, e *shoptest.Env, amount, key string) shop.Order {
	t.Helper()
	pc, err := e.Sandbox.IssuePayCode("")
	if err != nil {
		t.Fatal(err)
	}
	o, repeat, err := e.Service.ChargePOS(context.Background(), shop.POSCharge{Amount: alipay.MustAmount(amount), Subject: "柜台", AuthCode: pc.AuthCode, Key: key})
	if err != nil || repeat {
		t.Fatalf("ChargePOS %s: %v (repeat %v)", amount, err, repeat)
	}
	return o
}

func tradeStatus(e *shoptest.Env, no string) string {
	v, ok := e.Sandbox.Trade(e.App.AppID, no)
	if !ok {
		return "none"
	}
	return v.TradeStatus
}

// TestPOSOrderLeftWaiting: a counter order whose page stopped following it
// (the process died) while it waited for its buyer is settled by the
// reconciler alone: paid when the buyer confirmed meanwhile, else cancelled
// at Alipay once its deadline has passed, the buyer charged nothing.
func TestPOSOrderLeftWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, confirm := range []bool{true, false} {
		name := map[bool]string{true: "buyer confirms", false: "buyer never confirms"}[confirm]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := posEnv(t)
			o := charge(t, e, "2500.00", shop.NewPOSKey())
			if o.Status != shop.StatusUnpaid || o.Channel != shop.OrderChannelPOS || tradeStatus(e, o.OutTradeNo) != "WAIT_BUYER_PAY" {
				t.Fatalf("after trade.pay: order %s %s, trade %s; want unpaid pos, WAIT_BUYER_PAY", o.Status, o.Channel, tradeStatus(e, o.OutTradeNo))
			}
			if confirm {
				if _, err := e.Sandbox.Pay(e.App.AppID, o.OutTradeNo, ""); err != nil {
					t.Fatal(err)
				}
			}
			// Past the 30 s deadline and the reconciler's first look.
			e.Sandbox.Advance(ctx, 2*time.Minute)
			if _, err := e.Reconciler.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := e.Service.Order(ctx, o.OutTradeNo)
			if err != nil {
				t.Fatal(err)
			}
			want, wantTrade := shop.StatusPaid, "TRADE_SUCCESS"
			if !confirm {
				want, wantTrade = shop.StatusClosed, "TRADE_CLOSED"
			}
			if got.Status != want || tradeStatus(e, o.OutTradeNo) != wantTrade {
				t.Fatalf("order %s, trade %s; want %s, %s", got.Status, tradeStatus(e, o.OutTradeNo), want, wantTrade)
			}
			if !confirm {
				v, _ := e.Sandbox.Trade(e.App.AppID, o.OutTradeNo)
				if v.CancelAction != "close" || got.POSNote == "" {
					t.Fatalf("cancel action %q, note %q; want close and a note", v.CancelAction, got.POSNote)
				}
			}
		})
	}
}

// TestPOSCharge: paid at once within the no-password limit; the same
// one-time key again charges nothing and returns the same order; a
// refused code closes the order with the reason; the owner's 撤销 closes a
// waiting one; an unknown outcome is followed to its end.
func TestPOSCharge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := posEnv(t)
	key := shop.NewPOSKey()
	o := charge(t, e, "12.00", key)
	if o.Status != shop.StatusPaid || o.PaidVia != shop.SourcePay || o.TradeNo == "" || tradeStatus(e, o.OutTradeNo) != "TRADE_SUCCESS" {
		t.Fatalf("¥12.00: %s via %q trade %q (%s); want paid via pay", o.Status, o.PaidVia, o.TradeNo, tradeStatus(e, o.OutTradeNo))
	}
	pc, _ := e.Sandbox.IssuePayCode("")
	again, repeat, err := e.Service.ChargePOS(ctx, shop.POSCharge{Amount: alipay.MustAmount("12.00"), AuthCode: pc.AuthCode, Key: key})
	if err != nil || !repeat || again.OutTradeNo != o.OutTradeNo {
		t.Fatalf("same key again: %s repeat %v err %v; want the first order, repeat", again.OutTradeNo, repeat, err)
	}
	_, total, err := e.Service.ListOrders(ctx, shop.OrderFilter{})
	if err != nil || total != 1 {
		t.Fatalf("orders: %d (%v); want 1", total, err)
	}

	bad, _, err := e.Service.ChargePOS(ctx, shop.POSCharge{Amount: alipay.MustAmount("5.00"), AuthCode: "281234567890123456", Key: shop.NewPOSKey()})
	if err != nil || bad.Status != shop.StatusClosed || bad.POSNote == "" || tradeStatus(e, bad.OutTradeNo) != "none" {
		t.Fatalf("unknown code: %s note %q trade %s err %v; want closed with a reason, no trade", bad.Status, bad.POSNote, tradeStatus(e, bad.OutTradeNo), err)
	}

	w := charge(t, e, "3000.00", shop.NewPOSKey())
	c, err := e.Service.CancelPOS(ctx, w.OutTradeNo)
	if err != nil || c.Status != shop.StatusClosed || tradeStatus(e, w.OutTradeNo) != "TRADE_CLOSED" {
		t.Fatalf("撤销: %s trade %s err %v; want closed", c.Status, tradeStatus(e, w.OutTradeNo), err)
	}

	// The first call times out after Alipay took the payment: the page's
	// next look finds it paid.
	if _, err := e.Sandbox.AddFaults([]sandbox.Fault{{Kind: sandbox.KindGatewayError, Method: "alipay.trade.pay", Error: "timeout", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	u := charge(t, e, "8.00", shop.NewPOSKey())
	if u.Status != shop.StatusUnpaid {
		t.Fatalf("unknown outcome: %s; want unpaid until followed", u.Status)
	}
	f, err := e.Service.FollowPOS(ctx, u.OutTradeNo)
	if err != nil || f.Status != shop.StatusPaid {
		t.Fatalf("followed: %s err %v; want paid", f.Status, err)
	}
}
