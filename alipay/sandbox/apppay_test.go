package sandbox

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
)

// appOrder signs an app pay order string the way the SDKs build one: every
// parameter, sign included, URL-encoded (smartwalle's EncodeParam, the
// Java SDK's sdkExecute).
func (e *testEnv) appOrder(t *testing.T, outTradeNo, amount string, more ...string) string {
	t.Helper()
	biz := map[string]string{"out_trade_no": outTradeNo, "total_amount": amount, "subject": "App 会员", "product_code": "QUICK_MSECURITY_PAY"}
	for i := 0; i+1 < len(more); i += 2 {
		biz[more[i]] = more[i+1]
	}
	b, _ := json.Marshal(biz)
	p := map[string]string{
		"app_id": testAppID, "method": "alipay.trade.app.pay", "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": alipay.FormatTime(t0), "version": "1.0", "notify_url": e.m.srv.URL + "/notify", "biz_content": string(b),
	}
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return v.Encode()
}

func (e *testEnv) apiAppPay(t *testing.T, order, buyer string) AppPayResult {
	t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/api/apppay", url.Values{"order": {order}, "buyer": {buyer}})
	if err != nil {
		t.Fatal(err)
	}
	var res AppPayResult
	if err := jsonDecode(resp, &res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("api/apppay: HTTP %d %v", resp.StatusCode, err)
	}
	return res
}

// verifyAppResult checks the signed synchronous result as a merchant's
// server does: the node's bytes against sign, with the Alipay public key.
func (e *testEnv) verifyAppResult(t *testing.T, result string) map[string]any {
	t.Helper()
	raw, err := alipay.ExtractResponse([]byte(result), "alipay.trade.app.pay")
	if err != nil {
		t.Fatalf("result %s: %v", result, err)
	}
	if err := alipay.Verify(e.sb.PublicKey(), alipay.SignTypeRSA2, raw.Content, raw.Sign); err != nil {
		t.Fatalf("result signature: %v", err)
	}
	var top struct {
		SignType string `json:"sign_type"`
	}
	var n map[string]any
	if json.Unmarshal([]byte(result), &top) != nil || top.SignType != "RSA2" || json.Unmarshal(raw.Content, &n) != nil {
		t.Fatalf("result %s", result)
	}
	return n
}

func TestAppPayOrderStringToSignedResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.balance(DefaultBuyer)
	res := e.apiAppPay(t, e.appOrder(t, "app1", "30.00"), "")
	if res.ResultStatus != "9000" {
		t.Fatalf("app pay: %+v", res)
	}
	if !strings.HasPrefix(res.Result, `{"alipay_trade_app_pay_response":{"code":"10000","msg":"Success","app_id":"`+testAppID+`","auth_app_id":`) {
		t.Fatalf("result layout: %s", res.Result)
	}
	n := e.verifyAppResult(t, res.Result)
	if n["out_trade_no"] != "app1" || n["total_amount"] != "30.00" || n["seller_id"] != e.app.SellerID ||
		n["charset"] != "utf-8" || n["timestamp"] != alipay.FormatTime(t0) || n["trade_no"] == nil {
		t.Fatalf("result node: %v", n)
	}
	if q := e.query(t, "app1"); q["trade_status"] != "TRADE_SUCCESS" || q["trade_no"] != n["trade_no"] {
		t.Fatalf("query: %v", q)
	}
	if e.balance(DefaultBuyer) != before-3000 {
		t.Fatal("not charged")
	}
	e.deliver()
	bodies := e.m.notifications()
	if len(bodies) != 1 {
		t.Fatalf("%d notifications", len(bodies))
	}
	if note, err := e.verifiedNotification(bodies[0]); err != nil || note.TradeStatus != alipay.TradeStatusSuccess || note.OutTradeNo != "app1" {
		t.Fatalf("notification %+v %v", note, err)
	}
	// The same order again: paid already.
	if res := e.apiAppPay(t, e.appOrder(t, "app1", "30.00"), ""); res.ResultStatus != "4000" || !strings.Contains(res.Memo, "ACQ.TRADE_HAS_SUCCESS") {
		t.Fatalf("paid order again: %+v", res)
	}
	if e.balance(DefaultBuyer) != before-3000 {
		t.Fatal("charged twice")
	}
}

func TestAppPayRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A tampered order fails as the gateway would refuse it.
	order := strings.Replace(e.appOrder(t, "bad1", "1.00"), "total_amount%22%3A%221.00", "total_amount%22%3A%220.01", 1)
	if res := e.apiAppPay(t, order, ""); res.ResultStatus != "4000" || !strings.HasPrefix(res.Memo, "isv.invalid-signature") {
		t.Fatalf("tampered order: %+v", res)
	}
	// Another method's request is no order string.
	v, _ := url.ParseQuery(e.appOrder(t, "bad2", "1.00"))
	p := map[string]string{}
	for k := range v {
		p[k] = v.Get(k)
	}
	delete(p, "sign")
	p["method"] = "alipay.trade.precreate"
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	w := url.Values{}
	for k, s := range p {
		w.Set(k, s)
	}
	if res := e.apiAppPay(t, w.Encode(), ""); res.ResultStatus != "4000" || !strings.HasPrefix(res.Memo, "isv.invalid-method") {
		t.Fatalf("precreate as an order: %+v", res)
	}
	// An order string sent to gateway.do is refused there.
	req, _ := http.NewRequest("POST", e.srv.URL+"/gateway.do", strings.NewReader(e.appOrder(t, "bad3", "1.00")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	n, body, signed := e.rawCall("alipay.trade.app.pay", req)
	if !signed || n["sub_code"] != "isv.invalid-method" {
		t.Fatalf("app pay at gateway.do: %s", body)
	}
	// Not enough money: the trade stays waiting.
	if res := e.apiAppPay(t, e.appOrder(t, "poor1", "5.00"), PoorBuyer); res.ResultStatus != "4000" || res.Memo != "余额不足" {
		t.Fatalf("poor buyer: %+v", res)
	}
	if v, _ := e.sb.Trade(testAppID, "poor1"); v.TradeStatus != "WAIT_BUYER_PAY" || !strings.HasSuffix(v.AppPayURL, "app/pay/"+v.TradeNo) {
		t.Fatalf("poor1: %+v", v)
	}
	// The order's own timeout on the sandbox clock.
	e.apiAppPay(t, e.appOrder(t, "late1", "5.00", "timeout_express", "10m"), PoorBuyer)
	e.advance(10 * time.Minute)
	if res := e.apiAppPay(t, e.appOrder(t, "late1", "5.00", "timeout_express", "10m"), ""); res.ResultStatus != "4000" || !strings.Contains(res.Memo, "ACQ.TRADE_HAS_CLOSE") {
		t.Fatalf("expired order: %+v", res)
	}
	resp, _ := http.PostForm(e.srv.URL+"/api/apppay", url.Values{"order": {e.appOrder(t, "x", "1.00")}, "buyer": {"nobody"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown buyer: HTTP %d", resp.StatusCode)
	}
}

var appResultRe = regexp.MustCompile(`(?s)<pre class="result" id="app_result">(.*?)</pre>`)

func TestAppPayConfirmPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.browser()
	status, page := getPage(t, c, e.srv.URL+"/app")
	if status != 200 || !strings.Contains(page, `<textarea id="order" name="order"`) {
		t.Fatalf("app form: HTTP %d %s", status, page)
	}
	status, page = postPage(t, c, e.srv.URL+"/app/pay", url.Values{"order": {e.appOrder(t, "page1", "66.60")}})
	if status != 200 || !strings.Contains(page, `<span id="amount">66.60</span>`) || !strings.Contains(page, `id="login"`) ||
		!strings.Contains(page, `id="pay"`) || !strings.Contains(page, `id="cancel"`) || !strings.Contains(page, `<dd id="out_trade_no">page1</dd>`) {
		t.Fatalf("confirm page: HTTP %d %s", status, page)
	}
	v, _ := e.sb.Trade(testAppID, "page1")
	if !strings.Contains(page, `action="pay/`+v.TradeNo+`"`) {
		t.Fatalf("form action: %s", page)
	}
	payURL := e.srv.URL + "/app/pay/" + v.TradeNo
	_, page = postPage(t, c, payURL, url.Values{"login": {DefaultBuyer}, "password": {"000000"}, "action": {"pay"}})
	if !strings.Contains(page, `id="error"`) {
		t.Fatalf("wrong password: %s", page)
	}
	_, page = postPage(t, c, payURL, url.Values{"action": {"cancel"}})
	m := appResultRe.FindStringSubmatch(page)
	var res AppPayResult
	if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &res) != nil || res.ResultStatus != "6001" {
		t.Fatalf("cancelled: %s", page)
	}
	status, page = getPage(t, c, payURL)
	if status != 200 || !strings.Contains(page, `id="pay"`) {
		t.Fatalf("confirm page again: HTTP %d", status)
	}
	_, page = postPage(t, c, payURL, url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}, "action": {"pay"}})
	m = appResultRe.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "支付成功") || json.Unmarshal([]byte(html.UnescapeString(m[1])), &res) != nil || res.ResultStatus != "9000" {
		t.Fatalf("paid: %s", page)
	}
	if n := e.verifyAppResult(t, res.Result); n["out_trade_no"] != "page1" {
		t.Fatalf("result %v", n)
	}
	// A bad order string shows the app's failure.
	_, page = postPage(t, c, e.srv.URL+"/app/pay", url.Values{"order": {"app_id=" + testAppID + "&method=alipay.trade.app.pay"}})
	if m = appResultRe.FindStringSubmatch(page); m == nil || !strings.Contains(m[1], "4000") {
		t.Fatalf("bad order: %s", page)
	}
}

func TestAppPayFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.balance(DefaultBuyer)
	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Method: "alipay.trade.app.pay", Error: "20000", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	// Committed: the payment is made, the app only knows the result is unknown.
	if res := e.apiAppPay(t, e.appOrder(t, "af1", "4.00"), ""); res.ResultStatus != "6004" || res.Result != "" {
		t.Fatalf("committed fault: %+v", res)
	}
	if q := e.query(t, "af1"); q["trade_status"] != "TRADE_SUCCESS" || e.balance(DefaultBuyer) != before-400 {
		t.Fatalf("after a committed fault: %v", q)
	}
	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Method: "alipay.trade.app.pay", Error: "ACQ.SYSTEM_ERROR", Effect: "none", Count: 1},
		{Kind: KindLatency, Method: "alipay.trade.app.pay", Delay: Duration(time.Millisecond), Count: 1}}); err != nil {
		t.Fatal(err)
	}
	// Nothing done: the app hears of a network failure, the trade still waits.
	if res := e.apiAppPay(t, e.appOrder(t, "af2", "4.00"), ""); res.ResultStatus != "6002" {
		t.Fatalf("no-effect fault: %+v", res)
	}
	if q := e.query(t, "af2"); q["trade_status"] != "WAIT_BUYER_PAY" {
		t.Fatalf("after a no-effect fault: %v", q)
	}
	if res := e.apiAppPay(t, e.appOrder(t, "af2", "4.00"), ""); res.ResultStatus != "9000" {
		t.Fatalf("retry: %+v", res)
	}
	for _, f := range e.sb.Faults() {
		if f.Used != 1 {
			t.Fatalf("fault %+v not used once", f)
		}
	}
}
