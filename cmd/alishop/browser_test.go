package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"alishop/internal/browsertest"
)

// TestBrowserBuyerAndAdmin: in headless chromium, a buyer
// clicks 购买, logs in at the sandbox cashier, pays, comes back to 支付成功;
// then the admin logs in, sees the order 已完成 (a course: virtual goods), adds a goods item and finds
// it on the goods page.
func TestBrowserBuyerAndAdmin(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the browser test")
	p := startShop(t, t.TempDir())
	if p.password == "" {
		t.Fatalf("no admin password printed: %q", p.stdout)
	}

	ctx, console := browsertest.NewTab(t, testBrowser(t, exe), 1024, 800, false)

	var result, status, orderNo string
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#buy-1`)),
		chromedp.Click(chromedp.CSS(`#buy-1`)),
		// The sandbox cashier.
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		browsertest.Into(&orderNo, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
		chromedp.SetValue(chromedp.CSS(`#login`), "buyer@sandbox.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "111111"),
		chromedp.Click(chromedp.CSS(`#pay`)),
		// Back at the shop's return page.
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
		browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#result`))),
		browsertest.Into(&status, chromedp.Text(chromedp.CSS(`#status`))),
	)
	if err != nil {
		t.Fatalf("buyer path: %v; stderr:\n%s", err, p.stderr)
	}
	orderNo = strings.TrimSpace(orderNo)
	if result != "支付成功" || status != "已支付" || orderNo == "" {
		t.Fatalf("return page says %q / %q for order %q", result, status, orderNo)
	}

	var loginURL, orders string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		browsertest.Into(&loginURL, chromedp.Location()),
		chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		browsertest.Into(&orders, chromedp.Text(chromedp.CSS(`tr[data-out-trade-no="`+orderNo+`"]`))),
	)
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	if !strings.Contains(loginURL, "/admin/login") {
		t.Errorf("/admin/orders did not go to the login page but %s", loginURL)
	}
	// A course is virtual goods: paid, it is complete.
	if !strings.Contains(orders, "已完成") || !strings.Contains(orders, "369.00") || !strings.Contains(orders, "Python全栈开发课程") {
		t.Fatalf("admin order row: %q", orders)
	}

	var goods string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/goods"),
		chromedp.Click(chromedp.CSS(`#new-goods`)),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "浏览器测试商品"),
		chromedp.SendKeys(chromedp.CSS(`#price`), "12.34"),
		chromedp.Click(chromedp.CSS(`#save`)),
		chromedp.WaitVisible(chromedp.CSS(`#admin-goods`)),
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#goods`)),
		browsertest.Into(&goods, chromedp.Text(chromedp.CSS(`#goods`))),
	)
	if err != nil {
		t.Fatalf("adding goods: %v", err)
	}
	if !strings.Contains(goods, "浏览器测试商品") || !strings.Contains(goods, "12.34") {
		t.Fatalf("goods page after adding: %q", goods)
	}
	console.Check(t)
}

// sharedBrowser is the one headless chromium the browser tests of this run share
// (each opens its own tabs with browsertest.NewTab); TestMain stops it.
var sharedBrowser struct {
	once sync.Once
	ctx  context.Context
	stop func()
	err  error
}

// testBrowser returns the shared browser, starting it on first use.
func testBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	sharedBrowser.once.Do(func() { sharedBrowser.ctx, sharedBrowser.stop, sharedBrowser.err = browsertest.Shared(exe, 1280, 800) })
	if sharedBrowser.err != nil {
		t.Fatalf("starting chromium: %v", sharedBrowser.err)
	}
	return sharedBrowser.ctx
}

func stopTestBrowser() {
	if sharedBrowser.stop != nil {
		sharedBrowser.stop()
	}
}
