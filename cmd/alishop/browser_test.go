package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium; without it the browser test fails in
// CI (where scripts/test.sh installs it) and is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; the browser test needs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed; skipping the browser test (apt-get install -y chromium)")
	return ""
}

// TestBrowserBuyerAndAdmin: in headless chromium, a buyer
// clicks 购买, logs in at the sandbox cashier, pays, comes back to 支付成功;
// then the admin logs in, sees the order 已支付, adds a goods item and finds
// it on the goods page.
func TestBrowserBuyerAndAdmin(t *testing.T) {
	exe := chromium(t)
	p := startShop(t, t.TempDir())
	if p.password == "" {
		t.Fatalf("no admin password printed: %q", p.stdout)
	}

	ctx, console := newTab(t, newBrowser(t, exe), 1024, 800, false)

	var result, status, orderNo string
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#buy-1`)),
		chromedp.Click(chromedp.CSS(`#buy-1`)),
		// The sandbox cashier.
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		into(&orderNo, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
		chromedp.SetValue(chromedp.CSS(`#login`), "buyer@sandbox.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "111111"),
		chromedp.Click(chromedp.CSS(`#pay`)),
		// Back at the shop's return page.
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
		into(&result, chromedp.Text(chromedp.CSS(`#result`))),
		into(&status, chromedp.Text(chromedp.CSS(`#status`))),
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
		into(&loginURL, chromedp.Location()),
		chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		into(&orders, chromedp.Text(chromedp.CSS(`tr[data-out-trade-no="`+orderNo+`"]`))),
	)
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	if !strings.Contains(loginURL, "/admin/login") {
		t.Errorf("/admin/orders did not go to the login page but %s", loginURL)
	}
	if !strings.Contains(orders, "已支付") || !strings.Contains(orders, "369.00") || !strings.Contains(orders, "Python全栈开发课程") {
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
		into(&goods, chromedp.Text(chromedp.CSS(`#goods`))),
	)
	if err != nil {
		t.Fatalf("adding goods: %v", err)
	}
	if !strings.Contains(goods, "浏览器测试商品") || !strings.Contains(goods, "12.34") {
		t.Fatalf("goods page after adding: %q", goods)
	}
	console.check(t)
}

// into runs a and stores its value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// newBrowser starts one headless chromium for a test and returns the
// context of its first tab; tabs (newTab) share the browser.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	// The first context starts the browser; tabs open in contexts of their own.
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// phoneUA is a phone browser's User-Agent (Chrome on Android).
const phoneUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"

// newTab opens a tab of width×height CSS pixels in a browser context of
// its own (its own cookies: a separate browser profile), as a phone
// (mobile viewport, touch, phone User-Agent) or a desktop, and records
// every console error, uncaught exception and error log entry (CSP
// violations, failed loads) of its pages.
func newTab(t *testing.T, actx context.Context, width, height int64, phone bool) (context.Context, *consoleLog) {
	t.Helper()
	c := &consoleLog{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				c.add("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			c.add("exception: " + ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning && ev.Entry.Source == log.EntrySourceSecurity {
				if ev.Entry.Source == log.EntrySourceNetwork && c.expected(ev.Entry.URL) {
					return
				}
				c.add(fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}))
	t.Cleanup(cancel)
	// Bounds a broken run; a healthy one takes a few seconds.
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelT)
	vp := chromedp.EmulateViewport(width, height)
	if phone {
		vp = chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	actions := []chromedp.Action[chromedp.Void]{vp}
	if phone {
		actions = append(actions, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: phoneUA})
			return err
		}))
	}
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx, c
}

// consoleLog collects what a tab's pages reported as errors.
type consoleLog struct {
	mu     sync.Mutex
	errs   []string
	expect map[string]bool
}

// expectStatus declares that the page at url answers with an error status
// on purpose (an error page, a refused form): the browser's note that the
// document itself failed to load is not an error of the page.
func (c *consoleLog) expectStatus(urls ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expect == nil {
		c.expect = map[string]bool{}
	}
	for _, u := range urls {
		c.expect[u] = true
	}
}

func (c *consoleLog) expected(url string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expect[url]
}

func (c *consoleLog) add(s string) {
	c.mu.Lock()
	c.errs = append(c.errs, s)
	c.mu.Unlock()
}

// check fails the test if any page logged an error.
func (c *consoleLog) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errs {
		t.Errorf("browser reported: %s", e)
	}
}
