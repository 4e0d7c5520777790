package sandbox

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"alishop/alipay"
)

// DefaultRetrySchedule returns Alipay's waits after each failed notification
// attempt (docs/PROTOCOL.md, "Notifications and returns"): 8 attempts at 0, +4m, +14m,
// +24m, +1h24m, +3h24m, +9h24m, +24h24m.
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{
		4 * time.Minute, 10 * time.Minute, 10 * time.Minute,
		time.Hour, 2 * time.Hour, 6 * time.Hour, 15 * time.Hour,
	}
}

// MaxAttempts is how many times this sandbox tries a notification.
func (s *Sandbox) MaxAttempts() int { return len(s.retry) + 1 }

// note is one notification: delivered until acknowledged or given up. Its
// notify_id stays the same across retries.
type note struct {
	NotifyID    string            `json:"notify_id"`
	AppID       string            `json:"app_id"`
	OutTradeNo  string            `json:"out_trade_no"`
	TradeStatus string            `json:"trade_status"`
	URL         string            `json:"notify_url"`
	Params      map[string]string `json:"params"` // without notify_time, sign, sign_type
	SignType    alipay.SignType   `json:"sign_type"`
	Charset     string            `json:"charset"`
	Seq         int64             `json:"seq"`
	Created     time.Time         `json:"created"`
	Attempts    int               `json:"attempts"`
	NextDue     time.Time         `json:"next_due"`
	Held        bool              `json:"held,omitempty"` // out-of-order fault: waiting for a later notification
	Done        bool              `json:"done"`
	Acked       bool              `json:"acked"`
}

// Attempt is one delivery attempt, as logged in api/notifications.
type Attempt struct {
	Seq         int64     `json:"seq"`
	NotifyID    string    `json:"notify_id"`
	AppID       string    `json:"app_id"`
	OutTradeNo  string    `json:"out_trade_no"`
	TradeStatus string    `json:"trade_status"`
	Attempt     int       `json:"attempt"`        // 1..8
	Copy        int       `json:"copy,omitempty"` // 2.. for the duplicates of one attempt
	At          time.Time `json:"at"`             // sandbox clock
	URL         string    `json:"url"`
	Body        string    `json:"body,omitempty"` // the form sent
	HTTPStatus  int       `json:"http_status,omitempty"`
	// Response is "success" when the answer was exactly that; anything else
	// the notify URL answered is not recorded (the log must not read back
	// what some other service behind a registered notify_url says).
	Response string   `json:"response,omitempty"`
	Error    string   `json:"error,omitempty"`
	Acked    bool     `json:"acked"` // HTTP 200 with exactly "success"
	Faults   []string `json:"faults,omitempty"`
}

// queueNote queues a notification of t; notifyURL overrides the trade's.
// Callers hold s.mu.
func (s *Sandbox) queueNote(t *trade, a *app, params map[string]string, notifyURL string) {
	u := notifyURL
	if u == "" {
		u = t.NotifyURL
	}
	if !validHTTPURL(u) {
		s.log.Info("sandbox: no valid notify_url; notification not sent", "out_trade_no", t.OutTradeNo, "trade_status", params["trade_status"])
		return
	}
	now := s.now()
	s.seq++
	n := &note{
		NotifyID: newNotifyID(now), AppID: a.AppID, OutTradeNo: t.OutTradeNo, TradeStatus: params["trade_status"],
		URL: u, Params: params, SignType: a.SignType, Charset: orDefault(t.Charset, "utf-8"),
		Seq: s.seq, Created: now, NextDue: now,
	}
	// A later notification of the trade goes first and releases the held
	// ones right after itself; otherwise a reorder rule may hold this one.
	released := false
	for h := range s.pending {
		if h.Held && h.AppID == n.AppID && h.OutTradeNo == n.OutTradeNo {
			h.Held = false
			h.NextDue = now
			s.seq++
			h.Seq = s.seq // sorts right after n
			s.persistNote(h)
			released = true
		}
	}
	if !released {
		if f := s.takeNoteFault(KindReorder, n); f != nil {
			n.Held = true
			hold := time.Duration(f.Delay)
			if hold <= 0 {
				hold = time.Hour
			}
			n.NextDue = now.Add(hold)
		}
	}
	s.notes[n.NotifyID] = n
	s.pending[n] = struct{}{}
	s.persistNote(n)
	s.wakeWorker()
}

