package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"alishop/internal/shop"
)

// englishStatus lists the status texts that must never reach a person.
var englishStatus = []string{"Not Found", "Method Not Allowed", "Bad Request", "Forbidden", "Conflict",
	"Unprocessable Entity", "Internal Server Error", "Too Many Requests", "Service Unavailable", "Request Entity Too Large",
	"page not found"}

// checkErrorPage fails unless body is an HTML page of the shop's layout in
// Chinese with a way back, no English status text and no status code in
// its heading.
func checkErrorPage(t *testing.T, what string, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Errorf("%s: %s, want %d", what, resp.Status, want)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	for _, s := range []string{`<html lang="zh-CN">`, `<header>`, `href="/static/style.css"`, `<footer>`} {
		if !strings.Contains(body, s) {
			t.Errorf("%s: not in the shop's layout (no %s)", what, s)
		}
	}
	if !strings.Contains(body, `id="error-heading"`) && !strings.Contains(body, `id="form-error"`) {
		t.Errorf("%s: no error heading or form error", what)
	}
	if strings.Contains(body, `id="error-heading"`) && !strings.Contains(body, `id="back"`) && !strings.Contains(body, `id="buy-again"`) {
		t.Errorf("%s: no way back", what)
	}
	for _, e := range englishStatus {
		if strings.Contains(body, e) {
			t.Errorf("%s: English status text %q", what, e)
		}
	}
	if i := strings.Index(body, `id="error-heading">`); i >= 0 {
		h := body[i+len(`id="error-heading">`):]
		h = h[:strings.Index(h, "<")]
		if !strings.ContainsFunc(h, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: heading %q is not Chinese", what, h)
		}
		if strings.ContainsAny(h, "0123456789") {
			t.Errorf("%s: heading %q shows a code", what, h)
		}
	}
}

func (h *harness) do(method, path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return h.send(req, cookies)
}

// TestErrorPagesChinese: every HTML error answer, whatever produced it (no
// route, a wrong method, an unknown order, a bad form, a refused
// cross-site post, a conflict, a failing database), is a Chinese page in
// the shop's layout with a way back; the JSON API answers JSON.
func TestErrorPagesChinese(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.login()
	unpaid := h.buy(h.goods.ID)
	closedDB := newHarness(t)
	closedDB.db.Close()
	for _, c := range []struct {
		name, method, path string
		form               url.Values
		admin              bool
		h                  *harness
		want               int
	}{
		{"unknown route", "GET", "/no/such/page", nil, false, nil, 404},
		{"unknown route under admin", "GET", "/admin/nothing", nil, true, nil, 404},
		{"unknown order", "GET", "/orders/20260101000000nosuchorder", nil, false, nil, 404},
		{"malformed order number", "GET", "/orders/%3Cscript%3E", nil, false, nil, 404},
		{"unknown order, admin", "GET", "/admin/orders/nosuchorder", nil, true, nil, 404},
		{"goods without a picture", "GET", "/goods/" + itoa(h.goods.ID) + "/image", nil, false, nil, 404},
		{"wrong method", "DELETE", "/", nil, false, nil, 405},
		{"wrong method on a form", "PUT", "/orders", url.Values{}, false, nil, 405},
		{"GET of a POST route", "GET", "/orders/" + unpaid.OutTradeNo + "/pay", nil, false, nil, 405},
		{"bad form", "POST", "/orders", url.Values{"goods_id": {"abc"}}, false, nil, 422},
		{"unknown goods", "POST", "/orders", url.Values{"goods_id": {"99999"}}, false, nil, 404},
		{"continue paying an unknown order", "POST", "/orders/nosuchorder/pay", url.Values{}, false, nil, 404},
		{"bad goods form", "POST", "/admin/goods", url.Values{"name": {"键盘"}, "price": {"abc"}}, true, nil, 422},
		{"database down", "GET", "/", nil, false, closedDB, 500},
	} {
		hh := h
		if c.h != nil {
			hh = c.h
		}
		var cookies []*http.Cookie
		if c.admin {
			cookies = append(cookies, admin)
		}
		resp, body := hh.do(c.method, c.path, c.form, cookies...)
		checkErrorPage(t, c.name, resp, body, c.want)
		if c.want == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", c.name)
		}
	}
	// A cross-site post.
	resp, body := h.post("/orders", url.Values{"goods_id": {itoa(h.goods.ID)}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	checkErrorPage(t, "cross-site post", resp, body, 403)
	// A paid order cannot be paid again.
	if code, ans := h.notify("POST", h.sign(h.genuine(unpaid, "2026112522001400000000000888"))); code != 200 || ans != "success" {
		t.Fatalf("paying: %d %s", code, ans)
	}
	resp, body = h.do("POST", "/orders/"+unpaid.OutTradeNo+"/pay", url.Values{})
	checkErrorPage(t, "continue paying a paid order", resp, body, 409)

	// The JSON API keeps JSON errors.
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/orders/nosuchorder", 404},
		{"GET", "/api/nothing", 404},
		{"POST", "/api/orders/nosuchorder", 405},
	} {
		resp, body := h.do(c.method, c.path, nil)
		var e struct{ Error, Message string }
		if resp.StatusCode != c.want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal([]byte(body), &e) != nil || e.Error == "" || e.Message == "" {
			t.Errorf("%s %s: %s %q %s", c.method, c.path, resp.Status, resp.Header.Get("Content-Type"), body)
		}
	}
}

