package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"alishop/internal/shop"
)

var _ shop.ImageStore = (*DB)(nil)

// SetGoodsImage implements shop.ImageStore: it stores (or replaces) the
// picture of goods id and, in the same transaction, its version, a hash of
// the bytes that the picture's URL carries.
func (db *DB) SetGoodsImage(ctx context.Context, id int64, img shop.Image, now time.Time) (string, error) {
	sum := sha256.Sum256(img.Data)
	version := hex.EncodeToString(sum[:8])
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
