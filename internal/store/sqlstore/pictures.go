package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"alishop/internal/shop"
)

var _ shop.PictureStore = (*DB)(nil)

// GoodsPictures implements shop.PictureStore.
func (db *DB) GoodsPictures(ctx context.Context, id int64) ([]shop.Picture, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT version, width, height FROM goods_pictures WHERE goods_id = $1 ORDER BY position", id)
	if err != nil {
		return nil, fmt.Errorf("store: goods %d pictures: %w", id, err)
	}
	defer rows.Close()
	var out []shop.Picture
	for rows.Next() {
		var p shop.Picture
		var w, h int64
		if err := rows.Scan(&p.Version, &w, &h); err != nil {
			return nil, fmt.Errorf("store: goods %d pictures: %w", id, err)
		}
		p.Width, p.Height = int(w), int(h)
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetGoodsPictures implements shop.PictureStore. In one transaction that
// first locks the goods row (so two edits of one goods item take turns):
// the current versions are compared with expect, the pictures kept are
// read, and all of the goods' rows are written again in the new order.
func (db *DB) SetGoodsPictures(ctx context.Context, id int64, expect []string, list []shop.NewPicture, now time.Time) error {
	main := ""
	if len(list) > 0 {
		main = list[0].Version
	}
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE goods SET image_version = $1, updated_at = $2 WHERE id = $3", main, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: goods %d pictures: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return shop.ErrGoodsNotFound
		}
		rows, err := tx.QueryContext(ctx, `SELECT version, width, height, content_type, large, small FROM goods_pictures
			WHERE goods_id = $1 ORDER BY position`, id)
		if err != nil {
			return fmt.Errorf("store: goods %d pictures: %w", id, err)
		}
		var current []shop.NewPicture
		var versions []string
		for rows.Next() {
			var p shop.NewPicture
			var w, h int64
			if err := rows.Scan(&p.Version, &w, &h, &p.Large.ContentType, &p.Large.Data, &p.Small.Data); err != nil {
				rows.Close()
				return fmt.Errorf("store: goods %d pictures: %w", id, err)
			}
			p.Width, p.Height, p.Small.ContentType = int(w), int(h), p.Large.ContentType
			current = append(current, p)
			versions = append(versions, p.Version)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: goods %d pictures: %w", id, err)
		}
		if !slices.Equal(versions, expect) {
			return shop.ErrPicturesChanged
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM goods_pictures WHERE goods_id = $1", id); err != nil {
			return fmt.Errorf("store: goods %d pictures: %w", id, err)
		}
		for pos, p := range list {
			if p.Large.Data == nil {
				i := slices.IndexFunc(current, func(c shop.NewPicture) bool { return c.Version == p.Version })
				if i < 0 {
					return shop.ErrPicturesChanged
				}
				p = current[i]
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO goods_pictures (goods_id, position, version, width, height, content_type, large, small, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				id, pos, p.Version, p.Width, p.Height, p.Large.ContentType, p.Large.Data, p.Small.Data, ms(now)); err != nil {
				return fmt.Errorf("store: goods %d pictures: %w", id, err)
			}
		}
		return nil
	})
}

// GoodsPicture implements shop.PictureStore.
func (db *DB) GoodsPicture(ctx context.Context, id int64, version string, size int) (shop.PictureCopy, error) {
	column := "small"
	if size == shop.PictureLarge {
		column = "large"
	}
	var c shop.PictureCopy
	err := db.r.QueryRowContext(ctx, "SELECT content_type, "+column+" FROM goods_pictures WHERE goods_id = $1 AND version = $2",
		id, version).Scan(&c.ContentType, &c.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return c, shop.ErrImageNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: goods %d picture: %w", id, err)
	}
	return c, nil
}
