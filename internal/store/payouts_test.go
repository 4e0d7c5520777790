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

// A pending payout is read back; confirming it is a compare-and-set of its
// order, amount, payee and expiry that deletes it with the payout's insert,
// within what the order allows; a refused confirmation stores nothing;
// finishing is a compare-and-set from pending; the same confirmation at
// once from many goroutines stores one payout.
func TestPayouts(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		paidOrder(t, db, "q1", 1000, now)
		paidOrder(t, db, "q2", 1000, now)
		pending := func(key, no string, amount alipay.Amount, at time.Time) shop.PendingPayout {
			return shop.PendingPayout{Key: key, OutTradeNo: no, Amount: amount, PayeeType: alipay.IdentityLogonID, Payee: "buyer@sandbox.com",
				PayeeName: "沙箱买家", Reason: "补偿 " + key, CreatedAt: at, ExpiresAt: at.Add(shop.PendingPayoutTTL)}
		}
		add := func(p shop.PendingPayout) {
			t.Helper()
			if err := db.AddPendingPayout(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		confirm := func(p shop.PendingPayout, no string, amount alipay.Amount, at time.Time) (shop.Payout, error) {
			po := shop.Payout{OutTradeNo: no, OutBizNo: p.Key, Amount: amount, PayeeType: p.PayeeType, Payee: p.Payee, PayeeName: p.PayeeName,
				Reason: p.Reason, Status: shop.PayoutPending, CreatedAt: at, UpdatedAt: at}
			return po, db.ConfirmPayout(ctx, &po, at.Add(time.Minute), func(o *shop.Order, claimed alipay.Amount) error { return shop.PayoutAllowed(o, claimed, amount) })
		}
		add(pending("k-old", "q1", 100, now.Add(-time.Hour)))
		k1 := pending("k1", "q1", 600, now)
		add(k1)
		if _, err := db.PendingPayout(ctx, "k-old"); !errors.Is(err, shop.ErrPendingPayoutNotFound) {
			t.Fatalf("an expired pending payout was kept: %v", err)
		}
		if p, err := db.PendingPayout(ctx, "k1"); err != nil || p.Payee != k1.Payee || p.PayeeName != k1.PayeeName || p.Amount != 600 || !p.ExpiresAt.Equal(k1.ExpiresAt) {
			t.Fatalf("pending payout: %+v %v", p, err)
		}
		other := k1
		other.PayeeName = "张三"
		for _, c := range []struct {
			p      shop.PendingPayout
			no     string
			amount alipay.Amount
			at     time.Time
		}{
			{k1, "q2", 600, now}, {k1, "q1", 601, now}, {k1, "q1", 600, now.Add(shop.PendingPayoutTTL)}, {other, "q1", 600, now},
			{pending("k-never", "q1", 600, now), "q1", 600, now},
		} {
			if _, err := confirm(c.p, c.no, c.amount, c.at); !errors.Is(err, shop.ErrPendingPayoutNotFound) {
				t.Errorf("confirm %+v: %v", c, err)
			}
		}
		if ps, _ := db.OrderPayouts(ctx, "q1"); len(ps) != 0 {
			t.Fatalf("a refused confirmation stored a payout: %+v", ps)
		}
		p, err := confirm(k1, "q1", 600, now.Add(time.Minute))
		if err != nil || p.ID == 0 {
			t.Fatalf("confirm: %+v %v", p, err)
		}
		if _, err := confirm(k1, "q1", 600, now.Add(time.Minute)); !errors.Is(err, shop.ErrPayoutExists) {
			t.Fatalf("confirmed twice: %v", err)
		}
		// 4.00 left of 10.00: a pending 5.00 is refused by the order's rule.
		k2 := pending("k2", "q1", 500, now)
		add(k2)
		if _, err := confirm(k2, "q1", 500, now.Add(time.Minute)); err == nil || errors.Is(err, shop.ErrPendingPayoutNotFound) {
			t.Fatalf("a payout beyond the order: %v", err)
		}
		if _, err := db.PendingPayout(ctx, "k2"); err != nil {
			t.Fatalf("a refused confirmation used the key: %v", err)
		}
		if err := db.NotePayout(ctx, "k1", "timeout", now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.FinishPayout(ctx, "k1", shop.PayoutSucceeded, "20261204110070000000000000000001", "", now.Add(3*time.Minute)); !ok || err != nil {
			t.Fatalf("finish: %v %v", ok, err)
		}
		if ok, err := db.FinishPayout(ctx, "k1", shop.PayoutFailed, "", "late", now.Add(4*time.Minute)); ok || err != nil {
			t.Fatalf("finished twice: %v %v", ok, err)
		}
		got, err := db.Payout(ctx, "k1")
		if err != nil || got.Status != shop.PayoutSucceeded || got.AlipayOrderID == "" || got.Amount != 600 || got.OutTradeNo != "q1" ||
			got.PayeeName != "沙箱买家" || got.Reason != "补偿 k1" || !got.CreatedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("payout: %+v %v", got, err)
		}
		if _, err := db.Payout(ctx, "k-never"); !errors.Is(err, shop.ErrPayoutNotFound) {
			t.Fatalf("unknown payout: %v", err)
		}
		// One confirmation from many goroutines: one payout.
		k3 := pending("k3", "q2", 300, now)
		add(k3)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = confirm(k3, "q2", 300, now.Add(time.Minute))
			}()
		}
		wg.Wait()
		made := 0
		for _, err := range errs {
			switch {
			case err == nil:
				made++
			case errors.Is(err, shop.ErrPayoutExists), errors.Is(err, shop.ErrPendingPayoutNotFound):
			default:
				t.Fatal(fmt.Errorf("racing confirmation: %w", err))
			}
		}
		if ps, _ := db.OrderPayouts(ctx, "q2"); made != 1 || len(ps) != 1 {
			t.Fatalf("%d confirmations made %d payouts", made, len(ps))
		}
		// The export lists both, oldest first, bounded by time and count.
		all, err := db.ListPayouts(ctx, time.Time{}, time.Time{}, 10)
		if err != nil || len(all) != 2 || all[0].OutBizNo != "k1" || all[1].OutTradeNo != "q2" {
			t.Fatalf("list: %+v %v", all, err)
		}
		if ps, err := db.ListPayouts(ctx, time.Time{}, time.Time{}, 1); err != nil || len(ps) != 1 {
			t.Fatalf("list of at most 1: %+v %v", ps, err)
		}
		if ps, err := db.ListPayouts(ctx, now.Add(2*time.Minute), time.Time{}, 10); err != nil || len(ps) != 0 {
			t.Fatalf("list after both: %+v %v", ps, err)
		}
		if ps, err := db.ListPayouts(ctx, now, now.Add(2*time.Minute), 10); err != nil || len(ps) != 2 {
			t.Fatalf("list within: %+v %v", ps, err)
		}
	})
}
