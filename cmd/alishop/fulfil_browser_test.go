package main

import (
	"context"
	"flag"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alishop/internal/browsertest"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// fulfilShots, when set, makes TestBrowserFulfilment write its pages'
// screenshots there (to look at them; they are not the README's).
var fulfilShots = flag.String("fulfil-screenshots", "", "write TestBrowserFulfilment's screenshots into this directory")

// fulfilPhone is the receiver's phone number of the browser tests' orders.
const fulfilPhone = "13812345678"

// addShippedGoods adds goods delivered to an address through the admin's
// goods form and returns their id.
func (p *shopProcess) addShippedGoods(admin map[string]string, name, price string) string {
	p.t.Helper()
	resp, body := p.do("POST", "/admin/goods", url.Values{"name": {name}, "price": {price}, "shipping": {"1"}, "description": {"蓝牙 5.3，续航 20 小时。"}}, admin)
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("add goods: %s %s", resp.Status, body)
	}
	_, list := p.do("GET", "/admin/goods", nil, admin)
	i := strings.Index(list, name)
	m := regexp.MustCompile(`/admin/goods/(\d+)/edit`).FindStringSubmatch(list[i:])
	if i < 0 || m == nil {
		p.t.Fatalf("the new goods %s are not in the admin's list", name)
	}
	return m[1]
}

