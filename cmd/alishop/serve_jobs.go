package main

import (
	"context"
	"log/slog"
	"time"

	"alishop/alipay"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// The shop's background work: the reconciler's jobs and the pruning of
// stored inbound messages.

// wire builds the refund and payout use cases and the reconciler of a shop.
func (f *jobFlags) wire(svc *shop.Service, db *store.DB, client *alipay.Client, log *slog.Logger) (*shop.Refunds, *shop.Payouts, *reconcile.Reconciler, error) {
	refunds := shop.NewRefunds(svc, db, client)
	refunds.SettleAfter = f.retryUnknown
	payouts := shop.NewPayouts(svc, db, client)
	payouts.SettleAfter = f.retryUnknown
	rec, err := reconcile.New(reconcile.Config{
		Service: svc, Refunds: refunds, Payouts: payouts, Store: db, Gateway: client, Logger: log.With("component", "reconcile"),
		CheckAfter: f.reconcileAfter, OrderTTL: f.orderTTL, ExpireGrace: f.expireGrace, RetryUnknown: f.retryUnknown,
		Poll: f.jobsPoll, SweepEvery: f.sweepEvery, Workers: f.jobsWorkers, GatewayBudget: f.gatewayBudget,
	})
	return refunds, payouts, rec, err
}

// runReconciler runs rec until ctx ends or the returned stop is called;
// stop returns once it has stopped.
func runReconciler(ctx context.Context, rec *reconcile.Reconciler) (stop func()) {
	return runUntilStopped(ctx, rec.Run)
}

// pruneEvery is how often stored inbound messages are pruned.
const pruneEvery = 10 * time.Minute

// runPruner prunes stored inbound messages now and every pruneEvery until
// ctx ends or stop is called; stop returns once it has stopped.
func runPruner(ctx context.Context, db *store.DB, f *retentionFlags, log *slog.Logger) (stop func()) {
	return runUntilStopped(ctx, func(ctx context.Context) {
		t := time.NewTicker(pruneEvery)
		defer t.Stop()
		for {
			now := time.Now()
			n, err := db.PruneInbound(ctx, now.Add(-f.keepUnverified), now.Add(-f.keepVerified), f.maxUnverified)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("pruning stored messages", "err", err)
			case n > 0:
				log.Info("pruned stored messages", "rows", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// runUntilStopped runs loop in a goroutine until ctx ends or stop is
// called; stop returns once loop has returned.
func runUntilStopped(ctx context.Context, loop func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
