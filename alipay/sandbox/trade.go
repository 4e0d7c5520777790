package sandbox

import (
	"container/heap"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
)

// trade is a trade as Alipay keeps it.
type trade struct {
	AppID        string        `json:"app_id"`
	OutTradeNo   string        `json:"out_trade_no"`
	TradeNo      string        `json:"trade_no"`
	Method       string        `json:"method"` // the creating method
	ProductCode  string        `json:"product_code,omitempty"`
	Subject      string        `json:"subject"`
	Body         string        `json:"body,omitempty"`
	TotalAmount  alipay.Amount `json:"total_amount"`
	Status       string        `json:"trade_status"` // "" = precreated, not scanned yet: Alipay does not know it
	NotifyURL    string        `json:"notify_url,omitempty"`
	ReturnURL    string        `json:"return_url,omitempty"`
	QuitURL      string        `json:"quit_url,omitempty"`
	Passback     string        `json:"passback_params,omitempty"`
	StoreID      string        `json:"store_id,omitempty"`
	Charset      string        `json:"charset"`
	QR           string        `json:"qr,omitempty"`       // precreate: the code token
	QRExpire     time.Time     `json:"qr_expire,omitzero"` // precreate: the code can be scanned until then
	Requested    time.Time     `json:"requested"`
	Created      time.Time     `json:"created"`
	Expire       time.Time     `json:"expire"`
	Paid         time.Time     `json:"paid"`
	Closed       time.Time     `json:"closed"`
	BuyerID      string        `json:"buyer_id,omitempty"`
	BuyerLogin   string        `json:"buyer_login,omitempty"`
	Refunded     alipay.Amount `json:"refund_fee"`
	Refunds      []*refundRec  `json:"refunds,omitempty"`
	CancelAction string        `json:"cancel_action,omitempty"`
	RefundCalls  int           `json:"refund_calls,omitempty"` // sandbox rules: refund calls made
}

type refundRec struct {
	OutRequestNo string        `json:"out_request_no"`
	Amount       alipay.Amount `json:"refund_amount"`
	Reason       string        `json:"refund_reason,omitempty"`
	At           time.Time     `json:"gmt_refund"`
}

func tradeKey(appID, outTradeNo string) string { return appID + "\x00" + outTradeNo }

// expiryItem schedules the expiry of a waiting trade. An item is stale when
// the trade is no longer waiting or its expiry changed.
type expiryItem struct {
	at time.Time
	t  *trade
}

func (it expiryItem) live() bool {
	return it.t.Status == alipay.WaitBuyerPay && it.t.Expire.Equal(it.at)
}

type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// nextExpiry returns the earliest live expiry, dropping stale items on the
// way. Callers hold s.mu.
func (s *Sandbox) nextExpiry() (time.Time, bool) {
	for len(s.expiries) > 0 {
		if it := s.expiries[0]; it.live() {
			return it.at, true
		}
		heap.Pop(&s.expiries)
	}
	return time.Time{}, false
}

// expireTrades closes every trade whose expiry is due, and now and then
// drops the stale items the heap holds. Callers hold s.mu.
func (s *Sandbox) expireTrades(now time.Time) {
	for {
		at, ok := s.nextExpiry()
		if !ok || at.After(now) {
			break
		}
		it := heap.Pop(&s.expiries).(expiryItem)
		s.expireDue(it.t, now)
	}
	if len(s.expiries) > max(s.compactAt, 1024) || cap(s.expiries) > 4*len(s.expiries)+1024 {
		var live expiryHeap // a new array: the old one may be mostly stale
		for _, it := range s.expiries {
			if it.live() {
				live = append(live, it)
			}
		}
		s.expiries = live
		heap.Init(&s.expiries)
		s.compactAt = 2 * len(live)
	}
}

// RefundPeriod is how long after payment a trade can be refunded; then it
// becomes TRADE_FINISHED (PROTOCOL.md §7: 12 months for PC and face-to-face).
const RefundPeriod = 365 * 24 * time.Hour

// nextFinish returns when the earliest paid trade finishes, dropping trades
// that are no longer TRADE_SUCCESS. Payments happen in sandbox-clock order,
// so s.finishing is sorted by payment time. Callers hold s.mu.
func (s *Sandbox) nextFinish() (time.Time, bool) {
	for len(s.finishing) > 0 {
		if t := s.finishing[0]; t.Status == alipay.TradeSuccess {
			return t.Paid.Add(RefundPeriod), true
		}
		s.finishing[0] = nil
		s.finishing = s.finishing[1:]
	}
	return time.Time{}, false
}

