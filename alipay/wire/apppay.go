package wire

import "time"

// TradeAppPayRequest is the business content of alipay.trade.app.pay.
type TradeAppPayRequest struct {
	OutTradeNo     string
	TotalAmount    Amount
	Subject        string
	Body           string
	TimeoutExpress string    // "1m".."15d"
	TimeExpire     time.Time // zero: none
	PassbackParams string
	NotifyURL      string // default Config.NotifyURL
}

// TradeAppPayResult is the verified synchronous result of an app payment:
// the alipay_trade_app_pay_response the Alipay app hands back.
type TradeAppPayResult struct {
	AppID       string    `json:"app_id"`
	AuthAppID   string    `json:"auth_app_id"`
	Charset     string    `json:"charset"`
	Timestamp   time.Time `json:"timestamp"`
	OutTradeNo  string    `json:"out_trade_no"`
	TradeNo     string    `json:"trade_no"`
	TotalAmount Amount    `json:"total_amount"`
	SellerID    string    `json:"seller_id"`
}

// Check compares the result with the merchant's own order, as
// Notification.Check does: app_id, seller_id (when want.SellerID is set)
// and total_amount. It returns a *MismatchError naming the first field
// that differs, or nil. Check OutTradeNo against the order too.
func (r *TradeAppPayResult) Check(want Expect) error {
	n := Notification{AppID: r.AppID, SellerID: r.SellerID, TotalAmount: r.TotalAmount}
	return n.Check(want)
}
