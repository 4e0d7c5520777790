package reconcile_test

import (
	"context"
	"testing"
	"time"

	"alishop/internal/jobs"
	"alishop/internal/shop"
)

// A shipped order the buyer never confirms becomes 已完成 by the system
// once shop.DefaultAutoComplete has passed since it shipped, as a durable
// job run by the reconciler on the shop's (advanced) clock: not a moment
// before, once, with its event; an order the buyer confirmed or that was
// refunded in full is left as it is.
func TestAutoCompleteJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	paidShipped := func(no string) {
		t.Helper()
		now := e.svc.Now()
		o := shop.Order{OutTradeNo: no, GoodsID: e.goods.ID, CreatedAt: now, UpdatedAt: now, Quantity: 1, Shipping: true,
			Receiver: shop.Receiver{Name: "赵六", Phone: "13700000000", Address: "广东省深圳市南山区科技园 1 号"}}
		if err := e.db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: now, OutTradeNo: no, Verified: true, Body: []byte(no)},
			func(o *shop.Order, _ *shop.Refund) shop.Decision {
				return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T" + no, Amount: o.Amount, PaidAt: now, Via: "query"}}
			}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Ship(ctx, no, "韵达快递", "YD"+no); err != nil {
			t.Fatal(err)
		}
	}
	paidShipped("AC1")
	paidShipped("AC2")
	if _, err := e.svc.Receive(ctx, "AC2"); err != nil {
		t.Fatal(err)
	}
	stage := func(no string) shop.Stage {
		t.Helper()
		o, err := e.svc.Order(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		return o.Stage()
	}
	run := func() {
		t.Helper()
		if _, err := e.rec.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.sb.Advance(ctx, shop.DefaultAutoComplete-time.Minute)
	run()
	if stage("AC1") != shop.StageShipped {
		t.Fatalf("completed a minute early: %s", stage("AC1"))
	}
	e.sb.Advance(ctx, time.Minute)
	run()
	run() // again: nothing more
	if stage("AC1") != shop.StageCompleted || stage("AC2") != shop.StageCompleted {
		t.Fatalf("after %s: %s, %s", shop.DefaultAutoComplete, stage("AC1"), stage("AC2"))
	}
	for no, want := range map[string][]shop.EventKind{"AC1": {shop.EventShipped, shop.EventAutoCompleted}, "AC2": {shop.EventShipped, shop.EventReceived}} {
		evs, err := e.svc.OrderEvents(ctx, no)
		if err != nil || len(evs) != len(want) {
			t.Fatalf("%s events %+v %v", no, evs, err)
		}
		for i := range want {
			if evs[i].Kind != want[i] {
				t.Fatalf("%s events %+v", no, evs)
			}
		}
		if no == "AC1" && (evs[1].Actor != shop.ActorSystem || evs[1].At.Before(evs[0].At.Add(shop.DefaultAutoComplete)) || evs[1].At.After(evs[0].At.Add(shop.DefaultAutoComplete+time.Minute))) {
			t.Fatalf("the auto-completion: %+v", evs[1])
		}
	}
	js, err := e.db.Jobs(ctx, jobs.KindComplete, false)
	if err != nil || len(js) != 0 {
		t.Fatalf("completion jobs left: %+v %v", js, err)
	}
}
