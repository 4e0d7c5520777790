package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

var _ shop.Reports = (*DB)(nil)

// orderWhere is the WHERE clause (with its leading space, "" for none) and
// arguments that select the orders of f, numbered from $1: the state and
// stage, the search (a prefix of the order number or of Alipay's trade
// number, or a whole phone number of a receiver) and the creation time
// bounds.
func orderWhere(f shop.OrderFilter, withStatus bool) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if withStatus && f.Status != "" {
		conds = append(conds, "status = "+arg(string(f.Status)))
	}
	if withStatus && f.Stage != "" {
		conds = append(conds, stageCond(f.Stage))
	}
	if f.Query != "" {
		p := arg(likePrefix(f.Query))
		c := "(out_trade_no LIKE " + p + ` ESCAPE '\' OR trade_no LIKE ` + p + ` ESCAPE '\'`
		if shop.IsPhoneQuery(f.Query) {
			// The receiver's phone number, whole: a search never lists
			// orders by the start of a phone number.
			c += " OR receiver_phone = " + arg(f.Query)
		}
		conds = append(conds, c+")")
	}
	if !f.From.IsZero() {
		conds = append(conds, "created_at >= "+arg(f.From.UnixMilli()))
	}
	if !f.To.IsZero() {
		conds = append(conds, "created_at < "+arg(f.To.UnixMilli()))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// likePrefix is a LIKE pattern (escape character \) matching what starts
// with s.
func likePrefix(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

// CountOrders implements shop.Reports.
func (db *DB) CountOrders(ctx context.Context, f shop.OrderFilter) (map[shop.Status]int, error) {
	where, args := orderWhere(f, false)
	rows, err := db.r.QueryContext(ctx, "SELECT status, COUNT(*) FROM orders"+where+" GROUP BY status", args...)
	if err != nil {
		return nil, fmt.Errorf("store: count orders: %w", err)
	}
	defer rows.Close()
	out := map[shop.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count orders: %w", err)
		}
		out[shop.Status(st)] = n
	}
	return out, rows.Err()
}

// Sales implements shop.Reports.
func (db *DB) Sales(ctx context.Context, start, end time.Time) (int, alipay.Amount, error) {
	var n int
	var sum int64
	err := db.r.QueryRowContext(ctx, "SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM orders WHERE paid_at >= $1 AND paid_at < $2",
		start.UnixMilli(), end.UnixMilli()).Scan(&n, &sum)
	if err != nil {
		return 0, 0, fmt.Errorf("store: sales: %w", err)
	}
	return n, alipay.Amount(sum), nil
}

// GoodsOrdered implements shop.Reports.
func (db *DB) GoodsOrdered(ctx context.Context) (map[int64]bool, error) {
	ids, err := column[int64](ctx, db, "goods ordered", "SELECT DISTINCT goods_id FROM orders")
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// DeleteGoods implements shop.Reports: the pictures and the goods go in one
// transaction, each only while no order names the goods, so an order made
// at the same time either comes first (nothing is deleted) or finds no
// goods.
func (db *DB) DeleteGoods(ctx context.Context, id int64) error {
	var deleted, exists bool
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		deleted, exists = false, false
		const unordered = " AND NOT EXISTS (SELECT 1 FROM orders WHERE goods_id = $1)"
		if _, err := tx.ExecContext(ctx, "DELETE FROM goods_pictures WHERE goods_id = $1"+unordered, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM goods WHERE id = $1 AND "+notPOSGoods+unordered, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			deleted = true
			return nil
		}
		return tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM goods WHERE id = $1 AND "+notPOSGoods+")", id).Scan(&exists)
	})
	switch {
	case err != nil:
		return fmt.Errorf("store: delete goods %d: %w", id, err)
	case deleted:
		return nil
	case exists:
		return shop.ErrGoodsOrdered
	}
	return shop.ErrGoodsNotFound
}
