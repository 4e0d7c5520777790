// Package reconcile keeps the shop's orders equal to Alipay's trades with no
// help from a person: it queries orders still unpaid on a backoff
// schedule until they are final, closes expired ones with alipay.trade.close,
// settles refunds whose outcome is unknown, and compares each day's bill with
// the orders. All of it runs as durable jobs (package jobs) in the shop's
// database, and every state change goes through the shop's own recorded
// compare-and-set, the one notifications use.
//
// Unknown outcomes (code 20000, ACQ.SYSTEM_ERROR, a timeout, a non-200) never
// decide anything: the job runs again later with the same parameters.
//
// Every gateway call of this background work comes out of a budget per
// minute (budget.go): a flood of unpaid orders is queried and closed at the
// budget's pace, in order, and none is marked closed without Alipay's answer.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"alishop/alipay"
	"alishop/internal/jobs"
	"alishop/internal/shop"
)

// Gateway is what the reconciler needs from Alipay besides what the shop's
// service uses; *alipay.Client implements it.
type Gateway interface {
	TradeClose(ctx context.Context, p alipay.TradeCloseRequest) (*alipay.TradeCloseResult, error)
	BillDownloadURLQuery(ctx context.Context, p alipay.BillDownloadURLQueryRequest) (*alipay.BillDownloadURLQueryResult, error)
}

// defaultSchedule is the wait between two queries of an unpaid order, by
// attempt (the last entry repeats), after the first query at CheckAfter.
var defaultSchedule = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour}

// Jobs is the durable job table as the reconciler uses it (implemented by
// *store.DB): the runner's queue, plus scheduling.
type Jobs interface {
	jobs.Queue
	EnqueueJob(ctx context.Context, kind, ref string, runAt, now time.Time) error
	ScheduleOrderChecks(ctx context.Context, after, grace time.Duration, now time.Time) (int, error)
	CheckUnpaidNow(ctx context.Context, now, madeBefore time.Time) (int, error)
	ScheduleCompletions(ctx context.Context, after time.Duration, now time.Time) (int, error)
	PruneJobs(ctx context.Context, before time.Time) (int, error)
	NextJob(ctx context.Context, kind string) (ref string, runAt time.Time, ok bool, err error)
}

// Ledger is what the bill check reads and writes (implemented by
// *store.DB): the shop's payments and refunds of a period, and the result.
type Ledger interface {
	OrdersPaidBetween(ctx context.Context, start, end time.Time) ([]shop.Order, error)
	RefundsSettledBetween(ctx context.Context, start, end time.Time) ([]shop.Refund, error)
	Refund(ctx context.Context, outRequestNo string) (shop.Refund, error)
	SaveBillCheck(ctx context.Context, c shop.BillCheck, ms []shop.BillMismatch) error
}

// Store is all the reconciler needs of the database.
type Store interface {
	Jobs
	Ledger
}

// Config configures a Reconciler.
type Config struct {
	Service *shop.Service
	Refunds *shop.Refunds
	Payouts *shop.Payouts // nil: payout jobs wait for a process that has them
	Store   Store
	Gateway Gateway
	Now     func() time.Time // default: the service's clock
	Logger  *slog.Logger

	// CheckAfter is the age at which an unpaid order is first queried
	// (default 5m): notifications normally arrive well before.
	CheckAfter time.Duration
	// Schedule is the backoff between queries (default: 1m, 2m, 5m, 10m, 30m, 1h, then every 6h).
	Schedule []time.Duration
	// OrderTTL is the payment window of orders made without time_expire
	// (default shop.DefaultOrderTTL).
	OrderTTL time.Duration
	// ExpireGrace is how long after time_expire the trade is closed
	// (default 1m), so a payment made at the last second has landed.
	ExpireGrace time.Duration
	// RetryUnknown is the wait after an unknown outcome (default 1m).
	RetryUnknown time.Duration
	// BillAt is the Beijing time of day after which yesterday's bill is
	// checked (default 10h: Alipay's bills are ready in the morning, T+1).
	BillAt time.Duration
	// BillDays is how many past days get a bill check job (default 1: yesterday).
	BillDays int
	// HTTPClient downloads bills (default a client with a 30 s timeout).
	HTTPClient *http.Client

	// Poll, Workers, Lease and SweepEvery tune the job runner: how often it
	// looks for due jobs (default 1s), how many of each kind run at once
	// (default 2), how long a claim lasts unless renewed (default 15s; a
	// running job's lease is renewed every third of it), and how often
	// orders without a job get one (default 10s).
	Poll       time.Duration
	Workers    int
	Lease      time.Duration
	SweepEvery time.Duration

	// GatewayBudget is the most Alipay gateway calls the background work
	// makes in any minute (default DefaultGatewayBudget, at least
	// MinGatewayBudget). Each process running a Reconciler has its own.
	GatewayBudget int
}

