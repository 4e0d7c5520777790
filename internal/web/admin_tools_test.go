package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"alishop/alipay"
	"alishop/internal/shop"
)

// The order list searches by the start of an order or trade number, bounds
// the creation date (Beijing days, both included), counts each state under
// the search, shows today's sales and offers 全额退款 for paid orders, which
// leads into the refund's first step with the whole amount.
func TestAdminOrderSearchCountsToday(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	h := e.harness
	c := h.login()
	paid := e.paid()
	other := h.buy(h.goods.ID)
	h.buy(h.goods.ID)

	rows := func(page string) int { return strings.Count(page, "<tr data-out-trade-no") }
	_, page := h.get("/admin/orders", c)
	if !strings.Contains(page, `id="today"`) || !strings.Contains(page, `<strong id="today-orders">1</strong>`) ||
		!strings.Contains(page, `<strong id="today-amount">¥88.00</strong>`) {
		t.Errorf("today's sales missing or wrong:\n%s", section(page, `id="today"`))
	}
	if !strings.Contains(page, `data-status="">全部 <span class="count">3</span>`) ||
		!strings.Contains(page, `data-status="unpaid">未支付 <span class="count">2</span>`) ||
		!strings.Contains(page, `data-status="paid">已支付 <span class="count">1</span>`) {
		t.Errorf("status counts:\n%s", section(page, `id="status-filters"`))
	}
	if strings.Count(page, "data-full-refund=") != 1 || !strings.Contains(page, `data-full-refund="`+paid.OutTradeNo+`"`) {
		t.Errorf("全额退款 offered %d times", strings.Count(page, "data-full-refund="))
	}

	_, page = h.get("/admin/orders?q="+other.OutTradeNo, c)
	if rows(page) != 1 || !strings.Contains(page, other.OutTradeNo) || !strings.Contains(page, `data-status="">全部 <span class="count">1</span>`) {
		t.Errorf("search by order number: %d rows", rows(page))
	}
	_, page = h.get("/admin/orders?q=+"+paid.OutTradeNo[:20]+"+&status=paid", c)
	if rows(page) != 1 || !strings.Contains(page, paid.OutTradeNo) {
		t.Errorf("search by a prefix within the paid filter: %d rows", rows(page))
	}
	_, page = h.get("/admin/orders?q="+paid.TradeNo, c)
	if rows(page) != 1 || !strings.Contains(page, paid.OutTradeNo) {
		t.Errorf("search by trade number: %d rows", rows(page))
	}
	if _, page = h.get("/admin/orders?q=nothing", c); rows(page) != 0 || !strings.Contains(page, "没有符合条件的订单") {
		t.Errorf("search without a match: %d rows", rows(page))
	}

	today := e.sb.Now().In(alipay.Beijing).Format("2006-01-02")
	tomorrow := e.sb.Now().In(alipay.Beijing).AddDate(0, 0, 1).Format("2006-01-02")
	if _, page = h.get("/admin/orders?from="+today+"&to="+today, c); rows(page) != 3 {
		t.Errorf("today's orders: %d rows", rows(page))
	}
	if _, page = h.get("/admin/orders?from="+tomorrow, c); rows(page) != 0 || !strings.Contains(page, `<span class="count">0</span>`) {
		t.Errorf("orders from tomorrow: %d rows", rows(page))
	}
	for _, bad := range []string{"?from=2026-13-01", "?from=" + tomorrow + "&to=" + today, "?q=" + url.QueryEscape("x' OR 1=1")} {
		if resp, page := h.get("/admin/orders"+bad, c); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="search-error"`) {
			t.Errorf("%s: %s", bad, resp.Status)
		}
	}

	// 全额退款 is the refund form's first step with the whole amount: the
	// confirmation page, nothing refunded yet.
	resp, page := h.post("/admin/orders/"+paid.OutTradeNo+"/refunds", url.Values{"amount": {"88.00"}}, nil, c)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="confirm-refund"`) || !strings.Contains(page, "¥88.00") {
		t.Errorf("全额退款: %s", resp.Status)
	}
	_, page = h.get("/admin/orders/"+paid.OutTradeNo, c)
	if !strings.Contains(page, `id="full-refund"`) {
		t.Error("the order page has no 全额退款")
	}
}

// section is up to 600 bytes of page from the first marker, for messages.
func section(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return "(no " + marker + ")"
	}
	return page[i:min(len(page), i+600)]
}

