package reconcile

import (
	"context"
	"time"

	"alishop/internal/jobs"
)

// completeJob completes a shipped order whose buyer has not confirmed
// receipt within the service's auto-complete period (shop.DecideAutoComplete
// decides, by compare-and-set with its event). An order confirmed, refunded
// or gone meanwhile needs nothing; one not due yet (the period was made
// longer since it shipped) runs again when it is. No Alipay call is made.
func (r *Reconciler) completeJob(ctx context.Context, j *jobs.Job) jobs.Result {
	done, at, err := r.cfg.Service.AutoComplete(ctx, j.Ref)
	switch {
	case err != nil:
		return r.retry(r.cfg.Now().Add(r.cfg.RetryUnknown), err)
	case !done:
		return jobs.Result{RetryAt: at}
	}
	r.log.Info("reconcile: shipped order completed after its time to confirm", "out_trade_no", j.Ref)
	return jobs.Result{Done: true}
}

// scheduleCompletions gives shipped orders without a completion job one
// (a shipment schedules its own; this finds any lost).
func (r *Reconciler) scheduleCompletions(ctx context.Context, now time.Time) error {
	_, err := r.cfg.Store.ScheduleCompletions(ctx, r.cfg.Service.AutoCompleteAfter(), now)
	return err
}
