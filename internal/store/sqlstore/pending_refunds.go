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

// AddPendingRefund implements shop.RefundStore.
func (db *DB) AddPendingRefund(ctx context.Context, p shop.PendingRefund) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_refunds WHERE expires_at <= $1`, p.CreatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: delete expired pending refunds: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending_refunds (confirm_key, out_trade_no, amount_fen, reason, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.Key, p.OutTradeNo, int64(p.Amount), p.Reason, p.CreatedAt.UnixMilli(), p.ExpiresAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: add pending refund: %w", err)
		}
		return nil
	})
}

// PendingRefund implements shop.RefundStore.
func (db *DB) PendingRefund(ctx context.Context, key string) (shop.PendingRefund, error) {
	p := shop.PendingRefund{Key: key}
	var amount, created, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT out_trade_no, amount_fen, reason, created_at, expires_at FROM pending_refunds WHERE confirm_key = $1`,
		key).Scan(&p.OutTradeNo, &amount, &p.Reason, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return p, shop.ErrPendingRefundNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: pending refund: %w", err)
	}
	p.Amount, p.CreatedAt, p.ExpiresAt = alipay.Amount(amount), time.UnixMilli(created), time.UnixMilli(expires)
	return p, nil
}

// ConfirmRefund implements shop.RefundStore.
func (db *DB) ConfirmRefund(ctx context.Context, r *shop.Refund, settleAt time.Time, allow func(o *shop.Order, claimed alipay.Amount) error) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		return db.createRefundTx(ctx, tx, r, settleAt, allow, func(o *shop.Order) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM pending_refunds WHERE confirm_key = $1 AND out_trade_no = $2 AND amount_fen = $3 AND expires_at > $4`,
				r.OutRequestNo, o.OutTradeNo, int64(r.Amount), r.CreatedAt.UnixMilli())
			if err != nil {
				return fmt.Errorf("store: use pending refund: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return shop.ErrPendingRefundNotFound
			}
			return nil
		})
	})
}
