package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"alishop/alipay"
	"alishop/internal/jobs"
	"alishop/internal/shop"
)

var _ shop.PayoutStore = (*DB)(nil)

// AddPendingPayout implements shop.PayoutStore.
func (db *DB) AddPendingPayout(ctx context.Context, p shop.PendingPayout) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_payouts WHERE expires_at <= $1`, p.CreatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: delete expired pending payouts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending_payouts (confirm_key, out_trade_no, amount_fen, payee_type, payee, payee_name, reason,
			created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.Key, p.OutTradeNo, int64(p.Amount), string(p.PayeeType),
			p.Payee, p.PayeeName, p.Reason, p.CreatedAt.UnixMilli(), p.ExpiresAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: add pending payout: %w", err)
		}
		return nil
	})
}

// PendingPayout implements shop.PayoutStore.
func (db *DB) PendingPayout(ctx context.Context, key string) (shop.PendingPayout, error) {
	p := shop.PendingPayout{Key: key}
	var amount, created, expires int64
	var typ string
	err := db.r.QueryRowContext(ctx, `SELECT out_trade_no, amount_fen, payee_type, payee, payee_name, reason, created_at, expires_at
		FROM pending_payouts WHERE confirm_key = $1`, key).Scan(&p.OutTradeNo, &amount, &typ, &p.Payee, &p.PayeeName, &p.Reason, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return p, shop.ErrPendingPayoutNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: pending payout: %w", err)
	}
	p.Amount, p.PayeeType, p.CreatedAt, p.ExpiresAt = alipay.Amount(amount), alipay.IdentityType(typ), time.UnixMilli(created), time.UnixMilli(expires)
	return p, nil
}

// ConfirmPayout implements shop.PayoutStore.
func (db *DB) ConfirmPayout(ctx context.Context, p *shop.Payout, settleAt time.Time, allow func(o *shop.Order, claimed alipay.Amount) error) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		// Locked first: payouts of one order are made one at a time, and a
		// confirmation racing itself waits here, then finds its payout.
		o, err := db.orderTx(ctx, tx, p.OutTradeNo)
		if err != nil {
			return err
		}
		var dup int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM payouts WHERE out_biz_no = $1`, p.OutBizNo).Scan(&dup); {
		case err == nil:
			return shop.ErrPayoutExists
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: confirm payout: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_payouts WHERE confirm_key = $1 AND out_trade_no = $2 AND amount_fen = $3
			AND payee_type = $4 AND payee = $5 AND payee_name = $6 AND expires_at > $7`,
			p.OutBizNo, o.OutTradeNo, int64(p.Amount), string(p.PayeeType), p.Payee, p.PayeeName, p.CreatedAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: use pending payout: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return shop.ErrPendingPayoutNotFound
		}
		var claimed int64
		if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM payouts WHERE order_id = $1 AND status <> 'failed'`,
			o.ID).Scan(&claimed); err != nil {
			return fmt.Errorf("store: confirm payout: %w", err)
		}
		if err := allow(&o, alipay.Amount(claimed)); err != nil {
			return err
		}
		p.OrderID = o.ID
		if err := tx.QueryRowContext(ctx, `INSERT INTO payouts (order_id, out_biz_no, amount_fen, payee_type, payee, payee_name, reason, status,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) RETURNING id`,
			o.ID, p.OutBizNo, int64(p.Amount), string(p.PayeeType), p.Payee, p.PayeeName, p.Reason, p.CreatedAt.UnixMilli()).Scan(&p.ID); err != nil {
			if db.d.IsUniqueViolation(err) {
				return shop.ErrPayoutExists
			}
			return fmt.Errorf("store: confirm payout: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			jobs.KindPayout, p.OutBizNo, settleAt.UnixMilli(), p.CreatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: payout job: %w", err)
		}
		return nil
	})
}