// finishTrades ends the refundable period of the trades due. Callers hold s.mu.
func (s *Sandbox) finishTrades(now time.Time) {
	for {
		at, ok := s.nextFinish()
		if !ok || at.After(now) {
			return
		}
		t := s.finishing[0]
		s.finishing[0] = nil
		s.finishing = s.finishing[1:]
		s.finishTrade(t, at)
	}
}

// finishDue finishes t lazily if its refundable period is over. Callers hold s.mu.
func (s *Sandbox) finishDue(t *trade, now time.Time) {
	if t.Status == alipay.TradeSuccess && !now.Before(t.Paid.Add(RefundPeriod)) {
		s.finishTrade(t, t.Paid.Add(RefundPeriod))
	}
}

func (s *Sandbox) finishTrade(t *trade, at time.Time) {
	if t.Status != alipay.TradeSuccess {
		return
	}
	t.Status = alipay.TradeFinished
	s.persistTrade(t)
	if a := s.apps[t.AppID]; a != nil && a.notifies("finished") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = alipay.TradeFinished
		if t.Refunded > 0 {
			p["refund_fee"] = t.Refunded.String()
		}
		s.queueNote(t, a, p, "")
	}
}

// QRCodeTTL is how long a precreate QR code can be scanned (PROTOCOL.md §3.3).
const QRCodeTTL = 2 * time.Hour

// qrDeadline is when t's QR code stops scanning (trades stored before
// QRExpire existed use their expiry).
func (t *trade) qrDeadline() time.Time {
	if t.QRExpire.IsZero() {
		return t.Expire
	}
	return t.QRExpire
}

// tradeRef is the map key of a trade: its strings are the trade's own, so
// the index costs no extra allocation.
type tradeRef struct{ appID, outTradeNo string }

func tradeID(appID, outTradeNo string) tradeRef { return tradeRef{appID, outTradeNo} }

// intern returns a shared copy of v: trades repeat the same URLs, subjects
// and method names, and 100,000 trades should not hold 100,000 copies.
// Callers hold s.mu.
func (s *Sandbox) intern(v string) string {
	if v == "" {
		return ""
	}
	if x, ok := s.strs[v]; ok {
		return x
	}
	if len(s.strs) < 100_000 && len(v) <= 512 {
		s.strs[v] = v
	}
	return v
}

// indexTrade adds t to the maps. Callers hold s.mu.
func (s *Sandbox) indexTrade(t *trade) {
	s.trades[tradeID(t.AppID, t.OutTradeNo)] = t
	s.byNo[t.TradeNo] = t
	if t.QR != "" {
		s.byQR[t.QR] = t
	}
	if t.Status == alipay.WaitBuyerPay && !t.Expire.IsZero() {
		heap.Push(&s.expiries, expiryItem{t.Expire, t})
	}
}

var (
	outTradeNoRe = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	timeoutRe    = regexp.MustCompile(`^([1-9][0-9]{0,4})([mhd])$`)
	buyerIDRe    = regexp.MustCompile(`^2088[0-9]{12}$`)
)

// bizString reads a string field of biz_content; JSON numbers are accepted
// as their literal text (some clients send out_trade_no or amounts as numbers).
func (req *gwReq) bizString(k string) (string, bool) {
	raw, ok := req.biz[k]
	if !ok || string(raw) == "null" {
		return "", true
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return string(raw), true
	}
	return "", false
}

