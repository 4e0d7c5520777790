package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// addGoods adds goods through the admin's goods form and returns the id
// the goods page has them under.
func (p *shopProcess) addGoods(form url.Values, admin map[string]string) string {
	p.t.Helper()
	if resp, body := p.do("POST", "/admin/goods", form, admin); resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("adding goods %v: %s %s", form, resp.Status, body)
	}
	_, home := p.do("GET", "/", nil, nil)
	name := `">` + form.Get("name") + `</a>`
	i := strings.Index(home, name)
	j := strings.LastIndex(home[:max(i, 0)], `id="goods-name-`)
	if i < 0 || j < 0 {
		p.t.Fatalf("goods %q not on the home page", form.Get("name"))
	}
	id := home[j+len(`id="goods-name-`):]
	return id[:strings.IndexByte(id, '"')]
}

// storedOrders reads the orders of the shop's database.
func (p *shopProcess) storedOrders() []shop.Order {
	p.t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(p.data, "alishop.db"), store.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	defer db.Close()
	orders, _, err := db.ListOrders(context.Background(), shop.OrderFilter{Limit: 500})
	if err != nil {
		p.t.Fatal(err)
	}
	return orders
}

// TestBrowserGoodsPageCheckout: on a phone (390×844) and a desktop
// (1280×800), the buyer opens shipped goods from the home page, picks a
// quantity on the goods page, and on 确认订单 types a phone number one
// digit short: the page comes back with the message next to the phone
// field and nothing is stored. With the number fixed the order is made
// (quantity, total, receiver) and paid at the sandbox's cashier. A
// virtual goods order shows its delivery note once paid, not before.
func TestBrowserGoodsPageCheckout(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the browser test")
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	admin := map[string]string{"Cookie": p.login().String(), "Origin": p.base}
	kettle := p.addGoods(url.Values{"name": {"手冲咖啡壶"}, "price": {"0.50"}, "stock": {"10"}, "shipping": {"1"},
		"description": {"600 毫升，细嘴，不锈钢。"}}, admin)
	course := p.addGoods(url.Values{"name": {"摄影入门课"}, "price": {"0.20"}, "delivery_note": {"兑换码：PHOTO-7Q2K-2026"}}, admin)
	browser := testBrowser(t, exe)
	stock := 10
	for _, c := range []struct {
		name          string
		width, height int64
		phone         bool
	}{
		{"phone", 390, 844, true},
		{"desktop", 1280, 800, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, console := browsertest.NewTab(t, browser, c.width, c.height, c.phone)
			// The 确认订单 with a bad phone answers 422 on purpose.
			console.ExpectStatus(p.base + "/orders")
			before := len(p.storedOrders())
			var left, phoneErr, total, typedName string
			var invalid bool
			err := chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/"),
				chromedp.WaitVisible(chromedp.CSS(`#goods-name-`+kettle)),
				chromedp.Click(chromedp.CSS(`#goods-name-`+kettle)),
				chromedp.WaitVisible(chromedp.CSS(`#goods-detail`)),
				fitsViewport(t, "the goods page"),
				browsertest.Into(&left, chromedp.Text(chromedp.CSS(`#stock`))),
				chromedp.SetValue(chromedp.CSS(`#quantity`), "2"),
				chromedp.Click(chromedp.CSS(`#buy`)),
				chromedp.WaitVisible(chromedp.CSS(`#checkout`)),
				fitsViewport(t, "确认订单"),
				browsertest.Into(&total, chromedp.Text(chromedp.CSS(`#total`))),
				chromedp.SendKeys(chromedp.CSS(`#name`), "王小明"),
				chromedp.SendKeys(chromedp.CSS(`#phone`), "1391234567"),
				chromedp.SendKeys(chromedp.CSS(`#address`), "浙江省杭州市西湖区文三路 100 号 3 单元 501"),
				chromedp.Click(chromedp.CSS(`#submit-order`)),
				chromedp.WaitVisible(chromedp.CSS(`#phone-error`)),
				fitsViewport(t, "确认订单 with a message"),
				browsertest.Into(&phoneErr, chromedp.Text(chromedp.CSS(`#phone-error`))),
				browsertest.Into(&typedName, chromedp.Value(chromedp.CSS(`#name`))),
				browsertest.Into(&invalid, chromedp.Evaluate[bool](`document.getElementById("phone").getAttribute("aria-invalid") === "true"`)),
			)
			if err != nil {
				t.Fatalf("goods page to 确认订单: %v", err)
			}
			if !strings.Contains(left, "剩余 "+strconv.Itoa(stock)+" 件") || strings.TrimSpace(total) != "¥1.00" {
				t.Errorf("goods page stock %q, 确认订单 total %q", left, total)
			}
			if !strings.Contains(phoneErr, "11 位手机号码") || typedName != "王小明" || !invalid {
				t.Errorf("bad phone: message %q, name kept %q, aria-invalid %v", phoneErr, typedName, invalid)
			}
			if n := len(p.storedOrders()); n != before {
				t.Fatalf("a checkout with a bad phone stored %d orders", n-before)
			}

			var orderNo, result string
			var cleared bool
			err = chromedp.Do(ctx,
				chromedp.WaitVisible(chromedp.CSS(`#phone`)),
				browsertest.Into(&cleared, chromedp.Evaluate[bool](`(document.getElementById("phone").value = "", true)`)),
				chromedp.SendKeys(chromedp.CSS(`#phone`), "13912345678"),
				chromedp.Click(chromedp.CSS(`#submit-order`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
				browsertest.Into(&orderNo, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
				chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
				chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
				chromedp.Click(chromedp.CSS(`#pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#result`)),
				browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#result`))),
			)
			if err != nil {
				t.Fatalf("fixed phone to paid: %v", err)
			}
			orderNo = strings.TrimSpace(orderNo)
			if result != "支付成功" {
				t.Errorf("return page %q", result)
			}
			if o := p.waitPaid(orderNo); o.Status != "paid" || o.Amount != "1.00" {
				t.Errorf("order %s: %+v", orderNo, o)
			}
			var got *shop.Order
			orders := p.storedOrders()
			for i := range orders {
				if orders[i].OutTradeNo == orderNo {
					got = &orders[i]
				}
			}
			want := shop.Receiver{Name: "王小明", Phone: "13912345678", Address: "浙江省杭州市西湖区文三路 100 号 3 单元 501"}
			if len(orders) != before+1 || got == nil || got.Quantity != 2 || !got.Shipping || got.Receiver != want {
				t.Fatalf("stored orders %d (was %d), the order %+v", len(orders), before, got)
			}
			stock -= 2
			if tv := p.sandboxTrade(orderNo); tv.Subject != "手冲咖啡壶 ×2" {
				t.Errorf("Alipay subject %q", tv.Subject)
			}

			// Virtual goods: no address; the delivery note after payment only.
			var co, noteBefore, note string
			var hasAddress bool
			err = chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/goods/"+course),
				chromedp.WaitVisible(chromedp.CSS(`#buy`)),
				chromedp.Click(chromedp.CSS(`#buy`)),
				chromedp.WaitVisible(chromedp.CSS(`#checkout`)),
				browsertest.Into(&hasAddress, chromedp.Evaluate[bool](`!!document.getElementById("address")`)),
				chromedp.Click(chromedp.CSS(`#submit-order`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
				browsertest.Into(&co, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
			)
			if err != nil {
				t.Fatalf("virtual goods checkout: %v", err)
			}
			co = strings.TrimSpace(co)
			if hasAddress {
				t.Error("确认订单 of virtual goods asks for an address")
			}
			err = chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/orders/"+co),
				chromedp.WaitVisible(chromedp.CSS(`#continue-pay`)),
				browsertest.Into(&noteBefore, chromedp.Text(chromedp.CSS(`main`))),
				chromedp.Click(chromedp.CSS(`#continue-pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
				chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
				chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
				chromedp.Click(chromedp.CSS(`#pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#result`)),
			)
			if err != nil {
				t.Fatalf("paying the virtual goods: %v", err)
			}
			p.waitPaid(co)
			err = chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/orders/"+co),
				chromedp.WaitVisible(chromedp.CSS(`#delivery-note`)),
				fitsViewport(t, "the paid order page"),
				browsertest.Into(&note, chromedp.Text(chromedp.CSS(`#delivery-note`))),
			)
			if err != nil {
				t.Fatalf("the paid virtual order: %v", err)
			}
			if strings.Contains(noteBefore, "PHOTO-7Q2K") || strings.TrimSpace(note) != "兑换码：PHOTO-7Q2K-2026" {
				t.Errorf("delivery note before payment shown: %v; after: %q", strings.Contains(noteBefore, "PHOTO-7Q2K"), note)
			}
			console.Check(t)
		})
	}
}
