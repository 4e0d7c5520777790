package sandbox

// alipay.trade.refund and alipay.trade.fastpay.refund.query.

import (
	"time"

	"alishop/alipay"
)

func refundErr(t *trade, outNo, sub, msg string) *node {
	n := bizErr(sub, msg)
	if t != nil {
		n.str("out_trade_no", t.OutTradeNo).str("trade_no", t.TradeNo)
	} else {
		n.str("out_trade_no", outNo)
	}
	return n.amt("refund_fee", 0).amt("send_back_fee", 0)
}

func (s *Sandbox) refund(req *gwReq, now time.Time) *node {
	outNo, _ := req.bizString("out_trade_no")
	t, n := s.lookup(req, now)
	if n != nil {
		if n.subCode == "ACQ.TRADE_NOT_EXIST" {
			return n.amt("refund_fee", 0).amt("send_back_fee", 0)
		}
		return n
	}
	amount, _, n := req.bizAmount("refund_amount")
	if n != nil {
		return n
	}
	reqNo, ok := req.bizString("out_request_no")
	if !ok || len(reqNo) > 64 {
		return invalidParam("out_request_no 无效")
	}
	reason, _ := req.bizString("refund_reason")
	if req.app.SandboxRules {
		// Alipay's online sandbox: "退款金额必须等于支付金额；每笔交易无论成败只能调一次退款".
		if t.RefundCalls > 0 {
			return refundErr(t, outNo, "ACQ.TRADE_NOT_ALLOW_REFUND", "当前交易不允许退款 (沙箱每笔交易只能调一次退款)")
		}
		t.RefundCalls++
		s.persistTrade(t)
		if amount != t.TotalAmount {
			return refundErr(t, outNo, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "撤销或退款金额与订单金额不一致")
		}
	}
	key := reqNo
	if key == "" {
		key = t.OutTradeNo // a refund without out_request_no is known by out_trade_no
	}
	for _, r := range t.Refunds {
		if r.OutRequestNo == key {
			if r.Amount != amount {
				return refundErr(t, outNo, "ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求")
			}
			return s.refundOK(t, "N", r.At, 0)
		}
	}
	switch t.Status {
	case alipay.TradeStatusWaitBuyerPay:
		return refundErr(t, outNo, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	case alipay.TradeStatusClosed:
		return refundErr(t, outNo, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
	case alipay.TradeStatusFinished:
		return refundErr(t, outNo, "ACQ.TRADE_HAS_FINISHED", "交易已完结")
	}
	if reqNo == "" && amount != t.TotalAmount {
		return refundErr(t, outNo, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "撤销或退款金额与订单金额不一致")
	}
	if amount > t.TotalAmount-t.Refunded-t.Settled {
		return refundErr(t, outNo, "ACQ.REASON_TRADE_REFUND_FEE_ERR", "REASON_TRADE_REFUND_FEE_ERR")
	}
	if s.merchantOf(t.AppID).Balance < amount {
		return refundErr(t, outNo, "ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足")
	}
	r := &refundRec{OutRequestNo: key, Amount: amount, Reason: reason, At: now}
	s.applyRefund(t, r)
	return s.refundOK(t, "Y", now, amount)
}

// applyRefund moves the money back and notifies. Callers hold s.mu.
func (s *Sandbox) applyRefund(t *trade, r *refundRec) {
	t.Refunds = append(t.Refunds, r)
	t.Refunded += r.Amount
	s.merchantOf(t.AppID).Balance -= r.Amount
	if acct := s.accounts[t.BuyerLogin]; acct != nil {
		acct.Balance += r.Amount
	}
	s.persistMeta()
	full := t.Refunded == t.TotalAmount
	if full {
		t.Status = alipay.TradeStatusClosed
		t.Closed = r.At
	}
	s.persistTrade(t)
	if a := s.apps[t.AppID]; a != nil && a.notifies("refund") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = string(t.Status)
		p["refund_fee"] = t.Refunded.String()
		p["gmt_refund"] = r.At.In(alipay.Beijing).Format(alipay.TimeLayout + ".000")
		p["out_biz_no"] = r.OutRequestNo
		if full {
			p["gmt_close"] = alipay.FormatTime(r.At)
		}
		s.queueNote(t, a, p, "")
	}
}

func (s *Sandbox) refundOK(t *trade, fundChange string, at time.Time, sendBack alipay.Amount) *node {
	return okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).
		str("buyer_logon_id", maskLogin(t.BuyerLogin)).str("buyer_user_id", t.BuyerID).
		str("fund_change", fundChange).amt("refund_fee", t.Refunded).
		str("gmt_refund_pay", alipay.FormatTime(at)).amt("send_back_fee", sendBack)
}

func (s *Sandbox) refundQuery(req *gwReq, now time.Time) *node {
	reqNo, _ := req.bizString("out_request_no")
	t, n := s.lookup(req, now)
	if n != nil {
		return n
	}
	n = okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo)
	for _, r := range t.Refunds {
		if r.OutRequestNo == reqNo {
			n.str("out_request_no", r.OutRequestNo).amt("refund_amount", r.Amount).amt("total_amount", t.TotalAmount).
				str("refund_status", "REFUND_SUCCESS").str("refund_reason", r.Reason)
			if req.queryOption("gmt_refund_pay") {
				n.str("gmt_refund_pay", alipay.FormatTime(r.At))
			}
		}
	}
	return n
}
