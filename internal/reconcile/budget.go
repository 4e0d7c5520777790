package reconcile

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultGatewayBudget is how many Alipay gateway calls the background work
// of one process (queries of unpaid orders, closes, refund queries and
// repeats, bill download URLs) makes at most in any minute, unless
// configured otherwise. Calls made for a person (a buyer's return, the
// order page's 查询支付结果, an admin's refund or 立即对账) are not counted:
// they are few and someone waits for them.
const DefaultGatewayBudget = 120

// MinGatewayBudget is the smallest budget accepted: a refund job's run may
// need three calls at once.
const MinGatewayBudget = 6

// Calls a job run takes from the budget before it starts: one gateway call
// for an order (a query or a close; the query after a refused close is a
// run of its own), up to three for a refund (refund query, the same refund
// again, and the refund query once more when Alipay answers fund_change=N),
// one for a bill check (alipay.data.dataservice.bill.downloadurl.query; the
// file download is not a gateway call), up to two for a payout (the
// transfer query, then the same transfer when Alipay never accepted it).
const (
	orderRunCalls  = 1
	posRunCalls    = 2 // a query, then a cancel once the deadline has passed
	refundRunCalls = 3
	payoutRunCalls = 2
	billRunCalls   = 1
)

// budget bounds the gateway calls of background work to at most perMinute
// in any 60 seconds of the reconciler's clock. It is a token bucket
// (golang.org/x/time/rate) holding up to burst calls and refilled with
// perMinute-burst a minute, so no minute sees more than burst +
// (perMinute-burst) = perMinute. A job run takes its calls when it starts,
// never in advance: the bound holds for the calls actually made.
//
// A run that finds the bucket short does not wait in its worker: its job is
// given a turn, a time one call's share of a minute after the last turn
// given, and is made due again then; jobs that arrive while turns are
// outstanding queue behind them, so a flood of unpaid orders is worked off
// in order at the budget's pace, each order still queried or closed before
// it is marked closed. Turns are kept in memory: a job whose turn was given
// by a process that stopped is simply due, and queues again.
type budget struct {
	perMinute int
	burst     int
	every     time.Duration // a minute's share of one call: how far apart turns are
	log       *slog.Logger

	mu       sync.Mutex
	lim      *rate.Limiter
	last     time.Time           // the latest turn given
	turns    map[int64]time.Time // job id → its turn
	pruned   time.Time
	deferred int // runs given a turn since the last log line
	logged   time.Time
}

func newBudget(perMinute int, log *slog.Logger) (*budget, error) {
	if perMinute < MinGatewayBudget {
		return nil, fmt.Errorf("reconcile: gateway budget %d a minute: want at least %d", perMinute, MinGatewayBudget)
	}
	// Up to a sixth of the budget (ten seconds' worth) at once, and at
	// least a refund run's calls.
	burst := max(refundRunCalls, perMinute/6)
	refill := perMinute - burst
	return &budget{
		perMinute: perMinute,
		burst:     burst,
		every:     time.Minute / time.Duration(refill),
		log:       log,
		lim:       rate.NewLimiter(rate.Limit(float64(refill)/60), burst),
		turns:     map[int64]time.Time{},
	}, nil
}

// take reports whether job id may make calls gateway calls at now, and
// takes them from the bucket if so; otherwise it returns the job's turn, the
// time to run it again.
func (b *budget) take(id int64, calls int, now time.Time) (bool, time.Time) {
	calls = min(max(calls, 1), b.burst)
	b.mu.Lock()
	defer b.mu.Unlock()
	turn, queued := b.turns[id]
	if queued && now.Before(turn) {
		return false, turn // made due early (e.g. by the start-up check): it keeps its place
	}
	// A job that had its turn, or any job when nobody waits, may go if the
	// bucket holds its calls.
	if (queued || !b.last.After(now)) && b.lim.AllowN(now, calls) {
		delete(b.turns, id)
		return true, time.Time{}
	}
	if b.last.Before(now) {
		b.last = now
	}
	b.last = b.last.Add(time.Duration(calls) * b.every)
	b.turns[id] = b.last
	b.deferred++
	if now.Sub(b.logged) >= time.Minute || now.Before(b.logged) {
		b.log.Warn("reconcile: gateway budget spent; background calls wait their turn",
			"budget_per_minute", b.perMinute, "runs_put_off", b.deferred, "last_turn", b.last)
		b.logged, b.deferred = now, 0
	}
	if now.Sub(b.pruned) >= time.Minute || now.Before(b.pruned) {
		// Forget turns long past: their jobs ran in another process or
		// were finished there.
		for id, t := range b.turns {
			if now.Sub(t) > 10*time.Minute {
				delete(b.turns, id)
			}
		}
		b.pruned = now
	}
	return false, b.last
}
