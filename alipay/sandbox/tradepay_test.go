package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
)

// payCode issues a payment code through the control API.
func (e *testEnv) payCode(buyer string) PayCode {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/api/paycodes", url.Values{"buyer": {buyer}})
	if err != nil {
		e.t.Fatal(err)
	}
	var pc PayCode
	if err := jsonDecode(resp, &pc); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("api/paycodes: HTTP %d %v", resp.StatusCode, err)
	}
	return pc
}

// pay calls alipay.trade.pay with raw signed parameters.
func (e *testEnv) pay(t *testing.T, outTradeNo, authCode, amount string, more ...string) (map[string]any, string) {
	t.Helper()
	biz := map[string]string{"out_trade_no": outTradeNo, "scene": "bar_code", "auth_code": authCode,
		"total_amount": amount, "subject": "当面付 咖啡"}
	for i := 0; i+1 < len(more); i += 2 {
		biz[more[i]] = more[i+1]
	}
	b, _ := json.Marshal(biz)
	n, body, signed := e.call(t, formCall{method: "alipay.trade.pay", biz: string(b),
		extra: map[string]string{"notify_url": e.m.srv.URL + "/notify"}})
	if !signed {
		t.Fatalf("trade.pay answer not signed: %s", body)
	}
	return n, body
}

func (e *testEnv) balance(login string) alipay.Amount {
	e.t.Helper()
	e.sb.mu.Lock()
	defer e.sb.mu.Unlock()
	return e.sb.accounts[login].Balance
}

func (e *testEnv) query(t *testing.T, outTradeNo string) map[string]any {
	t.Helper()
	n, body, signed := e.call(t, formCall{method: "alipay.trade.query", biz: `{"out_trade_no":"` + outTradeNo + `"}`})
	if !signed {
		t.Fatalf("query not signed: %s", body)
	}
	return n
}

func wantCode(t *testing.T, n map[string]any, body, code, sub string) {
	t.Helper()
	if n["code"] != code || (sub != "" && n["sub_code"] != sub) {
		t.Fatalf("want %s %s, got %s", code, sub, body)
	}
}

func TestPayCodeFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[string]bool{}
	for range 30 {
		pc := e.payCode(DefaultBuyer)
		c := pc.AuthCode
		if len(c) != 18 || c < "25" || c[:2] > "30" || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("auth_code %q: want 18 digits starting with 25 to 30", c)
		}
		if seen[c] {
			t.Fatalf("auth_code %s issued twice", c)
		}
		seen[c] = true
		if !pc.ExpiresAt.Equal(t0.Add(PayCodeTTL)) || pc.ExpireTime != alipay.FormatTime(t0.Add(PayCodeTTL)) || pc.Buyer != DefaultBuyer {
			t.Fatalf("paycode %+v", pc)
		}
	}
	// A buyer keeps at most maxCodesPerBuyer live codes.
	e.sb.mu.Lock()
	live := len(e.sb.codes)
	e.sb.mu.Unlock()
	if live != maxCodesPerBuyer {
		t.Fatalf("%d live codes, want %d", live, maxCodesPerBuyer)
	}
	resp, err := http.PostForm(e.srv.URL+"/api/paycodes", url.Values{"buyer": {"nobody@sandbox.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown buyer: HTTP %d", resp.StatusCode)
	}
}

func TestTradePayWithinLimitPaysAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.balance(DefaultBuyer)
	pc := e.payCode(DefaultBuyer)
	n, body := e.pay(t, "f2f1", pc.AuthCode, "12.00")
	wantCode(t, n, body, "10000", "")
	if n["trade_no"] == nil || n["buyer_user_id"] != defaultBuyerUID || n["buyer_logon_id"] != "buy***@sandbox.com" ||
		n["total_amount"] != "12.00" || n["receipt_amount"] != "12.00" || n["gmt_payment"] != alipay.FormatTime(t0) {
		t.Fatalf("paid answer: %s", body)
	}
	if !strings.Contains(body, `"fund_bill_list":[{"amount":"12.00","fund_channel":"ALIPAYACCOUNT"}]`) {
		t.Fatalf("fund_bill_list: %s", body)
	}
	if got := e.balance(DefaultBuyer); got != before-1200 {
		t.Fatalf("balance %v, want %v", got, before-1200)
	}
	// The same out_trade_no again (the cashier retrying): the same answer, no second charge.
	n2, body2 := e.pay(t, "f2f1", pc.AuthCode, "12.00")
	wantCode(t, n2, body2, "10000", "")
	if n2["trade_no"] != n["trade_no"] || e.balance(DefaultBuyer) != before-1200 {
		t.Fatalf("retry charged again or changed the trade: %s", body2)
	}
	// The code was used once: another trade with it is refused.
	n3, body3 := e.pay(t, "f2f2", pc.AuthCode, "1.00")
	wantCode(t, n3, body3, "40004", "ACQ.PAYMENT_AUTH_CODE_INVALID")
	if q := e.query(t, "f2f1"); q["trade_status"] != "TRADE_SUCCESS" || q["buyer_user_id"] != defaultBuyerUID {
		t.Fatalf("query %v", q)
	}
	// The payment notification, as for other trades (notify_url given).
	e.deliver()
	bodies := e.m.notifications()
	if len(bodies) != 1 {
		t.Fatalf("%d notifications", len(bodies))
	}
	note, err := e.verifiedNotification(bodies[0])
	if err != nil || note.TradeStatus != alipay.TradeStatusSuccess || note.OutTradeNo != "f2f1" {
		t.Fatalf("notification %+v %v", note, err)
	}
	// Refund and cancel work on these trades.
	rn, rbody, _ := e.call(t, formCall{method: "alipay.trade.refund", biz: `{"out_trade_no":"f2f1","refund_amount":"2.00","out_request_no":"r1"}`})
	wantCode(t, rn, rbody, "10000", "")
	pc2 := e.payCode(DefaultBuyer)
	e.payOK(t, "f2f3", pc2.AuthCode, "3.00")
	cn, cbody, _ := e.call(t, formCall{method: "alipay.trade.cancel", biz: `{"out_trade_no":"f2f3"}`})
	if cn["code"] != "10000" || cn["action"] != "refund" {
		t.Fatalf("cancel of a paid trade: %s", cbody)
	}
	if got := e.balance(DefaultBuyer); got != before-1200+200 {
		t.Fatalf("balance after refund and cancel %v", got)
	}
}

// payOK pays and wants 10000.
func (e *testEnv) payOK(t *testing.T, outTradeNo, authCode, amount string) map[string]any {
	t.Helper()
	n, body := e.pay(t, outTradeNo, authCode, amount)
	wantCode(t, n, body, "10000", "")
	return n
}

