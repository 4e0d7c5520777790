package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"alishop/internal/jobs"
	"alishop/internal/shop"
)

var _ shop.FulfilStore = (*DB)(nil)

// paidOrder is the compare-and-set's condition that the payment still
// allows a fulfilment change (a full refund or a close ends it).
const paidOrder = "status IN ('paid', 'partially_refunded')"

// Fulfil implements shop.FulfilStore: in one transaction it reads the order
// (locked), lets decide choose, moves the order from t.From to t.To by
// compare-and-set, records the event and schedules the completion job.
func (db *DB) Fulfil(ctx context.Context, outTradeNo string, decide func(o shop.Order) (shop.Transition, error)) (shop.Order, shop.Transition, error) {
	var o shop.Order
	var t shop.Transition
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		if o, err = db.orderTx(ctx, tx, outTradeNo); err != nil {
			return err
		}
		if t, err = decide(o); err != nil || t.Repeat {
			return err
		}
		at := t.Event.At.UnixMilli()
		var res sql.Result
		switch t.To {
		case shop.FulfilShipped:
			res, err = tx.ExecContext(ctx, `UPDATE orders SET fulfilment = 'shipped', carrier = $1, tracking_no = $2, shipped_at = $3, updated_at = $3
				WHERE id = $4 AND fulfilment = $5 AND shipping AND `+paidOrder, t.Carrier, t.TrackingNo, at, o.ID, string(t.From))
		case shop.FulfilCompleted:
			res, err = tx.ExecContext(ctx, `UPDATE orders SET fulfilment = 'completed', completed_at = $1, updated_at = $1
				WHERE id = $2 AND fulfilment = $3 AND `+paidOrder, at, o.ID, string(t.From))
		default:
			return fmt.Errorf("store: fulfil order %s: no change to %q", outTradeNo, t.To)
		}
		if err := changedOne(res, err, "fulfil order "+outTradeNo); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_events (order_id, kind, actor, at, detail) VALUES ($1, $2, $3, $4, $5)`,
			o.ID, string(t.Event.Kind), string(t.Event.Actor), at, clip(t.Event.Detail, maxErrorText)); err != nil {
			return fmt.Errorf("store: record event of order %s: %w", outTradeNo, err)
		}
		if !t.CompleteAt.IsZero() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
				ON CONFLICT (kind, ref) DO UPDATE SET run_at = excluded.run_at, done_at = NULL, updated_at = excluded.updated_at`,
				jobs.KindComplete, outTradeNo, t.CompleteAt.UnixMilli(), at); err != nil {
				return fmt.Errorf("store: schedule completion of order %s: %w", outTradeNo, err)
			}
		}
		o, err = ScanOrder(tx.QueryRow(ctx, selectOrderSQL, outTradeNo))
		return err
	})
	if err != nil {
		return shop.Order{}, shop.Transition{}, err
	}
	return o, t, nil
}

// OrderEvents implements shop.FulfilStore.
func (db *DB) OrderEvents(ctx context.Context, outTradeNo string) ([]shop.OrderEvent, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT e.kind, e.actor, e.at, e.detail FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.out_trade_no = $1 ORDER BY e.at, e.id`, outTradeNo)
	if err != nil {
		return nil, fmt.Errorf("store: order events: %w", err)
	}
	defer rows.Close()
	var out []shop.OrderEvent
	for rows.Next() {
		var e shop.OrderEvent
		var kind, actor string
		var at int64
		if err := rows.Scan(&kind, &actor, &at, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: order events: %w", err)
		}
		e.OutTradeNo, e.Kind, e.Actor, e.At = outTradeNo, shop.EventKind(kind), shop.Actor(actor), time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ScheduleCompletions gives every shipped order that has no completion job
// one, due after shipped_at plus after; it returns how many it created. A
// shipment schedules its job in its own transaction, so this only finds
// orders whose job was pruned or lost.
func (db *DB) ScheduleCompletions(ctx context.Context, after time.Duration, now time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at)
			SELECT $1, o.out_trade_no, o.shipped_at + $2, $3, $3 FROM orders o
			WHERE o.fulfilment = 'shipped' AND o.shipped_at IS NOT NULL AND `+paidOrder+`
				AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = $1 AND j.ref = o.out_trade_no)
			ON CONFLICT (kind, ref) DO NOTHING`,
			jobs.KindComplete, after.Milliseconds(), now.UnixMilli())
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: schedule completions: %w", err)
	}
	return int(n), nil
}

// ExportOrders implements shop.Reports: the orders f selects with an id
// above afterID, by id, at most limit.
func (db *DB) ExportOrders(ctx context.Context, f shop.OrderFilter, afterID int64, limit int) ([]shop.Order, error) {
	where, args := orderWhere(f, true)
	if where == "" {
		where = " WHERE "
	} else {
		where += " AND "
	}
	n := len(args)
	q := fmt.Sprintf("SELECT %s FROM orders%sid > $%d ORDER BY id LIMIT $%d", orderColumns, where, n+1, n+2)
	orders, err := db.orders(ctx, q, append(args, afterID, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: export orders: %w", err)
	}
	return orders, nil
}

// CountStages implements shop.Reports.
func (db *DB) CountStages(ctx context.Context, f shop.OrderFilter) (map[shop.Stage]int, error) {
	f.Status, f.Stage = "", ""
	where, args := orderWhere(f, false)
	out := map[shop.Stage]int{}
	for _, st := range shop.FulfilStages() {
		w := where
		if w == "" {
			w = " WHERE "
		} else {
			w += " AND "
		}
		var n int
		if err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders"+w+stageCond(st), args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count orders: %w", err)
		}
		out[st] = n
	}
	return out, nil
}

// stageCond is the condition selecting the paid orders in stage st.
func stageCond(st shop.Stage) string {
	switch st {
	case shop.StageToShip:
		return "(" + paidOrder + " AND shipping AND fulfilment = '')"
	case shop.StageShipped:
		return "(" + paidOrder + " AND fulfilment = 'shipped')"
	case shop.StageCompleted:
		return "(" + paidOrder + " AND (fulfilment = 'completed' OR NOT shipping))"
	}
	return "FALSE"
}
