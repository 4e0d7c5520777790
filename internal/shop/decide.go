package shop

import (
	"errors"
	"fmt"
	"time"

	"alishop/alipay/wire"
)

// The shop's decisions: what a message from Alipay (a notification, a
// return, a query or refund answer) does to its order and refund. Each is
// a pure function of what it is given, the time included: Store.Receive
// calls it inside the transaction that applies its result, and it is
// tested without a database.

// checkMessage applies the checks every verified message must pass before it
// is acted on (alipay's Notification.Check: app_id, seller_id, then the
// amount of the order); it returns a rejecting decision or nil.
func checkMessage(mer Merchant, n *wire.Notification, o *Order) *Decision {
	want := wire.Expect{AppID: mer.AppID, SellerID: mer.SellerID, TotalAmount: n.TotalAmount}
	if o != nil {
		want.TotalAmount = o.Amount
	}
	var m *wire.MismatchError
	if err := n.Check(want); errors.As(err, &m) {
		switch m.Field {
		case "app_id":
			return &Decision{Outcome: OutcomeWrongApp, Detail: fmt.Sprintf("app_id %q is not ours", m.Got)}
		case "seller_id":
			return &Decision{Outcome: OutcomeWrongSeller, Detail: fmt.Sprintf("seller_id %q is not ours", m.Got)}
		default:
			d := fmt.Sprintf("total_amount %s, order amount %s", m.Got, m.Want)
			return &Decision{Outcome: OutcomeAmountMismatch, Detail: d, Review: "支付宝通知金额与订单不符: " + d}
		}
	}
	if o == nil {
		return &Decision{Outcome: OutcomeUnknownOrder, Detail: "no such order"}
	}
	return nil
}

// decideNotification is what a verified notification n does to its order
// o (nil: none) and the refund r it names, for merchant m at now (the
// payment time when Alipay gives none).
func decideNotification(m Merchant, n *wire.Notification, o *Order, r *Refund, now time.Time) Decision {
	if d := checkMessage(m, n, o); d != nil {
		return *d
	}
	if IsRefundNotification(n) {
		return decideRefund(n, o, r)
	}
	switch {
	case n.TradeStatus.Paid() && n.RefundFee == 0:
		paidAt := n.GmtPayment
		if paidAt.IsZero() {
			paidAt = now
		}
		return decidePaid(o, Payment{OutTradeNo: o.OutTradeNo, TradeNo: n.TradeNo, Amount: n.TotalAmount,
			BuyerLogonID: n.BuyerLogonID, BuyerUserID: userIDOrNone(n.BuyerID), PaidAt: paidAt, Via: SourceNotify})
	case n.TradeStatus == wire.TradeStatusClosed && o.Status == StatusUnpaid:
		return Decision{Outcome: OutcomeApplied, Ack: true, Close: true, Detail: "TRADE_CLOSED"}
	}
	// WAIT_BUYER_PAY and closes of paid orders carry nothing to act on;
	// they are stored and acknowledged.
	return Decision{Outcome: OutcomeIgnored, Ack: true, Detail: "trade_status " + string(n.TradeStatus)}
}

// decidePaid is the one state change for "Alipay says this trade is paid",
// whoever says it.
func decidePaid(o *Order, p Payment) Decision {
	switch o.Status {
	case StatusUnpaid:
		return Decision{Outcome: OutcomeApplied, Ack: true, Pay: &p}
	case StatusPaid, StatusPartiallyRefunded, StatusRefunded:
		if o.TradeNo == "" || o.TradeNo == p.TradeNo {
			return Decision{Outcome: OutcomeDuplicate, Ack: true}
		}
		d := fmt.Sprintf("paid again with trade_no %s (order has %s)", p.TradeNo, o.TradeNo)
		return Decision{Outcome: OutcomeReview, Ack: true, Detail: d, Review: "重复支付: " + d}
	default: // closed here, paid at Alipay: money taken for a closed order
		// The payment is kept (the order becomes paid, taking its goods
		// from the stock again even below zero) and flagged: a person
		// ships it or refunds it.
		d := "paid at Alipay after the order was closed, trade_no " + p.TradeNo
		return Decision{Outcome: OutcomeApplied, Ack: true, Pay: &p, Detail: d, Review: "订单关闭后支付宝仍收到付款，已记为已支付，请核对库存后发货或退款: " + d}
	}
}

