package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/web"
)

func (h *harness) post(path string, form url.Values, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return h.send(req, cookies)
}

func (h *harness) countOrders() int {
	h.t.Helper()
	_, n, err := h.db.ListOrders(context.Background(), shop.OrderFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestCrossSiteOrderRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := url.Values{"goods_id": {itoa(h.goods.ID)}}
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		resp, body := h.post("/orders", form, hdr)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "不是从本站页面提交的") {
			t.Errorf("%v: %s, want 403 with an explanation", hdr, resp.Status)
		}
	}
	if n := h.countOrders(); n != 0 {
		t.Fatalf("%d orders created by cross-site requests", n)
	}
	// Same origin, and a request without browser headers, are allowed.
	for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Origin": h.srv.URL}, {}} {
		if resp, _ := h.post("/orders", form, hdr); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%v: %s, want 303", hdr, resp.Status)
		}
	}
}

func TestCheckoutRedirectsToSignedGateway(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, _ := h.post("/orders", url.Values{"goods_id": {itoa(h.goods.ID)}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /orders: %s", resp.Status)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "127.0.0.1:9" || loc.Path != "/gateway.do" {
		t.Fatalf("Location %s", loc)
	}
	q := loc.Query()
	if q.Get("method") != "alipay.trade.page.pay" || q.Get("app_id") != testAppID || q.Get("sign") == "" ||
		q.Get("notify_url") != "http://127.0.0.1:9/alipay/notify" || !strings.Contains(q.Get("biz_content"), `"total_amount":"369.00"`) {
		t.Fatalf("gateway query %v", q)
	}
	params, _ := alipay.ParseForm(loc.RawQuery)
	sign := params["sign"]
	ak, _ := keys(t)
	if err := alipay.Verify(&ak.PublicKey, alipay.SignTypeRSA2, alipay.SignContent(params, alipay.RuleV2), sign); err != nil {
		t.Fatalf("gateway URL signature: %v", err)
	}
	// Bad goods ids change nothing.
	for _, id := range []string{"", "x", "-1", "999"} {
		if resp, _ := h.post("/orders", url.Values{"goods_id": {id}}, nil); resp.StatusCode != 422 && resp.StatusCode != 404 {
			t.Errorf("goods_id %q: %s", id, resp.Status)
		}
	}
	if n := h.countOrders(); n != 1 {
		t.Fatalf("%d orders, want 1", n)
	}
}

func TestAdminLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, p := range []string{"/admin/orders", "/admin/goods", "/admin/goods/new", "/admin/"} {
		resp, _ := h.get(p)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
			t.Errorf("GET %s without login: %s %s", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	if resp, _ := h.post("/admin/goods", url.Values{"name": {"x"}, "price": {"1"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /admin/goods without login: %s", resp.Status)
	}
	var bodies []string
	for _, c := range [][2]string{{"admin", "wrong"}, {"root", testPassword}, {"root", "wrong"}} {
		resp, body := h.post("/admin/login", url.Values{"username": {c[0]}, "password": {c[1]}}, nil)
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Fatalf("login %s: %s, cookies %v", c[0], resp.Status, resp.Cookies())
		}
		if !strings.Contains(body, "用户名或密码错误") {
			t.Fatalf("login %s: no generic error", c[0])
		}
		bodies = append(bodies, body)
	}
	if bodies[0] != bodies[2] || strings.Replace(bodies[1], `value="root"`, `value="admin"`, 1) != bodies[0] {
		// The user name field is fixed in the form, so the pages must be identical.
		t.Errorf("the failure pages differ, telling which part was wrong")
	}
	resp, _ := h.post("/admin/login", url.Values{"username": {"admin"}, "password": {testPassword}, "next": {"/admin/goods"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/goods" {
		t.Fatalf("good login: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	c := resp.Cookies()
	if len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", c)
	}
	if resp, _ := h.get("/admin/orders", c[0]); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin with session: %s", resp.Status)
	}
	// An open redirect is not possible through next.
	resp, _ = h.post("/admin/login", url.Values{"username": {"admin"}, "password": {testPassword}, "next": {"//evil.example/admin/"}}, nil)
	if resp.Header.Get("Location") != "/admin/orders" {
		t.Fatalf("next=//evil.example: Location %s", resp.Header.Get("Location"))
	}
	// Logging out ends the session.
	if resp, _ := h.post("/admin/logout", nil, nil, c[0]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %s", resp.Status)
	}
	if resp, _ := h.get("/admin/orders", c[0]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin after logout: %s", resp.Status)
	}
}

func (h *harness) login() *http.Cookie {
	h.t.Helper()
	resp, _ := h.post("/admin/login", url.Values{"username": {"admin"}, "password": {testPassword}}, nil)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		h.t.Fatalf("login: %s", resp.Status)
	}
	return resp.Cookies()[0]
}

func TestGoodsManagement(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	before := h.buy(h.goods.ID)

	for _, bad := range []url.Values{
		{"name": {"键盘"}, "price": {"0"}},
		{"name": {"键盘"}, "price": {"-1"}},
		{"name": {"键盘"}, "price": {"1.001"}},
		{"name": {"键盘"}, "price": {"1e3"}},
		{"name": {"键盘"}, "price": {"abc"}},
		{"name": {""}, "price": {"1.00"}},
		{"name": {strings.Repeat("长", 65)}, "price": {"1.00"}},
		{"name": {"键盘"}, "price": {"100000000.01"}},
	} {
		resp, body := h.post("/admin/goods", bad, nil, c)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("%v: %s", bad, resp.Status)
		}
	}
	if gs, _ := h.db.ListGoods(context.Background(), true); len(gs) != 1 {
		t.Fatalf("bad forms created goods: %d", len(gs))
	}

	resp, body := h.post("/admin/goods", url.Values{"name": {"<b>机械键盘</b>"}, "price": {"3788"}}, nil, c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add goods: %s %s", resp.Status, body)
	}
	gs, _ := h.db.ListGoods(context.Background(), false)
	if len(gs) != 2 || gs[1].Price != 378800 || gs[1].Name != "<b>机械键盘</b>" {
		t.Fatalf("goods after add: %+v", gs)
	}
	_, page := h.get("/")
	if !strings.Contains(page, "&lt;b&gt;机械键盘&lt;/b&gt;") || strings.Contains(page, "<b>机械键盘") || !strings.Contains(page, "3788.00") {
		t.Fatalf("goods page does not show the escaped new goods")
	}

	// A price change does not touch the existing order.
	resp, _ = h.post("/admin/goods/"+itoa(h.goods.ID), url.Values{"name": {h.goods.Name}, "price": {"1.50"}}, nil, c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit goods: %s", resp.Status)
	}
	if got := h.order(before.OutTradeNo); got.Amount != before.Amount {
		t.Fatalf("order amount changed to %s", got.Amount)
	}
	if got := h.buy(h.goods.ID); got.Amount != 150 {
		t.Fatalf("new order amount %s, want 1.50", got.Amount)
	}

	// Hidden goods are not listed and cannot be bought.
	resp, _ = h.post("/admin/goods/"+itoa(h.goods.ID), url.Values{"name": {h.goods.Name}, "price": {"1.50"}, "hidden": {"1"}}, nil, c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hide goods: %s", resp.Status)
	}
	if _, page := h.get("/"); strings.Contains(page, h.goods.Name) {
		t.Fatal("hidden goods listed")
	}
	n := h.countOrders()
	if resp, _ := h.post("/orders", url.Values{"goods_id": {itoa(h.goods.ID)}}, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("buying hidden goods: %s", resp.Status)
	}
	if h.countOrders() != n {
		t.Fatal("an order was created for hidden goods")
	}
	if _, page := h.get("/admin/goods", c); !strings.Contains(page, "已下架") {
		t.Fatal("admin goods list does not show the hidden item")
	}
}

func TestAdminOrdersListAndFilter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	var paid shop.Order
	for i := 0; i < 25; i++ {
		o := h.buy(h.goods.ID)
		if i == 3 {
			paid = o
			h.notify("POST", h.sign(h.genuine(o, "2026112522001400000000000777")))
		}
	}
	resp, page := h.get("/admin/orders", c)
	if resp.StatusCode != 200 || strings.Count(page, "<tr data-out-trade-no") != 20 || !strings.Contains(page, "第 1 / 2 页") || !strings.Contains(page, `rel="next"`) {
		t.Fatalf("page 1: %s", resp.Status)
	}
	_, page = h.get("/admin/orders?page=2", c)
	if strings.Count(page, "<tr data-out-trade-no") != 5 {
		t.Fatal("page 2 does not hold the last 5 orders")
	}
	_, page = h.get("/admin/orders?status=paid", c)
	if strings.Count(page, "<tr data-out-trade-no") != 1 || !strings.Contains(page, paid.OutTradeNo) || !strings.Contains(page, "已支付") ||
		!strings.Contains(page, "2026112522001400000000000777") || !strings.Contains(page, "369.00") {
		t.Fatal("paid filter does not show the paid order with its trade_no")
	}
	_, page = h.get("/admin/orders?status=unpaid", c)
	if strings.Count(page, "<tr data-out-trade-no") != 20 || strings.Contains(page, paid.OutTradeNo) {
		t.Fatal("unpaid filter")
	}
	if resp, _ := h.get("/admin/orders?status=bogus", c); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown status: %s", resp.Status)
	}
}

func TestAPIOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.buy(h.goods.ID)
	resp, body := h.get("/api/orders/" + o.OutTradeNo)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("api: %s %v", resp.Status, err)
	}
	if got["out_trade_no"] != o.OutTradeNo || got["status"] != "unpaid" || got["amount"] != "369.00" || got["goods"] != h.goods.Name {
		t.Fatalf("api body %v", got)
	}
	for _, no := range []string{"nope", "20261125000000ffffffffffffffffffffffff", strings.Repeat("a", 65), "a%2Fb"} {
		resp, body := h.get("/api/orders/" + no)
		if resp.StatusCode != 404 || !strings.Contains(body, `"not_found"`) {
			t.Errorf("%s: %s %s", no, resp.Status, body)
		}
	}
}

