package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"alishop/alipay"
	"alishop/internal/shop"
)

const goodsColumns = "id, name, price_fen, hidden, created_at, updated_at, description, image_version, stock, shipping, delivery_note"

func scanGoods(row interface{ Scan(...any) error }) (shop.Goods, error) {
	var g shop.Goods
	var price int64
	var created, updated, stock sql.NullInt64
	if err := row.Scan(&g.ID, &g.Name, &price, &g.Hidden, &created, &updated, &g.Description, &g.ImageVersion,
		&stock, &g.Shipping, &g.DeliveryNote); err != nil {
		return g, err
	}
	g.Price, g.CreatedAt, g.UpdatedAt = alipay.Amount(price), fromMS(created), fromMS(updated)
	if stock.Valid {
		g.Stock = &stock.Int64
	}
	return g, nil
}

// nullStock is a stock for a nullable column: nil (unlimited) is NULL.
func nullStock(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// notPOSGoods leaves out the reserved goods row that counter (当面付)
// orders name (shop.POSGoodsID): it is not for sale, never listed, edited
// or deleted.
const notPOSGoods = "id <> 0"

// ListGoods lists goods by id; hidden ones only when includeHidden.
func (db *DB) ListGoods(ctx context.Context, includeHidden bool) ([]shop.Goods, error) {
	q := "SELECT " + goodsColumns + " FROM goods WHERE " + notPOSGoods
	if !includeHidden {
		q += " AND NOT hidden"
	}
	rows, err := db.r.QueryContext(ctx, q+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list goods: %w", err)
	}
	defer rows.Close()
	var out []shop.Goods
	for rows.Next() {
		g, err := scanGoods(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list goods: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Goods returns one goods item or shop.ErrGoodsNotFound.
func (db *DB) Goods(ctx context.Context, id int64) (shop.Goods, error) {
	g, err := scanGoods(db.r.QueryRowContext(ctx, "SELECT "+goodsColumns+" FROM goods WHERE id = $1 AND "+notPOSGoods, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, shop.ErrGoodsNotFound
	}
	if err != nil {
		return g, fmt.Errorf("store: goods %d: %w", id, err)
	}
	return g, nil
}

// CreateGoods inserts g and sets its ID.
func (db *DB) CreateGoods(ctx context.Context, g *shop.Goods) error {
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO goods (name, price_fen, hidden, created_at, updated_at, description, stock, shipping, delivery_note)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			g.Name, int64(g.Price), g.Hidden, ms(g.CreatedAt), ms(g.UpdatedAt), g.Description,
			nullStock(g.Stock), g.Shipping, g.DeliveryNote).Scan(&g.ID)
	})
	if err != nil {
		return fmt.Errorf("store: create goods: %w", err)
	}
	return nil
}

// UpdateGoods updates name, price, hidden, description, shipping and
// delivery note of g, and its stock as edit says (shop.StockEdit): set
// (edit nil), left as it is (the form's stock unchanged), or set by
// compare-and-set from edit.Was (shop.ErrStockChanged when it moved).
func (db *DB) UpdateGoods(ctx context.Context, g *shop.Goods, edit *shop.StockEdit) error {
	q := "UPDATE goods SET name = $1, price_fen = $2, hidden = $3, updated_at = $4, description = $5, shipping = $6, delivery_note = $7"
	args := []any{g.Name, int64(g.Price), g.Hidden, ms(g.UpdatedAt), g.Description, g.Shipping, g.DeliveryNote, g.ID}
	cas := ""
	switch {
	case edit == nil:
		q += ", stock = $9"
		args = append(args, nullStock(g.Stock))
	case shop.SameStock(edit.Was, g.Stock):
	case edit.Was == nil:
		q, cas = q+", stock = $9", " AND stock IS NULL"
		args = append(args, nullStock(g.Stock))
	default:
		q, cas = q+", stock = $9", " AND stock = $10"
		args = append(args, nullStock(g.Stock), *edit.Was)
	}
	q += " WHERE id = $8 AND " + notPOSGoods + cas
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("store: update goods %d: %w", g.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM goods WHERE id = $1 AND "+notPOSGoods, g.ID).Scan(&one)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return shop.ErrGoodsNotFound
			case err != nil:
				return fmt.Errorf("store: update goods %d: %w", g.ID, err)
			}
			return shop.ErrStockChanged
		}
		return nil
	})
}
