package sandbox

// trade is a trade as the sandbox keeps it, its indexes, and the biz_content
// readers shared by the methods.

import (
	"container/heap"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
)

// trade is a trade as Alipay keeps it.
type trade struct {
	AppID        string             `json:"app_id"`
	OutTradeNo   string             `json:"out_trade_no"`
	TradeNo      string             `json:"trade_no"`
	Method       string             `json:"method"` // the creating method
	ProductCode  string             `json:"product_code,omitempty"`
	Subject      string             `json:"subject"`
	Body         string             `json:"body,omitempty"`
	TotalAmount  alipay.Amount      `json:"total_amount"`
	Status       alipay.TradeStatus `json:"trade_status"` // "" = precreated, not scanned yet: Alipay does not know it
	NotifyURL    string             `json:"notify_url,omitempty"`
	ReturnURL    string             `json:"return_url,omitempty"`
	QuitURL      string             `json:"quit_url,omitempty"`
	Passback     string             `json:"passback_params,omitempty"`
	StoreID      string             `json:"store_id,omitempty"`
	Charset      string             `json:"charset"`
	QR           string             `json:"qr,omitempty"`       // precreate: the code token
	QRExpire     time.Time          `json:"qr_expire,omitzero"` // precreate: the code can be scanned until then
	Requested    time.Time          `json:"requested"`
	Created      time.Time          `json:"created"`
	Expire       time.Time          `json:"expire"`
	Paid         time.Time          `json:"paid"`
	Closed       time.Time          `json:"closed"`
	BuyerID      string             `json:"buyer_id,omitempty"`
	BuyerLogin   string             `json:"buyer_login,omitempty"`
	Refunded     alipay.Amount      `json:"refund_fee"`
	Refunds      []*refundRec       `json:"refunds,omitempty"`
	CancelAction string             `json:"cancel_action,omitempty"`
	RefundCalls  int                `json:"refund_calls,omitempty"` // sandbox rules: refund calls made
	Settled      alipay.Amount      `json:"settled,omitempty"`      // paid out to 分账 receivers
	Settles      []*settleRec       `json:"settles,omitempty"`
}

type refundRec struct {
	OutRequestNo string        `json:"out_request_no"`
	Amount       alipay.Amount `json:"refund_amount"`
	Reason       string        `json:"refund_reason,omitempty"`
	At           time.Time     `json:"gmt_refund"`
}

func tradeKey(appID, outTradeNo string) string { return appID + "\x00" + outTradeNo }

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
	if t.Status == alipay.TradeStatusWaitBuyerPay && !t.Expire.IsZero() {
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
