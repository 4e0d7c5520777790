package attacksuite

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startProxy runs a reverse proxy on a free loopback port in front of
// base, as deploy/ puts Caddy or nginx in front of the shop: it keeps the
// request's Host and connects to the shop from 127.0.0.1. It appends the
// address of the client it received the request from to X-Forwarded-For
// (nginx's $proxy_add_x_forwarded_for), so what a client sends stays on the
// left: harder for the shop than deploy/'s proxies, which replace it. It
// returns the proxy's URL.
func startProxy(t *testing.T, base string) string {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// wrongLogins posts n wrong passwords from c to base, each with another
// spoofed X-Forwarded-For, and returns how many were answered 401 and 429,
// and the last Retry-After.
func wrongLogins(t *testing.T, c *http.Client, base string, n int) (refused, throttled int, retryAfter string) {
	t.Helper()
	for i := range n {
		h := map[string]string{"Sec-Fetch-Site": "same-origin", "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
		resp, _ := do(t, c, "POST", base+"/admin/login", form("username", "admin", "password", "wrong-password-123"), h)
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			throttled++
			retryAfter = resp.Header.Get("Retry-After")
		default:
			t.Fatalf("wrong password %d: HTTP %d", i+1, resp.StatusCode)
		}
	}
	return refused, throttled, retryAfter
}

// TestProxyMode runs the shop behind a reverse proxy on loopback, started
// with --trusted-proxy 127.0.0.1/32 as deploy/ configures it: each client
// keeps its own limits, and the loopback-only routes stay closed to
// whoever comes through the proxy.
func TestProxyMode(t *testing.T) {
	t.Parallel()
	s := startShop(t, "127.0.0.1:0", "--trusted-proxy", "127.0.0.1/32")
	proxy := startProxy(t, s.base)
	a, b := client("127.0.0.50"), client("127.0.0.51")
	goodsID := s.count(t, "SELECT MIN(id) FROM goods WHERE hidden = 0")

	s.attack(t, "proxy: 11 wrong passwords from client A, the right one from client B", func(t *testing.T) string {
		refused, throttled, retry := wrongLogins(t, a, proxy, 11)
		if refused != 10 || throttled != 1 || retry == "" {
			t.Fatalf("client A: %d refused, %d throttled (Retry-After %q); want 10 and 1", refused, throttled, retry)
		}
		resp, body := do(t, b, "POST", proxy+"/admin/login", form("username", "admin", "password", adminPassword), sameOrigin)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("client B's right password through the proxy: HTTP %d %.300s", resp.StatusCode, body)
		}
		// The session client B got is not stored by s.snapshot's rules: end it.
		for _, ck := range resp.Cookies() {
			do(t, b, "POST", proxy+"/admin/logout", nil, sameOrigin, ck)
		}
		if !strings.Contains(s.log(), "client=127.0.0.50") {
			t.Fatalf("the log does not name client A:\n%.2000s", s.log())
		}
		return fmt.Sprintf("client A (127.0.0.50, spoofing a new X-Forwarded-For each time): 10 answered 401, the 11th 429 with Retry-After %s s; client B (127.0.0.51) logged in through the same proxy; the log names 127.0.0.50", retry)
	})

	t.Run("proxy: client A floods /orders, client B still checks out", func(t *testing.T) {
		var limited int
		var retry string
		for range 40 {
			resp, body := do(t, a, "POST", proxy+"/orders", orderForm(goodsID), sameOrigin)
			switch resp.StatusCode {
			case http.StatusSeeOther:
			case http.StatusTooManyRequests:
				limited++
				retry = resp.Header.Get("Retry-After")
			default:
				t.Fatalf("client A's order: HTTP %d %.2000s", resp.StatusCode, body)
			}
		}
		if limited < 5 || retry == "" || retry == "30" {
			t.Fatalf("client A: %d of 40 limited, Retry-After %q", limited, retry)
		}
		resp, body := do(t, b, "POST", proxy+"/orders", orderForm(goodsID), sameOrigin)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("client B's checkout during client A's flood: HTTP %d %.300s", resp.StatusCode, body)
		}
		t.Logf("limited: %d of client A's 40 orders answered 429 (Retry-After %s s, from the limiter); client B's checkout through the same proxy answered 303", limited, retry)
	})

	s.attack(t, "proxy: stored remote_addr is the client's", func(t *testing.T) string {
		resp, _ := do(t, a, "POST", proxy+"/alipay/notify", strings.NewReader("sign=AAAA&out_trade_no=proxy-mode-1"),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "203.0.113.77"})
		if resp.StatusCode < 400 {
			t.Fatalf("forged notification: HTTP %d", resp.StatusCode)
		}
		if n := s.count(t, "SELECT COUNT(*) FROM notifications WHERE remote_addr = '127.0.0.50' AND CAST(body AS TEXT) LIKE '%proxy-mode-1%'"); n != 1 {
			t.Fatalf("%d forged notifications stored with remote_addr 127.0.0.50, want 1", n)
		}
		return fmt.Sprintf("a forged notification from client A through the proxy (spoofing 203.0.113.77) answered %d and is stored with remote_addr 127.0.0.50", resp.StatusCode)
	})

	s.attack(t, "proxy: loopback-only routes through the proxy", func(t *testing.T) string {
		direct := client("127.0.0.1")
		var out []string
		for _, c := range []struct {
			method, path string
			want         int
		}{{"GET", "/metrics", http.StatusNotFound}, {"GET", "/sandbox/api/trades", http.StatusForbidden},
			{"GET", "/sandbox/api/notifications", http.StatusForbidden}, {"POST", "/sandbox/api/faults", http.StatusForbidden},
			{"POST", "/sandbox/api/clock/advance", http.StatusForbidden}} {
			var body io.Reader
			if c.method == "POST" {
				body = strings.NewReader("d=24h")
			}
			if resp, _ := do(t, a, c.method, proxy+c.path, body, nil); resp.StatusCode != c.want {
				t.Errorf("%s %s through the proxy: HTTP %d, want %d", c.method, c.path, resp.StatusCode, c.want)
			}
			out = append(out, fmt.Sprintf("%s %s %d", c.method, c.path, c.want))
			if c.method == "GET" {
				resp, _ := do(t, direct, c.method, s.base+c.path, nil, nil)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s %s from loopback without a proxy: HTTP %d, want 200", c.method, c.path, resp.StatusCode)
				}
			}
		}
		// Whoever sends a forwarded header is refused, a loopback client too.
		for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-IP"} {
			resp, _ := do(t, direct, "GET", s.base+"/sandbox/api/trades", nil, map[string]string{h: "for=127.0.0.1"})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("api/trades from loopback with %s: HTTP %d", h, resp.StatusCode)
			}
			resp, _ = do(t, direct, "GET", s.base+"/metrics", nil, map[string]string{h: "127.0.0.1"})
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("/metrics from loopback with %s: HTTP %d", h, resp.StatusCode)
			}
		}
		return "through the proxy: " + strings.Join(out, ", ") + " (200 from loopback directly); any request carrying Forwarded, X-Forwarded-For or X-Real-IP refused"
	})

	// A client reaching the shop directly (not from the trusted proxy)
	// cannot name itself.
	s.attack(t, "proxy: a direct client's spoofed X-Forwarded-For is ignored", func(t *testing.T) string {
		refused, throttled, _ := wrongLogins(t, client("127.0.0.52"), s.base, 11)
		if refused != 10 || throttled != 1 {
			t.Fatalf("%d refused, %d throttled; want 10 and 1", refused, throttled)
		}
		return "11 wrong passwords from 127.0.0.52, each naming another address: 10 answered 401, the 11th 429"
	})

	t.Run("log: 300 requests with a 60 KB Origin", func(t *testing.T) {
		origin := "http://evil.example/" + strings.Repeat("o", 60<<10)
		before := s.logSize()
		c := client("127.0.0.53")
		runConcurrently(300, 8, func(int) {
			req, _ := http.NewRequest("POST", s.base+"/orders", orderForm(goodsID))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", origin)
			resp, err := c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-origin POST: HTTP %d", resp.StatusCode)
			}
		})
		// A line logged after the flood: once it is read, so is the flood.
		do(t, c, "GET", s.base+"/", nil, map[string]string{"Host": "log-marker.example"})
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.log(), "log-marker.example"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the marker line was not logged")
			}
		}
		grown := s.logSize() - before
		if grown >= 100<<10 {
			t.Fatalf("the log grew %d bytes (want < 100 KB)", grown)
		}
		t.Logf("bounded: 300 cross-origin POSTs with a 60 KB Origin (18 MB of headers) answered 403; the log grew %.1f KB (< 100 KB)", float64(grown)/1024)
	})
}

