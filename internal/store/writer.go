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
//
// The writer owns the context of every statement: a job's function is given
// the batch's context, which is never cancelled, so a caller that goes away
// cannot interrupt a statement (SQLite rolls back the whole transaction when
// a write statement is interrupted). Should a job still end the transaction
// (say, by using a context of its own), that job fails and the other jobs of
// the batch run again in a new transaction: no job can undo another's write.

const maxBatch = 128

type writeJob struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
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
		db.stopReceivers()
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
// error. fn must only use tx, with the context it is given: ctx only bounds
// the wait for a place in the queue. fn may run more than once (on SQLite
// when another job of its batch ended the transaction, on PostgreSQL after
// a deadlock or a serialization failure), so it must set its results afresh
// on every run.
func (db *DB) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
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

// runBatch runs batch as one transaction and sends each job its result
// once the transaction is over. A job that ends the transaction gets its
// error and the others run again without it.
func (db *DB) runBatch(batch []*writeJob) {
	for len(batch) > 0 {
		batch = db.tryBatch(batch)
	}
}

// tryBatch runs batch in one transaction. It returns the jobs to run again
// when one job ended the transaction (that one has its result); otherwise
// every job has its result and it returns nil.
func (db *DB) tryBatch(batch []*writeJob) (again []*writeJob) {
	ctx := context.Background()
	fail := func(err error) []*writeJob {
		for _, j := range batch {
			j.done <- err
		}
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(fmt.Errorf("store: begin: %w", err))
	}
	// lost: job i's statements ended the transaction (ROLLBACK TO or
	// RELEASE of its savepoint fails when SQLite rolled everything back).
	lost := func(i int, err error) []*writeJob {
		tx.Rollback()
		batch[i].done <- err
		return append(append(again, batch[:i]...), batch[i+1:]...)
	}
	errs := make([]error, len(batch))
	for i, j := range batch {
		if _, err := db.txExec(ctx, tx, "SAVEPOINT job"); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("store: savepoint: %w", err))
		}
		if errs[i] = j.fn(ctx, tx); errs[i] != nil {
			if _, err := db.txExec(ctx, tx, "ROLLBACK TO SAVEPOINT job"); err != nil {
				return lost(i, fmt.Errorf("store: rollback to savepoint: %w (after %w)", err, errs[i]))
			}
		}
		if _, err := db.txExec(ctx, tx, "RELEASE SAVEPOINT job"); err != nil {
			if errs[i] == nil {
				errs[i] = err
			}
			return lost(i, fmt.Errorf("store: release savepoint: %w", errs[i]))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("store: commit: %w", err))
	}
	for i, j := range batch {
		j.done <- errs[i]
	}
	return nil
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
	countRepeatSQL,
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
