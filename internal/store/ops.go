package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// What operators need from the database: readiness, counts for metrics,
// the next scheduled job, and backups of a SQLite file.

// Ready reports whether the database answers and holds the schema this
// program expects (every embedded migration applied). On SQLite it also
// checks that the file at the path opened is still the one in use: a
// database file removed or replaced under a running shop is not ready.
func (db *DB) Ready(ctx context.Context) error {
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
	if db.file != nil {
		fi, err := os.Stat(db.path)
		if err != nil {
			return fmt.Errorf("store: not ready: database file: %w", err)
		}
		if !os.SameFile(fi, db.file) {
			return fmt.Errorf("store: not ready: %s was replaced while in use", db.path)
		}
	}
	return nil
}

// JobCount is the number of background jobs of one kind in one state.
type JobCount struct {
	Kind  string // order, refund, bill
	State string // due, scheduled, running, done
	N     int
}

// JobCounts counts the background jobs by kind and state at now: running
// (leased), due (waiting for a worker), scheduled (due later) or done.
func (db *DB) JobCounts(ctx context.Context, now time.Time) ([]JobCount, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT kind, CASE
			WHEN done_at IS NOT NULL THEN 'done'
			WHEN lease_until IS NOT NULL AND lease_until > $1 THEN 'running'
			WHEN run_at <= $1 THEN 'due'
			ELSE 'scheduled' END AS state, COUNT(*)
		FROM jobs GROUP BY 1, 2`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: job counts: %w", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.N); err != nil {
			return nil, fmt.Errorf("store: job counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GoodsCounts counts the goods listed for sale and the hidden ones.
func (db *DB) GoodsCounts(ctx context.Context) (listed, hidden int, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN hidden THEN 0 ELSE 1 END), 0),
		COALESCE(SUM(CASE WHEN hidden THEN 1 ELSE 0 END), 0) FROM goods`).Scan(&listed, &hidden)
	if err != nil {
		return 0, 0, fmt.Errorf("store: goods counts: %w", err)
	}
	return listed, hidden, nil
}

// NextJob returns the ref and due time of the job of kind that is not done
// and due first; ok is false when there is none.
func (db *DB) NextJob(ctx context.Context, kind string) (ref string, runAt time.Time, ok bool, err error) {
	var at int64
	err = db.r.QueryRowContext(ctx, `SELECT ref, run_at FROM jobs WHERE kind = $1 AND done_at IS NULL
		ORDER BY run_at, id LIMIT 1`, kind).Scan(&ref, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("store: next %s job: %w", kind, err)
	}
	return ref, time.UnixMilli(at), true, nil
}

// ErrPostgresBackup is returned by BackupSQLite for a PostgreSQL URL.
var ErrPostgresBackup = errors.New("store: this is a PostgreSQL database; back it up with pg_dump (e.g. pg_dump --format=custom --file=alishop.dump DATABASE_URL)")

// BackupSQLite writes a consistent copy of the SQLite database at path to
// dest, which must not exist, with mode 0600. It works while the shop runs:
// the copy is made by VACUUM INTO inside one read transaction, so it holds
// exactly the transactions committed before it began. The database is
// opened read-only and never migrated. The copy is written to a temporary
// file next to dest and linked into place only when complete.
func BackupSQLite(ctx context.Context, path, dest string) error {
	if IsPostgresURL(path) {
		return ErrPostgresBackup
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: backup: database %s: %w", path, err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("store: backup: %s exists; choose a new file name", dest)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store: backup: %w", err)
	}
	tmp.Close()
	src, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("store: backup: open %s: %w", path, err)
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, "VACUUM INTO $1", name); err != nil {
		return fmt.Errorf("store: backup of %s: %w", path, err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Link(name, dest); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
