// Package audit reads what a shop's store holds for a comparison with
// Alipay's (the sandbox's) side of the same trades: every order, and what
// the notification log records as applied. The load command and the fault
// suite check their invariants (nothing lost, nothing applied twice) on it.
package audit

import (
	"context"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// Orders lists every order of the store, page by page.
func Orders(ctx context.Context, db *store.DB) ([]shop.Order, error) {
	var orders []shop.Order
	for off := 0; ; off += 500 {
		page, total, err := db.ListOrders(ctx, shop.OrderFilter{Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		orders = append(orders, page...)
		if len(orders) >= total || len(page) == 0 {
			return orders, nil
		}
	}
}

// Applied is every state change the notification log records as applied.
type Applied struct {
	Pays      map[string]int       // payments applied, per out_trade_no
	FirstPaid map[string]time.Time // when the first of them was received
	Settles   map[string]int       // refunds settled, per out_request_no
	// How many of the payments and refund settlements came from each
	// source (shop.SourceNotify, shop.SourceReturn, shop.SourceQuery).
	PaysBy, SettlesBy map[string]int
}

// ReadApplied walks the whole notification log.
func ReadApplied(ctx context.Context, db *store.DB) (*Applied, error) {
	a := &Applied{Pays: map[string]int{}, FirstPaid: map[string]time.Time{}, Settles: map[string]int{},
		PaysBy: map[string]int{}, SettlesBy: map[string]int{}}
	for after := int64(0); ; {
		ns, err := db.Notifications(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(ns) == 0 {
			return a, nil
		}
		for _, n := range ns {
			after = n.ID
			if n.Outcome != shop.OutcomeApplied {
				continue
			}
			switch {
			case n.SettledRefund != "":
				a.Settles[n.SettledRefund]++
				a.SettlesBy[n.Source]++
			case alipay.TradeStatus(n.TradeStatus).Paid():
				a.Pays[n.OutTradeNo]++
				if _, ok := a.FirstPaid[n.OutTradeNo]; !ok {
					a.FirstPaid[n.OutTradeNo] = n.ReceivedAt
				}
				a.PaysBy[n.Source]++
			}
		}
	}
}