// TestReturnPage: a verified return is confirmed by a query and pays the
// order through the same state change; an unverified one changes nothing.
func TestReturnPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.buy(h.goods.ID)
	ret := map[string]string{"charset": "utf-8", "out_trade_no": o.OutTradeNo, "method": "alipay.trade.page.pay.return",
		"total_amount": "369.00", "trade_no": "2026112522001400000000000999", "auth_app_id": testAppID, "version": "1.0",
		"app_id": testAppID, "seller_id": testSellerID, "timestamp": "2026-11-25 20:00:00"}
	q := h.sign(ret)

	// Forged: the signature does not verify.
	resp, page := h.get("/alipay/return?" + strings.Replace(q, "total_amount=369.00", "total_amount=0.01", 1))
	if resp.StatusCode != 400 || !strings.Contains(page, "验签失败") {
		t.Fatalf("forged return: %s", resp.Status)
	}
	h.gw.mu.Lock()
	h.gw.result[o.OutTradeNo] = &alipay.TradeQueryResult{OutTradeNo: o.OutTradeNo, TradeNo: "2026112522001400000000000999",
		TradeStatus: "TRADE_SUCCESS", TotalAmount: o.Amount, SendPayDate: time.Date(2026, 11, 25, 20, 0, 1, 0, alipay.Beijing)}
	h.gw.mu.Unlock()
	resp, _ = h.get("/alipay/return?" + strings.Replace(q, "total_amount=369.00", "total_amount=0.01", 1))
	if resp.StatusCode != 400 || h.order(o.OutTradeNo).Status != shop.StatusUnpaid {
		t.Fatalf("forged return changed the order: %s", resp.Status)
	}

	// Genuine, but Alipay has no trade yet: 支付处理中.
	other := h.buy(h.goods.ID)
	ret2 := map[string]string{}
	for k, v := range ret {
		ret2[k] = v
	}
	ret2["out_trade_no"] = other.OutTradeNo
	resp, page = h.get("/alipay/return?" + h.sign(ret2))
	if resp.StatusCode != 200 || !strings.Contains(page, "支付处理中") || h.order(other.OutTradeNo).Status != shop.StatusUnpaid {
		t.Fatalf("unconfirmed return: %s", resp.Status)
	}

	// Genuine and confirmed: 支付成功, the order is paid via the query.
	resp, page = h.get("/alipay/return?" + q)
	if resp.StatusCode != 200 || !strings.Contains(page, "支付成功") || !strings.Contains(page, "已支付") {
		t.Fatalf("genuine return: %s", resp.Status)
	}
	got := h.order(o.OutTradeNo)
	if got.Status != shop.StatusPaid || got.PaidVia != "query" || got.TradeNo != "2026112522001400000000000999" {
		t.Fatalf("order after return: %+v", got)
	}
	// A later notification for it is a duplicate.
	if code, ans := h.notify("POST", h.sign(h.genuine(o, "2026112522001400000000000999"))); code != 200 || ans != "success" {
		t.Fatalf("notification after return: %d %q", code, ans)
	}
	var sources []string
	for _, n := range h.notifications() {
		sources = append(sources, n.Source+":"+string(n.Outcome))
	}
	want := "return:bad_signature return:bad_signature return:recorded return:recorded query:applied notify:duplicate"
	if strings.Join(sources, " ") != want {
		t.Fatalf("stored messages %v, want %s", sources, want)
	}
	_, page = h.get("/orders/" + o.OutTradeNo)
	if !strings.Contains(page, "已支付") {
		t.Fatal("order page does not say 已支付")
	}
}

