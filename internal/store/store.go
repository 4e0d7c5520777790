// Package store keeps the shop's data in SQLite (modernc.org/sqlite, pure
// Go) or, given a postgres:// URL, in PostgreSQL (pgx; see postgres.go).
// SQLite: WAL journal, synchronous=FULL so a commit is durable when it returns,
// foreign keys on, a busy timeout, and embedded versioned migrations written
// in SQL that PostgreSQL accepts too (see migrations/).
//
// Writes go through one connection, so concurrent writers queue in the pool
// instead of spinning on SQLite's lock; reads use a separate pool and, in WAL
// mode, never wait for writers. On PostgreSQL each write is a transaction of
// its own on a connection pool shared with reads.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the shop's database.
type DB struct {
	w, r *sql.DB
	// the group-commit writer (writer.go)
	jobs          chan *writeJob
	stop, stopped chan struct{}
	stopOnce      sync.Once
	stmts         map[string]*sql.Stmt // hot statements prepared on w; read-only after Open
	closing       sync.RWMutex         // guards closed
	closed        bool
	closeOnce     sync.Once
	closeErr      error
	d             dialect
	inflight      sync.WaitGroup // PostgreSQL writes running (Close waits for them)
	// the PostgreSQL receivers (pgbatch.go)
	recv     chan *recvJob
	recvStop chan struct{}
	recvDone sync.WaitGroup
	// Fresh is true when Open created the schema from nothing.
	Fresh bool
	now   func() time.Time
	// SQLite: the file opened, to tell whether it is still there (Ready).
	path string
	file os.FileInfo
}

// Options tune Open.
type Options struct {
	Now func() time.Time // clock for sessions and settings; default time.Now
}

// Open opens the database at path and migrates it to the current schema:
// a SQLite file (created if needed), or PostgreSQL when path is a
// postgres:// or postgresql:// URL (the database must exist; the tables are
// made in the first schema of its search_path, which the URL may set with
// ?search_path=NAME).
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if IsPostgresURL(path) {
		return openPostgres(ctx, path, opt)
	}
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
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
	db := &DB{w: w, d: sqliteDialect, now: opt.Now}
	if db.now == nil {
		db.now = time.Now
	}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
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
	db.r = r
	if err := db.prepareHot(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	db.startWriter()
	db.path = path
	db.file, _ = os.Stat(path)
	return db, nil
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

// Close closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.stopWriter()
		for _, st := range db.stmts {
			st.Close()
		}
		if db.r == db.w {
			db.closeErr = db.w.Close()
			return
		}
		db.closeErr = errors.Join(db.r.Close(), db.w.Close())
	})
	return db.closeErr
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// sqliteSchema replaces the placeholders that differ between databases.
var sqliteSchema = strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY", "{{bytes}}", "BLOB")

// PostgresDialect is what the same migrations become on PostgreSQL; it is
// exported so the schema can be checked against PostgreSQL.
var PostgresDialect = strings.NewReplacer("{{id}}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "{{bytes}}", "BYTEA")

type migration struct {
	version int
	name    string
	sql     string
}

// Migrations returns the embedded migrations in order, placeholders intact.
func Migrations() ([]struct {
	Version int
	Name    string
	SQL     string
}, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	out := make([]struct {
		Version int
		Name    string
		SQL     string
	}, len(ms))
	for i, m := range ms {
		out[i].Version, out[i].Name, out[i].SQL = m.version, m.name, m.sql
	}
	return out, nil
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

// migrate applies each pending migration in its own transaction, recording
// its version in the same transaction. A database newer than this binary is
// refused. On PostgreSQL the whole run holds an advisory lock, so processes
// starting together migrate one after the other.
func (db *DB) migrate(ctx context.Context) (err error) {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	defer conn.Close()
	if db.d.postgres {
		const lock = "hashtext('alishop schema_migrations ' || COALESCE(current_schema(), ''))"
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+lock+")"); err != nil {
			return fmt.Errorf("store: migrations lock: %w", err)
		}
		defer func() {
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+lock+")"); uerr != nil {
				// The lock ends with the session: drop the connection.
				conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, fmt.Errorf("store: migrations unlock: %w", uerr))
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("store: the database has schema version %d, newer than this program's %d; use a newer alishop", current, len(ms))
	}
	db.Fresh = current == 0
	for _, m := range ms[current:] {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.d.schema.Replace(m.sql)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, db.now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

// maxErrorText bounds the error text kept with a refund or a job, in bytes.
const maxErrorText = 500

// clip returns s as valid UTF-8 (invalid bytes replaced) cut to at most n
// bytes on a character boundary: PostgreSQL refuses text that is not UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
