// Package jobs runs durable background work kept in the database: the
// reconciliation of unpaid orders, the settling of refunds and the daily bill
// check (issue 5). A job is a row (kind, ref) with the time it is due; a
// worker claims a due job by compare-and-set on its lease, runs it, and then
// either finishes it or moves it to a later time. Nothing is kept in process
// memory: a restart loses no scheduled job, a job whose worker died runs again
// when its lease expires, and two processes on one database never run the
// same job at the same time (the lease is claimed in one UPDATE and every
// later write is fenced by the claim's token).
//
// Because a worker can die after a job's effect and before it is finished,
// a job may run again; every job is written so that running it again is
// harmless (its effects are compare-and-set state changes and idempotent
// Alipay calls with the same parameters).
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Job kinds.
const (
	KindOrder  = "order"  // ref: out_trade_no; reconcile an unpaid order, close it when expired
	KindRefund = "refund" // ref: out_request_no; settle a refund whose outcome is unknown
	KindBill   = "bill"   // ref: yyyy-mm-dd (Beijing); compare that day's bill with the orders
)

// Job is one claimed job.
type Job struct {
	ID       int64
	Kind     string
	Ref      string
	RunAt    time.Time
	Attempts int    // claims so far, this one included
	Token    string // the claim's fencing token
	LastErr  string
}

// Queue is the durable job table (implemented by *store.DB).
type Queue interface {
	// ClaimJob leases one due job (run_at <= now, not done, no live lease)
	// to token until now+lease, or returns nil when none is due.
	ClaimJob(ctx context.Context, token string, now time.Time, lease time.Duration) (*Job, error)
	// FinishJob marks the job done if token still holds its lease.
	FinishJob(ctx context.Context, id int64, token string, now time.Time) (bool, error)
	// RetryJob releases the lease and makes the job due again at runAt.
	RetryJob(ctx context.Context, id int64, token string, runAt time.Time, lastErr string, now time.Time) (bool, error)
}

// Result is what a handler decides about its job.
type Result struct {
	Done    bool      // the job is finished for good
	RetryAt time.Time // otherwise: when to run it again
	Err     error     // why (kept in last_error, logged)
}

// Handler runs one job of a kind.
type Handler func(ctx context.Context, j *Job) Result

// Config configures a Runner.
type Config struct {
	Queue    Queue
	Handlers map[string]Handler
	// Before is called at the start of every poll (e.g. to schedule a job
	// for every order that needs one); an error is logged.
	Before func(ctx context.Context, now time.Time) error
	Now    func() time.Time // default time.Now
	// Poll is how often (real time) the runner looks for due jobs when idle;
	// default 1s.
	Poll time.Duration
	// Lease is how long a claimed job stays leased; a handler gets a context
	// that ends a little before. Default 2 minutes.
	Lease time.Duration
	// Workers is how many jobs run at once; default 2.
	Workers int
	Logger  *slog.Logger
	// Name identifies this process in claim tokens (default: random).
	Name string
}

// Runner claims and runs due jobs.
type Runner struct {
	cfg  Config
	name string
	log  *slog.Logger
}

// New returns a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Queue == nil {
		return nil, errors.New("jobs: no queue")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	r := &Runner{cfg: cfg, name: cfg.Name, log: cfg.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.name == "" {
		r.name = randomHex(4)
	}
	return r, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Run polls and runs jobs until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunDue runs Before, then claims and runs jobs until none is due, with up
// to Workers at once. It returns how many jobs it ran.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	if r.cfg.Before != nil {
		if err := r.cfg.Before(ctx, r.cfg.Now()); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			r.log.Warn("jobs: scheduling failed", "err", err)
		}
	}
	var (
		mu    sync.Mutex
		ran   int
		first error
		wg    sync.WaitGroup
	)
	for w := 0; w < r.cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				ok, err := r.runOne(ctx)
				mu.Lock()
				if ok {
					ran++
				}
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
				if !ok || err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return ran, first
}

// runOne claims one due job and runs it; false when none was due.
func (r *Runner) runOne(ctx context.Context) (bool, error) {
	token := r.name + "-" + randomHex(8)
	now := r.cfg.Now()
	j, err := r.cfg.Queue.ClaimJob(ctx, token, now, r.cfg.Lease)
	if err != nil || j == nil {
		return false, err
	}
	h := r.cfg.Handlers[j.Kind]
	var res Result
	if h == nil {
		res = Result{RetryAt: now.Add(time.Hour), Err: fmt.Errorf("no handler for job kind %q", j.Kind)}
	} else {
		// The handler must be done well before the lease ends, so that no
		// other worker can claim the job while it still runs.
		hctx, cancel := context.WithTimeout(ctx, r.cfg.Lease*3/4)
		res = r.safeRun(hctx, h, j)
		cancel()
	}
	if ctx.Err() != nil {
		// Stopping: hand the job back so that the next start (or another
		// process) runs it at once rather than when the lease runs out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = r.cfg.Queue.RetryJob(rctx, j.ID, token, r.cfg.Now(), "interrupted by shutdown", r.cfg.Now())
		cancel()
		return false, nil
	}
	now = r.cfg.Now()
	var held bool
	if res.Done {
		held, err = r.cfg.Queue.FinishJob(ctx, j.ID, token, now)
	} else {
		at := res.RetryAt
		if at.IsZero() {
			at = now.Add(time.Minute)
		}
		msg := ""
		if res.Err != nil {
			msg = res.Err.Error()
			r.log.Info("job will run again", "kind", j.Kind, "ref", j.Ref, "attempt", j.Attempts, "at", at, "err", res.Err)
		}
		held, err = r.cfg.Queue.RetryJob(ctx, j.ID, token, at, msg, now)
	}
	if err != nil {
		return true, err
	}
	if !held {
		r.log.Warn("jobs: lease lost before the job was written back", "kind", j.Kind, "ref", j.Ref)
	}
	return true, nil
}

func (r *Runner) safeRun(ctx context.Context, h Handler, j *Job) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("job panicked", "kind", j.Kind, "ref", j.Ref, "panic", p)
			res = Result{RetryAt: r.cfg.Now().Add(time.Hour), Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return h(ctx, j)
}

// Backoff returns the delay before attempt n (1-based) from schedule,
// repeating its last entry.
func Backoff(schedule []time.Duration, n int) time.Duration {
	if len(schedule) == 0 {
		return time.Minute
	}
	if n < 1 {
		n = 1
	}
	if n > len(schedule) {
		n = len(schedule)
	}
	return schedule[n-1]
}
