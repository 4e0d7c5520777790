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

func (c *Client) pagePayParams(method string, product ProductCode, p TradePagePayRequest) (map[string]string, error) {
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

// TradePagePayURL returns the signed GET URL of alipay.trade.page.pay;
// redirect the buyer's browser to it. No call is made: the trade is created
// when the buyer opens the cashier.
func (c *Client) TradePagePayURL(p TradePagePayRequest) (string, error) {
	params, err := c.pagePayParams("alipay.trade.page.pay", ProductCodePagePay, p)
	if err != nil {
		return "", err
	}
	return c.gatewayURL(params), nil
}

// TradeWapPayURL is TradePagePayURL for alipay.trade.wap.pay (mobile
// browsers).
func (c *Client) TradeWapPayURL(p TradePagePayRequest) (string, error) {
	params, err := c.pagePayParams("alipay.trade.wap.pay", ProductCodeWapPay, p)
	if err != nil {
		return "", err
	}
	return c.gatewayURL(params), nil
}

// TradePagePayForm returns an HTML form that POSTs the signed page-pay
// request to the gateway and submits itself, the way the official SDKs'
// pageExecute do. Use it when a GET URL would be too long. All values are
// HTML-escaped.
func (c *Client) TradePagePayForm(p TradePagePayRequest) (string, error) {
	params, err := c.pagePayParams("alipay.trade.page.pay", ProductCodePagePay, p)
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

// tradeRef names a trade in a request's business content: by out_trade_no
// or by Alipay's trade_no (trade_no wins when both are given).
type tradeRef struct {
	OutTradeNo string `json:"out_trade_no,omitempty"`
	TradeNo    string `json:"trade_no,omitempty"`
}

func (r tradeRef) check() error {
	if r.OutTradeNo == "" && r.TradeNo == "" {
		return fmt.Errorf("%w: give out_trade_no or trade_no", ErrInvalidParam)
	}
	return nil
}

// notifyURL is p's notify URL, or the client's default.
func (c *Client) notifyURL(p string) map[string]string {
	if p == "" {
		p = c.cfg.NotifyURL
	}
	return map[string]string{"notify_url": p}
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

// TradePrecreateResult is the answer of alipay.trade.precreate.
type TradePrecreateResult struct {
	OutTradeNo string    `json:"out_trade_no"`
	QRCode     string    `json:"qr_code"`
	Raw        *Response `json:"-"`
}

// TradePrecreate calls alipay.trade.precreate, which asks Alipay for a QR
// code the buyer scans to pay.
func (c *Client) TradePrecreate(ctx context.Context, p TradePrecreateRequest) (*TradePrecreateResult, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return nil, err
	}
	biz := precreateBiz{OutTradeNo: p.OutTradeNo, TotalAmount: p.TotalAmount, Subject: p.Subject, ProductCode: p.ProductCode,
		Body: p.Body, TimeoutExpress: p.TimeoutExpress, TimeExpire: formatOptTime(p.TimeExpire), StoreID: p.StoreID}
	var r TradePrecreateResult
	raw, err := c.do(ctx, request{method: "alipay.trade.precreate", biz: biz, extra: c.notifyURL(p.NotifyURL)}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
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

// TradeCreate calls alipay.trade.create, which opens a WAIT_BUYER_PAY trade
// for the given buyer.
func (c *Client) TradeCreate(ctx context.Context, p TradeCreateRequest) (*TradeCreateResult, error) {
	if err := checkTrade(p.OutTradeNo, p.TotalAmount, p.Subject); err != nil {
		return nil, err
	}
	if (p.BuyerID == "") == (p.BuyerOpenID == "") {
		return nil, fmt.Errorf("%w: give buyer_id or buyer_open_id", ErrInvalidParam)
	}
	biz := precreateBiz{OutTradeNo: p.OutTradeNo, TotalAmount: p.TotalAmount, Subject: p.Subject, ProductCode: p.ProductCode,
		Body: p.Body, TimeoutExpress: p.TimeoutExpress, TimeExpire: formatOptTime(p.TimeExpire), StoreID: p.StoreID,
		BuyerID: p.BuyerID, BuyerOpenID: p.BuyerOpenID}
	var r TradeCreateResult
	raw, err := c.do(ctx, request{method: "alipay.trade.create", biz: biz, extra: c.notifyURL(p.NotifyURL)}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
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

// TradeQuery calls alipay.trade.query. A trade the buyer has not reached yet
// answers *Error with SubCode ACQ.TRADE_NOT_EXIST (see IsTradeNotExist).
func (c *Client) TradeQuery(ctx context.Context, p TradeQueryRequest) (*TradeQueryResult, error) {
	ref := tradeRef(p)
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

// refundBiz is the biz_content of a refund.
type refundBiz struct {
	tradeRef
	RefundAmount Amount `json:"refund_amount"`
	OutRequestNo string `json:"out_request_no"`
	RefundReason string `json:"refund_reason,omitempty"`
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

// TradeRefund calls alipay.trade.refund.
func (c *Client) TradeRefund(ctx context.Context, p TradeRefundRequest) (*TradeRefundResult, error) {
	biz := refundBiz{tradeRef{p.OutTradeNo, p.TradeNo}, p.RefundAmount, p.OutRequestNo, p.RefundReason}
	if err := biz.check(); err != nil {
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
	raw, err := c.do(ctx, request{method: "alipay.trade.refund", biz: biz}, &w)
	if err == nil {
		r.GmtRefundPay, err = responseTime(raw, "gmt_refund_pay", w.GmtRefundPay)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
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

// TradeFastPayRefundQuery calls alipay.trade.fastpay.refund.query for one
// refund.
func (c *Client) TradeFastPayRefundQuery(ctx context.Context, p TradeFastPayRefundQueryRequest) (*TradeFastPayRefundQueryResult, error) {
	ref := tradeRef{p.OutTradeNo, p.TradeNo}
	if err := ref.check(); err != nil {
		return nil, err
	}
	if p.OutRequestNo == "" {
		return nil, fmt.Errorf("%w: out_request_no is required", ErrInvalidParam)
	}
	biz := struct {
		tradeRef
		OutRequestNo string   `json:"out_request_no"`
		QueryOptions []string `json:"query_options"`
	}{ref, p.OutRequestNo, []string{"gmt_refund_pay"}}
	var r TradeFastPayRefundQueryResult
	w := struct {
		*TradeFastPayRefundQueryResult
		GmtRefundPay string `json:"gmt_refund_pay"`
	}{TradeFastPayRefundQueryResult: &r}
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

// TradeClose calls alipay.trade.close; only a WAIT_BUYER_PAY trade can be
// closed (others answer ACQ.TRADE_STATUS_ERROR; a trade never opened answers
// ACQ.TRADE_NOT_EXIST).
func (c *Client) TradeClose(ctx context.Context, p TradeCloseRequest) (*TradeCloseResult, error) {
	ref := tradeRef(p)
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

// TradeCancel calls alipay.trade.cancel (for a payment whose outcome is
// unknown): an unpaid trade is closed, a paid one refunded.
func (c *Client) TradeCancel(ctx context.Context, p TradeCancelRequest) (*TradeCancelResult, error) {
	ref := tradeRef(p)
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

// BillDownloadURLQuery calls alipay.data.dataservice.bill.downloadurl.query,
// which answers the URL of a bill. No bill answers *Error with SubCode
// isp.bill_not_exist.
func (c *Client) BillDownloadURLQuery(ctx context.Context, p BillDownloadURLQueryRequest) (*BillDownloadURLQueryResult, error) {
	if p.BillType == "" || !billDateRe.MatchString(p.BillDate) {
		return nil, fmt.Errorf("%w: bill_type is required and bill_date %q must be yyyy-MM-dd or yyyy-MM", ErrInvalidParam, p.BillDate)
	}
	biz := map[string]string{"bill_type": p.BillType, "bill_date": p.BillDate}
	var r BillDownloadURLQueryResult
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