// decideQuery is what Alipay's answer q to a query of order outTradeNo
// does to the order o (nil: none) at now (the payment time when Alipay
// gives none).
func decideQuery(outTradeNo string, q *wire.TradeQueryResult, o *Order, now time.Time) Decision {
	if o == nil {
		return Decision{Outcome: OutcomeUnknownOrder}
	}
	if q.OutTradeNo != "" && q.OutTradeNo != outTradeNo {
		return Decision{Outcome: OutcomeUnknownOrder, Detail: "query answered for " + q.OutTradeNo}
	}
	if q.TotalAmount != o.Amount {
		d := fmt.Sprintf("total_amount %s, order amount %s", q.TotalAmount, o.Amount)
		return Decision{Outcome: OutcomeAmountMismatch, Detail: d, Review: "支付宝查询金额与订单不符: " + d}
	}
	switch {
	case q.TradeStatus.Paid():
		paidAt := now
		if !q.SendPayDate.IsZero() {
			paidAt = q.SendPayDate
		}
		return decidePaid(o, Payment{OutTradeNo: outTradeNo, TradeNo: q.TradeNo, Amount: q.TotalAmount,
			BuyerLogonID: q.BuyerLogonID, BuyerUserID: userIDOrNone(q.BuyerUserID), PaidAt: paidAt, Via: SourceQuery})
	case q.TradeStatus == wire.TradeStatusClosed && o.Status == StatusUnpaid:
		return Decision{Outcome: OutcomeApplied, Close: true, Detail: "TRADE_CLOSED"}
	}
	return Decision{Outcome: OutcomeIgnored, Detail: "trade_status " + string(q.TradeStatus)}
}

// decideClosed is what Alipay's word that an order's trade is closed (or
// never was) does to the order o (nil: none).
func decideClosed(o *Order, detail string) Decision {
	switch {
	case o == nil:
		return Decision{Outcome: OutcomeUnknownOrder}
	case o.Status == StatusUnpaid:
		return Decision{Outcome: OutcomeApplied, Close: true, Detail: detail}
	case o.Status == StatusClosed:
		return Decision{Outcome: OutcomeDuplicate, Detail: detail}
	}
	return Decision{Outcome: OutcomeIgnored, Detail: detail + "; order is " + string(o.Status)}
}

// RefundAllowed says whether a refund of amount may be made of order o,
// whose refunds not failed add up to claimed: the order must be paid and
// the refunds, this one included, stay within what was paid.
func RefundAllowed(o *Order, claimed, amount wire.Amount) error {
	if o.Status != StatusPaid && o.Status != StatusPartiallyRefunded {
		return Errorf(EINVALID, "订单%s，不能退款", o.Status.Label())
	}
	if left := o.Amount - claimed; amount > left {
		return Errorf(EINVALID, "退款金额 %s 元超过可退金额 %s 元（实付 %s 元，已退或退款中 %s 元）", amount, left, o.Amount, claimed)
	}
	return nil
}

// CheckPendingRefund says whether pending refund p (nil: none stored for
// the key) may be confirmed for an amount of order outTradeNo at now.
func CheckPendingRefund(p *PendingRefund, outTradeNo string, amount wire.Amount, now time.Time) error {
	switch {
	case p == nil:
		return ErrPendingRefundNotFound
	case p.OutTradeNo != outTradeNo || p.Amount != amount:
		return Errorf(EINVALID, "该退款确认属于订单 %s 的 %s 元退款，请重新填写退款", p.OutTradeNo, p.Amount)
	case !now.Before(p.ExpiresAt):
		return Errorf(EINVALID, "退款确认已过期（%d 分钟内有效），请重新填写退款", int(PendingRefundTTL/time.Minute))
	}
	return nil
}

