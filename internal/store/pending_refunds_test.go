package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// A pending refund is read back; confirming it is a compare-and-set of its
// order, amount and expiry that deletes it with the refund's insert; a
// refused confirmation stores nothing and leaves it; adding one deletes
// those expired.
func TestPendingRefunds(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		paidOrder(t, db, "p1", 1000, now)
		paidOrder(t, db, "p2", 1000, now)
		add := func(key, no string, amount alipay.Amount, at time.Time) {
			t.Helper()
			if err := db.AddPendingRefund(ctx, shop.PendingRefund{Key: key, OutTradeNo: no, Amount: amount, Reason: "原因 " + key,
				CreatedAt: at, ExpiresAt: at.Add(shop.PendingRefundTTL)}); err != nil {
				t.Fatal(err)
			}
		}
		confirm := func(key, no string, amount alipay.Amount, at time.Time) (shop.Refund, error) {
			r := shop.Refund{OutTradeNo: no, OutRequestNo: key, Amount: amount, Status: shop.RefundPending, CreatedAt: at, UpdatedAt: at}
			return r, db.ConfirmRefund(ctx, &r, false, at.Add(time.Minute), allowRefund(&r))
		}
		add("k-old", "p1", 100, now.Add(-time.Hour))
		add("k1", "p1", 300, now)
		if _, err := db.PendingRefund(ctx, "k-old"); !errors.Is(err, shop.ErrPendingRefundNotFound) {
			t.Fatalf("an expired pending refund was kept: %v", err)
		}
		p, err := db.PendingRefund(ctx, "k1")
		if err != nil || p.OutTradeNo != "p1" || p.Amount != 300 || p.Reason != "原因 k1" || !p.ExpiresAt.Equal(now.Add(shop.PendingRefundTTL)) {
			t.Fatalf("pending refund: %+v %v", p, err)
		}
		// Refused: another order, another amount, expired, never issued.
		for _, c := range []struct {
			key, no string
			amount  alipay.Amount
			at      time.Time
		}{
			{"k1", "p2", 300, now}, {"k1", "p1", 301, now}, {"k1", "p1", 300, now.Add(shop.PendingRefundTTL)}, {"k-never", "p1", 300, now},
		} {
			if _, err := confirm(c.key, c.no, c.amount, c.at); !errors.Is(err, shop.ErrPendingRefundNotFound) {
				t.Errorf("confirm %+v: %v", c, err)
			}
		}
		if rs, _ := db.OrderRefunds(ctx, "p1"); len(rs) != 0 {
			t.Fatalf("a refused confirmation stored a refund: %+v", rs)
		}
		if _, err := db.PendingRefund(ctx, "k1"); err != nil {
			t.Fatalf("a refused confirmation used the key: %v", err)
		}
		// Accepted once; again it exists.
		if r, err := confirm("k1", "p1", 300, now.Add(time.Minute)); err != nil || r.ID == 0 {
			t.Fatalf("confirm: %+v %v", r, err)
		}
		if _, err := db.PendingRefund(ctx, "k1"); !errors.Is(err, shop.ErrPendingRefundNotFound) {
			t.Fatalf("the used key is still pending: %v", err)
		}
		if _, err := confirm("k1", "p1", 300, now.Add(time.Minute)); !errors.Is(err, shop.ErrRefundExists) {
			t.Fatalf("confirmed twice: %v", err)
		}
		if r, err := db.Refund(ctx, "k1"); err != nil || r.Amount != 300 || r.OutTradeNo != "p1" {
			t.Fatalf("refund: %+v %v", r, err)
		}
	})
}

// The same confirmation raced on two handles of one database, for the whole
// amount of an order: one makes the refund, the other finds it made
// (ErrRefundExists), never "over what is left to refund".
func TestConfirmRefundRace(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, a *store.DB, src source) {
		ctx := context.Background()
		b, err := store.Open(ctx, src.dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		now := time.Now()
		for i := range 10 {
			no := fmt.Sprint("race", i)
			paidOrder(t, a, no, 1000, now)
			key := fmt.Sprint("k", i)
			if err := a.AddPendingRefund(ctx, shop.PendingRefund{Key: key, OutTradeNo: no, Amount: 1000, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, db := range []*store.DB{a, b} {
				wg.Go(func() {
					r := shop.Refund{OutTradeNo: no, OutRequestNo: key, Amount: 1000, Status: shop.RefundPending, CreatedAt: now, UpdatedAt: now}
					errs[j] = db.ConfirmRefund(ctx, &r, false, now, allowRefund(&r))
				})
			}
			wg.Wait()
			made, exists := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					made++
				case errors.Is(err, shop.ErrRefundExists):
					exists++
				default:
					t.Errorf("order %s: %v", no, err)
				}
			}
			if made != 1 || exists != 1 {
				t.Fatalf("order %s: %d made, %d found made (%v)", no, made, exists, errs)
			}
		}
	})
}

