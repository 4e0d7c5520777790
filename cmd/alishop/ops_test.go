package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/internal/shoptest"
	"alishop/internal/store/pgtest"
)

// scrape reads the shop's /metrics as a loopback client.
func (p *shopProcess) scrape() string {
	p.t.Helper()
	resp, body := p.do("GET", "/metrics", nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		p.t.Fatalf("GET /metrics: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return body
}

// metric returns the value of the sample of name carrying every label given
// as k="v" (summed over the samples that match), and whether there was one.
func metric(text, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series, value := line[:i], line[i+1:]
		n, lbls, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(lbls, l) {
				match = false
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}

func (p *shopProcess) login() *http.Cookie {
	p.t.Helper()
	if p.password == "" {
		p.t.Fatalf("no admin password printed: %q", p.stdout)
	}
	resp, _ := p.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {p.password}}, nil)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		p.t.Fatalf("login: %s", resp.Status)
	}
	return resp.Cookies()[0]
}

// TestMetricsCountPaymentsForgeriesRefunds: after a sandbox payment, a forged
// notification and a refund, /metrics counts each of them, the Alipay calls
// behind them, the HTTP requests by route pattern, the goods and the jobs.
// It runs once per protocol of the server-side calls (--alipay-api): the
// refund is an end-to-end refund through the admin page.
func TestMetricsCountPaymentsForgeriesRefunds(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"v2", "v3"} {
		t.Run(api, func(t *testing.T) { testMetricsPaymentsForgeriesRefunds(t, api) })
	}
}

func testMetricsPaymentsForgeriesRefunds(t *testing.T, api string) {
	p := startShop(t, t.TempDir(), "--alipay-api", api, "--log-level", "info")
	tg, _ := shopTarget(t, p)
	cookie := p.login()

	no, gw := p.buy("1")
	p.openCashier(gw)
	p.pay(no)
	if o := p.waitPaid(no); o.Status != "paid" || o.PaidVia != "notify" {
		t.Fatalf("after payment: %+v; stderr:\n%s", o, p.stderr)
	}

	// A notification for the paid order signed with the app's own key
	// instead of Alipay's: a forgery.
	forged := shoptest.Sign(t, tg.AppKey, tg.Genuine(tg.Order(no), "2026112522001400000000009999"))
	if code, ans := tg.Notify("POST", forged); code == 200 && ans == "success" {
		t.Fatalf("forged notification acknowledged")
	}

	resp, body := p.refund(no, "369.00", "测试", map[string]string{"Cookie": cookie.Name + "=" + cookie.Value})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: %s %s", resp.Status, body)
	}
	if o := p.apiOrder(no); o.Status != "refunded" {
		t.Fatalf("after refund: %+v", o)
	}

	m := p.scrape()
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"alishop_orders_created_total", nil, 1},
		{"alishop_payments_applied_total", []string{`source="notify"`}, 1},
		{"alishop_notifications_total", []string{`outcome="applied"`}, 1},
		{"alishop_notifications_total", []string{`outcome="bad_signature"`}, 1},
		{"alishop_refunds_total", []string{`result="succeeded"`}, 1},
		{"alishop_alipay_requests_total", []string{`method="alipay.trade.refund"`, `result="success"`}, 1},
		{"alishop_alipay_request_duration_seconds_count", []string{`method="alipay.trade.refund"`}, 1},
		{"alishop_http_requests_total", []string{`route="POST /orders"`, `code="303"`}, 1},
		{"alishop_http_requests_total", []string{`route="/alipay/notify"`, `method="POST"`}, 2},
		{"alishop_http_requests_total", []string{`route="GET /api/orders/{out_trade_no}"`}, 1},
		{"alishop_goods", []string{`state="listed"`}, 5},
		{"alishop_jobs", []string{`kind="refund"`}, 1},
		{"go_goroutines", nil, 1},
	} {
		v, ok := metric(m, c.name, c.labels...)
		if !ok || v < c.min {
			t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, v, ok, c.min)
		}
	}
	if v, _ := metric(m, "alishop_payments_applied_total", `source="notify"`); v != 1 {
		t.Errorf("payments applied by notify = %v, want exactly 1 (the forgery must not count)", v)
	}
	// The payment is logged once, with how it became known.
	if logs := p.stderr.String(); strings.Count(logs, `msg="order paid"`) != 1 || !strings.Contains(logs, "out_trade_no="+no) || !strings.Contains(logs, "source=notify") {
		t.Errorf("no single 'order paid' log line with source=notify:\n%s", logs)
	}
	// Order numbers never become label values.
	if strings.Contains(m, no) {
		t.Error("/metrics names an order number: a label takes request data")
	}

	// Through a reverse proxy on the same host the client is not loopback.
	resp, _ = p.do("GET", "/metrics", nil, map[string]string{"X-Forwarded-For": "203.0.113.7"})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics through a proxy: %s, want 404", resp.Status)
	}
}

