package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiters(t *testing.T) {
	t.Parallel()
	c := &testClock{t: time.Unix(1_700_000_000, 0)}
	b := newLimiters(3, 10*time.Second, c.now)
	for i := range 3 {
		if ok, _ := b.allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	c.add(4 * time.Second)
	ok, retry := b.allow("a")
	if ok || retry <= 6*time.Second-time.Millisecond || retry > 6*time.Second {
		t.Fatalf("over the burst: %v, retry %v; want the 6 s left until the next token", ok, retry)
	}
	if ok, _ := b.allow("b"); !ok {
		t.Fatal("another key refused")
	}
	c.add(6 * time.Second)
	if ok, _ := b.allow("a"); !ok {
		t.Fatal("refilled token refused")
	}
	// The map of keys stays bounded.
	for i := range maxTracked + 10 {
		b.allow(fmt.Sprint("k", i))
	}
	if len(b.m) > maxTracked {
		t.Fatalf("%d keys tracked", len(b.m))
	}
}

// One password check per address at a time; past the failures allowed the
// address is refused with the time until it may try again (the window over
// the failures allowed: one failure comes back every 12 s here).
func TestLoginThrottleConcurrent(t *testing.T) {
	t.Parallel()
	c := &testClock{t: time.Unix(1_700_000_000, 0)}
	lt := newLoginThrottle(5, time.Minute, c.now, 4)
	var running, most atomic.Int32
	var refused atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end, retry, err := lt.begin(context.Background(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			if end == nil {
				if retry <= 12*time.Second-time.Millisecond || retry > 12*time.Second {
					t.Errorf("retry %v", retry)
				}
				refused.Add(1)
				return
			}
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			lt.failed("a")
			end()
		}()
	}
	wg.Wait()
	if most.Load() != 1 || refused.Load() != 15 {
		t.Fatalf("%d checks at once for one address, %d refused; want 1 and 15", most.Load(), refused.Load())
	}
	if end, _, _ := lt.begin(context.Background(), "b"); end == nil {
		t.Fatal("another address refused")
	} else {
		end()
	}
	c.add(time.Minute)
	end, _, _ := lt.begin(context.Background(), "a")
	if end == nil {
		t.Fatal("still refused after the window")
	}
	lt.succeeded("a")
	end()
	if len(lt.busy) != 0 || len(lt.fails.m) != 0 {
		t.Fatalf("state left: %d busy, %d failing", len(lt.busy), len(lt.fails.m))
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1:5000":            "192.0.2.1",
		"[::ffff:192.0.2.1]:5000":   "192.0.2.1",
		"[2001:db8:1:2:3::4]:1":     "2001:db8:1:2::/64",
		"[::1]:80":                  "::1",
		"not an address":            "not an address",
		"[2001:db8:1:2:ffff::]:443": "2001:db8:1:2::/64",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = in
		if got := clientKey(r); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