// A refund confirmed with restock gives the stock its order holds back to
// the goods in the confirming transaction, once, with the admin's event;
// the order holds none after. The pending refund's restock is part of the
// compare-and-set, and an order holding no stock gives nothing back.
func TestRefundRestock(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		g := shop.Goods{Name: "限量键盘", Price: 1000, Stock: ptr(5), Shipping: true, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateGoods(ctx, &g); err != nil {
			t.Fatal(err)
		}
		o := shop.Order{OutTradeNo: "r1", GoodsID: g.ID, Quantity: 2, StockHeld: 2, Shipping: true, CreatedAt: now, UpdatedAt: now,
			Receiver: shop.Receiver{Name: "张三", Phone: "13800138000", Address: "北京市朝阳区某某路 1 号"}}
		if err := db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: now, OutTradeNo: "r1", Verified: true, Body: []byte("pay r1")},
			func(o *shop.Order, _ *shop.Refund) shop.Decision {
				return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: "r1", TradeNo: "Tr1", Amount: o.Amount, PaidAt: now, Via: "query"}}
			}); err != nil {
			t.Fatal(err)
		}
		if s := stockOf(t, db, g.ID); *s != 3 {
			t.Fatalf("stock after the paid order of 2: %d", *s)
		}
		add := func(key string, amount alipay.Amount, restock bool) {
			t.Helper()
			if err := db.AddPendingRefund(ctx, shop.PendingRefund{Key: key, OutTradeNo: "r1", Amount: amount, Restock: restock,
				CreatedAt: now, ExpiresAt: now.Add(shop.PendingRefundTTL)}); err != nil {
				t.Fatal(err)
			}
			if p, err := db.PendingRefund(ctx, key); err != nil || p.Restock != restock {
				t.Fatalf("pending refund %s read back: %+v %v", key, p, err)
			}
		}
		confirm := func(key string, amount alipay.Amount, restock bool) error {
			r := shop.Refund{OutTradeNo: "r1", OutRequestNo: key, Amount: amount, Status: shop.RefundPending, CreatedAt: now, UpdatedAt: now}
			return db.ConfirmRefund(ctx, &r, restock, now.Add(time.Minute), allowRefund(&r))
		}
		add("k1", 500, true)
		if err := confirm("k1", 500, false); !errors.Is(err, shop.ErrPendingRefundNotFound) {
			t.Fatalf("confirmed without the restock it was planned with: %v", err)
		}
		if err := confirm("k1", 500, true); err != nil {
			t.Fatal(err)
		}
		if s := stockOf(t, db, g.ID); *s != 5 {
			t.Fatalf("stock after the restocking refund: %d", *s)
		}
		if got, _ := db.Order(ctx, "r1"); got.StockHeld != 0 {
			t.Fatalf("order after the restock holds %d", got.StockHeld)
		}
		if err := confirm("k1", 500, true); !errors.Is(err, shop.ErrRefundExists) {
			t.Fatalf("the same confirmation again: %v", err)
		}
		// A second refund asking to restock: the order holds nothing now.
		add("k2", 500, true)
		if err := confirm("k2", 500, true); err != nil {
			t.Fatal(err)
		}
		if s := stockOf(t, db, g.ID); *s != 5 {
			t.Fatalf("stock after a second restocking refund: %d", *s)
		}
		events, err := db.OrderEvents(ctx, "r1")
		if err != nil || len(events) != 1 || events[0].Kind != shop.EventRestocked || events[0].Actor != shop.ActorAdmin || events[0].Detail != "2" {
			t.Fatalf("events: %+v %v", events, err)
		}
	})
}
