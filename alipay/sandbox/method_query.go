package sandbox

// alipay.trade.query.

import (
	"encoding/json"
	"time"

	"alishop/alipay"
)

func (s *Sandbox) query(req *gwReq, now time.Time) *node {
	t, n := s.lookup(req, now)
	if n != nil {
		for _, k := range []string{"buyer_pay_amount", "invoice_amount", "point_amount", "receipt_amount"} {
			n.amt(k, 0)
		}
		return n
	}
	n = okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).
		str("trade_status", string(t.Status)).amt("total_amount", t.TotalAmount).amt("point_amount", 0).str("store_id", t.StoreID)
	if !t.Paid.IsZero() {
		n.amt("buyer_pay_amount", t.TotalAmount).amt("invoice_amount", t.TotalAmount).amt("receipt_amount", t.TotalAmount)
		n.str("buyer_logon_id", maskLogin(t.BuyerLogin)).str("buyer_user_id", t.BuyerID).str("buyer_user_type", "PRIVATE")
		n.str("send_pay_date", alipay.FormatTime(t.Paid))
		if req.queryOption("fund_bill_list") {
			n.raw("fund_bill_list", []byte(`[{"amount":"`+t.TotalAmount.String()+`","fund_channel":"ALIPAYACCOUNT"}]`))
		}
	} else {
		for _, k := range []string{"buyer_pay_amount", "invoice_amount", "receipt_amount"} {
			n.amt(k, 0)
		}
		// A payment waiting for the buyer of a payment code knows its buyer.
		n.str("buyer_logon_id", maskLogin(t.BuyerLogin)).str("buyer_user_id", t.BuyerID)
	}
	return n
}

func (req *gwReq) queryOption(opt string) bool {
	var opts []string
	if raw, ok := req.biz["query_options"]; ok && json.Unmarshal(raw, &opts) == nil {
		for _, o := range opts {
			if o == opt {
				return true
			}
		}
	}
	return false
}
