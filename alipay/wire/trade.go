package wire

import (
	"errors"
	"time"
)

// ProductCode names the product a trade is sold under.
type ProductCode string

// Product codes.
const (
	ProductCodePagePay    ProductCode = "FAST_INSTANT_TRADE_PAY" // alipay.trade.page.pay
	ProductCodeWapPay     ProductCode = "QUICK_WAP_WAY"          // alipay.trade.wap.pay
	ProductCodeQRCode     ProductCode = "QR_CODE_OFFLINE"        // alipay.trade.precreate (订单码支付)
	ProductCodeFaceToFace ProductCode = "FACE_TO_FACE_PAYMENT"   // alipay.trade.pay (当面付)
	ProductCodeAppPay     ProductCode = "QUICK_MSECURITY_PAY"    // alipay.trade.app.pay
)

// TradeStatus is the state of a trade at Alipay.
type TradeStatus string

// Trade statuses.
const (
	TradeStatusWaitBuyerPay TradeStatus = "WAIT_BUYER_PAY" // created, not paid
	TradeStatusSuccess      TradeStatus = "TRADE_SUCCESS"  // paid, refundable
	TradeStatusFinished     TradeStatus = "TRADE_FINISHED" // paid, no longer refundable
	TradeStatusClosed       TradeStatus = "TRADE_CLOSED"   // closed unpaid, or fully refunded
)

// Paid reports whether the status means the buyer has paid.
func (s TradeStatus) Paid() bool { return s == TradeStatusSuccess || s == TradeStatusFinished }

// ErrInvalidParam reports a parameter the client refuses to send.
var ErrInvalidParam = errors.New("alipay: invalid parameter")

// TradePagePayRequest is the business content of alipay.trade.page.pay (PC
// web) and of alipay.trade.wap.pay (mobile web), which takes the same fields.
type TradePagePayRequest struct {
	OutTradeNo     string
	TotalAmount    Amount
	Subject        string
	Body           string
	ProductCode    ProductCode // set by the call if empty
	PassbackParams string
	QRPayMode      string
	QuitURL        string    // wap pay only
	TimeExpire     time.Time // zero: none
	TimeoutExpress string    // "1m".."15d"

	NotifyURL string // default Config.NotifyURL
	ReturnURL string // default Config.ReturnURL
}

// TradePrecreateRequest is the business content of alipay.trade.precreate.
type TradePrecreateRequest struct {
	OutTradeNo     string
	TotalAmount    Amount
	Subject        string
	ProductCode    ProductCode
	Body           string
	TimeoutExpress string
	TimeExpire     time.Time // zero: none
	StoreID        string
	NotifyURL      string // default Config.NotifyURL
}

// TradePrecreateResult is the answer of alipay.trade.precreate.
type TradePrecreateResult struct {
	OutTradeNo string    `json:"out_trade_no"`
	QRCode     string    `json:"qr_code"`
	Raw        *Response `json:"-"`
}

// TradeCreateRequest is the business content of alipay.trade.create: a
// trade for a known buyer (BuyerID or BuyerOpenID), paid in Alipay's app or
// mini program.
type TradeCreateRequest struct {
	OutTradeNo     string
	TotalAmount    Amount
	Subject        string
	BuyerID        string // 2088…; or BuyerOpenID
	BuyerOpenID    string
	ProductCode    ProductCode
	Body           string
	TimeoutExpress string
	TimeExpire     time.Time // zero: none
	StoreID        string
	NotifyURL      string // default Config.NotifyURL
}

// TradeCreateResult is the answer of alipay.trade.create.
type TradeCreateResult struct {
	OutTradeNo string    `json:"out_trade_no"`
	TradeNo    string    `json:"trade_no"`
	Raw        *Response `json:"-"`
}

// TradeQueryRequest names the trade alipay.trade.query asks about: by
// OutTradeNo or by Alipay's TradeNo (TradeNo wins when both are given).
type TradeQueryRequest struct {
	OutTradeNo string
	TradeNo    string
}

// TradeQueryResult is the answer of alipay.trade.query.
type TradeQueryResult struct {
	TradeNo        string      `json:"trade_no"`
	OutTradeNo     string      `json:"out_trade_no"`
	TradeStatus    TradeStatus `json:"trade_status"`
	TotalAmount    Amount      `json:"total_amount"`
	BuyerPayAmount Amount      `json:"buyer_pay_amount"`
	ReceiptAmount  Amount      `json:"receipt_amount"`
	InvoiceAmount  Amount      `json:"invoice_amount"`
	PointAmount    Amount      `json:"point_amount"`
	BuyerLogonID   string      `json:"buyer_logon_id"`
	BuyerUserID    string      `json:"buyer_user_id"`
	BuyerOpenID    string      `json:"buyer_open_id"`
	SendPayDate    time.Time   `json:"send_pay_date"` // zero until paid
	Subject        string      `json:"subject"`
	Body           string      `json:"body"`
	StoreID        string      `json:"store_id"`
	Raw            *Response   `json:"-"`
}

