package wire

import "time"

// Face-to-face payment (当面付) as Alipay's guide describes it: charge the
// buyer's code; if the trade waits for the buyer or the outcome is
// unknown, query it every few seconds until it is paid or closed, or a
// deadline passes, and then cancel it. Client.FaceToFacePay follows it.

// Defaults of FaceToFacePayRequest, from Alipay's face-to-face demo
// (TradePayDemo: 5 queries 5 s apart).
const (
	DefaultFaceToFaceWait         = 30 * time.Second
	DefaultFaceToFacePollInterval = 5 * time.Second
)

// FaceToFacePayRequest is a face-to-face payment: the alipay.trade.pay
// request, and how long to follow a payment that waits for its buyer.
type FaceToFacePayRequest struct {
	TradePayRequest
	// Wait is how long a payment that waits for its buyer, or whose
	// outcome is unknown, is followed before it is cancelled; default
	// DefaultFaceToFaceWait (30 s).
	Wait time.Duration
	// PollInterval is the time between two queries; default
	// DefaultFaceToFacePollInterval (5 s).
	PollInterval time.Duration
}

// FaceToFaceStatus is how a face-to-face payment ended.
type FaceToFaceStatus string

// Ends of a face-to-face payment.
const (
	// FaceToFaceStatusPaid: the buyer paid.
	FaceToFaceStatusPaid FaceToFaceStatus = "paid"
	// FaceToFaceStatusClosed: not paid, and no trade stays open at
	// Alipay: it closed (it expired, or was closed elsewhere), or the
	// payment never reached Alipay. Nothing was charged.
	FaceToFaceStatusClosed FaceToFaceStatus = "closed"
	// FaceToFaceStatusCancelled: not paid in time, and cancelled; the
	// cancel's Action says whether the trade was closed (nothing charged)
	// or refunded (the buyer paid at the last moment and got the money
	// back in full).
	FaceToFaceStatusCancelled FaceToFaceStatus = "cancelled"
)

// FaceToFacePayResult is how a face-to-face payment ended, with the
// answers that decided it.
type FaceToFacePayResult struct {
	Status       FaceToFaceStatus
	OutTradeNo   string
	TradeNo      string    // Alipay's trade number, "" if no trade was seen
	TotalAmount  Amount    // the amount paid (FaceToFaceStatusPaid)
	BuyerLogonID string    // masked by Alipay
	GmtPayment   time.Time // when the buyer paid (FaceToFaceStatusPaid)
	// Pay is the answer of alipay.trade.pay, nil when its outcome was unknown.
	Pay *TradePayResult
	// Query is the last answer of alipay.trade.query, nil if none was made.
	Query *TradeQueryResult
	// Cancel is the answer of alipay.trade.cancel when the payment was
	// cancelled (FaceToFaceStatusCancelled), nil otherwise.
	Cancel *TradeCancelResult
}
