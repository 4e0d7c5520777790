// Package sqlite keeps the shop's data in a SQLite file (modernc.org/sqlite,
// pure Go): WAL journal, synchronous=FULL so a commit is durable when it
// returns, foreign keys on, a busy timeout. The tables and queries are
// package sqlstore's; this package opens the file, migrates it, and runs
// every write through one writer goroutine that commits many at once
// (write.go). Reads use a pool of their own and, in WAL mode, never wait
// for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"alishop/internal/store/sqlstore"
)

// DB is the shop's database in a SQLite file.
type DB struct {
	*sqlstore.DB
	w, r *sql.DB
	wr   *writer
	// the file opened, to tell whether it is still there (Ready)
	path string
	file os.FileInfo

	closeOnce sync.Once
	closeErr  error
}

// dialect is SQLite's: one writer at a time, so no row locks.
var dialect = sqlstore.Dialect{
	Schema:            strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY", "{{bytes}}", "BLOB"),
	IsUniqueViolation: func(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") },
}

// Open opens the SQLite file at path (created if needed, readable by its
// owner only) and migrates it to the current schema.
func Open(ctx context.Context, path string, opt sqlstore.Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	base := "file:" + escapePath(path)
	wq := url.Values{"_txlock": {"immediate"}}
	for k, v := range q {
		wq[k] = v
	}
	w, err := sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	fresh, err := migrate(ctx, w, opt.Now())
	if err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	wr, err := startWriter(ctx, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	db := &DB{DB: sqlstore.New(r, wr, dialect, opt, fresh), w: w, r: r, wr: wr, path: path}
	db.file, _ = os.Stat(path)
	return db, nil
}

func migrate(ctx context.Context, w *sql.DB, now time.Time) (bool, error) {
	conn, err := w.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	return sqlstore.Migrate(ctx, conn, dialect.Schema, now)
}

// escapePath makes a file path fit for a SQLite file: URI.
func escapePath(path string) string { return (&url.URL{Path: path}).EscapedPath() }

// privateFile creates the SQLite file readable by its owner only (0600,
// whatever the umask), or makes an existing one so, with its -wal and -shm
// files. SQLite creates those with the database file's mode.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(name, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Close stops the writer once every write queued is committed, then
// closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.wr.stop()
		db.closeErr = errors.Join(db.r.Close(), db.w.Close())
	})
	return db.closeErr
}

// Ready reports whether the database answers, holds the schema this
// program expects, and is still the file at the path opened: a database
// file removed or replaced under a running shop is not ready.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	fi, err := os.Stat(db.path)
	if err != nil {
		return fmt.Errorf("store: not ready: database file: %w", err)
	}
	if !os.SameFile(fi, db.file) {
		return fmt.Errorf("store: not ready: %s was replaced while in use", db.path)
	}
	return nil
}
