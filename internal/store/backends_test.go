package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

func paidOrder(t *testing.T, db *store.DB, no string, price int64, at time.Time) shop.Order {
	t.Helper()
	ctx := context.Background()
	g := goods(t, db, "商品"+no, price, false)
	o := shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: at, UpdatedAt: at}
	if err := db.CreateOrder(ctx, &o); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: at, OutTradeNo: no, Verified: true, Body: []byte{0, 1, 0xff}},
		func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T" + no, Amount: o.Amount, PaidAt: at, Via: "query"}}
		}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Order(ctx, no)
	if err != nil || got.Status != shop.StatusPaid {
		t.Fatalf("order %s: %+v %v", no, got, err)
	}
	return got
}

// allowRefund is the shop's rule for a new refund, as the shop passes it.
func allowRefund(r *shop.Refund) func(*shop.Order, alipay.Amount) error {
	return func(o *shop.Order, claimed alipay.Amount) error { return shop.RefundAllowed(o, claimed, r.Amount) }
}

// settleRefund records a query answer saying refund no of order outTradeNo
// was made, with the shop's decision for it.
func settleRefund(t *testing.T, db *store.DB, outTradeNo, no string, at time.Time) (shop.Decision, error) {
	t.Helper()
	in := &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: at, OutTradeNo: outTradeNo, OutRequestNo: no, Verified: true}
	return db.Receive(context.Background(), in, func(o *shop.Order, r *shop.Refund) shop.Decision {
		if o == nil {
			return shop.Decision{Outcome: shop.OutcomeUnknownOrder}
		}
		return shop.RefundMade(o, r, no)
	})
}

