package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestMigrateSinglePictures: a database of the schema before pictures, whose goods
// have at most one picture (goods_images), migrates to goods_pictures: the
// picture becomes the main one (position 0) under its old version, served
// as both copies; goods without a picture get none.
func TestMigrateSinglePictures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	schema := strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY", "{{bytes}}", "BLOB")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	// Every migration before the pictures' one.
	n := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, "_goods_pictures.sql") })
	if n < 1 {
		t.Fatal("no goods_pictures migration")
	}
	for _, m := range ms[:n] {
		if _, err := conn.ExecContext(ctx, schema.Replace(m.sql)); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations VALUES ($1, $2, 0)", m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"INSERT INTO goods (id, name, price_fen, created_at, updated_at, image_version) VALUES (1, '有图', 100, 0, 0, '0123456789abcdef')",
		"INSERT INTO goods (id, name, price_fen, created_at, updated_at) VALUES (2, '无图', 100, 0, 0)",
		"INSERT INTO goods_images (goods_id, content_type, data, updated_at) VALUES (1, 'image/png', X'89504E47', 5)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Migrate(ctx, conn, schema, time.Now()); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT goods_id, position, version, width, content_type, large, small FROM goods_pictures")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n = 0
	for rows.Next() {
		var id, pos, w int64
		var version, ct string
		var large, small []byte
		if err := rows.Scan(&id, &pos, &version, &w, &ct, &large, &small); err != nil {
			t.Fatal(err)
		}
		n++
		if id != 1 || pos != 0 || version != "0123456789abcdef" || w != 0 || ct != "image/png" || string(large) != "\x89PNG" || string(small) != "\x89PNG" {
			t.Errorf("migrated picture: goods %d position %d %s %d %s %q %q", id, pos, version, w, ct, large, small)
		}
	}
	if n != 1 {
		t.Errorf("%d pictures after the migration", n)
	}
	var left int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'goods_images'").Scan(&left); err != nil || left != 0 {
		t.Errorf("goods_images left: %d %v", left, err)
	}
}
