// Package browsertest starts headless Chromium for tests that look at the
// shop's pages in a real browser. Only test files import it.
package browsertest

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

// Chromium finds Debian's chromium. Without it the test fails under
// CI=true (where scripts/test.sh installs it) and is skipped elsewhere;
// what names the check that needs the browser in both messages.
func Chromium(t *testing.T, what string) string {
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
		t.Fatalf("chromium is not installed; %s needs it (apt-get install -y chromium)", what)
	}
	t.Skipf("chromium is not installed; skipping %s (apt-get install -y chromium)", what)
	return ""
}

// NewBrowser starts one headless chromium (executable exe, a fresh
// profile, a window of width×height) that lives until the test ends and
// returns the context of its first tab. Tabs opened with NewTab share the
// browser. The flags keep it off the network except for the pages the
// test opens, and make it run as root in a container without a GPU.
func NewBrowser(t *testing.T, exe string, width, height int) context.Context {
	t.Helper()
	bctx, stop, err := start(exe, t.TempDir(), width, height)
	t.Cleanup(stop)
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// Shared starts one headless chromium as NewBrowser does, for all the tests
// of a test binary: each opens its tabs with NewTab (a browser context of
// its own per tab, so tests do not share cookies). stop ends the browser
// and removes its profile; TestMain calls it after m.Run.
func Shared(exe string, width, height int) (bctx context.Context, stop func(), err error) {
	dir, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		return nil, func() {}, err
	}
	bctx, stopB, err := start(exe, dir, width, height)
	return bctx, func() { stopB(); os.RemoveAll(dir) }, err
}

// start starts chromium with its profile in dir and returns the context of
// its first tab and a function that ends it.
func start(exe, dir string, width, height int) (context.Context, func(), error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(width, height),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	// The first context starts the browser; tabs open in contexts of their own.
	bctx, cancelB := chromedp.NewContext(actx)
	stop := func() { cancelB(); cancel() }
	return bctx, stop, chromedp.Do(bctx)
}

// Into runs a and stores its value in dst.
func Into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// PhoneUA is a phone browser's User-Agent (Chrome on Android).
const PhoneUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"

// NewTab opens a tab of width×height CSS pixels in a browser context of
// its own (its own cookies: a separate browser profile) of the browser
// bctx, as a phone (mobile viewport, touch, PhoneUA) or a desktop, and
// records every console error, uncaught exception and error log entry
// (CSP violations, failed loads) of its pages. The tab's context ends
// after five minutes at the latest, which bounds a broken run.
func NewTab(t *testing.T, bctx context.Context, width, height int64, phone bool) (context.Context, *Console) {
	t.Helper()
	c := &Console{}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
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
	// Bounds a broken run; a healthy one takes a few seconds, or a few
	// minutes under -race on a machine loaded by other tests (an admin
	// login's PBKDF2, a 10 MB upload).
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelT)
	vp := chromedp.EmulateViewport(width, height)
	if phone {
		vp = chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	actions := []chromedp.Action[chromedp.Void]{vp}
	if phone {
		actions = append(actions, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: PhoneUA})
			return err
		}))
	}
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx, c
}

// Console collects what a tab's pages reported as errors.
type Console struct {
	mu     sync.Mutex
	errs   []string
	expect map[string]bool
}

// ExpectStatus declares that the page at url answers with an error status
// on purpose (an error page, a refused form): the browser's note that the
// document itself failed to load is not an error of the page.
func (c *Console) ExpectStatus(urls ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expect == nil {
		c.expect = map[string]bool{}
	}
	for _, u := range urls {
		c.expect[u] = true
	}
}

func (c *Console) expected(url string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expect[url]
}

func (c *Console) add(s string) {
	c.mu.Lock()
	c.errs = append(c.errs, s)
	c.mu.Unlock()
}

// Check fails the test if any page logged an error.
func (c *Console) Check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errs {
		t.Errorf("browser reported: %s", e)
	}
}
