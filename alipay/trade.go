package alipay

import (
	"alishop/alipay/wire"
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var (
	outTradeNoRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	billDateRe   = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$`)
)

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
	action := c.cfg.Gateway + querySep(c.cfg.Gateway) + wire.EncodeFormWithout(params, "biz_content")
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
		return time.Time{}, wire.WithResponse(raw, fmt.Errorf("alipay: %s: %w: %w: %s: %v", raw.Method, ErrUnknownOutcome, ErrBadResponse, key, err))
	}
	return t, nil
}

// refundBiz is the biz_content of a refund.
type refundBiz struct {
	tradeRef
	RefundAmount Amount `json:"refund_amount"`
	OutRequestNo string `json:"out_request_no"`
	RefundReason string `json:"refund_reason,omitempty"`
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
		return nil, wire.WithResponse(raw, fmt.Errorf("alipay: bill download URL %q: %w", r.BillDownloadURL, ErrBadResponse))
	}
	r.Raw = raw
	return &r, nil
}
