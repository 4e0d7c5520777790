package web

import (
	"context"
	"math"
	"net"
	"net/netip"
	"sync"
	"time"
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
	// Admin login: at most LoginFailures failed logins per client address
	// within LoginWindow; past that the address is refused (429) until the
	// oldest failure leaves the window.
	LoginFailures int
	LoginWindow   time.Duration
}

// DefaultLimits are generous for people and tight for scripts.
var DefaultLimits = Limits{
	CheckoutBurst: 30, CheckoutEvery: 3 * time.Second,
	UnverifiedBurst: 20, UnverifiedEvery: 30 * time.Second,
	UnverifiedTotalBurst: 200, UnverifiedTotalEvery: 100 * time.Millisecond,
	LoginFailures: 10, LoginWindow: 15 * time.Minute,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	return Limits{
		CheckoutBurst:        positiveOr(l.CheckoutBurst, d.CheckoutBurst),
		CheckoutEvery:        positiveOr(l.CheckoutEvery, d.CheckoutEvery),
		UnverifiedBurst:      positiveOr(l.UnverifiedBurst, d.UnverifiedBurst),
		UnverifiedEvery:      positiveOr(l.UnverifiedEvery, d.UnverifiedEvery),
		UnverifiedTotalBurst: positiveOr(l.UnverifiedTotalBurst, d.UnverifiedTotalBurst),
		UnverifiedTotalEvery: positiveOr(l.UnverifiedTotalEvery, d.UnverifiedTotalEvery),
		LoginFailures:        positiveOr(l.LoginFailures, d.LoginFailures),
		LoginWindow:          positiveOr(l.LoginWindow, d.LoginWindow),
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

// clientKey is the identity a limit applies to: the connection's IP address
// (never a header, which the client chooses), an IPv6 address by its /64,
// which one subscriber usually holds whole.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() && !ip.IsLoopback() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// buckets is a token bucket per key: burst tokens, one more per every.
type buckets struct {
	mu    sync.Mutex
	burst float64
	every time.Duration
	now   func() time.Time
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newBuckets(burst int, every time.Duration, now func() time.Time) *buckets {
	return &buckets{burst: float64(burst), every: every, now: now, m: map[string]*bucket{}}
}

// allow takes a token for key; when there is none it returns false and how
// long until there is one.
func (b *buckets) allow(key string) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.m[key]
	if k == nil {
		if len(b.m) >= maxTracked {
			b.evict(now)
		}
		k = &bucket{tokens: b.burst, last: now}
		b.m[key] = k
	}
	if el := now.Sub(k.last); el > 0 {
		k.tokens = math.Min(b.burst, k.tokens+float64(el)/float64(b.every))
	}
	k.last = now
	if k.tokens >= 1 {
		k.tokens--
		return true, 0
	}
	wait := time.Duration((1 - k.tokens) * float64(b.every))
	return false, max(wait, time.Second)
}

// evict forgets keys whose bucket has refilled (they behave as new ones),
// or, if none has, an arbitrary half of them. Callers hold b.mu.
func (b *buckets) evict(now time.Time) {
	full := time.Duration(b.burst * float64(b.every))
	for k, v := range b.m {
		if now.Sub(v.last) >= full {
			delete(b.m, k)
		}
	}
	for k := range b.m {
		if len(b.m) < maxTracked/2 {
			break
		}
		delete(b.m, k)
	}
}

// loginThrottle counts failed admin logins per client address and admits
// one password check per address at a time, so a flood from one address
// neither guesses quickly nor delays a login from another.
type loginThrottle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time // recent failures, oldest first
	busy   map[string]*slot
	cpu    chan struct{} // password checks running at once, all addresses
}

// slot admits one password check of an address at a time; users counts
// the requests holding or waiting for it.
type slot struct {
	ch    chan struct{}
	users int
}

func newLoginThrottle(maxFails int, window time.Duration, now func() time.Time, parallel int) *loginThrottle {
	return &loginThrottle{max: maxFails, window: window, now: now, fails: map[string][]time.Time{},
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
	t.mu.Lock()
	now := t.now()
	recent := t.recent(key, now)
	t.mu.Unlock()
	if len(recent) >= t.max {
		leave()
		return nil, max(recent[0].Add(t.window).Sub(now), time.Second), nil
	}
	select {
	case t.cpu <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, 0, ctx.Err()
	}
	return func() { <-t.cpu; leave() }, 0, nil
}

// recent drops key's failures that left the window and returns the rest.
// Callers hold t.mu.
func (t *loginThrottle) recent(key string, now time.Time) []time.Time {
	f := t.fails[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= t.window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.fails, key)
		return nil
	}
	t.fails[key] = f
	return f
}

func (t *loginThrottle) failed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.fails) >= maxTracked {
		for k, f := range t.fails {
			if now.Sub(f[len(f)-1]) >= t.window || len(t.fails) >= maxTracked {
				delete(t.fails, k)
			}
			if len(t.fails) < maxTracked/2 {
				break
			}
		}
	}
	t.fails[key] = append(t.recent(key, now), now)
}

func (t *loginThrottle) succeeded(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}
