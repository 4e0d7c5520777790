package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"alishop/internal/browsertest"
)

// actionsReachable fails the test when a link, button or field of the
// page is hidden or lies partly outside the viewport's width (on a phone:
// an action that cannot be reached without scrolling sideways). Fields
// marked hidden (the password page's username for password managers) are
// not actions.
func actionsReachable(t *testing.T, what string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		bad, err := chromedp.Evaluate[[]string](`(() => {
			const W = window.innerWidth, bad = [];
			for (const e of document.querySelectorAll("header a[href], header button, main a[href], main button, main input:not([type=hidden]):not([hidden]), main select, main textarea, footer a[href]")) {
				const name = e.id || e.getAttribute("name") || e.textContent.trim().slice(0, 24);
				const r = e.getBoundingClientRect();
				if (getComputedStyle(e).visibility === "hidden" || (r.width === 0 && r.height === 0)) {
					bad.push("hidden: " + name);
				} else if (r.left < -0.5 || r.right > W + 0.5) {
					bad.push("outside the width (" + Math.round(r.left) + "–" + Math.round(r.right) + " of " + W + "): " + name);
				}
			}
			return bad;
		})()`)(ctx, tg)
		if err != nil {
			return err
		}
		for _, b := range bad {
			t.Errorf("%s: %s", what, b)
		}
		return nil
	})
}

// TestBrowserLayout: every shop page and every admin page, at 390×844 (a
// phone) and 1280×800, is no wider than the viewport, no admin list
// scrolls sideways, and every link, button and field is shown within the
// viewport's width, so each admin action is reachable on the phone. The
// pages carry a paid (partly refunded) order and an unpaid one.
func TestBrowserLayout(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the layout test")
	p := startShop(t, t.TempDir())
	paid, gw := p.buy("1")
	p.openCashier(gw)
	p.pay(paid)
	if o := p.waitPaid(paid); o.Status != "paid" {
		t.Fatalf("order %s: %+v", paid, o)
	}
	unpaid, _ := p.buy("3")
	session := p.login()
	if resp, body := p.refund(paid, "1.00", "测试", map[string]string{"Cookie": session.String(), "Origin": p.base}); resp.StatusCode >= 400 {
		t.Fatalf("refund: %s %s", resp.Status, body)
	}
	shopPages := []string{"/", "/orders", "/orders/" + paid, "/orders/" + unpaid, "/orders/lookup", "/policy", "/no/such/page",
		"/goods/2", "/checkout?goods_id=2&quantity=2"}
	adminPages := []string{"/admin/orders", "/admin/orders?status=paid", "/admin/orders?q=" + paid[:20], "/admin/orders/" + paid,
		"/admin/orders/" + unpaid, "/admin/goods", "/admin/goods/new", "/admin/goods/1/edit", "/admin/bills", "/admin/settings",
		"/admin/password", "/admin/pos"}
	browser := testBrowser(t, exe)
	for _, size := range []struct {
		w, h  int64
		phone bool
	}{{390, 844, true}, {1280, 800, false}} {
		ctx, console := browsertest.NewTab(t, browser, size.w, size.h, size.phone)
		console.ExpectStatus(p.base + "/no/such/page")
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: session.Name, Value: session.Value, URL: p.base + "/"})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range append(shopPages, adminPages...) {
			what := page + " at " + strconv.FormatInt(size.w, 10) + " px"
			actions := []chromedp.Action[chromedp.Void]{
				chromedp.Navigate(p.base + page),
				chromedp.WaitVisible(chromedp.CSS(`footer`)),
				fitsViewport(t, what),
				actionsReachable(t, what),
			}
			if strings.HasPrefix(page, "/admin/") {
				actions = append(actions, listsFit(t, what))
			}
			if err := chromedp.Do(ctx, actions...); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		console.Check(t)
	}
}
