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

func stockOf(t *testing.T, db *store.DB, id int64) *int64 {
	t.Helper()
	g, err := db.Goods(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return g.Stock
}

func ptr(n int64) *int64 { return &n }

// Stock on each backend: concurrent checkouts reserve by compare-and-set
// and never oversell; a close gives the stock back in the transaction that
// closes; a payment after the close is kept and takes the stock again,
// below zero if need be; an admin's stock edit is a compare-and-set too.
func TestStockEachBackend(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		g := shop.Goods{Name: "限量键盘", Price: 1000, Stock: ptr(5), Shipping: true, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateGoods(ctx, &g); err != nil {
			t.Fatal(err)
		}
		rcv := shop.Receiver{Name: "张三", Phone: "13800138000", Address: "北京市朝阳区某某路 1 号"}
		const n = 40
		var wg sync.WaitGroup
		errs := make([]error, n)
		orders := make([]shop.Order, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				orders[i] = shop.Order{OutTradeNo: fmt.Sprintf("s%02d", i), GoodsID: g.ID, Quantity: 1, Shipping: true, Receiver: rcv,
					StockHeld: 1, CreatedAt: now, UpdatedAt: now, TimeExpire: now.Add(time.Minute)}
				errs[i] = db.CreateOrder(ctx, &orders[i])
			}()
		}
		wg.Wait()
		var made []shop.Order
		for i, err := range errs {
			switch {
			case err == nil:
				made = append(made, orders[i])
			case !errors.Is(err, shop.ErrOutOfStock):
				t.Errorf("checkout %d: %v", i, err)
			}
		}
		if len(made) != 5 {
			t.Fatalf("%d orders made of a stock of 5", len(made))
		}
		if s := stockOf(t, db, g.ID); s == nil || *s != 0 {
			t.Fatalf("stock after the checkouts: %v", s)
		}
		_, total, err := db.ListOrders(ctx, shop.OrderFilter{})
		if err != nil || total != 5 {
			t.Fatalf("%d orders stored: %v", total, err)
		}
		o, err := db.Order(ctx, made[0].OutTradeNo)
		if err != nil || o.Quantity != 1 || !o.Shipping || o.Receiver != rcv || o.StockHeld != 1 || o.Amount != 1000 {
			t.Fatalf("stored order %+v %v", o, err)
		}

		// Two for three: the amount is the total.
		g2 := shop.Goods{Name: "贴纸", Price: 250, Stock: ptr(3), CreatedAt: now, UpdatedAt: now}
		if err := db.CreateGoods(ctx, &g2); err != nil {
			t.Fatal(err)
		}
		o2 := shop.Order{OutTradeNo: "q1", GoodsID: g2.ID, Quantity: 3, StockHeld: 3, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateOrder(ctx, &o2); err != nil || o2.Amount != 750 {
			t.Fatalf("order of 3: %+v %v", o2, err)
		}
		o3 := shop.Order{OutTradeNo: "q2", GoodsID: g2.ID, Quantity: 1, StockHeld: 1, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateOrder(ctx, &o3); !errors.Is(err, shop.ErrOutOfStock) {
			t.Fatalf("order past the stock: %v", err)
		}
		// An order checked as unlimited when the stock is now counted is
		// refused.
		if err := db.CreateOrder(ctx, &shop.Order{OutTradeNo: "q3", GoodsID: g.ID, Quantity: 1, CreatedAt: now, UpdatedAt: now}); !errors.Is(err, shop.ErrOutOfStock) && !errors.Is(err, shop.ErrGoodsChanged) {
			t.Fatalf("order without a reservation of counted goods: %v", err)
		}

		closeOrder := func(no string) shop.Decision {
			d, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: now.Add(time.Hour), OutTradeNo: no, Verified: true,
				Body: []byte("close " + no)}, func(o *shop.Order, _ *shop.Refund) shop.Decision {
				return shop.Decision{Outcome: shop.OutcomeApplied, Close: o != nil && o.Status == shop.StatusUnpaid}
			})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		// Closes, several at once as the PostgreSQL batch takes them.
		var cw sync.WaitGroup
		for _, o := range made {
			cw.Add(1)
			go func() { defer cw.Done(); closeOrder(o.OutTradeNo) }()
		}
		cw.Wait()
		if s := stockOf(t, db, g.ID); s == nil || *s != 5 {
			t.Fatalf("stock after the closes: %v", s)
		}
		if d := closeOrder(made[0].OutTradeNo); d.Close {
			t.Fatal("closed twice")
		}
		if s := stockOf(t, db, g.ID); *s != 5 {
			t.Fatalf("stock after a repeated close: %d", *s)
		}
		if o, _ := db.Order(ctx, made[0].OutTradeNo); o.Status != shop.StatusClosed || o.StockHeld != 0 {
			t.Fatalf("closed order %+v", o)
		}

		// Sell out again, then a payment arrives for a closed order.
		for i := range 5 {
			o := shop.Order{OutTradeNo: fmt.Sprintf("t%d", i), GoodsID: g.ID, Quantity: 1, Shipping: true, Receiver: rcv, StockHeld: 1, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateOrder(ctx, &o); err != nil {
				t.Fatal(err)
			}
		}
		late := made[1].OutTradeNo
		d, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now.Add(2 * time.Hour), OutTradeNo: late, Verified: true,
			Body: []byte("late " + late), TradeStatus: "TRADE_SUCCESS"}, func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true, Review: "late",
				Pay: &shop.Payment{OutTradeNo: late, TradeNo: "T" + late, Amount: o.Amount, PaidAt: now, Via: shop.SourceNotify}}
		})
		if err != nil || d.Pay == nil {
			t.Fatalf("late payment: %+v %v", d, err)
		}
		if o, _ := db.Order(ctx, late); o.Status != shop.StatusPaid || !o.NeedsReview || o.StockHeld != 1 || o.TradeNo != "T"+late {
			t.Fatalf("order paid after close: %+v", o)
		}
		if s := stockOf(t, db, g.ID); *s != -1 {
			t.Fatalf("stock after a payment kept past the close: %d, want -1", *s)
		}
		if err := db.CreateOrder(ctx, &shop.Order{OutTradeNo: "t9", GoodsID: g.ID, Quantity: 1, Shipping: true, Receiver: rcv, StockHeld: 1, CreatedAt: now, UpdatedAt: now}); !errors.Is(err, shop.ErrOutOfStock) {
			t.Fatalf("checkout below zero: %v", err)
		}

		// The admin's stock edit: set from what the form showed, refused
		// when checkouts moved it meanwhile, kept when not edited.
		g.Name, g.Stock = "限量键盘 2", ptr(-1)
		if err := db.UpdateGoods(ctx, &g, &shop.StockEdit{Was: ptr(-1)}); err != nil {
			t.Fatalf("edit without a stock change: %v", err)
		}
		if s := stockOf(t, db, g.ID); *s != -1 {
			t.Fatalf("stock after an edit that kept it: %d", *s)
		}
		g.Stock = ptr(10)
		if err := db.UpdateGoods(ctx, &g, &shop.StockEdit{Was: ptr(3)}); !errors.Is(err, shop.ErrStockChanged) {
			t.Fatalf("edit from a stale stock: %v", err)
		}
		if err := db.UpdateGoods(ctx, &g, &shop.StockEdit{Was: ptr(-1)}); err != nil {
			t.Fatal(err)
		}
		if s := stockOf(t, db, g.ID); *s != 10 {
			t.Fatalf("stock after the edit: %d", *s)
		}
		g.Stock = nil
		if err := db.UpdateGoods(ctx, &g, &shop.StockEdit{Was: ptr(10)}); err != nil || stockOf(t, db, g.ID) != nil {
			t.Fatalf("unlimited: %v", err)
		}
	})
}

