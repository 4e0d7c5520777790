package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/store"
)

// lockedBuffer collects a program's stderr for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// shopProcess is the real program, started through run() on port 0.
type shopProcess struct {
	t        testing.TB
	base     string // http://127.0.0.1:PORT
	data     string
	stdout   []string // lines printed before the listening line and the next ones
	password string   // the admin password: testAdminPassword, or the generated one when printed
	stderr   *lockedBuffer
	stop     func() error
}

var listenLine = regexp.MustCompile(`^alishop listening on (http://127\.0\.0\.1:\d+)/$`)

// testAdminPassword is the admin password of the shops startShop starts.
// They are given its stored form with 1,000 PBKDF2 iterations
// (--admin-password-hash): a login then runs the same code as with the
// 600,000 iterations of a generated password, without the seconds each of
// those takes under the race detector. startShopGenerated starts a shop
// that generates its password, as a new shop does.
const testAdminPassword = "test admin password"

var testAdminPasswordHash = shoptest.PasswordHash(testAdminPassword)

// startShop runs `alishop serve --addr 127.0.0.1:0 --data DATA` in-process
// with testAdminPassword (unless extra gives --admin-password) and returns
// once it prints where it listens. The program is stopped (and must exit
// cleanly) at the end of the test.
func startShop(t testing.TB, data string, extra ...string) *shopProcess {
	t.Helper()
	if slices.Contains(extra, "--admin-password") {
		return launchShop(t, data, "", extra...)
	}
	p := launchShop(t, data, testAdminPasswordHash, extra...)
	p.password = testAdminPassword
	return p
}

// startShopGenerated starts a shop as startShop does, but without an admin
// password: on a new database it generates one and prints it.
func startShopGenerated(t testing.TB, data string, extra ...string) *shopProcess {
	t.Helper()
	return launchShop(t, data, "", extra...)
}

// launchShop starts the shop with ALISHOP_ADMIN_PASSWORD_HASH=hash when hash
// is not empty.
func launchShop(t testing.TB, data, hash string, extra ...string) *shopProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &shopProcess{t: t, data: data, stderr: &lockedBuffer{}}
	args := append([]string{"alishop", "serve", "--addr", "127.0.0.1:0", "--data", data}, extra...)
	getenv := func(k string) string {
		switch k {
		case "ALISHOP_LOG_LEVEL":
			return "warn"
		case "ALISHOP_ADMIN_PASSWORD_HASH":
			return hash
		}
		return ""
	}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, getenv, strings.NewReader(""), pw, p.stderr)
		pw.CloseWithError(fmt.Errorf("alishop exited: %v", err))
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		p.stdout = append(p.stdout, line)
		if m := listenLine.FindStringSubmatch(line); m != nil {
			p.base = m[1]
			break
		}
	}
	if p.base == "" {
		cancel()
		t.Fatalf("no listening line; stdout %q, err %v, stderr:\n%s", p.stdout, sc.Err(), p.stderr)
	}
	// The next lines are printed at once, the Alipay line last; read the
	// admin password if there is one.
	for sc.Scan() {
		line := sc.Text()
		p.stdout = append(p.stdout, line)
		if _, pw, ok := strings.Cut(line, "admin password (generated, shown only this once): "); ok {
			p.password = pw
		}
		if strings.HasPrefix(line, "built-in Alipay sandbox at ") || strings.HasPrefix(line, "Alipay app ") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	p.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("alishop serve exited with %v; stderr:\n%s", err, p.stderr)
		}
	})
	return p
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