// An error page says what happened to the buyer's order or goods and
// offers the step that fits: 重新购买 and 查看订单 for an order that can no
// longer be paid, 查看订单 for a paid one, the storefront for goods off
// sale, 我的订单 for an unknown order.
func TestErrorPagesNextStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	closed, paid := h.buy(h.goods.ID), h.buy(h.goods.ID)
	if _, err := h.db.Receive(t.Context(), &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: time.Now(), OutTradeNo: closed.OutTradeNo, Verified: true},
		func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Close: true}
		}); err != nil {
		t.Fatal(err)
	}
	h.notify("POST", h.sign(h.genuine(paid, "2026112522001400000000000555")))
	hidden := shop.Goods{Name: "下架的", Price: 100, Hidden: true}
	if err := h.svc.SaveGoods(t.Context(), &hidden); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, path string
		form               url.Values
		status             int
		heading            string
		steps              []string
	}{
		{"continue paying a closed order", "POST", "/orders/" + closed.OutTradeNo + "/pay", url.Values{}, 409, "订单已关闭",
			[]string{`<form method="post" action="/orders"><input type="hidden" name="goods_id" value="` + itoa(h.goods.ID) + `"><button type="submit" id="buy-again">重新购买</button>`,
				`href="/orders/` + closed.OutTradeNo + `" id="view-order">查看订单</a>`}},
		{"continue paying a paid order", "POST", "/orders/" + paid.OutTradeNo + "/pay", url.Values{}, 409, "订单已付款",
			[]string{`href="/orders/` + paid.OutTradeNo + `" id="back">查看订单</a>`}},
		{"buying goods off sale", "POST", "/orders", url.Values{"goods_id": {itoa(hidden.ID)}}, 404, "商品已下架",
			[]string{`href="/" id="back">返回商品</a>`}},
		{"an unknown order", "GET", "/orders/20260101000000nosuchorder", nil, 404, "找不到这个订单",
			[]string{`href="/orders" id="back">查看我的订单</a>`, `href="/" id="home">返回首页</a>`}},
	} {
		resp, body := h.do(c.method, c.path, c.form)
		checkErrorPage(t, c.name, resp, body, c.status)
		if !strings.Contains(body, `<h1 id="error-heading">`+c.heading+`</h1>`) {
			t.Errorf("%s: heading is not %s", c.name, c.heading)
		}
		for _, s := range c.steps {
			if !strings.Contains(body, s) {
				t.Errorf("%s: no %s", c.name, s)
			}
		}
	}
}
