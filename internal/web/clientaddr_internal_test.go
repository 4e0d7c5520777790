package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestResolveClient(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("127.0.0.1/32, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		peer    string
		xff     []string
		trusted TrustedProxies
		want    string
	}{
		{"direct client: its header is ignored", "192.0.2.1", []string{"203.0.113.9"}, trusted, "192.0.2.1"},
		{"no trusted proxies: the header is ignored", "127.0.0.1", []string{"203.0.113.9"}, nil, "127.0.0.1"},
		{"the proxy without a header (its own health check)", "127.0.0.1", nil, trusted, "127.0.0.1"},
		{"through the proxy", "127.0.0.1", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"a spoofed entry left of the proxy's", "127.0.0.1", []string{"198.51.100.7, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"a spoofed trusted address left of the proxy's", "127.0.0.1", []string{"10.0.0.9, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"two trusted proxies", "127.0.0.1", []string{"198.51.100.7, 203.0.113.9, 10.0.0.5"}, trusted, "203.0.113.9"},
		{"several header lines", "127.0.0.1", []string{"198.51.100.7", "203.0.113.9"}, trusted, "203.0.113.9"},
		{"only trusted entries: the leftmost", "127.0.0.1", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"garbage where the client should be", "127.0.0.1", []string{"203.0.113.9, garbage"}, trusted, "127.0.0.1"},
		{"garbage behind a trusted hop", "127.0.0.1", []string{"garbage, 10.0.0.3"}, trusted, "10.0.0.3"},
		{"garbage left of the client", "127.0.0.1", []string{"garbage, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"an address with a port", "127.0.0.1", []string{"203.0.113.9:4711"}, trusted, "203.0.113.9"},
		{"IPv6 in brackets with a port", "127.0.0.1", []string{"[2001:db8::1]:4711"}, trusted, "2001:db8::1"},
		{"IPv6 in brackets", "127.0.0.1", []string{" [2001:db8::1] "}, trusted, "2001:db8::1"},
		{"IPv4-mapped IPv6", "127.0.0.1", []string{"::ffff:203.0.113.9"}, trusted, "203.0.113.9"},
		{"an empty entry left of the client", "127.0.0.1", []string{", 203.0.113.9"}, trusted, "203.0.113.9"},
		{"a long entry", "127.0.0.1", []string{strings.Repeat("9", 100)}, trusted, "127.0.0.1"},
	} {
		got := resolveClient(netip.MustParseAddr(c.peer), c.xff, c.trusted)
		if got.String() != c.want {
			t.Errorf("%s: peer %s, X-Forwarded-For %q: %s, want %s", c.name, c.peer, c.xff, got, c.want)
		}
	}
	if got := peerAddr("[::ffff:127.0.0.1]:80"); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("mapped peer: %s", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := ParseTrustedProxies(" 127.0.0.1, ::1,10.1.2.3/8 , ::ffff:192.0.2.0/120,")
	if err != nil || got.String() != "127.0.0.1/32,::1/128,10.0.0.0/8,192.0.2.0/24" {
		t.Fatalf("%v, %v", got, err)
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"proxy.example", "127.0.0.1/33", "fe80::1%eth0"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHostPolicy(t *testing.T) {
	t.Parallel()
	p, err := NewHostPolicy("Shop.Example.com", "192.0.2.5:8000", "[2001:db8::5]")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"shop.example.com", "SHOP.example.com.:443", "192.0.2.5", "192.0.2.5:9", "[2001:db8::5]:80",
		"localhost", "localhost:8000", "127.0.0.1:1", "127.9.9.9", "[::1]:8000", "::1", "[::ffff:127.0.0.1]:80"} {
		if !p.Allows(h) {
			t.Errorf("%q refused", h)
		}
	}
	for _, h := range []string{"", "rebind.attacker.example", "rebind.attacker.example:8000", "shop.example.com.evil",
		"localhost.attacker.example", "192.0.2.6", "[2001:db8::6]:80", "10.0.0.1"} {
		if p.Allows(h) {
			t.Errorf("%q allowed", h)
		}
	}
	p.AnyAddress = true
	if !p.Allows("10.0.0.1:9000") || !p.Allows("[2001:db8::6]:80") || p.Allows("rebind.attacker.example") {
		t.Error("AnyAddress: addresses should pass, names not")
	}
	for _, bad := range []string{"", "http://shop.example.com", "a b", "shop.example.com/x"} {
		if _, err := NewHostPolicy(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if Clip("short") != "short" {
		t.Fatal("short value changed")
	}
	long := strings.Repeat("汉", 100) // 300 bytes
	got := Clip(long)
	if !strings.HasSuffix(got, "…(300 bytes)") || len(got) > MaxLoggedValue+20 || !strings.HasPrefix(got, strings.Repeat("汉", 66)+"…") {
		t.Fatalf("%q", got)
	}
}

// A log line quotes at most MaxLoggedValue bytes of any value, and a flood
// of one warning becomes a burst, then one line a second saying how many
// were left out.
func TestBoundedLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := BoundedLog(slog.NewTextHandler(&buf, nil))
	if BoundedLog(h) != h {
		t.Fatal("wrapped twice")
	}
	huge := strings.Repeat("o", 60<<10)
	log := slog.New(h).With("component", huge)
	at := time.Unix(1_700_000_000, 0)
	emit := func(level slog.Level, msg string, args ...any) {
		r := slog.NewRecord(at, level, msg, 0)
		r.Add(args...)
		if err := log.Handler().Handle(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	for range 300 {
		emit(slog.LevelWarn, "cross-origin request refused", "origin", huge, "err", errors.New(huge), slog.Group("g", "v", huge), "n", 7)
	}
	emit(slog.LevelInfo, "order created", "subject", huge)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != warnBurst+1 {
		t.Fatalf("%d lines, want %d", len(lines), warnBurst+1)
	}
	for _, l := range lines {
		if len(l) > 5*(MaxLoggedValue+30)+200 || !strings.Contains(l, "component=") {
			t.Fatalf("line of %d bytes: %.400s", len(l), l)
		}
	}
	if !strings.Contains(lines[0], "n=7") || strings.Count(lines[0], "…(61440 bytes)") != 4 {
		t.Fatalf("first line: %.2000s", lines[0])
	}
	buf.Reset()
	at = at.Add(time.Second)
	emit(slog.LevelWarn, "cross-origin request refused")
	emit(slog.LevelWarn, "cross-origin request refused")
	emit(slog.LevelError, "another kind")
	lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "suppressed=290") || strings.Contains(lines[1], "suppressed") {
		t.Fatalf("after a second: %q", lines)
	}
}
