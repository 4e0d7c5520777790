package sandbox

// Trades end on the sandbox clock: waiting trades expire (a heap by expiry),
// paid trades finish when their refund period ends (a queue in payment order).

import (
	"container/heap"
	"time"

	"alishop/alipay"
)

// expiryItem schedules the expiry of a waiting trade. An item is stale when
// the trade is no longer waiting or its expiry changed.
type expiryItem struct {
	at time.Time
	t  *trade
}

func (it expiryItem) live() bool {
	return it.t.Status == alipay.TradeStatusWaitBuyerPay && it.t.Expire.Equal(it.at)
}

type expiryHeap []expiryItem

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h expiryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *expiryHeap) Push(x any) { *h = append(*h, x.(expiryItem)) }

func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// nextExpiry returns the earliest live expiry, dropping stale items on the
// way. Callers hold s.mu.
func (s *Sandbox) nextExpiry() (time.Time, bool) {
	for len(s.expiries) > 0 {
		if it := s.expiries[0]; it.live() {
			return it.at, true
		}
		heap.Pop(&s.expiries)
	}
	return time.Time{}, false
}

// expireTrades closes every trade whose expiry is due, and now and then
// drops the stale items the heap holds. Callers hold s.mu.
func (s *Sandbox) expireTrades(now time.Time) {
	for {
		at, ok := s.nextExpiry()
		if !ok || at.After(now) {
			break
		}
		it := heap.Pop(&s.expiries).(expiryItem)
		s.expireDue(it.t, now)
	}
	if len(s.expiries) > max(s.compactAt, 1024) || cap(s.expiries) > 4*len(s.expiries)+1024 {
		var live expiryHeap // a new array: the old one may be mostly stale
		for _, it := range s.expiries {
			if it.live() {
				live = append(live, it)
			}
		}
		s.expiries = live
		heap.Init(&s.expiries)
		s.compactAt = 2 * len(live)
	}
}

// expireDue closes t if it waits past its expiry. Callers hold s.mu.
func (s *Sandbox) expireDue(t *trade, now time.Time) {
	s.finishDue(t, now)
	if t.Status == alipay.TradeStatusWaitBuyerPay && !t.Expire.IsZero() && !now.Before(t.Expire) {
		s.closeTrade(t, t.Expire, "")
	}
}

// RefundPeriod is how long after payment a trade can be refunded; then it
// becomes TRADE_FINISHED: 12 months for website and face-to-face payments
// (docs/PROTOCOL.md, "Trade timing and formats the sandbox imitates").
const RefundPeriod = 365 * 24 * time.Hour

// nextFinish returns when the earliest paid trade finishes, dropping trades
// that are no longer TRADE_SUCCESS. Payments happen in sandbox-clock order,
// so s.finishing is sorted by payment time. Callers hold s.mu.
func (s *Sandbox) nextFinish() (time.Time, bool) {
	for len(s.finishing) > 0 {
		if t := s.finishing[0]; t.Status == alipay.TradeStatusSuccess {
			return t.Paid.Add(RefundPeriod), true
		}
		s.finishing[0] = nil
		s.finishing = s.finishing[1:]
	}
	return time.Time{}, false
}

// finishTrades ends the refundable period of the trades due. Callers hold s.mu.
func (s *Sandbox) finishTrades(now time.Time) {
	for {
		at, ok := s.nextFinish()
		if !ok || at.After(now) {
			return
		}
		t := s.finishing[0]
		s.finishing[0] = nil
		s.finishing = s.finishing[1:]
		s.finishTrade(t, at)
	}
}

// finishDue finishes t lazily if its refundable period is over. Callers hold s.mu.
func (s *Sandbox) finishDue(t *trade, now time.Time) {
	if t.Status == alipay.TradeStatusSuccess && !now.Before(t.Paid.Add(RefundPeriod)) {
		s.finishTrade(t, t.Paid.Add(RefundPeriod))
	}
}

func (s *Sandbox) finishTrade(t *trade, at time.Time) {
	if t.Status != alipay.TradeStatusSuccess {
		return
	}
	t.Status = alipay.TradeStatusFinished
	s.persistTrade(t)
	if a := s.apps[t.AppID]; a != nil && a.notifies("finished") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = string(alipay.TradeStatusFinished)
		if t.Refunded > 0 {
			p["refund_fee"] = t.Refunded.String()
		}
		s.queueNote(t, a, p, "")
	}
}