// IsTradeNotExist reports whether err is Alipay's ACQ.TRADE_NOT_EXIST.
func IsTradeNotExist(err error) bool { return HasSubCode(err, SubCodeTradeNotExist) }

// HasSubCode reports whether err is a verified *Error with the given sub_code.
func HasSubCode(err error, subCode SubCode) bool {
	var e *Error
	return errors.As(err, &e) && !e.Unverified && e.SubCode == subCode
}

// TradeRefundRequest is the business content of alipay.trade.refund. The
// trade is named by OutTradeNo or TradeNo.
type TradeRefundRequest struct {
	OutTradeNo   string
	TradeNo      string
	RefundAmount Amount
	// OutRequestNo identifies this refund within the trade. Store it before
	// the call and send the same value on every retry: Alipay then refunds
	// once and answers fund_change=N to the repeats.
	OutRequestNo string
	RefundReason string
}

// TradeRefundResult is the answer of alipay.trade.refund.
type TradeRefundResult struct {
	TradeNo      string    `json:"trade_no"`
	OutTradeNo   string    `json:"out_trade_no"`
	BuyerLogonID string    `json:"buyer_logon_id"`
	FundChange   string    `json:"fund_change"` // Y: money moved by this call; N: a repeat (or confirm with TradeFastPayRefundQuery)
	RefundFee    Amount    `json:"refund_fee"`  // the trade's cumulative refunded total
	GmtRefundPay time.Time `json:"gmt_refund_pay"`
	SendBackFee  Amount    `json:"send_back_fee"`
	Raw          *Response `json:"-"`
}

// TradeFastPayRefundQueryRequest names one refund for
// alipay.trade.fastpay.refund.query: its trade (OutTradeNo or TradeNo) and
// its OutRequestNo.
type TradeFastPayRefundQueryRequest struct {
	OutTradeNo   string
	TradeNo      string
	OutRequestNo string
}

// RefundStatus is the state of one refund in a refund query's answer.
type RefundStatus string

// RefundStatusSuccess is the only refund status Alipay reports; a refund
// not (yet) made answers an empty status.
const RefundStatusSuccess RefundStatus = "REFUND_SUCCESS"

// TradeFastPayRefundQueryResult is the answer of alipay.trade.fastpay.refund.query.
type TradeFastPayRefundQueryResult struct {
	TradeNo      string       `json:"trade_no"`
	OutTradeNo   string       `json:"out_trade_no"`
	OutRequestNo string       `json:"out_request_no"`
	RefundAmount Amount       `json:"refund_amount"`
	TotalAmount  Amount       `json:"total_amount"`
	RefundStatus RefundStatus `json:"refund_status"` // RefundStatusSuccess, or "" when not (yet) refunded
	RefundReason string       `json:"refund_reason"`
	GmtRefundPay time.Time    `json:"gmt_refund_pay"`
	Raw          *Response    `json:"-"`
}

// Refunded reports whether the queried refund succeeded.
func (r *TradeFastPayRefundQueryResult) Refunded() bool { return r.RefundStatus == RefundStatusSuccess }

// TradeCloseRequest names the trade alipay.trade.close closes: by
// OutTradeNo or TradeNo.
type TradeCloseRequest struct {
	OutTradeNo string
	TradeNo    string
}

// TradeCloseResult is the answer of alipay.trade.close.
type TradeCloseResult struct {
	TradeNo    string    `json:"trade_no"`
	OutTradeNo string    `json:"out_trade_no"`
	Raw        *Response `json:"-"`
}

// TradeCancelRequest names the trade alipay.trade.cancel cancels: by
// OutTradeNo or TradeNo.
type TradeCancelRequest struct {
	OutTradeNo string
	TradeNo    string
}

// CancelAction is what a cancel did to the trade.
type CancelAction string

// Cancel actions.
const (
	CancelActionClose  CancelAction = "close"  // the trade was unpaid: closed
	CancelActionRefund CancelAction = "refund" // the trade was paid: refunded in full
)

// TradeCancelResult is the answer of alipay.trade.cancel.
type TradeCancelResult struct {
	TradeNo    string       `json:"trade_no"`
	OutTradeNo string       `json:"out_trade_no"`
	RetryFlag  string       `json:"retry_flag"` // Y: Alipay asks for the cancel to be repeated
	Action     CancelAction `json:"action"`     // "" when Alipay names none
	Raw        *Response    `json:"-"`
}

// BillDownloadURLQueryRequest names a bill for
// alipay.data.dataservice.bill.downloadurl.query.
type BillDownloadURLQueryRequest struct {
	BillType string // "trade" or "signcustomer"
	BillDate string // "yyyy-MM-dd" or "yyyy-MM"
}

// BillDownloadURLQueryResult is the answer of
// alipay.data.dataservice.bill.downloadurl.query.
type BillDownloadURLQueryResult struct {
	BillDownloadURL string    `json:"bill_download_url"` // valid for 30 s
	BillFileCode    string    `json:"bill_file_code"`
	Raw             *Response `json:"-"`
}
