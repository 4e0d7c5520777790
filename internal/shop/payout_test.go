package shop_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"alishop/alipay/sandbox"
	"alishop/alipay/wire"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
)

// payoutEnv is a whole shop against the offline gateway, with one paid
// order of 10.00.
type payoutEnv struct {
	*shoptest.Env
	po    *shop.Payouts
	order shop.Order
}

func newPayoutEnv(t *testing.T) *payoutEnv {
	t.Helper()
	e := &payoutEnv{Env: shoptest.NewEnv(t, shoptest.EnvOptions{})}
	e.po = shop.NewPayouts(e.Service, e.DB, e.Client)
	ctx := context.Background()
	o, u, err := e.Service.CreateOrder(ctx, e.Goods.ID)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(u) // opens the cashier: the trade exists
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := e.Sandbox.Pay(e.App.AppID, o.OutTradeNo, ""); err != nil {
		t.Fatal(err)
	}
	if e.order, err = e.Service.SyncOrder(ctx, o.OutTradeNo); err != nil || e.order.Status != shop.StatusPaid {
		t.Fatalf("order after paying: %+v %v", e.order, err)
	}
	return e
}

func (e *payoutEnv) buyerBalance(t *testing.T) wire.Amount {
	t.Helper()
	for _, b := range e.Sandbox.Balances().Buyers {
		if b.Login == sandbox.DefaultBuyer {
			if b.Balance != b.Movements {
				t.Fatalf("the sandbox lost track: %+v", b)
			}
			return wire.MustAmount(b.Balance)
		}
	}
	t.Fatal("no default buyer")
	return 0
}

// A payout in two steps: the plan stores a pending payout and sends
// nothing; its confirmation pays the buyer once, however often it is
// posted; a key never issued, another amount or a second use pays nothing.
func TestPayoutTwoSteps(t *testing.T) {
	t.Parallel()
	e := newPayoutEnv(t)
	ctx := context.Background()
	start := e.buyerBalance(t)
	plan, err := e.po.Plan(ctx, e.order.OutTradeNo, 3_00, wire.IdentityLogonID, sandbox.DefaultBuyer, sandbox.DefaultBuyerName, "发货延迟补偿")
	if err != nil || plan.Claimed != 0 || plan.LeftAfter != 7_00 || !shop.ValidOutBizNo(plan.Pending.Key) {
		t.Fatalf("plan: %+v %v", plan, err)
	}
	if got := e.buyerBalance(t); got != start {
		t.Fatalf("the plan paid: %v → %v", start, got)
	}
	if _, _, err := e.po.Confirm(ctx, e.order.OutTradeNo, shop.NewOutBizNo(e.Sandbox.Now()), 3_00); !errors.Is(err, shop.ErrPendingPayoutNotFound) {
		t.Fatalf("a key never issued: %v", err)
	}
	if _, _, err := e.po.Confirm(ctx, e.order.OutTradeNo, plan.Pending.Key, 4_00); err == nil {
		t.Fatal("another amount was confirmed")
	}
	p, repeat, err := e.po.Confirm(ctx, e.order.OutTradeNo, plan.Pending.Key, 3_00)
	if err != nil || repeat || p.Status != shop.PayoutSucceeded || p.AlipayOrderID == "" || p.Payee != sandbox.DefaultBuyer {
		t.Fatalf("confirm: %+v %v %v", p, repeat, err)
	}
	again, repeat, err := e.po.Confirm(ctx, e.order.OutTradeNo, plan.Pending.Key, 3_00)
	if err != nil || !repeat || again.ID != p.ID {
		t.Fatalf("the same confirmation again: %+v %v %v", again, repeat, err)
	}
	if got := e.buyerBalance(t); got != start+3_00 {
		t.Fatalf("buyer balance %v, want %v", got, start+3_00)
	}
	// Within what was paid: 7.00 left.
	if _, err := e.po.Plan(ctx, e.order.OutTradeNo, 7_01, wire.IdentityLogonID, sandbox.DefaultBuyer, sandbox.DefaultBuyerName, ""); err == nil {
		t.Fatal("a payout beyond the order was planned")
	}
	ps, err := e.po.OrderPayouts(ctx, e.order.OutTradeNo)
	if err != nil || len(ps) != 1 {
		t.Fatalf("payouts: %+v %v", ps, err)
	}
}

// Alipay refusing a payout (a wrong real name) leaves it failed, and
// nothing paid; the room it held is free again.
func TestPayoutRefused(t *testing.T) {
	t.Parallel()
	e := newPayoutEnv(t)
	ctx := context.Background()
	start := e.buyerBalance(t)
	plan, err := e.po.Plan(ctx, e.order.OutTradeNo, 10_00, wire.IdentityLogonID, sandbox.DefaultBuyer, "张三", "")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := e.po.Confirm(ctx, e.order.OutTradeNo, plan.Pending.Key, 10_00)
	if err != nil || p.Status != shop.PayoutFailed || !strings.Contains(p.LastError, "PAYEE_USER_INFO_ERROR") {
		t.Fatalf("refused payout: %+v %v", p, err)
	}
	if got := e.buyerBalance(t); got != start {
		t.Fatalf("a refused payout paid: %v → %v", start, got)
	}
	if _, err := e.po.Plan(ctx, e.order.OutTradeNo, 10_00, wire.IdentityUserID, "2088102177846880", "", ""); err != nil {
		t.Fatalf("the failed payout still holds room: %v", err)
	}
}

// A payout whose answer is lost (20000, a dropped connection), made at
// Alipay or not: the confirmation posted again settles it by query and the
// buyer is paid once, never twice.
func TestPayoutUnknownOutcome(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ fault, effect string }{{"20000", "committed"}, {"timeout", "committed"}, {"20000", "none"}, {"ACQ.SYSTEM_ERROR", "none"}} {
		t.Run(c.fault+"-"+c.effect, func(t *testing.T) {
			t.Parallel()
			e := newPayoutEnv(t)
			ctx := context.Background()
			start := e.buyerBalance(t)
			if _, err := e.Sandbox.AddFaults([]sandbox.Fault{{Kind: sandbox.KindGatewayError, Method: "alipay.fund.trans.uni.transfer",
				Error: c.fault, Effect: c.effect, Count: 1, Delay: sandbox.Duration(50_000_000)}}); err != nil {
				t.Fatal(err)
			}
			plan, err := e.po.Plan(ctx, e.order.OutTradeNo, 2_00, wire.IdentityLogonID, sandbox.DefaultBuyer, sandbox.DefaultBuyerName, "")
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := e.po.Confirm(ctx, e.order.OutTradeNo, plan.Pending.Key, 2_00)
			if err != nil || p.Status != shop.PayoutPending || p.LastError == "" {
				t.Fatalf("a payout whose answer was lost: %+v %v", p, err)
			}
			p, repeat, err := e.po.Confirm(ctx, e.order.OutTradeNo, plan.Pending.Key, 2_00)
			if err != nil || !repeat || p.Status != shop.PayoutSucceeded {
				t.Fatalf("settled by the repeat: %+v %v %v", p, repeat, err)
			}
			if got := e.buyerBalance(t); got != start+2_00 {
				t.Fatalf("buyer balance %v, want %v: paid %d times", got, start+2_00, (got-start)/2_00)
			}
			if done, err := e.po.Settle(ctx, p.OutBizNo, false); !done || err != nil {
				t.Fatalf("settling a settled payout: %v %v", done, err)
			}
			if got := e.buyerBalance(t); got != start+2_00 {
				t.Fatalf("settling again paid: %v", got)
			}
		})
	}
}