// Reconciler runs the background work.
type Reconciler struct {
	cfg       Config
	log       *slog.Logger
	runner    *jobs.Runner
	lastSweep time.Time
	lastPrune time.Time
	started   time.Time // when New made it: Startup checks orders made before
	budget    *budget

	mu sync.Mutex
	// queryNext holds the orders whose close Alipay refused as
	// ACQ.TRADE_STATUS_ERROR and whose query had to wait for the budget:
	// their next run queries at once instead of closing again (by
	// out_trade_no, with when the close was refused). Losing it (a restart,
	// another process taking the job) costs one close more, nothing else.
	queryNext map[string]time.Time
}

// KeepDoneJobs is how long finished jobs are kept (for the admin and
// debugging) before they are deleted.
const KeepDoneJobs = 30 * 24 * time.Hour

// New returns a Reconciler.
func New(cfg Config) (*Reconciler, error) {
	if cfg.Service == nil || cfg.Store == nil || cfg.Gateway == nil {
		return nil, errors.New("reconcile: Service, Store and Gateway are required")
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Service.Now
	}
	if cfg.CheckAfter < 0 || cfg.ExpireGrace < 0 || cfg.RetryUnknown < 0 || cfg.OrderTTL < 0 {
		return nil, errors.New("reconcile: negative duration")
	}
	if cfg.CheckAfter == 0 {
		cfg.CheckAfter = 5 * time.Minute
	}
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = defaultSchedule
	}
	if cfg.OrderTTL == 0 {
		cfg.OrderTTL = shop.DefaultOrderTTL
	}
	if cfg.ExpireGrace == 0 {
		cfg.ExpireGrace = time.Minute
	}
	if cfg.RetryUnknown == 0 {
		cfg.RetryUnknown = time.Minute
	}
	if cfg.BillAt == 0 {
		cfg.BillAt = 10 * time.Hour
	}
	if cfg.BillDays == 0 {
		cfg.BillDays = 1
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 10 * time.Second
	}
	if cfg.GatewayBudget == 0 {
		cfg.GatewayBudget = DefaultGatewayBudget
	}
	r := &Reconciler{cfg: cfg, log: cfg.Logger, started: cfg.Now(), queryNext: map[string]time.Time{}}
	if r.log == nil {
		r.log = slog.Default()
	}
	b, err := newBudget(cfg.GatewayBudget, r.log)
	if err != nil {
		return nil, err
	}
	r.budget = b
	handlers := map[string]jobs.Handler{
		jobs.KindOrder: r.orderJob,
		jobs.KindBill:  r.billJob,
		// Shipped orders complete by themselves: the same durable jobs,
		// no gateway call.
		jobs.KindComplete: r.completeJob,
	}
	if cfg.Refunds != nil {
		handlers[jobs.KindRefund] = r.settleJob(refundRunCalls, cfg.Refunds.Settle)
	}
	if cfg.Payouts != nil {
		handlers[jobs.KindPayout] = r.settleJob(payoutRunCalls, cfg.Payouts.Settle)
	}
	runner, err := jobs.New(jobs.Config{Queue: cfg.Store, Handlers: handlers, Before: r.schedule, Now: cfg.Now,
		Poll: cfg.Poll, Lease: cfg.Lease, Workers: cfg.Workers, Logger: r.log})
	if err != nil {
		return nil, err
	}
	r.runner = runner
	return r, nil
}

// Startup makes every order still unpaid and not expired, made before the
// reconciler was created, due for a query at once, whatever its age: buyers
// may have paid while the shop was down and their notifications may be
// lost. Orders made since (by this process or another on the same database)
// keep their schedule: their notifications are on their way. It returns how
// many were made due.
func (r *Reconciler) Startup(ctx context.Context) (int, error) {
	n, err := r.cfg.Store.CheckUnpaidNow(ctx, r.cfg.Now(), r.started)
	if err == nil && n > 0 {
		r.log.Info("reconcile: start-up check of unpaid orders", "orders", n)
	}
	return n, err
}