// bizAmount reads an amount field: a yuan string ("88.88", "13.5") or a JSON
// number (100, 369.0), exactly.
func (req *gwReq) bizAmount(k string) (alipay.Amount, bool, *node) {
	s, ok := req.bizString(k)
	if !ok {
		return 0, false, invalidParam(k + " 格式错误")
	}
	if s == "" {
		return 0, false, nil
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 2 {
		// 369.0 → fine; 1.000 → trim trailing zeros beyond two decimals
		trimmed := strings.TrimRight(s, "0")
		if len(trimmed)-i-1 <= 2 {
			s = strings.TrimSuffix(trimmed, ".")
		}
	}
	a, err := alipay.ParseAmount(s)
	if err != nil || !a.Valid() {
		return 0, false, invalidParam(k + " 金额无效 (0.01 至 100000000.00 元，最多两位小数): " + s)
	}
	return a, true, nil
}

func invalidParam(detail string) *node {
	return bizErr("ACQ.INVALID_PARAMETER", "参数无效: "+detail)
}

// tradeFields reads the fields shared by page/wap pay and precreate.
type newTrade struct {
	outTradeNo, subject, body, product, passback, storeID, quitURL string
	total                                                          alipay.Amount
	expire                                                         time.Time
}

func (s *Sandbox) readNewTrade(req *gwReq, now time.Time, defaultTimeout time.Duration) (*newTrade, *node) {
	nt := &newTrade{}
	var ok bool
	get := func(k string) string {
		v, good := req.bizString(k)
		if !good {
			ok = false
		}
		return v
	}
	ok = true
	nt.outTradeNo = get("out_trade_no")
	nt.subject = get("subject")
	nt.body = get("body")
	nt.product = get("product_code")
	nt.passback = get("passback_params")
	nt.storeID = get("store_id")
	nt.quitURL = get("quit_url")
	te, tx := get("time_expire"), get("timeout_express")
	if !ok {
		return nil, invalidParam("biz_content 字段类型错误")
	}
	if nt.outTradeNo == "" {
		return nil, invalidParam("缺少 out_trade_no")
	}
	if !outTradeNoRe.MatchString(nt.outTradeNo) {
		return nil, invalidParam("out_trade_no 仅支持字母、数字、下划线，且不超过 64 位")
	}
	total, has, n := req.bizAmount("total_amount")
	if n != nil {
		return nil, n
	}
	if !has {
		return nil, invalidParam("缺少 total_amount")
	}
	nt.total = total
	if strings.TrimSpace(nt.subject) == "" {
		return nil, invalidParam("缺少 subject")
	}
	if len([]rune(nt.subject)) > 256 {
		return nil, invalidParam("subject 超过 256 个字符")
	}
	switch {
	case te != "":
		t, err := time.ParseInLocation(alipay.TimeLayout, te, alipay.Beijing)
		if err != nil {
			return nil, invalidParam("time_expire 格式应为 yyyy-MM-dd HH:mm:ss")
		}
		if !t.After(now) {
			return nil, bizErr("ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR", "当前时间已超过允许支付的时间")
		}
		nt.expire = t
	case tx != "":
		e, err := parseTimeout(tx, now)
		if err != nil {
			return nil, invalidParam(err.Error())
		}
		nt.expire = e
	default:
		nt.expire = now.Add(defaultTimeout)
	}
	return nt, nil
}

// parseTimeout parses timeout_express: 1m to 15d in m, h or d; "1c" closes
// at midnight (Beijing) today.
func parseTimeout(s string, now time.Time) (time.Time, error) {
	if s == "1c" {
		y, m, d := now.In(alipay.Beijing).Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, alipay.Beijing), nil
	}
	mt := timeoutRe.FindStringSubmatch(s)
	if mt == nil {
		return time.Time{}, errors.New("timeout_express 格式错误 (取值 1m～15d，如 90m、2h、1d、1c)")
	}
	n, _ := strconv.Atoi(mt[1])
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[mt[2]]
	d := time.Duration(n) * unit
	if d > 15*24*time.Hour {
		return time.Time{}, errors.New("timeout_express 不能超过 15d")
	}
	return now.Add(d), nil
}

// expireDue closes t if it waits past its expiry. Callers hold s.mu.
func (s *Sandbox) expireDue(t *trade, now time.Time) {
	s.finishDue(t, now)
	if t.Status == alipay.WaitBuyerPay && !t.Expire.IsZero() && !now.Before(t.Expire) {
		s.closeTrade(t, t.Expire, "")
	}
}

// closeTrade closes a waiting trade and queues its notification.
func (s *Sandbox) closeTrade(t *trade, at time.Time, notifyURL string) {
	t.Status = alipay.TradeClosed
	t.Closed = at
	s.persistTrade(t)
	if a := s.apps[t.AppID]; a != nil && a.notifies("close") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = alipay.TradeClosed
		p["gmt_close"] = alipay.FormatTime(at)
		s.queueNote(t, a, p, notifyURL)
	}
}

