package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alishop/alipay"
	"alishop/internal/browsertest"
)

// listsFit fails the test when an admin list (a .scroll box) is wider than
// its box, so that it would scroll sideways.
func listsFit(t *testing.T, what string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		wide, err := chromedp.Evaluate[[]string](`[...document.querySelectorAll(".scroll")]
			.filter(e => e.scrollWidth > e.clientWidth).map(e => (e.querySelector("table") || e).id + ": " + e.scrollWidth + " > " + e.clientWidth)`)(ctx, tg)
		if err != nil {
			return err
		}
		for _, w := range wide {
			t.Errorf("%s: the list %s px scrolls sideways", what, w)
		}
		return nil
	})
}

// adminTools walks the admin's tools on a phone (a tab of its own): every list
// fits the phone; the order list's counts and 今日成交, a search by order
// number, a date range, 全额退款 through its confirmation, deleting goods
// without orders, the shop settings shown in the footer and at /policy, and
// a password change that ends the other sessions; logging out says so. The
// order table then fits a desktop at 1280 px. paid was paid (369.00) and
// 100.00 of it refunded; unpaid is unpaid; goods 5 has no order.
func adminTools(t *testing.T, p *shopProcess, browser context.Context, paid, unpaid string) {
	other := p.login() // another session, ended by the password change
	ctx, console := browsertest.NewTab(t, browser, 390, 844, true)
	today := time.Now().In(alipay.Beijing).Format("2006-01-02")
	tomorrow := time.Now().In(alipay.Beijing).AddDate(0, 0, 1).Format("2006-01-02")
	var all, unpaidCount, partial, todayOrders, todayAmount string
	var rows int
	countRows := browsertest.Into(&rows, chromedp.Evaluate[int](`document.querySelectorAll("#orders tbody tr").length`))
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		fitsViewport(t, "the admin order list"),
		listsFit(t, "the admin order list"),
		browsertest.Into(&all, chromedp.Text(chromedp.CSS(`#status-filters a[data-status=""] .count`))),
		browsertest.Into(&unpaidCount, chromedp.Text(chromedp.CSS(`#status-filters a[data-status="unpaid"] .count`))),
		browsertest.Into(&partial, chromedp.Text(chromedp.CSS(`#status-filters a[data-status="partially_refunded"] .count`))),
		browsertest.Into(&todayOrders, chromedp.Text(chromedp.CSS(`#today-orders`))),
		browsertest.Into(&todayAmount, chromedp.Text(chromedp.CSS(`#today-amount`))),
	)
	if err != nil {
		t.Fatalf("admin order list: %v", err)
	}
	if all != "2" || unpaidCount != "1" || partial != "1" || todayOrders != "1" || todayAmount != "¥369.00" {
		t.Errorf("counts 全部 %s, 未支付 %s, 部分退款 %s; 今日成交 %s 笔 %s", all, unpaidCount, partial, todayOrders, todayAmount)
	}

	// Search by the start of an order number, then by dates.
	var found string
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#q`), unpaid[:30]),
		chromedp.Click(chromedp.CSS(`#search`)),
		chromedp.WaitVisible(chromedp.CSS(`#clear-search`)),
		countRows,
		browsertest.Into(&found, chromedp.Text(chromedp.CSS(`#orders tbody`))),
	)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if rows != 1 || !strings.Contains(found, unpaid) {
		t.Errorf("search for %s: %d rows: %q", unpaid[:30], rows, found)
	}
	var none string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#from`)),
		chromedp.SetValue(chromedp.CSS(`#from`), tomorrow),
		chromedp.Click(chromedp.CSS(`#search`)),
		chromedp.WaitVisible(chromedp.CSS(`#no-orders`)),
		browsertest.Into(&none, chromedp.Text(chromedp.CSS(`#no-orders`))),
		chromedp.SetValue(chromedp.CSS(`#from`), today),
		chromedp.SetValue(chromedp.CSS(`#to`), today),
		chromedp.Click(chromedp.CSS(`#search`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		countRows,
	)
	if err != nil {
		t.Fatalf("date filter: %v", err)
	}
	if !strings.Contains(none, "没有符合条件的订单") || rows != 2 {
		t.Errorf("from tomorrow: %q; today: %d rows", none, rows)
	}

	// 全额退款 from the order's card: the confirmation of the rest, then the refund.
	var confirmAmount, result, status string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS(`[data-full-refund="`+paid+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-full-refund="`+paid+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-refund`)),
		fitsViewport(t, "the 全额退款 confirmation"),
		browsertest.Into(&confirmAmount, chromedp.Text(chromedp.CSS(`#confirm-amount`))),
		chromedp.Click(chromedp.CSS(`#confirm-refund`)),
		chromedp.WaitVisible(chromedp.CSS(`#refund-result`)),
		browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#refund-result`))),
		browsertest.Into(&status, chromedp.Text(chromedp.CSS(`#status`))),
		listsFit(t, "the admin order page"),
	)
	if err != nil {
		t.Fatalf("全额退款: %v", err)
	}
	if confirmAmount != "¥269.00" || !strings.Contains(result, "退款成功") || status != "已退款" {
		t.Errorf("全额退款: confirmation %q, result %q, status %q", confirmAmount, result, status)
	}
	if tv := p.sandboxTrade(paid); tv.RefundFee.String() != "369.00" {
		t.Errorf("refunded at the sandbox: %s", tv.RefundFee)
	}

	// Goods without orders can be deleted from their card.
	var notice string
	var left int
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/goods"),
		chromedp.WaitVisible(chromedp.CSS(`#delete-5`)),
		listsFit(t, "the admin goods list"),
		chromedp.Click(chromedp.CSS(`#delete-5`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice`)),
		browsertest.Into(&notice, chromedp.Text(chromedp.CSS(`#notice`))),
		browsertest.Into(&left, chromedp.Evaluate[int](`document.querySelectorAll("#delete-1, #delete-3, tr[data-goods-id='5']").length`)),
	)
	if err != nil {
		t.Fatalf("deleting goods: %v", err)
	}
	if !strings.Contains(notice, "已删除") || left != 0 {
		t.Errorf("after deleting: %q; %d delete buttons of ordered goods or rows of the deleted one", notice, left)
	}

	// Settings: shown in the footer and at /policy.
	var footer, policy string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#contact`)),
		fitsViewport(t, "the settings page"),
		chromedp.SendKeys(chromedp.CSS(`#contact`), "电话 400-000-0000"),
		chromedp.SendKeys(chromedp.CSS(`#policy`), "收货七天内可无理由退货。"),
		chromedp.SendKeys(chromedp.CSS(`#icp`), "沪ICP备00000000号-1"),
		chromedp.Click(chromedp.CSS(`#save-settings`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice`)),
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#policy-link`)),
		browsertest.Into(&footer, chromedp.Text(chromedp.CSS(`footer`))),
		chromedp.Click(chromedp.CSS(`#policy-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#policy`)),
		browsertest.Into(&policy, chromedp.Text(chromedp.CSS(`main`))),
	)
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	if !strings.Contains(footer, "电话 400-000-0000") || !strings.Contains(footer, "沪ICP备00000000号-1") ||
		!strings.Contains(policy, "收货七天内可无理由退货。") {
		t.Errorf("footer %q, policy %q", footer, policy)
	}

	// The password change ends the other session and keeps this one.
	const newPassword = "浏览器里改的新密码 2026"
	var changed, out string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#change-password`)),
		chromedp.Click(chromedp.CSS(`#change-password`)),
		chromedp.WaitVisible(chromedp.CSS(`#old-password`)),
		fitsViewport(t, "the password page"),
		chromedp.SendKeys(chromedp.CSS(`#old-password`), p.password),
		chromedp.SendKeys(chromedp.CSS(`#new-password`), newPassword),
		chromedp.SendKeys(chromedp.CSS(`#confirm-password`), newPassword),
		chromedp.Click(chromedp.CSS(`#save-password`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice`)),
		browsertest.Into(&changed, chromedp.Text(chromedp.CSS(`#notice`))),
		chromedp.Navigate(p.base+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
	)
	if err != nil {
		t.Fatalf("password change: %v", err)
	}
	if !strings.Contains(changed, "密码已修改") {
		t.Errorf("after the change: %q", changed)
	}
	if resp, _ := p.do("GET", "/admin/orders", nil, map[string]string{"Cookie": other.String()}); resp.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Errorf("the other session after the change: %s", resp.Status)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#logout`)),
		chromedp.WaitVisible(chromedp.CSS(`#notice`)),
		browsertest.Into(&out, chromedp.Text(chromedp.CSS(`#notice`))),
	)
	if err != nil || !strings.Contains(out, "已退出登录") {
		t.Errorf("logout: %q %v", out, err)
	}
	console.Check(t)

	// A desktop: the order table fits 1280 px.
	desk, deskConsole := browsertest.NewTab(t, browser, 1280, 800, false)
	err = chromedp.Do(desk,
		chromedp.Navigate(p.base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), newPassword),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		fitsViewport(t, "the admin order list at 1280 px"),
		listsFit(t, "the admin order list at 1280 px"),
		chromedp.Navigate(p.base+"/admin/goods"),
		chromedp.WaitVisible(chromedp.CSS(`#admin-goods`)),
		listsFit(t, "the admin goods list at 1280 px"),
	)
	if err != nil {
		t.Fatalf("desktop: %v", err)
	}
	deskConsole.Check(t)
}