func (s *Sandbox) wakeWorker() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// worker delivers due notifications and closes expired trades in real time.
func (s *Sandbox) worker(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
		s.runMu.Lock()
		s.processDue(ctx)
		next, ok := s.nextEvent()
		s.runMu.Unlock()
		wait := time.Second
		if ok {
			if d := next.Sub(s.Now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// nextEvent returns the time of the earliest pending event: a notification
// due or a trade expiring.
func (s *Sandbox) nextEvent() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	for n := range s.pending {
		consider(n.NextDue)
	}
	if at, ok := s.nextExpiry(); ok {
		consider(at)
	}
	if at, ok := s.nextFinish(); ok {
		consider(at)
	}
	return next, found
}

// Advance moves the sandbox clock forward by d, firing every notification
// retry and trade expiry that falls due on the way, in order, each at its
// own time; it returns when they are done.
func (s *Sandbox) Advance(ctx context.Context, d time.Duration) time.Time {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	target := s.Now().Add(d)
	for ctx.Err() == nil {
		next, ok := s.nextEvent()
		if !ok || next.After(target) {
			break
		}
		s.mu.Lock()
		s.setClock(next)
		s.mu.Unlock()
		s.processDue(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() == nil { // interrupted: the clock stays at the last event
		s.setClock(target)
	}
	return s.now()
}

// processDue closes expired trades and delivers due notifications, trades
// in parallel, the notifications of one trade in order. Callers hold runMu.
func (s *Sandbox) processDue(ctx context.Context) {
	for round := 0; round < 100 && ctx.Err() == nil; round++ {
		s.mu.Lock()
		now := s.now()
		s.expireTrades(now)
		s.finishTrades(now)
		// The sort keys are copied under s.mu: a gateway call may release a
		// held note (changing its NextDue and Seq) while this round runs.
		type dueNote struct {
			n   *note
			at  time.Time
			seq int64
		}
		var due []dueNote
		for n := range s.pending {
			if !n.Done && !n.NextDue.After(now) {
				due = append(due, dueNote{n, n.NextDue, n.Seq})
			}
		}
		s.mu.Unlock()
		if len(due) == 0 {
			return
		}
		slices.SortFunc(due, func(a, b dueNote) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return int(a.seq - b.seq)
		})
		groups := map[string][]*note{}
		var order []string
		for _, d := range due {
			n := d.n
			k := n.AppID + "\x00" + n.OutTradeNo
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], n)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, k := range order {
			wg.Add(1)
			sem <- struct{}{}
			go func(ns []*note) {
				defer wg.Done()
				defer func() { <-sem }()
				for _, n := range ns {
					s.deliver(ctx, n, now)
				}
			}(groups[k])
		}
		wg.Wait()
	}
}

// deliver makes one attempt of n at sandbox time now, applying the faults.
func (s *Sandbox) deliver(ctx context.Context, n *note, now time.Time) {
	at, ok := s.startAttempt(n, now)
	if !ok {
		return
	}
	logs := s.send(ctx, n, at, now)
	s.finishAttempt(ctx, n, at, logs, now)
}

// delivery is one attempt at delivering a note, as the fault plan shapes it.
type delivery struct {
	number int
	body   string   // the signed form, as sent
	drop   bool     // not sent at all
	copies int      // how many times it is sent
	faults []string // the fault kinds applied
}

// startAttempt counts the attempt and builds its signed form, applying the
// fault plan; false if the note is already done.
func (s *Sandbox) startAttempt(n *note, now time.Time) (delivery, bool) {
	s.mu.Lock()
	if n.Done {
		s.mu.Unlock()
		return delivery{}, false
	}
	n.Attempts++
	at := delivery{number: n.Attempts, copies: 1}
	// A held note goes out once its hold is over: from then on it follows
	// the retry schedule, and a later notification must not release it.
	n.Held = false
	p := maps.Clone(n.Params)
	p["notify_id"] = n.NotifyID
	p["notify_time"] = alipay.FormatTime(now)
	if s.takeNoteFault(KindDrop, n) != nil {
		at.drop = true
		at.faults = append(at.faults, KindDrop)
	}
	if f := s.takeNoteFault(KindDuplicate, n); f != nil {
		at.copies = max(f.Times, 2)
		at.faults = append(at.faults, KindDuplicate)
	}
	if f := s.takeNoteFault(KindWrongAmount, n); f != nil {
		setWrongAmount(p, f)
		at.faults = append(at.faults, KindWrongAmount)
	}
	corrupt := s.takeNoteFault(KindCorruptSignature, n) != nil
	if corrupt {
		at.faults = append(at.faults, KindCorruptSignature)
	}
	s.mu.Unlock()

	p["sign_type"] = string(n.SignType)
	p["sign"] = s.signV1(p, n.SignType, n.Charset)
	if corrupt {
		p["sign"] = corruptSign(p["sign"])
	}
	at.body = encodeForm(p, n.Charset)
	return at, true
}

// setWrongAmount replaces the amounts of a notification by the fault's
// amount (default: the total plus 0.01), to be signed genuinely.
func setWrongAmount(p map[string]string, f *Fault) {
	total, _ := alipay.ParseAmount(p["total_amount"])
	wrong := total + 1
	if f.Amount != "" {
		if a, err := alipay.ParseAmount(f.Amount); err == nil {
			wrong = a
		}
	}
	for _, k := range []string{"total_amount", "receipt_amount", "invoice_amount", "buyer_pay_amount"} {
		if _, ok := p[k]; ok {
			p[k] = wrong.String()
		}
	}
}

// send posts the attempt (each copy), or logs it as dropped.
func (s *Sandbox) send(ctx context.Context, n *note, at delivery, now time.Time) []*Attempt {
	var logs []*Attempt
	for c := 1; c <= at.copies; c++ {
		a := &Attempt{NotifyID: n.NotifyID, AppID: n.AppID, OutTradeNo: n.OutTradeNo, TradeStatus: n.TradeStatus,
			Attempt: at.number, At: now, URL: n.URL, Body: at.body, Faults: at.faults}
		if at.copies > 1 {
			a.Copy = c
		}
		if at.drop {
			a.Error = "dropped by the fault plan (not sent)"
		} else {
			s.post(ctx, n, at.body, a)
		}
		logs = append(logs, a)
	}
	return logs
}

// finishAttempt logs the attempt and schedules the next one, or ends the
// note when acknowledged or out of attempts.
func (s *Sandbox) finishAttempt(ctx context.Context, n *note, at delivery, logs []*Attempt, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil && !at.drop {
		// Stopped mid-delivery (Close, or an advance whose caller left): the
		// attempt does not count; it is made again at the next start.
		n.Attempts = at.number - 1
		return
	}
	acked := false
	for _, a := range logs {
		s.seq++
		a.Seq = s.seq
		s.logAttempt(a)
		s.persistAttempt(a)
		acked = acked || a.Acked
	}
	switch {
	case acked:
		n.Done, n.Acked = true, true
	case at.number >= s.MaxAttempts():
		n.Done = true
	default:
		n.NextDue = now.Add(s.retry[at.number-1])
	}
	if n.Done {
		delete(s.pending, n)
		n.Params = nil // delivered or given up: the body is in the log
	}
	s.persistNote(n)
}

// MaxLoggedAttempts bounds the delivery log kept in memory (and served by
// api/notifications); older attempts stay in the database only.
const MaxLoggedAttempts = 50_000

// logAttempt appends to the in-memory log. Callers hold s.mu.
func (s *Sandbox) logAttempt(a *Attempt) {
	if len(s.attempts) >= MaxLoggedAttempts {
		n := copy(s.attempts, s.attempts[len(s.attempts)-MaxLoggedAttempts/2:])
		clear(s.attempts[n:])
		s.attempts = s.attempts[:n]
	}
	s.attempts = append(s.attempts, a)
}

func (s *Sandbox) post(ctx context.Context, n *note, body string, a *Attempt) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, strings.NewReader(body))
	if err != nil {
		a.Error = err.Error()
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset="+n.Charset)
	req.Header.Set("User-Agent", "Mozilla/4.0")
	resp, err := s.client.Do(req)
	if err != nil {
		a.Error = err.Error()
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	a.HTTPStatus = resp.StatusCode
	if err != nil {
		a.Error = "reading the answer: " + err.Error()
		return
	}
	a.Acked = resp.StatusCode == http.StatusOK && string(b) == "success"
	if string(b) == "success" {
		a.Response = "success"
	}
}

// corruptSign changes one character of a base64 signature, keeping it
// well-formed base64 so that only the verification fails.
func corruptSign(sig string) string {
	if sig == "" {
		return "AAAA"
	}
	b := []byte(sig)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