// pagePay handles alipay.trade.page.pay and wap.pay: the buyer's browser
// arrives here and the trade is created when the cashier opens.
func (s *Sandbox) pagePay(w http.ResponseWriter, req *gwReq) {
	s.mu.Lock()
	now := s.now()
	nt, n := s.readNewTrade(req, now, 15*24*time.Hour)
	if n == nil {
		want := alipay.ProductPagePay
		if req.method == "alipay.trade.wap.pay" {
			want = alipay.ProductWapPay
		}
		if nt.product != "" && nt.product != want {
			n = invalidParam("product_code 应为 " + want)
		}
		nt.product = want
	}
	var t *trade
	if n == nil {
		t, n = s.openTrade(req, nt, now)
	}
	s.mu.Unlock()
	if n != nil {
		s.errorPage(w, &gwError{code: n.code, msg: n.msg, subCode: n.subCode, subMsg: n.subMsg})
		return
	}
	http.Redirect(w, req.r, s.baseURL(req.r)+"cashier/"+t.TradeNo, http.StatusSeeOther)
}

// openTrade creates (or reopens) the WAIT_BUYER_PAY trade of a page/wap
// pay request. Callers hold s.mu.
func (s *Sandbox) openTrade(req *gwReq, nt *newTrade, now time.Time) (*trade, *node) {
	a := req.app
	t := s.trades[tradeID(a.AppID, nt.outTradeNo)]
	if t != nil {
		s.expireDue(t, now)
		switch t.Status {
		case alipay.TradeSuccess, alipay.TradeFinished:
			return nil, bizErr("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
		case alipay.TradeClosed:
			return nil, bizErr("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
		}
		if t.TotalAmount != nt.total {
			return nil, bizErr("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
		}
	} else {
		t = &trade{AppID: a.AppID, OutTradeNo: nt.outTradeNo, TradeNo: newTradeNo(now), Requested: now}
	}
	if t.Status == "" {
		t.Status = alipay.WaitBuyerPay
		t.Created = now
	}
	t.Method, t.ProductCode = s.intern(req.method), nt.product
	t.Subject, t.Body, t.TotalAmount = s.intern(nt.subject), s.intern(nt.body), nt.total
	t.NotifyURL, t.ReturnURL, t.QuitURL = s.intern(req.p["notify_url"]), s.intern(req.p["return_url"]), s.intern(nt.quitURL)
	t.Passback, t.StoreID, t.Charset = nt.passback, s.intern(nt.storeID), req.charset
	t.Expire = nt.expire
	s.indexTrade(t)
	s.persistTrade(t)
	s.wakeWorker()
	return t, nil
}

// dispatch runs an API method and returns its response node.
func (s *Sandbox) dispatch(req *gwReq) *node {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	switch req.method {
	case "alipay.trade.precreate":
		return s.precreate(req, now)
	case "alipay.trade.create":
		return s.create(req, now)
	case "alipay.trade.query":
		return s.query(req, now)
	case "alipay.trade.refund":
		return s.refund(req, now)
	case "alipay.trade.fastpay.refund.query":
		return s.refundQuery(req, now)
	case "alipay.trade.close":
		return s.closeAPI(req, now)
	case "alipay.trade.cancel":
		return s.cancelAPI(req, now)
	case "alipay.data.dataservice.bill.downloadurl.query":
		return s.billURL(req, now)
	case alipay.AlipayCertDownloadMethod:
		return s.certDownload(req)
	}
	return gatewayErr("40002", "isv.invalid-method", "不存在的方法名").node()
}

func (s *Sandbox) precreate(req *gwReq, now time.Time) *node {
	// Face-to-face trades wait 3h by default; the QR code itself is valid
	// for 2h (PROTOCOL.md §3.3, §7).
	nt, n := s.readNewTrade(req, now, 3*time.Hour)
	if n != nil {
		return n
	}
	a := req.app
	t := s.trades[tradeID(a.AppID, nt.outTradeNo)]
	if t != nil {
		s.expireDue(t, now)
		switch t.Status {
		case alipay.TradeSuccess, alipay.TradeFinished:
			return bizErr("ACQ.TRADE_HAS_SUCCESS", "交易已被支付").str("out_trade_no", t.OutTradeNo)
		case alipay.TradeClosed:
			return bizErr("ACQ.TRADE_HAS_CLOSE", "交易已经关闭").str("out_trade_no", t.OutTradeNo)
		}
		if t.TotalAmount != nt.total {
			return bizErr("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改").str("out_trade_no", t.OutTradeNo)
		}
	} else {
		t = &trade{AppID: a.AppID, OutTradeNo: nt.outTradeNo, TradeNo: newTradeNo(now), Requested: now}
	}
	if t.QR == "" {
		t.QR = newToken()
	}
	t.Method, t.ProductCode = s.intern(req.method), s.intern(nt.product)
	if t.ProductCode == "" {
		t.ProductCode = alipay.ProductQRCode
	}
	t.Subject, t.Body, t.TotalAmount = s.intern(nt.subject), s.intern(nt.body), nt.total
	t.NotifyURL, t.Passback, t.StoreID, t.Charset = s.intern(req.p["notify_url"]), nt.passback, s.intern(nt.storeID), req.charset
	t.Expire = nt.expire
	if t.Status == "" {
		t.QRExpire = now.Add(QRCodeTTL)
		if t.Expire.Before(t.QRExpire) {
			t.QRExpire = t.Expire
		}
	}
	s.indexTrade(t)
	s.persistTrade(t)
	return okNode().str("out_trade_no", t.OutTradeNo).str("qr_code", s.baseURL(req.r)+"qr/"+t.QR)
}

// create handles alipay.trade.create: a WAIT_BUYER_PAY trade the buyer pays
// in an app or mini program (here: the cashier page or api/trades/pay).
func (s *Sandbox) create(req *gwReq, now time.Time) *node {
	nt, n := s.readNewTrade(req, now, 15*24*time.Hour)
	if n != nil {
		return n
	}
	if nt.product == "" {
		nt.product = "JSAPI_PAY"
	}
	buyer, ok := req.bizString("buyer_id")
	if !ok || buyer != "" && !buyerIDRe.MatchString(buyer) {
		return invalidParam("buyer_id 应为 2088 开头的 16 位数字")
	}
	t, n := s.openTrade(req, nt, now)
	if n != nil {
		return n.str("out_trade_no", nt.outTradeNo)
	}
	return okNode().str("out_trade_no", t.OutTradeNo).str("trade_no", t.TradeNo)
}

// lookup finds the trade named by trade_no (which wins) or out_trade_no.
// A precreated trade nobody has scanned does not exist for Alipay yet.
func (s *Sandbox) lookup(req *gwReq, now time.Time) (*trade, *node) {
	tradeNo, ok1 := req.bizString("trade_no")
	outNo, ok2 := req.bizString("out_trade_no")
	if !ok1 || !ok2 {
		return nil, invalidParam("trade_no/out_trade_no 类型错误")
	}
	if tradeNo == "" && outNo == "" {
		return nil, invalidParam("out_trade_no 和 trade_no 不能同时为空")
	}
	var t *trade
	if tradeNo != "" {
		t = s.byNo[tradeNo]
	} else {
		t = s.trades[tradeID(req.app.AppID, outNo)]
	}
	if t == nil || t.AppID != req.app.AppID || t.Status == "" {
		n := bizErr("ACQ.TRADE_NOT_EXIST", "交易不存在")
		n.str("out_trade_no", outNo).str("trade_no", tradeNo)
		return nil, n
	}
	s.expireDue(t, now)
	return t, nil
}

func (s *Sandbox) query(req *gwReq, now time.Time) *node {
	t, n := s.lookup(req, now)
	if n != nil {
		for _, k := range []string{"buyer_pay_amount", "invoice_amount", "point_amount", "receipt_amount"} {
			n.amt(k, 0)
		}
		return n
	}
	n = okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).
		str("trade_status", t.Status).amt("total_amount", t.TotalAmount).amt("point_amount", 0).str("store_id", t.StoreID)
	if !t.Paid.IsZero() {
		n.amt("buyer_pay_amount", t.TotalAmount).amt("invoice_amount", t.TotalAmount).amt("receipt_amount", t.TotalAmount)
		n.str("buyer_logon_id", maskLogin(t.BuyerLogin)).str("buyer_user_id", t.BuyerID).str("buyer_user_type", "PRIVATE")
		n.str("send_pay_date", alipay.FormatTime(t.Paid))
		if req.queryOption("fund_bill_list") {
			n.raw("fund_bill_list", []byte(`[{"amount":"`+t.TotalAmount.String()+`","fund_channel":"ALIPAYACCOUNT"}]`))
		}
	} else {
		for _, k := range []string{"buyer_pay_amount", "invoice_amount", "receipt_amount"} {
			n.amt(k, 0)
		}
	}
	return n
}

func (req *gwReq) queryOption(opt string) bool {
	var opts []string
	if raw, ok := req.biz["query_options"]; ok && json.Unmarshal(raw, &opts) == nil {
		for _, o := range opts {
			if o == opt {
				return true
			}
		}
	}
	return false
}

func refundErr(t *trade, outNo, sub, msg string) *node {
	n := bizErr(sub, msg)
	if t != nil {
		n.str("out_trade_no", t.OutTradeNo).str("trade_no", t.TradeNo)
	} else {
		n.str("out_trade_no", outNo)
	}
	return n.amt("refund_fee", 0).amt("send_back_fee", 0)
}

func (s *Sandbox) refund(req *gwReq, now time.Time) *node {
	outNo, _ := req.bizString("out_trade_no")
	t, n := s.lookup(req, now)
	if n != nil {
		if n.subCode == "ACQ.TRADE_NOT_EXIST" {
			return n.amt("refund_fee", 0).amt("send_back_fee", 0)
		}
		return n
	}
	amount, has, n := req.bizAmount("refund_amount")
	if n != nil {
		return n
	}
	if !has {
		return invalidParam("缺少 refund_amount")
	}
	reqNo, ok := req.bizString("out_request_no")
	if !ok || len(reqNo) > 64 {
		return invalidParam("out_request_no 无效")
	}
	reason, _ := req.bizString("refund_reason")
	if req.app.SandboxRules {
		// Alipay's online sandbox: "退款金额必须等于支付金额；每笔交易无论成败只能调一次退款".
		if t.RefundCalls > 0 {
			return refundErr(t, outNo, "ACQ.TRADE_NOT_ALLOW_REFUND", "当前交易不允许退款 (沙箱每笔交易只能调一次退款)")
		}
		t.RefundCalls++
		s.persistTrade(t)
		if amount != t.TotalAmount {
			return refundErr(t, outNo, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "撤销或退款金额与订单金额不一致")
		}
	}
	key := reqNo
	if key == "" {
		key = t.OutTradeNo // a refund without out_request_no is known by out_trade_no
	}
	for _, r := range t.Refunds {
		if r.OutRequestNo == key {
			if r.Amount != amount {
				return refundErr(t, outNo, "ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求")
			}
			return s.refundOK(t, "N", r.At, 0)
		}
	}
	switch t.Status {
	case alipay.WaitBuyerPay:
		return refundErr(t, outNo, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	case alipay.TradeClosed:
		return refundErr(t, outNo, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
	case alipay.TradeFinished:
		return refundErr(t, outNo, "ACQ.TRADE_HAS_FINISHED", "交易已完结")
	}
	if reqNo == "" && amount != t.TotalAmount {
		return refundErr(t, outNo, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "撤销或退款金额与订单金额不一致")
	}
	if amount > t.TotalAmount-t.Refunded {
		return refundErr(t, outNo, "ACQ.REASON_TRADE_REFUND_FEE_ERR", "REASON_TRADE_REFUND_FEE_ERR")
	}
	r := &refundRec{OutRequestNo: key, Amount: amount, Reason: reason, At: now}
	s.applyRefund(t, r)
	return s.refundOK(t, "Y", now, amount)
}

// applyRefund moves the money back and notifies. Callers hold s.mu.
func (s *Sandbox) applyRefund(t *trade, r *refundRec) {
	t.Refunds = append(t.Refunds, r)
	t.Refunded += r.Amount
	if acct := s.accounts[t.BuyerLogin]; acct != nil {
		acct.Balance += r.Amount
		s.persistMeta()
	}
	full := t.Refunded == t.TotalAmount
	if full {
		t.Status = alipay.TradeClosed
		t.Closed = r.At
	}
	s.persistTrade(t)
	if a := s.apps[t.AppID]; a != nil && a.notifies("refund") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = t.Status
		p["refund_fee"] = t.Refunded.String()
		p["gmt_refund"] = r.At.In(alipay.Beijing).Format(alipay.TimeLayout + ".000")
		p["out_biz_no"] = r.OutRequestNo
		if full {
			p["gmt_close"] = alipay.FormatTime(r.At)
		}
		s.queueNote(t, a, p, "")
	}
}

func (s *Sandbox) refundOK(t *trade, fundChange string, at time.Time, sendBack alipay.Amount) *node {
	return okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).
		str("buyer_logon_id", maskLogin(t.BuyerLogin)).str("buyer_user_id", t.BuyerID).
		str("fund_change", fundChange).amt("refund_fee", t.Refunded).
		str("gmt_refund_pay", alipay.FormatTime(at)).amt("send_back_fee", sendBack)
}

func (s *Sandbox) refundQuery(req *gwReq, now time.Time) *node {
	reqNo, ok := req.bizString("out_request_no")
	if !ok || reqNo == "" {
		return invalidParam("缺少 out_request_no")
	}
	t, n := s.lookup(req, now)
	if n != nil {
		return n
	}
	n = okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo)
	for _, r := range t.Refunds {
		if r.OutRequestNo == reqNo {
			n.str("out_request_no", r.OutRequestNo).amt("refund_amount", r.Amount).amt("total_amount", t.TotalAmount).
				str("refund_status", "REFUND_SUCCESS").str("refund_reason", r.Reason)
			if req.queryOption("gmt_refund_pay") {
				n.str("gmt_refund_pay", alipay.FormatTime(r.At))
			}
		}
	}
	return n
}

func (s *Sandbox) closeAPI(req *gwReq, now time.Time) *node {
	t, n := s.lookup(req, now)
	if n != nil {
		return n
	}
	if t.Status != alipay.WaitBuyerPay {
		return bizErr("ACQ.TRADE_STATUS_ERROR", "交易状态不合法").str("out_trade_no", t.OutTradeNo).str("trade_no", t.TradeNo)
	}
	notify := req.p["notify_url"]
	s.closeTrade(t, now, notify)
	return okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo)
}

