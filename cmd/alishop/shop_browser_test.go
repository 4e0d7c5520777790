package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
)

// sandboxTrade is the embedded sandbox's view of a trade (api/trades).
func (p *shopProcess) sandboxTrade(no string) sandbox.TradeView {
	p.t.Helper()
	resp, body := p.do("GET", "/sandbox/api/trades?app_id="+sandboxAppID+"&out_trade_no="+no, nil, nil)
	var tv sandbox.TradeView
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tv) != nil {
		p.t.Fatalf("sandbox trade %s: %s %s", no, resp.Status, body)
	}
	return tv
}

// fitsViewport fails the test when the page is wider than the viewport (a
// phone would scroll sideways).
func fitsViewport(t *testing.T, what string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		w, err := chromedp.Evaluate[[]int]("[document.documentElement.scrollWidth, window.innerWidth]")(ctx, tg)
		if err != nil {
			return err
		}
		if len(w) == 2 && w[0] > w[1] {
			t.Errorf("%s is %d px wide in a %d px viewport", what, w[0], w[1])
		}
		return nil
	})
}

// TestBrowserCheckout: on a phone (390×844, a phone's User-Agent) the buyer
// checks out with wap pay, leaves the cashier, finds the order in 我的订单,
// continues paying it and pays; on a desktop (1280×800) the same with page
// pay. Another browser profile sees none of these orders. No page logs an
// error, and no buyer page is wider than the phone.
func TestBrowserCheckout(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the browser test")
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	browser := testBrowser(t, exe)
	for _, c := range []struct {
		name          string
		width, height int64
		phone         bool
		method        string
	}{
		{"phone", 390, 844, true, "alipay.trade.wap.pay"},
		{"desktop", 1280, 800, false, "alipay.trade.page.pay"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, console := browsertest.NewTab(t, browser, c.width, c.height, c.phone)
			var title, orderNo string
			err := chromedp.Do(ctx,
				chromedp.Navigate(p.base+"/"),
				chromedp.WaitVisible(chromedp.CSS(`#buy-2`)),
				browsertest.Into(&title, chromedp.Title()),
				fitsViewport(t, "the goods page"),
				chromedp.Click(chromedp.CSS(`#buy-2`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
				browsertest.Into(&orderNo, chromedp.Text(chromedp.CSS(`#out_trade_no`))),
			)
			if err != nil {
				t.Fatalf("buying: %v", err)
			}
			if !strings.Contains(title, "青禾小铺") {
				t.Errorf("title %q lacks the shop name", title)
			}
			orderNo = strings.TrimSpace(orderNo)
			first := p.sandboxTrade(orderNo)
			if first.Method != c.method || first.TimeExpire == "" {
				t.Fatalf("gateway request %s (time_expire %q), want %s", first.Method, first.TimeExpire, c.method)
			}
			if c.phone && first.ProductCode != "QUICK_WAP_WAY" {
				t.Errorf("wap pay product_code %q", first.ProductCode)
			}

			// Leave the cashier: a wap trade goes back to its quit_url (the
			// order); a desktop buyer follows 返回商户 to the shop.
			leave := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#cancel`))}
			if c.phone {
				leave = append(leave, chromedp.WaitVisible(chromedp.CSS(`#continue-pay`)), fitsViewport(t, "the order page"))
			} else {
				leave = append(leave, chromedp.WaitVisible(chromedp.CSS(`#back`)), chromedp.Click(chromedp.CSS(`#back`)), chromedp.WaitVisible(chromedp.CSS(`#goods`)))
			}
			row := `li[data-out-trade-no="` + orderNo + `"]`
			var listed, deadline, result, status string
			err = chromedp.Do(ctx, append(leave,
				chromedp.Click(chromedp.CSS(`#my-orders`)),
				chromedp.WaitVisible(chromedp.CSS(row)),
				fitsViewport(t, "我的订单"),
				browsertest.Into(&listed, chromedp.Text(chromedp.CSS(row))),
				chromedp.Click(chromedp.CSS(row+` a`)),
				chromedp.WaitVisible(chromedp.CSS(`#continue-pay`)),
				browsertest.Into(&deadline, chromedp.Text(chromedp.CSS(`#deadline`))),
				chromedp.Click(chromedp.CSS(`#continue-pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#login`)),
			)...)
			if err != nil {
				t.Fatalf("leaving the cashier and coming back: %v", err)
			}
			if !strings.Contains(listed, "Django实战教程") || !strings.Contains(listed, "¥88.00") || !strings.Contains(listed, "待付款") {
				t.Errorf("我的订单 row: %q", listed)
			}
			again := p.sandboxTrade(orderNo)
			if again.TradeNo != first.TradeNo || again.TimeExpire != first.TimeExpire || again.Method != c.method || again.TradeStatus != "WAIT_BUYER_PAY" {
				t.Errorf("继续付款 reopened %+v, first %+v", again, first)
			}
			if strings.TrimSpace(deadline) != first.TimeExpire {
				t.Errorf("order page deadline %q, trade time_expire %q", deadline, first.TimeExpire)
			}
			err = chromedp.Do(ctx,
				chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
				chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
				chromedp.Click(chromedp.CSS(`#pay`)),
				chromedp.WaitVisible(chromedp.CSS(`#result`)),
				browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#result`))),
				browsertest.Into(&status, chromedp.Text(chromedp.CSS(`#status`))),
				fitsViewport(t, "the return page"),
				chromedp.Navigate(p.base+"/orders"),
				chromedp.WaitVisible(chromedp.CSS(row)),
				browsertest.Into(&listed, chromedp.Text(chromedp.CSS(row))),
			)
			if err != nil {
				t.Fatalf("paying: %v", err)
			}
			// The return page says the payment's state; 我的订单 the
			// order's: virtual goods are complete once paid.
			if result != "支付成功" || status != "已支付" || !strings.Contains(listed, "已完成") {
				t.Errorf("after paying: %q / %q; 我的订单 %q", result, status, listed)
			}
			console.Check(t)

			// Another browser profile has its own 我的订单.
			other, _ := browsertest.NewTab(t, browser, c.width, c.height, c.phone)
			var rows int
			var text string
			err = chromedp.Do(other,
				chromedp.Navigate(p.base+"/orders"),
				chromedp.WaitVisible(chromedp.CSS(`main`)),
				browsertest.Into(&rows, chromedp.Evaluate[int](`document.querySelectorAll("[data-out-trade-no]").length`)),
				browsertest.Into(&text, chromedp.Text(chromedp.CSS(`main`))),
			)
			if err != nil {
				t.Fatal(err)
			}
			if rows != 0 || !strings.Contains(text, "还没有订单") {
				t.Errorf("another profile sees %d orders: %q", rows, text)
			}
		})
	}
}

// testPNG is a small picture for the goods form.
func testPNG(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 160; x++ {
			img.Set(x, y, color.RGBA{uint8(90 + x/2), uint8(140 + y/2), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "goods.png")
	if err := os.WriteFile(name, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

var refundKeyRe = regexp.MustCompile(`name="key" value="(R[0-9a-f]+)"`)

// refund makes a refund from the admin order page in its two steps: the
// form, whose answer is a confirmation page with a one-time key, then the
// confirmation. It returns the confirmation's answer.
func (p *shopProcess) refund(no, amount, reason string, header map[string]string) (*http.Response, string) {
	p.t.Helper()
	form := url.Values{"amount": {amount}, "reason": {reason}}
	resp, body := p.do("POST", "/admin/orders/"+no+"/refunds", form, header)
	m := refundKeyRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		p.t.Fatalf("refund form: %s, no confirmation\n%s", resp.Status, body)
	}
	form.Set("key", m[1])
	return p.do("POST", "/admin/orders/"+no+"/refunds/confirm", form, header)
}

// payout pays amount of order no out to the sandbox's default buyer in the
// admin's two steps (the payout form, then its confirmation).
func (p *shopProcess) payout(no, amount string, header map[string]string) (*http.Response, string) {
	p.t.Helper()
	form := url.Values{"amount": {amount}, "payee_type": {"ALIPAY_LOGON_ID"}, "payee": {sandbox.DefaultBuyer},
		"payee_name": {sandbox.DefaultBuyerName}, "reason": {"补偿"}}
	resp, body := p.do("POST", "/admin/orders/"+no+"/payouts", form, header)
	m := payoutKeyRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		p.t.Fatalf("payout form: %s, no confirmation\n%s", resp.Status, body)
	}
	return p.do("POST", "/admin/orders/"+no+"/payouts/confirm", url.Values{"key": {m[1]}, "amount": {amount}}, header)
}

var payoutKeyRe = regexp.MustCompile(`name="key" value="(T[0-9a-f]{30})"`)

// sessionCookie reads the admin session cookie out of the browser, to post
// a form a second time from outside it.
func sessionCookie(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	var v string
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if c.Name == "alishop_session" {
				v = c.Value
			}
		}
		return nil
	}))
	if err != nil || v == "" {
		t.Fatalf("no session cookie in the browser: %v", err)
	}
	return "alishop_session=" + v
}