// paidShippedOrder makes an order of the shipped goods goodsID with a
// receiver in the shop's database (the checkout form is another test's),
// then the buyer continues paying it (继续付款), opens the cashier and pays
// through the sandbox's API; it returns the paid order's number.
func (p *shopProcess) paidShippedOrder(goodsID string) string {
	p.t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(p.data, "alishop.db"), store.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	defer db.Close()
	id, _ := strconv.ParseInt(goodsID, 10, 64)
	now := time.Now()
	o := shop.Order{OutTradeNo: shop.NewOutTradeNo(now), GoodsID: id, CreatedAt: now, UpdatedAt: now, TimeExpire: now.Add(30 * time.Minute),
		Quantity: 1, Shipping: true, Receiver: shop.Receiver{Name: "张三", Phone: fulfilPhone, Address: "浙江省杭州市西湖区文三路 90 号 5 幢 301 室"}}
	if err := db.CreateOrder(ctx, &o); err != nil {
		p.t.Fatal(err)
	}
	resp, body := p.do("POST", "/orders/"+o.OutTradeNo+"/pay", url.Values{"channel": {"page"}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": p.base})
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("继续付款: %s %s", resp.Status, body)
	}
	p.openCashier(resp.Header.Get("Location"))
	p.pay(o.OutTradeNo)
	if got := p.waitPaid(o.OutTradeNo); got.Status != "paid" {
		p.t.Fatalf("order %s: %+v", o.OutTradeNo, got)
	}
	return o.OutTradeNo
}

// TestBrowserFulfilment, the owner's and the buyer's part of fulfilment:
// on a phone (390×844) and on a desktop (1280×800), an order of shipped
// goods paid through the sandbox is 待发货 in the admin's list; the owner
// opens it, sees the address and ships it with a carrier and tracking
// number; the buyer, on a browser that did not make the order, finds it
// with its number and phone number, sees 已发货 with the tracking number and
// the masked phone, confirms receipt, and the order is 已完成 for both. No
// page is wider than the viewport or logs an error.
func TestBrowserFulfilment(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the browser test")
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	admin := map[string]string{"Cookie": p.login().String(), "Origin": p.base}
	goodsID := p.addShippedGoods(admin, "蓝牙音箱", "199.00")
	browser := testBrowser(t, exe)

	for _, size := range []struct {
		name          string
		width, height int64
		phone         bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}} {
		t.Run(size.name, func(t *testing.T) {
			t.Parallel()
			no := p.paidShippedOrder(goodsID)
			shot := func(name string) chromedp.Action[chromedp.Void] {
				return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					if *fulfilShots == "" {
						return nil
					}
					b, err := chromedp.CaptureScreenshot()(ctx, tg)
					if err != nil {
						return err
					}
					return writeScreenshot(t, filepath.Join(*fulfilShots, name+"-"+size.name+".png"), b)
				})
			}
			// The owner, in a browser of its own.
			octx, oconsole := browsertest.NewTab(t, browser, size.width, size.height, size.phone)
			var filtered, phone, stage string
			if err := chromedp.Do(octx,
				chromedp.Navigate(p.base+"/admin/orders?status=to_ship"),
				chromedp.WaitVisible(chromedp.CSS(`#password`)),
				chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
				chromedp.Click(chromedp.CSS(`#login`)),
				chromedp.WaitVisible(chromedp.CSS(`#orders`)),
				chromedp.Navigate(p.base+"/admin/orders?status=to_ship"),
				chromedp.WaitVisible(chromedp.CSS(`#orders`)),
				browsertest.Into(&filtered, chromedp.Text(chromedp.CSS(`#orders tr[data-out-trade-no="`+no+`"]`))),
				fitsViewport(t, "the admin's 待发货 list"),
				shot("admin-to-ship"),
				chromedp.Click(chromedp.CSS(`#detail-`+no)),
				chromedp.WaitVisible(chromedp.CSS(`#ship`)),
				browsertest.Into(&phone, chromedp.Text(chromedp.CSS(`#receiver-phone`))),
				chromedp.SendKeys(chromedp.CSS(`#carrier-input`), "顺丰速运"),
				chromedp.SendKeys(chromedp.CSS(`#tracking-input`), "SF1234567890"),
				fitsViewport(t, "the admin order page with the ship form"),
				shot("admin-ship-form"),
				chromedp.Click(chromedp.CSS(`#ship-submit`)),
				chromedp.WaitVisible(chromedp.CSS(`#ship-result`)),
				browsertest.Into(&stage, chromedp.Text(chromedp.CSS(`#stage`))),
				shot("admin-shipped"),
			); err != nil {
				t.Fatalf("the owner ships: %v", err)
			}
			if !strings.Contains(filtered, "待发货") || phone != fulfilPhone || stage != "已发货" {
				t.Fatalf("owner: list row %q, phone %q, stage after shipping %q", filtered, phone, stage)
			}

			// The buyer on another device: finds the order, sees the
			// tracking number, confirms.
			bctx, bconsole := browsertest.NewTab(t, browser, size.width, size.height, size.phone)
			bconsole.ExpectStatus(p.base + "/orders/lookup")
			var status, tracking, masked, lookupErr, final, notice string
			if err := chromedp.Do(bctx,
				chromedp.Navigate(p.base+"/orders/"+no),
				chromedp.WaitVisible(chromedp.CSS(`#lookup-hint`)),
				chromedp.Click(chromedp.CSS(`#lookup-hint a`)),
				chromedp.WaitVisible(chromedp.CSS(`#phone`)),
				chromedp.SendKeys(chromedp.CSS(`#phone`), "13900000000"),
				chromedp.Click(chromedp.CSS(`#lookup-submit`)),
				chromedp.WaitVisible(chromedp.CSS(`#lookup-error`)),
				browsertest.Into(&lookupErr, chromedp.Text(chromedp.CSS(`#lookup-error`))),
				fitsViewport(t, "the lookup page"),
				shot("lookup-wrong"),
				chromedp.SendKeys(chromedp.CSS(`#phone`), fulfilPhone),
				chromedp.Click(chromedp.CSS(`#lookup-submit`)),
				chromedp.WaitVisible(chromedp.CSS(`#receive`)),
				browsertest.Into(&status, chromedp.Text(chromedp.CSS(`#status`))),
				browsertest.Into(&tracking, chromedp.Text(chromedp.CSS(`#tracking-no`))),
				browsertest.Into(&masked, chromedp.Text(chromedp.CSS(`#receiver-phone`))),
				fitsViewport(t, "the buyer's order page"),
				shot("order-shipped"),
				chromedp.Click(chromedp.CSS(`#receive`)),
				chromedp.WaitVisible(chromedp.CSS(`#notice`)),
				browsertest.Into(&final, chromedp.Text(chromedp.CSS(`#status`))),
				browsertest.Into(&notice, chromedp.Text(chromedp.CSS(`#notice`))),
				shot("order-completed"),
			); err != nil {
				t.Fatalf("the buyer confirms: %v", err)
			}
			if lookupErr != "订单号或手机号不正确" || status != "已发货" || tracking != "SF1234567890" || masked != "138****5678" ||
				final != "已完成" || !strings.Contains(notice, "已确认收货") {
				t.Fatalf("buyer: lookup error %q, status %q, tracking %q, phone %q, then %q (%q)", lookupErr, status, tracking, masked, final, notice)
			}
			var adminStage, record string
			if err := chromedp.Do(octx,
				chromedp.Navigate(p.base+"/admin/orders/"+no),
				chromedp.WaitVisible(chromedp.CSS(`#events`)),
				browsertest.Into(&adminStage, chromedp.Text(chromedp.CSS(`#stage`))),
				browsertest.Into(&record, chromedp.Text(chromedp.CSS(`#events`))),
			); err != nil {
				t.Fatal(err)
			}
			if adminStage != "已完成" || !strings.Contains(record, "商家发货：顺丰速运 SF1234567890") || !strings.Contains(record, "买家确认收货") {
				t.Fatalf("the admin sees %q, record %q", adminStage, record)
			}
			oconsole.Check(t)
			bconsole.Check(t)
		})
	}
}
