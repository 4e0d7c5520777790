package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The schema is a series of versioned migrations in SQL that both
// databases accept once Dialect.Schema has replaced its placeholders.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must start with a version number and _", base)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// Migrate applies each pending migration on conn in its own transaction,
// recording its version in the same transaction, and reports whether the
// database was empty. A database newer than this program is refused. The
// caller keeps other processes out meanwhile if they could migrate too.
func Migrate(ctx context.Context, conn *sql.Conn, schema *strings.Replacer, now time.Time) (fresh bool, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return false, fmt.Errorf("store: migrations table: %w", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return false, fmt.Errorf("store: schema version: %w", err)
	}
	if current > len(ms) {
		return false, fmt.Errorf("store: the database has schema version %d, newer than this program's %d; use a newer alishop", current, len(ms))
	}
	for _, m := range ms[current:] {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, schema.Replace(m.sql)); err != nil {
			tx.Rollback()
			return false, fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, now.UnixMilli()); err != nil {
			tx.Rollback()
			return false, fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return current == 0, nil
}

// SchemaVersion returns the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// CheckSchema reports whether the database answers and holds the schema this
// program expects (every migration applied).
func (db *DB) CheckSchema(ctx context.Context) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: not ready: %w", err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if v != len(ms) {
		return fmt.Errorf("store: not ready: schema version %d, want %d", v, len(ms))
	}
	return nil
}