// TestBrowserAdmin: the owner, on a phone, adds goods with a picture and a
// description (and is told clearly when a picture is too large or not a
// picture), sees them on the storefront, and refunds an order in two steps:
// the first sends nothing to Alipay, the confirmation posted twice makes one
// refund, and the order page says what happened. Every page of the shop,
// buyer's and admin's, is visited at 390 px: none logs an error or a CSP
// violation, and none is wider than the phone. Then the admin's tools:
// counts, 今日成交, search, dates, 全额退款, deleting goods, settings and a
// password change, on the phone, and the order table at 1280 px (adminTools).
func TestBrowserAdmin(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the browser test")
	dir := t.TempDir()
	p := startShop(t, filepath.Join(dir, "data"))
	paid, gw := p.buy("1")
	p.openCashier(gw)
	p.pay(paid)
	if o := p.waitPaid(paid); o.Status != "paid" {
		t.Fatalf("order %s: %+v", paid, o)
	}
	unpaid, _ := p.buy("3")

	browser := testBrowser(t, exe)
	ctx, console := browsertest.NewTab(t, browser, 390, 844, true)
	picture := testPNG(t, dir)
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 10<<20+1)...), 0o600); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "not-a-picture.png")
	if err := os.WriteFile(text, []byte("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The refused forms and the error pages answer 4xx on purpose.
	console.ExpectStatus(p.base+"/admin/goods", p.base+"/no/such/page", p.base+"/orders/nosuchorder")

	// Log in; refused pictures; then goods with a picture and a description.
	var tooBig, notPicture string
	addGoods := func(name, file string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(p.base+"/admin/goods/new"),
			chromedp.WaitVisible(chromedp.CSS(`#name`)),
			fitsViewport(t, "the goods form"),
			chromedp.SendKeys(chromedp.CSS(`#name`), name),
			chromedp.SendKeys(chromedp.CSS(`#price`), "59.90"),
			chromedp.SendKeys(chromedp.CSS(`#description`), "手工烘焙，每日新鲜出炉。"),
			chromedp.SetUploadFiles(chromedp.CSS(`#pictures`), []string{file}),
			chromedp.Click(chromedp.CSS(`#save`)),
		)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		fitsViewport(t, "the login page"),
		chromedp.SendKeys(chromedp.CSS(`#password`), p.password),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		fitsViewport(t, "the admin order list"),
		addGoods("太大的图片", big),
		chromedp.WaitVisible(chromedp.CSS(`#form-error`)),
		browsertest.Into(&tooBig, chromedp.Text(chromedp.CSS(`#form-error`))),
		addGoods("不是图片", text),
		chromedp.WaitVisible(chromedp.CSS(`#form-error`)),
		browsertest.Into(&notPicture, chromedp.Text(chromedp.CSS(`#form-error`))),
		addGoods("全麦面包", picture),
		chromedp.WaitVisible(chromedp.CSS(`#admin-goods`)),
		fitsViewport(t, "the admin goods list"),
	)
	if err != nil {
		t.Fatalf("adding goods: %v", err)
	}
	if !strings.Contains(tooBig, "图片太大") || !strings.Contains(notPicture, "只能上传 JPEG、PNG、WebP 或 GIF 图片") {
		t.Errorf("refused pictures say %q and %q", tooBig, notPicture)
	}
	var card string
	var loaded bool
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#goods`)),
		browsertest.Into(&card, chromedp.Text(chromedp.CSS(`#goods li:last-child`))),
		browsertest.Into(&loaded, chromedp.Poll[bool](`(() => { const i = document.querySelector("#goods li:last-child img"); return !!i && i.complete && i.naturalWidth > 0 && i.currentSrc.includes("/pictures/") })()`)),
	)
	if err != nil {
		t.Fatalf("storefront: %v", err)
	}
	if !strings.Contains(card, "全麦面包") || !strings.Contains(card, "手工烘焙") || !strings.Contains(card, "¥59.90") || !loaded {
		t.Errorf("storefront card %q (picture loaded: %v)", card, loaded)
	}
	if strings.Contains(card, "太大的图片") || strings.Contains(card, "不是图片") {
		t.Errorf("refused goods were saved")
	}

	// A refund in two steps.
	var amount, key, result string
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/admin/orders/"+paid),
		chromedp.WaitVisible(chromedp.CSS(`#amount`)),
		fitsViewport(t, "the admin order page"),
		browsertest.Into(&amount, chromedp.Value(chromedp.CSS(`#amount`))),
		chromedp.SendKeys(chromedp.CSS(`#amount`), "100.00"),
		chromedp.SendKeys(chromedp.CSS(`#reason`), "商品缺货"),
		chromedp.Click(chromedp.CSS(`#refund`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-refund`)),
		fitsViewport(t, "the refund confirmation"),
		browsertest.Into(&key, chromedp.Value(chromedp.CSS(`input[name="key"]`))),
	)
	if err != nil {
		t.Fatalf("refund form: %v", err)
	}
	if amount != "" {
		t.Errorf("the refund form starts with %q", amount)
	}
	if tv := p.sandboxTrade(paid); len(tv.Refunds) != 0 || tv.RefundFee != 0 {
		t.Fatalf("the first step refunded at the sandbox: %+v", tv.Refunds)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#confirm-refund`)),
		chromedp.WaitVisible(chromedp.CSS(`#refund-result`)),
		browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#refund-result`))),
	)
	if err != nil {
		t.Fatalf("confirming: %v", err)
	}
	if !strings.Contains(result, "退款成功") || !strings.Contains(result, "100.00") {
		t.Errorf("after the refund: %q", result)
	}
	// The same confirmation again (a double click, a resubmission).
	resp, _ := p.do("POST", "/admin/orders/"+paid+"/refunds/confirm", url.Values{"key": {key}, "amount": {"100.00"}, "reason": {"商品缺货"}},
		map[string]string{"Cookie": sessionCookie(t, ctx, p.base), "Origin": p.base})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "repeat=1") {
		t.Errorf("second confirmation: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if tv := p.sandboxTrade(paid); len(tv.Refunds) != 1 || tv.RefundFee.String() != "100.00" {
		t.Errorf("refunds at the sandbox after confirming twice: %+v", tv.Refunds)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+resp.Header.Get("Location")),
		chromedp.WaitVisible(chromedp.CSS(`#refund-result`)),
		browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#refund-result`))),
	)
	if err != nil || !strings.Contains(result, "没有再次退款") {
		t.Errorf("after the second confirmation: %q %v", result, err)
	}

	// Every other page, at 390 px.
	for _, page := range []string{"/admin/goods/1/edit", "/admin/bills", "/admin/orders?status=paid",
		"/", "/orders/" + paid, "/orders/" + unpaid, "/no/such/page", "/orders/nosuchorder"} {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(p.base+page),
			chromedp.WaitVisible(chromedp.CSS(`footer`)),
			fitsViewport(t, page),
		); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
	}
	console.Check(t)
	adminTools(t, p, browser, paid, unpaid)
}