// TestReadyz: /readyz is 200 while the database is there, 503 once its
// file is gone; /healthz (liveness) stays 200.
func TestReadyz(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startShop(t, data)
	if resp, body := p.do("GET", "/readyz", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("/readyz: %s %s", resp.Status, body)
	}
	db := filepath.Join(data, "alishop.db")
	if err := os.Rename(db, db+".moved"); err != nil {
		t.Fatal(err)
	}
	if resp, body := p.do("GET", "/readyz", nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database gone: %s %s", resp.Status, body)
	}
	if resp, _ := p.do("GET", "/healthz", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("/healthz: %s", resp.Status)
	}
	if err := os.Rename(db+".moved", db); err != nil {
		t.Fatal(err)
	}
	if resp, _ := p.do("GET", "/readyz", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz with the database back: %s", resp.Status)
	}
}

// TestMetricsAddr: --metrics-addr serves /metrics on a listener of its own
// (to any client) and the shop's listener no longer serves it.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	p := startShop(t, t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	var addr string
	for _, l := range p.stdout {
		if a, ok := strings.CutPrefix(l, "metrics at "); ok {
			addr = a
		}
	}
	if addr == "" {
		t.Fatalf("no metrics line: %q", p.stdout)
	}
	resp, body := p.do("GET", addr, nil, map[string]string{"X-Forwarded-For": "203.0.113.7"})
	if resp.StatusCode != 200 || !strings.Contains(body, "alishop_orders_created_total") {
		t.Fatalf("GET %s: %s", addr, resp.Status)
	}
	if resp, _ := p.do("GET", "/metrics", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the shop's listener with --metrics-addr: %s", resp.Status)
	}
}

// TestPublicURLWithPortZero: --public-url is what the shop prints and signs
// into gateway URLs, even when --addr asks for any free port.
func TestPublicURLWithPortZero(t *testing.T) {
	t.Parallel()
	p := startShop(t, t.TempDir(), "--public-url", "https://shop.example.com/")
	want := "open the shop at https://shop.example.com/ "
	found := false
	for _, l := range p.stdout {
		found = found || strings.HasPrefix(l, want)
	}
	if !found {
		t.Fatalf("stdout %q does not start a line with %q", p.stdout, want)
	}
}

// TestReadyzPostgres: on PostgreSQL /readyz answers 503 while the database
// cannot be reached, and 200 again once it can.
func TestReadyzPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// The shop reaches PostgreSQL through a proxy the test can cut.
	px := newTCPProxy(t, u.Host)
	u.Host = px.addr()
	p := startShop(t, t.TempDir(), "--db", u.String())
	if resp, body := p.do("GET", "/readyz", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz: %s %s", resp.Status, body)
	}
	px.cut()
	if resp, body := p.do("GET", "/readyz", nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database unreachable: %s %s", resp.Status, body)
	}
	px.restore()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, _ := p.do("GET", "/readyz", nil, nil)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the database came back: %s", resp.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tcpProxy forwards connections to a backend until cut, which closes the
// listener and every connection; restore listens again on the same port.
type tcpProxy struct {
	t       *testing.T
	backend string
	port    string
	mu      sync.Mutex
	ln      net.Listener
	conns   []net.Conn
}

func newTCPProxy(t *testing.T, backend string) *tcpProxy {
	p := &tcpProxy{t: t, backend: backend}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p.port, _ = net.SplitHostPort(ln.Addr().String())
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) addr() string { return "127.0.0.1:" + p.port }

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) restore() {
	ln, err := net.Listen("tcp", p.addr())
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}