func TestHealthzAndStatic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if resp, body := h.get("/healthz"); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %s %s", resp.Status, body)
	}
	if resp, body := h.get("/static/style.css"); resp.StatusCode != 200 || !strings.Contains(body, "@media") {
		t.Fatalf("css: %s", resp.Status)
	}
	resp, page := h.get("/")
	if resp.Header.Get("Content-Security-Policy") == "" || strings.Contains(page, "cdn") || !strings.Contains(page, "全部商品") {
		t.Fatal("goods page headers or content")
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	hash, err := web.HashPassword("秘密 password")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, "password") {
		t.Fatal("hash contains the password")
	}
	if !strings.HasPrefix(hash, "pbkdf2-sha256$600000$") {
		t.Errorf("hash %q: want PBKDF2-SHA256 with 600,000 iterations", hash)
	}
	for pw, want := range map[string]bool{"秘密 password": true, "秘密 passwor": false, "": false} {
		if ok, err := web.CheckPassword(hash, pw); ok != want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	if _, err := web.CheckPassword("md5$abc", "x"); err == nil {
		t.Error("unknown format accepted")
	}
	if n, err := web.CheckPasswordHash(hash); n != 600000 || err != nil {
		t.Errorf("CheckPasswordHash(HashPassword) = %d, %v", n, err)
	}
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	for hash, ok := range map[string]bool{
		"pbkdf2-sha256$1000$" + salt + "$" + key:       true,
		"pbkdf2-sha256$10000000$" + salt + "$" + key:   true,
		"pbkdf2-sha256$999$" + salt + "$" + key:        false, // fewer than NIST SP 800-132's 1,000
		"pbkdf2-sha256$10000001$" + salt + "$" + key:   false, // more work per login than allowed
		"pbkdf2-sha256$-1$" + salt + "$" + key:         false,
		"pbkdf2-sha256$1000$c2FsdA$" + key:             false, // a 4-byte salt
		"pbkdf2-sha256$1000$" + salt + "$a2V5":         false, // a 3-byte key
		"pbkdf2-sha256$1000$" + salt + "$" + key + "=": false,
		"pbkdf2-sha256$1000$" + salt:                   false,
		"pbkdf2-sha1$1000$" + salt + "$" + key:         false,
	} {
		if _, err := web.CheckPasswordHash(hash); (err == nil) != ok {
			t.Errorf("CheckPasswordHash(%q): %v, want ok=%v", hash, err, ok)
		}
	}
}

