package alipay

import (
	"errors"
	"testing"
)

// A response whose signature verifies proves that Alipay processed the call;
// if its content then cannot be read, the caller does not know the outcome
// and must not treat the call as a definite failure (ErrUnknownOutcome's
// contract: "... or an unreadable response").
func TestVerifiedButUnreadableResponseIsUnknownOutcome(t *testing.T) {
	t.Parallel()
	c := alipayClient(t)
	key := testKey(t, 1)
	cases := map[string]string{
		"bad amount":   `{"code":"10000","msg":"Success","fund_change":"Y","refund_fee":"1.005","out_trade_no":"o1"}`,
		"no code":      `{"msg":"Success","fund_change":"Y"}`,
		"not object":   `[1,2]`,
		"not UTF-8":    `{"code":"10000","msg":"Success","buyer_logon_id":"` + "\xbd\xbb" + `"}`,
		"encrypted":    `"c29tZSBjaXBoZXJ0ZXh0"`,
		"wrong shapes": `{"code":"10000","msg":"Success","fund_change":7}`,
	}
	for name, content := range cases {
		var out TradeRefundResult
		err := c.DecodeResponse(&Response{Method: "alipay.trade.refund", StatusCode: 200, Body: []byte(signedBody(t, key, "alipay_trade_refund_response", content))}, &out)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !IsUnknownOutcome(err) {
			t.Errorf("%s: err = %v; want it to wrap ErrUnknownOutcome (the call was processed, its result unreadable)", name, err)
		}
		var ae *Error
		if errors.As(err, &ae) {
			t.Errorf("%s: unreadable response reported as a business error %v", name, ae)
		}
	}
}
