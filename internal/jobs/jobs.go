// Package jobs runs durable background work kept in the database: the
// reconciliation of unpaid orders, the settling of refunds and the daily bill
// check. A job is a row (kind, ref) with the time it is due; a worker claims
// a due job by compare-and-set on its lease, runs it, and then either
// finishes it or moves it to a later time. Nothing is kept in process
// memory: a restart loses no scheduled job, and two processes on one
// database never run the same job at the same time (the lease is claimed in
// one UPDATE and every later write is fenced by the claim's token).
//
// Leases are short (15 s by default) and renewed while the job runs, so the
// jobs of a process that dies are taken over by another within about one
// lease. Each kind of job has its own long-lived workers: a slow job (a bill
// download) never delays a job of another kind.
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
	"slices"
	"sync"
	"time"
)

// Job kinds.
const (
	KindOrder  = "order"  // ref: out_trade_no; reconcile an unpaid order, close it when expired
	KindRefund = "refund" // ref: out_request_no; settle a refund whose outcome is unknown
	KindPayout = "payout" // ref: out_biz_no; settle a payout (transfer) whose outcome is unknown
	KindBill   = "bill"   // ref: yyyy-mm-dd (Beijing); compare that day's bill with the orders
	// KindComplete: ref: out_trade_no; complete a shipped order whose buyer
	// has not confirmed receipt in time.
	KindComplete = "complete"
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
	// ClaimJob leases one due job of kind ("" for any kind; due: run_at <=
	// now, not done, no live lease) to token until now+lease, or returns nil
	// when none is due.
	ClaimJob(ctx context.Context, kind, token string, now time.Time, lease time.Duration) (*Job, error)
	// DueKinds returns the kinds that have a job ClaimJob would lease at
	// now, claiming none: a read, so that idle workers write nothing.
	DueKinds(ctx context.Context, now time.Time) ([]string, error)
	// RenewJob extends the lease to now+lease if token still holds it.
	RenewJob(ctx context.Context, id int64, token string, now time.Time, lease time.Duration) (bool, error)
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
	// Before is called every Poll by Run, and once at the start of RunDue
	// (e.g. to schedule a job for every order that needs one); an error is
	// logged.
	Before func(ctx context.Context, now time.Time) error
	Now    func() time.Time // default time.Now
	// Poll is how often (real time) Run looks for due jobs while its
	// workers are idle; default 1s.
	Poll time.Duration
	// Lease is how long a claim lasts unless renewed; default 15s. A
	// process that dies leaves its jobs to others after at most this.
	Lease time.Duration
	// Renew is how often (real time) the lease of a running job is
	// renewed; default Lease/3.
	Renew time.Duration
	// MaxRun bounds one run of a handler; default 5 minutes.
	MaxRun time.Duration
	// Workers is how many jobs of each kind run at once; default 2.
	Workers int
	Logger  *slog.Logger
	// Name identifies this process in claim tokens (default: random).
	Name string
}

// Runner claims and runs due jobs.
type Runner struct {
	cfg   Config
	name  string
	log   *slog.Logger
	kinds []string // the kinds with a handler, sorted
}

// errLeaseLost ends a handler's context when its lease can no longer be
// renewed: another worker may claim the job.
var errLeaseLost = errors.New("jobs: lease lost")

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
		cfg.Lease = 15 * time.Second
	}
	if cfg.Renew <= 0 || cfg.Renew >= cfg.Lease {
		cfg.Renew = cfg.Lease / 3
	}
	if cfg.MaxRun <= 0 {
		cfg.MaxRun = 5 * time.Minute
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
	for k := range cfg.Handlers {
		r.kinds = append(r.kinds, k)
	}
	slices.Sort(r.kinds)
	return r, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Run runs jobs until ctx ends: for each kind Workers long-lived workers
// claim and run that kind's due jobs one after the other. A worker that
// finds none waits; every Poll one look-out runs Before, asks the queue
// which kinds have a due job (DueKinds, a read) and wakes those kinds'
// workers, so an idle process claims nothing and takes no write lock.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wake := make(map[string]chan struct{}, len(r.kinds))
	for _, kind := range r.kinds {
		wake[kind] = make(chan struct{}, r.cfg.Workers)
	}
	wg.Go(func() {
		for {
			r.before(ctx)
			r.wakeDue(ctx, wake)
			if !r.sleep(ctx) {
				return
			}
		}
	})
	for _, kind := range r.kinds {
		for range r.cfg.Workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					ran, err := r.runOne(ctx, kind)
					if err != nil && ctx.Err() == nil {
						r.log.Warn("jobs: claim or write-back failed", "kind", kind, "err", err)
					}
					if ran && err == nil {
						continue
					}
					select {
					case <-wake[kind]:
					case <-ctx.Done():
						return
					}
				}
			})
		}
	}
	wg.Wait()
}

