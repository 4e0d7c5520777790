package alipay

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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

	// What the signature was verified over (SignedContent, SignedForm),
	// under RuleV1.
	unsigned string // a parameter left out of the string to sign although rule signs it ("" or alipay_cert_sn)
}

// signedParams is Params without a parameter the signature did not cover
// although the rule would sign it (an added alipay_cert_sn).
func (n *Notification) signedParams() map[string]string {
	if n.unsigned == "" {
		return n.Params
	}
	p := maps.Clone(n.Params)
	delete(p, n.unsigned)
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

// VerifyNotification verifies a notification or a return redirect and
// parses it. form is the raw form exactly as received: the body of the
// notify_url POST (never its URL query, which Alipay does not sign), or the
// raw query of the return_url GET (r.URL.RawQuery). It is decoded exactly
// once; a key given twice is refused. Both are signed under RuleV1.
//
// The error wraps ErrSignature (ErrUnsigned too when there is no sign),
// ErrBadNotification or ErrCharset. Verifying proves that Alipay sent the
// message, not that it is about this merchant's order: call
// Notification.Check before acting on it. Treat a return as a hint only and
// confirm the payment with TradeQuery or the notification.
func (c *Client) VerifyNotification(form []byte) (*Notification, error) {
	var buf [32]formPair
	pairs, err := parseFormPairs(string(form), buf[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNotification, err)
	}
	return c.verifyNotification(pairs, pairsMap(pairs))
}

// verifyNotification verifies params, also given as pairs sorted by key.
func (c *Client) verifyNotification(pairs []formPair, params map[string]string) (*Notification, error) {
	sign := params["sign"]
	if sign == "" {
		return nil, fmt.Errorf("%w: %w: no sign parameter", ErrSignature, ErrUnsigned)
	}
	if st := params["sign_type"]; st != "" && SignType(st) != c.cfg.SignType {
		return nil, fmt.Errorf("%w: sign_type %s, want %s", ErrSignature, st, c.cfg.SignType)
	}
	certSN := params["alipay_cert_sn"]
	keys := c.notifyKeys(certSN)
	bp := contentPool.Get().(*[]byte)
	content := appendSignContent((*bp)[:0], pairs, RuleV1)
	err := verifyAny(keys, c.cfg.SignType, content, sign)
	if cap(content) <= 64<<10 {
		*bp = content[:0]
		contentPool.Put(bp)
	}
	unsigned := ""
	if err != nil && certSN != "" {
		// Alipay does not put alipay_cert_sn in notifications, but some
		// relays and SDKs add it without signing it: retry without it.
		rest := slices.DeleteFunc(slices.Clone(pairs), func(p formPair) bool { return p.k == "alipay_cert_sn" })
		err = verifyAny(keys, c.cfg.SignType, appendSignContent(nil, rest, RuleV1), sign)
		if err == nil {
			unsigned = "alipay_cert_sn"
		}
	}
	if err != nil {
		return nil, err
	}
	if err := checkCharset(pairs, params["charset"]); err != nil {
		return nil, err
	}
	n, err := parseNotification(pairs, params)
	if err != nil {
		return nil, err
	}
	n.unsigned = unsigned
	return n, nil
}

func verifyAny(keys []*rsa.PublicKey, t SignType, content []byte, sign string) error {
	err := ErrSignature
	for _, k := range keys {
		if err = Verify(k, t, content, sign); err == nil {
			return nil
		}
	}
	return err
}

// ErrCharset marks a verified notification in a charset other than UTF-8
// (Alipay uses the charset of the request, and this client always sends
// utf-8). Its signature is valid, but its text cannot be read without GBK
// tables, which the standard library lacks, so it is refused rather than
// returned garbled.
var ErrCharset = errors.New("alipay: notification is not UTF-8")

func checkCharset(pairs []formPair, charset string) error {
	cs := strings.ToLower(charset)
	utf := cs == "" || cs == "utf-8" || cs == "utf8"
	for _, p := range pairs {
		if utf {
			if !utf8.ValidString(p.v) {
				return fmt.Errorf("%w: %s is not valid UTF-8", ErrCharset, p.k)
			}
			continue
		}
		for i := 0; i < len(p.v); i++ {
			if p.v[i] >= 0x80 {
				return fmt.Errorf("%w: charset=%s and %s holds non-ASCII text; send requests with charset=utf-8", ErrCharset, charset, p.k)
			}
		}
	}
	return nil
}

// ErrBadNotification marks a notification that is not a well-formed form or
// has malformed fields.
var ErrBadNotification = errors.New("alipay: malformed notification")

// parseNotification builds the Notification from pairs (the same content as
// p, which becomes Notification.Params).
func parseNotification(pairs []formPair, p map[string]string) (*Notification, error) {
	n := &Notification{Params: p}
	var errs []error
	amt := func(dst *Amount, key, s string) {
		v, err := ParseAmount(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
		*dst = v
	}
	tm := func(dst *time.Time, key, s string) {
		v, err := ParseTime(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
		*dst = v
	}
	for _, kv := range pairs {
		v := kv.v
		if v == "" {
			continue
		}
		switch kv.k {
		case "notify_id":
			n.NotifyID = v
		case "notify_type":
			n.NotifyType = v
		case "method":
			n.Method = v
		case "app_id":
			n.AppID = v
		case "auth_app_id":
			n.AuthAppID = v
		case "charset":
			n.Charset = v
		case "version":
			n.Version = v
		case "sign_type":
			n.SignType = v
		case "trade_no":
			n.TradeNo = v
		case "out_trade_no":
			n.OutTradeNo = v
		case "out_biz_no":
			n.OutBizNo = v
		case "trade_status":
			n.TradeStatus = TradeStatus(v)
		case "buyer_id":
			n.BuyerID = v
		case "buyer_open_id":
			n.BuyerOpenID = v
		case "buyer_logon_id":
			n.BuyerLogonID = v
		case "seller_id":
			n.SellerID = v
		case "seller_email":
			n.SellerEmail = v
		case "subject":
			n.Subject = v
		case "body":
			n.Body = v
		case "passback_params":
			n.PassbackParams = v
		case "fund_bill_list":
			n.FundBillList = v
		case "total_amount":
			amt(&n.TotalAmount, kv.k, v)
		case "receipt_amount":
			amt(&n.ReceiptAmount, kv.k, v)
		case "invoice_amount":
			amt(&n.InvoiceAmount, kv.k, v)
		case "buyer_pay_amount":
			amt(&n.BuyerPayAmount, kv.k, v)
		case "point_amount":
			amt(&n.PointAmount, kv.k, v)
		case "refund_fee":
			amt(&n.RefundFee, kv.k, v)
		case "notify_time":
			tm(&n.NotifyTime, kv.k, v)
		case "gmt_create":
			tm(&n.GmtCreate, kv.k, v)
		case "gmt_payment":
			tm(&n.GmtPayment, kv.k, v)
		case "gmt_refund":
			tm(&n.GmtRefund, kv.k, v)
		case "gmt_close":
			tm(&n.GmtClose, kv.k, v)
		}
	}
	if n.OutTradeNo == "" {
		errs = append(errs, errors.New("out_trade_no is missing"))
	}
	if n.AppID == "" {
		errs = append(errs, errors.New("app_id is missing"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNotification, err)
	}
	return n, nil
}

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

// AckNotification answers a notification Alipay must stop resending: HTTP
// 200 with exactly the seven bytes "success". Answer anything else (or
// nothing) only when the notification was not handled, and Alipay retries
// it (4m, 10m, 10m, 1h, 2h, 6h, 15h). Handlers must be idempotent: the same
// notification (same notify_id) can arrive again, and TRADE_SUCCESS may be
// followed by TRADE_FINISHED months later.
func AckNotification(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "success")
}
