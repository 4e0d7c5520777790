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

// CreateOrder inserts o (unpaid) for o.Quantity of the goods o.GoodsID,
// copying the goods' name and price × quantity into it in the same
// statement, and sets o.ID, o.Subject and o.Amount. When o holds stock
// (o.StockHeld), it is reserved first in the same transaction by
// compare-and-set. It returns shop.ErrGoodsNotFound, shop.ErrGoodsHidden,
// shop.ErrOutOfStock or shop.ErrGoodsChanged, with nothing stored, when
// the order cannot be made. A Quantity of 0 is taken as 1.
func (db *DB) CreateOrder(ctx context.Context, o *shop.Order) error {
	if o.Quantity == 0 {
		o.Quantity = 1
	}
	var amount int64
	var short bool
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		short = false
		if o.StockHeld > 0 {
			res, err := tx.Exec(ctx, reserveStockSQL, o.StockHeld, o.GoodsID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				short = true
				return sql.ErrNoRows
			}
		}
		return tx.QueryRow(ctx, insertOrderSQL,
			o.OutTradeNo, ms(o.CreatedAt), ms(o.UpdatedAt), ms(o.TimeExpire), o.GoodsID,
			o.Quantity, o.Receiver.Name, o.Receiver.Phone, o.Receiver.Address, o.StockHeld, o.Shipping).Scan(&o.ID, &o.Subject, &amount)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		g, gerr := db.Goods(ctx, o.GoodsID)
		switch {
		case gerr != nil:
			return gerr
		case g.Hidden:
			return shop.ErrGoodsHidden
		case g.Limited() && (short || g.Left() < int64(o.Quantity)):
			return shop.ErrOutOfStock
		}
		return shop.ErrGoodsChanged
	case db.d.IsUniqueViolation(err):
		return shop.ErrOrderExists
	case err != nil:
		return fmt.Errorf("store: create order: %w", err)
	}
	o.Amount, o.Status, o.Quantity = alipay.Amount(amount), shop.StatusUnpaid, max(o.Quantity, 1)
	return nil
}

// Order returns an order by out_trade_no or shop.ErrOrderNotFound.
func (db *DB) Order(ctx context.Context, outTradeNo string) (shop.Order, error) {
	o, err := ScanOrder(db.r.QueryRowContext(ctx, selectOrderSQL, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return o, shop.ErrOrderNotFound
	}
	if err != nil {
		return o, fmt.Errorf("store: order: %w", err)
	}
	return o, nil
}

// ListOrders lists orders newest first, with the total count for paging.
func (db *DB) ListOrders(ctx context.Context, f shop.OrderFilter) ([]shop.Order, int, error) {
	where, args := orderWhere(f, true)
	var total int
	if err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count orders: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	n := len(args)
	q := fmt.Sprintf("SELECT %s FROM orders%s ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d", orderColumns, where, n+1, n+2)
	orders, err := db.orders(ctx, q, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list orders: %w", err)
	}
	return orders, total, nil
}

// OrdersPaidBetween lists the orders paid in [start, end) (by Alipay's
// payment time), whatever their state since.
func (db *DB) OrdersPaidBetween(ctx context.Context, start, end time.Time) ([]shop.Order, error) {
	orders, err := db.orders(ctx, "SELECT "+orderColumns+" FROM orders WHERE paid_at >= $1 AND paid_at < $2 ORDER BY paid_at",
		start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: orders paid: %w", err)
	}
	return orders, nil
}

// orders runs a query of orderColumns and scans every row.
func (db *DB) orders(ctx context.Context, query string, args ...any) ([]shop.Order, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shop.Order
	for rows.Next() {
		o, err := ScanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