const payoutColumns = `p.id, p.order_id, o.out_trade_no, p.out_biz_no, p.amount_fen, p.payee_type, p.payee, p.payee_name, p.reason, p.status,
	p.alipay_order_id, p.last_error, p.created_at, p.updated_at`

func scanPayout(row interface{ Scan(...any) error }) (shop.Payout, error) {
	var p shop.Payout
	var amount, created, updated int64
	var typ, status string
	err := row.Scan(&p.ID, &p.OrderID, &p.OutTradeNo, &p.OutBizNo, &amount, &typ, &p.Payee, &p.PayeeName, &p.Reason, &status,
		&p.AlipayOrderID, &p.LastError, &created, &updated)
	p.Amount, p.PayeeType, p.Status = alipay.Amount(amount), alipay.IdentityType(typ), shop.PayoutStatus(status)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return p, err
}

// Payout implements shop.PayoutStore.
func (db *DB) Payout(ctx context.Context, outBizNo string) (shop.Payout, error) {
	p, err := scanPayout(db.r.QueryRowContext(ctx, "SELECT "+payoutColumns+
		" FROM payouts p JOIN orders o ON o.id = p.order_id WHERE p.out_biz_no = $1", outBizNo))
	if errors.Is(err, sql.ErrNoRows) {
		return p, shop.ErrPayoutNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: payout: %w", err)
	}
	return p, nil
}

// OrderPayouts implements shop.PayoutStore.
func (db *DB) OrderPayouts(ctx context.Context, outTradeNo string) ([]shop.Payout, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+payoutColumns+
		" FROM payouts p JOIN orders o ON o.id = p.order_id WHERE o.out_trade_no = $1 ORDER BY p.id", outTradeNo)
	if err != nil {
		return nil, fmt.Errorf("store: payouts: %w", err)
	}
	defer rows.Close()
	var out []shop.Payout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, fmt.Errorf("store: payouts: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ListPayouts implements shop.PayoutStore.
func (db *DB) ListPayouts(ctx context.Context, from, to time.Time, limit int) ([]shop.Payout, error) {
	q := "SELECT " + payoutColumns + " FROM payouts p JOIN orders o ON o.id = p.order_id WHERE 1 = 1"
	var args []any
	if !from.IsZero() {
		args = append(args, from.UnixMilli())
		q += fmt.Sprintf(" AND p.created_at >= $%d", len(args))
	}
	if !to.IsZero() {
		args = append(args, to.UnixMilli())
		q += fmt.Sprintf(" AND p.created_at < $%d", len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY p.id LIMIT $%d", len(args))
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list payouts: %w", err)
	}
	defer rows.Close()
	var out []shop.Payout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list payouts: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// FinishPayout implements shop.PayoutStore.
func (db *DB) FinishPayout(ctx context.Context, outBizNo string, status shop.PayoutStatus, alipayOrderID, why string, now time.Time) (bool, error) {
	if status != shop.PayoutSucceeded && status != shop.PayoutFailed {
		return false, fmt.Errorf("store: finish payout %s: status %q is not final", outBizNo, status)
	}
	n, err := db.exec(ctx, `UPDATE payouts SET status = $1, alipay_order_id = $2, last_error = $3, updated_at = $4
		WHERE out_biz_no = $5 AND status = 'pending'`, string(status), clip(alipayOrderID, 64), clip(why, maxErrorText), now.UnixMilli(), outBizNo)
	if err != nil {
		return false, fmt.Errorf("store: finish payout %s: %w", outBizNo, err)
	}
	return n == 1, nil
}

// NotePayout implements shop.PayoutStore.
func (db *DB) NotePayout(ctx context.Context, outBizNo, note string, now time.Time) error {
	if _, err := db.exec(ctx, `UPDATE payouts SET last_error = $1, updated_at = $2 WHERE out_biz_no = $3 AND status = 'pending'`,
		clip(note, maxErrorText), now.UnixMilli(), outBizNo); err != nil {
		return fmt.Errorf("store: note payout %s: %w", outBizNo, err)
	}
	return nil
}