// RefundMade is the one state change for "Alipay made refund outRequestNo
// of order o", whoever says it (the refund answer, a refund query, a
// notification); r is that refund as stored, nil when the shop never made
// it. The refund becomes succeeded and its amount is added to the order
// (Decision.SettleRefund), never past what was paid: a refund already
// succeeded is a duplicate; one the shop never made, or one given up as
// failed whose room later refunds have taken, is flagged for a person.
func RefundMade(o *Order, r *Refund, outRequestNo string) Decision {
	switch {
	case r == nil:
		d := "refund " + outRequestNo + " was not made by this shop"
		return Decision{Outcome: OutcomeReview, Detail: d, Review: "支付宝退款 " + outRequestNo + " 不是本店发起的"}
	case r.Status == RefundSucceeded:
		return Decision{Outcome: OutcomeDuplicate, Detail: "refund " + outRequestNo}
	case o.RefundedFen+r.Amount > o.Amount && r.Status == RefundFailed:
		// A refund given up as failed left its room to later refunds,
		// which took it. It stays failed and nothing is added.
		d := "refund " + outRequestNo + " was failed here; made at Alipay beyond what is left to refund"
		return Decision{Outcome: OutcomeReview, Detail: d, Review: "支付宝称退款 " + outRequestNo + " 已退，但本店记为失败，且之后的退款已占用可退金额"}
	case o.RefundedFen+r.Amount > o.Amount || o.Status != StatusPaid && o.Status != StatusPartiallyRefunded:
		// Not possible for a pending refund (refunds are created within
		// what was paid, of a paid order); kept for a person all the same.
		d := fmt.Sprintf("refund %s (%s) made at Alipay; the order is %s with %s of %s refunded", outRequestNo, r.Amount, o.Status, o.RefundedFen, o.Amount)
		return Decision{Outcome: OutcomeReview, Detail: d, Review: "支付宝称退款已退，但与订单不符: " + d}
	}
	return Decision{Outcome: OutcomeApplied, SettleRefund: outRequestNo, Detail: "refund " + outRequestNo}
}

// IsRefundNotification reports whether n tells of a refund: it carries the
// refund's out_biz_no or a refund_fee (a partial refund is TRADE_SUCCESS with
// refund_fee, a full one TRADE_CLOSED with refund_fee).
func IsRefundNotification(n *wire.Notification) bool {
	return n.RefundFee > 0 || (n.OutBizNo != "" && !n.GmtRefund.IsZero())
}

// decideRefund is what a verified refund notification does: the refund it
// names (out_biz_no, our out_request_no) is settled by compare-and-set, so a
// duplicate or a notification arriving after the refund answer changes
// nothing. A refund of an order this shop does not hold as paid, or one
// without out_biz_no, is kept for a person to look at.
func decideRefund(n *wire.Notification, o *Order, r *Refund) Decision {
	switch {
	case o.Status != StatusPaid && o.Status != StatusPartiallyRefunded && o.Status != StatusRefunded:
		d := fmt.Sprintf("refund notification (refund_fee %s) for an order that is %s", n.RefundFee, o.Status)
		return Decision{Outcome: OutcomeReview, Ack: true, Detail: d, Review: "支付宝退款通知与订单状态不符: " + d}
	case n.OutBizNo == "" && n.TradeStatus == wire.TradeStatusFinished && n.RefundFee == o.RefundedFen:
		// The trade's refund period ended: TRADE_FINISHED carries the
		// refunds made so far without naming one; they agree with the order.
		return Decision{Outcome: OutcomeDuplicate, Ack: true, Detail: fmt.Sprintf("TRADE_FINISHED, refund_fee %s as recorded", n.RefundFee)}
	case n.OutBizNo == "":
		d := fmt.Sprintf("refund notification without out_biz_no (refund_fee %s)", n.RefundFee)
		return Decision{Outcome: OutcomeReview, Ack: true, Detail: d, Review: "支付宝退款通知缺少退款请求号: " + d}
	}
	d := RefundMade(o, r, n.OutBizNo)
	d.Ack = true
	return d
}

