package wire

import "time"

// Scene is how a face-to-face payment read the buyer's code.
type Scene string

// Scenes of alipay.trade.pay.
const (
	SceneBarCode      Scene = "bar_code"      // the buyer's payment code (付款码), scanned as a bar code or QR code
	SceneSecurityCode Scene = "security_code" // the newer security codes
)

// TradePayRequest is the business content of alipay.trade.pay: the
// merchant's counter charges the buyer's payment code (当面付).
type TradePayRequest struct {
	OutTradeNo  string
	TotalAmount Amount
	Subject     string
	// AuthCode is the buyer's payment code as scanned: digits only. Empty
	// for a deduction under an agreement (AgreementNo).
	AuthCode    string
	Scene       Scene       // default SceneBarCode
	ProductCode ProductCode // default none: Alipay takes ProductCodeFaceToFace
	Body        string
	StoreID     string
	// OperatorID and TerminalID name the cashier and the device.
	OperatorID string
	TerminalID string
	// TimeoutExpress bounds how long a payment waiting for its buyer stays
	// open at Alipay ("1m".."15d"; Alipay's default for face-to-face
	// payments is 3 hours).
	TimeoutExpress string
	NotifyURL      string // default Config.NotifyURL
	// AgreementNo makes the call a deduction (代扣) under the buyer's signed
	// agreement (agreement_params): the buyer is charged without a code or
	// a password. AuthCode and Scene stay empty; ProductCode defaults to
	// ProductCodeWithholding (use ProductCodeCyclePay for 周期扣款).
	AgreementNo string
}

// TradePayResult is the answer of alipay.trade.pay.
type TradePayResult struct {
	TradeNo        string    `json:"trade_no"`
	OutTradeNo     string    `json:"out_trade_no"`
	BuyerLogonID   string    `json:"buyer_logon_id"` // masked by Alipay
	BuyerUserID    string    `json:"buyer_user_id"`
	TotalAmount    Amount    `json:"total_amount"`
	ReceiptAmount  Amount    `json:"receipt_amount"`
	BuyerPayAmount Amount    `json:"buyer_pay_amount"`
	InvoiceAmount  Amount    `json:"invoice_amount"`
	PointAmount    Amount    `json:"point_amount"`
	GmtPayment     time.Time `json:"gmt_payment"` // zero while the buyer has not paid
	// WaitingForBuyer is true when the trade exists but waits for the
	// buyer to confirm it in the Alipay app (code 10003, USERPAYING; over
	// v3 an answer without gmt_payment). Nothing is paid yet: follow the
	// trade with TradeQuery and cancel it with TradeCancel if it is not
	// paid in time, as FaceToFacePay does.
	WaitingForBuyer bool      `json:"-"`
	Raw             *Response `json:"-"`
}

// Paid reports whether the buyer has paid.
func (r *TradePayResult) Paid() bool { return !r.WaitingForBuyer }
