package sqlstore

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

// CreateRefund implements shop.RefundStore: in one transaction it reads the
// order (locked) and the total of its refunds not failed, lets allow decide,
// then stores the refund and its settling job.
func (db *DB) CreateRefund(ctx context.Context, r *shop.Refund, settleAt time.Time, allow func(o *shop.Order, claimed alipay.Amount) error) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := db.createRefundTx(ctx, tx, r, settleAt, allow, nil)
		return err
	})
}

// createRefundTx is CreateRefund inside tx; use (if not nil) is called
// with the locked order once the refund is known not to exist, and
// refuses the refund when it returns an error. It returns the order as
// locked.
func (db *DB) createRefundTx(ctx context.Context, tx *Tx, r *shop.Refund, settleAt time.Time,
	allow func(o *shop.Order, claimed alipay.Amount) error, use func(o *shop.Order) error) (shop.Order, error) {
	// Locked first: refunds of one order are made one at a time, and a
	// request racing one with the same out_request_no (a confirmation
	// posted to two processes) waits here and then finds it made.
	o, err := db.orderTx(ctx, tx, r.OutTradeNo)
	if err != nil {
		return o, err
	}
	// The out_request_no is the refund's identity: a second request with
	// it makes nothing, whatever the order's state now.
	var dup int
	switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM refunds WHERE out_request_no = $1`, r.OutRequestNo).Scan(&dup); {
	case err == nil:
		return o, shop.ErrRefundExists
	case !errors.Is(err, sql.ErrNoRows):
		return o, fmt.Errorf("store: create refund: %w", err)
	}
	if use != nil {
		if err := use(&o); err != nil {
			return o, err
		}
	}
	var claimed int64
	if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM refunds WHERE order_id = $1 AND status <> 'failed'`,
		o.ID).Scan(&claimed); err != nil {
		return o, fmt.Errorf("store: create refund: %w", err)
	}
	if err := allow(&o, alipay.Amount(claimed)); err != nil {
		return o, err
	}
	r.OrderID = o.ID
	if err := tx.QueryRowContext(ctx, `INSERT INTO refunds (order_id, out_request_no, amount_fen, reason, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'pending', $5, $5) RETURNING id`,
		o.ID, r.OutRequestNo, int64(r.Amount), r.Reason, r.CreatedAt.UnixMilli()).Scan(&r.ID); err != nil {
		if db.d.IsUniqueViolation(err) { // made for another order meanwhile
			return o, shop.ErrRefundExists
		}
		return o, fmt.Errorf("store: create refund: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at) VALUES ('refund', $1, $2, $3, $3)`,
		r.OutRequestNo, settleAt.UnixMilli(), r.CreatedAt.UnixMilli()); err != nil {
		return o, fmt.Errorf("store: create refund job: %w", err)
	}
	return o, nil
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

// RefundsSettledBetween lists the refunds that succeeded in [start, end).
func (db *DB) RefundsSettledBetween(ctx context.Context, start, end time.Time) ([]shop.Refund, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+refundColumns+` FROM refunds r JOIN orders o ON o.id = r.order_id
		WHERE r.status = 'succeeded' AND r.settled_at >= $1 AND r.settled_at < $2 ORDER BY r.settled_at`, start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: refunds settled: %w", err)
	}
	defer rows.Close()
	var out []shop.Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("store: refunds settled: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