// Concurrent checkouts of several counted goods at once (on PostgreSQL
// they are made in batches): each goods item sells exactly its stock; an
// order whose insert fails after its reservation (a total over Alipay's
// largest amount) gives the reservation back; a duplicate order number is
// refused alone while the others in its batch are made.
func TestStockCheckoutsAtOnce(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		add := func(name string, price int64, stock int64) shop.Goods {
			g := shop.Goods{Name: name, Price: alipay.Amount(price), Stock: ptr(stock), CreatedAt: now, UpdatedAt: now}
			if err := db.CreateGoods(ctx, &g); err != nil {
				t.Fatal(err)
			}
			return g
		}
		a, b, dear, e := add("甲", 100, 10), add("乙", 200, 5), add("贵", 1_000_000_000, 100), add("丁", 300, 5)
		type try struct {
			no string
			g  shop.Goods
			q  int
		}
		var tries []try
		for i := range 30 {
			tries = append(tries, try{fmt.Sprintf("a%02d", i), a, 1}, try{fmt.Sprintf("b%02d", i), b, 1})
		}
		for i := range 5 {
			tries = append(tries, try{fmt.Sprintf("c%02d", i), dear, 11})
		}
		tries = append(tries, try{"dup", e, 1}, try{"dup", e, 1})
		errs := make([]error, len(tries))
		var wg sync.WaitGroup
		for i, tr := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := shop.Order{OutTradeNo: tr.no, GoodsID: tr.g.ID, Quantity: tr.q, StockHeld: tr.q, CreatedAt: now, UpdatedAt: now}
				errs[i] = db.CreateOrder(ctx, &o)
			}()
		}
		wg.Wait()
		made := map[int64]int{}
		dups := 0
		for i, err := range errs {
			switch {
			case err == nil:
				made[tries[i].g.ID]++
			case tries[i].no == "dup" && errors.Is(err, shop.ErrOrderExists):
				dups++
			case tries[i].g.ID == dear.ID && errors.Is(err, shop.ErrGoodsChanged):
			case errors.Is(err, shop.ErrOutOfStock) && tries[i].g.ID != dear.ID:
			default:
				t.Errorf("checkout %s: %v", tries[i].no, err)
			}
		}
		if made[a.ID] != 10 || made[b.ID] != 5 || made[dear.ID] != 0 || made[e.ID] != 1 || dups != 1 {
			t.Fatalf("made %v of stocks 10 and 5, none of the dear goods and one of the duplicate; %d duplicates refused (want 1)", made, dups)
		}
		if s := stockOf(t, db, e.ID); *s != 4 {
			t.Errorf("%s: stock %d after one order of 1 (a duplicate refused), want 4", e.Name, *s)
		}
		for _, g := range []shop.Goods{a, b} {
			if s := stockOf(t, db, g.ID); *s != 0 {
				t.Errorf("%s: stock %d left", g.Name, *s)
			}
		}
		if s := stockOf(t, db, dear.ID); *s != 100 {
			t.Errorf("the dear goods' stock is %d after refused orders, want 100", *s)
		}
		if _, total, err := db.ListOrders(ctx, shop.OrderFilter{}); err != nil || total != 16 {
			t.Fatalf("%d orders stored (%v), want 16", total, err)
		}
	})
}
