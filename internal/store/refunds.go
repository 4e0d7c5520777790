package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

var _ shop.RefundStore = (*DB)(nil)

const refundColumns = `r.id, r.order_id, o.out_trade_no, r.out_request_no, r.amount_fen, r.reason, r.status, r.last_error,
	r.created_at, r.updated_at, r.settled_at`

func scanRefund(row interface{ Scan(...any) error }) (shop.Refund, error) {
	var r shop.Refund
	var amount, created, updated int64
	var settled sql.NullInt64
	var status string
	err := row.Scan(&r.ID, &r.OrderID, &r.OutTradeNo, &r.OutRequestNo, &amount, &r.Reason, &status, &r.LastError, &created, &updated, &settled)
	r.Amount, r.Status = alipay.Amount(amount), shop.RefundStatus(status)
	r.CreatedAt, r.UpdatedAt, r.SettledAt = time.UnixMilli(created), time.UnixMilli(updated), fromMS(settled)
	return r, err
}

// CreateRefund implements shop.RefundStore: in one transaction it reads the
// order (locked) and the total of its refunds not failed, lets allow decide,
// then stores the refund and its settling job.
func (db *DB) CreateRefund(ctx context.Context, r *shop.Refund, settleAt time.Time, allow func(o *shop.Order, claimed alipay.Amount) error) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The out_request_no is the refund's identity: a second request
		// with it makes nothing, whatever the order's state now.
		var dup int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM refunds WHERE out_request_no = $1`, r.OutRequestNo).Scan(&dup); {
		case err == nil:
			return shop.ErrRefundExists
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: create refund: %w", err)
		}
		o, err := db.orderTx(ctx, tx, r.OutTradeNo) // locked: refunds of one order are made one at a time
		if err != nil {
			return err
		}
		var claimed int64
		if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM refunds WHERE order_id = $1 AND status <> 'failed'`,
			o.ID).Scan(&claimed); err != nil {
			return fmt.Errorf("store: create refund: %w", err)
		}
		if err := allow(&o, alipay.Amount(claimed)); err != nil {
			return err
		}
		r.OrderID = o.ID
		if err := tx.QueryRowContext(ctx, `INSERT INTO refunds (order_id, out_request_no, amount_fen, reason, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'pending', $5, $5) RETURNING id`,
			o.ID, r.OutRequestNo, int64(r.Amount), r.Reason, r.CreatedAt.UnixMilli()).Scan(&r.ID); err != nil {
			if isUniqueViolation(err) { // made by another process meanwhile
				return shop.ErrRefundExists
			}
			return fmt.Errorf("store: create refund: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at) VALUES ('refund', $1, $2, $3, $3)`,
			r.OutRequestNo, settleAt.UnixMilli(), r.CreatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: create refund job: %w", err)
		}
		return nil
	})
}

// Refund implements shop.RefundStore.
func (db *DB) Refund(ctx context.Context, outRequestNo string) (shop.Refund, error) {
	r, err := scanRefund(db.r.QueryRowContext(ctx, "SELECT "+refundColumns+
		" FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.out_request_no = $1", outRequestNo))
	if errors.Is(err, sql.ErrNoRows) {
		return r, shop.ErrRefundNotFound
	}
	if err != nil {
		return r, fmt.Errorf("store: refund: %w", err)
	}
	return r, nil
}

// OrderRefunds implements shop.RefundStore.
func (db *DB) OrderRefunds(ctx context.Context, outTradeNo string) ([]shop.Refund, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+refundColumns+
		" FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.out_trade_no = $1 ORDER BY r.id", outTradeNo)
	if err != nil {
		return nil, fmt.Errorf("store: refunds: %w", err)
	}
	defer rows.Close()
	var out []shop.Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("store: refunds: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// refundTx reads the refund outRequestNo of the order orderID inside a write
// transaction (the order's row is locked), or nil when it has none.
func refundTx(ctx context.Context, tx *sql.Tx, orderID int64, outRequestNo string) (*shop.Refund, error) {
	r, err := scanRefund(tx.QueryRowContext(ctx, "SELECT "+refundColumns+
		" FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.order_id = $1 AND r.out_request_no = $2", orderID, outRequestNo))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: refund %s: %w", outRequestNo, err)
	}
	return &r, nil
}

// settleRefundTx applies a decision to settle refund r of order o: the
// refund becomes succeeded and the order's refunded total grows, by
// compare-and-set on both rows (never past what was paid); the order
// becomes partially_refunded or refunded.
func settleRefundTx(ctx context.Context, tx *sql.Tx, o *shop.Order, r *shop.Refund, now time.Time) error {
	if r == nil {
		return fmt.Errorf("store: settle refund of order %s: no such refund", o.OutTradeNo)
	}
	res, err := tx.ExecContext(ctx, `UPDATE orders SET refunded_fen = refunded_fen + $1,
		status = CASE WHEN refunded_fen + $1 = amount_fen THEN 'refunded' ELSE 'partially_refunded' END, updated_at = $2
		WHERE id = $3 AND refunded_fen = $4 AND status IN ('paid', 'partially_refunded') AND refunded_fen + $1 <= amount_fen`,
		int64(r.Amount), now.UnixMilli(), o.ID, int64(o.RefundedFen))
	if err != nil {
		return fmt.Errorf("store: settle refund %s: %w", r.OutRequestNo, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: settle refund %s: order %s changed concurrently or has no room for it", r.OutRequestNo, o.OutTradeNo)
	}
	res, err = tx.ExecContext(ctx, `UPDATE refunds SET status = 'succeeded', settled_at = $1, updated_at = $1, last_error = ''
		WHERE id = $2 AND status = $3`, now.UnixMilli(), r.ID, string(r.Status))
	if err != nil {
		return fmt.Errorf("store: settle refund %s: %w", r.OutRequestNo, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: settle refund %s: changed concurrently", r.OutRequestNo)
	}
	return nil
}

// FailRefund implements shop.RefundStore.
func (db *DB) FailRefund(ctx context.Context, outRequestNo, why string, now time.Time) (bool, error) {
	why = clip(why, maxErrorText)
	n, err := db.exec(ctx, `UPDATE refunds SET status = 'failed', last_error = $1, updated_at = $2
		WHERE out_request_no = $3 AND status = 'pending'`, why, now.UnixMilli(), outRequestNo)
	if err != nil {
		return false, fmt.Errorf("store: fail refund %s: %w", outRequestNo, err)
	}
	return n == 1, nil
}

// NoteRefund implements shop.RefundStore.
func (db *DB) NoteRefund(ctx context.Context, outRequestNo, note string, now time.Time) error {
	note = clip(note, maxErrorText)
	_, err := db.exec(ctx, `UPDATE refunds SET last_error = $1, updated_at = $2 WHERE out_request_no = $3 AND status = 'pending'`,
		note, now.UnixMilli(), outRequestNo)
	if err != nil {
		return fmt.Errorf("store: note refund %s: %w", outRequestNo, err)
	}
	return nil
}
