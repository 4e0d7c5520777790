package main

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
)

// screenshotDir, when set, makes TestScreenshots drive the real program in
// headless chromium along the buyer's path and the admin order page and
// write the README's screenshots there (scripts/screenshots.sh).
var (
	screenshotDir   = flag.String("screenshots", "", "write the README screenshots into this directory")
	screenshotWidth = flag.Int("screenshot-width", 390, "viewport width of the screenshots (390: a phone; over 600: a desktop, 800 px high)")
)

// maxScreenshot bounds each screenshot's size in bytes.
const maxScreenshot = 150 << 10

// TestScreenshots remakes docs/screenshots: a goods page, home, cashier, 支付成功,
// 我的订单, the admin order list and the admin order page, at 390×844 (a
// phone) or, with -screenshot-width over 600, at that width × 800.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	if *screenshotDir == "" {
		t.Skip("run scripts/screenshots.sh (go test -run TestScreenshots -args -screenshots DIR) to remake the README screenshots")
	}
	exe := browsertest.Chromium(t, "the browser test")
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	w, h, phone := int64(*screenshotWidth), int64(844), true
	if w > 600 {
		h, phone = 800, false
	}
	ctx, console := browsertest.NewTab(t, testBrowser(t, exe), w, h, phone)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// Let the page settle (fonts, pictures) before the picture.
			if _, err := chromedp.Poll[bool](`document.readyState === "complete" && document.fonts.status === "loaded"`)(ctx, tg); err != nil {
				return err
			}
			b, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return writeScreenshot(t, filepath.Join(*screenshotDir, name), b)
		})
	}
	// An older order left unpaid, so 我的订单 shows two states.
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#buy-3`)),
		chromedp.Click(chromedp.CSS(`#buy-3`)),
		chromedp.WaitVisible(chromedp.CSS(`#cancel`)),
		chromedp.Click(chromedp.CSS(`#cancel`)),
		chromedp.WaitVisible(chromedp.CSS(`#continue-pay, #result`)),

		chromedp.Navigate(p.base+"/goods/3"),
		chromedp.WaitVisible(chromedp.CSS(`#goods-detail`)),
		shot("goods.png"),

		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#buy-2`)),
		shot("home.png"),
		chromedp.Click(chromedp.CSS(`#buy-2`)),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
		chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
		shot("cashier.png"),
		chromedp.Click(chromedp.CSS(`#pay`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
		shot("paid.png"),
		chromedp.Click(chromedp.CSS(`#my-orders`)),
		chromedp.WaitVisible(chromedp.CSS(`#my-orders-list`)),
		shot("my-orders.png"),
	)
	if err != nil {
		t.Fatalf("buyer's path: %v", err)
	}
	// The admin refunds part of the paid order and looks at it.
	var paid string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders?status=paid"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		browsertest.Into(&paid, chromedp.Evaluate[string](`document.querySelector("#orders tr[data-out-trade-no]").dataset.outTradeNo`)),
		chromedp.Navigate(p.base+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		shot("admin-orders.png"),
	)
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders/"+url.PathEscape(paid)),
		chromedp.WaitVisible(chromedp.CSS(`#amount`)),
		chromedp.SendKeys(chromedp.CSS(`#amount`), "20.00"),
		chromedp.SendKeys(chromedp.CSS(`#reason`), "包装破损，部分退款"),
		chromedp.Click(chromedp.CSS(`#refund`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-refund`)),
		chromedp.Click(chromedp.CSS(`#confirm-refund`)),
		chromedp.WaitVisible(chromedp.CSS(`#refund-result`)),
		shot("admin-order.png"),
	)
	if err != nil {
		t.Fatalf("admin order page: %v", err)
	}
	console.Check(t)
}

// writeScreenshot writes a PNG re-encoded at the best compression, and
// fails the test if it is larger than maxScreenshot.
func writeScreenshot(t *testing.T, name string, b []byte) error {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, img); err != nil {
		return err
	}
	if out.Len() > maxScreenshot {
		t.Errorf("%s: %d bytes, over %d", name, out.Len(), maxScreenshot)
	}
	t.Logf("%s: %d×%d, %d bytes", filepath.Base(name), img.Bounds().Dx(), img.Bounds().Dy(), out.Len())
	return os.WriteFile(name, out.Bytes(), 0o644)
}