func TestTradePayAboveLimitWaitsForBuyer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.balance(DefaultBuyer)
	pc := e.payCode(DefaultBuyer)
	n, body := e.pay(t, "big1", pc.AuthCode, "2500.00")
	wantCode(t, n, body, "10003", "")
	if !strings.HasPrefix(body, `{"alipay_trade_pay_response":{"code":"10003","msg":" order success pay inprocess",`) {
		t.Fatalf("USERPAYING layout: %s", body)
	}
	if n["gmt_payment"] != nil || n["buyer_user_id"] != defaultBuyerUID || n["receipt_amount"] != "0.00" || n["total_amount"] != "2500.00" {
		t.Fatalf("waiting answer: %s", body)
	}
	if e.balance(DefaultBuyer) != before {
		t.Fatal("charged before the buyer confirmed")
	}
	q := e.query(t, "big1")
	if q["trade_status"] != "WAIT_BUYER_PAY" || q["buyer_user_id"] != defaultBuyerUID {
		t.Fatalf("query while waiting: %v", q)
	}
	// Asking again answers 10003 again.
	n2, body2 := e.pay(t, "big1", pc.AuthCode, "2500.00")
	wantCode(t, n2, body2, "10003", "")
	if n2["trade_no"] != n["trade_no"] {
		t.Fatal("a second trade for the same out_trade_no")
	}
	// Another buyer cannot confirm it.
	resp, _ := http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"big1"}, "buyer": {PoorBuyer}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("another buyer confirming: HTTP %d", resp.StatusCode)
	}
	// The buyer confirms (api/trades/pay names no buyer: the code's buyer pays).
	resp, _ = http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"big1"}})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirming: HTTP %d", resp.StatusCode)
	}
	if q := e.query(t, "big1"); q["trade_status"] != "TRADE_SUCCESS" {
		t.Fatalf("after confirmation: %v", q)
	}
	n3, body3 := e.pay(t, "big1", pc.AuthCode, "2500.00")
	wantCode(t, n3, body3, "10000", "")
	if e.balance(DefaultBuyer) != before-250000 {
		t.Fatalf("balance %v", e.balance(DefaultBuyer))
	}
	e.deliver()
	if bodies := e.m.notifications(); len(bodies) != 1 || !strings.Contains(bodies[0], "trade_status=TRADE_SUCCESS") {
		t.Fatalf("notifications %v", bodies)
	}
}

func TestTradePayWaitingEndsUnpaid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.balance(DefaultBuyer)
	// Never confirmed: the trade closes at its timeout on the sandbox clock.
	n, body := e.pay(t, "late1", e.payCode(DefaultBuyer).AuthCode, "3000.00", "timeout_express", "5m")
	wantCode(t, n, body, "10003", "")
	e.advance(5 * time.Minute)
	if q := e.query(t, "late1"); q["trade_status"] != "TRADE_CLOSED" {
		t.Fatalf("after the timeout: %v", q)
	}
	n, body = e.pay(t, "late1", "289999999999999999", "3000.00")
	wantCode(t, n, body, "40004", "ACQ.TRADE_HAS_CLOSE")
	// Cancelled by the merchant while waiting: closed, nothing charged.
	n, body = e.pay(t, "late2", e.payCode(DefaultBuyer).AuthCode, "3000.00")
	wantCode(t, n, body, "10003", "")
	cn, cbody, _ := e.call(t, formCall{method: "alipay.trade.cancel", biz: `{"out_trade_no":"late2"}`})
	if cn["code"] != "10000" || cn["action"] != "close" {
		t.Fatalf("cancel while waiting: %s", cbody)
	}
	resp, _ := http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"late2"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("confirming a cancelled payment: HTTP %d", resp.StatusCode)
	}
	if e.balance(DefaultBuyer) != before {
		t.Fatalf("balance %v, want %v", e.balance(DefaultBuyer), before)
	}
}

func TestTradePayRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// An expired code.
	pc := e.payCode(DefaultBuyer)
	e.advance(PayCodeTTL)
	n, body := e.pay(t, "x1", pc.AuthCode, "1.00")
	wantCode(t, n, body, "40004", "ACQ.PAYMENT_AUTH_CODE_INVALID")
	if n["sub_msg"] != authCodeInvalidMsg || n["out_trade_no"] != "x1" || n["receipt_amount"] != "0.00" {
		t.Fatalf("refusal: %s", body)
	}
	// A code nobody issued.
	n, body = e.pay(t, "x2", "281234567890123456", "1.00")
	wantCode(t, n, body, "40004", "ACQ.PAYMENT_AUTH_CODE_INVALID")
	// Low balance: refused, no trade.
	n, body = e.pay(t, "x3", e.payCode(PoorBuyer).AuthCode, "5.00")
	wantCode(t, n, body, "40004", "ACQ.BUYER_BALANCE_NOT_ENOUGH")
	if q := e.query(t, "x3"); q["sub_code"] != "ACQ.TRADE_NOT_EXIST" {
		t.Fatalf("a refused payment left a trade: %v", q)
	}
	// Missing and wrong parameters.
	n, body, _ = e.call(t, formCall{method: "alipay.trade.pay", biz: `{"out_trade_no":"x4","auth_code":"281234567890123456","total_amount":"1.00","subject":"s"}`})
	wantCode(t, n, body, "40004", "ACQ.INVALID_PARAMETER")
	if !strings.Contains(n["sub_msg"].(string), "scene") {
		t.Fatalf("missing scene: %s", body)
	}
	n, body = e.pay(t, "x5", "281234567890123456", "1.00", "scene", "face_code")
	wantCode(t, n, body, "40004", "ACQ.INVALID_PARAMETER")
	// The same out_trade_no with another amount.
	e.payOK(t, "x6", e.payCode(DefaultBuyer).AuthCode, "1.00")
	n, body = e.pay(t, "x6", e.payCode(DefaultBuyer).AuthCode, "2.00")
	wantCode(t, n, body, "40004", "ACQ.CONTEXT_INCONSISTENT")
	// A page-pay trade's out_trade_no.
	e.paid("x7", 100)
	n, body = e.pay(t, "x7", e.payCode(DefaultBuyer).AuthCode, "1.00")
	wantCode(t, n, body, "40004", "ACQ.TRADE_HAS_SUCCESS")
}

func TestTradePayNoPasswordLimitSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.PostForm(e.srv.URL+"/api/accounts", url.Values{"login": {DefaultBuyer}, "no_password_limit": {"0"}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Accounts []account }
	if err := jsonDecode(resp, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("api/accounts: HTTP %d %v", resp.StatusCode, err)
	}
	n, body := e.pay(t, "lim1", e.payCode(DefaultBuyer).AuthCode, "0.01")
	wantCode(t, n, body, "10003", "")
	for _, bad := range []url.Values{
		{"login": {DefaultBuyer}, "no_password_limit": {"-1"}},
		{"login": {DefaultBuyer}, "no_password_limit": {"1.001"}},
		{"login": {"nobody"}, "no_password_limit": {"1"}},
	} {
		resp, _ := http.PostForm(e.srv.URL+"/api/accounts", bad)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%v: HTTP %d", bad, resp.StatusCode)
		}
	}
	// Config sets the default of every buyer.
	sb, err := New(Config{AlipayKey: alipayKey, NoPasswordLimit: alipay.MustAmount("50.00")})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if got := sb.accounts[DefaultBuyer].NoPasswordLimit; got != 5000 {
		t.Fatalf("configured limit %v", got)
	}
	e.sb.mu.Lock()
	poorLimit := e.sb.accounts[PoorBuyer].NoPasswordLimit
	e.sb.mu.Unlock()
	if poorLimit != DefaultNoPasswordLimit {
		t.Fatal("the default limit is not ¥2,000.00")
	}
	if _, err := New(Config{NoPasswordLimit: -1}); err == nil {
		t.Fatal("a negative limit was accepted")
	}
}

func TestTradePayFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.balance(DefaultBuyer)
	// 20000 after the payment is committed: the cashier does not know; a
	// query shows it paid, and a retry answers it without charging again.
	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Method: "alipay.trade.pay", Error: "20000", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	pc := e.payCode(DefaultBuyer)
	n, body := e.pay(t, "fault1", pc.AuthCode, "8.00")
	wantCode(t, n, body, "20000", "")
	if q := e.query(t, "fault1"); q["trade_status"] != "TRADE_SUCCESS" {
		t.Fatalf("committed payment: %v", q)
	}
	e.payOK(t, "fault1", pc.AuthCode, "8.00")
	if e.balance(DefaultBuyer) != before-800 {
		t.Fatalf("balance %v", e.balance(DefaultBuyer))
	}
	// A system error with nothing done: the code is still good for the retry.
	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Method: "alipay.trade.pay", Error: "ACQ.SYSTEM_ERROR", Effect: "none", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	pc2 := e.payCode(DefaultBuyer)
	n, body = e.pay(t, "fault2", pc2.AuthCode, "9.00")
	wantCode(t, n, body, "40004", "ACQ.SYSTEM_ERROR")
	if q := e.query(t, "fault2"); q["sub_code"] != "ACQ.TRADE_NOT_EXIST" {
		t.Fatalf("nothing should have happened: %v", q)
	}
	e.payOK(t, "fault2", pc2.AuthCode, "9.00")
	// Latency applies to the method.
	if _, err := e.sb.AddFaults([]Fault{{Kind: KindLatency, Method: "alipay.trade.pay", Delay: Duration(time.Millisecond), Count: 1}}); err != nil {
		t.Fatal(err)
	}
	e.payOK(t, "fault3", e.payCode(DefaultBuyer).AuthCode, "1.00")
	for _, f := range e.sb.Faults() {
		if f.Used != 1 {
			t.Fatalf("fault %+v not used once", f)
		}
	}
}

func TestTradePayV3(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := func(no, code, amount string) string {
		return fmt.Sprintf(`{"out_trade_no":%q,"scene":"bar_code","auth_code":%q,"total_amount":%q,"subject":"v3 当面付"}`, no, code, amount)
	}
	a := e.v3(v3Call{uri: "/v3/alipay/trade/pay", body: body("v3p1", e.payCode(DefaultBuyer).AuthCode, "20.00")})
	e.wantV3(a, 200, "")
	if a.fields["trade_no"] == nil || a.fields["gmt_payment"] != alipay.FormatTime(t0) || a.fields["code"] != nil {
		t.Fatalf("v3 paid: %s", a.body)
	}
	// Waiting for the buyer: 200, the trade's fields without gmt_payment.
	a = e.v3(v3Call{uri: "/v3/alipay/trade/pay", body: body("v3p2", e.payCode(DefaultBuyer).AuthCode, "2000.01")})
	e.wantV3(a, 200, "")
	if a.fields["trade_no"] == nil || a.fields["gmt_payment"] != nil || a.fields["buyer_user_id"] != defaultBuyerUID {
		t.Fatalf("v3 waiting: %s", a.body)
	}
	q := e.v3(v3Call{uri: "/v3/alipay/trade/query", body: `{"out_trade_no":"v3p2"}`})
	if q.fields["trade_status"] != "WAIT_BUYER_PAY" {
		t.Fatalf("v3 query: %s", q.body)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/pay", body: body("v3p3", "251234567890123456", "1.00")})
	e.wantV3(a, 400, "ACQ.PAYMENT_AUTH_CODE_INVALID")
}

func TestTradePayWaitingSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvDir(t, dir)
	n, body := e.pay(t, "keep1", e.payCode(DefaultBuyer).AuthCode, "2100.00")
	wantCode(t, n, body, "10003", "")
	if err := e.sb.SetNoPasswordLimit(PoorBuyer, 0); err != nil {
		t.Fatal(err)
	}
	sb := e.restart(dir)
	sb.mu.Lock()
	waiting := sb.waitingFor(DefaultBuyer, sb.now())
	limit := sb.accounts[PoorBuyer].NoPasswordLimit
	sb.mu.Unlock()
	if len(waiting) != 1 || waiting[0].OutTradeNo != "keep1" || limit != 0 {
		t.Fatalf("after restart: waiting %v, poor buyer's limit %v", waiting, limit)
	}
	if _, err := sb.Pay(testAppID, "keep1", ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := sb.Trade(testAppID, "keep1"); v.TradeStatus != "TRADE_SUCCESS" || v.BuyerID != defaultBuyerUID {
		t.Fatalf("confirmed after restart: %+v", v)
	}
}
