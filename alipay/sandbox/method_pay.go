package sandbox

// alipay.trade.pay: the merchant's cashier scans the buyer's payment code
// (当面付, bar code or security code) and charges it.

import (
	"slices"
	"strings"
	"time"

	"alishop/alipay"
)

// faceToFaceTimeout is how long a face-to-face trade (precreate, or a
// payment waiting for its buyer) waits by default (docs/PROTOCOL.md).
const faceToFaceTimeout = 3 * time.Hour

// codeUserPaying is the answer of a payment that waits for the buyer to
// confirm it in the wallet, with msg as Alipay writes it (leading space
// included).
const (
	codeUserPaying = "10003"
	msgUserPaying  = " order success pay inprocess"
)

// authCodeInvalidMsg is Alipay's sub_msg for an unknown, used or expired code.
const authCodeInvalidMsg = "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款，如再次收款失败，请联系管理员处理。[SOUNDWAVE_PARSER_FAIL]"

func (s *Sandbox) tradePay(req *gwReq, now time.Time) *node {
	agreementRaw, deduction := req.biz["agreement_params"]
	if !deduction {
		for _, k := range []string{"auth_code", "scene"} {
			v, ok := req.bizString(k)
			if !ok {
				return invalidParam(k + " 格式错误")
			}
			if strings.TrimSpace(v) == "" {
				return invalidParam("缺少 " + k)
			}
		}
	}
	nt, n := s.readNewTrade(req, now, faceToFaceTimeout)
	if n != nil {
		return n
	}
	if deduction {
		return s.deduct(req, nt, agreementRaw, now)
	}
	switch scene, _ := req.bizString("scene"); scene {
	case "bar_code", "security_code", "wave_code":
	default:
		return invalidParam("scene 应为 bar_code 或 security_code")
	}
	if nt.product == "" {
		nt.product = "FACE_TO_FACE_PAYMENT"
	}
	if t := s.trades[tradeID(req.app.AppID, nt.outTradeNo)]; t != nil {
		return s.repeatedPay(t, nt, now)
	}
	code, _ := req.bizString("auth_code")
	buyer := s.takePayCode(strings.TrimSpace(code), now)
	if buyer == nil {
		return payRefused(nt.outTradeNo, "ACQ.PAYMENT_AUTH_CODE_INVALID", authCodeInvalidMsg)
	}
	if buyer.Balance < nt.total {
		return payRefused(nt.outTradeNo, "ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")
	}
	t, n := s.openTrade(req, nt, now)
	if n != nil {
		return n
	}
	t.BuyerID, t.BuyerLogin = buyer.UserID, buyer.Login
	if nt.total > buyer.NoPasswordLimit {
		// USERPAYING: the buyer confirms in the wallet (wallet page or
		// api/trades/pay), or the trade closes at its expiry.
		s.paying[t] = struct{}{}
		s.persistTrade(t)
		return payAnswer(t)
	}
	if _, err := s.payTrade(t, buyer.Login, "", false, now); err != nil {
		return bizErr("ACQ.SYSTEM_ERROR", "系统错误: "+err.Error())
	}
	return payAnswer(t)
}

// repeatedPay answers a payment whose out_trade_no already has a trade: the
// trade's own answer, never a second charge.
func (s *Sandbox) repeatedPay(t *trade, nt *newTrade, now time.Time) *node {
	s.expireDue(t, now)
	switch t.Status {
	case alipay.TradeStatusClosed:
		return payRefused(t.OutTradeNo, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
	case alipay.TradeStatusSuccess, alipay.TradeStatusFinished:
		if t.Method != "alipay.trade.pay" {
			return payRefused(t.OutTradeNo, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
		}
	}
	if t.Method != "alipay.trade.pay" || t.TotalAmount != nt.total {
		return payRefused(t.OutTradeNo, "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
	}
	return payAnswer(t)
}

// payAnswer is the answer of a trade.pay trade: 10000 once paid, 10003
// while it waits for its buyer.
func payAnswer(t *trade) *node {
	n := okNode()
	if t.Paid.IsZero() {
		n = &node{code: codeUserPaying, msg: msgUserPaying}
	}
	n.str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).amt("total_amount", t.TotalAmount).
		str("buyer_logon_id", maskLogin(t.BuyerLogin)).str("buyer_user_id", t.BuyerID).amt("point_amount", 0)
	if t.Paid.IsZero() {
		return n.amt("receipt_amount", 0).amt("buyer_pay_amount", 0).amt("invoice_amount", 0)
	}
	return n.amt("receipt_amount", t.TotalAmount).amt("buyer_pay_amount", t.TotalAmount).amt("invoice_amount", t.TotalAmount).
		str("gmt_payment", alipay.FormatTime(t.Paid)).
		raw("fund_bill_list", []byte(`[{"amount":"`+t.TotalAmount.String()+`","fund_channel":"ALIPAYACCOUNT"}]`))
}

// payRefused is a refused payment, with the echo fields Alipay's failures carry.
func payRefused(outTradeNo, sub, msg string) *node {
	return bizErr(sub, msg).str("out_trade_no", outTradeNo).
		amt("buyer_pay_amount", 0).amt("invoice_amount", 0).amt("point_amount", 0).amt("receipt_amount", 0)
}

// waitingFor returns the trade.pay trades waiting for login's confirmation,
// oldest first, dropping the entries that no longer wait. Callers hold s.mu.
func (s *Sandbox) waitingFor(login string, now time.Time) []*trade {
	var out []*trade
	for t := range s.paying {
		s.expireDue(t, now)
		if t.Status != alipay.TradeStatusWaitBuyerPay {
			delete(s.paying, t)
			continue
		}
		if t.BuyerLogin == login {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *trade) int { return a.Created.Compare(b.Created) })
	return out
}
