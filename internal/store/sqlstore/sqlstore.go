// Package sqlstore is what the shop's two databases share: the schema's
// migrations and the queries, written once in the SQL that SQLite and
// PostgreSQL both accept ($n placeholders, portable types, ON CONFLICT
// upserts), and the one function that turns a decision of the domain into
// row changes (Apply, in write.go).
//
// It runs no transaction of its own. Each backend (packages sqlite and
// postgres) gives it a Writer, which runs a write and commits it the
// backend's way, and a Dialect, the few pieces of SQL that differ; the
// backend's DB embeds *DB and adds what it does alone: opening, closing,
// and Receive, the hot write, batched by each backend differently.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Options tune a database when it is opened.
type Options struct {
	Now func() time.Time // clock for sessions and migrations; default time.Now
}

// Dialect is what differs between the databases in the shared queries.
type Dialect struct {
	// Schema replaces the migrations' placeholders ({{id}}, {{bytes}}).
	Schema *strings.Replacer
	// ForUpdate is appended to a SELECT that reads a row to change it in
	// the same transaction ("" where the database has one writer).
	ForUpdate string
	// SkipLocked is appended to the SELECT that picks a job to claim.
	SkipLocked string
	// IsUniqueViolation reports whether err is a unique-key violation.
	IsUniqueViolation func(err error) bool
}

// DB is the shop's tables, read on a pool and written through a Writer.
type DB struct {
	r     *sql.DB
	w     Writer
	d     Dialect
	now   func() time.Time
	fresh bool
	// lockOrderSQL reads an order to change it (selectOrderSQL with the
	// dialect's row lock).
	lockOrderSQL string
}

// New returns the shared queries over r (reads) and w (writes), for a
// database already migrated; fresh says whether the migration made it
// from nothing.
func New(r *sql.DB, w Writer, d Dialect, opt Options, fresh bool) *DB {
	db := &DB{r: r, w: w, d: d, now: opt.Now, fresh: fresh, lockOrderSQL: selectOrderSQL + d.ForUpdate}
	if db.now == nil {
		db.now = time.Now
	}
	return db
}

// Fresh reports whether the database was created from nothing when it
// was opened.
func (db *DB) Fresh() bool { return db.fresh }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// write runs fn through the backend's writer.
func (db *DB) write(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return db.w.Write(ctx, fn)
}

// column reads a query's one column on the readers' pool, every row; what
// names the read in errors.
func column[T any](ctx context.Context, db *DB, what, query string, args ...any) ([]T, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// exec runs one statement through the writer and returns the rows it changed.
func (db *DB) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return n, err
}

// ErrClosed is returned for a write to a database that is closed.
var ErrClosed = errors.New("store: database is closed")

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