func (p *shopProcess) do(method, target string, form url.Values, header map[string]string) (*http.Response, string) {
	p.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = p.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// buy posts the purchase form as the goods page does and returns the order
// number and the gateway URL it was redirected to.
func (p *shopProcess) buy(goodsID string) (string, string) {
	p.t.Helper()
	resp, body := p.do("POST", "/orders", url.Values{"goods_id": {goodsID}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": p.base})
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("POST /orders: %s %s", resp.Status, body)
	}
	gw := resp.Header.Get("Location")
	u, err := url.Parse(gw)
	if err != nil {
		p.t.Fatal(err)
	}
	if !strings.HasPrefix(gw, p.base+"/sandbox/gateway.do?") {
		p.t.Fatalf("gateway URL %s is not the embedded sandbox's", gw)
	}
	var biz struct {
		OutTradeNo  string        `json:"out_trade_no"`
		TotalAmount alipay.Amount `json:"total_amount"`
	}
	if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil || biz.OutTradeNo == "" {
		p.t.Fatalf("biz_content %q: %v", u.Query().Get("biz_content"), err)
	}
	return biz.OutTradeNo, gw
}

// openCashier is the buyer's browser following a gateway URL (the
// embedded sandbox's or one on another host) to the cashier, which opens
// the trade.
func (p *shopProcess) openCashier(gw string) {
	p.t.Helper()
	resp, body := p.do("GET", gw, nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/cashier/") {
		p.t.Fatalf("gateway: %s %s %s", resp.Status, resp.Header.Get("Location"), body)
	}
}

// pay pays a waiting trade through the sandbox control API and returns the
// signed return URL the buyer's browser is sent to.
func (p *shopProcess) pay(outTradeNo string) string {
	p.t.Helper()
	resp, body := p.do("POST", "/sandbox/api/trades/pay", url.Values{"app_id": {sandboxAppID}, "out_trade_no": {outTradeNo}}, nil)
	if resp.StatusCode != 200 {
		p.t.Fatalf("sandbox pay: %s %s", resp.Status, body)
	}
	var r struct {
		TradeStatus string `json:"trade_status"`
		RedirectURL string `json:"redirect_url"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		p.t.Fatalf("sandbox pay answer %s: %v", body, err)
	}
	return r.RedirectURL
}

type apiOrder struct {
	OutTradeNo string `json:"out_trade_no"`
	Status     string `json:"status"`
	Amount     string `json:"amount"`
	Goods      string `json:"goods"`
	TradeNo    string `json:"trade_no"`
	PaidVia    string `json:"paid_via"`
}

func (p *shopProcess) apiOrder(no string) apiOrder {
	p.t.Helper()
	resp, body := p.do("GET", "/api/orders/"+no, nil, nil)
	var o apiOrder
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &o) != nil {
		p.t.Fatalf("GET /api/orders/%s: %s %s", no, resp.Status, body)
	}
	return o
}

// waitPaid waits for the sandbox's notification to reach the shop. The
// sandbox delivers it from its own worker right after the payment; the
// limit only stops a broken run from hanging.
func (p *shopProcess) waitPaid(no string) apiOrder {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		o := p.apiOrder(no)
		if o.Status != "unpaid" || time.Now().After(deadline) {
			return o
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEndToEndPayment: the real program on port 0, an order
// paid through the sandbox and marked paid by the notification, and a second
// order whose notifications are dropped marked paid by the return page's
// query.
// It runs once per protocol of the server-side calls (--alipay-api).
func TestEndToEndPayment(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"v2", "v3"} {
		t.Run(api, func(t *testing.T) { testEndToEndPayment(t, api) })
	}
}

func testEndToEndPayment(t *testing.T, api string) {
	p := startShop(t, t.TempDir(), "--alipay-api", api)
	if v3 := strings.Contains(strings.Join(p.stdout, "\n"), "over OpenAPI v3"); v3 != (api == "v3") {
		t.Fatalf("--alipay-api %s: stdout %q", api, p.stdout)
	}

	resp, page := p.do("GET", "/", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "全部商品") || !strings.Contains(page, "Python全栈开发课程") || !strings.Contains(page, "369.00") {
		t.Fatalf("goods page: %s", resp.Status)
	}

	// 1. Paid, learnt from the notification.
	no, gw := p.buy("1")
	if o := p.apiOrder(no); o.Status != "unpaid" || o.Amount != "369.00" || o.Goods != "Python全栈开发课程" {
		t.Fatalf("new order: %+v", o)
	}
	p.openCashier(gw)
	p.pay(no)
	o := p.waitPaid(no)
	if o.Status != "paid" || o.PaidVia != "notify" || o.TradeNo == "" {
		t.Fatalf("after payment: %+v; stderr:\n%s", o, p.stderr)
	}

	// 2. Notifications dropped: the return page's query confirms it.
	no2, gw2 := p.buy("2")
	req, _ := http.NewRequest("POST", p.base+"/sandbox/api/faults", strings.NewReader(`{"kind":"drop","out_trade_no":"`+no2+`"}`))
	req.Header.Set("Content-Type", "application/json")
	fresp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	fresp.Body.Close()
	if fresp.StatusCode/100 != 2 {
		t.Fatalf("fault plan: %s", fresp.Status)
	}
	p.openCashier(gw2)
	ret := p.pay(no2)
	if !strings.HasPrefix(ret, p.base+"/alipay/return?") {
		t.Fatalf("return URL %q", ret)
	}
	if o := p.apiOrder(no2); o.Status != "unpaid" {
		t.Fatalf("order paid before the return although notifications are dropped: %+v", o)
	}
	resp, page = p.do("GET", ret, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "支付成功") || !strings.Contains(page, "已支付") {
		t.Fatalf("return page: %s\n%s", resp.Status, page)
	}
	if o := p.apiOrder(no2); o.Status != "paid" || o.PaidVia != "query" {
		t.Fatalf("after return: %+v", o)
	}
	// The sandbox really dropped the notification.
	_, log := p.do("GET", "/sandbox/api/notifications", nil, nil)
	if !strings.Contains(log, no2) || !strings.Contains(log, "drop") {
		t.Errorf("sandbox log does not show the dropped notification of %s: %s", no2, log)
	}
	// The order page says 已支付; the buyer's first order too.
	for _, n := range []string{no, no2} {
		if _, page := p.do("GET", "/orders/"+n, nil, nil); !strings.Contains(page, "已支付") {
			t.Errorf("order page %s does not say 已支付", n)
		}
	}
}

// shopTarget plays Alipay against the running program: it signs with the
// embedded sandbox's Alipay key from the data dir and reads the shop's
// database directly to see what was stored.
func shopTarget(t testing.TB, p *shopProcess) (*shoptest.Target, *store.DB) {
	t.Helper()
	return shopTargetDB(t, p, filepath.Join(p.data, "alishop.db"))
}

// shopTargetDB is shopTarget for a shop whose database is dbPath (a SQLite
// file or a postgres:// URL).
func shopTargetDB(t testing.TB, p *shopProcess, dbPath string) (*shoptest.Target, *store.DB) {
	t.Helper()
	pk, err := alipay.LoadPrivateKeyFile(filepath.Join(p.data, "sandbox", "sandbox-alipay-private-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ak, err := alipay.LoadPrivateKeyFile(filepath.Join(p.data, "keys", "app_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	_, body := p.do("GET", "/sandbox/api/apps", nil, nil)
	var apps []struct {
		AppID    string `json:"app_id"`
		SellerID string `json:"seller_id"`
	}
	if err := json.Unmarshal([]byte(body), &apps); err != nil {
		var wrapped struct {
			Apps []struct {
				AppID    string `json:"app_id"`
				SellerID string `json:"seller_id"`
			} `json:"apps"`
		}
		if err2 := json.Unmarshal([]byte(body), &wrapped); err2 != nil {
			t.Fatalf("sandbox apps %s: %v", body, err)
		}
		apps = wrapped.Apps
	}
	seller := ""
	for _, a := range apps {
		if a.AppID == sandboxAppID {
			seller = a.SellerID
		}
	}
	if seller == "" {
		t.Fatalf("app %s not registered in the sandbox: %s", sandboxAppID, body)
	}
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tg := &shoptest.Target{AlipayKey: pk, AppKey: ak, AppID: sandboxAppID, SellerID: seller,
		Notify: func(method, body string) (int, string) {
			target := p.base + "/alipay/notify"
			var rd io.Reader = strings.NewReader(body)
			if method == "GET" {
				target, rd = target+"?"+body, nil
			}
			req, _ := http.NewRequest(method, target, rd)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		},
		Order: func(no string) shop.Order {
			o, err := db.Order(context.Background(), no)
			if err != nil {
				t.Fatal(err)
			}
			return o
		},
		Notifications: func() []store.Notification {
			ns, err := db.Notifications(context.Background(), 0, 100000)
			if err != nil {
				t.Fatal(err)
			}
			return ns
		},
	}
	return tg, db
}

// TestEndToEndBadNotifications: the table of bad notifications against the
// real program.
func TestEndToEndBadNotifications(t *testing.T) {
	t.Parallel()
	p := startShop(t, t.TempDir())
	tg, db := shopTarget(t, p)
	na, _ := p.buy("1")
	nb, _ := p.buy("2")
	b, err := db.Order(context.Background(), nb)
	if err != nil {
		t.Fatal(err)
	}
	bBody := shoptest.Sign(t, tg.AlipayKey, tg.Genuine(b, "2026112522001400000000000002"))
	if code, ans := tg.Notify("POST", bBody); code != 200 || ans != "success" {
		t.Fatalf("paying b: %d %q", code, ans)
	}
	shoptest.BadNotifications(t, tg, tg.Order(na), tg.Order(nb), bBody)
}

// TestEndToEndProtection: cross-site purchases are refused,
// the admin needs a login, and a wrong login does not say what was wrong.
func TestEndToEndProtection(t *testing.T) {
	t.Parallel()
	p := startShopGenerated(t, t.TempDir())
	if p.password == "" {
		t.Fatalf("no generated admin password printed: %q", p.stdout)
	}
	_, db := shopTarget(t, p)
	count := func() int {
		_, n, err := db.ListOrders(context.Background(), shop.OrderFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://attacker.example"},
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"},
	} {
		resp, _ := p.do("POST", "/orders", url.Values{"goods_id": {"1"}}, h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST /orders %v: %s, want 403", h, resp.Status)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d orders created cross-site", n)
	}
	for _, path := range []string{"/admin/orders", "/admin/goods", "/admin/orders?status=paid"} {
		resp, _ := p.do("GET", path, nil, nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login") {
			t.Errorf("GET %s without login: %s → %q", path, resp.Status, loc)
		}
	}
	var pages []string
	for _, c := range [][2]string{{"admin", "wrong password"}, {"administrator", p.password}} {
		resp, page := p.do("POST", "/admin/login", url.Values{"username": {c[0]}, "password": {c[1]}}, map[string]string{"Origin": p.base})
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(page, "用户名或密码错误") {
			t.Fatalf("login %q: %s", c[0], resp.Status)
		}
		if strings.Contains(page, "密码不正确") || strings.Contains(page, "用户不存在") {
			t.Fatalf("login %q: the page says which part was wrong", c[0])
		}
		pages = append(pages, strings.Replace(page, `value="administrator"`, `value="admin"`, 1))
	}
	if pages[0] != pages[1] {
		t.Error("wrong user and wrong password give different pages")
	}
	resp, _ := p.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {p.password}}, map[string]string{"Origin": p.base})
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("login with the printed password: %s", resp.Status)
	}
	// A cross-site login attempt is refused too.
	resp, _ = p.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {p.password}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login: %s", resp.Status)
	}
}

// TestServeRestart: a second start on the same data dir reuses the keys,
// the sandbox app and the password (not printed again), and adds no demo
// goods twice.
func TestServeRestart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startShopGenerated(t, data)
	no, gw := p.buy("1")
	p.openCashier(gw)
	p.pay(no)
	if o := p.waitPaid(no); o.Status != "paid" {
		t.Fatalf("first run: %+v", o)
	}
	if err := p.stop(); err != nil {
		t.Fatalf("first run exit: %v", err)
	}
	q := startShopGenerated(t, data)
	if q.password != "" {
		t.Error("the admin password was printed again on restart")
	}
	if o := q.apiOrder(no); o.Status != "paid" {
		t.Fatalf("order after restart: %+v", o)
	}
	_, page := q.do("GET", "/", nil, nil)
	if n := strings.Count(page, "Python全栈开发课程"); n != 1 {
		t.Fatalf("demo goods listed %d times after restart", n)
	}
	// The restarted shop still takes payments through the same sandbox app.
	no2, gw2 := q.buy("1")
	q.openCashier(gw2)
	q.pay(no2)
	if o := q.waitPaid(no2); o.Status != "paid" {
		t.Fatalf("payment after restart: %+v", o)
	}
}

func TestServeFlagErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--alipay-private-key", "x.pem"}, nil, "needs --alipay-app-id"},
		{[]string{"--alipay-app-id", "2021000000000001"}, nil, "needs --alipay-private-key"},
		{[]string{"--alipay-app-id", "2021000000000001", "--alipay-private-key", "x"}, nil, "--alipay-public-key"},
		{[]string{"--alipay-app-id", "2021000000000001", "--alipay-private-key", "x", "--alipay-cert", "y"}, nil, "certificate mode needs all"},
		{[]string{"--public-url", "ftp://x"}, nil, "--public-url"},
		{[]string{"--alipay-gateway", "nowhere"}, nil, "--alipay-gateway"},
		{[]string{"--alipay-api", "v4"}, nil, "--alipay-api"},
		{nil, map[string]string{"ALISHOP_ALIPAY_API": "rest"}, "--alipay-api"},
		{nil, map[string]string{"ALISHOP_LOG_LEVEL": "loud"}, "--log-level"},
		{nil, map[string]string{"ALISHOP_ALIPAY_APP_ID": "2021000000000001"}, "needs --alipay-private-key"},
		{[]string{"--db", "postgres://root@127.0.0.1/test?sslmode=sometimes"}, nil, "PostgreSQL URL"},
		{[]string{"extra"}, nil, "unexpected arguments"},
		{[]string{"--alipay-app-id", "2021000000000001", "--alipay-private-key", filepath.Join(t.TempDir(), "missing.pem"), "--alipay-public-key", "y"}, nil, "missing.pem"},
	} {
		var stderr bytes.Buffer
		getenv := func(k string) string { return c.env[k] }
		args := append([]string{"alishop", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, c.args...)
		err := run(context.Background(), args, getenv, strings.NewReader(""), io.Discard, &stderr)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, c.want) {
			t.Errorf("%v %v: %v, want exit 2 mentioning %q", c.args, c.env, err, c.want)
		}
	}
}

// TestServeWithAlipayApp runs the shop as a merchant would with a real app
// (--alipay-app-id, key files, --alipay-gateway URL, --alipay-seller-id),
// against a stand-alone sandbox on loopback playing Alipay: no embedded
// sandbox, the same payment path.
func TestServeWithAlipayApp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := run(context.Background(), []string{"alishop", "keygen", "--dir", dir}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatalf("keygen: %v", err)
	}
	appKey, err := alipay.LoadPrivateKeyFile(filepath.Join(dir, "app_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	const appID = "2021000000000042"
	app, err := sb.RegisterApp(appID, &appKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb.Start(ctx)
	gw := httptest.NewServer(sb)
	defer gw.Close()
	alipayKey := filepath.Join(dir, "alipay_public_key.txt")
	if err := os.WriteFile(alipayKey, []byte(alipay.MarshalPublicKey(sb.PublicKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	p := startShop(t, data, "--alipay-app-id", appID, "--alipay-private-key", filepath.Join(dir, "app_private_key.pem"),
		"--alipay-public-key", alipayKey, "--alipay-gateway", gw.URL+"/gateway.do", "--alipay-seller-id", app.SellerID)
	if _, err := os.Stat(filepath.Join(data, "sandbox")); err == nil {
		t.Fatal("an embedded sandbox was started although an app is configured")
	}
	if resp, _ := p.do("GET", "/sandbox/api/apps", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/sandbox/ is served with a real app configured: %s", resp.Status)
	}
	// A real shop starts with no goods: the admin adds one.
	if p.password == "" {
		t.Fatal("no admin password printed")
	}
	resp, _ := p.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {p.password}}, nil)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %s", resp.Status)
	}
	cookie := resp.Cookies()[0]
	req, _ := http.NewRequest("POST", p.base+"/admin/goods", strings.NewReader(url.Values{"name": {"测试商品"}, "price": {"0.01"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	if resp, err := noRedirect.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add goods: %v %v", resp, err)
	}

	resp, body := p.do("POST", "/orders", url.Values{"goods_id": {"1"}}, nil)
	gwURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(gwURL, gw.URL+"/gateway.do?") {
		t.Fatalf("POST /orders: %s %s %s", resp.Status, gwURL, body)
	}
	u, _ := url.Parse(gwURL)
	if u.Query().Get("notify_url") != p.base+"/alipay/notify" || u.Query().Get("app_id") != appID {
		t.Fatalf("gateway query %v", u.Query())
	}
	var biz struct {
		OutTradeNo string `json:"out_trade_no"`
	}
	json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz)
	p.openCashier(gwURL)
	if _, err := sb.Pay(appID, biz.OutTradeNo, ""); err != nil {
		t.Fatal(err)
	}
	if o := p.waitPaid(biz.OutTradeNo); o.Status != "paid" || o.PaidVia != "notify" || o.Amount != "0.01" {
		t.Fatalf("order: %+v; stderr:\n%s", o, p.stderr)
	}
}
