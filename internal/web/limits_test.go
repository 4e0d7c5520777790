package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/web"
)

// serve sends one request to the handler as if from remote.
func (h *harness) serve(method, target, remote string, form url.Values) *httptest.ResponseRecorder {
	h.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = remote
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", "127.0.0.1") // never trusted
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, req)
	return w
}

func TestLoginThrottledPerAddress(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(c *web.Config) { c.Limits = web.Limits{LoginFailures: 3, LoginWindow: time.Hour} })
	login := func(remote, password string) *httptest.ResponseRecorder {
		return h.serve("POST", "/admin/login", remote, url.Values{"username": {web.AdminUser}, "password": {password}, "next": {"/admin/orders"}})
	}
	for i := range 3 {
		if w := login("192.0.2.1:1000", "wrong password!"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: HTTP %d", i+1, w.Code)
		}
	}
	w := login("192.0.2.1:1001", testPassword)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "登录失败次数过多") {
		t.Fatalf("fourth try from the same address, right password: HTTP %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	// Another address is not slowed or refused; an IPv6 /64 is one address.
	if w := login("192.0.2.2:1000", testPassword); w.Code != http.StatusSeeOther {
		t.Fatalf("right password from another address: HTTP %d", w.Code)
	}
	for range 3 {
		login("[2001:db8:1:2::1]:1000", "wrong password!")
	}
	if w := login("[2001:db8:1:2::ffff]:1000", testPassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("same /64: HTTP %d, want 429", w.Code)
	}
	if w := login("[2001:db8:1:3::1]:1000", testPassword); w.Code != http.StatusSeeOther {
		t.Fatalf("another /64: HTTP %d, want 303", w.Code)
	}
}

func TestCheckoutRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(c *web.Config) { c.Limits = web.Limits{CheckoutBurst: 3, CheckoutEvery: time.Hour} })
	form := url.Values{"goods_id": {itoa(h.goods.ID)}}
	for i := range 3 {
		if w := h.serve("POST", "/orders", "192.0.2.1:1000", form); w.Code != http.StatusSeeOther {
			t.Fatalf("order %d: HTTP %d", i+1, w.Code)
		}
	}
	w := h.serve("POST", "/orders", "192.0.2.1:1000", form)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "请求过于频繁") {
		t.Fatalf("fourth order: HTTP %d, Retry-After %q\n%s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if n := h.countOrders(); n != 3 {
		t.Fatalf("%d orders, want 3", n)
	}
	if w := h.serve("POST", "/orders", "192.0.2.2:1000", form); w.Code != http.StatusSeeOther {
		t.Fatalf("order from another address: HTTP %d", w.Code)
	}
}

// Notifications that fail verification are stored cut short and only within
// the address's budget; a genuine one from the same address still applies.
func TestUnverifiedNotificationsBounded(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(c *web.Config) { c.Limits = web.Limits{UnverifiedBurst: 2, UnverifiedEvery: time.Hour} })
	o := h.buy(h.goods.ID)
	forged := "sign=AAAA&out_trade_no=" + o.OutTradeNo + "&body=" + strings.Repeat("x", 60<<10)
	for i := range 5 {
		req := httptest.NewRequest("POST", "/alipay/notify", strings.NewReader(forged))
		req.RemoteAddr = "192.0.2.9:1"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Body.String() != "fail" || (i >= 2 && rec.Code != http.StatusTooManyRequests) {
			t.Fatalf("forged %d: HTTP %d %q", i+1, rec.Code, rec.Body)
		}
	}
	ns := h.notifications()
	if len(ns) != 2 {
		t.Fatalf("%d rows stored, want 2 (the budget)", len(ns))
	}
	for _, n := range ns {
		if len(n.Body) > shop.MaxUnverifiedKept || n.Verified {
			t.Fatalf("stored %d bytes of an unverified message", len(n.Body))
		}
	}
	body := h.sign(h.genuine(o, "2026112522001400000000000077"))
	req := httptest.NewRequest("POST", "/alipay/notify", strings.NewReader(body))
	req.RemoteAddr = "192.0.2.9:1"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Body.String() != "success" || h.order(o.OutTradeNo).Status != shop.StatusPaid {
		t.Fatalf("genuine notification from a limited address: %d %q, order %s", rec.Code, rec.Body, h.order(o.OutTradeNo).Status)
	}
	// A forged return from the limited address is refused unstored too.
	if w := h.serve("GET", "/alipay/return?out_trade_no="+o.OutTradeNo+"&sign=AAAA", "192.0.2.9:1", nil); w.Code != http.StatusTooManyRequests {
		t.Fatalf("forged return over the budget: HTTP %d", w.Code)
	}
	if n := len(h.notifications()); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
}

func TestStaticNoListing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, p := range []string{"/static/", "/static/?C=M"} {
		if resp, body := h.get(p); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "style.css") {
			t.Errorf("GET %s: HTTP %d %q", p, resp.StatusCode, body)
		}
	}
	if resp, _ := h.get("/static/style.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("style.css: HTTP %d", resp.StatusCode)
	}
}

// A goods name Alipay would refuse as a subject can still be bought: the
// subject sent is derived from it.
func TestCheckoutAnyGoodsName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := shop.Goods{Name: "A/B=C&D 测试", Price: alipay.MustAmount("1.00")}
	if err := h.svc.SaveGoods(t.Context(), &g); err != nil {
		t.Fatal(err)
	}
	o := h.buy(g.ID)
	if o.Subject != g.Name {
		t.Fatalf("order subject %q, want the goods name", o.Subject)
	}
}
