package alipay

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The order string is every parameter, signed as a gateway request, and
// URL-encoded once, as the official SDKs' sdkExecute writes it.
func TestTradeAppPayOrder(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	c := g.client(t)
	s, err := c.TradeAppPayOrder(TradeAppPayRequest{OutTradeNo: "app1", TotalAmount: 990, Subject: "会员 1 个月 a+b 100%", TimeoutExpress: "30m"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]string{}
	for k, vs := range q {
		if len(vs) != 1 {
			t.Fatalf("%s given %d times", k, len(vs))
		}
		p[k] = vs[0]
	}
	for k, want := range map[string]string{"app_id": testAppID, "method": "alipay.trade.app.pay", "charset": "utf-8", "sign_type": "RSA2",
		"version": "1.0", "format": "JSON", "timestamp": "2024-01-02 15:04:05", "notify_url": "https://shop.example/alipay/notify",
		"biz_content": `{"out_trade_no":"app1","total_amount":"9.90","subject":"会员 1 个月 a+b 100%","product_code":"QUICK_MSECURITY_PAY","timeout_express":"30m"}`} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	if err := Verify(&testKey(t, 0).PublicKey, SignTypeRSA2, SignContent(p, RuleV2), p["sign"]); err != nil {
		t.Errorf("order signature: %v", err)
	}
	if _, ok := p["return_url"]; ok {
		t.Error("return_url in an app order")
	}
	if strings.Contains(s, " ") || !strings.Contains(s, "sign=") {
		t.Errorf("not one encoded query string: %s", s)
	}
	if _, err := c.TradeAppPayOrder(TradeAppPayRequest{OutTradeNo: "app1", Subject: "x"}); !errors.Is(err, ErrInvalidParam) {
		t.Errorf("no amount: %v", err)
	}
}

// The result the Alipay app hands back verifies over its node's exact
// bytes, whatever else the string holds.
func TestVerifyTradeAppPayResult(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	c := g.client(t)
	node := `{"code":"10000","msg":"Success","app_id":"` + testAppID + `","auth_app_id":"` + testAppID + `","charset":"utf-8","timestamp":"2024-01-02 15:05:00","out_trade_no":"app1","total_amount":"9.90","trade_no":"2024010222001400000000000009","seller_id":"2088102177296610"}`
	sign, err := Sign(testKey(t, 1), SignTypeRSA2, []byte(node))
	if err != nil {
		t.Fatal(err)
	}
	result := `{"alipay_trade_app_pay_response":` + node + `,"sign":"` + sign + `","sign_type":"RSA2"}`
	r, err := c.VerifyTradeAppPayResult([]byte(result))
	if err != nil {
		t.Fatal(err)
	}
	if r.OutTradeNo != "app1" || r.TotalAmount != 990 || r.TradeNo != "2024010222001400000000000009" || r.SellerID != "2088102177296610" ||
		FormatTime(r.Timestamp) != "2024-01-02 15:05:00" {
		t.Errorf("result %+v", r)
	}
	if err := r.Check(Expect{AppID: testAppID, SellerID: "2088102177296610", TotalAmount: 990}); err != nil {
		t.Errorf("check: %v", err)
	}
	var m *MismatchError
	if err := r.Check(Expect{AppID: testAppID, TotalAmount: 1}); !errors.As(err, &m) || m.Field != "total_amount" {
		t.Errorf("check of another amount: %v", err)
	}
	// The same, with the keys in another order and spaces: still verified.
	moved := "{ \"sign_type\":\"RSA2\", \"sign\":\"" + sign + "\",\n \"alipay_trade_app_pay_response\": " + node + " }"
	if _, err := c.VerifyTradeAppPayResult([]byte(moved)); err != nil {
		t.Errorf("reordered result: %v", err)
	}
	for name, bad := range map[string]struct {
		body string
		want error
	}{
		"tampered amount":   {strings.Replace(result, `"9.90"`, `"0.01"`, 1), ErrSignature},
		"no sign":           {`{"alipay_trade_app_pay_response":` + node + `}`, ErrUnsigned},
		"signed by the app": {`{"alipay_trade_app_pay_response":` + node + `,"sign":"` + mustSign(t, 0, node) + `"}`, ErrSignature},
		"two nodes":         {`{"alipay_trade_app_pay_response":` + node + `,"alipay_trade_app_pay_response":{},"sign":"` + sign + `"}`, ErrDuplicateNode},
		"not JSON":          {`resultStatus=9000`, ErrBadResponse},
		"another node":      {`{"alipay_trade_query_response":` + node + `,"sign":"` + sign + `"}`, ErrBadResponse},
	} {
		if _, err := c.VerifyTradeAppPayResult([]byte(bad.body)); !errors.Is(err, bad.want) {
			t.Errorf("%s: %v, want %v", name, err, bad.want)
		}
	}
	failed := `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_HAS_CLOSE"}`
	if _, err := c.VerifyTradeAppPayResult([]byte(`{"alipay_trade_app_pay_response":` + failed + `,"sign":"` + mustSign(t, 1, failed) + `"}`)); !errors.Is(err, ErrBadResponse) {
		t.Errorf("a failed result: %v", err)
	}
}

func mustSign(t *testing.T, key int, content string) string {
	t.Helper()
	s, err := Sign(testKey(t, key), SignTypeRSA2, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
