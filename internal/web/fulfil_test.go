package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/web"
)

const testPhone = "13812345678"

// shippedOrder makes a paid order of the harness's goods, delivered to
// testPhone, paid by a genuine notification.
func (h *harness) shippedOrder(tradeNo string) shop.Order {
	h.t.Helper()
	now := time.Now()
	o := shop.Order{OutTradeNo: shop.NewOutTradeNo(now), GoodsID: h.goods.ID, CreatedAt: now, UpdatedAt: now, TimeExpire: now.Add(30 * time.Minute),
		Quantity: 1, Shipping: true, Receiver: shop.Receiver{Name: "李四", Phone: testPhone, Address: "上海市浦东新区世纪大道 100 号 8 楼"}}
	if err := h.db.CreateOrder(context.Background(), &o); err != nil {
		h.t.Fatal(err)
	}
	if code, ans := h.notify("POST", h.sign(h.genuine(o, tradeNo))); code != 200 || ans != "success" {
		h.t.Fatalf("notify: %d %s", code, ans)
	}
	o = h.order(o.OutTradeNo)
	if o.Stage() != shop.StageToShip {
		h.t.Fatalf("paid order %s is %s", o.OutTradeNo, o.Stage())
	}
	return o
}

// lookup posts the lookup form and returns the answer and its body.
func (h *harness) lookup(no, phone string, header map[string]string) (*http.Response, string) {
	h.t.Helper()
	return h.post("/orders/lookup", url.Values{"out_trade_no": {no}, "phone": {phone}}, header)
}

