package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	if db.stop == nil {
		return
	}
	close(db.stop)
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

// write runs fn in a write transaction (shared with other jobs of the same
// batch) and returns once the transaction is committed, or fn's error.
// fn must only use tx, and may be retried never: it runs at most once.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	j := &writeJob{fn: fn, done: make(chan error, 1)}
	select {
	case db.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.stop:
		return errClosed
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
		if _, err := tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("store: savepoint: %w", err))
			return
		}
		if errs[i] = j.fn(tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT job"); err != nil {
				tx.Rollback()
				fail(fmt.Errorf("store: rollback to savepoint: %w (after %w)", err, errs[i]))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT job"); err != nil {
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