// Every other statement of the store, on each backend: goods, refunds,
// bills, settings, sessions and the stored messages.
func TestStatementsEachBackend(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		g := goods(t, db, "旧名", 100, false)
		g.Name, g.Price, g.Hidden = "新名", 200, true
		if err := db.UpdateGoods(ctx, &g, nil); err != nil {
			t.Fatal(err)
		}
		if gs, _ := db.ListGoods(ctx, false); len(gs) != 0 {
			t.Fatalf("hidden goods listed: %+v", gs)
		}
		if gs, _ := db.ListGoods(ctx, true); len(gs) != 1 || gs[0].Name != "新名" || gs[0].Price != 200 || !gs[0].Hidden {
			t.Fatalf("goods %+v", gs)
		}
		if err := db.UpdateGoods(ctx, &shop.Goods{ID: 999, Name: "x", Price: 1}, nil); err != shop.ErrGoodsNotFound {
			t.Fatalf("update missing goods: %v", err)
		}

		o := paidOrder(t, db, "r1", 1000, now)
		ns, err := db.Notifications(ctx, 0, 10)
		if err != nil || len(ns) != 1 || string(ns[0].Body) != "\x00\x01\xff" || !ns[0].Verified || ns[0].OutTradeNo != "r1" {
			t.Fatalf("notifications %+v %v", ns, err)
		}
		if os, n, err := db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid}); err != nil || n != 1 || os[0].TradeNo != "Tr1" {
			t.Fatalf("paid orders %+v %d %v", os, n, err)
		}
		if os, n, _ := db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusUnpaid}); n != 0 || len(os) != 0 {
			t.Fatalf("unpaid orders %+v", os)
		}

		// Refunds: within what was paid, settled once, failed, noted.
		r1 := shop.Refund{OutTradeNo: "r1", OutRequestNo: "r1-1", Amount: 600, Reason: "坏了", CreatedAt: now}
		if err := db.CreateRefund(ctx, &r1, now.Add(time.Minute), allowRefund(&r1)); err != nil || r1.ID == 0 || r1.OrderID != o.ID {
			t.Fatalf("refund %+v %v", r1, err)
		}
		over := shop.Refund{OutTradeNo: "r1", OutRequestNo: "r1-2", Amount: 500, CreatedAt: now}
		if err := db.CreateRefund(ctx, &over, now, allowRefund(&over)); shop.ErrorCode(err) != shop.EINVALID {
			t.Fatalf("refund past the amount paid: %v", err)
		}
		r2 := shop.Refund{OutTradeNo: "r1", OutRequestNo: "r1-3", Amount: 400, CreatedAt: now}
		if err := db.CreateRefund(ctx, &r2, now, allowRefund(&r2)); err != nil {
			t.Fatal(err)
		}
		if d, err := settleRefund(t, db, "r1", "r1-1", now); d.Outcome != shop.OutcomeApplied || err != nil {
			t.Fatalf("settle: %+v %v", d, err)
		}
		if d, err := settleRefund(t, db, "r1", "r1-1", now); d.Outcome != shop.OutcomeDuplicate || err != nil {
			t.Fatalf("settle again: %+v %v", d, err)
		}
		settled := map[string]int{}
		if ns, err := db.Notifications(ctx, 0, 10); err == nil {
			for _, n := range ns {
				settled[n.SettledRefund]++
			}
		}
		if settled["r1-1"] != 1 || len(settled) != 2 {
			t.Fatalf("messages by the refund they settled: %v, want r1-1 once", settled)
		}
		if err := db.NoteRefund(ctx, "r1-3", "ACQ.SYSTEM_ERROR", now); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.FailRefund(ctx, "r1-3", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", now); !ok || err != nil {
			t.Fatalf("fail: %v %v", ok, err)
		}
		rs, err := db.OrderRefunds(ctx, "r1")
		if err != nil || len(rs) != 2 || rs[0].Status != shop.RefundSucceeded || rs[1].Status != shop.RefundFailed || rs[1].LastError != "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" {
			t.Fatalf("refunds %+v %v", rs, err)
		}
		if got, _ := db.Order(ctx, "r1"); got.Status != shop.StatusPartiallyRefunded || got.RefundedFen != 600 {
			t.Fatalf("order after refund %+v", got)
		}
		if r, err := db.Refund(ctx, "r1-1"); err != nil || r.Amount != 600 || r.SettledAt.IsZero() {
			t.Fatalf("refund %+v %v", r, err)
		}
		if _, err := db.Refund(ctx, "nope"); err != shop.ErrRefundNotFound {
			t.Fatalf("missing refund: %v", err)
		}
		if rs, _ := db.RefundsSettledBetween(ctx, now.Add(-time.Hour), now.Add(time.Hour)); len(rs) != 1 || rs[0].OutRequestNo != "r1-1" {
			t.Fatalf("settled refunds %+v", rs)
		}
		if js, _ := db.Jobs(ctx, "refund", false); len(js) != 2 {
			t.Fatalf("refund jobs %+v", js)
		}

		// Bills: a day's check replaces the one before.
		if os, err := db.OrdersPaidBetween(ctx, now.Add(-time.Hour), now.Add(time.Hour)); err != nil || len(os) != 1 {
			t.Fatalf("orders paid %+v %v", os, err)
		}
		for i, n := range []int{2, 1} {
			var ms []shop.BillMismatch
			for j := 0; j < n; j++ {
				ms = append(ms, shop.BillMismatch{Kind: "amount", OutTradeNo: fmt.Sprint("o", j), BillAmount: alipay.Amount(j + 1), LocalAmount: 7})
			}
			if err := db.SaveBillCheck(ctx, shop.BillCheck{BillDate: "2026-11-24", CheckedAt: now.Add(time.Duration(i) * time.Hour), Rows: 3, Detail: "d"}, ms); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := db.BillChecks(ctx, 10)
		if err != nil || len(cs) != 1 || cs[0].Mismatches != 1 || !cs[0].CheckedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("bill checks %+v %v", cs, err)
		}
		if ms, err := db.BillMismatches(ctx, ""); err != nil || len(ms) != 1 || ms[0].LocalAmount != 7 {
			t.Fatalf("mismatches %+v %v", ms, err)
		}

		// Settings and sessions.
		if ok, err := db.AddSettingIfMissing(ctx, "k", "1"); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, _ := db.AddSettingIfMissing(ctx, "k", "2"); ok {
			t.Fatal("added a setting twice")
		}
		if err := db.SetSetting(ctx, "k", "3"); err != nil {
			t.Fatal(err)
		}
		if v, err := db.Setting(ctx, "k"); v != "3" || err != nil {
			t.Fatal(v, err)
		}
		if _, err := db.Setting(ctx, "none"); err != store.ErrNoSetting {
			t.Fatal(err)
		}
		if err := db.CreateSession(ctx, "tok", time.Hour); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.ValidSession(ctx, "tok"); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := db.DeleteAllSessions(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.ValidSession(ctx, "tok"); ok {
			t.Fatal("session survived")
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// Two handles on one database, as two shop processes have: an order number
// is taken once, a payment applied once, a job claimed once, and refunds
// never pass what was paid, whichever handle acts.
func TestTwoHandlesOneDatabase(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, a *store.DB, src source) {
		ctx := context.Background()
		b, err := store.Open(ctx, src.dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Fresh() {
			t.Fatal("the second handle found the database fresh")
		}
		dbs := []*store.DB{a, b}
		g := goods(t, a, "课程", 1000, false)
		now := time.Now()

		// Order numbers: each taken by exactly one handle.
		const orders = 10
		var mu sync.Mutex
		created := map[string]int{}
		var wg sync.WaitGroup
		for i := 0; i < 2*orders; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := shop.Order{OutTradeNo: fmt.Sprint("two", i/2), GoodsID: g.ID, CreatedAt: now, UpdatedAt: now}
				err := dbs[i%2].CreateOrder(ctx, &o)
				switch {
				case err == nil:
					mu.Lock()
					created[o.OutTradeNo]++
					mu.Unlock()
				case shop.ErrorCode(err) != shop.ECONFLICT:
					t.Errorf("create %s: %v", o.OutTradeNo, err)
				}
			}()
		}
		wg.Wait()
		for i := 0; i < orders; i++ {
			if n := created[fmt.Sprint("two", i)]; n != 1 {
				t.Errorf("order two%d created %d times", i, n)
			}
		}

		// Payments: every order notified 3 times through each handle.
		applied := map[string]int{}
		for i := 0; i < orders; i++ {
			for k := 0; k < 6; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					no := fmt.Sprint("two", i)
					d, err := dbs[k%2].Receive(ctx, &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now, OutTradeNo: no, Verified: true, Body: []byte("x")},
						func(o *shop.Order, _ *shop.Refund) shop.Decision {
							if o.Status != shop.StatusUnpaid {
								return shop.Decision{Outcome: shop.OutcomeDuplicate, Ack: true}
							}
							return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true, Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T", Amount: o.Amount, PaidAt: now, Via: "notify"}}
						})
					if err != nil {
						t.Errorf("receive %s: %v", no, err)
						return
					}
					if d.Outcome == shop.OutcomeApplied {
						mu.Lock()
						applied[no]++
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		for i := 0; i < orders; i++ {
			if n := applied[fmt.Sprint("two", i)]; n != 1 {
				t.Errorf("payment of two%d applied %d times", i, n)
			}
		}

		// Refunds: 4 refunds of 300 fen of a 1000 fen order, raced: at
		// most 3 are accepted.
		accepted := 0
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := shop.Refund{OutTradeNo: "two0", OutRequestNo: fmt.Sprint("rr", i), Amount: 300, CreatedAt: now}
				err := dbs[i%2].CreateRefund(ctx, &r, now, allowRefund(&r))
				switch {
				case err == nil:
					mu.Lock()
					accepted++
					mu.Unlock()
				case shop.ErrorCode(err) != shop.EINVALID:
					t.Errorf("refund: %v", err)
				}
			}()
		}
		wg.Wait()
		if accepted != 3 {
			t.Errorf("%d refunds of 300 accepted on an order of 1000, want 3", accepted)
		}

		// Jobs: claimed by exactly one handle each.
		const jobs = 30
		for i := 0; i < jobs; i++ {
			if err := a.EnqueueJob(ctx, "bill", fmt.Sprint("day", i), now.Add(-time.Minute), now); err != nil {
				t.Fatal(err)
			}
		}
		claimed := map[string]int{}
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := dbs[w%2]
				for {
					j, err := db.ClaimJob(ctx, "", fmt.Sprint("w", w), now, time.Hour)
					if err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					if j == nil {
						return
					}
					if j.Kind != "bill" {
						continue
					}
					mu.Lock()
					claimed[j.Ref]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for i := 0; i < jobs; i++ {
			if n := claimed[fmt.Sprint("day", i)]; n != 1 {
				t.Errorf("job day%d claimed %d times", i, n)
			}
		}
	})
}

