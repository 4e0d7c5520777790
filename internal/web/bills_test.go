package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/browsertest"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
)

// billDayEnv is a shop with three payments on one Beijing day, then its
// clock (shared with the sandbox) moved to the next day so that the day's
// bill exists: one order paid on both sides, one trade paid at Alipay that
// the shop has no order for (missing_local), and one order the shop holds
// as paid that Alipay never took (missing_bill).
func billDayEnv(t *testing.T) (e *relEnv, day, matched, stray, unbilled string) {
	t.Helper()
	e = newRelEnv(t)
	ctx := context.Background()
	day = e.sb.Now().In(alipay.Beijing).Format("2006-01-02")
	matched = e.paid().OutTradeNo

	// A trade opened and paid at Alipay under a number the shop never made.
	stray = shop.NewOutTradeNo(e.sb.Now())
	u, err := e.ali.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: stray, TotalAmount: alipay.MustAmount("12.00"), Subject: "别处的订单"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := e.sb.Pay(e.app.AppID, stray, ""); err != nil {
		t.Fatal(err)
	}

	// An order marked paid by a notification signed with Alipay's key for
	// a trade Alipay does not have.
	o, _, err := e.svc.CreateOrder(ctx, e.goods.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, alipayKey := keys(t)
	tg := &shoptest.Target{AlipayKey: alipayKey, AppID: e.app.AppID, SellerID: e.app.SellerID}
	params := tg.Genuine(o, "2026112522001499999999999999")
	now := e.sb.Now()
	params["gmt_create"], params["gmt_payment"], params["notify_time"] = alipay.FormatTime(now), alipay.FormatTime(now), alipay.FormatTime(now)
	req, _ := http.NewRequest("POST", e.srv.URL+"/alipay/notify", strings.NewReader(shoptest.Sign(t, alipayKey, params)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err = e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := e.order(o.OutTradeNo); got.Status != shop.StatusPaid {
		t.Fatalf("unbilled order: %s", got.Status)
	}
	unbilled = o.OutTradeNo

	// The next day, after the bill is ready.
	e.sb.Advance(ctx, 25*time.Hour)
	return e, day, matched, stray, unbilled
}

// TestBillCheckNowForm: checking a day from the bills page needs a login
// and a same-origin POST, refuses today, the future, more than a year back
// and nonsense, and shows when the next automatic check runs.
func TestBillCheckNowForm(t *testing.T) {
	t.Parallel()
	e, day, _, stray, unbilled := billDayEnv(t)
	check := func(date string, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
		return e.post("/admin/bills/check", url.Values{"date": {date}}, header, cookies...)
	}
	if resp, _ := check(day, nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Fatalf("without login: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	c := e.login()
	if resp, _ := check(day, map[string]string{"Sec-Fetch-Site": "cross-site"}, c); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site: %s", resp.Status)
	}
	today := e.sb.Now().In(alipay.Beijing)
	for _, bad := range []string{today.Format("2006-01-02"), today.AddDate(0, 0, 3).Format("2006-01-02"),
		today.AddDate(-2, 0, 0).Format("2006-01-02"), "2026-13-01", "yesterday", strings.Repeat("9", 5000)} {
		if resp, body := check(bad, nil, c); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "form-error") {
			t.Errorf("date %.20q: %s", bad, resp.Status)
		}
	}
	resp, page := e.get("/admin/bills", c)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="next-check"`) || !strings.Contains(page, "下次自动对账") || !strings.Contains(page, `id="check-bill"`) {
		t.Fatalf("bills page: %s\n%s", resp.Status, page)
	}
	resp, _ = check(day, nil, c)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/bills?date="+day {
		t.Fatalf("check %s: %s %s", day, resp.Status, resp.Header.Get("Location"))
	}
	_, page = e.get("/admin/bills?date="+day, c)
	for _, want := range []string{`data-kind="missing_local" data-out-trade-no="` + stray + `"`, `data-kind="missing_bill" data-out-trade-no="` + unbilled + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("bills page after the check lacks %s", want)
		}
	}
}

// TestBrowserBillCheck: in headless chromium the admin opens 对账, sees when
// the next automatic check runs, checks a past day with the button, and
// finds the payment missing on each side listed as a mismatch, and the
// payment both sides agree on not listed.
func TestBrowserBillCheck(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the browser test")
	e, day, matched, stray, unbilled := billDayEnv(t)
	ctx := browsertest.NewBrowser(t, exe, 390, 844)
	// Bounds a broken run; a healthy one takes a few seconds.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	var next, missingLocal, missingBill, mismatches string
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin/bills"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#check-bill`)),
		browsertest.Into(&next, chromedp.Text(chromedp.CSS(`#next-check`))),
		chromedp.SetValue(chromedp.CSS(`#bill-date`), day),
		chromedp.Click(chromedp.CSS(`#check-bill`)),
		chromedp.WaitVisible(chromedp.CSS(`#bill-mismatches`)),
		browsertest.Into(&missingLocal, chromedp.Text(chromedp.CSS(`tr[data-kind="missing_local"]`))),
		browsertest.Into(&missingBill, chromedp.Text(chromedp.CSS(`tr[data-kind="missing_bill"]`))),
		browsertest.Into(&mismatches, chromedp.Text(chromedp.CSS(`#bill-mismatches`))),
	)
	if err != nil {
		t.Fatalf("bill check in the browser: %v", err)
	}
	if !strings.Contains(next, "下次自动对账") {
		t.Errorf("next check line: %q", next)
	}
	if !strings.Contains(missingLocal, stray) || !strings.Contains(missingLocal, "12.00") {
		t.Errorf("missing_local row: %q, want %s", missingLocal, stray)
	}
	if !strings.Contains(missingBill, unbilled) {
		t.Errorf("missing_bill row: %q, want %s", missingBill, unbilled)
	}
	if strings.Contains(mismatches, matched) {
		t.Errorf("the order paid on both sides is listed as a mismatch: %q", mismatches)
	}
}

func TestAdminBillsPage(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	resp, body := e.get("/admin/bills", e.login())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "还没有对账记录") {
		t.Fatalf("empty bills page: %s", resp.Status)
	}
	if resp, _ := e.get("/admin/bills"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bills page without login: %s", resp.Status)
	}
	e.paid()
	// A second payment whose notification is lost: the bill shows it paid
	// while the shop still has the order unpaid.
	if _, err := e.sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindDrop}}); err != nil {
		t.Fatal(err)
	}
	missed, u, err := e.svc.CreateOrder(context.Background(), e.goods.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := e.client.Get(u); err == nil {
		resp.Body.Close()
	}
	if _, err := e.sb.Pay(e.app.AppID, missed.OutTradeNo, ""); err != nil {
		t.Fatal(err)
	}
	day := e.sb.Now().In(alipay.Beijing).Format("2006-01-02")
	e.sb.Advance(context.Background(), 30*time.Hour)
	if _, _, err := e.rec.CheckBill(context.Background(), day); err != nil {
		t.Fatal(err)
	}
	resp, body = e.get("/admin/bills?date="+day, e.login())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-bill-date="`+day+`"`) {
		t.Fatalf("bills page: %s\n%s", resp.Status, body)
	}
	if !strings.Contains(body, missed.OutTradeNo) || !strings.Contains(body, "支付宝已收款，本店订单为未支付") {
		t.Errorf("the mismatch is not shown:\n%s", body)
	}
}