// TestSyncOrder: 查询支付结果 on the order page asks Alipay and applies the
// answer; for an order Alipay does not know, nothing changes.
func TestSyncOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.buy(h.goods.ID)
	_, page := h.get("/orders/" + o.OutTradeNo)
	if !strings.Contains(page, `id="sync"`) || !strings.Contains(page, "待付款") {
		t.Fatal("unpaid order page has no 查询支付结果 button")
	}
	if resp, _ := h.post("/orders/"+o.OutTradeNo+"/sync", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != 403 {
		t.Fatalf("cross-site sync: %s", resp.Status)
	}
	if resp, _ := h.post("/orders/"+o.OutTradeNo+"/sync", nil, nil); resp.StatusCode != 303 || h.order(o.OutTradeNo).Status != shop.StatusUnpaid {
		t.Fatalf("sync of an unknown trade: %s", resp.Status)
	}
	h.gw.mu.Lock()
	h.gw.result[o.OutTradeNo] = &alipay.TradeQueryResult{OutTradeNo: o.OutTradeNo, TradeNo: "T9", TradeStatus: "TRADE_SUCCESS", TotalAmount: o.Amount}
	h.gw.mu.Unlock()
	if resp, _ := h.post("/orders/"+o.OutTradeNo+"/sync", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("sync: %s", resp.Status)
	}
	if got := h.order(o.OutTradeNo); got.Status != shop.StatusPaid || got.PaidVia != "query" {
		t.Fatalf("after sync: %+v", got)
	}
	if _, page := h.get("/orders/" + o.OutTradeNo); strings.Contains(page, `id="sync"`) || !strings.Contains(page, "已支付") {
		t.Fatal("paid order page")
	}
	if resp, _ := h.post("/orders/nope/sync", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown order: %s", resp.Status)
	}
}