// TestNoTrustedProxy: without --trusted-proxy a spoofed X-Forwarded-For
// changes nothing: neither the limits nor the stored address.
func TestNoTrustedProxy(t *testing.T) {
	t.Parallel()
	s := startShop(t, "127.0.0.1:0")
	c := client("127.0.0.60")
	s.attack(t, "no trusted proxy: 11 wrong passwords, each with another spoofed X-Forwarded-For", func(t *testing.T) string {
		refused, throttled, retry := wrongLogins(t, c, s.base, 11)
		if refused != 10 || throttled != 1 {
			t.Fatalf("%d refused, %d throttled; want 10 and 1", refused, throttled)
		}
		resp, _ := do(t, c, "POST", s.base+"/alipay/notify", strings.NewReader("sign=AAAA&out_trade_no=no-proxy-1"),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "203.0.113.77"})
		if n := s.count(t, "SELECT COUNT(*) FROM notifications WHERE remote_addr = '127.0.0.60' AND CAST(body AS TEXT) LIKE '%no-proxy-1%'"); n != 1 || resp.StatusCode < 400 {
			t.Fatalf("forged notification: HTTP %d, %d stored with remote_addr 127.0.0.60", resp.StatusCode, n)
		}
		return fmt.Sprintf("10 answered 401, the 11th 429 (Retry-After %s s): the spoofed addresses did not count; a forged notification naming 203.0.113.77 is stored with remote_addr 127.0.0.60", retry)
	})
}

