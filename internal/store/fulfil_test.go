package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/jobs"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// shippedGoodsOrder makes a paid order of goods delivered to phone.
func shippedGoodsOrder(t *testing.T, db *store.DB, no, phone string, at time.Time) shop.Order {
	t.Helper()
	ctx := context.Background()
	g := goods(t, db, "键盘"+no, 36900, false)
	o := shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: at, UpdatedAt: at, Quantity: 2, Shipping: true,
		Receiver: shop.Receiver{Name: "张三", Phone: phone, Address: "浙江省杭州市西湖区文三路 1 号"}}
	if err := db.CreateOrder(ctx, &o); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: at, OutTradeNo: no, Verified: true, Body: []byte(no)},
		func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T" + no, Amount: o.Amount, PaidAt: at, Via: "query"}}
		}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Order(ctx, no)
	if err != nil || got.Stage() != shop.StageToShip || got.Receiver.Phone != phone || got.Quantity != 2 {
		t.Fatalf("order %s: %+v %v", no, got, err)
	}
	return got
}

// Shipping and receiving are compare-and-set changes each recorded as an
// event: a shipment schedules the order's completion job in the same
// transaction; the same shipment again changes nothing, another is
// refused; of two confirmations racing, one is recorded; a full refund ends
// the fulfilment.
func TestFulfilmentCompareAndSet(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		shippedGoodsOrder(t, db, "s1", "13812345678", now)
		ship := func(carrier, no string, at time.Time) (shop.Order, shop.Transition, error) {
			return db.Fulfil(ctx, "s1", func(o shop.Order) (shop.Transition, error) {
				return shop.DecideShip(o, carrier, no, 10*24*time.Hour, at)
			})
		}
		o, tr, err := ship("顺丰速运", "SF1234567890", now.Add(time.Hour))
		if err != nil || tr.Repeat || o.Stage() != shop.StageShipped || o.Carrier != "顺丰速运" || o.TrackingNo != "SF1234567890" || !o.ShippedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("ship: %+v %+v %v", o, tr, err)
		}
		js, err := db.Jobs(ctx, jobs.KindComplete, false)
		if err != nil || len(js) != 1 || js[0].Ref != "s1" || !js[0].RunAt.Equal(now.Add(time.Hour+10*24*time.Hour)) {
			t.Fatalf("completion jobs %+v %v", js, err)
		}
		if _, tr, err := ship("顺丰速运", "SF1234567890", now.Add(2*time.Hour)); err != nil || !tr.Repeat {
			t.Fatalf("the same shipment again: %+v %v", tr, err)
		}
		if _, _, err := ship("中通快递", "ZT1", now.Add(2*time.Hour)); shop.ErrorCode(err) != shop.ECONFLICT {
			t.Fatalf("another shipment: %v", err)
		}

		var wg sync.WaitGroup
		results := make([]shop.Transition, 4)
		errs := make([]error, 4)
		for i := range results {
			wg.Go(func() {
				_, results[i], errs[i] = db.Fulfil(ctx, "s1", func(o shop.Order) (shop.Transition, error) {
					return shop.DecideReceive(o, now.Add(3*time.Hour))
				})
			})
		}
		wg.Wait()
		applied := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("receive %d: %v", i, errs[i])
			}
			if !results[i].Repeat {
				applied++
			}
		}
		if applied != 1 {
			t.Fatalf("%d confirmations applied, want 1", applied)
		}
		o, _ = db.Order(ctx, "s1")
		if o.Stage() != shop.StageCompleted || !o.CompletedAt.Equal(now.Add(3*time.Hour)) {
			t.Fatalf("after receipt: %+v", o)
		}
		evs, err := db.OrderEvents(ctx, "s1")
		if err != nil || len(evs) != 2 || evs[0].Kind != shop.EventShipped || evs[0].Actor != shop.ActorAdmin ||
			evs[1].Kind != shop.EventReceived || evs[1].Actor != shop.ActorBuyer || !evs[1].At.Equal(now.Add(3*time.Hour)) {
			t.Fatalf("events %+v %v", evs, err)
		}

		// A full refund ends it: nothing ships.
		o2 := shippedGoodsOrder(t, db, "s2", "13900000000", now)
		r := shop.Refund{OutTradeNo: "s2", OutRequestNo: "R2", Amount: o2.Amount, CreatedAt: now}
		if err := db.CreateRefund(ctx, &r, now.Add(time.Minute), allowRefund(&r)); err != nil {
			t.Fatal(err)
		}
		if _, err := settleRefund(t, db, "s2", "R2", now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Fulfil(ctx, "s2", func(o shop.Order) (shop.Transition, error) {
			return shop.DecideShip(o, "顺丰速运", "SF2", time.Hour, now)
		}); shop.ErrorCode(err) != shop.EINVALID {
			t.Fatalf("shipping a refunded order: %v", err)
		}
		// A transition decided from a state the row has left is refused
		// by the compare-and-set, and nothing is recorded.
		if _, _, err := db.Fulfil(ctx, "s1", func(o shop.Order) (shop.Transition, error) {
			return shop.Transition{From: shop.FulfilShipped, To: shop.FulfilCompleted, Event: shop.OrderEvent{Kind: shop.EventReceived, Actor: shop.ActorBuyer, At: now}}, nil
		}); err == nil {
			t.Fatal("a stale transition was applied")
		}
		if evs, _ := db.OrderEvents(ctx, "s1"); len(evs) != 2 {
			t.Fatalf("%d events after a refused change", len(evs))
		}
	})
}

