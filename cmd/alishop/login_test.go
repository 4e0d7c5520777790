package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"alishop/alipay/sandbox"
)

// buyerBrowser is a browser of its own (cookie jar) that does not follow
// redirects, so each step of the login is seen.
type buyerBrowser struct {
	t    *testing.T
	p    *shopProcess
	http *http.Client
}

func newBuyerBrowser(t *testing.T, p *shopProcess) *buyerBrowser {
	jar, _ := cookiejar.New(nil)
	return &buyerBrowser{t: t, p: p, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *buyerBrowser) do(method, target string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.p.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	s, _ := io.ReadAll(resp.Body)
	return resp, string(s)
}

var authorizeForm = regexp.MustCompile(`name="form" value="([0-9a-f]+)"`)

// login runs 支付宝登录 as buyer and returns the callback URL it followed.
func (b *buyerBrowser) login(buyer string) string {
	b.t.Helper()
	resp, _ := b.do("GET", "/auth/alipay", nil)
	auth := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(auth, b.p.base+"/sandbox/oauth2/publicAppAuthorize.htm?") ||
		!strings.Contains(auth, "scope=auth_base") {
		b.t.Fatalf("GET /auth/alipay: %s %q", resp.Status, auth)
	}
	resp, page := b.do("GET", auth, nil)
	m := authorizeForm.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		b.t.Fatalf("authorize page: %s\n%s", resp.Status, page)
	}
	resp, _ = b.do("POST", b.p.base+"/sandbox/oauth2/publicAppAuthorize.htm",
		url.Values{"form": {m[1]}, "login": {buyer}, "password": {sandbox.BuyerPassword}, "action": {"allow"}})
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(callback, b.p.base+"/auth/alipay/callback?") {
		b.t.Fatalf("consent: %s %q", resp.Status, callback)
	}
	resp, body := b.do("GET", callback, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orders" {
		b.t.Fatalf("callback: %s %s", resp.Status, body)
	}
	return callback
}

func (b *buyerBrowser) buy(goodsID string) string {
	b.t.Helper()
	resp, body := b.do("POST", "/orders", url.Values{"goods_id": {goodsID}})
	u, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		b.t.Fatalf("POST /orders: %s %s", resp.Status, body)
	}
	no := regexp.MustCompile(`"out_trade_no":"([^"]+)"`).FindStringSubmatch(u.Query().Get("biz_content"))
	if no == nil {
		b.t.Fatalf("no out_trade_no in %s", u)
	}
	b.p.openCashier(u.String())
	return no[1]
}

func (b *buyerBrowser) myOrders() string {
	b.t.Helper()
	resp, body := b.do("GET", "/orders", nil)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET /orders: %s", resp.Status)
	}
	return body
}

// TestAlipayLogin: 支付宝登录 against the real program and its embedded
// sandbox. An order made while logged in, and one paid by the same Alipay
// account from a browser that never logged in, show in 我的订单 of another
// browser once it logs in with that account; not for another account. The
// state must be the browser's own, a code works once, logout ends the
// session but keeps the browser's list, and the user id stays out of the
// logs.
func TestAlipayLogin(t *testing.T) {
	t.Parallel()
	p := startShop(t, t.TempDir())

	a := newBuyerBrowser(t, p)
	a.login(sandbox.DefaultBuyer)
	if page := a.myOrders(); !strings.Contains(page, `id="buyer-id">2088****6880<`) || !strings.Contains(page, `id="logout"`) {
		t.Fatalf("我的订单 after login:\n%s", page)
	}
	made := a.buy("2")
	p.pay(made)

	// Paid by the same account from a browser that never logged in.
	c := newBuyerBrowser(t, p)
	if page := c.myOrders(); !strings.Contains(page, `id="alipay-login-link"`) {
		t.Fatalf("我的订单 offers no login:\n%s", page)
	}
	paid := c.buy("1")
	p.pay(paid)
	if o := p.waitPaid(paid); o.Status != "paid" {
		t.Fatalf("order %s: %+v", paid, o)
	}
	if o := p.waitPaid(made); o.Status != "paid" {
		t.Fatalf("order %s: %+v", made, o)
	}

	b := newBuyerBrowser(t, p)
	if page := b.myOrders(); strings.Contains(page, made) || strings.Contains(page, paid) {
		t.Fatal("a new browser lists orders before logging in")
	}
	callback := b.login(sandbox.DefaultBuyer)
	page := b.myOrders()
	if !strings.Contains(page, `data-out-trade-no="`+made+`"`) || !strings.Contains(page, `data-out-trade-no="`+paid+`"`) {
		t.Fatalf("我的订单 of the same account elsewhere lacks %s or %s:\n%s", made, paid, page)
	}
	other := newBuyerBrowser(t, p)
	other.login(sandbox.PoorBuyer)
	if page := other.myOrders(); strings.Contains(page, made) || strings.Contains(page, paid) || !strings.Contains(page, "2088****6881") {
		t.Fatalf("another account sees the orders:\n%s", page)
	}

	// The callback replayed: its state cookie is gone.
	if resp, _ := b.do("GET", callback, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %s", resp.Status)
	}
	// A state that is not the browser's (login CSRF) is refused.
	d := newBuyerBrowser(t, p)
	d.do("GET", "/auth/alipay", nil)
	if resp, _ := d.do("GET", "/auth/alipay/callback?auth_code=abc&state=0123456789abcdef0123456789abcdef", nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("foreign state: %s", resp.Status)
	}
	// The browser's own state with a used code: refused, no session.
	resp, _ := d.do("GET", "/auth/alipay", nil)
	state := mustQuery(t, resp.Header.Get("Location"), "state")
	used := mustQuery(t, callback, "auth_code")
	if resp, body := d.do("GET", "/auth/alipay/callback?auth_code="+url.QueryEscape(used)+"&state="+state, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "重新登录") {
		t.Fatalf("used code: %s", resp.Status)
	}
	if page := d.myOrders(); strings.Contains(page, `id="buyer-id"`) {
		t.Fatal("a used code logged the browser in")
	}

	// Logout: the session ends, the browser's own list stays.
	if resp, _ := a.do("POST", "/auth/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %s", resp.Status)
	}
	if page := a.myOrders(); strings.Contains(page, `id="buyer-id"`) || !strings.Contains(page, made) || !strings.Contains(page, `id="alipay-login-link"`) {
		t.Fatalf("我的订单 after logout:\n%s", page)
	}
	if page := b.myOrders(); !strings.Contains(page, paid) {
		t.Fatal("logging out in one browser ended the session of another")
	}
	if strings.Contains(p.stderr.String(), "2088102177846880") {
		t.Fatalf("the buyer's user id is in the logs:\n%s", p.stderr)
	}
}

func mustQuery(t *testing.T, u, key string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil || pu.Query().Get(key) == "" {
		t.Fatalf("no %s in %q", key, u)
	}
	return pu.Query().Get(key)
}
