package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending_refunds (confirm_key, out_trade_no, amount_fen, reason, restock, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.Key, p.OutTradeNo, int64(p.Amount), p.Reason, p.Restock, p.CreatedAt.UnixMilli(), p.ExpiresAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: add pending refund: %w", err)
		}
		return nil
	})
}

// PendingRefund implements shop.RefundStore.
func (db *DB) PendingRefund(ctx context.Context, key string) (shop.PendingRefund, error) {
	p := shop.PendingRefund{Key: key}
	var amount, created, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT out_trade_no, amount_fen, reason, restock, created_at, expires_at FROM pending_refunds WHERE confirm_key = $1`,
		key).Scan(&p.OutTradeNo, &amount, &p.Reason, &p.Restock, &created, &expires)
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
func (db *DB) ConfirmRefund(ctx context.Context, r *shop.Refund, restock bool, settleAt time.Time, allow func(o *shop.Order, claimed alipay.Amount) error) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		o, err := db.createRefundTx(ctx, tx, r, settleAt, allow, func(o *shop.Order) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM pending_refunds WHERE confirm_key = $1 AND out_trade_no = $2 AND amount_fen = $3 AND restock = $4 AND expires_at > $5`,
				r.OutRequestNo, o.OutTradeNo, int64(r.Amount), restock, r.CreatedAt.UnixMilli())
			if err != nil {
				return fmt.Errorf("store: use pending refund: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return shop.ErrPendingRefundNotFound
			}
			return nil
		})
		if err != nil || !restock || o.StockHeld <= 0 {
			return err
		}
		return restockTx(ctx, tx, o, r.CreatedAt)
	})
}

// restockTx gives the stock order o (locked) holds back to its goods, and
// records it as the admin's EventRestocked at at.
func restockTx(ctx context.Context, tx *Tx, o shop.Order, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE orders SET stock_held = 0, updated_at = $1 WHERE id = $2 AND stock_held = $3`, at.UnixMilli(), o.ID, o.StockHeld)
	if err := changedOne(res, err, "give back the stock of order "+o.OutTradeNo); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, ReleaseStockSQL, o.StockHeld, o.GoodsID); err != nil {
		return fmt.Errorf("store: stock of order %s: %w", o.OutTradeNo, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO order_events (order_id, kind, actor, at, detail) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, string(shop.EventRestocked), string(shop.ActorAdmin), at.UnixMilli(), strconv.Itoa(o.StockHeld)); err != nil {
		return fmt.Errorf("store: record event of order %s: %w", o.OutTradeNo, err)
	}
	return nil
}