// Run runs Startup, then the job runner until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	for {
		if _, err := r.Startup(ctx); err == nil || ctx.Err() != nil {
			break
		} else {
			r.log.Warn("reconcile: start-up check failed; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	r.runner.Run(ctx)
}

// RunDue runs every due job once (tests drive the reconciler with it).
func (r *Reconciler) RunDue(ctx context.Context) (int, error) {
	r.lastSweep = time.Time{}
	return r.runner.RunDue(ctx)
}

// schedule gives unpaid orders without a job one, and makes sure the bill
// checks of the last days are scheduled. It runs before each poll, at most
// every SweepEvery.
func (r *Reconciler) schedule(ctx context.Context, now time.Time) error {
	if !r.lastSweep.IsZero() && now.Sub(r.lastSweep) < r.cfg.SweepEvery && now.After(r.lastSweep) {
		return nil
	}
	r.lastSweep = now
	if _, err := r.cfg.Store.ScheduleOrderChecks(ctx, r.cfg.CheckAfter, r.cfg.ExpireGrace, now); err != nil {
		return err
	}
	if now.Sub(r.lastPrune) >= time.Hour || now.Before(r.lastPrune) {
		r.lastPrune = now
		if err := r.scheduleCompletions(ctx, now); err != nil {
			return err
		}
		if _, err := r.cfg.Store.PruneJobs(ctx, now.Add(-KeepDoneJobs)); err != nil {
			return err
		}
	}
	y, m, d := now.In(alipay.Beijing).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, alipay.Beijing)
	for i := 1; i <= r.cfg.BillDays; i++ {
		day := today.AddDate(0, 0, -i)
		if err := r.cfg.Store.EnqueueJob(ctx, jobs.KindBill, day.Format("2006-01-02"), day.AddDate(0, 0, 1).Add(r.cfg.BillAt), now); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) retry(at time.Time, err error) jobs.Result {
	return jobs.Result{RetryAt: at, Err: err}
}

// orderJob reconciles one order: nothing to do once it is final; after its
// expiry (plus grace) the trade is closed; before, Alipay is queried.
func (r *Reconciler) orderJob(ctx context.Context, j *jobs.Job) jobs.Result {
	svc := r.cfg.Service
	o, err := svc.Order(ctx, j.Ref)
	if errors.Is(err, shop.ErrOrderNotFound) {
		return jobs.Result{Done: true}
	}
	now := r.cfg.Now()
	if err != nil {
		return r.retry(now.Add(r.cfg.RetryUnknown), err)
	}
	if o.Status != shop.StatusUnpaid {
		return jobs.Result{Done: true}
	}
	if o.Channel == shop.OrderChannelPOS {
		return r.posOrder(ctx, j, o)
	}
	closeAt := shop.ExpireAt(o, r.cfg.OrderTTL).Add(r.cfg.ExpireGrace)
	if ok, turn := r.budget.take(j.ID, orderRunCalls, now); !ok {
		return jobs.Result{RetryAt: turn}
	}
	if !now.Before(closeAt) {
		if r.takeQueryNext(o.OutTradeNo) {
			return r.queryRefusedClose(ctx, o)
		}
		return r.expire(ctx, j, o)
	}
	o, err = svc.SyncOrder(ctx, o.OutTradeNo)
	if errors.Is(err, shop.ErrAmountMismatch) {
		return r.review(o)
	}
	if err != nil {
		// Unknown (or Alipay unreachable): ask again later, backing off so
		// that an outage does not turn into a flood of queries.
		wait := max(r.cfg.RetryUnknown, jobs.Backoff(r.cfg.Schedule, j.Attempts))
		return r.retry(minTime(now.Add(wait), closeAt), err)
	}
	if o.Status != shop.StatusUnpaid {
		r.log.Info("reconcile: order settled by query", "out_trade_no", o.OutTradeNo, "status", o.Status)
		return jobs.Result{Done: true}
	}
	return r.retry(minTime(now.Add(jobs.Backoff(r.cfg.Schedule, j.Attempts)), closeAt), nil)
}

// posOrder settles a counter order (当面付) left waiting for its buyer, e.g.
// by a process killed while the counter page followed it: the query says
// paid or closed; once its deadline has passed unpaid, the trade is
// cancelled (alipay.trade.cancel), so that nothing stays open at Alipay
// that could charge the buyer without an order here. Until then it runs
// again at the deadline.
func (r *Reconciler) posOrder(ctx context.Context, j *jobs.Job, o shop.Order) jobs.Result {
	now := r.cfg.Now()
	if ok, turn := r.budget.take(j.ID, posRunCalls, now); !ok {
		return jobs.Result{RetryAt: turn}
	}
	o2, err := r.cfg.Service.FollowPOS(ctx, o.OutTradeNo)
	if errors.Is(err, shop.ErrAmountMismatch) {
		return r.review(o2)
	}
	if err == nil && o2.Status != shop.StatusUnpaid {
		r.log.Info("reconcile: counter order settled", "out_trade_no", o.OutTradeNo, "status", o2.Status)
		return jobs.Result{Done: true}
	}
	if err != nil || !now.Before(o.TimeExpire) {
		return r.retry(now.Add(r.cfg.RetryUnknown), err)
	}
	return r.retry(o.TimeExpire, nil)
}

// review ends the job of an order whose trade at Alipay is for another
// amount: the order is flagged for review, and querying or closing it again
// cannot settle it (a person decides, e.g. refunds the payment).
func (r *Reconciler) review(o shop.Order) jobs.Result {
	r.log.Warn("reconcile: Alipay's trade amount differs from the order; left for review", "out_trade_no", o.OutTradeNo)
	return jobs.Result{Done: true}
}

// expire closes the trade of an expired order. Alipay's answer decides:
// closed → closed; no trade (the buyer never opened the cashier) → closed
// here; not closable → the query says whether it was paid; unknown → again
// later, with the same call.
func (r *Reconciler) expire(ctx context.Context, j *jobs.Job, o shop.Order) jobs.Result {
	svc := r.cfg.Service
	now := r.cfg.Now()
	res, err := r.cfg.Gateway.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: o.OutTradeNo})
	switch {
	case err == nil:
		if _, err := svc.ApplyClosed(ctx, o.OutTradeNo, "alipay.trade.close", res.Raw, "expired: closed at Alipay"); err != nil {
			return r.retry(now.Add(r.cfg.RetryUnknown), err)
		}
		r.log.Info("reconcile: expired order closed", "out_trade_no", o.OutTradeNo)
		return jobs.Result{Done: true}
	case alipay.IsTradeNotExist(err):
		raw := alipay.ResponseOf(err)
		if _, err := svc.ApplyClosed(ctx, o.OutTradeNo, "alipay.trade.close", raw, "expired: ACQ.TRADE_NOT_EXIST, the buyer never opened the cashier"); err != nil {
			return r.retry(now.Add(r.cfg.RetryUnknown), err)
		}
		return jobs.Result{Done: true}
	case alipay.HasSubCode(err, "ACQ.TRADE_STATUS_ERROR"):
		// Not waiting any more: paid, or already closed (by its expiry or an
		// earlier close whose answer was lost). The query says which; it is
		// a call of its own in the budget.
		if ok, turn := r.budget.take(j.ID, 1, r.cfg.Now()); !ok {
			r.setQueryNext(o.OutTradeNo, now)
			return jobs.Result{RetryAt: turn}
		}
		return r.queryRefusedClose(ctx, o)
	case alipay.IsUnknownOutcome(err):
		return r.retry(now.Add(r.cfg.RetryUnknown), err)
	}
	return r.retry(now.Add(jobs.Backoff(r.cfg.Schedule, 4)), err)
}

