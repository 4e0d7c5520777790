package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/web"
)

// relEnv is the shop's handler with refunds and bill checks, wired to an
// in-process sandbox on loopback whose clock the shop shares.
type relEnv struct {
	*harness
	sb  *sandbox.Sandbox
	app sandbox.App
	ali *alipay.Client // the shop's Alipay client
	rec *reconcile.Reconciler
}

func newRelEnv(t *testing.T) *relEnv {
	t.Helper()
	appKey, alipayKey := keys(t)
	e := shoptest.NewEnv(t, shoptest.EnvOptions{AppKey: appKey, AlipayKey: alipayKey, AppID: testAppID,
		Goods: shop.Goods{Name: "Django实战教程", Price: alipay.MustAmount("88.00")}})
	testPasswordHashOnce.Do(func() { testPasswordHash, _ = web.HashPassword(testPassword) })
	if err := e.DB.SetSetting(context.Background(), web.PasswordSetting, testPasswordHash); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: e.DB, svc: e.Service, srv: e.Server, goods: e.Goods,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return &relEnv{harness: h, sb: e.Sandbox, app: e.App, rec: e.Reconciler, ali: e.Client}
}

// paid buys, opens the cashier, pays, and lets the notification arrive.
func (e *relEnv) paid() shop.Order {
	e.t.Helper()
	o, u, err := e.svc.CreateOrder(context.Background(), e.goods.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.client.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := e.sb.Pay(e.app.AppID, o.OutTradeNo, ""); err != nil {
		e.t.Fatal(err)
	}
	e.sb.Advance(context.Background(), time.Second)
	if o = e.order(o.OutTradeNo); o.Status != shop.StatusPaid {
		e.t.Fatalf("order %s: %s", o.OutTradeNo, o.Status)
	}
	return o
}

func TestAdminRefundForm(t *testing.T) {
	e := newRelEnv(t)
	o := e.paid()
	page := "/admin/orders/" + o.OutTradeNo
	refund := func(amount, reason string, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
		return e.post(page+"/refunds", url.Values{"amount": {amount}, "reason": {reason}}, header, cookies...)
	}
	// Not logged in, or from another site: refused, nothing changes.
	if resp, _ := refund("1.00", "", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Fatalf("refund without login: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	c := e.login()
	if resp, _ := refund("1.00", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, c); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site refund: %s", resp.Status)
	}
	_, body := e.get(page, c)
	if !strings.Contains(body, `id="amount" name="amount" value="88.00"`) {
		t.Fatalf("refund form does not offer the full amount:\n%s", body)
	}
	// Bad input: a clear error, nothing changes.
	for _, bad := range []string{"abc", "0", "-1.00", "1.001", "88.01"} {
		resp, body := refund(bad, "", nil, c)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("refund %q: %s", bad, resp.Status)
		}
	}
	if rs, _ := e.db.OrderRefunds(context.Background(), o.OutTradeNo); len(rs) != 0 {
		t.Fatalf("refused refunds were stored: %+v", rs)
	}
	// A partial refund, then the rest.
	if resp, _ := refund("30.00", "尺码不合适", nil, c); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("refund: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if got := e.order(o.OutTradeNo); got.Status != shop.StatusPartiallyRefunded || got.RefundedFen != alipay.MustAmount("30.00") {
		t.Fatalf("after a partial refund: %s %s", got.Status, got.RefundedFen)
	}
	_, body = e.get(page, c)
	for _, want := range []string{"部分退款", "尺码不合适", "退款成功", `value="58.00"`} {
		if !strings.Contains(body, want) {
			t.Errorf("order page lacks %q", want)
		}
	}
	// The answer is lost (20000 after the refund is made): pending, shown so.
	if _, err := e.sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "20000", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := refund("58.00", "", nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: %s", resp.Status)
	}
	_, body = e.get(page, c)
	if !strings.Contains(body, "退款处理中") || strings.Contains(body, `id="refund"`) {
		t.Errorf("pending refund not shown, or the form still offered")
	}
	// Its notification (or its job) settles it.
	e.sb.Advance(context.Background(), time.Second)
	if got := e.order(o.OutTradeNo); got.Status != shop.StatusRefunded || got.RefundedFen != o.Amount {
		t.Fatalf("after the refund notification: %s %s", got.Status, got.RefundedFen)
	}
	if tv, _ := e.sb.Trade(e.app.AppID, o.OutTradeNo); tv.RefundFee != o.Amount || len(tv.Refunds) != 2 {
		t.Fatalf("sandbox: %+v", tv)
	}
}

func TestAdminBillsPage(t *testing.T) {
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
