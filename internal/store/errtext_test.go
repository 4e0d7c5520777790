package store_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// Error text kept with a refund or a job is bounded; the bound must never
// split a character, or PostgreSQL refuses the whole write (invalid UTF-8)
// and a refund Alipay refused stays pending.
func TestLongErrorTextKeepsUTF8(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		// 499 ASCII bytes then 3-byte characters: byte 500 falls inside "退".
		long := strings.Repeat("a", 499) + strings.Repeat("退", 10)

		paidOrder(t, db, "u1", 1000, now)
		r := shop.Refund{OutTradeNo: "u1", OutRequestNo: "u1-1", Amount: 100, CreatedAt: now}
		if err := db.CreateRefund(ctx, &r, now, allowRefund(&r)); err != nil {
			t.Fatal(err)
		}
		if err := db.NoteRefund(ctx, "u1-1", long, now); err != nil {
			t.Fatalf("note refund: %v", err)
		}
		if ok, err := db.FailRefund(ctx, "u1-1", long, now); !ok || err != nil {
			t.Fatalf("fail refund: %v %v", ok, err)
		}
		got, err := db.Refund(ctx, "u1-1")
		if err != nil || got.Status != shop.RefundFailed || !utf8.ValidString(got.LastError) || !strings.HasPrefix(long, got.LastError) || len(got.LastError) < 490 {
			t.Fatalf("refund %+v %v", got, err)
		}

		if err := db.EnqueueJob(ctx, "bill", "2026-11-24", now, now); err != nil {
			t.Fatal(err)
		}
		j, err := db.ClaimJob(ctx, "", "w1", now, time.Minute)
		if err != nil || j == nil {
			t.Fatalf("claim: %+v %v", j, err)
		}
		if ok, err := db.RetryJob(ctx, j.ID, "w1", now.Add(time.Minute), long, now); !ok || err != nil {
			t.Fatalf("retry job: %v %v", ok, err)
		}
		js, err := db.Jobs(ctx, "bill", false)
		if err != nil || len(js) != 1 || !utf8.ValidString(js[0].LastErr) || !strings.HasPrefix(long, js[0].LastErr) {
			t.Fatalf("jobs %+v %v", js, err)
		}
	})
}
