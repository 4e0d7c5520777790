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
	a, b := openTwo(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := a.EnqueueJob(ctx, jobs.KindOrder, "o1", now, now); err != nil {
		t.Fatal(err)
	}
	j, err := a.ClaimJob(ctx, "dead", now, time.Minute)
	if err != nil || j == nil {
		t.Fatalf("claim: %v %v", j, err)
	}
	if j2, err := b.ClaimJob(ctx, "other", now.Add(30*time.Second), time.Minute); err != nil || j2 != nil {
		t.Fatalf("a leased job was claimed again: %v %v", j2, err)
	}
	j2, err := b.ClaimJob(ctx, "other", now.Add(61*time.Second), time.Minute)
	if err != nil || j2 == nil || j2.Ref != "o1" || j2.Attempts != 2 {
		t.Fatalf("expired lease not reclaimed: %+v %v", j2, err)
	}
	if ok, err := a.FinishJob(ctx, j.ID, "dead", now.Add(62*time.Second)); err != nil || ok {
		t.Fatalf("stale token finished the job: %v %v", ok, err)
	}
	if ok, err := b.RetryJob(ctx, j2.ID, "other", now.Add(time.Hour), "later", now.Add(62*time.Second)); err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if j3, _ := a.ClaimJob(ctx, "x", now.Add(59*time.Minute), time.Minute); j3 != nil {
		t.Fatal("job claimed before it was due")
	}
	j3, err := a.ClaimJob(ctx, "x", now.Add(61*time.Minute), time.Minute)
	if err != nil || j3 == nil || j3.LastErr != "later" {
		t.Fatalf("retried job: %+v %v", j3, err)
	}
	if ok, _ := a.FinishJob(ctx, j3.ID, "x", now.Add(61*time.Minute)); !ok {
		t.Fatal("finish failed")
	}
	if j4, _ := b.ClaimJob(ctx, "y", now.Add(100*time.Hour), time.Minute); j4 != nil {
		t.Fatal("a finished job was claimed")
	}
}

func TestBackoff(t *testing.T) {
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
	j, err := a.ClaimJob(context.Background(), "next", now, time.Minute)
	if err != nil || j == nil || j.LastErr != "interrupted by shutdown" {
		t.Fatalf("job after shutdown: %+v %v", j, err)
	}
}