// cancelWindow is how long after payment alipay.trade.cancel still refunds.
const cancelWindow = 24 * time.Hour

func (s *Sandbox) cancelAPI(req *gwReq, now time.Time) *node {
	t, n := s.lookup(req, now)
	if n != nil {
		return n
	}
	ok := func(action string) *node {
		n := okNode().str("trade_no", t.TradeNo).str("out_trade_no", t.OutTradeNo).str("retry_flag", "N").str("action", action)
		if action == "refund" {
			n.str("gmt_refund_pay", alipay.FormatTime(t.Closed))
		}
		return n
	}
	if t.CancelAction != "" {
		return ok(t.CancelAction)
	}
	switch t.Status {
	case alipay.WaitBuyerPay:
		t.CancelAction = "close"
		s.closeTrade(t, now, "")
		return ok("close")
	case alipay.TradeClosed:
		if t.Paid.IsZero() {
			t.CancelAction = "close"
			s.persistTrade(t)
			return ok("close")
		}
		return bizErr("ACQ.REASON_TRADE_REFUND_FEE_ERR", "REASON_TRADE_REFUND_FEE_ERR").str("out_trade_no", t.OutTradeNo)
	case alipay.TradeFinished:
		return bizErr("ACQ.TRADE_HAS_FINISHED", "交易已完结").str("out_trade_no", t.OutTradeNo)
	}
	if now.Sub(t.Paid) > cancelWindow {
		return bizErr("ACQ.TRADE_CANCEL_TIME_OUT", "超过撤销时间范围").str("out_trade_no", t.OutTradeNo)
	}
	if t.Refunded > 0 {
		return bizErr("ACQ.REASON_TRADE_REFUND_FEE_ERR", "REASON_TRADE_REFUND_FEE_ERR").str("out_trade_no", t.OutTradeNo)
	}
	t.CancelAction = "refund"
	s.applyRefund(t, &refundRec{OutRequestNo: t.OutTradeNo, Amount: t.TotalAmount, Reason: "撤销", At: now})
	return ok("refund")
}

