package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRefundConfirmOnceAcrossRestart: the refund confirmation's one-time
// key is the refund's out_request_no, stored with it: the first step sends
// nothing to Alipay, and the same confirmation submitted again, once in the
// same process and once after the shop restarted, makes no second refund.
func TestRefundConfirmOnceAcrossRestart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	const password = "refund test password"
	p := startShop(t, data, "--admin-password", password)
	p.password = password
	no, gw := p.buy("2")
	p.openCashier(gw)
	p.pay(no)
	if o := p.waitPaid(no); o.Status != "paid" {
		t.Fatalf("order %s: %+v", no, o)
	}
	hdr := func(p *shopProcess) map[string]string {
		c := p.login()
		return map[string]string{"Cookie": c.Name + "=" + c.Value, "Origin": p.base}
	}
	h := hdr(p)
	form := url.Values{"amount": {"30.00"}, "reason": {"尺码不合适"}}
	resp, body := p.do("POST", "/admin/orders/"+no+"/refunds", form, h)
	m := refundKeyRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("first step: %s", resp.Status)
	}
	if tv := p.sandboxTrade(no); len(tv.Refunds) != 0 {
		t.Fatalf("the first step refunded: %+v", tv.Refunds)
	}
	form.Set("key", m[1])
	confirm := func(p *shopProcess, h map[string]string) string {
		t.Helper()
		resp, body := p.do("POST", "/admin/orders/"+no+"/refunds/confirm", form, h)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %s %s", resp.Status, body)
		}
		return resp.Header.Get("Location")
	}
	if loc := confirm(p, h); strings.Contains(loc, "repeat") {
		t.Errorf("first confirmation redirected to %s", loc)
	}
	if loc := confirm(p, h); !strings.Contains(loc, "repeat=1") {
		t.Errorf("second confirmation redirected to %s", loc)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}

	q := startShop(t, data, "--admin-password", password)
	q.password = password
	loc := confirm(q, hdr(q))
	if !strings.Contains(loc, "repeat=1") {
		t.Errorf("confirmation after the restart redirected to %s", loc)
	}
	_, page := q.do("GET", loc, nil, hdr(q))
	if !strings.Contains(page, "退款成功") || !strings.Contains(page, "没有再次退款") {
		t.Errorf("order page after the resubmission does not say what happened")
	}
	tv := q.sandboxTrade(no)
	if len(tv.Refunds) != 1 || tv.RefundFee.String() != "30.00" || tv.Refunds[0].OutRequestNo != m[1] {
		t.Fatalf("refunds at the sandbox: %+v", tv.Refunds)
	}
	if o := q.apiOrder(no); o.Status != "partially_refunded" {
		t.Fatalf("order after the refunds: %+v", o)
	}
}