// queryRefusedClose settles an expired order whose close Alipay refused as
// ACQ.TRADE_STATUS_ERROR by querying its trade: paid or closed, as Alipay
// says; still waiting (a close racing the buyer) → closed again later.
func (r *Reconciler) queryRefusedClose(ctx context.Context, o shop.Order) jobs.Result {
	now := r.cfg.Now()
	o2, qerr := r.cfg.Service.SyncOrder(ctx, o.OutTradeNo)
	if errors.Is(qerr, shop.ErrAmountMismatch) {
		return r.review(o2)
	}
	if qerr != nil {
		return r.retry(now.Add(r.cfg.RetryUnknown), qerr)
	}
	if o2.Status != shop.StatusUnpaid {
		r.log.Info("reconcile: expired order settled by query", "out_trade_no", o.OutTradeNo, "status", o2.Status)
		return jobs.Result{Done: true}
	}
	return r.retry(now.Add(r.cfg.RetryUnknown), fmt.Errorf("close refused but the query leaves the order unpaid"))
}

func (r *Reconciler) setQueryNext(outTradeNo string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for no, at := range r.queryNext {
		if now.Sub(at) > time.Hour {
			delete(r.queryNext, no) // its job went to another process
		}
	}
	r.queryNext[outTradeNo] = now
}

func (r *Reconciler) takeQueryNext(outTradeNo string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.queryNext[outTradeNo]
	delete(r.queryNext, outTradeNo)
	return ok
}

// settleJob is the job of a refund or a payout whose outcome is unknown:
// settle (Refunds.Settle: the refund query, then the same refund again;
// Payouts.Settle: the transfer query, then the same transfer only when
// Alipay never accepted it), taking calls from the gateway budget. While
// the outcome stays unknown it runs again every RetryUnknown: the buyer
// waits for the money.
func (r *Reconciler) settleJob(calls int, settle func(ctx context.Context, ref string, first bool) (bool, error)) jobs.Handler {
	return func(ctx context.Context, j *jobs.Job) jobs.Result {
		if ok, turn := r.budget.take(j.ID, calls, r.cfg.Now()); !ok {
			return jobs.Result{RetryAt: turn}
		}
		done, err := settle(ctx, j.Ref, false)
		if done {
			return jobs.Result{Done: true}
		}
		return r.retry(r.cfg.Now().Add(r.cfg.RetryUnknown), err)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
