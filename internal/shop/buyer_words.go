package shop

// BuyerLabel is the state's name as shoppers read it on their own pages:
// 待付款 for an unpaid order, the state's Label otherwise.
func (s Status) BuyerLabel() string {
	if s == StatusUnpaid {
		return "待付款"
	}
	return s.Label()
}

// ClosedReason says why a closed order was closed, for its buyer:
// 超时未付款 when it closed once its time to pay had run out, 交易已关闭
// otherwise (Alipay closed the trade); "" for an order that is not closed.
func ClosedReason(o Order) string {
	if o.Status != StatusClosed {
		return ""
	}
	if !o.TimeExpire.IsZero() && !o.ClosedAt.IsZero() && !o.ClosedAt.Before(o.TimeExpire) {
		return "超时未付款"
	}
	return "交易已关闭"
}
