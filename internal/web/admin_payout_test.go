package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shop"
)

var payoutKey = regexp.MustCompile(`name="key" value="(T[0-9a-f]{30})"`)

// TestAdminPayout: a payout to a buyer takes two steps like a refund. Step
// 1 shows a confirmation and sends nothing; the confirmation pays once,
// however often it is posted; the order page lists the payout and says what
// became of it; Alipay's refusal (a wrong real name) is shown and pays
// nothing; a form out of bounds is refused with its reason.
func TestAdminPayout(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	o := e.paid()
	c := e.login()
	balance := func() alipay.Amount {
		t.Helper()
		for _, b := range e.sb.Balances().Buyers {
			if b.Login == sandbox.DefaultBuyer {
				return alipay.MustAmount(b.Balance)
			}
		}
		t.Fatal("no buyer")
		return 0
	}
	start := balance()
	page := "/admin/orders/" + o.OutTradeNo
	if resp, body := e.get(page, c); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="payout"`) || !strings.Contains(body, "没有转账") {
		t.Fatalf("order page: %s %.500s", resp.Status, body)
	}
	step1 := func(amount, name string) (*http.Response, string) {
		return e.post(page+"/payouts", url.Values{"amount": {amount}, "payee_type": {"ALIPAY_LOGON_ID"}, "payee": {sandbox.DefaultBuyer},
			"payee_name": {name}, "reason": {"发货延迟补偿"}}, nil, c)
	}
	for _, bad := range []struct{ amount, name, says string }{
		{"abc", sandbox.DefaultBuyerName, "转账金额应为"},
		{"0.05", sandbox.DefaultBuyerName, "至少"},
		{"88.01", sandbox.DefaultBuyerName, "超过可转金额"},
		{"1.00", "", "须填写收款人真实姓名"},
	} {
		if resp, body := step1(bad.amount, bad.name); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, bad.says) {
			t.Errorf("%+v: %s %.300s", bad, resp.Status, body)
		}
	}
	resp, body := step1("5.00", sandbox.DefaultBuyerName)
	m := payoutKey.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "确认转账") {
		t.Fatalf("step 1: %s %.500s", resp.Status, body)
	}
	if balance() != start {
		t.Fatal("step 1 paid")
	}
	confirm := func(key, amount string) *http.Response {
		resp, _ := e.post(page+"/payouts/confirm", url.Values{"key": {key}, "amount": {amount}}, nil, c)
		return resp
	}
	if resp := confirm(m[1], "6.00"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("the key with another amount: %s", resp.Status)
	}
	resp = confirm(m[1], "5.00")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "repeat") {
		t.Fatalf("confirm: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if resp := confirm(m[1], "5.00"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "repeat=1") {
		t.Fatalf("confirm again: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if got := balance(); got != start+5_00 {
		t.Fatalf("buyer balance %v, want %v", got, start+5_00)
	}
	_, body = e.get(page+"?payout="+m[1], c)
	if !strings.Contains(body, `id="payout-result"`) || !strings.Contains(body, "转账成功") || !strings.Contains(body, `data-out-biz-no="`+m[1]+`"`) {
		t.Fatalf("order page after the payout: %.800s", body)
	}
	// Refused by Alipay: the real name does not match.
	_, body = step1("2.00", "张三")
	m = payoutKey.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("step 1: %.300s", body)
	}
	confirm(m[1], "2.00")
	p, err := e.db.Payout(context.Background(), m[1])
	if err != nil || p.Status != shop.PayoutFailed {
		t.Fatalf("refused payout: %+v %v", p, err)
	}
	if _, body = e.get(page+"?payout="+m[1], c); !strings.Contains(body, "转账失败") || !strings.Contains(body, "PAYEE_USER_INFO_ERROR") {
		t.Fatalf("order page after a refusal: %.800s", body)
	}
	if got := balance(); got != start+5_00 {
		t.Fatalf("a refused payout paid: %v", got)
	}
	// The owner's export holds both payouts, each with its state.
	resp, body = e.get("/admin/payouts.csv", c)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "\uFEFF") || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("payouts.csv: %s %.200q", resp.Status, body)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][1] != "转账单号" || recs[1][0] != o.OutTradeNo || recs[1][2] != "5.00" || recs[1][6] != "转账成功" ||
		recs[1][8] == "" || recs[2][2] != "2.00" || recs[2][6] != "转账失败" || !strings.Contains(recs[2][9], "PAYEE_USER_INFO_ERROR") {
		t.Fatalf("payouts.csv rows: %q %v", recs, err)
	}
	if resp, _ := e.get("/admin/payouts.csv?from=2020-01-01&to=2020-01-02", c); resp.StatusCode != http.StatusOK {
		t.Errorf("an empty range: %s", resp.Status)
	}
	if resp, _ := e.get("/admin/payouts.csv?from=yesterday", c); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a bad date: %s", resp.Status)
	}
	if resp, _ := e.get("/admin/payouts.csv"); resp.StatusCode == http.StatusOK {
		t.Errorf("without logging in: %s", resp.Status)
	}
}