// PayError is why a payment was refused.
type PayError struct{ Msg string }

func (e *PayError) Error() string { return e.Msg }

var (
	// ErrNoTrade is Pay's error for a trade the sandbox does not have (a
	// page-pay trade exists once the buyer has opened the cashier).
	ErrNoTrade  = &PayError{"交易不存在"}
	errPassword = &PayError{"账户名或支付密码错误"}
)

// payTrade pays t as buyer login. Callers hold s.mu. It returns the signed
// return_url redirect ("" when there is none to go to).
func (s *Sandbox) payTrade(t *trade, login, password string, checkPassword bool, now time.Time) (string, error) {
	if t.Status == "" { // a precreated QR code is scanned and paid at once
		if !now.Before(t.qrDeadline()) {
			return "", &PayError{"二维码已过期"}
		}
		t.Status, t.Created = alipay.WaitBuyerPay, now
		s.indexTrade(t)
	}
	s.expireDue(t, now)
	switch t.Status {
	case alipay.TradeSuccess, alipay.TradeFinished:
		return "", &PayError{"交易已支付，请勿重复付款"}
	case alipay.TradeClosed:
		return "", &PayError{"交易已关闭"}
	}
	acct := s.accounts[login]
	if acct == nil || (checkPassword && acct.PayPassword != password) {
		return "", errPassword
	}
	if acct.Balance < t.TotalAmount {
		return "", &PayError{"余额不足"}
	}
	acct.Balance -= t.TotalAmount
	t.Status, t.Paid = alipay.TradeSuccess, now
	s.finishing = append(s.finishing, t)
	t.BuyerID, t.BuyerLogin = acct.UserID, acct.Login
	s.persistTrade(t)
	s.persistMeta()
	a := s.apps[t.AppID]
	if a == nil {
		return "", nil
	}
	if a.notifies("success") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = alipay.TradeSuccess
		p["fund_bill_list"] = `[{"amount":"` + t.TotalAmount.String() + `","fundChannel":"ALIPAYACCOUNT"}]`
		p["receipt_amount"] = t.TotalAmount.String()
		p["invoice_amount"] = t.TotalAmount.String()
		p["buyer_pay_amount"] = t.TotalAmount.String()
		p["point_amount"] = "0.00"
		s.queueNote(t, a, p, "")
	}
	return s.returnURL(t, a, now), nil
}

