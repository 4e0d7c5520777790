package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"

	"alishop/internal/shop"
	"alishop/internal/store/sqlstore"
)

// Group commit. Every write is a job run by one writer goroutine on the
// single write connection. The writer takes every job already waiting (up
// to maxBatch), runs each inside its own SAVEPOINT of one transaction, and
// commits once: one fsync makes the whole batch durable. A job's caller
// gets its result only after that commit, so "committed" still means "on
// disk"; a failing job is rolled back to its savepoint without touching
// the others in the batch.
//
// The writer owns the context of every statement: a job's function is given
// the batch's context, which is never cancelled, so a caller that goes away
// cannot interrupt a statement (SQLite rolls back the whole transaction when
// a write statement is interrupted). Should a job still end the transaction
// (say, by using a context of its own), that job fails and the other jobs of
// the batch run again in a new transaction: no job can undo another's write.

// Receive implements shop.Store: the message, its order's read, the
// decision and its changes are one job of the writer (sqlstore's
// ReceiveTx), committed with the batch it runs in. decide may be called
// more than once (the transaction ran again); only the decision returned
// was applied.
func (db *DB) Receive(ctx context.Context, m *shop.Inbound, decide shop.Decide) (shop.Decision, error) {
	var d shop.Decision
	err := db.wr.Write(ctx, func(ctx context.Context, tx *sqlstore.Tx) error {
		var err error
		d, err = db.ReceiveTx(ctx, tx, m, decide)
		return err
	})
	if err != nil {
		return shop.Decision{}, err
	}
	return d, nil
}

const maxBatch = 128

type writeJob struct {
	fn   func(ctx context.Context, tx *sqlstore.Tx) error
	done chan error
}

// writer is the one goroutine that writes, on the connection w.
type writer struct {
	w             *sql.DB
	stmts         map[string]*sql.Stmt // prepared on w; read-only once started
	jobs          chan *writeJob
	quit, stopped chan struct{}
	stopOnce      sync.Once
	closing       sync.RWMutex // guards closed
	closed        bool
}

// savepoints are the statements the writer runs around every job.
const (
	savepointSQL = "SAVEPOINT job"
	rollbackSQL  = "ROLLBACK TO SAVEPOINT job"
	releaseSQL   = "RELEASE SAVEPOINT job"
)

// startWriter prepares the hot statements on w (the writer holds w's one
// connection inside its transactions, so nothing can be prepared on it
// later; parsing SQL is a large part of a small write) and starts the
// writer.
func startWriter(ctx context.Context, w *sql.DB) (*writer, error) {
	wr := &writer{w: w, stmts: map[string]*sql.Stmt{}, jobs: make(chan *writeJob, maxBatch),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	for _, q := range append([]string{savepointSQL, rollbackSQL, releaseSQL}, sqlstore.HotStatements...) {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			wr.closeStmts()
			return nil, fmt.Errorf("store: prepare %q: %w", q, err)
		}
		wr.stmts[q] = st
	}
	go wr.run()
	return wr, nil
}

func (wr *writer) closeStmts() {
	for _, st := range wr.stmts {
		st.Close()
	}
}

// stop refuses new writes, lets the writer finish those queued, and
// waits for it.
func (wr *writer) stop() {
	wr.stopOnce.Do(func() {
		wr.closing.Lock() // waits for jobs being queued; no new ones after
		wr.closed = true
		wr.closing.Unlock()
		close(wr.quit)
	})
	<-wr.stopped
}

func (wr *writer) run() {
	defer close(wr.stopped)
	defer wr.closeStmts()
	for {
		var j *writeJob
		select {
		case j = <-wr.jobs:
		case <-wr.quit:
			// Finish what was queued before the stop.
			for {
				select {
				case j := <-wr.jobs:
					wr.runBatch([]*writeJob{j})
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
			case j := <-wr.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		wr.runBatch(batch)
	}
}

// Write implements sqlstore.Writer: fn runs in the writer's transaction,
// shared with the other jobs of its batch, and Write returns once that
// transaction is committed (or with fn's error, fn's changes rolled back).
func (wr *writer) Write(ctx context.Context, fn func(ctx context.Context, tx *sqlstore.Tx) error) error {
	j := &writeJob{fn: fn, done: make(chan error, 1)}
	wr.closing.RLock()
	if wr.closed {
		wr.closing.RUnlock()
		return sqlstore.ErrClosed
	}
	select {
	case wr.jobs <- j:
		wr.closing.RUnlock()
	case <-ctx.Done():
		wr.closing.RUnlock()
		return ctx.Err()
	}
	// Once queued the job runs; wait for its real outcome whatever ctx
	// does, so a caller never reports a failure that was in fact committed.
	return <-j.done
}

// runBatch runs batch as one transaction and sends each job its result
// once the transaction is over. A job that ends the transaction gets its
// error and the others run again without it.
func (wr *writer) runBatch(batch []*writeJob) {
	for len(batch) > 0 {
		batch = wr.tryBatch(batch)
	}
}

// tryBatch runs batch in one transaction. It returns the jobs to run again
// when one job ended the transaction (that one has its result); otherwise
// every job has its result and it returns nil.
func (wr *writer) tryBatch(batch []*writeJob) (again []*writeJob) {
	ctx := context.Background()
	fail := func(err error) []*writeJob {
		for _, j := range batch {
			j.done <- err
		}
		return nil
	}
	sqlTx, err := wr.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(fmt.Errorf("store: begin: %w", err))
	}
	tx := sqlstore.NewTx(sqlTx, wr.stmts)
	// lost: job i's statements ended the transaction (ROLLBACK TO or
	// RELEASE of its savepoint fails when SQLite rolled everything back).
	lost := func(i int, err error) []*writeJob {
		tx.Rollback()
		batch[i].done <- err
		return append(append(again, batch[:i]...), batch[i+1:]...)
	}
	errs := make([]error, len(batch))
	for i, j := range batch {
		if _, err := tx.Exec(ctx, savepointSQL); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("store: savepoint: %w", err))
		}
		if errs[i] = j.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.Exec(ctx, rollbackSQL); err != nil {
				return lost(i, fmt.Errorf("store: rollback to savepoint: %w (after %w)", err, errs[i]))
			}
		}
		if _, err := tx.Exec(ctx, releaseSQL); err != nil {
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
