package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"alishop/internal/shop"
)

var _ shop.POSStore = (*DB)(nil)

// CreatePOSOrder implements shop.POSStore: it inserts o, an unpaid counter
// order with its own subject and amount, under the one-time key of the
// form that made it, and sets o.ID. A key (or number) already stored is
// shop.ErrOrderExists, and nothing is inserted.
func (db *DB) CreatePOSOrder(ctx context.Context, o *shop.Order, key string) error {
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO orders (out_trade_no, goods_id, subject, amount_fen, status, created_at, updated_at,
			time_expire, channel, pos_key) VALUES ($1, $2, $3, $4, 'unpaid', $5, $6, $7, 'pos', $8) RETURNING id`,
			o.OutTradeNo, shop.POSGoodsID, o.Subject, int64(o.Amount), ms(o.CreatedAt), ms(o.UpdatedAt), ms(o.TimeExpire), key).Scan(&o.ID)
	})
	switch {
	case db.d.IsUniqueViolation(err):
		return shop.ErrOrderExists
	case err != nil:
		return fmt.Errorf("store: create counter order: %w", err)
	}
	o.GoodsID, o.Status, o.Channel = shop.POSGoodsID, shop.StatusUnpaid, shop.OrderChannelPOS
	return nil
}

// OrderByPOSKey implements shop.POSStore: the counter order made by the
// form with one-time key key, or shop.ErrOrderNotFound.
func (db *DB) OrderByPOSKey(ctx context.Context, key string) (shop.Order, error) {
	o, err := ScanOrder(db.r.QueryRowContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE pos_key = $1", key))
	if errors.Is(err, sql.ErrNoRows) {
		return o, shop.ErrOrderNotFound
	}
	if err != nil {
		return o, fmt.Errorf("store: counter order: %w", err)
	}
	return o, nil
}

// SetPOSNote implements shop.POSStore: it stores why counter order
// outTradeNo is ending unpaid, while it is still unpaid.
func (db *DB) SetPOSNote(ctx context.Context, outTradeNo, note string) error {
	_, err := db.exec(ctx, `UPDATE orders SET pos_note = $1 WHERE out_trade_no = $2 AND channel = 'pos' AND status = 'unpaid'`,
		clip(note, 600), outTradeNo)
	if err != nil {
		return fmt.Errorf("store: counter order note: %w", err)
	}
	return nil
}
