package store_test

import (
	"context"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// A refund the shop gave up as failed that Alipay later reports as made
// (decided by shop.RefundMade, applied here): it
// counts when it fits in what is left of the payment; when another refund
// has taken that room in between, the report is recorded and acknowledged,
// the order is flagged for a person, and nothing is added, so a repeat of
// the report (or any later refund notification) is not refused forever.
func TestFailedRefundReportedMade(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		paidOrder(t, db, "f1", 1000, now)
		mk := func(no string, amount int64, fail bool) {
			t.Helper()
			r := shop.Refund{OutTradeNo: "f1", OutRequestNo: no, Amount: alipay.Amount(amount), CreatedAt: now}
			if err := db.CreateRefund(ctx, &r, now.Add(time.Minute), allowRefund(&r)); err != nil {
				t.Fatalf("refund %s: %v", no, err)
			}
			if fail {
				if ok, err := db.FailRefund(ctx, no, "ACQ.SYSTEM_ERROR", now); !ok || err != nil {
					t.Fatalf("fail %s: %v %v", no, ok, err)
				}
			}
		}
		notify := func(no string) shop.Decision {
			t.Helper()
			d, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now, OutTradeNo: "f1", OutRequestNo: no, Verified: true},
				func(o *shop.Order, r *shop.Refund) shop.Decision {
					d := shop.RefundMade(o, r, no)
					d.Ack = true
					return d
				})
			if err != nil {
				t.Fatalf("refund notification of %s: %v", no, err)
			}
			return d
		}
		status := func(no string) shop.RefundStatus {
			r, err := db.Refund(ctx, no)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}

		mk("A", 600, true)  // given up as failed
		mk("B", 600, false) // the room A left, taken by B
		if d, err := settleRefund(t, db, "f1", "B", now); d.Outcome != shop.OutcomeApplied || err != nil {
			t.Fatalf("settle B: %+v %v", d, err)
		}
		mk("C", 300, true) // failed, and fits in what is left

		if d := notify("C"); d.Outcome != shop.OutcomeApplied || !d.Ack {
			t.Fatalf("C reported made: %+v", d)
		}
		for i := 0; i < 2; i++ { // A reported made, and reported again
			d := notify("A")
			if d.Outcome != shop.OutcomeReview || !d.Ack || d.Review == "" {
				t.Fatalf("A reported made (%d): %+v; want review, acknowledged", i, d)
			}
		}
		if d := notify("B"); d.Outcome != shop.OutcomeDuplicate || !d.Ack {
			t.Fatalf("B reported again: %+v", d)
		}
		o, err := db.Order(ctx, "f1")
		if err != nil || o.RefundedFen != 900 || o.Status != shop.StatusPartiallyRefunded || !o.NeedsReview {
			t.Fatalf("order %+v %v; want 9.00 refunded (B and C), flagged", o, err)
		}
		if s := status("A"); s != shop.RefundFailed {
			t.Errorf("A is %s, want still failed (its amount was not added)", s)
		}
		if s := status("C"); s != shop.RefundSucceeded {
			t.Errorf("C is %s, want succeeded", s)
		}
	})
}