// A bad PostgreSQL URL is refused with one line that names the problem and
// never shows the password.
func TestBadPostgresURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ url, want string }{
		{"postgres://u:s3cret@127.0.0.1:5432/db?sslmode=sometimes", "sslmode"},
		{"postgres://u:s3cret@/db", "no host"},
		{"postgres://u:s3cret@127.0.0.1:5432", "no database"},
		{"postgres://u:s3cret@127.0.0.1:notaport/db", "port"},
		{"postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=5", "connect"},
	} {
		db, err := store.Open(ctx, c.url, store.Options{})
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", c.url)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q: want one line naming %q, without the password", strings.ReplaceAll(c.url, "s3cret", "…"), msg, c.want)
		}
	}
}

// A password given as the URL's password parameter (which pgx and libpq
// accept like the one in the user part) is not shown either.
func TestBadPostgresURLQueryPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ url, want string }{
		{"postgres://u@127.0.0.1:5432/db?password=s3cret&sslmode=sometimes", "sslmode"},
		{"postgres://u@127.0.0.1:1/db?password=s3cret&connect_timeout=5", "connect"},
		{"postgres://u@127.0.0.1:1/db?sslpassword=s3cret&connect_timeout=5", "connect"},
		{"postgres://u@/db?password=s3cret", "no host"},
	} {
		db, err := store.Open(ctx, c.url, store.Options{})
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", c.url)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "s3cret") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q: want it naming %q, without the password", strings.ReplaceAll(c.url, "s3cret", "…"), msg, c.want)
		}
	}
}
