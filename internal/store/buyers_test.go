package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// The buyer user id of orders, on each backend: claimed by a logged-in
// buyer (once: a later claim does not move the order), or taken from the
// payment when the order has none; listed newest first.
func TestBuyerOrders(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		const alice, bob = "2088000000000001", "2088000000000002"
		g := goods(t, db, "商品", 100, false)
		for i, no := range []string{"b1", "b2", "b3"} {
			o := shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
			if err := db.CreateOrder(ctx, &o); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.ClaimOrder(ctx, "b1", alice); err != nil {
			t.Fatal(err)
		}
		if err := db.ClaimOrder(ctx, "b1", bob); err != nil {
			t.Fatal(err)
		}
		pay := func(no, payer string) {
			t.Helper()
			if _, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: now, OutTradeNo: no, Verified: true, Body: []byte(no)},
				func(o *shop.Order, _ *shop.Refund) shop.Decision {
					return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T" + no, Amount: o.Amount,
						BuyerUserID: payer, PaidAt: now, Via: "query"}}
				}); err != nil {
				t.Fatal(err)
			}
		}
		pay("b1", bob)   // made by alice, paid by bob: stays alice's
		pay("b3", alice) // made without login, paid by alice
		pay("b2", "")    // no buyer id given
		for _, c := range []struct {
			who  string
			want []string
		}{{alice, []string{"b3", "b1"}}, {bob, nil}, {"2088000000000009", nil}} {
			got, err := db.BuyerOrderNumbers(ctx, c.who, 10)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("orders of %s: %v %v, want %v", c.who, got, err, c.want)
			}
		}
		if got, _ := db.BuyerOrderNumbers(ctx, alice, 1); !slices.Equal(got, []string{"b3"}) {
			t.Errorf("limit 1: %v", got)
		}
		if o, err := db.Order(ctx, "b1"); err != nil || o.Status != shop.StatusPaid {
			t.Fatalf("b1: %+v %v", o, err)
		}
	})
}
