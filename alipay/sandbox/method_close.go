package sandbox

// alipay.trade.close and alipay.trade.cancel.

import (
	"time"

	"alishop/alipay"
)

// closeTrade closes a waiting trade and queues its notification.
func (s *Sandbox) closeTrade(t *trade, at time.Time, notifyURL string) {
	t.Status = alipay.TradeStatusClosed
	t.Closed = at
	s.persistTrade(t)
	if a := s.apps[t.AppID]; a != nil && a.notifies("close") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = string(alipay.TradeStatusClosed)
		p["gmt_close"] = alipay.FormatTime(at)
		s.queueNote(t, a, p, notifyURL)
	}
}

func (s *Sandbox) closeAPI(req *gwReq, now time.Time) *node {
	t, n := s.lookup(req, now)
	if n != nil {
		return n
	}
	if t.Status != alipay.TradeStatusWaitBuyerPay {
		return bizErr("ACQ.TRADE_STATUS_ERROR", "交易状态不合法").str("out_trade_no", t.OutTradeNo).str("trade_no", t.TradeNo)
	}
	notify := req.p["notify_url"]
	s.closeTrade(t, now, notify)
	return okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo)
}

// cancelWindow is how long after payment alipay.trade.cancel still refunds.
const cancelWindow = 24 * time.Hour

func (s *Sandbox) cancelAPI(req *gwReq, now time.Time) *node {
	t, n := s.lookup(req, now)
	if n != nil {
		return n
	}
	ok := func(action string) *node {
		n := okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).str("retry_flag", "N").str("action", action)
		if action == "refund" {
			n.str("gmt_refund_pay", alipay.FormatTime(t.Closed))
		}
		return n
	}
	if t.CancelAction != "" {
		return ok(t.CancelAction)
	}
	switch t.Status {
	case alipay.TradeStatusWaitBuyerPay:
		t.CancelAction = "close"
		s.closeTrade(t, now, "")
		return ok("close")
	case alipay.TradeStatusClosed:
		if t.Paid.IsZero() {
			t.CancelAction = "close"
			s.persistTrade(t)
			return ok("close")
		}
		return bizErr("ACQ.REASON_TRADE_REFUND_FEE_ERR", "REASON_TRADE_REFUND_FEE_ERR").str("out_trade_no", t.OutTradeNo)
	case alipay.TradeStatusFinished:
		return bizErr("ACQ.TRADE_HAS_FINISHED", "交易已完结").str("out_trade_no", t.OutTradeNo)
	}
	if now.Sub(t.Paid) > cancelWindow {
		return bizErr("ACQ.TRADE_CANCEL_TIME_OUT", "超过撤销时间范围").str("out_trade_no", t.OutTradeNo)
	}
	if t.Refunded > 0 || t.Settled > 0 {
		return bizErr("ACQ.REASON_TRADE_REFUND_FEE_ERR", "REASON_TRADE_REFUND_FEE_ERR").str("out_trade_no", t.OutTradeNo)
	}
	if s.merchantOf(t.AppID).Balance < t.TotalAmount {
		return bizErr("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足").str("out_trade_no", t.OutTradeNo)
	}
	t.CancelAction = "refund"
	s.applyRefund(t, &refundRec{OutRequestNo: t.OutTradeNo, Amount: t.TotalAmount, Reason: "撤销", At: now})
	return ok("refund")
}