// wakeDue wakes the workers of every kind with a due job, or of every kind
// when the queue cannot tell (they claim, as they would anyway).
func (r *Runner) wakeDue(ctx context.Context, wake map[string]chan struct{}) {
	due, err := r.cfg.Queue.DueKinds(ctx, r.cfg.Now())
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("jobs: looking for due jobs failed", "err", err)
		due = r.kinds
	}
	for _, kind := range due {
		ch := wake[kind]
		for range cap(ch) {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// sleep waits one Poll; false when ctx ended first.
func (r *Runner) sleep(ctx context.Context) bool {
	t := time.NewTimer(r.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *Runner) before(ctx context.Context) {
	if r.cfg.Before == nil {
		return
	}
	if err := r.cfg.Before(ctx, r.cfg.Now()); err != nil && ctx.Err() == nil {
		r.log.Warn("jobs: scheduling failed", "err", err)
	}
}

// RunDue runs Before, then claims and runs due jobs until none is left, with
// up to Workers of each kind at once. It returns how many jobs it ran. Tests
// and one-off commands drive the jobs with it; a server uses Run.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	r.before(ctx)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var (
		mu    sync.Mutex
		ran   int
		first error
		wg    sync.WaitGroup
	)
	for _, kind := range r.kinds {
		for range r.cfg.Workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					ok, err := r.runOne(ctx, kind)
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
			})
		}
	}
	wg.Wait()
	return ran, first
}

// runOne claims one due job of kind and runs it, renewing its lease while it
// runs; false when none was due.
func (r *Runner) runOne(ctx context.Context, kind string) (bool, error) {
	token := r.name + "-" + randomHex(8)
	now := r.cfg.Now()
	j, err := r.cfg.Queue.ClaimJob(ctx, kind, token, now, r.cfg.Lease)
	if err != nil || j == nil {
		return false, err
	}
	hctx, cancel := context.WithCancelCause(ctx)
	hctx, cancelRun := context.WithTimeout(hctx, r.cfg.MaxRun)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.keepLease(hctx, cancel, j, now.Add(r.cfg.Lease))
	}()
	res := r.safeRun(hctx, r.cfg.Handlers[kind], j)
	cancelRun()
	cancel(nil)
	<-renewed
	if ctx.Err() != nil {
		// Stopping: hand the job back so that the next start (or another
		// process) runs it at once rather than when the lease runs out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = r.cfg.Queue.RetryJob(rctx, j.ID, token, r.cfg.Now(), "interrupted by shutdown", r.cfg.Now())
		cancel()
		return false, nil
	}
	if errors.Is(context.Cause(hctx), errLeaseLost) {
		// The job may be another worker's by now: leave it to that one (or
		// to the next claim), which runs it again.
		r.log.Warn("jobs: lease lost while the job ran; it runs again", "kind", j.Kind, "ref", j.Ref)
		return true, nil
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

// keepLease renews j's lease every Renew until ctx ends. When the lease is
// taken by another token, or cannot be renewed before it is about to run
// out, it ends the handler's context with errLeaseLost: the handler must
// stop before another worker may claim the job.
func (r *Runner) keepLease(ctx context.Context, cancel context.CancelCauseFunc, j *Job, until time.Time) {
	t := time.NewTicker(r.cfg.Renew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := r.cfg.Now()
		rctx, cancelRenew := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Renew)
		held, err := r.cfg.Queue.RenewJob(rctx, j.ID, j.Token, now, r.cfg.Lease)
		cancelRenew()
		switch {
		case err == nil && held:
			until = now.Add(r.cfg.Lease)
		case err == nil:
			cancel(errLeaseLost)
			return
		case !r.cfg.Now().Before(until.Add(-r.cfg.Renew)):
			r.log.Warn("jobs: lease not renewed", "kind", j.Kind, "ref", j.Ref, "err", err)
			cancel(errLeaseLost)
			return
		}
	}
}

func (r *Runner) safeRun(ctx context.Context, h Handler, j *Job) (res Result) {
	if h == nil {
		return Result{RetryAt: r.cfg.Now().Add(time.Hour), Err: fmt.Errorf("no handler for job kind %q", j.Kind)}
	}
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
