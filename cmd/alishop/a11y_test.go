package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
)

// axeVersion is the axe-core the accessibility test installs from npm.
const axeVersion = "axe-core@4.14.1"

// installAxe installs axe-core into a temporary directory and returns its
// script. Without npm, or with npm unable to reach the registry, the test
// fails under CI=true and is skipped elsewhere.
func installAxe(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		needTool(t, "the accessibility test needs npm: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", "--prefix", dir, axeVersion)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		needTool(t, "npm install %s: %v\n%s", axeVersion, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// axeViolation is one rule axe-core found broken on a page, with the
// elements that break it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs axe-core (script) on the page in the tab, with its default
// rules (WCAG 2 A and AA, best practices), and returns the violations.
func axeRun(script string, out *[]axeViolation) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.Evaluate[bool](`(() => { if (!window.axe) { `+script+`
} return true })()`)(ctx, tg); err != nil {
			return fmt.Errorf("injecting axe-core: %w", err)
		}
		v, err := chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
			id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " "))})))`, chromedp.EvalAwaitPromise)(ctx, tg)
		*out = v
		return err
	})
}

// smallTargets lists the visible links, buttons and fields of the page
// less than 44 px high (the skip link shows only when focused; a checkbox
// is measured by its label, which toggles it too).
const smallTargets = `[...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea")]
	.filter(e => !e.classList.contains("skip") && e.getClientRects().length > 0)
	.map(e => (e.type === "checkbox" || e.type === "radio") && e.closest("label") || e)
	.filter(e => e.getBoundingClientRect().height < 44)
	.map(e => e.outerHTML.slice(0, 120) + " (" + Math.round(e.getBoundingClientRect().height) + " px)")`

// TestAccessibility: axe-core, injected with chromedp into every page of
// the shop a buyer or the owner sees (the storefront, the sandbox's
// cashier, the return page, 我的订单, the order page, the admin's lists,
// forms and settings, an error page), finds no critical and no serious
// violation, on a phone (390×844) and on a desktop (1280×800). Every
// violation found, of any impact, is printed.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the accessibility test")
	axe := installAxe(t)
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	// A paid order with a partial refund, so the admin order page shows
	// its refund list, and the shop's profile filled in for the footer.
	paid, gw := p.buy("1")
	p.openCashier(gw)
	p.pay(paid)
	if o := p.waitPaid(paid); o.Status != "paid" {
		t.Fatalf("order %s: %+v", paid, o)
	}
	admin := map[string]string{"Cookie": p.login().String(), "Origin": p.base}
	if resp, body := p.refund(paid, "1.00", "测试退款", admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: %s %s", resp.Status, body)
	}
	// A payout (转账补偿) to the buyer, so the admin order page lists one.
	if resp, body := p.payout(paid, "1.00", admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("payout: %s %s", resp.Status, body)
	}
	profile := url.Values{"name": {"青禾小铺"}, "contact": {"微信 qinghe-shop（9:00–21:00）"}, "policy": {"七天无理由退货。"}, "icp": {"京ICP备12345678号-1"}}
	if resp, body := p.do("POST", "/admin/settings", profile, admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("settings: %s %s", resp.Status, body)
	}
	// An order of shipped goods, paid, for the order page with its
	// address (after a lookup) and the admin's ship form.
	shipped := p.paidShippedOrder(p.addShippedGoods(admin, "蓝牙音箱", "199.00"))
	// Shipped goods with a stock, for the goods page and 确认订单's form.
	shippedGoods := p.addGoods(url.Values{"name": {"手冲咖啡壶"}, "price": {"129.00"}, "stock": {"8"}, "shipping": {"1"},
		"description": {"600 毫升，细嘴，不锈钢。"}}, admin)
	browser := testBrowser(t, exe)

	for _, size := range []struct {
		name          string
		width, height int64
		phone         bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}} {
		t.Run(size.name, func(t *testing.T) {
			t.Parallel()
			ctx, console := browsertest.NewTab(t, browser, size.width, size.height, size.phone)
			console.ExpectStatus(p.base+"/no/such/page", p.base+"/orders")
			// tryCheck checks the page in the tab; an error means it could
			// not run (e.g. the page refreshed itself meanwhile).
			// allowed names axe rules a page breaks on purpose, with the
			// reason in the page's check below; they are logged only.
			tryCheck := func(name string, allowed ...string) error {
				t.Helper()
				var vs []axeViolation
				var loc string
				var small []string
				var h1s int
				if err := chromedp.Do(ctx, browsertest.Into(&loc, chromedp.Location()), axeRun(axe, &vs),
					browsertest.Into(&h1s, chromedp.Evaluate[int](`document.querySelectorAll("h1").length`)),
					browsertest.Into(&small, chromedp.Evaluate[[]string](smallTargets))); err != nil {
					return err
				}
				loc, _, _ = strings.Cut(loc, "?")
				if h1s != 1 {
					t.Errorf("%s (%s): %d h1 elements, want 1", name, loc, h1s)
				}
				if size.phone {
					for _, s := range small {
						t.Errorf("%s (%s): tap target under 44 px: %s", name, loc, s)
					}
				}
				bad := 0
				for _, v := range vs {
					if (v.Impact == "critical" || v.Impact == "serious") && !slices.Contains(allowed, v.ID) {
						bad++
						t.Errorf("%s (%s): %s %s: %s", name, loc, v.Impact, v.ID, v.Help)
					} else {
						t.Logf("%s (%s): %s %s: %s", name, loc, v.Impact, v.ID, v.Help)
					}
					for _, n := range v.Nodes {
						t.Logf("    %s", n)
					}
				}
				t.Logf("%s: %d violations, %d critical or serious", name, len(vs), bad)
				return nil
			}
			check := func(name string) {
				t.Helper()
				if err := tryCheck(name); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			visit := func(name, path string, wait string) {
				t.Helper()
				if err := chromedp.Do(ctx, chromedp.Navigate(p.base+path), chromedp.WaitVisible(chromedp.CSS(wait))); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				check(name)
			}

			// The buyer: home, the cashier, the return page, 我的订单, the
			// order page.
			visit("home", "/", `#buy-2`)
			// Each 立即购买 is named with its goods: its label is the button
			// and the goods' name (aria-labelledby).
			var names []string
			if err := chromedp.Do(ctx, browsertest.Into(&names, chromedp.Evaluate[[]string](`[...document.querySelectorAll("button[id^=buy-]")]
				.map(b => (b.getAttribute("aria-labelledby") || b.id).split(" ").map(id => document.getElementById(id).textContent.trim()).join(" "))`))); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, n := range names {
				if !strings.HasPrefix(n, "立即购买 ") || seen[n] {
					t.Errorf("a buy button named %q (all: %q)", n, names)
				}
				seen[n] = true
			}
			if len(names) < 2 {
				t.Errorf("buy buttons: %q", names)
			}
			visit("goods page (shipped)", "/goods/"+shippedGoods, `#buy`)
			visit("确认订单 (shipped)", "/checkout?goods_id="+shippedGoods+"&quantity=2", `#checkout`)
			// Submitted empty: the page again, a message at each field.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#submit-order`)), chromedp.WaitVisible(chromedp.CSS(`#phone-error`))); err != nil {
				t.Fatalf("确认订单 submitted empty: %v", err)
			}
			check("确认订单 with messages")
			for _, page := range []struct{ name, path, wait string }{
				{"goods page", "/goods/2", `main h1`},
				{"确认订单", "/checkout?goods_id=2", `main h1`},
				{"order lookup", "/orders/lookup", `main h1`},
			} {
				// Pages of the fulfilment work are checked once they exist.
				if resp, _ := p.do("GET", page.path, nil, nil); resp.StatusCode == http.StatusOK {
					visit(page.name, page.path, page.wait)
				} else {
					t.Logf("%s (%s): %s, not checked", page.name, page.path, resp.Status)
				}
			}
			var orderNo string
			if err := chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/"),
				chromedp.WaitVisible(chromedp.CSS(`#buy-2`)),
				chromedp.Click(chromedp.CSS(`#buy-2`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
				browsertest.Into(&orderNo, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
			); err != nil {
				t.Fatalf("buying: %v", err)
			}
			check("cashier")
			if err := chromedp.Do(ctx,
				chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
				chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
				chromedp.Click(chromedp.CSS(`#pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#result`)),
			); err != nil {
				t.Fatalf("paying: %v", err)
			}
			check("return page")
			visit("我的订单", "/orders", `#my-orders-list`)
			// 支付宝登录: the sandbox's authorize page, then 我的订单 logged in.
			if err := chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`#alipay-login-link`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
			); err != nil {
				t.Fatalf("支付宝登录: %v", err)
			}
			check("支付宝登录 authorize page")
			if err := chromedp.Do(ctx,
				chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
				chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
				chromedp.Click(chromedp.CSS(`#pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#buyer-id`)),
			); err != nil {
				t.Fatalf("支付宝登录 consent: %v", err)
			}
			check("我的订单 logged in")
			visit("order page", "/orders/"+strings.TrimSpace(orderNo), `#order`)
			if err := chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/orders/lookup?out_trade_no="+shipped),
				chromedp.WaitVisible(chromedp.CSS(`#phone`)),
				chromedp.SendKeys(chromedp.CSS(`#phone`), fulfilPhone),
				chromedp.Click(chromedp.CSS(`#lookup-submit`)),
				chromedp.WaitVisible(chromedp.CSS(`#receiver`)),
			); err != nil {
				t.Fatalf("looking up the shipped order: %v", err)
			}
			check("order page with address")
			visit("policy", "/policy", `#policy`)
			visit("error page", "/no/such/page", `#error-heading`)

			// The owner.
			if err := chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/admin/login"),
				chromedp.WaitVisible(chromedp.CSS(`#password`)),
			); err != nil {
				t.Fatal(err)
			}
			check("admin login")
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
				chromedp.Click(chromedp.CSS(`#login`)),
				chromedp.WaitVisible(chromedp.CSS(`#orders`)),
			); err != nil {
				t.Fatalf("admin login: %v", err)
			}
			check("admin orders")
			visit("admin order", "/admin/orders/"+paid, `#full-refund`)
			// Step 1 of a payout: its confirmation page.
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS(`#payout-amount`), "1.00"),
				chromedp.SendKeys(chromedp.CSS(`#payee`), sandbox.DefaultBuyer),
				chromedp.SendKeys(chromedp.CSS(`#payee-name`), sandbox.DefaultBuyerName),
				chromedp.Click(chromedp.CSS(`#payout`)),
				chromedp.WaitVisible(chromedp.CSS(`#confirm-payout`)),
			); err != nil {
				t.Fatalf("payout step 1: %v", err)
			}
			check("admin payout confirm")
			visit("admin order to ship", "/admin/orders/"+shipped, `#ship`)
			visit("admin goods", "/admin/goods", `#admin-goods`)
			visit("admin goods form", "/admin/goods/1/edit", `#save`)
			visit("admin bills", "/admin/bills", `main h1`)
			visit("settings", "/admin/settings", `#save-settings`)
			visit("password", "/admin/password", `#save-password`)
			console.Check(t)

			// The counter's pages in a tab of their own (each tab's pages
			// have two minutes), logged in again.
			ctx, console = browsertest.NewTab(t, browser, size.width, size.height, size.phone)
			if err := chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/admin/login"),
				chromedp.WaitVisible(chromedp.CSS(`#password`)),
				chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
				chromedp.Click(chromedp.CSS(`#login`)),
				chromedp.WaitVisible(chromedp.CSS(`#orders`)),
			); err != nil {
				t.Fatalf("admin login: %v", err)
			}
			// 当面付收款: the form, 收款成功, the page waiting for the buyer
			// (it refreshes itself every few seconds, so a check cut short
			// by a refresh is made again on the fresh page), 收款未成功.
			visit("当面付收款", "/admin/pos", `#auth_code`)
			charge := func(amount string) {
				t.Helper()
				resp, body := p.do("POST", "/sandbox/api/paycodes", url.Values{"buyer": {sandbox.DefaultBuyer}}, nil)
				var pc sandbox.PayCode
				if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &pc) != nil {
					t.Fatalf("pay code: %s %s", resp.Status, body)
				}
				if err := chromedp.Do(ctx,
					chromedp.Navigate(p.base+"/admin/pos"),
					chromedp.WaitVisible(chromedp.CSS(`#auth_code`)),
					chromedp.SendKeys(chromedp.CSS(`#amount`), amount),
					chromedp.SendKeys(chromedp.CSS(`#auth_code`), pc.AuthCode),
					chromedp.Click(chromedp.CSS(`#charge`)),
					chromedp.WaitVisible(chromedp.CSS(`#pos-result`)),
				); err != nil {
					t.Fatalf("当面付 %s: %v", amount, err)
				}
			}
			charge("12.00")
			check("当面付 收款成功")
			charge("2500.00")
			var waitURL string
			if err := chromedp.Do(ctx, browsertest.Into(&waitURL, chromedp.Evaluate[string](`location.href`))); err != nil {
				t.Fatal(err)
			}
			for attempt := 1; ; attempt++ {
				// The page refreshes itself (<meta http-equiv="refresh">),
				// which the issue asks for: the owner watches it for the
				// buyer's confirmation, a real-time event of at most
				// --pos-wait, and 停止自动刷新 turns the refresh off (WCAG
				// 2.2.1); axe's meta-refresh rule is allowed here, and the
				// page without the refresh is checked in full below.
				err := chromedp.Do(ctx, chromedp.Navigate(waitURL), chromedp.WaitVisible(chromedp.CSS(`#pos-result[data-state="waiting"]`)))
				if err == nil {
					err = tryCheck("当面付 等待顾客确认", "meta-refresh")
				}
				if err == nil {
					break
				}
				if attempt == 3 {
					t.Fatalf("当面付 等待顾客确认: %v", err)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(waitURL), chromedp.WaitVisible(chromedp.CSS(`#stop-refresh`)),
				chromedp.Click(chromedp.CSS(`#stop-refresh`)), chromedp.WaitVisible(chromedp.CSS(`#start-refresh`))); err != nil {
				t.Fatalf("当面付 停止自动刷新: %v", err)
			}
			check("当面付 等待顾客确认，不自动刷新")
			if err := chromedp.Do(ctx, chromedp.Navigate(waitURL), chromedp.WaitVisible(chromedp.CSS(`#cancel`)),
				chromedp.Click(chromedp.CSS(`#cancel`)), chromedp.WaitVisible(chromedp.CSS(`#pos-result[data-state="closed"]`))); err != nil {
				t.Fatalf("当面付 撤销: %v", err)
			}
			check("当面付 收款未成功")
			console.Check(t)
		})
	}
}