// baseNotifyParams are the parameters every notification of t carries
// (empty values are never sent).
func (s *Sandbox) baseNotifyParams(t *trade, a *app) map[string]string {
	p := map[string]string{
		"notify_type":     "trade_status_sync",
		"app_id":          a.AppID,
		"auth_app_id":     a.AppID,
		"charset":         orDefault(t.Charset, "utf-8"),
		"version":         "1.0",
		"trade_no":        t.TradeNo,
		"out_trade_no":    t.OutTradeNo,
		"total_amount":    t.TotalAmount.String(),
		"subject":         t.Subject,
		"body":            t.Body,
		"seller_id":       a.SellerID,
		"seller_email":    sellerEmail(a),
		"passback_params": t.Passback,
	}
	if !t.Created.IsZero() {
		p["gmt_create"] = alipay.FormatTime(t.Created)
	}
	if !t.Paid.IsZero() {
		p["gmt_payment"] = alipay.FormatTime(t.Paid)
		p["buyer_id"] = t.BuyerID
		p["buyer_logon_id"] = maskLogin(t.BuyerLogin)
	}
	for k, v := range p {
		// Empty and whitespace-only values are both left out: SDKs
		// disagree on whether a blank value is signed (PROTOCOL.md §1.7).
		if strings.TrimSpace(v) == "" {
			delete(p, k)
		}
	}
	return p
}

