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

// CreateRefund implements shop.RefundStore: in one transaction it checks the
// order is paid and that the refunds not failed, this one included, stay
// within what was paid, then stores the refund and its settling job.
func (db *DB) CreateRefund(ctx context.Context, r *shop.Refund, settleAt time.Time) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, err := db.orderTx(ctx, tx, r.OutTradeNo) // locked: refunds of one order are made one at a time
		if err != nil {
			return err
		}
		if o.Status != shop.StatusPaid && o.Status != shop.StatusPartiallyRefunded {
			return shop.Errorf(shop.EINVALID, "订单%s，不能退款", o.Status.Label())
		}
		var claimed int64
		if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM refunds WHERE order_id = $1 AND status <> 'failed'`,
			o.ID).Scan(&claimed); err != nil {
			return fmt.Errorf("store: create refund: %w", err)
		}
		if left := o.Amount - alipay.Amount(claimed); r.Amount > left {
			return shop.Errorf(shop.EINVALID, "退款金额 %s 元超过可退金额 %s 元（实付 %s 元，已退或退款中 %s 元）",
				r.Amount, left, o.Amount, alipay.Amount(claimed))
		}
		r.OrderID = o.ID
		if err := tx.QueryRowContext(ctx, `INSERT INTO refunds (order_id, out_request_no, amount_fen, reason, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'pending', $5, $5) RETURNING id`,
			o.ID, r.OutRequestNo, int64(r.Amount), r.Reason, r.CreatedAt.UnixMilli()).Scan(&r.ID); err != nil {
			return fmt.Errorf("store: create refund: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at) VALUES ('refund', $1, $2, $3, $3)`,
			r.OutRequestNo, settleAt.UnixMilli(), r.CreatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: create refund job: %w", err)
		}
		return nil
	})
	return err
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

// errRefundUnknown: a refund notification names a refund this shop never made.
var errRefundUnknown = errors.New("refund not made by this shop")

// errRefundNoRoom: Alipay reports as made a refund the shop had given up as
// failed, and the other refunds since leave no room for its amount.
var errRefundNoRoom = errors.New("failed refund reported made, beyond what is left to refund")

// settleRefundTx is the one state change for "Alipay made this refund",
// whoever says it (the refund answer, a refund query, a notification): the
// refund moves pending → succeeded and the order's refunded total grows, by
// compare-and-set, never past what was paid; the order becomes
// partially_refunded or refunded. It reports whether anything changed.
func settleRefundTx(ctx context.Context, tx *sql.Tx, orderID int64, outRequestNo string, now time.Time) (bool, error) {
	var amount int64
	var status string
	err := tx.QueryRowContext(ctx, `SELECT amount_fen, status FROM refunds WHERE order_id = $1 AND out_request_no = $2`,
		orderID, outRequestNo).Scan(&amount, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, errRefundUnknown
	}
	if err != nil {
		return false, fmt.Errorf("store: settle refund %s: %w", outRequestNo, err)
	}
	if status == string(shop.RefundSucceeded) {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE orders SET refunded_fen = refunded_fen + $1,
		status = CASE WHEN refunded_fen + $1 = amount_fen THEN 'refunded' ELSE 'partially_refunded' END, updated_at = $2
		WHERE id = $3 AND status IN ('paid', 'partially_refunded') AND refunded_fen + $1 <= amount_fen`, amount, now.UnixMilli(), orderID)
	if err != nil {
		return false, fmt.Errorf("store: settle refund %s: %w", outRequestNo, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if status == string(shop.RefundFailed) {
			// A refund given up as failed leaves its room to later
			// refunds; if they took it, adding it would pass what was
			// paid. It stays failed and a person looks at the order.
			return false, errRefundNoRoom
		}
		// Pending refunds are created only within what was paid.
		return false, fmt.Errorf("store: settle refund %s: the order is not paid or the refund exceeds what was paid", outRequestNo)
	}
	// A refund we had given up as failed that Alipay did make still counts.
	// The order row is locked (FOR UPDATE on PostgreSQL, the one writer on
	// SQLite) by every settling, so the refund is still not succeeded.
	res, err = tx.ExecContext(ctx, `UPDATE refunds SET status = 'succeeded', settled_at = $1, updated_at = $1, last_error = ''
		WHERE order_id = $2 AND out_request_no = $3 AND status <> 'succeeded'`, now.UnixMilli(), orderID, outRequestNo)
	if err != nil {
		return false, fmt.Errorf("store: settle refund %s: %w", outRequestNo, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, fmt.Errorf("store: settle refund %s: settled concurrently", outRequestNo)
	}
	return true, nil
}

// SettleRefund implements shop.RefundStore: the shop's recorded
// compare-and-set (Receive) with a decision to settle the refund, the same
// state change a refund notification makes.
func (db *DB) SettleRefund(ctx context.Context, outRequestNo string, m *shop.Inbound) (bool, error) {
	d, err := db.Receive(ctx, m, func(o *shop.Order) shop.Decision {
		if o == nil {
			return shop.Decision{Outcome: shop.OutcomeUnknownOrder}
		}
		return shop.Decision{Outcome: shop.OutcomeApplied, SettleRefund: outRequestNo, Detail: "refund " + outRequestNo}
	})
	if err != nil {
		return false, err
	}
	return d.Outcome == shop.OutcomeApplied, nil
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
