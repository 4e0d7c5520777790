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
	var made OrderInsert
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		made, err = InsertOrderTx(ctx, tx, o)
		return err
	})
	return db.OrderInserted(ctx, o, made, err)
}

// OrderInsert is what InsertOrderTx found: the order's id, subject and
// amount once inserted, or whether the stock was short.
type OrderInsert struct {
	ID      int64
	Subject string
	Amount  int64
	Short   bool // the reservation found too few left
}

// InsertOrderTx is CreateOrder's work inside tx: the reservation of the
// stock o holds (by compare-and-set), then the order's insert. When the
// order cannot be made it returns sql.ErrNoRows with nothing of it left in
// tx: a reservation made for an order whose insert then found the goods
// hidden or changed is given back in tx, so that tx may go on with other
// orders (a batch). OrderInserted turns the result into CreateOrder's.
func InsertOrderTx(ctx context.Context, tx *Tx, o *shop.Order) (OrderInsert, error) {
	var r OrderInsert
	q := max(o.Quantity, 1)
	if o.StockHeld > 0 {
		res, err := tx.Exec(ctx, reserveStockSQL, o.StockHeld, o.GoodsID)
		if err != nil {
			return r, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r.Short = true
			return r, sql.ErrNoRows
		}
	}
	err := tx.QueryRow(ctx, insertOrderSQL,
		o.OutTradeNo, ms(o.CreatedAt), ms(o.UpdatedAt), ms(o.TimeExpire), o.GoodsID,
		q, o.Receiver.Name, o.Receiver.Phone, o.Receiver.Address, o.StockHeld, o.Shipping).Scan(&r.ID, &r.Subject, &r.Amount)
	if errors.Is(err, sql.ErrNoRows) && o.StockHeld > 0 {
		if _, rerr := tx.Exec(ctx, ReleaseStockSQL, o.StockHeld, o.GoodsID); rerr != nil {
			return r, rerr
		}
	}
	return r, err
}

// OrderInserted completes CreateOrder once InsertOrderTx's transaction
// ended with err: it sets o's id, subject, amount and state from made, or
// says why the order was not made.
func (db *DB) OrderInserted(ctx context.Context, o *shop.Order, made OrderInsert, err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		g, gerr := db.Goods(ctx, o.GoodsID)
		switch {
		case gerr != nil:
			return gerr
		case g.Hidden:
			return shop.ErrGoodsHidden
		case g.Limited() && (made.Short || g.Left() < int64(max(o.Quantity, 1))):
			return shop.ErrOutOfStock
		}
		return shop.ErrGoodsChanged
	case db.d.IsUniqueViolation(err):
		return shop.ErrOrderExists
	case err != nil:
		return fmt.Errorf("store: create order: %w", err)
	}
	o.ID, o.Subject = made.ID, made.Subject
	o.Amount, o.Status, o.Quantity = alipay.Amount(made.Amount), shop.StatusUnpaid, max(o.Quantity, 1)
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
