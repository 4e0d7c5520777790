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
	unsigned, err := c.verifyNotifySignature(pairs, params)
	if err != nil {
		return nil, err
	}
	n, err := parseNotification(pairs, params)
	if err != nil {
		return nil, err
	}
	n.unsigned = unsigned
	return n, nil
}

// verifyNotifySignature checks the v1 signature and the charset of a
// notification's parameters (the rules every notification type shares). It
// returns the parameter the signature left out although the rule signs it
// ("" or alipay_cert_sn).
func (c *Client) verifyNotifySignature(pairs []formPair, params map[string]string) (string, error) {
	sign := params["sign"]
	if sign == "" {
		return "", fmt.Errorf("%w: %w: no sign parameter", ErrSignature, ErrUnsigned)
	}
	if st := params["sign_type"]; st != "" && SignType(st) != c.cfg.SignType {
		return "", fmt.Errorf("%w: sign_type %s, want %s", ErrSignature, st, c.cfg.SignType)
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
		return "", err
	}
	if err := checkCharset(pairs, params["charset"]); err != nil {
		return "", err
	}
	return unsigned, nil
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

// notifyKeys lists the keys that may have signed a notification or return
// (which normally carry no cert SN): the public key, or every loaded Alipay
// certificate, the one named by sn (if any) first.
func (c *Client) notifyKeys(sn string) []*rsa.PublicKey {
	if c.cfg.AlipayPublicKey != nil || c.cfg.Certificates == nil {
		return []*rsa.PublicKey{c.cfg.AlipayPublicKey}
	}
	all := c.cfg.Certificates.alipayKeys
	keys := make([]*rsa.PublicKey, 0, len(all))
	if k, ok := all[sn]; ok {
		keys = append(keys, k)
	}
	for s, k := range all {
		if s != sn {
			keys = append(keys, k)
		}
	}
	return keys
}

// ErrBadNotification marks a notification that is not a well-formed form or
// has malformed fields.
var ErrBadNotification = errors.New("alipay: malformed notification")

// parseNotification builds the Notification from pairs (the same content as
// p, which becomes Notification.Params). Empty values count as absent.
func parseNotification(pairs []formPair, p map[string]string) (*Notification, error) {
	n := &Notification{Params: p}
	var errs []error
	for _, kv := range pairs {
		k, v := kv.k, kv.v
		if v == "" {
			continue
		}
		if f := n.textField(k); f != nil {
			*f = v
		} else if f := n.amountField(k); f != nil {
			a, err := ParseAmount(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
			*f = a
		} else if f := n.timeField(k); f != nil {
			t, err := ParseTime(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
			*f = t
		} else if k == "trade_status" {
			n.TradeStatus = TradeStatus(v)
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

// textField is the text field of n that parameter key fills, or nil.
func (n *Notification) textField(key string) *string {
	switch key {
	case "notify_id":
		return &n.NotifyID
	case "notify_type":
		return &n.NotifyType
	case "method":
		return &n.Method
	case "app_id":
		return &n.AppID
	case "auth_app_id":
		return &n.AuthAppID
	case "charset":
		return &n.Charset
	case "version":
		return &n.Version
	case "sign_type":
		return &n.SignType
	case "trade_no":
		return &n.TradeNo
	case "out_trade_no":
		return &n.OutTradeNo
	case "out_biz_no":
		return &n.OutBizNo
	case "buyer_id":
		return &n.BuyerID
	case "buyer_open_id":
		return &n.BuyerOpenID
	case "buyer_logon_id":
		return &n.BuyerLogonID
	case "seller_id":
		return &n.SellerID
	case "seller_email":
		return &n.SellerEmail
	case "subject":
		return &n.Subject
	case "body":
		return &n.Body
	case "passback_params":
		return &n.PassbackParams
	case "fund_bill_list":
		return &n.FundBillList
	}
	return nil
}

// amountField is the amount of n that parameter key fills, or nil.
func (n *Notification) amountField(key string) *Amount {
	switch key {
	case "total_amount":
		return &n.TotalAmount
	case "receipt_amount":
		return &n.ReceiptAmount
	case "invoice_amount":
		return &n.InvoiceAmount
	case "buyer_pay_amount":
		return &n.BuyerPayAmount
	case "point_amount":
		return &n.PointAmount
	case "refund_fee":
		return &n.RefundFee
	}
	return nil
}

// timeField is the time of n that parameter key fills, or nil.
func (n *Notification) timeField(key string) *time.Time {
	switch key {
	case "notify_time":
		return &n.NotifyTime
	case "gmt_create":
		return &n.GmtCreate
	case "gmt_payment":
		return &n.GmtPayment
	case "gmt_refund":
		return &n.GmtRefund
	case "gmt_close":
		return &n.GmtClose
	}
	return nil
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
