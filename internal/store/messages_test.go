package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// Verified messages with the same Key are one message whatever their
// bodies: stored once (the first body), then counted.
func TestInboundKeyIdentifies(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		for i, body := range []string{"a=1&sign=x", "a=1&sign=x&pad=", "&=zz&a=1&sign=x", "sign=x&a=1"} {
			receive(t, db, shop.Inbound{Source: shop.SourceReturn, ReceivedAt: t0.Add(time.Duration(i) * time.Second), Method: "GET",
				Body: []byte(body), Verified: true, Key: []byte("a=1")})
		}
		// Another key, or the same key from another source, is another
		// message; a message without a key is identified by its body.
		receive(t, db, shop.Inbound{Source: shop.SourceReturn, ReceivedAt: t0, Body: []byte("a=2&sign=y"), Verified: true, Key: []byte("a=2")})
		receive(t, db, shop.Inbound{Source: shop.SourceNotify, ReceivedAt: t0, Body: []byte("a=1&sign=x"), Verified: true, Key: []byte("a=1")})
		receive(t, db, shop.Inbound{Source: shop.SourceReturn, ReceivedAt: t0, Body: []byte("a=1"), Verified: true})
		ns, err := db.Notifications(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 4 {
			t.Fatalf("%d rows, want 4: %+v", len(ns), ns)
		}
		if string(ns[0].Body) != "a=1&sign=x" || ns[0].TimesSeen != 4 || !ns[0].LastSeenAt.Equal(t0.Add(3*time.Second)) {
			t.Fatalf("first message: body %q seen %d last %v", ns[0].Body, ns[0].TimesSeen, ns[0].LastSeenAt)
		}
	})
}

// Distinct verified messages that change nothing are kept up to
// shop.MaxMessagesPerOrder per order; the rest are counted in one row per
// source, while a repeat of a kept one is counted in its own row and a
// message that changes the order is always kept. Messages of another
// order are not affected.
func TestInboundCapPerOrder(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		g := goods(t, db, "商品", 100, false)
		for _, no := range []string{"capped", "other"} {
			if err := db.CreateOrder(ctx, &shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		msg := func(no string, i int) *shop.Inbound {
			return &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond), Method: "POST",
				Body: fmt.Appendf(nil, "n=%d&sign=s", i), Verified: true, OutTradeNo: no, Key: fmt.Appendf(nil, "%s n=%d", no, i)}
		}
		ignore := func(*shop.Order, *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeIgnored, Ack: true, Detail: "trade_status WAIT_BUYER_PAY"}
		}
		extra := 50
		// Concurrently, so that PostgreSQL batches them.
		var wg sync.WaitGroup
		errs := make(chan error, shop.MaxMessagesPerOrder+extra)
		for i := range shop.MaxMessagesPerOrder + extra {
			wg.Go(func() {
				if _, err := db.Receive(ctx, msg("capped", i), ignore); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// A repeat of a kept message (which ones were kept depends on the
		// order they arrived in), and a payment beyond the cap.
		kept := -1
		ns, err := db.Notifications(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if _, err := fmt.Sscanf(string(n.Body), "n=%d&sign=s", &kept); err == nil {
				break
			}
		}
		if kept < 0 {
			t.Fatal("no message kept")
		}
		if _, err := db.Receive(ctx, msg("capped", kept), ignore); err != nil {
			t.Fatal(err)
		}
		pay := msg("capped", 1000)
		d, err := db.Receive(ctx, pay, func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true, Pay: &shop.Payment{OutTradeNo: o.OutTradeNo, TradeNo: "T1", Amount: o.Amount, PaidAt: t0, Via: "notify"}}
		})
		if err != nil || d.Outcome != shop.OutcomeApplied {
			t.Fatalf("payment beyond the cap: %+v %v", d, err)
		}
		if _, err := db.Receive(ctx, msg("other", 1), ignore); err != nil {
			t.Fatal(err)
		}

		ns, err = db.Notifications(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		rows, seen, over := map[string]int{}, map[string]int64{}, 0
		var first, paid *store.Notification
		for i, n := range ns {
			rows[n.OutTradeNo]++
			seen[n.OutTradeNo] += n.TimesSeen
			switch {
			case len(n.Body) == 0:
				over++
				if n.TimesSeen != int64(extra) || n.Outcome != shop.OutcomeIgnored {
					t.Errorf("the count row: seen %d times, outcome %s; want %d, ignored", n.TimesSeen, n.Outcome, extra)
				}
			case string(n.Body) == fmt.Sprintf("n=%d&sign=s", kept) && n.OutTradeNo == "capped": // "other" has n=1 too
				first = &ns[i]
			case string(n.Body) == "n=1000&sign=s":
				paid = &ns[i]
			}
		}
		if rows["capped"] != shop.MaxMessagesPerOrder+2 || over != 1 || seen["capped"] != int64(shop.MaxMessagesPerOrder+extra+2) {
			t.Fatalf("order capped: %d rows (%d count rows), %d seen; want %d rows, 1 count row, %d seen",
				rows["capped"], over, seen["capped"], shop.MaxMessagesPerOrder+2, shop.MaxMessagesPerOrder+extra+2)
		}
		if first == nil || first.TimesSeen != 2 {
			t.Fatalf("the repeat of a kept message was not counted in its row: %+v", first)
		}
		if paid == nil || paid.Outcome != shop.OutcomeApplied {
			t.Fatalf("the payment beyond the cap was not kept whole: %+v", paid)
		}
		if rows["other"] != 1 {
			t.Fatalf("another order's message: %d rows", rows["other"])
		}
		if o, _ := db.Order(ctx, "capped"); o.Status != shop.StatusPaid {
			t.Fatalf("order capped is %s", o.Status)
		}
	})
}
