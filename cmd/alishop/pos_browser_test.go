package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
)

// sandboxBalance is the embedded sandbox's balance of buyer.
func (p *shopProcess) sandboxBalance(buyer string) alipay.Amount {
	p.t.Helper()
	resp, body := p.do("GET", "/sandbox/api/accounts", nil, nil)
	var v struct {
		Accounts []struct {
			Login   string        `json:"login"`
			Balance alipay.Amount `json:"balance"`
		} `json:"accounts"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &v) != nil {
		p.t.Fatalf("sandbox accounts: %s %s", resp.Status, body)
	}
	for _, a := range v.Accounts {
		if a.Login == buyer {
			return a.Balance
		}
	}
	p.t.Fatalf("sandbox has no buyer %s", buyer)
	return 0
}

// TestBrowserCounterPOS: 当面付收款 at the counter in headless chromium, the
// counter at 1280×800 and at 390×844, the buyer's wallet (the sandbox's, in
// a browser profile of its own) on a phone. The buyer shows a 付款码 in
// the wallet and the owner types it into 当面付收款: ¥12.00 is paid at once
// (收款成功); ¥2,500 is above the no-password limit and waits on a page that
// refreshes itself until the buyer confirms in the wallet, then says
// 收款成功 by itself; the same form posted twice at once charges once. The
// buyer's balance goes down by exactly what was charged, the orders are in
// the admin list as 当面付, and no page overflows or logs an error.
func TestBrowserCounterPOS(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the counter browser test")
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	browser := testBrowser(t, exe)
	made := 0
	for _, vp := range []struct {
		w, h  int64
		phone bool
	}{{1280, 800, false}, {390, 844, true}} {
		width := strconv.FormatInt(vp.w, 10)
		shot := func(name string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := fitsViewport(t, name+" at "+width+" px")(ctx, tg); err != nil {
					return err
				}
				if *screenshotDir == "" {
					return nil
				}
				b, err := chromedp.CaptureScreenshot()(ctx, tg)
				if err != nil {
					return err
				}
				return writeScreenshot(t, filepath.Join(*screenshotDir, name+"-"+width+".png"), b)
			})
		}
		counter, console := browsertest.NewTab(t, browser, vp.w, vp.h, vp.phone)
		wallet, walletConsole := browsertest.NewTab(t, browser, 390, 844, true)
		err := chromedp.Do(counter,
			chromedp.Navigate(p.base+"/admin/login?next=/admin/pos"),
			chromedp.WaitVisible(chromedp.CSS(`#password`)),
			chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
			chromedp.Click(chromedp.CSS(`#login`)),
			chromedp.WaitVisible(chromedp.CSS(`#auth_code`)),
		)
		if err != nil {
			t.Fatalf("admin login: %v", err)
		}
		err = chromedp.Do(wallet,
			chromedp.Navigate(p.base+"/sandbox/wallet"),
			chromedp.WaitVisible(chromedp.CSS(`#signin`)),
			chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
			chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
			chromedp.Click(chromedp.CSS(`#signin`)),
			chromedp.WaitVisible(chromedp.CSS(`#paycode-barcode`)),
		)
		if err != nil {
			t.Fatalf("wallet sign-in: %v", err)
		}
		// payCode is the code the wallet shows now (each view a new one).
		payCode := func() string {
			var code string
			if err := chromedp.Do(wallet,
				chromedp.Navigate(p.base+"/sandbox/wallet"),
				chromedp.WaitVisible(chromedp.CSS(`#paycode-barcode`)),
				browsertest.Into(&code, chromedp.Text(chromedp.CSS(`#paycode`))),
			); err != nil {
				t.Fatalf("wallet: %v", err)
			}
			return strings.Join(strings.Fields(code), "")
		}
		// fill types an amount and a code into 当面付收款, as a scanner does.
		fill := func(amount, subject, code string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				return chromedp.Do(ctx,
					chromedp.Navigate(p.base+"/admin/pos"),
					chromedp.WaitVisible(chromedp.CSS(`#auth_code`)),
					chromedp.SendKeys(chromedp.CSS(`#amount`), amount),
					chromedp.SendKeys(chromedp.CSS(`#subject`), subject),
					chromedp.SendKeys(chromedp.CSS(`#auth_code`), code),
				)
			})
		}
		before := p.sandboxBalance(sandbox.DefaultBuyer)

		// ¥12.00: within the no-password limit, paid at once.
		var heading, paidAmount, state string
		err = chromedp.Do(counter,
			fill("12.00", "一杯咖啡", payCode()),
			shot("admin-pos"),
			chromedp.Click(chromedp.CSS(`#charge`)),
			chromedp.WaitVisible(chromedp.CSS(`#pos-result`)),
			browsertest.Into(&heading, chromedp.Text(chromedp.CSS(`#result`))),
			browsertest.Into(&paidAmount, chromedp.Text(chromedp.CSS(`#paid-amount`))),
			shot("admin-pos-paid"),
		)
		if err != nil {
			t.Fatalf("¥12.00: %v", err)
		}
		if heading != "收款成功" || paidAmount != "¥12.00" {
			t.Errorf("¥12.00 at %s px: %q %q; want 收款成功 ¥12.00", width, heading, paidAmount)
		}

		// ¥2,500: above the limit; the page waits and refreshes itself.
		var waitURL string
		err = chromedp.Do(counter,
			fill("2500.00", "一箱咖啡豆", payCode()),
			chromedp.Click(chromedp.CSS(`#charge`)),
			chromedp.WaitVisible(chromedp.CSS(`#pos-result[data-state="waiting"]`)),
			browsertest.Into(&heading, chromedp.Text(chromedp.CSS(`#result`))),
			browsertest.Into(&waitURL, chromedp.Evaluate[string](`location.href`)),
			shot("admin-pos-waiting"),
		)
		if err != nil {
			t.Fatalf("¥2,500: %v", err)
		}
		if heading != "等待顾客在支付宝中确认" {
			t.Errorf("¥2,500 at %s px: %q; want 等待顾客在支付宝中确认", width, heading)
		}
		waitNo := waitURL[strings.LastIndex(waitURL, "/")+1:]
		if tv := p.sandboxTrade(waitNo); tv.TradeStatus != "WAIT_BUYER_PAY" {
			t.Fatalf("¥2,500 trade: %s; want WAIT_BUYER_PAY", tv.TradeStatus)
		}
		// The buyer confirms in the wallet; the counter page, left alone,
		// refreshes into 收款成功.
		err = chromedp.Do(wallet,
			chromedp.Navigate(p.base+"/sandbox/wallet"),
			chromedp.WaitVisible(chromedp.CSS(`a.confirm`)),
			chromedp.Click(chromedp.CSS(`a.confirm`)),
			chromedp.WaitVisible(chromedp.CSS(`#password`)),
			chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
			chromedp.Click(chromedp.CSS(`#pay`)),
			chromedp.WaitVisible(chromedp.CSS(`#result`)),
		)
		if err != nil {
			t.Fatalf("confirming in the wallet: %v", err)
		}
		err = chromedp.Do(counter,
			chromedp.WaitVisible(chromedp.CSS(`#pos-result[data-state="paid"]`)),
			browsertest.Into(&heading, chromedp.Text(chromedp.CSS(`#result`))),
			browsertest.Into(&paidAmount, chromedp.Text(chromedp.CSS(`#paid-amount`))),
			shot("admin-pos-confirmed"),
		)
		if err != nil {
			t.Fatalf("¥2,500 after the buyer confirmed: %v", err)
		}
		if heading != "收款成功" || paidAmount != "¥2500.00" {
			t.Errorf("¥2,500 confirmed at %s px: %q %q", width, heading, paidAmount)
		}

		// A double submit: the same form (one one-time key) posted twice at once.
		var urls []string
		err = chromedp.Do(counter,
			fill("5.00", "双击", payCode()),
			browsertest.Into(&urls, chromedp.Evaluate[[]string](`(() => {
				const body = new URLSearchParams(new FormData(document.getElementById("pos-form")));
				return Promise.all([0, 1].map(() => fetch("/admin/pos", {method: "POST", body: body}).then(r => r.url)));
			})()`, chromedp.EvalAwaitPromise)),
		)
		if err != nil {
			t.Fatalf("double submit: %v", err)
		}
		repeats, nos := 0, map[string]bool{}
		for _, u := range urls {
			path, query, _ := strings.Cut(u, "?")
			nos[path[strings.LastIndex(path, "/")+1:]] = true
			if query == "repeat=1" {
				repeats++
			}
		}
		if len(urls) != 2 || len(nos) != 1 || repeats != 1 {
			t.Fatalf("double submit at %s px answered %q; want one order, once as a repeat", width, urls)
		}
		var doubleNo string
		for no := range nos {
			doubleNo = no
		}
		err = chromedp.Do(counter,
			chromedp.Navigate(p.base+"/admin/pos/"+doubleNo+"?repeat=1"),
			chromedp.WaitVisible(chromedp.CSS(`#repeat`)),
			browsertest.Into(&state, chromedp.Evaluate[string](`document.getElementById("pos-result").dataset.state`)),
			shot("admin-pos-repeat"),
		)
		if err != nil || state != "paid" {
			t.Fatalf("double submit page: %q %v", state, err)
		}
		made += 3
		if after := p.sandboxBalance(sandbox.DefaultBuyer); before-after != alipay.MustAmount("2517.00") {
			t.Errorf("at %s px the buyer paid %s; want 2517.00 (12.00 + 2500.00 + 5.00 once)", width, before-after)
		}

		// The admin list: every counter order, labelled 当面付.
		var labelled int
		err = chromedp.Do(counter,
			chromedp.Navigate(p.base+"/admin/orders"),
			chromedp.WaitVisible(chromedp.CSS(`#orders`)),
			browsertest.Into(&labelled, chromedp.Evaluate[int](`document.querySelectorAll('#orders [data-channel="pos"]').length`)),
			listsFit(t, "the admin order list with counter orders"),
			shot("admin-orders-pos"),
		)
		if err != nil {
			t.Fatal(err)
		}
		if labelled != made {
			t.Errorf("order list at %s px: %d orders labelled 当面付, want %d", width, labelled, made)
		}
		console.Check(t)
		walletConsole.Check(t)
	}
}
