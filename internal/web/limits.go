package web

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bounds what one client address can make the shop do. Zero fields
// take the defaults (DefaultLimits).
type Limits struct {
	// Checkout: POST /orders and the other buyer actions that reach Alipay,
	// a token bucket per client address.
	CheckoutBurst int
	CheckoutEvery time.Duration // one more allowed per this interval
	// Unverified inbound messages (notifications and returns that fail
	// verification) stored per client address, and in total.
	UnverifiedBurst      int
	UnverifiedEvery      time.Duration
	UnverifiedTotalBurst int
	UnverifiedTotalEvery time.Duration
	// Admin login: a burst of LoginFailures failed logins per client
	// address, refilled over LoginWindow (one more per
	// LoginWindow/LoginFailures); past that the address is refused (429)
	// until it may try again. A successful login clears its count.
	LoginFailures int
	LoginWindow   time.Duration
	// Lookup: POST /orders/lookup (an order number and a phone number),
	// a token bucket per client address, so the phone number of an order
	// cannot be guessed.
	LookupBurst int
	LookupEvery time.Duration
}

// DefaultLimits returns the limits a zero field takes: generous for people
// and tight for scripts.
func DefaultLimits() Limits { return defaultLimits }

var defaultLimits = Limits{
	CheckoutBurst: 30, CheckoutEvery: 3 * time.Second,
	UnverifiedBurst: 20, UnverifiedEvery: 30 * time.Second,
	UnverifiedTotalBurst: 200, UnverifiedTotalEvery: 100 * time.Millisecond,
	LoginFailures: 10, LoginWindow: 15 * time.Minute,
	LookupBurst: 10, LookupEvery: time.Minute,
}

func (l Limits) withDefaults() Limits {
	d := defaultLimits
	return Limits{
		CheckoutBurst:        positiveOr(l.CheckoutBurst, d.CheckoutBurst),
		CheckoutEvery:        positiveOr(l.CheckoutEvery, d.CheckoutEvery),
		UnverifiedBurst:      positiveOr(l.UnverifiedBurst, d.UnverifiedBurst),
		UnverifiedEvery:      positiveOr(l.UnverifiedEvery, d.UnverifiedEvery),
		UnverifiedTotalBurst: positiveOr(l.UnverifiedTotalBurst, d.UnverifiedTotalBurst),
		UnverifiedTotalEvery: positiveOr(l.UnverifiedTotalEvery, d.UnverifiedTotalEvery),
		LoginFailures:        positiveOr(l.LoginFailures, d.LoginFailures),
		LoginWindow:          positiveOr(l.LoginWindow, d.LoginWindow),
		LookupBurst:          positiveOr(l.LookupBurst, d.LookupBurst),
		LookupEvery:          positiveOr(l.LookupEvery, d.LookupEvery),
	}
}

// positiveOr is v when it is set (above zero), else def.
func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// maxTracked bounds how many client addresses a limiter remembers.
const maxTracked = 50_000

// limiters is a token bucket (golang.org/x/time/rate) per key: burst
// tokens, one more per every.
type limiters struct {
	mu    sync.Mutex
	burst int
	every rate.Limit
	now   func() time.Time
	m     map[string]*rate.Limiter
}

func newLimiters(burst int, every time.Duration, now func() time.Time) *limiters {
	return &limiters{burst: burst, every: rate.Every(every), now: now, m: map[string]*rate.Limiter{}}
}

// get returns key's limiter, a full one for a key not seen (or forgotten).
// Callers hold l.mu.
func (l *limiters) get(key string, now time.Time) *rate.Limiter {
	lim := l.m[key]
	if lim == nil {
		if len(l.m) >= maxTracked {
			l.evict(now)
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.m[key] = lim
	}
	return lim
}

// allow takes a token for key; when there is none it returns false and how
// long until there is one, as the limiter computes it.
func (l *limiters) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	return take(l.get(key, now), now)
}

// take takes a token from lim at now, or returns the wait until one.
func take(lim *rate.Limiter, now time.Time) (bool, time.Duration) {
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, rate.InfDuration
	}
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// evict forgets keys whose bucket has refilled (they behave as new ones),
// or, if too few have, an arbitrary half of them. Callers hold l.mu.
func (l *limiters) evict(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < maxTracked/2 {
			break
		}
		delete(l.m, k)
	}
}

// loginThrottle counts failed admin logins per client address (a token
// bucket per address, one token per failure) and admits one password check
// per address at a time, so a flood from one address neither guesses
// quickly nor delays a login from another.
type loginThrottle struct {
	fails *limiters
	mu    sync.Mutex
	busy  map[string]*slot
	cpu   chan struct{} // password checks running at once, all addresses
}

// slot admits one password check of an address at a time; users counts
// the requests holding or waiting for it.
type slot struct {
	ch    chan struct{}
	users int
}

func newLoginThrottle(maxFails int, window time.Duration, now func() time.Time, parallel int) *loginThrottle {
	return &loginThrottle{fails: newLimiters(maxFails, window/time.Duration(maxFails), now),
		busy: map[string]*slot{}, cpu: make(chan struct{}, parallel)}
}

// begin waits for key's turn (one password check per address at a time,
// and at most a few for all addresses), then says whether key may try a
// password now. It returns end, to call once the attempt is over, or the
// time until key may try again (end is nil), or ctx's error.
func (t *loginThrottle) begin(ctx context.Context, key string) (end func(), retry time.Duration, err error) {
	t.mu.Lock()
	sl := t.busy[key]
	if sl == nil {
		sl = &slot{ch: make(chan struct{}, 1)}
		t.busy[key] = sl
	}
	sl.users++
	t.mu.Unlock()
	unuse := func() {
		t.mu.Lock()
		if sl.users--; sl.users == 0 {
			delete(t.busy, key)
		}
		t.mu.Unlock()
	}
	select {
	case sl.ch <- struct{}{}:
	case <-ctx.Done():
		unuse()
		return nil, 0, ctx.Err()
	}
	leave := func() {
		<-sl.ch
		unuse()
	}
	if wait := t.wait(key); wait > 0 {
		leave()
		return nil, wait, nil
	}
	select {
	case t.cpu <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, 0, ctx.Err()
	}
	return func() { <-t.cpu; leave() }, 0, nil
}

// wait is how long until key has a failure left to spend: 0 when it may
// try a password now.
func (t *loginThrottle) wait(key string) time.Duration {
	f := t.fails
	f.mu.Lock()
	defer f.mu.Unlock()
	lim := f.m[key]
	if lim == nil {
		return 0
	}
	now := f.now()
	res := lim.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return wait
}

// failed spends one of key's failures.
func (t *loginThrottle) failed(key string) {
	t.fails.allow(key)
}

// succeeded clears key's failures.
func (t *loginThrottle) succeeded(key string) {
	t.fails.mu.Lock()
	defer t.fails.mu.Unlock()
	delete(t.fails.m, key)
}
