// Package store opens the shop's database: a SQLite file (package sqlite)
// or, given a postgres:// URL, PostgreSQL (package postgres). Both keep
// the same tables with the same queries (package sqlstore); each commits
// its writes its own way, the hottest (Receive) in batches.
package store

import (
	"context"
	"errors"

	"alishop/internal/shop"
	"alishop/internal/store/postgres"
	"alishop/internal/store/sqlite"
	"alishop/internal/store/sqlstore"
)

// DB is the shop's database: the shared queries, and what the backend
// that Open chose does its own way.
type DB struct {
	*sqlstore.DB
	backend
}

// backend is what each database does its own way.
type backend interface {
	// Receive implements shop.Store's Receive, batched with the others
	// waiting.
	Receive(ctx context.Context, m *shop.Inbound, decide shop.Decide) (shop.Decision, error)
	// CreateOrder implements shop.Store's CreateOrder (on PostgreSQL,
	// orders holding stock are made in batches).
	CreateOrder(ctx context.Context, o *shop.Order) error
	// Ready reports whether the database answers and holds the schema
	// this program expects.
	Ready(ctx context.Context) error
	// Close waits for the writes started, then closes the database.
	Close() error
}

var (
	_ shop.Store        = (*DB)(nil)
	_ shop.RefundStore  = (*DB)(nil)
	_ shop.PictureStore = (*DB)(nil)
	_ shop.FulfilStore  = (*DB)(nil)
	_ shop.BuyerStore   = (*DB)(nil)
)

// CreateOrder implements shop.Store: the backend's.
func (db *DB) CreateOrder(ctx context.Context, o *shop.Order) error {
	return db.backend.CreateOrder(ctx, o)
}

// Options tune Open.
type Options = sqlstore.Options

// Notification is a stored inbound message, for the admin and tests.
type Notification = sqlstore.Notification

// JobInfo is a job as stored, for the admin and tests.
type JobInfo = sqlstore.JobInfo

// JobCount is the number of background jobs of one kind in one state.
type JobCount = sqlstore.JobCount

// ErrNoSetting is returned by Setting for a key that was never set.
var ErrNoSetting = sqlstore.ErrNoSetting

// Open opens the database at path and migrates it to the current schema:
// a SQLite file (created if needed), or PostgreSQL when path is a
// postgres:// or postgresql:// URL (the database must exist; the tables are
// made in the first schema of its search_path, which the URL may set with
// ?search_path=NAME).
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if IsPostgresURL(path) {
		db, err := postgres.Open(ctx, path, opt)
		if err != nil {
			return nil, err
		}
		return &DB{DB: db.DB, backend: db}, nil
	}
	db, err := sqlite.Open(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	return &DB{DB: db.DB, backend: db}, nil
}

// IsPostgresURL reports whether dsn selects PostgreSQL (postgres:// or
// postgresql://) rather than a SQLite file.
func IsPostgresURL(dsn string) bool { return postgres.IsURL(dsn) }

// CheckPostgresURL checks a postgres:// URL without connecting: nil, or an
// error of one line naming the problem, without the password.
func CheckPostgresURL(dsn string) error { return postgres.CheckURL(dsn) }

// ErrPostgresBackup is returned by BackupSQLite for a PostgreSQL URL.
var ErrPostgresBackup = errors.New("store: this is a PostgreSQL database; back it up with pg_dump (e.g. pg_dump --format=custom --file=alishop.dump DATABASE_URL)")

// BackupSQLite writes a consistent copy of the SQLite database at path to
// dest, which must not exist, with mode 0600, while the shop may be
// running (see sqlite.Backup).
func BackupSQLite(ctx context.Context, path, dest string) error {
	if IsPostgresURL(path) {
		return ErrPostgresBackup
	}
	return sqlite.Backup(ctx, path, dest)
}
