package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
)

// alipayLogin logs the tab's browser in with 支付宝 from 我的订单, through the
// embedded sandbox's authorize page, and returns the masked account shown.
func alipayLogin(t *testing.T, ctx context.Context, base, buyer string) string {
	t.Helper()
	var shown string
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#alipay-login-link`)),
		chromedp.Click(chromedp.CSS(`#alipay-login-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SetValue(chromedp.CSS(`#login`), buyer),
		chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
		chromedp.Click(chromedp.CSS(`#pay`)),
		chromedp.WaitVisible(chromedp.CSS(`#buyer-id`)),
		browsertest.Into(&shown, chromedp.Text(chromedp.CSS(`#buyer-id`))),
	)
	if err != nil {
		t.Fatalf("支付宝登录 as %s: %v", buyer, err)
	}
	return strings.TrimSpace(shown)
}

// TestBrowserAlipayLogin (issue acceptance: 我的订单 on any device): one
// browser logs in with 支付宝, buys and pays; a second browser (its own
// profile: no cookies in common) sees nothing until it logs in with the
// same account, then 我的订单 shows the order. A third logged in with
// another account does not see it.
func TestBrowserAlipayLogin(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the 支付宝登录 browser test")
	p := startShop(t, t.TempDir())
	browser := testBrowser(t, exe)

	a, console := browsertest.NewTab(t, browser, 390, 844, true)
	if shown := alipayLogin(t, a, p.base, sandbox.DefaultBuyer); shown != "2088****6880" {
		t.Fatalf("logged in as %q", shown)
	}
	var orderNo, result, listed string
	err := chromedp.Do(a,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#buy-2`)),
		chromedp.Click(chromedp.CSS(`#buy-2`)),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		browsertest.Into(&orderNo, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
		chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
		chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
		chromedp.Click(chromedp.CSS(`#pay`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
		browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#result`))),
	)
	if err != nil {
		t.Fatalf("buying and paying: %v", err)
	}
	orderNo = strings.TrimSpace(orderNo)
	if result != "支付成功" {
		t.Fatalf("return page: %q", result)
	}
	if o := p.waitPaid(orderNo); o.Status != "paid" {
		t.Fatalf("order %s: %+v", orderNo, o)
	}
	console.Check(t)

	row := `li[data-out-trade-no="` + orderNo + `"]`
	b, console := browsertest.NewTab(t, browser, 1280, 800, false)
	var rows int
	err = chromedp.Do(b,
		chromedp.Navigate(p.base+"/orders"),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
		browsertest.Into(&rows, chromedp.Evaluate[int](`document.querySelectorAll("[data-out-trade-no]").length`)),
	)
	if err != nil || rows != 0 {
		t.Fatalf("the second browser before logging in: %d orders, %v", rows, err)
	}
	if shown := alipayLogin(t, b, p.base, sandbox.DefaultBuyer); shown != "2088****6880" {
		t.Fatalf("second browser logged in as %q", shown)
	}
	err = chromedp.Do(b,
		chromedp.WaitVisible(chromedp.CSS(row)),
		browsertest.Into(&listed, chromedp.Text(chromedp.CSS(row))),
		fitsViewport(t, "我的订单 logged in"),
	)
	if err != nil {
		t.Fatalf("the order in the second browser: %v", err)
	}
	// A paid course (virtual goods) is complete at once.
	if !strings.Contains(listed, "Django实战教程") || !(strings.Contains(listed, "已完成") || strings.Contains(listed, "已支付")) {
		t.Errorf("我的订单 row in the second browser: %q", listed)
	}
	console.Check(t)

	c, _ := browsertest.NewTab(t, browser, 1280, 800, false)
	alipayLogin(t, c, p.base, sandbox.PoorBuyer)
	err = chromedp.Do(c,
		chromedp.Navigate(p.base+"/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#buyer-id`)),
		browsertest.Into(&rows, chromedp.Evaluate[int](`document.querySelectorAll("[data-out-trade-no]").length`)),
	)
	if err != nil || rows != 0 {
		t.Fatalf("another account sees %d orders: %v", rows, err)
	}
}
