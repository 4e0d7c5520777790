package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
)

// signedParams signs gateway parameters (an order string or a request) with
// the Java SDK's rule and encodes them, sign included.
func signedParams(t *testing.T, key *rsa.PrivateKey, p map[string]string) string {
	t.Helper()
	sig, err := alipay.Sign(key, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV2))
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{"sign": {sig}}
	for k, s := range p {
		v.Set(k, s)
	}
	return v.Encode()
}

// TestBrowserSandboxWalletAndAppPay: in headless chromium, at 390×844 and
// 1280×800, a buyer signs in to the sandbox wallet, shows the payment code
// the counter charges above the no-password limit, confirms the payment in
// the wallet, then pays an app pay order string in the sandbox's Alipay
// app and reads the signed result. Pages must not overflow the viewport or
// report console errors (CSP included).
func TestBrowserSandboxWalletAndAppPay(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the sandbox wallet browser test")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	const appID = "9021000100000042"
	if _, err := sb.RegisterApp(appID, &key.PublicKey); err != nil {
		t.Fatal(err)
	}
	params := func(method, biz string) map[string]string {
		return map[string]string{"app_id": appID, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
			"timestamp": alipay.FormatTime(time.Now()), "version": "1.0", "biz_content": biz}
	}
	browser := testBrowser(t, exe)
	for _, vp := range []struct {
		w, h  int64
		phone bool
	}{{390, 844, true}, {1280, 800, false}} {
		ctx, console := browsertest.NewTab(t, browser, vp.w, vp.h, vp.phone)
		width := strconv.FormatInt(vp.w, 10)
		shot := func(name string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				overflow, err := chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)(ctx, tg)
				if err != nil {
					return err
				}
				if overflow {
					t.Errorf("%s at %d px overflows the viewport", name, vp.w)
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
		var code string
		err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/wallet"),
			chromedp.WaitVisible(chromedp.CSS(`#signin`)),
			chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
			chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
			chromedp.Click(chromedp.CSS(`#signin`)),
			chromedp.WaitVisible(chromedp.CSS(`#paycode-barcode`)),
			browsertest.Into(&code, chromedp.Text(chromedp.CSS(`#paycode`))),
			shot("sandbox-wallet"),
		)
		if err != nil {
			t.Fatal(err)
		}
		// The counter scans the code: ¥2,500 is above the no-password limit.
		outTradeNo := "W" + width
		biz, _ := json.Marshal(map[string]string{"out_trade_no": outTradeNo, "scene": "bar_code", "auth_code": code, "total_amount": "2500.00", "subject": "收银台 一箱咖啡豆"})
		resp, err := http.Post(srv.URL+"/gateway.do", "application/x-www-form-urlencoded", strings.NewReader(signedParams(t, key, params("alipay.trade.pay", string(biz)))))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `"code":"10003"`) {
			t.Fatalf("trade.pay with the wallet's code %q: %s", code, body)
		}
		var result string
		err = chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/wallet"),
			chromedp.WaitVisible(chromedp.CSS(`a.confirm`)),
			shot("sandbox-wallet-pending"),
			chromedp.Click(chromedp.CSS(`a.confirm`)),
			chromedp.WaitVisible(chromedp.CSS(`#password`)),
			shot("sandbox-wallet-confirm"),
			chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
			chromedp.Click(chromedp.CSS(`#pay`)),
			chromedp.WaitVisible(chromedp.CSS(`#result`)),
			browsertest.Into(&result, chromedp.Text(chromedp.CSS(`#result h2`))),
		)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := sb.Trade(appID, outTradeNo); result != "支付成功" || v.TradeStatus != "TRADE_SUCCESS" {
			t.Fatalf("confirmed in the wallet: %q, trade %+v", result, v)
		}
		// App pay: the Alipay app receives the order string.
		biz, _ = json.Marshal(map[string]string{"out_trade_no": "A" + width, "total_amount": "18.00", "subject": "App 月卡", "product_code": "QUICK_MSECURITY_PAY"})
		order := signedParams(t, key, params("alipay.trade.app.pay", string(biz)))
		var appResult string
		err = chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/app"),
			chromedp.WaitVisible(chromedp.CSS(`#order`)),
			chromedp.SetValue(chromedp.CSS(`#order`), order),
			chromedp.Click(chromedp.CSS(`#open`)),
			chromedp.WaitVisible(chromedp.CSS(`#login`)),
			shot("sandbox-app-confirm"),
			chromedp.SetValue(chromedp.CSS(`#login`), sandbox.DefaultBuyer),
			chromedp.SendKeys(chromedp.CSS(`#password`), sandbox.BuyerPassword),
			chromedp.Click(chromedp.CSS(`#pay`)),
			chromedp.WaitVisible(chromedp.CSS(`#app_result`)),
			browsertest.Into(&appResult, chromedp.Text(chromedp.CSS(`#app_result`))),
			shot("sandbox-app-result"),
		)
		if err != nil {
			t.Fatal(err)
		}
		var res sandbox.AppPayResult
		if err := json.Unmarshal([]byte(appResult), &res); err != nil || res.ResultStatus != "9000" {
			t.Fatalf("app result %q: %v", appResult, err)
		}
		raw, err := alipay.ExtractResponse([]byte(res.Result), "alipay.trade.app.pay")
		if err != nil || alipay.Verify(sb.PublicKey(), alipay.SignTypeRSA2, raw.Content, raw.Sign) != nil {
			t.Fatalf("app result does not verify: %s %v", res.Result, err)
		}
		console.Check(t)
	}
}
