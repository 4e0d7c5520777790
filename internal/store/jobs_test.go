package store_test

import (
	"context"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// Unpaid orders get one reconciliation job each, due after the first-check
// delay or at expiry plus grace, whichever is sooner; at start-up the jobs
// of unpaid orders not yet expired become due at once.
func TestOrderJobsScheduleAndStartup(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		g := goods(t, db, "课程", 100, false)
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		mk := func(no string, created, expire time.Time) {
			o := shop.Order{OutTradeNo: no, GoodsID: g.ID, Status: shop.StatusUnpaid, CreatedAt: created, UpdatedAt: created, TimeExpire: expire}
			if err := db.CreateOrder(ctx, &o); err != nil {
				t.Fatal(err)
			}
		}
		mk("long", now, now.Add(time.Hour))                            // first check after 5m
		mk("short", now, now.Add(2*time.Minute))                       // expiry+grace (3m) comes first
		mk("expired", now.Add(-2*time.Hour), now.Add(-90*time.Minute)) // long expired
		mk("noexpire", now.Add(-48*time.Hour), time.Time{})            // made before time_expire existed
		paid := shop.Order{OutTradeNo: "paid", GoodsID: g.ID, Status: shop.StatusUnpaid, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateOrder(ctx, &paid); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: now, OutTradeNo: "paid", Verified: true},
			func(o *shop.Order, _ *shop.Refund) shop.Decision {
				return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: "paid", TradeNo: "T", Amount: o.Amount, PaidAt: now, Via: "query"}}
			}); err != nil {
			t.Fatal(err)
		}
		n, err := db.ScheduleOrderChecks(ctx, 5*time.Minute, time.Minute, now)
		if err != nil || n != 4 {
			t.Fatalf("ScheduleOrderChecks: %d, %v", n, err)
		}
		if n, _ := db.ScheduleOrderChecks(ctx, 5*time.Minute, time.Minute, now); n != 0 {
			t.Fatalf("second sweep created %d jobs", n)
		}
		due := func() map[string]time.Time {
			js, err := db.Jobs(ctx, "order", false)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]time.Time{}
			for _, j := range js {
				m[j.Ref] = j.RunAt
			}
			return m
		}
		want := map[string]time.Time{"long": now.Add(5 * time.Minute), "short": now.Add(3 * time.Minute),
			"expired": now.Add(-115 * time.Minute), "noexpire": now.Add(-48*time.Hour + 5*time.Minute)}
		got := due()
		for ref, at := range want {
			if !got[ref].Equal(at) {
				t.Errorf("job %s due %v, want %v", ref, got[ref], at)
			}
		}
		if _, ok := got["paid"]; ok {
			t.Error("a paid order got a job")
		}
		if n, err := db.CheckUnpaidNow(ctx, now, now); err != nil || n != 0 {
			t.Fatalf("CheckUnpaidNow of orders made before they were: %d, %v", n, err)
		}
		n, err = db.CheckUnpaidNow(ctx, now, now.Add(time.Millisecond))
		if err != nil || n != 2 {
			t.Fatalf("CheckUnpaidNow: %d, %v (want long and short)", n, err)
		}
		got = due()
		for ref, at := range map[string]time.Time{"long": now, "short": now, "expired": want["expired"], "noexpire": want["noexpire"]} {
			if !got[ref].Equal(at) {
				t.Errorf("after start-up: job %s due %v, want %v", ref, got[ref], at)
			}
		}
	})
}

func TestPruneJobs(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		for _, ref := range []string{"old", "recent", "pending"} {
			if err := db.EnqueueJob(ctx, "bill", ref, now, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			ref string
			at  time.Time
		}{{"old", now.Add(-40 * 24 * time.Hour)}, {"recent", now.Add(-time.Hour)}} {
			ref, at := c.ref, c.at
			j, err := db.ClaimJob(ctx, "", "tok-"+ref, now, time.Minute)
			if err != nil || j == nil || j.Ref != ref {
				t.Fatal(j, err)
			}
			if ok, err := db.FinishJob(ctx, j.ID, "tok-"+ref, at); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		n, err := db.PruneJobs(ctx, now.Add(-30*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		js, _ := db.Jobs(ctx, "", true)
		if len(js) != 2 || js[0].Ref == "old" || js[1].Ref == "old" {
			t.Fatalf("left: %+v", js)
		}
	})
}