// Goods no order names can be deleted, with their picture; goods with
// orders are kept and offer no 删除.
func TestAdminDeleteGoods(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	h.buy(h.goods.ID)
	free := shop.Goods{Name: "没人买的", Price: 100}
	if err := h.svc.SaveGoods(t.Context(), &free); err != nil {
		t.Fatal(err)
	}
	_, page := h.get("/admin/goods", c)
	if strings.Contains(page, `id="delete-`+itoa(h.goods.ID)+`"`) || !strings.Contains(page, `id="delete-`+itoa(free.ID)+`"`) {
		t.Error("删除 must be offered for the goods without orders only")
	}
	resp, page := h.post("/admin/goods/"+itoa(h.goods.ID)+"/delete", url.Values{}, nil, c)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "不能删除") {
		t.Errorf("deleting ordered goods: %s", resp.Status)
	}
	if _, err := h.svc.Goods(t.Context(), h.goods.ID); err != nil {
		t.Errorf("ordered goods gone: %v", err)
	}
	resp, _ = h.post("/admin/goods/"+itoa(free.ID)+"/delete", url.Values{}, nil, c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleting: %s", resp.Status)
	}
	if _, err := h.svc.Goods(t.Context(), free.ID); err != shop.ErrGoodsNotFound {
		t.Errorf("deleted goods: %v", err)
	}
	if resp, _ := h.post("/admin/goods/"+itoa(free.ID)+"/delete", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther ||
		!strings.Contains(resp.Header.Get("Location"), "/admin/login") {
		t.Errorf("delete without a login: %s", resp.Status)
	}
}

// The shop's settings: the configured name is the first one; a saved
// profile shows in every page's header, the footer (contact, ICP number)
// and /policy; a refused field changes nothing.
func TestShopSettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	resp, page := h.get("/admin/settings", c)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="name" name="name" value="小店"`) {
		t.Fatalf("settings page: %s", resp.Status)
	}
	if _, page := h.get("/policy"); !strings.Contains(page, "本店暂未发布售后政策") || strings.Contains(page, `id="icp"`) {
		t.Error("the policy page before any policy")
	}
	form := url.Values{"name": {" 青禾小铺 "}, "contact": {"微信 qinghe-shop"}, "policy": {"七天无理由退货。\r\n<b>质量问题</b>包邮换新。"}, "icp": {"京ICP备12345678号-1"}}
	if resp, _ := h.post("/admin/settings", form, nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving: %s", resp.Status)
	}
	_, page = h.get("/")
	for _, want := range []string{"<title>全部商品 · 青禾小铺</title>", `<span id="footer-contact">客服：微信 qinghe-shop</span>`, `href="/policy"`,
		`<a href="https://beian.miit.gov.cn/" rel="noopener" id="icp">京ICP备12345678号-1</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	_, page = h.get("/policy")
	if !strings.Contains(page, "七天无理由退货。\n&lt;b&gt;质量问题&lt;/b&gt;包邮换新。") || !strings.Contains(page, "微信 qinghe-shop") {
		t.Errorf("policy page:\n%s", section(page, `id="policy"`))
	}
	for _, bad := range []url.Values{
		{"name": {""}},
		{"name": {strings.Repeat("店", 33)}},
		{"name": {"店"}, "contact": {"a\x01b"}},
		{"name": {"店"}, "policy": {strings.Repeat("好", 2001)}},
		{"name": {"店"}, "icp": {strings.Repeat("1", 41)}},
	} {
		resp, page := h.post("/admin/settings", bad, nil, c)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="form-error"`) || !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("%v: %s", bad, resp.Status)
		}
	}
	if _, page := h.get("/"); !strings.Contains(page, "青禾小铺") {
		t.Error("a refused form changed the profile")
	}
	if resp, _ := h.post("/admin/settings", form, nil); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/admin/login") {
		t.Errorf("settings without a login: %s", resp.Status)
	}
}

// Changing the admin password needs the current one, ends every other
// session and keeps this browser logged in; logging out says so.
func TestAdminPasswordChangeAndLogout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	other := h.login()
	const newPassword = "a much longer passphrase"
	for _, bad := range []url.Values{
		{"old_password": {"wrong password!"}, "new_password": {newPassword}},
		{"old_password": {testPassword}, "new_password": {"short"}},
		{"old_password": {testPassword}, "new_password": {newPassword}, "confirm_password": {newPassword + "x"}},
		{"new_password": {newPassword}},
	} {
		resp, page := h.post("/admin/password", bad, nil, c)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="form-error"`) {
			t.Errorf("%v: %s", bad, resp.Status)
		}
	}
	resp, _ := h.post("/admin/password", url.Values{"old_password": {testPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}}, nil, c)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("changing the password: %s", resp.Status)
	}
	mine := resp.Cookies()[0]
	if resp, page := h.get("/admin/password?changed=1", mine); resp.StatusCode != 200 || !strings.Contains(page, "其他设备上的登录已全部退出") {
		t.Errorf("after the change: %s", resp.Status)
	}
	for name, ck := range map[string]*http.Cookie{"the other session": other, "the old cookie": c} {
		if resp, _ := h.get("/admin/orders", ck); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s still logged in: %s", name, resp.Status)
		}
	}
	if resp, _ := h.post("/admin/login", url.Values{"username": {"admin"}, "password": {testPassword}}, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password still logs in: %s", resp.Status)
	}
	if resp, _ := h.post("/admin/login", url.Values{"username": {"admin"}, "password": {newPassword}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password: %s", resp.Status)
	}

	resp, _ = h.post("/admin/logout", url.Values{}, nil, mine)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login?out=1" {
		t.Fatalf("logout: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if _, page := h.get("/admin/login?out=1"); !strings.Contains(page, "已退出登录") {
		t.Error("no 已退出登录 after logout")
	}
}
