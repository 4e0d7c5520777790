package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
)

// Group commit. Every write of the shop's hot paths (orders, notifications)
// is a job run by one writer goroutine on the single write connection. The
// writer takes every job already waiting (up to maxBatch), runs each inside
// its own SAVEPOINT of one transaction, and commits once: one fsync makes
// the whole batch durable. A job's caller gets its result only after that
// commit, so "committed" still means "on disk"; a failing job is rolled back
// to its savepoint without touching the others in the batch.

const maxBatch = 128

type writeJob struct {
	fn   func(tx *sql.Tx) error
	done chan error
}

var errClosed = errors.New("store: database is closed")

func (db *DB) startWriter() {
	db.jobs = make(chan *writeJob, maxBatch)
	db.stop = make(chan struct{})
	db.stopped = make(chan struct{})
	go db.writer()
}

func (db *DB) stopWriter() {
	if db.d.postgres {
		db.closing.Lock() // waits for writes being started; no new ones after
		db.closed = true
		db.closing.Unlock()
		db.inflight.Wait()
		return
	}
	if db.stop == nil {
		return
	}
	db.stopOnce.Do(func() {
		db.closing.Lock() // waits for jobs being queued; no new ones after
		db.closed = true
		db.closing.Unlock()
		close(db.stop)
	})
	<-db.stopped
}

func (db *DB) writer() {
	defer close(db.stopped)
	for {
		var j *writeJob
		select {
		case j = <-db.jobs:
		case <-db.stop:
			// Finish what was queued before the stop.
			for {
				select {
				case j := <-db.jobs:
					db.runBatch([]*writeJob{j})
				default:
					return
				}
			}
		}
		batch := []*writeJob{j}
		// Let writers that are about to queue do so: on a busy machine
		// this makes batches larger, so fewer commits write fewer pages.
		runtime.Gosched()
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-db.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		db.runBatch(batch)
	}
}

// write runs fn in a write transaction (on SQLite shared with other jobs of
// the same batch) and returns once the transaction is committed, or fn's
// error. fn must only use tx. On SQLite it runs once; on PostgreSQL it may
// run again after the server rolled its transaction back (a deadlock or a
// serialization failure), so it must set its results afresh on every run.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.d.postgres {
		return db.writePostgres(ctx, fn)
	}
	j := &writeJob{fn: fn, done: make(chan error, 1)}
	db.closing.RLock()
	if db.closed {
		db.closing.RUnlock()
		return errClosed
	}
	select {
	case db.jobs <- j:
		db.closing.RUnlock()
	case <-ctx.Done():
		db.closing.RUnlock()
		return ctx.Err()
	}
	// Once queued the job runs; wait for its real outcome whatever ctx
	// does, so a caller never reports a failure that was in fact committed.
	return <-j.done
}

func (db *DB) runBatch(batch []*writeJob) {
	ctx := context.Background()
	fail := func(err error) {
		for _, j := range batch {
			j.done <- err
		}
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return
	}
	errs := make([]error, len(batch))
	for i, j := range batch {
		if _, err := db.txExec(ctx, tx, "SAVEPOINT job"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("store: savepoint: %w", err))
			return
		}
		// If a statement of fn was interrupted (its caller's context ended),
		// SQLite may have rolled back the whole transaction: then ROLLBACK TO
		// fails below and the batch fails as a whole, nothing committed.
		// The shop's hot paths run their statements without cancellation.
		if errs[i] = j.fn(tx); errs[i] != nil {
			if _, err := db.txExec(ctx, tx, "ROLLBACK TO SAVEPOINT job"); err != nil {
				tx.Rollback()
				fail(fmt.Errorf("store: rollback to savepoint: %w (after %w)", err, errs[i]))
				return
			}
		}
		if _, err := db.txExec(ctx, tx, "RELEASE SAVEPOINT job"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("store: release savepoint: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("store: commit: %w", err))
		return
	}
	for i, j := range batch {
		j.done <- errs[i]
	}
}

// hotStatements are prepared on the write connection when the database is
// opened (the writer holds that one connection inside its transactions, so
// nothing can be prepared on it later); parsing SQL is a large part of a
// small write. Other statements run unprepared.
var hotStatements = []string{
	"SAVEPOINT job",
	"ROLLBACK TO SAVEPOINT job",
	"RELEASE SAVEPOINT job",
	insertOrderSQL,
	selectOrderSQL,
	insertNotificationSQL,
	payOrderSQL,
}

func (db *DB) prepareHot(ctx context.Context) error {
	db.stmts = map[string]*sql.Stmt{}
	for _, q := range hotStatements {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", q, err)
		}
		db.stmts[q] = st
	}
	return nil
}

// prepared returns query bound to tx when it is a hot statement, else nil.
func (db *DB) prepared(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if st, ok := db.stmts[query]; ok {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.prepared(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := db.prepared(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
