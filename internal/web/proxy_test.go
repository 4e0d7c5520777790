package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/internal/web"
)

// viaProxy sends one request to the handler from the connection address
// peer with the given X-Forwarded-For (none when xff is "").
func (h *harness) viaProxy(method, target, peer, xff, host string, form url.Values) *httptest.ResponseRecorder {
	h.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = peer
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, req)
	return w
}

// Behind a trusted proxy the limits, the stored remote_addr and Retry-After
// follow the client the proxy names; a client connecting directly cannot
// name itself.
func TestTrustedProxyClientAddress(t *testing.T) {
	t.Parallel()
	trusted, err := web.ParseTrustedProxies("192.0.2.100/32")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, func(c *web.Config) {
		c.TrustedProxies = trusted
		at := time.Now()
		c.Now = func() time.Time { return at }
		c.Limits = web.Limits{LoginFailures: 2, LoginWindow: time.Hour, UnverifiedBurst: 1, UnverifiedEvery: time.Hour}
	})
	const proxy = "192.0.2.100:4000"
	login := func(peer, xff, password string) *httptest.ResponseRecorder {
		return h.viaProxy("POST", "/admin/login", peer, xff, "", url.Values{"username": {web.AdminUser}, "password": {password}})
	}
	// Client A, behind the proxy, spoofing a different address each time.
	for i, spoof := range []string{"198.51.100.77", "198.51.100.78"} {
		if w := login(proxy, spoof+", 203.0.113.1", "wrong password!"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: HTTP %d", i+1, w.Code)
		}
	}
	w := login(proxy, "198.51.100.79, 203.0.113.1", testPassword)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("client A's third try: HTTP %d, want 429", w.Code)
	}
	// 2 failures per hour: the next comes back in 30 minutes.
	if ra := w.Header().Get("Retry-After"); ra != "1800" {
		t.Fatalf("Retry-After %q, want 1800 (from the limiter)", ra)
	}
	if w := login(proxy, "203.0.113.2", testPassword); w.Code != http.StatusSeeOther {
		t.Fatalf("client B through the proxy: HTTP %d, want 303", w.Code)
	}
	// A direct client's X-Forwarded-For is ignored: it is 192.0.2.7 (which
	// has its own budget), not the throttled 203.0.113.1 nor a fresh one.
	for range 2 {
		login("192.0.2.7:1", "203.0.113.50", "wrong password!")
	}
	if w := login("192.0.2.7:1", "203.0.113.51", testPassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("a direct client naming another address: HTTP %d, want 429", w.Code)
	}

	// The stored remote_addr is the client the proxy names.
	if w := h.viaProxy("POST", "/alipay/notify", proxy, "198.51.100.1, 203.0.113.9", "", url.Values{"sign": {"AAAA"}}); w.Body.String() != "fail" {
		t.Fatalf("forged notification: %d %q", w.Code, w.Body)
	}
	ns := h.notifications()
	if len(ns) != 1 || ns[0].RemoteAddr != "203.0.113.9" {
		t.Fatalf("stored %+v", ns)
	}
	w = h.viaProxy("GET", "/alipay/return?sign=AAAA", proxy, "203.0.113.9", "", nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "3600" {
		t.Fatalf("second unverified message of 203.0.113.9: HTTP %d, Retry-After %q; want 429 and 3600", w.Code, w.Header().Get("Retry-After"))
	}
}

// Only the configured Host values are answered, the mounted routes
// included; health probes answer any Host.
func TestHostCheck(t *testing.T) {
	t.Parallel()
	hosts, err := web.NewHostPolicy("shop.example.com")
	if err != nil {
		t.Fatal(err)
	}
	mounted := 0
	h := newHarnessWith(t, func(c *web.Config) {
		c.Hosts = hosts
		c.Mount = map[string]http.Handler{"/sandbox/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mounted++ })}
	})
	for _, host := range []string{"rebind.attacker.example", "rebind.attacker.example:8000", ""} {
		w := h.viaProxy("POST", "/sandbox/api/clock/advance", "127.0.0.1:1", "", host, url.Values{"d": {"24h"}})
		if w.Code != http.StatusMisdirectedRequest || mounted != 0 {
			t.Fatalf("Host %q on the mounted sandbox: HTTP %d, mounted handler called %d times", host, w.Code, mounted)
		}
	}
	w := h.viaProxy("GET", "/", "127.0.0.1:1", "", "rebind.attacker.example", nil)
	checkErrorPage(t, "Host rebind.attacker.example", w.Result(), w.Body.String(), http.StatusMisdirectedRequest)
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("421 page without the shop's headers")
	}
	w = h.viaProxy("GET", "/api/orders/x", "127.0.0.1:1", "", "rebind.attacker.example", nil)
	if w.Code != http.StatusMisdirectedRequest || !strings.Contains(w.Body.String(), `"error":"misdirected_request"`) {
		t.Fatalf("API with a foreign Host: HTTP %d %s", w.Code, w.Body)
	}
	if n := h.countOrders(); n != 0 {
		t.Fatalf("%d orders", n)
	}
	w = h.viaProxy("POST", "/orders", "127.0.0.1:1", "", "evil.example", url.Values{"goods_id": {itoa(h.goods.ID)}})
	if w.Code != http.StatusMisdirectedRequest || h.countOrders() != 0 {
		t.Fatalf("checkout with a foreign Host: HTTP %d, %d orders", w.Code, h.countOrders())
	}
	for _, host := range []string{"shop.example.com", "SHOP.EXAMPLE.COM:443", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"} {
		if w := h.viaProxy("GET", "/", "127.0.0.1:1", "", host, nil); w.Code != http.StatusOK {
			t.Errorf("Host %q: HTTP %d", host, w.Code)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if w := h.viaProxy("GET", p, "10.0.0.1:1", "", "10.0.0.9:8000", nil); w.Code != http.StatusOK {
			t.Errorf("probe %s by address: HTTP %d", p, w.Code)
		}
	}
}