func sellerEmail(a *app) string { return "merchant" + a.SellerID[len(a.SellerID)-6:] + "@sandbox.com" }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// validHTTPURL reports whether u is an absolute http(s) URL Alipay could
// redirect to or notify (the tutorial's " " placeholder is not).
func validHTTPURL(u string) bool {
	if strings.TrimSpace(u) != u || u == "" {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// returnURL builds the signed return_url redirect of a paid page/wap trade
// (PROTOCOL.md §6: v1 signature, no trade_status, no passback_params).
func (s *Sandbox) returnURL(t *trade, a *app, now time.Time) string {
	if !isPageMethod(t.Method) || !validHTTPURL(t.ReturnURL) {
		return ""
	}
	p := map[string]string{
		"charset":      orDefault(t.Charset, "utf-8"),
		"out_trade_no": t.OutTradeNo,
		"method":       t.Method + ".return",
		"total_amount": t.TotalAmount.String(),
		"trade_no":     t.TradeNo,
		"auth_app_id":  a.AppID,
		"version":      "1.0",
		"app_id":       a.AppID,
		"sign_type":    string(a.SignType),
		"seller_id":    a.SellerID,
		"timestamp":    alipay.FormatTime(now),
	}
	p["sign"] = s.signV1(p, a.SignType, p["charset"])
	sep := "?"
	if strings.Contains(t.ReturnURL, "?") {
		sep = "&"
	}
	return t.ReturnURL + sep + encodeForm(p, p["charset"])
}

// signV1 signs notification/return parameters: sign and sign_type excluded.
func (s *Sandbox) signV1(p map[string]string, st alipay.SignType, charset string) string {
	content := encodeCharset(signContent(p, []string{"sign", "sign_type"}, 0), charset)
	sig, err := alipay.Sign(s.key, st, content)
	if err != nil {
		s.log.Error("sandbox: signing", "err", err)
	}
	return sig
}

// encodeForm encodes params (sorted) with values in charset.
func encodeForm(p map[string]string, charset string) string {
	v := url.Values{}
	for k, s := range p {
		v.Set(k, string(encodeCharset([]byte(s), charset)))
	}
	return v.Encode()
}
