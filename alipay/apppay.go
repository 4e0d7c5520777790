package alipay

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// App pay (alipay.trade.app.pay): the merchant's server signs an order
// string; the merchant's app hands it to the Alipay SDK, which opens the
// Alipay app; when the buyer has paid, the app hands back a signed
// synchronous result. Neither goes through the gateway from the server.

// appPayBiz is the biz_content of an app pay order.
type appPayBiz struct {
	OutTradeNo     string      `json:"out_trade_no"`
	TotalAmount    Amount      `json:"total_amount"`
	Subject        string      `json:"subject"`
	ProductCode    ProductCode `json:"product_code"`
	Body           string      `json:"body,omitempty"`
	TimeoutExpress string      `json:"timeout_express,omitempty"`
	TimeExpire     string      `json:"time_expire,omitempty"`
	PassbackParams string      `json:"passback_params,omitempty"`
}

// TradeAppPayOrder returns the signed order string of alipay.trade.app.pay
// as the Alipay app expects it: every parameter, sign included,
// URL-encoded as one query string (the official SDKs' sdkExecute). The
// merchant's app passes it unchanged to the Alipay SDK. No call is made:
// the trade is created when the Alipay app receives the order.
func (c *Client) TradeAppPayOrder(p TradeAppPayRequest) (string, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return "", err
	}
	biz := appPayBiz{OutTradeNo: p.OutTradeNo, TotalAmount: p.TotalAmount, Subject: p.Subject, ProductCode: ProductCodeAppPay,
		Body: p.Body, TimeoutExpress: p.TimeoutExpress, TimeExpire: formatOptTime(p.TimeExpire), PassbackParams: p.PassbackParams}
	params, err := c.params(request{method: "alipay.trade.app.pay", biz: biz, extra: c.notifyURL(p.NotifyURL)})
	if err != nil {
		return "", err
	}
	return EncodeForm(params), nil
}

// VerifyTradeAppPayResult verifies the synchronous result of an app
// payment: result is the "result" string the Alipay app hands to the
// merchant's app with resultStatus 9000,
// {"alipay_trade_app_pay_response":{…},"sign":"…","sign_type":"RSA2"},
// sent on to the merchant's server unchanged. The signature is checked over
// the exact bytes of the response node, as for a gateway answer. Like a
// return redirect, a verified result is a hint: the notification or
// TradeQuery decides whether the order is paid. The error wraps
// ErrSignature (ErrUnsigned when there is no sign) or ErrBadResponse.
func (c *Client) VerifyTradeAppPayResult(result []byte) (*TradeAppPayResult, error) {
	const method = "alipay.trade.app.pay"
	raw, err := ExtractResponse(result, method)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s result: %w", method, err)
	}
	if raw.Node != ResponseNode(method) {
		return nil, fmt.Errorf("alipay: %s result: %w: no %s", method, ErrBadResponse, ResponseNode(method))
	}
	if raw.Sign == "" {
		return nil, fmt.Errorf("alipay: %s result: %w: %w", method, ErrSignature, ErrUnsigned)
	}
	keys := c.notifyKeys(raw.CertSN)
	var verr error = ErrSignature
	for _, k := range keys {
		if verr = VerifyResponseContent(k, c.cfg.SignType, raw.Content, raw.Sign); verr == nil {
			break
		}
	}
	if verr != nil {
		return nil, fmt.Errorf("alipay: %s result: %w", method, verr)
	}
	if !utf8.Valid(raw.Content) {
		return nil, fmt.Errorf("alipay: %s result: %w: not UTF-8", method, ErrBadResponse)
	}
	var w struct {
		*TradeAppPayResult
		Code      Code   `json:"code"`
		Timestamp string `json:"timestamp"`
	}
	var r TradeAppPayResult
	w.TradeAppPayResult = &r
	if err := json.Unmarshal(raw.Content, &w); err != nil {
		return nil, fmt.Errorf("alipay: %s result: %w: %v", method, ErrBadResponse, err)
	}
	if w.Code != CodeSuccess {
		return nil, fmt.Errorf("alipay: %s result: %w: code %q", method, ErrBadResponse, w.Code)
	}
	if r.OutTradeNo == "" || r.AppID == "" {
		return nil, fmt.Errorf("alipay: %s result: %w: out_trade_no or app_id is missing", method, ErrBadResponse)
	}
	if w.Timestamp != "" {
		if r.Timestamp, err = ParseTime(w.Timestamp); err != nil {
			return nil, fmt.Errorf("alipay: %s result: %w: timestamp: %v", method, ErrBadResponse, err)
		}
	}
	return &r, nil
}
