package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
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

var refundKey = regexp.MustCompile(`name="key" value="(R[0-9a-f]{30})"`)

// TestAdminRefundForm: refunds take two steps. The form starts empty; its
// POST shows a confirmation and sends nothing; the confirmation carries a
// one-time key, so posting it twice makes one refund; the order page then
// says what happened.
func TestAdminRefundForm(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	o := e.paid()
	page := "/admin/orders/" + o.OutTradeNo
	refund := func(amount, reason string, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
		return e.post(page+"/refunds", url.Values{"amount": {amount}, "reason": {reason}}, header, cookies...)
	}
	confirm := func(key, amount, reason string, c *http.Cookie) *http.Response {
		resp, _ := e.post(page+"/refunds/confirm", url.Values{"key": {key}, "amount": {amount}, "reason": {reason}}, nil, c)
		return resp
	}
	sandboxRefunds := func() int {
		tv, _ := e.sb.Trade(e.app.AppID, o.OutTradeNo)
		return len(tv.Refunds)
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
	if !strings.Contains(body, `id="amount" name="amount" value=""`) || !strings.Contains(body, "最多可退 88.00") {
		t.Fatalf("refund form is not empty or does not say what is refundable:\n%s", body)
	}
	// Bad input: a clear error, nothing changes.
	for _, bad := range []string{"abc", "0", "-1.00", "1.001", "88.01"} {
		resp, body := refund(bad, "", nil, c)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("refund %q: %s", bad, resp.Status)
		}
	}
	// The first step shows a confirmation and sends nothing.
	resp, body := refund("30.00", "尺码不合适", nil, c)
	m := refundKey.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("refund step 1: %s\n%s", resp.Status, body)
	}
	for _, want := range []string{o.OutTradeNo, "¥30.00", "¥58.00", "尺码不合适", "确认退款"} {
		if !strings.Contains(body, want) {
			t.Errorf("confirmation lacks %q", want)
		}
	}
	if rs, _ := e.db.OrderRefunds(context.Background(), o.OutTradeNo); len(rs) != 0 || sandboxRefunds() != 0 {
		t.Fatalf("the first step stored or sent a refund: %+v", rs)
	}
	// Confirmed twice: one refund.
	key := m[1]
	for i, wantLoc := range []string{page + "?refund=" + key, page + "?refund=" + key + "&repeat=1"} {
		if resp := confirm(key, "30.00", "尺码不合适", c); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantLoc {
			t.Fatalf("confirm %d: %s %s", i, resp.Status, resp.Header.Get("Location"))
		}
	}
	if got := e.order(o.OutTradeNo); got.Status != shop.StatusPartiallyRefunded || got.RefundedFen != alipay.MustAmount("30.00") || sandboxRefunds() != 1 {
		t.Fatalf("after a partial refund confirmed twice: %s %s, %d at the sandbox", got.Status, got.RefundedFen, sandboxRefunds())
	}
	_, body = e.get(page+"?refund="+key, c)
	for _, want := range []string{"部分退款", "尺码不合适", `id="refund-result"`, "退款成功", "最多可退 58.00"} {
		if !strings.Contains(body, want) {
			t.Errorf("order page lacks %q", want)
		}
	}
	// The same key for another amount, and a forged key: refused.
	if resp := confirm(key, "1.00", "", c); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reused key for another amount: %s", resp.Status)
	}
	if resp := confirm("R123", "1.00", "", c); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("malformed key: %s", resp.Status)
	}
	// The answer is lost (20000 after the refund is made): pending, shown so.
	if _, err := e.sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "20000", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	_, body = refund("58.00", "", nil, c)
	m = refundKey.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no confirmation for the rest:\n%s", body)
	}
	resp = confirm(m[1], "58.00", "", c)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: %s", resp.Status)
	}
	_, body = e.get(resp.Header.Get("Location"), c)
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
	// A resubmission after the order is fully refunded still finds its refund.
	if resp := confirm(m[1], "58.00", "", c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("late resubmission: %s", resp.Status)
	}
}
