package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

const goodsColumns = "id, name, price_fen, hidden, created_at, updated_at, description, image_version"

func scanGoods(row interface{ Scan(...any) error }) (shop.Goods, error) {
	var g shop.Goods
	var price int64
	var created, updated sql.NullInt64
	if err := row.Scan(&g.ID, &g.Name, &price, &g.Hidden, &created, &updated, &g.Description, &g.ImageVersion); err != nil {
		return g, err
	}
	g.Price, g.CreatedAt, g.UpdatedAt = alipay.Amount(price), fromMS(created), fromMS(updated)
	return g, nil
}

// ListGoods lists goods by id; hidden ones only when includeHidden.
func (db *DB) ListGoods(ctx context.Context, includeHidden bool) ([]shop.Goods, error) {
	q := "SELECT " + goodsColumns + " FROM goods"
	if !includeHidden {
		q += " WHERE NOT hidden"
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
	g, err := scanGoods(db.r.QueryRowContext(ctx, "SELECT "+goodsColumns+" FROM goods WHERE id = $1", id))
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
		return tx.QueryRowContext(ctx, `INSERT INTO goods (name, price_fen, hidden, created_at, updated_at, description)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			g.Name, int64(g.Price), g.Hidden, ms(g.CreatedAt), ms(g.UpdatedAt), g.Description).Scan(&g.ID)
	})
	if err != nil {
		return fmt.Errorf("store: create goods: %w", err)
	}
	return nil
}

// UpdateGoods updates name, price, hidden and description of g.
func (db *DB) UpdateGoods(ctx context.Context, g *shop.Goods) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE goods SET name = $1, price_fen = $2, hidden = $3, updated_at = $4, description = $5 WHERE id = $6",
			g.Name, int64(g.Price), g.Hidden, ms(g.UpdatedAt), g.Description, g.ID)
		if err != nil {
			return fmt.Errorf("store: update goods %d: %w", g.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return shop.ErrGoodsNotFound
		}
		return nil
	})
}

var _ shop.ImageStore = (*DB)(nil)

// SetGoodsImage implements shop.ImageStore: it stores (or replaces) the
// picture of goods id and, in the same transaction, its version, a hash of
// the bytes that the picture's URL carries.
func (db *DB) SetGoodsImage(ctx context.Context, id int64, img shop.Image, now time.Time) (string, error) {
	sum := sha256.Sum256(img.Data)
	version := hex.EncodeToString(sum[:8])
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE goods SET image_version = $1, updated_at = $2 WHERE id = $3", version, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: goods %d image: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return shop.ErrGoodsNotFound
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO goods_images (goods_id, content_type, data, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (goods_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, updated_at = excluded.updated_at`,
			id, img.ContentType, img.Data, ms(now)); err != nil {
			return fmt.Errorf("store: goods %d image: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return version, nil
}

// DeleteGoodsImage implements shop.ImageStore.
func (db *DB) DeleteGoodsImage(ctx context.Context, id int64, now time.Time) error {
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE goods SET image_version = '', updated_at = $1 WHERE id = $2", ms(now), id); err != nil {
			return fmt.Errorf("store: goods %d image: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM goods_images WHERE goods_id = $1", id); err != nil {
			return fmt.Errorf("store: goods %d image: %w", id, err)
		}
		return nil
	})
}

// GoodsImage implements shop.ImageStore: the picture of goods id and its
// version, or shop.ErrImageNotFound.
func (db *DB) GoodsImage(ctx context.Context, id int64) (shop.Image, string, error) {
	var img shop.Image
	var version string
	err := db.r.QueryRowContext(ctx, `SELECT i.content_type, i.data, g.image_version FROM goods_images i JOIN goods g ON g.id = i.goods_id
		WHERE i.goods_id = $1`, id).Scan(&img.ContentType, &img.Data, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return img, "", shop.ErrImageNotFound
	}
	if err != nil {
		return img, "", fmt.Errorf("store: goods %d image: %w", id, err)
	}
	return img, version, nil
}
