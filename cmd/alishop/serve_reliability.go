package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"alishop/alipay"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// reliabilityFlags tune the payment window and the reconciler.
// The defaults suit production; the fault-injection suite shortens them.
type reliabilityFlags struct {
	orderTTL       time.Duration
	reconcileAfter time.Duration
	expireGrace    time.Duration
	retryUnknown   time.Duration
	jobsPoll       time.Duration
	sweepEvery     time.Duration
	jobsWorkers    int
}

func (f *reliabilityFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.orderTTL, "order-ttl", shop.DefaultOrderTTL, "how long a buyer has to pay an order (sent to Alipay as time_expire); after it the trade is closed")
	fs.DurationVar(&f.reconcileAfter, "reconcile-after", 5*time.Minute, "age at which an unpaid order is first queried with alipay.trade.query (then on a backoff)")
	fs.DurationVar(&f.expireGrace, "expire-grace", time.Minute, "wait after time_expire before alipay.trade.close")
	fs.DurationVar(&f.retryUnknown, "retry-unknown", time.Minute, "wait before trying again after an unknown outcome (20000, ACQ.SYSTEM_ERROR, timeout)")
	fs.DurationVar(&f.jobsPoll, "jobs-poll", time.Second, "how often background jobs are looked for")
	fs.DurationVar(&f.sweepEvery, "sweep-every", 10*time.Second, "how often unpaid orders without a reconciliation job get one")
	fs.IntVar(&f.jobsWorkers, "jobs-workers", 2, "background jobs of each kind (order, refund, bill) run at once by this process")
}

func (f *reliabilityFlags) check() error {
	switch {
	case f.orderTTL < time.Second || f.orderTTL > 15*24*time.Hour:
		return usageError("serve: --order-ttl %s: want between 1s and 360h (Alipay allows at most 15 days)", f.orderTTL)
	case f.reconcileAfter <= 0, f.expireGrace <= 0, f.retryUnknown <= 0, f.jobsPoll <= 0, f.sweepEvery <= 0:
		return usageError("serve: --reconcile-after, --expire-grace, --retry-unknown, --jobs-poll and --sweep-every must be positive")
	case f.jobsWorkers < 1 || f.jobsWorkers > 64:
		return usageError("serve: --jobs-workers %d: want 1 to 64", f.jobsWorkers)
	}
	return nil
}

// wire builds the refund use cases and the reconciler of a shop.
func (f *reliabilityFlags) wire(svc *shop.Service, db *store.DB, client *alipay.Client, log *slog.Logger) (*shop.Refunds, *reconcile.Reconciler, error) {
	refunds := shop.NewRefunds(svc, db, client)
	refunds.SettleAfter = f.retryUnknown
	rec, err := reconcile.New(reconcile.Config{
		Service: svc, Refunds: refunds, Store: db, Gateway: client, Logger: log.With("component", "reconcile"),
		CheckAfter: f.reconcileAfter, OrderTTL: f.orderTTL, ExpireGrace: f.expireGrace, RetryUnknown: f.retryUnknown,
		Poll: f.jobsPoll, SweepEvery: f.sweepEvery, Workers: f.jobsWorkers,
	})
	return refunds, rec, err
}

// runReconciler runs rec until ctx ends or the returned stop is called;
// stop returns once it has stopped.
func runReconciler(ctx context.Context, rec *reconcile.Reconciler) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
