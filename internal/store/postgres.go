package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL. The same queries run on both databases: they are written with
// $n placeholders (which SQLite accepts too), portable types and ON CONFLICT
// upserts. What differs is kept in dialect below: the schema placeholders,
// row locks (FOR UPDATE, which SQLite neither has nor needs since it has one
// writer), and which errors mean "try the transaction again".
//
// Several alishop processes may share one PostgreSQL database, so nothing
// here relies on process memory for correctness: payments and refunds are
// compare-and-set updates made on a row locked with FOR UPDATE, order and
// refund numbers are unique keys, a job is claimed by one UPDATE that takes
// its lease (skipping rows another process is claiming), and migrations run
// under an advisory lock.

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	postgres bool
	schema   *strings.Replacer // migration placeholders
	lockRow  string            // appended to a SELECT that reads a row to change it
	skipLock string            // appended to the SELECT that picks a job to claim
}

var (
	sqliteDialect = dialect{schema: sqliteSchema}
	pgDialect     = dialect{postgres: true, schema: PostgresDialect, lockRow: " FOR UPDATE", skipLock: " FOR UPDATE SKIP LOCKED"}
)

// IsPostgresURL reports whether dsn selects PostgreSQL (postgres:// or
// postgresql://) rather than a SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres opens the PostgreSQL database at a postgres:// URL. Writes
// run each in their own transaction on the pool (see write).
func openPostgres(ctx context.Context, dsn string, opt Options) (*DB, error) {
	cfg, err := parsePostgresURL(dsn)
	if err != nil {
		return nil, err
	}
	pool := stdlib.OpenDB(*cfg)
	n := max(8, 2*runtime.GOMAXPROCS(0))
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{w: pool, r: pool, d: pgDialect, now: opt.Now}
	if db.now == nil {
		db.now = time.Now
	}
	where := redactedURL(dsn)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s: %s", where, oneLine(err, cfg.Password))
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s (database %s)", oneLine(err, cfg.Password), where)
	}
	db.startReceivers()
	return db, nil
}

// parsePostgresURL checks a postgres:// URL and returns its connection
// settings, or an error of one line that names the problem and never
// contains the password.
func parsePostgresURL(dsn string) (*pgx.ConnConfig, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("store: bad PostgreSQL URL: %s", oneLine(err, ""))
	}
	pw, _ := u.User.Password()
	if pw == "" {
		pw = u.Query().Get("password")
	}
	if u.Host == "" {
		return nil, fmt.Errorf("store: bad PostgreSQL URL %s: no host (want postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)", redactedURL(dsn))
	}
	if strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("store: bad PostgreSQL URL %s: no database name (want postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)", redactedURL(dsn))
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		msg := err.Error()
		// pgconn quotes the connection string between backquotes; leave it
		// out (the redacted URL is given instead).
		if i := strings.Index(msg, "`: "); strings.HasPrefix(msg, "cannot parse `") && i > 0 {
			msg = msg[i+3:]
		}
		return nil, fmt.Errorf("store: bad PostgreSQL URL %s: %s", redactedURL(dsn), oneLine(errors.New(msg), pw))
	}
	return cfg, nil
}

// redactedURL is dsn with any password replaced by xxxxx: the one in the
// user part and the password and sslpassword parameters, which pgx accepts
// too.
func redactedURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// oneLine flattens err to one line and blanks password out of it.
func oneLine(err error, password string) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if password != "" {
		s = strings.ReplaceAll(s, password, "xxxxx")
	}
	return s
}

// isUniqueViolation reports whether err is a unique-key violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isRetryable reports whether err ended a PostgreSQL transaction that can be
// run again from the start: a serialization failure or a deadlock, after
// which the server has rolled back everything the transaction did.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// writePostgres runs fn in a transaction of its own and commits it. A
// transaction the server rolled back as a serialization failure or a
// deadlock is run again (fn sets its results afresh on each run); any other
// failure is returned. The transaction and fn's statements run on a context
// that is never cancelled (fn gets it), so a caller that goes away never
// leaves a commit of unknown outcome; ctx only stops retries.
func (db *DB) writePostgres(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	db.closing.RLock()
	if db.closed {
		db.closing.RUnlock()
		return errClosed
	}
	db.inflight.Add(1)
	db.closing.RUnlock()
	defer db.inflight.Done()
	return db.retryTx(ctx, fn)
}

// retryTx is writePostgres once the write is counted in flight.
func (db *DB) retryTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	bg := context.WithoutCancel(ctx)
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		if err = ctx.Err(); err != nil && i > 0 {
			return err
		}
		err = db.runTx(bg, fn)
		if !isRetryable(err) {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	return err
}

func (db *DB) runTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// CheckPostgresURL checks a postgres:// URL without connecting: nil, or an
// error of one line naming the problem, without the password.
func CheckPostgresURL(dsn string) error {
	_, err := parsePostgresURL(dsn)
	return err
}