// The owner ships (待发货 → 已发货, with the 待发货 filter, the address in
// full and the ship form); the buyer, from a browser holding the order,
// sees the masked phone and the tracking number and confirms receipt (→
// 已完成); a browser without the order sees neither and cannot confirm;
// every change is in the order's record.
func TestShipAndReceive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.shippedOrder("2026120122001400000000000101")
	admin := h.login()
	page := "/admin/orders/" + o.OutTradeNo

	_, list := h.get("/admin/orders?status=to_ship", admin)
	if !strings.Contains(list, `data-status="to_ship">待发货 <span class="count">1</span>`) || !strings.Contains(list, o.OutTradeNo) {
		t.Fatalf("the 待发货 filter:\n%s", section(list, `id="status-filters"`))
	}
	_, body := h.get(page, admin)
	for _, want := range []string{`<dd class="mono" id="receiver-phone">13812345678</dd>`, "上海市浦东新区世纪大道 100 号 8 楼", `action="/admin/orders/` + o.OutTradeNo + `/ship"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin order page lacks %s", want)
		}
	}
	// Without a login, from another site, or with a bad tracking number:
	// refused, nothing changes.
	ship := func(carrier, no string, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
		return h.post(page+"/ship", url.Values{"carrier": {carrier}, "tracking_no": {no}}, header, cookies...)
	}
	if resp, _ := ship("顺丰速运", "SF1001", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Fatalf("ship without login: %s", resp.Status)
	}
	if resp, _ := ship("顺丰速运", "SF1001", map[string]string{"Sec-Fetch-Site": "cross-site"}, admin); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site ship: %s", resp.Status)
	}
	if resp, body := ship("顺丰速运", "SF 1001<", nil, admin); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="ship-error"`) {
		t.Fatalf("bad tracking number: %s", resp.Status)
	}
	if got := h.order(o.OutTradeNo); got.Stage() != shop.StageToShip {
		t.Fatalf("refused shipments changed the order: %s", got.Stage())
	}
	if resp, _ := ship("顺丰速运", "sf1001", nil, admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ship: %s", resp.Status)
	}
	if resp, _ := ship("中通快递", "ZT2002", nil, admin); resp.StatusCode != http.StatusConflict {
		t.Fatalf("shipping again otherwise: %s", resp.Status)
	}
	if got := h.order(o.OutTradeNo); got.Stage() != shop.StageShipped || got.TrackingNo != "SF1001" {
		t.Fatalf("after shipping: %+v", got)
	}

	// A browser without the order: the state, no receiver, no tracking,
	// no 确认收货.
	_, body = h.get("/orders/" + o.OutTradeNo)
	if !strings.Contains(body, `id="status">已发货</span>`) || strings.Contains(body, "SF1001") || strings.Contains(body, "李四") ||
		strings.Contains(body, "5678") || !strings.Contains(body, `id="lookup-hint"`) || strings.Contains(body, `id="receive"`) {
		t.Fatalf("order page without access:\n%s", section(body, `id="order"`))
	}
	if resp, _ := h.post("/orders/"+o.OutTradeNo+"/receive", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("receive without access: %s", resp.Status)
	}
	// The lookup gives the browser the order.
	resp, _ := h.lookup(o.OutTradeNo, testPhone, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orders/"+o.OutTradeNo || len(resp.Cookies()) != 1 {
		t.Fatalf("lookup: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	buyer := resp.Cookies()[0]
	_, body = h.get("/orders/"+o.OutTradeNo, buyer)
	for _, want := range []string{`id="receiver-phone">138****5678</dd>`, `<dd class="mono" id="tracking-no">SF1001</dd>`, `id="carrier">顺丰速运</dd>`,
		"上海市浦东新区世纪大道 100 号 8 楼", `id="receive">确认收货</button>`} {
		if !strings.Contains(body, want) {
			t.Errorf("buyer's order page lacks %s", want)
		}
	}
	if strings.Contains(body, testPhone) {
		t.Error("the buyer's order page shows the whole phone number")
	}
	_, mine := h.get("/orders?tab=shipped", buyer)
	if strings.Count(mine, `<li class="order-card"`) != 1 || !strings.Contains(mine, `id="receive-`+o.OutTradeNo+`"`) {
		t.Fatalf("the 已发货 tab:\n%s", section(mine, `id="my-orders-list"`))
	}
	if resp, _ := h.post("/orders/"+o.OutTradeNo+"/receive", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}, buyer); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site receive: %s", resp.Status)
	}
	for range 2 { // a double click completes it once
		resp, _ = h.post("/orders/"+o.OutTradeNo+"/receive", nil, nil, buyer)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("receive: %s", resp.Status)
		}
	}
	_, body = h.get(resp.Header.Get("Location"), buyer)
	if !strings.Contains(body, `id="status">已完成</span>`) || !strings.Contains(body, `id="notice">已确认收货`) || strings.Contains(body, `id="receive"`) {
		t.Fatalf("after receipt:\n%s", section(body, `<h1`))
	}
	evs, err := h.svc.OrderEvents(context.Background(), o.OutTradeNo)
	if err != nil || len(evs) != 2 || evs[0].Actor != shop.ActorAdmin || evs[1].Actor != shop.ActorBuyer {
		t.Fatalf("events %+v %v", evs, err)
	}
	_, body = h.get(page, admin)
	for _, want := range []string{"买家下单", "买家付款（支付宝异步通知确认）", "商家发货：顺丰速运 SF1001", "买家确认收货", `id="completed-at"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin order record lacks %s", want)
		}
	}
	// The admin finds it by the receiver's phone number.
	if _, list = h.get("/admin/orders?q="+testPhone, admin); !strings.Contains(list, o.OutTradeNo) || !strings.Contains(list, `id="total">共 1 个订单`) {
		t.Fatalf("search by phone:\n%s", section(list, `id="total"`))
	}
}

// TestLookup: the right order number and phone number
// show the order; an unknown order and a wrong phone get the same page;
// 20 wrong tries from one client are throttled, and the right answer is
// refused too until the client may try again.
func TestLookup(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := &now
	h := newHarnessWith(t, func(c *web.Config) {
		c.Limits = web.Limits{LookupBurst: 10, LookupEvery: time.Minute}
		c.Now = func() time.Time { return *clock }
	})
	o := h.shippedOrder("2026120122001400000000000102")
	if resp, body := h.get("/orders/lookup"); resp.StatusCode != 200 || !strings.Contains(body, `<form method="post" action="/orders/lookup"`) {
		t.Fatalf("lookup page: %s", resp.Status)
	}
	unknownResp, unknown := h.lookup("20261201000000aaaaaaaaaaaaaaaaaaaaaaaa", testPhone, nil)
	wrongResp, wrong := h.lookup(o.OutTradeNo, "13900000000", nil)
	strip := func(s string, no string) string { return strings.ReplaceAll(s, no, "N") }
	if unknownResp.StatusCode != http.StatusNotFound || wrongResp.StatusCode != http.StatusNotFound ||
		strip(unknown, "20261201000000aaaaaaaaaaaaaaaaaaaaaaaa") != strip(wrong, o.OutTradeNo) || len(unknownResp.Cookies())+len(wrongResp.Cookies()) != 0 {
		t.Fatalf("unknown order (%s) and wrong phone (%s) answer differently", unknownResp.Status, wrongResp.Status)
	}
	if !strings.Contains(wrong, `id="lookup-error" role="alert">订单号或手机号不正确</p>`) || strings.Contains(wrong, "李四") {
		t.Fatalf("wrong phone page:\n%s", section(wrong, `<h1`))
	}
	// 20 wrong tries in all: past the burst they are refused with 429.
	limited := 0
	for i := 2; i < 20; i++ {
		resp, _ := h.lookup(o.OutTradeNo, "1390000000"+itoa(int64(i%10)), nil)
		switch resp.StatusCode {
		case http.StatusNotFound:
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("wrong try %d: %s", i, resp.Status)
		}
	}
	if limited != 10 {
		t.Fatalf("%d of 20 wrong tries throttled, want 10 (burst 10)", limited)
	}
	if resp, _ := h.lookup(o.OutTradeNo, testPhone, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right answer while throttled: %s", resp.Status)
	}
	// Another client is not throttled by this one.
	req, _ := http.NewRequest("POST", "/orders/lookup", strings.NewReader(url.Values{"out_trade_no": {o.OutTradeNo}, "phone": {testPhone}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.7:5555"
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("another client's lookup: %d", rec.Code)
	}
	// Once the budget refills, the right answer shows the order.
	*clock = now.Add(time.Minute)
	resp, _ := h.lookup(o.OutTradeNo, " "+testPhone+" ", nil)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("the right answer after a minute: %s", resp.Status)
	}
	_, body := h.get("/orders/"+o.OutTradeNo, resp.Cookies()[0])
	if !strings.Contains(body, `id="receiver-phone">138****5678</dd>`) {
		t.Fatal("the order page after a lookup does not show the receiver")
	}
	_, mine := h.get("/orders", resp.Cookies()[0])
	if !strings.Contains(mine, o.OutTradeNo) {
		t.Fatal("the looked-up order is not in 我的订单")
	}
}
