package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"alishop/internal/jobs"
	"alishop/internal/store"
)

func openTwo(t *testing.T) (*store.DB, *store.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	ctx := context.Background()
	a, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Two processes (two connections pools, two runners) on one database run
// every job exactly once.
func TestTwoWorkersNeverRunAJobTwice(t *testing.T) {
	t.Parallel()
	a, b := openTwo(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const n = 300
	for i := 0; i < n; i++ {
		if err := a.EnqueueJob(ctx, jobs.KindBill, fmt.Sprintf("job-%03d", i), now.Add(-time.Duration(i)*time.Second), now); err != nil {
			t.Fatal(err)
		}
	}
	// Enqueueing again changes nothing.
	if err := b.EnqueueJob(ctx, jobs.KindBill, "job-000", now, now); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	runs := map[string][]string{}
	handler := func(who string) jobs.Handler {
		return func(ctx context.Context, j *jobs.Job) jobs.Result {
			mu.Lock()
			runs[j.Ref] = append(runs[j.Ref], who)
			mu.Unlock()
			return jobs.Result{Done: true}
		}
	}
	clock := func() time.Time { return now }
	ra, err := jobs.New(jobs.Config{Queue: a, Handlers: map[string]jobs.Handler{jobs.KindBill: handler("a")}, Now: clock, Workers: 3, Logger: quiet, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := jobs.New(jobs.Config{Queue: b, Handlers: map[string]jobs.Handler{jobs.KindBill: handler("b")}, Now: clock, Workers: 3, Logger: quiet, Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, r := range []*jobs.Runner{ra, rb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := r.RunDue(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = c
		}()
	}
	wg.Wait()
	if len(runs) != n {
		t.Fatalf("%d jobs ran, want %d", len(runs), n)
	}
	for ref, who := range runs {
		if len(who) != 1 {
			t.Errorf("job %s ran %d times (%v)", ref, len(who), who)
		}
	}
	if counts[0]+counts[1] != n {
		t.Errorf("runners report %d+%d runs, want %d", counts[0], counts[1], n)
	}
	t.Logf("runner a ran %d jobs, runner b %d", counts[0], counts[1])
	left, err := a.Jobs(ctx, "", false)
	if err != nil || len(left) != 0 {
		t.Fatalf("jobs left: %v %v", left, err)
	}
}

// A job claimed by a worker that dies is not lost: when the lease runs out
// another worker runs it, and the dead worker's token can no longer write.
func TestLeaseExpiryAndFencing(t *testing.T) {
	t.Parallel()
	a, b := openTwo(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := a.EnqueueJob(ctx, jobs.KindOrder, "o1", now, now); err != nil {
		t.Fatal(err)
	}
	j, err := a.ClaimJob(ctx, "", "dead", now, time.Minute)
	if err != nil || j == nil {
		t.Fatalf("claim: %v %v", j, err)
	}
	if j2, err := b.ClaimJob(ctx, "", "other", now.Add(30*time.Second), time.Minute); err != nil || j2 != nil {
		t.Fatalf("a leased job was claimed again: %v %v", j2, err)
	}
	j2, err := b.ClaimJob(ctx, "", "other", now.Add(61*time.Second), time.Minute)
	if err != nil || j2 == nil || j2.Ref != "o1" || j2.Attempts != 2 {
		t.Fatalf("expired lease not reclaimed: %+v %v", j2, err)
	}
	if ok, err := a.FinishJob(ctx, j.ID, "dead", now.Add(62*time.Second)); err != nil || ok {
		t.Fatalf("stale token finished the job: %v %v", ok, err)
	}
	if ok, err := b.RetryJob(ctx, j2.ID, "other", now.Add(time.Hour), "later", now.Add(62*time.Second)); err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if j3, _ := a.ClaimJob(ctx, "", "x", now.Add(59*time.Minute), time.Minute); j3 != nil {
		t.Fatal("job claimed before it was due")
	}
	j3, err := a.ClaimJob(ctx, "", "x", now.Add(61*time.Minute), time.Minute)
	if err != nil || j3 == nil || j3.LastErr != "later" {
		t.Fatalf("retried job: %+v %v", j3, err)
	}
	if ok, _ := a.FinishJob(ctx, j3.ID, "x", now.Add(61*time.Minute)); !ok {
		t.Fatal("finish failed")
	}
	if j4, _ := b.ClaimJob(ctx, "", "y", now.Add(100*time.Hour), time.Minute); j4 != nil {
		t.Fatal("a finished job was claimed")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	s := []time.Duration{time.Minute, time.Hour}
	for n, want := range map[int]time.Duration{0: time.Minute, 1: time.Minute, 2: time.Hour, 9: time.Hour} {
		if got := jobs.Backoff(s, n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// A job interrupted by shutdown is handed back, due at once, not left
// leased until its lease runs out.
func TestShutdownHandsJobBack(t *testing.T) {
	t.Parallel()
	a, _ := openTwo(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := a.EnqueueJob(context.Background(), jobs.KindOrder, "o1", now, now); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := jobs.New(jobs.Config{Queue: a, Now: func() time.Time { return now }, Logger: quiet, Workers: 1,
		Handlers: map[string]jobs.Handler{jobs.KindOrder: func(hctx context.Context, j *jobs.Job) jobs.Result {
			cancel() // the process is told to stop while the job runs
			<-hctx.Done()
			return jobs.Result{RetryAt: now.Add(time.Hour), Err: hctx.Err()}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunDue(ctx); err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	j, err := a.ClaimJob(context.Background(), "", "next", now, time.Minute)
	if err != nil || j == nil || j.LastErr != "interrupted by shutdown" {
		t.Fatalf("job after shutdown: %+v %v", j, err)
	}
}

// fakeClock is a clock the test moves by hand, shared by two runners.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mortalQueue is the queue of a process that can be killed: once dead,
// none of its writes reach the database.
type mortalQueue struct {
	jobs.Queue
	mu     sync.Mutex
	dead   bool
	renews int
}

func (q *mortalQueue) RenewJob(ctx context.Context, id int64, token string, now time.Time, lease time.Duration) (bool, error) {
	if err := q.alive(); err != nil {
		return false, err
	}
	ok, err := q.Queue.RenewJob(ctx, id, token, now, lease)
	q.mu.Lock()
	q.renews++
	q.mu.Unlock()
	return ok, err
}

func (q *mortalQueue) alive() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return fmt.Errorf("process killed")
	}
	return nil
}

func (q *mortalQueue) ClaimJob(ctx context.Context, kind, token string, now time.Time, lease time.Duration) (*jobs.Job, error) {
	if err := q.alive(); err != nil {
		return nil, err
	}
	return q.Queue.ClaimJob(ctx, kind, token, now, lease)
}

func (q *mortalQueue) FinishJob(ctx context.Context, id int64, token string, now time.Time) (bool, error) {
	if err := q.alive(); err != nil {
		return false, err
	}
	return q.Queue.FinishJob(ctx, id, token, now)
}

func (q *mortalQueue) RetryJob(ctx context.Context, id int64, token string, runAt time.Time, lastErr string, now time.Time) (bool, error) {
	if err := q.alive(); err != nil {
		return false, err
	}
	return q.Queue.RetryJob(ctx, id, token, runAt, lastErr, now)
}

func (q *mortalQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.renews
}

func (q *mortalQueue) kill() {
	q.mu.Lock()
	q.dead = true
	q.mu.Unlock()
}

// waitFor polls cond until it holds, failing the test after a long while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Two processes with short leases: while process a runs a long job it
// renews the lease, so b never takes the job however long it runs; once a
// stops renewing (it was killed), b takes the job over as soon as the last
// lease ends, and a's handler is told the lease is lost.
func TestRenewedLeaseAndTakeOver(t *testing.T) {
	t.Parallel()
	da, db := openTwo(t)
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	if err := da.EnqueueJob(context.Background(), jobs.KindOrder, "o1", clock.Now(), clock.Now()); err != nil {
		t.Fatal(err)
	}
	const lease = 15 * time.Second
	qa := &mortalQueue{Queue: da}
	startedA, leaseLostA := make(chan struct{}), make(chan error, 1)
	ra, err := jobs.New(jobs.Config{Queue: qa, Now: clock.Now, Logger: quiet, Name: "a", Workers: 1,
		Lease: lease, Renew: 5 * time.Millisecond, Poll: 5 * time.Millisecond,
		Handlers: map[string]jobs.Handler{jobs.KindOrder: func(ctx context.Context, j *jobs.Job) jobs.Result {
			close(startedA)
			<-ctx.Done()
			leaseLostA <- context.Cause(ctx)
			return jobs.Result{Done: true}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ranB []string
	rb, err := jobs.New(jobs.Config{Queue: db, Now: clock.Now, Logger: quiet, Name: "b", Workers: 1,
		Lease: lease, Poll: 5 * time.Millisecond,
		Handlers: map[string]jobs.Handler{jobs.KindOrder: func(ctx context.Context, j *jobs.Job) jobs.Result {
			mu.Lock()
			ranB = append(ranB, fmt.Sprintf("%s attempt %d", j.Ref, j.Attempts))
			mu.Unlock()
			return jobs.Result{Done: true}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { ra.Run(ctx) })
	<-startedA
	wg.Go(func() { rb.Run(ctx) })

	// Three times two thirds of a lease pass; a renews in between, so its
	// lease never runs out (two renewals after each step: the second read
	// the clock after the step).
	for range 3 {
		clock.Add(lease * 2 / 3)
		n := qa.count()
		waitFor(t, "a renewal", func() bool { return qa.count() >= n+2 })
	}
	mu.Lock()
	if len(ranB) != 0 {
		t.Fatalf("b ran the job while a held a renewed lease: %v", ranB)
	}
	mu.Unlock()

	qa.kill()
	clock.Add(lease + time.Second)
	waitFor(t, "b to take the job over", func() bool { mu.Lock(); defer mu.Unlock(); return len(ranB) == 1 })
	if err := <-leaseLostA; err == nil || err.Error() != "jobs: lease lost" {
		t.Fatalf("a's handler ended with %v, want the lease lost", err)
	}
	mu.Lock()
	if ranB[0] != "o1 attempt 2" {
		t.Fatalf("b ran %v", ranB)
	}
	mu.Unlock()
	waitFor(t, "the job done", func() bool {
		left, err := da.Jobs(context.Background(), "", false)
		return err == nil && len(left) == 0
	})
}

// Each kind has its own workers: while a bill job is stuck, order jobs
// still run.
func TestSlowKindDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	a, _ := openTwo(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	bg := context.Background()
	if err := a.EnqueueJob(bg, jobs.KindBill, "2026-11-24", now, now); err != nil {
		t.Fatal(err)
	}
	billStarted, release := make(chan struct{}), make(chan struct{})
	orderRan := make(chan string, 10)
	r, err := jobs.New(jobs.Config{Queue: a, Now: func() time.Time { return now }, Logger: quiet, Workers: 1, Poll: 5 * time.Millisecond,
		Handlers: map[string]jobs.Handler{
			jobs.KindBill: func(ctx context.Context, j *jobs.Job) jobs.Result {
				close(billStarted)
				select {
				case <-release:
				case <-ctx.Done():
				}
				return jobs.Result{Done: true}
			},
			jobs.KindOrder: func(ctx context.Context, j *jobs.Job) jobs.Result {
				orderRan <- j.Ref
				return jobs.Result{Done: true}
			},
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	defer func() { close(release); cancel(); wg.Wait() }()
	wg.Go(func() { r.Run(ctx) })
	<-billStarted
	for _, ref := range []string{"o1", "o2"} {
		if err := a.EnqueueJob(bg, jobs.KindOrder, ref, now, now); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-orderRan:
			if got != ref {
				t.Fatalf("ran order job %s, want %s", got, ref)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("order job %s did not run while the bill job was stuck", ref)
		}
	}
}

// countingQueue counts the claims a runner makes.
type countingQueue struct {
	jobs.Queue
	mu     sync.Mutex
	claims int
}

func (q *countingQueue) ClaimJob(ctx context.Context, kind, token string, now time.Time, lease time.Duration) (*jobs.Job, error) {
	q.mu.Lock()
	q.claims++
	q.mu.Unlock()
	return q.Queue.ClaimJob(ctx, kind, token, now, lease)
}

func (q *countingQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims
}

// An idle runner claims nothing (a claim is a write) after its workers'
// first look, however many polls go by; a job that becomes due is still
// run within a poll or two.
func TestIdleRunnerDoesNotClaim(t *testing.T) {
	t.Parallel()
	a, _ := openTwo(t)
	q := &countingQueue{Queue: a}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ran := make(chan string, 1)
	handler := func(ctx context.Context, j *jobs.Job) jobs.Result {
		ran <- j.Ref
		return jobs.Result{Done: true}
	}
	const workers = 2
	r, err := jobs.New(jobs.Config{Queue: q, Now: func() time.Time { return now }, Logger: quiet, Workers: workers, Poll: 2 * time.Millisecond,
		Handlers: map[string]jobs.Handler{jobs.KindBill: handler, jobs.KindOrder: handler}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { r.Run(ctx) })
	time.Sleep(200 * time.Millisecond) // about 100 polls
	if n, first := q.count(), 2*workers; n > first {
		t.Fatalf("an idle runner claimed %d times; want only its %d workers' first claims", n, first)
	}
	if err := a.EnqueueJob(ctx, jobs.KindOrder, "o1", now, now); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-ran:
		if got != "o1" {
			t.Fatalf("ran %s", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the job due now did not run")
	}
}
