package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"alishop/alipay"
	"alishop/internal/shop"
)

func stock(n int64) *int64 { return &n }

// The goods page, 确认订单 and POST /orders with a quantity and a receiver:
// invalid fields get 确认订单 again with a message next to each (422) and
// store nothing; too few left get 库存不足 (409); the order holds the
// total, the quantity, the receiver and its stock.
func TestGoodsPageAndCheckout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	kb := shop.Goods{Name: "机械键盘", Price: alipay.MustAmount("399.00"), Stock: stock(3), Shipping: true, Description: "87 键"}
	if err := h.svc.SaveGoods(ctx, &kb); err != nil {
		t.Fatal(err)
	}
	hidden := shop.Goods{Name: "下架商品", Price: 100, Hidden: true}
	if err := h.svc.SaveGoods(ctx, &hidden); err != nil {
		t.Fatal(err)
	}

	// The home card links to the goods page; shipped goods buy through 确认订单.
	_, home := h.get("/")
	if !strings.Contains(home, `href="/goods/`+itoa(kb.ID)+`"`) || !strings.Contains(home, `href="/checkout?goods_id=`+itoa(kb.ID)+`"`) {
		t.Errorf("home page does not link the goods page and 确认订单:\n%s", home)
	}
	resp, page := h.get("/goods/" + itoa(kb.ID))
	if resp.StatusCode != 200 || !strings.Contains(page, "<h1") || !strings.Contains(page, "机械键盘") || !strings.Contains(page, "¥399.00") ||
		!strings.Contains(page, "剩余 3 件") || !strings.Contains(page, `max="3"`) || !strings.Contains(page, `action="/checkout"`) {
		t.Fatalf("goods page %s:\n%s", resp.Status, page)
	}
	for _, path := range []string{"/goods/" + itoa(hidden.ID), "/goods/999", "/goods/x", "/checkout?goods_id=" + itoa(hidden.ID)} {
		if resp, body := h.get(path); resp.StatusCode != 404 || !strings.Contains(body, "商品") {
			t.Errorf("%s: %s", path, resp.Status)
		}
	}

	resp, page = h.get("/checkout?goods_id=" + itoa(kb.ID) + "&quantity=2")
	if resp.StatusCode != 200 || !strings.Contains(page, "确认订单") || !strings.Contains(page, "¥798.00") || !strings.Contains(page, `name="phone"`) {
		t.Fatalf("确认订单 %s:\n%s", resp.Status, page)
	}
	if resp, body := h.get("/checkout?goods_id=" + itoa(kb.ID) + "&quantity=4"); resp.StatusCode != 409 || !strings.Contains(body, "库存不足") {
		t.Errorf("确认订单 past the stock: %s", resp.Status)
	}
	if resp, body := h.get("/checkout?goods_id=" + itoa(kb.ID) + "&quantity=0"); resp.StatusCode != 422 || !strings.Contains(body, "购买数量") {
		t.Errorf("确认订单 of 0: %s", resp.Status)
	}

	form := func(kv ...string) url.Values {
		v := url.Values{"goods_id": {itoa(kb.ID)}, "quantity": {"2"}, "name": {"张三"}, "phone": {"13800138000"}, "address": {"浙江省杭州市西湖区文三路 100 号"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, c := range []struct {
		form  url.Values
		field string
		msg   string
	}{
		{form("phone", "1380013800"), "phone", "11 位手机号码"},
		{form("phone", ""), "phone", "手机号码"},
		{form("name", ""), "name", "收货人姓名"},
		{form("address", "杭州"), "address", "收货地址太短"},
		{url.Values{"goods_id": {itoa(kb.ID)}}, "address", "收货地址"},
	} {
		resp, body := h.post("/orders", c.form, nil)
		if resp.StatusCode != 422 || !strings.Contains(body, `id="`+c.field+`-error"`) || !strings.Contains(body, c.msg) || !strings.Contains(body, "确认订单") {
			t.Errorf("%v: %s, want 确认订单 with a message at %s:\n%s", c.form, resp.Status, c.field, body)
		}
		// What the buyer typed is kept, escaped.
		if n := c.form.Get("name"); n != "" && !strings.Contains(body, `value="`+n+`"`) {
			t.Errorf("the name typed is not kept")
		}
	}
	resp, body := h.post("/orders", form("name", `<script>x</script>`, "phone", "12"), nil)
	if resp.StatusCode != 422 || strings.Contains(body, "<script>x") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("escaping: %s", resp.Status)
	}
	if n := h.countOrders(); n != 0 {
		t.Fatalf("%d orders stored by invalid checkouts", n)
	}
	if g, _ := h.svc.Goods(ctx, kb.ID); *g.Stock != 3 {
		t.Fatalf("stock %d after invalid checkouts", *g.Stock)
	}

	resp, _ = h.post("/orders", form("phone", "+86 138-0013-8000"), map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout: %s", resp.Status)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	biz := loc.Query().Get("biz_content")
	if !strings.Contains(biz, `"total_amount":"798.00"`) || !strings.Contains(biz, `"subject":"机械键盘 ×2"`) {
		t.Fatalf("payment request %s", biz)
	}
	orders, _, _ := h.db.ListOrders(ctx, shop.OrderFilter{})
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o := orders[0]
	want := shop.Receiver{Name: "张三", Phone: "13800138000", Address: "浙江省杭州市西湖区文三路 100 号"}
	if o.Quantity != 2 || o.Amount != 79800 || !o.Shipping || o.Receiver != want || o.StockHeld != 2 || o.Subject != "机械键盘" {
		t.Fatalf("order %+v", o)
	}
	if g, _ := h.svc.Goods(ctx, kb.ID); *g.Stock != 1 {
		t.Fatalf("stock %d after a checkout of 2 of 3", *g.Stock)
	}
	if _, page := h.get("/goods/" + itoa(kb.ID)); !strings.Contains(page, "剩余 1 件") || !strings.Contains(page, `max="1"`) {
		t.Errorf("goods page after the checkout:\n%s", page)
	}
	resp, body = h.post("/orders", form(), nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "库存不足") || !strings.Contains(body, "只剩 1 件") {
		t.Fatalf("checkout past the stock: %s\n%s", resp.Status, body)
	}
	if n := h.countOrders(); n != 1 {
		t.Fatalf("%d orders after 库存不足", n)
	}
	if _, _, err := h.svc.Checkout(ctx, shop.Checkout{GoodsID: kb.ID, Quantity: 1, Receiver: want}, shop.ChannelPage); err != nil {
		t.Fatal(err)
	}
	if _, page := h.get("/goods/" + itoa(kb.ID)); !strings.Contains(page, "已售罄") || strings.Contains(page, `id="buy"`) {
		t.Errorf("sold-out goods page:\n%s", page)
	}
	if _, home := h.get("/"); !strings.Contains(home, `id="sold-out-`+itoa(kb.ID)+`"`) {
		t.Errorf("sold-out home card")
	}
}

// A virtual goods item's delivery note is on its order's page once paid,
// and nowhere before or elsewhere (not the goods page, the order list,
// 确认订单, the JSON API).
func TestDeliveryNoteAfterPayment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	const note = "激活码：SECRET-CODE-42"
	g := shop.Goods{Name: "软件授权", Price: 100, DeliveryNote: note}
	if err := h.svc.SaveGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	resp, _ := h.post("/orders", url.Values{"goods_id": {itoa(g.ID)}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /orders: %s", resp.Status)
	}
	buyer := resp.Cookies() // the browser that made the order
	orders, _, _ := h.db.ListOrders(ctx, shop.OrderFilter{})
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o := orders[0]
	if o.Shipping || o.Receiver != (shop.Receiver{}) || o.Quantity != 1 {
		t.Fatalf("virtual order %+v", o)
	}
	admin := h.login()
	pages := []string{"/", "/goods/" + itoa(g.ID), "/checkout?goods_id=" + itoa(g.ID), "/orders/" + o.OutTradeNo, "/api/orders/" + o.OutTradeNo}
	for _, p := range pages {
		if _, body := h.get(p, buyer...); strings.Contains(body, "SECRET-CODE") {
			t.Errorf("%s shows the delivery note before payment", p)
		}
	}
	if code, body := h.notify("POST", h.sign(h.genuine(o, "2026120422001400000000000001"))); code != 200 || body != "success" {
		t.Fatalf("notify: %d %s", code, body)
	}
	if _, body := h.get("/orders/"+o.OutTradeNo, buyer...); !strings.Contains(body, `id="delivery-note"`) || !strings.Contains(body, "SECRET-CODE-42") {
		t.Fatalf("paid order page without the delivery note:\n%s", body)
	}
	// Only the browser holding the order sees it.
	if _, body := h.get("/orders/" + o.OutTradeNo); strings.Contains(body, "SECRET-CODE") {
		t.Error("the delivery note shows to a browser without the order")
	}
	for _, p := range append(pages[:3], "/api/orders/"+o.OutTradeNo, "/orders", "/admin/orders") {
		if _, body := h.get(p, admin); strings.Contains(body, "SECRET-CODE") {
			t.Errorf("%s shows the delivery note", p)
		}
	}
}