// PayoutAllowed says whether a payout of amount may be made to a buyer of
// order o, whose payouts not failed add up to claimed: the order must have
// been paid, and its payouts, this one included, stay within what was paid
// (a compensation never exceeds the order).
func PayoutAllowed(o *Order, claimed, amount wire.Amount) error {
	switch o.Status {
	case StatusPaid, StatusPartiallyRefunded, StatusRefunded:
	default:
		return Errorf(EINVALID, "订单%s，不能转账补偿", o.Status.Label())
	}
	if amount < wire.MinTransferAmount {
		return Errorf(EINVALID, "转账金额至少 %s 元", wire.MinTransferAmount)
	}
	if left := o.Amount - claimed; amount > left {
		return Errorf(EINVALID, "转账金额 %s 元超过可转金额 %s 元（实付 %s 元，已转或转账中 %s 元）", amount, left, o.Amount, claimed)
	}
	return nil
}

// CheckPendingPayout says whether pending payout p (nil: none stored for
// the key) may be confirmed for an amount of order outTradeNo at now.
func CheckPendingPayout(p *PendingPayout, outTradeNo string, amount wire.Amount, now time.Time) error {
	switch {
	case p == nil:
		return ErrPendingPayoutNotFound
	case p.OutTradeNo != outTradeNo || p.Amount != amount:
		return Errorf(EINVALID, "该转账确认属于订单 %s 的 %s 元转账，请重新填写转账", p.OutTradeNo, p.Amount)
	case !now.Before(p.ExpiresAt):
		return Errorf(EINVALID, "转账确认已过期（%d 分钟内有效），请重新填写转账", int(PendingPayoutTTL/time.Minute))
	}
	return nil
}

// decideTradePay is what Alipay's answer p to alipay.trade.pay of order
// outTradeNo does to the order o (nil: none) at now (the payment time when
// Alipay gives none): paid → the one "paid" change; waiting for the buyer
// → nothing yet.
func decideTradePay(outTradeNo string, p *wire.TradePayResult, o *Order, now time.Time) Decision {
	switch {
	case o == nil:
		return Decision{Outcome: OutcomeUnknownOrder}
	case p.OutTradeNo != "" && p.OutTradeNo != outTradeNo:
		return Decision{Outcome: OutcomeUnknownOrder, Detail: "trade.pay answered for " + p.OutTradeNo}
	case p.TotalAmount != o.Amount:
		d := fmt.Sprintf("total_amount %s, order amount %s", p.TotalAmount, o.Amount)
		return Decision{Outcome: OutcomeAmountMismatch, Detail: d, Review: "支付宝当面付金额与订单不符: " + d}
	case p.WaitingForBuyer:
		return Decision{Outcome: OutcomeIgnored, Detail: "USERPAYING: waiting for the buyer"}
	}
	paidAt := p.GmtPayment
	if paidAt.IsZero() {
		paidAt = now
	}
	return decidePaid(o, Payment{OutTradeNo: outTradeNo, TradeNo: p.TradeNo, Amount: p.TotalAmount,
		BuyerLogonID: p.BuyerLogonID, BuyerUserID: userIDOrNone(p.BuyerUserID), PaidAt: paidAt, Via: SourcePay})
}

// decideCancelled is what a cancelled trade (alipay.trade.cancel answered
// with action, or no trade at all) does to the order o (nil: none): an
// unpaid order closes. A cancel that refunded a trade this shop holds as
// paid (the buyer's payment and the cancel crossed) leaves the order paid
// at Alipay no more: a person must look at it.
func decideCancelled(o *Order, action wire.CancelAction) Decision {
	detail := "cancelled at Alipay, action " + string(action)
	switch {
	case o == nil:
		return Decision{Outcome: OutcomeUnknownOrder}
	case o.Status == StatusUnpaid:
		return Decision{Outcome: OutcomeApplied, Close: true, Detail: detail}
	case o.Status == StatusClosed:
		return Decision{Outcome: OutcomeDuplicate, Detail: detail}
	case action == wire.CancelActionRefund:
		return Decision{Outcome: OutcomeReview, Detail: detail + "; the order is " + string(o.Status),
			Review: "当面付撤销时支付宝已将款项全额退回，但订单记为" + o.Status.Label()}
	}
	return Decision{Outcome: OutcomeIgnored, Detail: detail + "; order is " + string(o.Status)}
}
