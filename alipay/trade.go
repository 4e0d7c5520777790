package alipay

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// ProductCode names the product a trade is sold under.
type ProductCode string

// Product codes.
const (
	ProductPagePay ProductCode = "FAST_INSTANT_TRADE_PAY" // alipay.trade.page.pay
	ProductWapPay  ProductCode = "QUICK_WAP_WAY"          // alipay.trade.wap.pay
	ProductQRCode  ProductCode = "QR_CODE_OFFLINE"        // alipay.trade.precreate (订单码支付)
)

// TradeStatus is the state of a trade at Alipay.
type TradeStatus string

// Trade statuses.
const (
	WaitBuyerPay  TradeStatus = "WAIT_BUYER_PAY" // created, not paid
	TradeSuccess  TradeStatus = "TRADE_SUCCESS"  // paid, refundable
	TradeFinished TradeStatus = "TRADE_FINISHED" // paid, no longer refundable
	TradeClosed   TradeStatus = "TRADE_CLOSED"   // closed unpaid, or fully refunded
)

// Paid reports whether the status means the buyer has paid.
func (s TradeStatus) Paid() bool { return s == TradeSuccess || s == TradeFinished }

var (
	outTradeNoRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	billDateRe   = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$`)
)

// ErrInvalidParam reports a parameter the client refuses to send.
var ErrInvalidParam = errors.New("alipay: invalid parameter")

func checkTrade(outTradeNo string, amount Amount, subject string) error {
	if !outTradeNoRe.MatchString(outTradeNo) {
		return fmt.Errorf("%w: out_trade_no %q must be 1-64 letters, digits, _ or -", ErrInvalidParam, outTradeNo)
	}
	if !amount.Valid() {
		return fmt.Errorf("%w: total_amount %s must be 0.01 to 100000000.00 yuan", ErrInvalidParam, amount)
	}
	if subject == "" || strings.ContainsAny(subject, "/=&") || len([]rune(subject)) > 256 {
		return fmt.Errorf("%w: subject %q must be 1-256 characters without / = &", ErrInvalidParam, subject)
	}
	return nil
}

// TradePagePay is the business content of alipay.trade.page.pay (PC web) and
// alipay.trade.wap.pay (mobile web).
type TradePagePay struct {
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

// pagePayBiz is the biz_content of a page or wap pay, its fields in the
// alphabetical order of their names as the official SDKs' examples write it.
type pagePayBiz struct {
	Body           string      `json:"body,omitempty"`
	OutTradeNo     string      `json:"out_trade_no"`
	PassbackParams string      `json:"passback_params,omitempty"`
	ProductCode    ProductCode `json:"product_code"`
	QRPayMode      string      `json:"qr_pay_mode,omitempty"`
	QuitURL        string      `json:"quit_url,omitempty"`
	Subject        string      `json:"subject"`
	TimeExpire     string      `json:"time_expire,omitempty"`
	TimeoutExpress string      `json:"timeout_express,omitempty"`
	TotalAmount    Amount      `json:"total_amount"`
}

// formatOptTime formats t as FormatTime does, or "" for the zero time.
func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatTime(t)
}

func (c *Client) pagePayParams(method string, product ProductCode, p TradePagePay) (map[string]string, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return nil, err
	}
	if p.ProductCode == "" {
		p.ProductCode = product
	}
	biz := pagePayBiz{Body: p.Body, OutTradeNo: p.OutTradeNo, PassbackParams: p.PassbackParams,
		ProductCode: p.ProductCode, QRPayMode: p.QRPayMode, QuitURL: p.QuitURL, Subject: p.Subject,
		TimeExpire: formatOptTime(p.TimeExpire), TimeoutExpress: p.TimeoutExpress, TotalAmount: p.TotalAmount}
	extra := map[string]string{"notify_url": p.NotifyURL, "return_url": p.ReturnURL}
	if extra["notify_url"] == "" {
		extra["notify_url"] = c.cfg.NotifyURL
	}
	if extra["return_url"] == "" {
		extra["return_url"] = c.cfg.ReturnURL
	}
	return c.params(request{method: method, biz: biz, extra: extra})
}

// PagePayURL returns the signed GET URL of alipay.trade.page.pay; redirect the
// buyer's browser to it. No call is made: the trade is created when the buyer
// opens the cashier.
func (c *Client) PagePayURL(p TradePagePay) (string, error) {
	params, err := c.pagePayParams("alipay.trade.page.pay", ProductPagePay, p)
	if err != nil {
		return "", err
	}
	return c.gatewayURL(params), nil
}

// WapPayURL is PagePayURL for alipay.trade.wap.pay (mobile browsers).
func (c *Client) WapPayURL(p TradePagePay) (string, error) {
	params, err := c.pagePayParams("alipay.trade.wap.pay", ProductWapPay, p)
	if err != nil {
		return "", err
	}
	return c.gatewayURL(params), nil
}

// PagePayForm returns an HTML form that POSTs the signed page-pay request to
// the gateway and submits itself, the way the official SDKs' pageExecute do.
// Use it when a GET URL would be too long. All values are HTML-escaped.
func (c *Client) PagePayForm(p TradePagePay) (string, error) {
	params, err := c.pagePayParams("alipay.trade.page.pay", ProductPagePay, p)
	if err != nil {
		return "", err
	}
	return c.autoSubmitForm(params), nil
}

func (c *Client) gatewayURL(params map[string]string) string {
	return c.cfg.Gateway + querySep(c.cfg.Gateway) + EncodeForm(params)
}

// autoSubmitForm builds the form the Java SDK's pageExecute builds: the
// protocol parameters (sign included) in the action URL, biz_content in a
// hidden field.
func (c *Client) autoSubmitForm(params map[string]string) string {
	action := c.cfg.Gateway + querySep(c.cfg.Gateway) + encodeParams(params, "biz_content")
	var b strings.Builder
	b.WriteString(`<form name="punchout_form" method="post" action="` + html.EscapeString(action) + `">` + "\n")
	if biz, ok := params["biz_content"]; ok {
		b.WriteString(`<input type="hidden" name="biz_content" value="` + html.EscapeString(biz) + `">` + "\n")
	}
	b.WriteString(`<input type="submit" value="立即支付" style="display:none">` + "\n</form>\n<script>document.forms[0].submit();</script>\n")
	return b.String()
}

// TradePrecreate is the business content of alipay.trade.precreate.
type TradePrecreate struct {
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

// precreateBiz is the biz_content of a precreate (and of a create).
type precreateBiz struct {
	OutTradeNo     string      `json:"out_trade_no"`
	TotalAmount    Amount      `json:"total_amount"`
	Subject        string      `json:"subject"`
	ProductCode    ProductCode `json:"product_code,omitempty"`
	Body           string      `json:"body,omitempty"`
	TimeoutExpress string      `json:"timeout_express,omitempty"`
	TimeExpire     string      `json:"time_expire,omitempty"`
	StoreID        string      `json:"store_id,omitempty"`
	BuyerID        string      `json:"buyer_id,omitempty"`
	BuyerOpenID    string      `json:"buyer_open_id,omitempty"`
}

func (p TradePrecreate) biz() precreateBiz {
	return precreateBiz{OutTradeNo: p.OutTradeNo, TotalAmount: p.TotalAmount, Subject: p.Subject, ProductCode: p.ProductCode,
		Body: p.Body, TimeoutExpress: p.TimeoutExpress, TimeExpire: formatOptTime(p.TimeExpire), StoreID: p.StoreID}
}

// PrecreateResult is the answer of alipay.trade.precreate.
type PrecreateResult struct {
	OutTradeNo string    `json:"out_trade_no"`
	QRCode     string    `json:"qr_code"`
	Raw        *Response `json:"-"`
}

// Precreate asks Alipay for a QR code the buyer scans to pay.
func (c *Client) Precreate(ctx context.Context, p TradePrecreate) (*PrecreateResult, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return nil, err
	}
	notify := p.NotifyURL
	if notify == "" {
		notify = c.cfg.NotifyURL
	}
	var r PrecreateResult
	raw, err := c.do(ctx, request{method: "alipay.trade.precreate", biz: p.biz(), extra: map[string]string{"notify_url": notify}}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// TradeCreate is the business content of alipay.trade.create: a trade for
// a known buyer (BuyerID or BuyerOpenID), paid in Alipay's app or mini
// program.
type TradeCreate struct {
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

// CreateTrade calls alipay.trade.create, which opens a WAIT_BUYER_PAY trade
// for the given buyer.
func (c *Client) CreateTrade(ctx context.Context, p TradeCreate) (*TradeCreateResult, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return nil, err
	}
	if (p.BuyerID == "") == (p.BuyerOpenID == "") {
		return nil, fmt.Errorf("%w: give buyer_id or buyer_open_id", ErrInvalidParam)
	}
	notify := p.NotifyURL
	if notify == "" {
		notify = c.cfg.NotifyURL
	}
	biz := precreateBiz{OutTradeNo: p.OutTradeNo, TotalAmount: p.TotalAmount, Subject: p.Subject, ProductCode: p.ProductCode,
		Body: p.Body, TimeoutExpress: p.TimeoutExpress, TimeExpire: formatOptTime(p.TimeExpire), StoreID: p.StoreID,
		BuyerID: p.BuyerID, BuyerOpenID: p.BuyerOpenID}
	var r TradeCreateResult
	raw, err := c.do(ctx, request{method: "alipay.trade.create", biz: biz, extra: map[string]string{"notify_url": notify}}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// TradeRef names a trade by out_trade_no or Alipay's trade_no (trade_no wins
// when both are given).
type TradeRef struct {
	OutTradeNo string `json:"out_trade_no,omitempty"`
	TradeNo    string `json:"trade_no,omitempty"`
}

func (r TradeRef) check() error {
	if r.OutTradeNo == "" && r.TradeNo == "" {
		return fmt.Errorf("%w: give out_trade_no or trade_no", ErrInvalidParam)
	}
	return nil
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

// Query calls alipay.trade.query. A trade the buyer has not reached yet
// answers *Error with SubCode ACQ.TRADE_NOT_EXIST (see IsTradeNotExist).
func (c *Client) Query(ctx context.Context, ref TradeRef) (*TradeQueryResult, error) {
	if err := ref.check(); err != nil {
		return nil, err
	}
	var r TradeQueryResult
	w := struct {
		*TradeQueryResult
		SendPayDate string `json:"send_pay_date"`
	}{TradeQueryResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.trade.query", biz: ref}, &w)
	if err == nil {
		r.SendPayDate, err = responseTime(raw, "send_pay_date", w.SendPayDate)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// responseTime parses the time field key of a verified answer; "" is the
// zero time. A bad value makes the answer unreadable: the outcome is unknown.
func responseTime(raw *Response, key, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, withResponse(raw, fmt.Errorf("alipay: %s: %w: %w: %s: %v", raw.Method, ErrUnknownOutcome, ErrBadResponse, key, err))
	}
	return t, nil
}

// IsTradeNotExist reports whether err is Alipay's ACQ.TRADE_NOT_EXIST.
func IsTradeNotExist(err error) bool { return HasSubCode(err, SubTradeNotExist) }

// HasSubCode reports whether err is a verified *Error with the given sub_code.
func HasSubCode(err error, subCode SubCode) bool {
	var e *Error
	return errors.As(err, &e) && !e.Unverified && e.SubCode == subCode
}

// TradeRefund is the business content of alipay.trade.refund.
type TradeRefund struct {
	TradeRef
	RefundAmount Amount `json:"refund_amount"`
	// OutRequestNo identifies this refund within the trade. Store it before
	// the call and send the same value on every retry: Alipay then refunds
	// once and answers fund_change=N to the repeats.
	OutRequestNo string `json:"out_request_no"`
	RefundReason string `json:"refund_reason,omitempty"`
}

// TradeRefundResult is the answer of alipay.trade.refund.
type TradeRefundResult struct {
	TradeNo      string    `json:"trade_no"`
	OutTradeNo   string    `json:"out_trade_no"`
	BuyerLogonID string    `json:"buyer_logon_id"`
	FundChange   string    `json:"fund_change"` // Y: money moved by this call; N: a repeat (or confirm with RefundQuery)
	RefundFee    Amount    `json:"refund_fee"`  // the trade's cumulative refunded total
	GmtRefundPay time.Time `json:"gmt_refund_pay"`
	SendBackFee  Amount    `json:"send_back_fee"`
	Raw          *Response `json:"-"`
}

// Refund calls alipay.trade.refund.
func (c *Client) Refund(ctx context.Context, p TradeRefund) (*TradeRefundResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if !p.RefundAmount.Valid() {
		return nil, fmt.Errorf("%w: refund_amount %s", ErrInvalidParam, p.RefundAmount)
	}
	if !outTradeNoRe.MatchString(p.OutRequestNo) {
		return nil, fmt.Errorf("%w: out_request_no %q must be 1-64 letters, digits, _ or -", ErrInvalidParam, p.OutRequestNo)
	}
	var r TradeRefundResult
	w := struct {
		*TradeRefundResult
		GmtRefundPay string `json:"gmt_refund_pay"`
	}{TradeRefundResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.trade.refund", biz: p}, &w)
	if err == nil {
		r.GmtRefundPay, err = responseTime(raw, "gmt_refund_pay", w.GmtRefundPay)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// RefundQueryResult is the answer of alipay.trade.fastpay.refund.query.
type RefundQueryResult struct {
	TradeNo      string    `json:"trade_no"`
	OutTradeNo   string    `json:"out_trade_no"`
	OutRequestNo string    `json:"out_request_no"`
	RefundAmount Amount    `json:"refund_amount"`
	TotalAmount  Amount    `json:"total_amount"`
	RefundStatus string    `json:"refund_status"` // REFUND_SUCCESS, or "" when not (yet) refunded
	RefundReason string    `json:"refund_reason"`
	GmtRefundPay time.Time `json:"gmt_refund_pay"`
	Raw          *Response `json:"-"`
}

// Refunded reports whether the queried refund succeeded.
func (r *RefundQueryResult) Refunded() bool { return r.RefundStatus == "REFUND_SUCCESS" }

// RefundQuery calls alipay.trade.fastpay.refund.query for one refund.
func (c *Client) RefundQuery(ctx context.Context, ref TradeRef, outRequestNo string) (*RefundQueryResult, error) {
	if err := ref.check(); err != nil {
		return nil, err
	}
	if outRequestNo == "" {
		return nil, fmt.Errorf("%w: out_request_no is required", ErrInvalidParam)
	}
	biz := struct {
		TradeRef
		OutRequestNo string   `json:"out_request_no"`
		QueryOptions []string `json:"query_options"`
	}{ref, outRequestNo, []string{"gmt_refund_pay"}}
	var r RefundQueryResult
	w := struct {
		*RefundQueryResult
		GmtRefundPay string `json:"gmt_refund_pay"`
	}{RefundQueryResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.trade.fastpay.refund.query", biz: biz}, &w)
	if err == nil {
		r.GmtRefundPay, err = responseTime(raw, "gmt_refund_pay", w.GmtRefundPay)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// TradeCloseResult is the answer of alipay.trade.close.
type TradeCloseResult struct {
	TradeNo    string    `json:"trade_no"`
	OutTradeNo string    `json:"out_trade_no"`
	Raw        *Response `json:"-"`
}

// CloseTrade calls alipay.trade.close; only a WAIT_BUYER_PAY trade can be
// closed (others answer ACQ.TRADE_STATUS_ERROR; a trade never opened answers
// ACQ.TRADE_NOT_EXIST).
func (c *Client) CloseTrade(ctx context.Context, ref TradeRef) (*TradeCloseResult, error) {
	if err := ref.check(); err != nil {
		return nil, err
	}
	var r TradeCloseResult
	raw, err := c.do(ctx, request{method: "alipay.trade.close", biz: ref}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// TradeCancelResult is the answer of alipay.trade.cancel.
type TradeCancelResult struct {
	TradeNo    string    `json:"trade_no"`
	OutTradeNo string    `json:"out_trade_no"`
	RetryFlag  string    `json:"retry_flag"`
	Action     string    `json:"action"` // close (was unpaid) or refund (was paid)
	Raw        *Response `json:"-"`
}

// CancelTrade calls alipay.trade.cancel (for a payment whose outcome is
// unknown): an unpaid trade is closed, a paid one refunded.
func (c *Client) CancelTrade(ctx context.Context, ref TradeRef) (*TradeCancelResult, error) {
	if err := ref.check(); err != nil {
		return nil, err
	}
	var r TradeCancelResult
	raw, err := c.do(ctx, request{method: "alipay.trade.cancel", biz: ref}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// BillDownloadResult is the answer of alipay.data.dataservice.bill.downloadurl.query.
type BillDownloadResult struct {
	BillDownloadURL string    `json:"bill_download_url"` // valid for 30 s
	BillFileCode    string    `json:"bill_file_code"`
	Raw             *Response `json:"-"`
}

// BillDownloadURL asks for the URL of a bill: billType "trade" or
// "signcustomer", billDate "yyyy-MM-dd" or "yyyy-MM". No bill answers
// *Error with SubCode isp.bill_not_exist.
func (c *Client) BillDownloadURL(ctx context.Context, billType, billDate string) (*BillDownloadResult, error) {
	if billType == "" || !billDateRe.MatchString(billDate) {
		return nil, fmt.Errorf("%w: bill_type is required and bill_date %q must be yyyy-MM-dd or yyyy-MM", ErrInvalidParam, billDate)
	}
	biz := map[string]string{"bill_type": billType, "bill_date": billDate}
	var r BillDownloadResult
	raw, err := c.do(ctx, request{method: "alipay.data.dataservice.bill.downloadurl.query", biz: biz}, &r)
	if err != nil {
		return nil, err
	}
	if _, err := url.Parse(r.BillDownloadURL); err != nil || r.BillDownloadURL == "" {
		return nil, withResponse(raw, fmt.Errorf("alipay: bill download URL %q: %w", r.BillDownloadURL, ErrBadResponse))
	}
	r.Raw = raw
	return &r, nil
}
