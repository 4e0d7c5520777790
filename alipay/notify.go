package alipay

import (
	"alishop/alipay/wire"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

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
	var buf [32]wire.Pair
	pairs, err := wire.ParsePairs(string(form), buf[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNotification, err)
	}
	return c.verifyNotification(pairs, wire.PairsMap(pairs))
}

// verifyNotification verifies params, also given as pairs sorted by key.
func (c *Client) verifyNotification(pairs []wire.Pair, params map[string]string) (*Notification, error) {
	unsigned, err := c.verifyNotifySignature(pairs, params)
	if err != nil {
		return nil, err
	}
	n, err := parseNotification(pairs, params)
	if err != nil {
		return nil, err
	}
	n.UnsignedParam = unsigned
	return n, nil
}

// verifyNotifySignature checks the v1 signature and the charset of a
// notification's parameters (the rules every notification type shares). It
// returns the parameter the signature left out although the rule signs it
// ("" or alipay_cert_sn).
func (c *Client) verifyNotifySignature(pairs []wire.Pair, params map[string]string) (string, error) {
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
	content := wire.AppendSignContent((*bp)[:0], pairs, RuleV1)
	err := verifyAny(keys, c.cfg.SignType, content, sign)
	if cap(content) <= 64<<10 {
		*bp = content[:0]
		contentPool.Put(bp)
	}
	unsigned := ""
	if err != nil && certSN != "" {
		// Alipay does not put alipay_cert_sn in notifications, but some
		// relays and SDKs add it without signing it: retry without it.
		rest := slices.DeleteFunc(slices.Clone(pairs), func(p wire.Pair) bool { return p.Key == "alipay_cert_sn" })
		err = verifyAny(keys, c.cfg.SignType, wire.AppendSignContent(nil, rest, RuleV1), sign)
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

func checkCharset(pairs []wire.Pair, charset string) error {
	cs := strings.ToLower(charset)
	utf := cs == "" || cs == "utf-8" || cs == "utf8"
	for _, p := range pairs {
		if utf {
			if !utf8.ValidString(p.Value) {
				return fmt.Errorf("%w: %s is not valid UTF-8", ErrCharset, p.Key)
			}
			continue
		}
		for i := 0; i < len(p.Value); i++ {
			if p.Value[i] >= 0x80 {
				return fmt.Errorf("%w: charset=%s and %s holds non-ASCII text; send requests with charset=utf-8", ErrCharset, charset, p.Key)
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

// parseNotification builds the Notification from pairs (the same content as
// p, which becomes Notification.Params). Empty values count as absent.
func parseNotification(pairs []wire.Pair, p map[string]string) (*Notification, error) {
	n := &Notification{Params: p}
	var errs []error
	for _, kv := range pairs {
		k, v := kv.Key, kv.Value
		if v == "" {
			continue
		}
		if f := textField(n, k); f != nil {
			*f = v
		} else if f := amountField(n, k); f != nil {
			a, err := ParseAmount(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
			*f = a
		} else if f := timeField(n, k); f != nil {
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
func textField(n *Notification, key string) *string {
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
func amountField(n *Notification, key string) *Amount {
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
func timeField(n *Notification, key string) *time.Time {
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
