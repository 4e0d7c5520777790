package alipay

import (
	"context"
	"fmt"
)

// tradePayBiz is the biz_content of alipay.trade.pay.
type tradePayBiz struct {
	OutTradeNo     string      `json:"out_trade_no"`
	Scene          Scene       `json:"scene,omitempty"`
	AuthCode       string      `json:"auth_code,omitempty"`
	Subject        string      `json:"subject"`
	TotalAmount    Amount      `json:"total_amount"`
	ProductCode    ProductCode `json:"product_code,omitempty"`
	Body           string      `json:"body,omitempty"`
	StoreID        string      `json:"store_id,omitempty"`
	OperatorID     string      `json:"operator_id,omitempty"`
	TerminalID     string      `json:"terminal_id,omitempty"`
	TimeoutExpress string      `json:"timeout_express,omitempty"`
	// AgreementParams names the agreement of a deduction.
	AgreementParams *agreementParams `json:"agreement_params,omitempty"`
}

// payBiz checks p and returns its biz_content.
func payBiz(p TradePayRequest) (tradePayBiz, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return tradePayBiz{}, err
	}
	if p.AgreementNo != "" {
		if p.AuthCode != "" || p.Scene != "" {
			return tradePayBiz{}, fmt.Errorf("%w: a deduction under an agreement takes no auth_code or scene", ErrInvalidParam)
		}
		if p.ProductCode == "" {
			p.ProductCode = ProductCodeWithholding
		}
		return tradePayBiz{OutTradeNo: p.OutTradeNo, Subject: p.Subject, TotalAmount: p.TotalAmount, ProductCode: p.ProductCode,
			Body: p.Body, StoreID: p.StoreID, OperatorID: p.OperatorID, TerminalID: p.TerminalID, TimeoutExpress: p.TimeoutExpress,
			AgreementParams: &agreementParams{AgreementNo: p.AgreementNo}}, nil
	}
	if p.Scene == "" {
		p.Scene = SceneBarCode
	}
	if p.Scene != SceneBarCode && p.Scene != SceneSecurityCode {
		return tradePayBiz{}, fmt.Errorf("%w: scene %q: want bar_code or security_code", ErrInvalidParam, p.Scene)
	}
	if !authCodeOK(p.AuthCode) {
		return tradePayBiz{}, fmt.Errorf("%w: auth_code must be the buyer's payment code: 10 to 32 digits", ErrInvalidParam)
	}
	return tradePayBiz{OutTradeNo: p.OutTradeNo, Scene: p.Scene, AuthCode: p.AuthCode, Subject: p.Subject, TotalAmount: p.TotalAmount,
		ProductCode: p.ProductCode, Body: p.Body, StoreID: p.StoreID, OperatorID: p.OperatorID, TerminalID: p.TerminalID,
		TimeoutExpress: p.TimeoutExpress}, nil
}

// authCodeOK reports whether s looks like a payment code: Alipay's are 16
// to 24 digits; the bound is looser so that a new code type is refused by
// Alipay rather than here.
func authCodeOK(s string) bool {
	if len(s) < 10 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TradePay calls alipay.trade.pay once. A verified answer is either paid or
// waiting for the buyer (TradePayResult.WaitingForBuyer); a refusal
// (ACQ.PAYMENT_AUTH_CODE_INVALID, ACQ.BUYER_BALANCE_NOT_ENOUGH, …) is an
// *Error and nothing was charged; an unknown outcome must be followed by a
// query and, if not paid, a cancel. FaceToFacePay does all of that.
func (c *Client) TradePay(ctx context.Context, p TradePayRequest) (*TradePayResult, error) {
	biz, err := payBiz(p)
	if err != nil {
		return nil, err
	}
	var r TradePayResult
	w := struct {
		*TradePayResult
		Code       Code   `json:"code"`
		GmtPayment string `json:"gmt_payment"`
	}{TradePayResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.trade.pay", biz: biz, extra: c.notifyURL(p.NotifyURL)}, &w)
	if err == nil {
		r.GmtPayment, err = responseTime(raw, "gmt_payment", w.GmtPayment)
	}
	if err != nil {
		return nil, err
	}
	if raw.API == APIv3 {
		r.WaitingForBuyer = r.GmtPayment.IsZero()
	} else {
		r.WaitingForBuyer = w.Code == CodeUserPaying
	}
	r.Raw = raw
	return &r, nil
}