// TestHostRebinding: a browser under DNS rebinding sends the attacker's
// name as Host and a matching Origin; the sandbox's control API, in the
// shop and stand-alone, answers 421 and its clock does not move.
func TestHostRebinding(t *testing.T) {
	t.Parallel()
	s := startShop(t, "127.0.0.1:0")
	standalone := startStandaloneSandbox(t)
	for _, sb := range []struct{ name, root string }{{"embedded sandbox", s.base + "/sandbox"}, {"stand-alone sandbox", standalone}} {
		s.attack(t, sb.name+": Host rebind.attacker.example on api/clock/advance", func(t *testing.T) string {
			c := client("127.0.0.70")
			u, _ := url.Parse(sb.root)
			evil := "rebind.attacker.example:" + u.Port()
			offset := func() string {
				resp, body := do(t, c, "GET", sb.root+"/api/clock", nil, nil)
				var clock struct{ Offset string }
				if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &clock) != nil {
					t.Fatalf("api/clock: HTTP %d %s", resp.StatusCode, body)
				}
				return clock.Offset
			}
			before := offset()
			resp, body := do(t, c, "POST", sb.root+"/api/clock/advance", form("d", "24h"),
				map[string]string{"Host": evil, "Origin": "http://" + evil, "Sec-Fetch-Site": "same-origin"})
			if resp.StatusCode != http.StatusMisdirectedRequest {
				t.Fatalf("HTTP %d %.300s, want 421", resp.StatusCode, body)
			}
			if after := offset(); after != before {
				t.Fatalf("the clock moved: offset %s → %s", before, after)
			}
			return fmt.Sprintf("POST api/clock/advance with Host and Origin %s answered 421; clock offset still %s", evil, before)
		})
	}
}

var sandboxListenLine = regexp.MustCompile(`^sandbox listening on (http://\S+?)/?$`)

// startStandaloneSandbox runs `alishop sandbox` on a free loopback port and
// returns its root URL (no final slash).
func startStandaloneSandbox(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary, "sandbox", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "ALISHOP_SANDBOX_ADDR=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := sandboxListenLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case root, ok := <-found:
		if !ok {
			t.Fatal("alishop sandbox exited before listening")
		}
		return root
	case <-time.After(30 * time.Second):
		t.Fatal("alishop sandbox did not start")
	}
	return ""
}
