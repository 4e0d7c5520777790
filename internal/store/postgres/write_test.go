package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"alishop/internal/shop"
	"alishop/internal/store/pgtest"
	"alishop/internal/store/sqlstore"
)

// A batch's changes go to the server with its COMMIT in one round trip, so
// the server checks each compare-and-set: when a payment or a close
// changes fewer rows than it must, the statement fails, the COMMIT after
// it is skipped and nothing of the batch is kept. When every one holds,
// all of it is committed.
func TestBatchCommitsOnlyWhenEveryCompareAndSetHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, pgtest.URL(t), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	g := shop.Goods{Name: "测试", Price: 100, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	order := func(no string) shop.Order {
		o := shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	a, b, c := order("A1"), order("B1"), order("C1")
	if _, err := db.pool.ExecContext(ctx, "UPDATE orders SET status = 'paid' WHERE id = $1", b.ID); err != nil {
		t.Fatal(err)
	}

	// run sends one batch: payments of pay, a close of each of close, and a
	// message for each, as receiveOn would after BEGIN.
	run := func(pay, close []shop.Order) error {
		conn, err := db.pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			if _, err := pc.Exec(ctx, "BEGIN"); err != nil {
				return err
			}
			ch := &batchChanges{b: &pgx.Batch{}}
			record := func(o shop.Order) {
				m := &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now, Method: "POST", Verified: true,
					OutTradeNo: o.OutTradeNo, Body: []byte("out_trade_no=" + o.OutTradeNo + "&n=" + now.String())}
				if err := ch.Record(m, shop.Decision{Outcome: shop.OutcomeApplied}); err != nil {
					t.Fatal(err)
				}
			}
			for _, o := range pay {
				if err := ch.Pay(&o, &shop.Payment{OutTradeNo: o.OutTradeNo, TradeNo: "T" + o.OutTradeNo, PaidAt: now, Via: "notify"}, now); err != nil {
					t.Fatal(err)
				}
				record(o)
			}
			for _, o := range close {
				if err := ch.Close(&o, now); err != nil {
					t.Fatal(err)
				}
				record(o)
			}
			err := ch.send(ctx, pc)
			if err != nil {
				if _, rerr := pc.Exec(ctx, "ROLLBACK"); rerr != nil {
					t.Fatal(rerr)
				}
			}
			return err
		})
	}
	state := func() (statuses string, messages int) {
		for _, o := range []shop.Order{a, b, c} {
			got, err := db.Order(ctx, o.OutTradeNo)
			if err != nil {
				t.Fatal(err)
			}
			statuses += string(got.Status) + " "
		}
		if err := db.pool.QueryRowContext(ctx, "SELECT COUNT(*) FROM notifications").Scan(&messages); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(statuses), messages
	}

	if err := run([]shop.Order{a, b}, nil); err == nil || !strings.Contains(err.Error(), "pay orders: 1 of 2 rows changed") {
		t.Fatalf("paying a and the paid b: %v, want the server's refusal (1 of 2 rows changed)", err)
	}
	if s, n := state(); s != "unpaid paid unpaid" || n != 0 {
		t.Fatalf("after the refused batch: orders %s, %d messages; want unpaid paid unpaid, 0", s, n)
	}
	if err := run([]shop.Order{a}, []shop.Order{b}); err == nil || !strings.Contains(err.Error(), "close order B1") {
		t.Fatalf("paying a and closing the paid b: %v, want the close refused", err)
	}
	if s, n := state(); s != "unpaid paid unpaid" || n != 0 {
		t.Fatalf("after the refused close: orders %s, %d messages; want unpaid paid unpaid, 0", s, n)
	}
	if err := run([]shop.Order{a}, []shop.Order{c}); err != nil {
		t.Fatalf("paying a and closing c: %v", err)
	}
	if s, n := state(); s != "paid paid closed" || n != 2 {
		t.Fatalf("after the batch: orders %s, %d messages; want paid paid closed, 2", s, n)
	}
}