// The admin's filters by stage, the counts per stage, the search by a
// receiver's phone number and the export's pages select the same orders.
func TestStageFiltersAndExport(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		for i := range 5 {
			shippedGoodsOrder(t, db, fmt.Sprintf("p%d", i), fmt.Sprintf("1380000000%d", i%2), now.Add(time.Duration(i)*time.Minute))
		}
		paidOrder(t, db, "v1", 100, now) // virtual goods: completed
		if _, _, err := db.Fulfil(ctx, "p0", func(o shop.Order) (shop.Transition, error) {
			return shop.DecideShip(o, "中通快递", "ZT100", time.Hour, now)
		}); err != nil {
			t.Fatal(err)
		}
		counts, err := db.CountStages(ctx, shop.OrderFilter{})
		if err != nil || counts[shop.StageToShip] != 4 || counts[shop.StageShipped] != 1 || counts[shop.StageCompleted] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
		list, total, err := db.ListOrders(ctx, shop.OrderFilter{Stage: shop.StageToShip, Limit: 50})
		if err != nil || total != 4 || len(list) != 4 {
			t.Fatalf("待发货: %d %d %v", total, len(list), err)
		}
		_, total, err = db.ListOrders(ctx, shop.OrderFilter{Query: "13800000001", Limit: 50})
		if err != nil || total != 2 {
			t.Fatalf("by phone: %d %v", total, err)
		}
		_, total, err = db.ListOrders(ctx, shop.OrderFilter{Query: "1380000000", Limit: 50})
		if err != nil || total != 0 {
			t.Fatalf("by the start of a phone number: %d %v", total, err)
		}
		var got []string
		var after int64
		for {
			page, err := db.ExportOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid}, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				got = append(got, o.OutTradeNo)
				after = o.ID
			}
			if len(page) < 2 {
				break
			}
		}
		if fmt.Sprint(got) != "[p0 p1 p2 p3 p4 v1]" {
			t.Fatalf("export pages: %v", got)
		}
	})
}

// Refunds stay possible once shipped: a partial refund keeps the order
// 已发货, a full one ends it, after which neither the buyer's confirmation
// nor the auto-completion changes it.
func TestRefundOfShippedOrder(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		o := shippedGoodsOrder(t, db, "r1", "13600000000", now)
		if _, _, err := db.Fulfil(ctx, "r1", func(o shop.Order) (shop.Transition, error) {
			return shop.DecideShip(o, "京东物流", "JD0001", time.Hour, now)
		}); err != nil {
			t.Fatal(err)
		}
		refund := func(no string, amount int64) {
			t.Helper()
			r := shop.Refund{OutTradeNo: "r1", OutRequestNo: no, Amount: alipay.Amount(amount), CreatedAt: now}
			if err := db.CreateRefund(ctx, &r, now.Add(time.Minute), allowRefund(&r)); err != nil {
				t.Fatal(err)
			}
			if d, err := settleRefund(t, db, "r1", no, now); err != nil || d.Outcome != shop.OutcomeApplied {
				t.Fatalf("settle %s: %+v %v", no, d, err)
			}
		}
		refund("P1", 100)
		if got, _ := db.Order(ctx, "r1"); got.Stage() != shop.StageShipped || got.Status != shop.StatusPartiallyRefunded {
			t.Fatalf("after a partial refund: %s %s", got.Status, got.Stage())
		}
		refund("P2", int64(o.Amount)-100)
		got, _ := db.Order(ctx, "r1")
		if got.Stage() != shop.StageRefunded {
			t.Fatalf("after the full refund: %s", got.Stage())
		}
		if _, _, err := db.Fulfil(ctx, "r1", func(o shop.Order) (shop.Transition, error) { return shop.DecideReceive(o, now) }); shop.ErrorCode(err) != shop.EINVALID {
			t.Fatalf("receiving a refunded order: %v", err)
		}
		if _, tr, err := db.Fulfil(ctx, "r1", func(o shop.Order) (shop.Transition, error) {
			return shop.DecideAutoComplete(o, time.Hour, now.Add(2*time.Hour))
		}); err != nil || !tr.Repeat {
			t.Fatalf("auto-completing a refunded order: %+v %v", tr, err)
		}
		if got, _ := db.Order(ctx, "r1"); got.Fulfilment != shop.FulfilShipped || got.Stage() != shop.StageRefunded {
			t.Fatalf("the refunded order changed: %+v", got)
		}
	})
}
