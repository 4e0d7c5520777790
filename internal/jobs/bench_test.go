package jobs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"alishop/internal/jobs"
	"alishop/internal/store"
)

// BenchmarkRunJobs measures the job machinery alone on SQLite: claim (one
// UPDATE … RETURNING), an empty handler, finish (one fenced UPDATE), with
// two workers; each claim and each finish is its own durable commit.
func BenchmarkRunJobs(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "shop.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := 0; i < b.N; i++ {
		if err := db.EnqueueJob(ctx, jobs.KindBill, fmt.Sprint(i), now, now); err != nil {
			b.Fatal(err)
		}
	}
	r, err := jobs.New(jobs.Config{Queue: db, Now: func() time.Time { return now }, Logger: quiet, Workers: 2,
		Handlers: map[string]jobs.Handler{jobs.KindBill: func(context.Context, *jobs.Job) jobs.Result { return jobs.Result{Done: true} }}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n, err := r.RunDue(ctx)
	if err != nil || n != b.N {
		b.Fatalf("ran %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
