package faultsuite

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/audit"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/store"
)

// binary is the alishop binary built once for the suite.
var binary string

func TestMain(m *testing.M) {
	os.Exit(shoptest.RunWithAlishop(m, "faultsuite", &binary))
}

const adminPassword = "faultsuite-admin-pw"

// harness is one scenario's world: an in-process sandbox on loopback and
// the shop binary as a child process on a fixed loopback port with its own
// data directory, so it can be SIGKILLed and restarted where it was.
type harness struct {
	t       *testing.T
	ctx     context.Context
	sb      *sandbox.Sandbox
	sbURL   string
	app     sandbox.App
	appKey  *rsa.PrivateKey
	dir     string
	addr    string
	shopURL string
	flags   []string
	logPath string
	goodsID int64
	browser *http.Client // no redirects, like a test buyer reading Location

	mu  sync.Mutex
	cmd *exec.Cmd
}

func loadKey(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := alipay.LoadPrivateKeyFile(filepath.Join("..", "..", "alipay", "testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newHarness(t *testing.T, flags ...string) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, dir: t.TempDir(), flags: flags,
		browser: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	h.appKey = loadKey(t, "test_0.pem")
	sb, err := sandbox.New(sandbox.Config{AlipayKey: loadKey(t, "test_1.pem"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		HTTPClient: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
	if err != nil {
		t.Fatal(err)
	}
	h.sb = sb
	srv := httptest.NewServer(sb)
	h.sbURL = srv.URL
	sb.Start(ctx)
	t.Cleanup(func() {
		h.stop()
		cancel()
		srv.Close()
		sb.Close()
	})
	h.app, err = sb.RegisterApp("2021000000000077", &h.appKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(h.appKey)})
	if err := os.WriteFile(filepath.Join(h.dir, "app_private_key.pem"), priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "alipay_public_key.pem"), alipay.PublicKeyPEM(sb.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	h.addr = shoptest.FreeAddr(t)
	h.shopURL = "http://" + h.addr
	h.logPath = filepath.Join(h.dir, "shop.log")

	// The goods on sale, put in the database before the shop first starts.
	if err := os.MkdirAll(filepath.Join(h.dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(h.dir, "data", "alishop.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := shop.Goods{Name: "故障注入测试商品", Price: alipay.MustAmount("10.00"), CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	db.Close()
	h.goodsID = g.ID
	h.start()
	return h
}

// start runs the shop and waits until it is ready (/readyz).
func (h *harness) start() {
	h.t.Helper()
	cmd := h.spawn(h.addr)
	h.mu.Lock()
	h.cmd = cmd
	h.mu.Unlock()
}

// spawn starts a shop process on addr with the harness's data directory
// and flags, and waits until it answers /readyz with 200 (it listens, and
// answers /healthz, before its database is ready).
func (h *harness) spawn(addr string) *exec.Cmd {
	h.t.Helper()
	base := "http://" + addr
	args := append([]string{"serve", "--addr", addr, "--public-url", base, "--data", filepath.Join(h.dir, "data"),
		"--alipay-app-id", h.app.AppID, "--alipay-seller-id", h.app.SellerID,
		"--alipay-private-key", filepath.Join(h.dir, "app_private_key.pem"),
		"--alipay-public-key", filepath.Join(h.dir, "alipay_public_key.pem"),
		"--alipay-gateway", h.sbURL + "/gateway.do",
		"--admin-password", adminPassword, "--log-level", "warn",
		// The scenarios buy hundreds of orders from one address and send
		// tampered notifications on purpose: the per-client limits would
		// refuse them (the attack suite tests the limits).
		"--checkout-burst", "1000000", "--unverified-burst", "1000000"}, h.flags...)
	logf, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "ALISHOP_ADDR=") // flags win; no stray environment
	if err := cmd.Start(); err != nil {
		logf.Close()
		h.t.Fatal(err)
	}
	logf.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the shop did not come up: %v\n%s", err, h.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) log() string {
	b, _ := os.ReadFile(h.logPath)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// kill SIGKILLs the shop: no shutdown, no flush, whatever it was doing.
func (h *harness) kill() {
	h.mu.Lock()
	cmd := h.cmd
	h.cmd = nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// stop stops the shop gracefully.
func (h *harness) stop() {
	h.mu.Lock()
	cmd := h.cmd
	h.cmd = nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

// order buys the goods: POST /orders, then the buyer's browser opens the
// signed gateway URL at the sandbox (creating the trade). It returns the
// out_trade_no.
func (h *harness) order(open bool) (string, error) {
	resp, err := h.browser.PostForm(h.shopURL+"/orders", url.Values{"goods_id": {fmt.Sprint(h.goodsID)}})
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST /orders: HTTP %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	var biz struct {
		OutTradeNo string `json:"out_trade_no"`
	}
	if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil || biz.OutTradeNo == "" {
		return "", fmt.Errorf("gateway URL without out_trade_no: %s", loc)
	}
	if open {
		if err := h.open(loc); err != nil {
			return biz.OutTradeNo, err
		}
	}
	return biz.OutTradeNo, nil
}

func (h *harness) open(gatewayURL string) error {
	resp, err := h.browser.Get(gatewayURL)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/cashier/") {
		return fmt.Errorf("gateway: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return nil
}

// pay pays a trade at the sandbox as the buyer; it returns the signed
// return_url redirect.
func (h *harness) pay(outTradeNo string) string {
	h.t.Helper()
	ret, err := h.sb.Pay(h.app.AppID, outTradeNo, "")
	if err != nil {
		h.t.Fatalf("pay %s: %v", outTradeNo, err)
	}
	return ret
}

func (h *harness) faults(fs ...sandbox.Fault) {
	h.t.Helper()
	if _, err := h.sb.AddFaults(fs); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) advance(d time.Duration) { h.sb.Advance(h.ctx, d) }

// apiOrder reads GET /api/orders/{out_trade_no}.
func (h *harness) apiOrder(outTradeNo string) (status string, err error) {
	resp, err := http.Get(h.shopURL + "/api/orders/" + outTradeNo)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /api/orders/%s: HTTP %d", outTradeNo, resp.StatusCode)
	}
	var o struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		return "", err
	}
	return o.Status, nil
}

// waitFor polls cond until it holds or the deadline passes.
func (h *harness) waitFor(what string, d time.Duration, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s: %s\nshop log:\n%s", what, state, h.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// admin is a logged-in admin session.
func (h *harness) admin() *http.Client {
	h.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(h.shopURL+"/admin/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("admin login: HTTP %d", resp.StatusCode)
	}
	return c
}

// refundKey is the one-time key of the refund confirmation page.
var refundKey = regexp.MustCompile(`name="key" value="(R[0-9a-f]+)"`)

// refund asks for a refund from the admin page, in its two steps (the form,
// then the confirmation with its one-time key); the shop answers the
// confirmation with a redirect back to the order whatever Alipay said (an
// unknown outcome leaves the refund pending, to be settled later).
func (h *harness) refund(c *http.Client, outTradeNo string, amount alipay.Amount, reason string) {
	h.t.Helper()
	form := url.Values{"amount": {amount.String()}, "reason": {reason}}
	resp, err := c.PostForm(h.shopURL+"/admin/orders/"+outTradeNo+"/refunds", form)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := refundKey.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		h.t.Fatalf("refund %s %s: HTTP %d, no confirmation\n%s", outTradeNo, amount, resp.StatusCode, body)
	}
	form.Set("key", string(m[1]))
	resp, err = c.PostForm(h.shopURL+"/admin/orders/"+outTradeNo+"/refunds/confirm", form)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("refund %s %s: HTTP %d\n%s", outTradeNo, amount, resp.StatusCode, body)
	}
}

// openDB opens the shop's database from the test (WAL: safe beside the
// running shop).
func (h *harness) openDB() *store.DB {
	h.t.Helper()
	db, err := store.Open(h.ctx, filepath.Join(h.dir, "data", "alishop.db"), store.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return db
}

// report is what the invariant check counted.
type report struct {
	orders, trades, paid, closed, refunds int
	lost, twice, wrong                    int
	paidByNotify, refundsByNotify         int
	problems                              []string
}

func (r *report) problem(format string, args ...any) {
	if len(r.problems) < 20 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

// check compares every sandbox trade with the shop's orders: the same set
// paid, the same refunds, no order paid or refunded twice, no paid trade
// left unpaid. Every trade the sandbox has comes from an order the shop
// stored first, so the shop's orders list every trade.
func (h *harness) check() report {
	h.t.Helper()
	db := h.openDB()
	defer db.Close()
	ctx := h.ctx
	var r report
	orders, err := audit.Orders(ctx, db)
	if err != nil {
		h.t.Fatal(err)
	}
	r.orders = len(orders)
	// Every state change applied, per order (payments) and per refund.
	applied, err := audit.ReadApplied(ctx, db)
	if err != nil {
		h.t.Fatal(err)
	}
	pays, refundSettles := applied.Pays, applied.Settles
	r.paidByNotify, r.refundsByNotify = applied.PaysBy[shop.SourceNotify], applied.SettlesBy[shop.SourceNotify]
	for _, o := range orders {
		tv, ok := h.sb.Trade(h.app.AppID, o.OutTradeNo)
		paidLocal := o.Status == shop.StatusPaid || o.Status == shop.StatusPartiallyRefunded || o.Status == shop.StatusRefunded
		if o.Status == shop.StatusClosed {
			r.closed++
		}
		if pays[o.OutTradeNo] > 1 {
			r.twice++
			r.problem("order %s: payment applied %d times", o.OutTradeNo, pays[o.OutTradeNo])
		}
		if !ok {
			if paidLocal {
				r.wrong++
				r.problem("order %s is %s but the sandbox has no trade", o.OutTradeNo, o.Status)
			}
			continue
		}
		r.trades++
		paidRemote := tv.GmtPayment != ""
		switch {
		case paidRemote && !paidLocal:
			r.lost++
			r.problem("trade %s paid at the sandbox (%s), order %s", o.OutTradeNo, tv.TradeStatus, o.Status)
		case !paidRemote && paidLocal:
			r.wrong++
			r.problem("trade %s not paid at the sandbox (%s), order %s", o.OutTradeNo, tv.TradeStatus, o.Status)
		case paidRemote:
			r.paid++
			if pays[o.OutTradeNo] != 1 {
				r.wrong++
				r.problem("order %s: payment applied %d times", o.OutTradeNo, pays[o.OutTradeNo])
			}
		}
		if tv.TradeStatus == string(alipay.TradeStatusClosed) && !paidRemote && o.Status != shop.StatusClosed && o.Status != shop.StatusUnpaid {
			r.wrong++
			r.problem("trade %s closed, order %s", o.OutTradeNo, o.Status)
		}
		// Refunds: the same total, the same requests, each applied once.
		if o.RefundedFen != tv.RefundFee {
			r.wrong++
			r.problem("order %s refunded %s, sandbox %s", o.OutTradeNo, o.RefundedFen, tv.RefundFee)
		}
		want := shop.StatusPaid
		switch {
		case tv.RefundFee > 0 && tv.RefundFee == tv.TotalAmount:
			want = shop.StatusRefunded
		case tv.RefundFee > 0:
			want = shop.StatusPartiallyRefunded
		}
		if paidRemote && o.Status != want {
			r.wrong++
			r.problem("order %s is %s, want %s (refunded %s of %s)", o.OutTradeNo, o.Status, want, tv.RefundFee, tv.TotalAmount)
		}
		local, err := db.OrderRefunds(ctx, o.OutTradeNo)
		if err != nil {
			h.t.Fatal(err)
		}
		succeeded := map[string]alipay.Amount{}
		for _, rf := range local {
			if rf.Status == shop.RefundSucceeded {
				succeeded[rf.OutRequestNo] = rf.Amount
			}
			if refundSettles[rf.OutRequestNo] > 1 {
				r.twice++
				r.problem("refund %s applied %d times", rf.OutRequestNo, refundSettles[rf.OutRequestNo])
			}
		}
		for _, rv := range tv.Refunds {
			r.refunds++
			if a, ok := succeeded[rv.OutRequestNo]; !ok || a != rv.RefundAmount {
				r.wrong++
				r.problem("sandbox refund %s of %s (%s): shop has %v", rv.OutRequestNo, o.OutTradeNo, rv.RefundAmount, a)
			}
			delete(succeeded, rv.OutRequestNo)
		}
		for no := range succeeded {
			r.wrong++
			r.problem("shop refund %s of %s is not at the sandbox", no, o.OutTradeNo)
		}
	}
	return r
}

// must fails the test when the invariant check found anything.
func (r report) must(t *testing.T) {
	t.Helper()
	if r.lost != 0 || r.twice != 0 || r.wrong != 0 {
		t.Errorf("invariant check: %d lost, %d applied twice, %d wrong:\n%s", r.lost, r.twice, r.wrong, strings.Join(r.problems, "\n"))
	}
}

// summary prints a scenario's counts, in the test log and on stdout.
func summary(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	fmt.Println(line)
}

// attempts counts the sandbox's delivery log.
func (h *harness) attempts() (total, acked int, byOrder map[string][]sandbox.Attempt) {
	byOrder = map[string][]sandbox.Attempt{}
	for _, a := range h.sb.Notifications() {
		total++
		if a.Acked {
			acked++
		}
		byOrder[a.OutTradeNo] = append(byOrder[a.OutTradeNo], a)
	}
	return
}

// noteStates counts the sandbox's notifications by delivery state
// (pending, held, acked, failed), from its control API.
func (h *harness) noteStates() map[string]int {
	h.t.Helper()
	resp, err := http.Get(h.sbURL + "/api/notifications")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Notifications []sandbox.NotificationView `json:"notifications"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range v.Notifications {
		out[n.State]++
	}
	return out
}
