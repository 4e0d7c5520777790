package wire

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// Notification is a verified asynchronous notification (notify_url POST) or
// return redirect (return_url GET). Amounts are in fen, times in Beijing time.
// A zero time or amount means the field was absent.
type Notification struct {
	NotifyID    string
	NotifyType  string // trade_status_sync
	NotifyTime  time.Time
	Method      string // returns only: alipay.trade.page.pay.return, …
	AppID       string
	AuthAppID   string
	Charset     string
	Version     string
	SignType    string
	TradeNo     string
	OutTradeNo  string
	OutBizNo    string      // refund notifications: the refund's out_request_no
	TradeStatus TradeStatus // empty on returns

	BuyerID      string
	BuyerOpenID  string
	BuyerLogonID string
	SellerID     string
	SellerEmail  string

	TotalAmount    Amount
	ReceiptAmount  Amount
	InvoiceAmount  Amount
	BuyerPayAmount Amount
	PointAmount    Amount
	RefundFee      Amount // cumulative refunded total, refund notifications only

	Subject        string
	Body           string
	PassbackParams string
	FundBillList   string // a JSON string, as sent

	GmtCreate  time.Time
	GmtPayment time.Time
	GmtRefund  time.Time
	GmtClose   time.Time

	// Params holds every received parameter, sign included, decoded once.
	Params map[string]string

	// UnsignedParam is a received parameter that the signature did not
	// cover although RuleV1 signs it: "", or an alipay_cert_sn added on
	// the way by a relay. SignedContent and SignedForm leave it out.
	UnsignedParam string
}

// signedParams is Params without UnsignedParam.
func (n *Notification) signedParams() map[string]string {
	if n.UnsignedParam == "" {
		return n.Params
	}
	p := maps.Clone(n.Params)
	delete(p, n.UnsignedParam)
	return p
}

// SignedContent returns the string to sign that the signature of a
// notification returned by VerifyNotification was verified over: exactly
// what the signature covers. Messages that differ only in what it leaves
// out (parameters with empty or whitespace-only keys or values, sign_type
// under RuleV1, the order of the parameters, how they are escaped) have
// the same SignedContent: it identifies the message.
func (n *Notification) SignedContent() []byte {
	return SignContent(n.signedParams(), RuleV1)
}

// SignedForm returns a notification returned by VerifyNotification reduced
// to what its signature covers: the parameters of SignedContent with sign
// (without line breaks, which base64 decoding skips) and sign_type, encoded
// by EncodeForm. It verifies as the message did; adding, moving or
// escaping differently what the signature leaves out gives the same
// SignedForm.
func (n *Notification) SignedForm() string {
	p := make(map[string]string, len(n.Params))
	for k, v := range n.signedParams() {
		if signed(k, v, RuleV1) {
			p[k] = v
		}
	}
	if s := n.Params["sign"]; s != "" {
		p["sign"] = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	if st := n.Params["sign_type"]; st != "" {
		p["sign_type"] = st
	}
	return EncodeForm(p)
}

// MaxNotifyBody is the largest notification body worth reading: real ones
// are a few kilobytes.
const MaxNotifyBody = 64 << 10

// ErrCharset marks a verified notification in a charset other than UTF-8
// (Alipay uses the charset of the request, and this client always sends
// utf-8). Its signature is valid, but its text cannot be read without GBK
// tables, which the standard library lacks, so it is refused rather than
// returned garbled.
var ErrCharset = errors.New("alipay: notification is not UTF-8")

// ErrBadNotification marks a notification that is not a well-formed form or
// has malformed fields.
var ErrBadNotification = errors.New("alipay: malformed notification")

// Expect is what a merchant must check in every notification before acting
// on it (Alipay: "任何一项不通过…务必忽略").
type Expect struct {
	AppID       string // this app's id
	SellerID    string // this merchant's 2088… id; "" skips the check (and SellerEmail must then be set)
	TotalAmount Amount // the order's amount in fen
}

// MismatchError reports a verified notification that is not about this
// merchant's order: Field ("app_id", "seller_id" or "total_amount") holds
// Got where Want was expected.
type MismatchError struct {
	Field, Got, Want string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("alipay: notification does not match: %s %q, want %q", e.Field, e.Got, e.Want)
}

// Check compares a verified notification with the merchant's own data, in
// the order app_id, seller_id, total_amount. It returns a *MismatchError
// naming the first field that differs, or nil.
func (n *Notification) Check(want Expect) error {
	if n.AppID != want.AppID {
		return &MismatchError{"app_id", n.AppID, want.AppID}
	}
	if want.SellerID != "" && n.SellerID != want.SellerID {
		return &MismatchError{"seller_id", n.SellerID, want.SellerID}
	}
	if n.TotalAmount != want.TotalAmount {
		return &MismatchError{"total_amount", n.TotalAmount.String(), want.TotalAmount.String()}
	}
	return nil
}
