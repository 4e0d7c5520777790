package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"alishop/alipay"
)

// The test-control API under api/ (docs/SANDBOX.md). Answers are JSON;
// errors are {"error": "…"} with a 4xx status.

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, "bad form: "+err.Error())
		return false
	}
	return true
}

// AppInfo is the answer of POST api/apps.
type AppInfo struct {
	AppID              string          `json:"app_id"`
	SellerID           string          `json:"seller_id"`
	SignType           alipay.SignType `json:"sign_type"`
	NotifyOn           []string        `json:"notify_on"`
	SandboxRules       bool            `json:"sandbox_rules"`
	AlipayPublicKey    string          `json:"alipay_public_key"` // bare base64 SPKI
	AlipayPublicKeyPEM string          `json:"alipay_public_key_pem"`
	Gateway            string          `json:"gateway"`
	// Certificate mode only: the files the open platform hands out, and their SNs.
	*CertBundle
}

func (s *Sandbox) appInfo(r *http.Request, appID string) AppInfo {
	s.mu.Lock()
	a := s.apps[appID]
	info := AppInfo{AppID: a.AppID, SellerID: a.SellerID, SignType: a.SignType, NotifyOn: a.NotifyOn, SandboxRules: a.SandboxRules}
	s.mu.Unlock()
	info.AlipayPublicKey = s.pubB64
	info.AlipayPublicKeyPEM = string(alipay.PublicKeyPEM(s.PublicKey()))
	info.Gateway = s.baseURL(r) + "gateway.do"
	if b, err := s.Certificates(appID); err == nil {
		info.CertBundle = &b
	}
	return info
}

func (s *Sandbox) apiRegisterApp(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	appID := strings.TrimSpace(r.PostForm.Get("app_id"))
	keyText := r.PostForm.Get("app_public_key")
	if appID == "" || strings.TrimSpace(keyText) == "" {
		writeErr(w, http.StatusBadRequest, "app_id and app_public_key are required")
		return
	}
	pub, err := alipay.ParsePublicKey([]byte(keyText))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "app_public_key: "+err.Error())
		return
	}
	opt := AppOptions{SignType: alipay.SignType(strings.ToUpper(r.PostForm.Get("sign_type"))), AESKey: r.PostForm.Get("aes_key")}
	if v, ok := r.PostForm["notify_on"]; ok {
		opt.NotifyOn = []string{}
		for _, x := range v {
			opt.NotifyOn = append(opt.NotifyOn, strings.Split(x, ",")...)
		}
	}
	switch r.PostForm.Get("cert_mode") {
	case "", "0", "false":
	case "1", "true":
		opt.CertMode = true
	default:
		writeErr(w, http.StatusBadRequest, "cert_mode must be 1 or 0")
		return
	}
	switch r.PostForm.Get("sandbox_rules") {
	case "":
	case "1", "true":
		opt.SandboxRules = true
	case "0", "false":
		opt.productionRules = true
	default:
		writeErr(w, http.StatusBadRequest, "sandbox_rules must be 1 or 0")
		return
	}
	if strings.Contains(keyText, "BEGIN CERTIFICATE") {
		opt.AppCert = []byte(keyText)
	}
	if _, err := s.RegisterAppWith(appID, pub, opt); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrKeyConflict) {
			status = http.StatusConflict
		}
		writeErr(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.appInfo(r, appID))
}

func (s *Sandbox) apiListApps(w http.ResponseWriter, r *http.Request) {
	apps := s.Apps()
	slices.SortFunc(apps, func(a, b App) int { return strings.Compare(a.AppID, b.AppID) })
	out := make([]AppInfo, 0, len(apps))
	for _, a := range apps {
		out = append(out, s.appInfo(r, a.AppID))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
}

func (s *Sandbox) apiPublicKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Query().Get("format") == "pem" {
		_, _ = w.Write(alipay.PublicKeyPEM(s.PublicKey()))
		return
	}
	_, _ = io.WriteString(w, s.pubB64+"\n")
}

func (s *Sandbox) apiAccounts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := []account{}
	for _, a := range s.accounts {
		out = append(out, *a)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b account) int { return strings.Compare(a.Login, b.Login) })
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out, "pay_password": BuyerPassword})
}

// TradeView is the state of a trade as api/trades shows it.
type TradeView struct {
	AppID        string        `json:"app_id"`
	OutTradeNo   string        `json:"out_trade_no"`
	TradeNo      string        `json:"trade_no"`
	TradeStatus  string        `json:"trade_status"` // "" for a precreated QR code nobody has scanned
	TotalAmount  alipay.Amount `json:"total_amount"`
	RefundFee    alipay.Amount `json:"refund_fee"`
	Subject      string        `json:"subject"`
	Body         string        `json:"body,omitempty"`
	Method       string        `json:"method"`
	ProductCode  string        `json:"product_code,omitempty"`
	BuyerID      string        `json:"buyer_id,omitempty"`
	BuyerLogonID string        `json:"buyer_logon_id,omitempty"`
	NotifyURL    string        `json:"notify_url,omitempty"`
	ReturnURL    string        `json:"return_url,omitempty"`
	CashierURL   string        `json:"cashier_url,omitempty"`
	AppPayURL    string        `json:"app_pay_url,omitempty"` // app pay: the Alipay app's confirm page
	QRCode       string        `json:"qr_code,omitempty"`
	GmtCreate    string        `json:"gmt_create,omitempty"`
	GmtPayment   string        `json:"gmt_payment,omitempty"`
	GmtClose     string        `json:"gmt_close,omitempty"`
	TimeExpire   string        `json:"time_expire,omitempty"`
	CancelAction string        `json:"cancel_action,omitempty"`
	Refunds      []RefundView  `json:"refunds"`
}

// RefundView is one refund of a trade.
type RefundView struct {
	OutRequestNo string        `json:"out_request_no"`
	RefundAmount alipay.Amount `json:"refund_amount"`
	RefundReason string        `json:"refund_reason,omitempty"`
	GmtRefund    string        `json:"gmt_refund"`
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return alipay.FormatTime(t)
}

func (s *Sandbox) view(t *trade, base string) TradeView {
	v := TradeView{
		AppID: t.AppID, OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo, TradeStatus: string(t.Status),
		TotalAmount: t.TotalAmount, RefundFee: t.Refunded, Subject: t.Subject, Body: t.Body,
		Method: t.Method, ProductCode: t.ProductCode, BuyerID: t.BuyerID, NotifyURL: t.NotifyURL, ReturnURL: t.ReturnURL,
		GmtCreate: fmtTime(t.Created), GmtPayment: fmtTime(t.Paid), GmtClose: fmtTime(t.Closed), TimeExpire: fmtTime(t.Expire),
		CancelAction: t.CancelAction, Refunds: []RefundView{},
	}
	if t.BuyerLogin != "" {
		v.BuyerLogonID = maskLogin(t.BuyerLogin)
	}
	if isPageMethod(t.Method) {
		v.CashierURL = base + "cashier/" + t.TradeNo
	}
	if t.QR != "" {
		v.QRCode = base + "qr/" + t.QR
	}
	if m := methodsByName[t.Method]; m != nil && m.order != nil {
		v.AppPayURL = base + "app/pay/" + t.TradeNo
	}
	for _, r := range t.Refunds {
		v.Refunds = append(v.Refunds, RefundView{OutRequestNo: r.OutRequestNo, RefundAmount: r.Amount, RefundReason: r.Reason, GmtRefund: fmtTime(r.At)})
	}
	return v
}

// Trade returns the state of a trade (false if the sandbox has none).
func (s *Sandbox) Trade(appID, outTradeNo string) (TradeView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trades[tradeID(appID, outTradeNo)]
	if t == nil {
		return TradeView{}, false
	}
	s.expireDue(t, s.now())
	return s.view(t, s.cfg.BaseURL), true
}

func (s *Sandbox) apiTrades(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appID, outNo, tradeNo := q.Get("app_id"), q.Get("out_trade_no"), q.Get("trade_no")
	base := s.baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if outNo != "" || tradeNo != "" {
		var t *trade
		if tradeNo != "" {
			t = s.byNo[tradeNo]
		} else {
			t = s.trades[tradeID(appID, outNo)]
		}
		if t == nil || (appID != "" && t.AppID != appID) {
			writeErr(w, http.StatusNotFound, "no such trade")
			return
		}
		s.expireDue(t, now)
		writeJSON(w, http.StatusOK, s.view(t, base))
		return
	}
	out := []TradeView{}
	for _, t := range s.trades {
		if appID == "" || t.AppID == appID {
			s.expireDue(t, now)
			out = append(out, s.view(t, base))
		}
	}
	slices.SortFunc(out, func(a, b TradeView) int { return strings.Compare(a.TradeNo, b.TradeNo) })
	writeJSON(w, http.StatusOK, map[string]any{"trades": out})
}

// Pay pays a waiting trade (or a precreated QR code) as buyer would at the
// cashier, without the password; a payment waiting for the buyer of a
// payment code (USERPAYING) is confirmed by that buyer ("" = the trade's
// buyer, else DefaultBuyer). It returns the signed return_url redirect of a
// page/wap trade ("" if none).
func (s *Sandbox) Pay(appID, outTradeNo, buyer string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trades[tradeID(appID, outTradeNo)]
	if t == nil {
		return "", ErrNoTrade
	}
	if buyer == "" {
		buyer = orDefault(t.BuyerLogin, DefaultBuyer)
	}
	return s.payTrade(t, buyer, "", false, s.now())
}

func (s *Sandbox) apiPay(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	appID, outNo := r.PostForm.Get("app_id"), r.PostForm.Get("out_trade_no")
	if appID == "" || outNo == "" {
		writeErr(w, http.StatusBadRequest, "app_id and out_trade_no are required")
		return
	}
	buyer := r.PostForm.Get("buyer")
	if buyer != "" {
		s.mu.Lock()
		known := s.accounts[buyer] != nil
		s.mu.Unlock()
		if !known {
			writeErr(w, http.StatusBadRequest, "unknown buyer "+buyer)
			return
		}
	}
	ret, err := s.Pay(appID, outNo, buyer)
	if err != nil {
		status := http.StatusConflict
		if err == ErrNoTrade {
			status = http.StatusNotFound
			err = errors.New("no such trade (a page-pay trade exists once the buyer has opened the cashier)")
		}
		writeErr(w, status, err.Error())
		return
	}
	s.mu.Lock()
	v := s.view(s.trades[tradeID(appID, outNo)], s.baseURL(r))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		TradeView
		RedirectURL string `json:"redirect_url,omitempty"`
	}{v, ret})
}

// Notifications returns the delivery log, oldest first.
func (s *Sandbox) Notifications() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Attempt, 0, len(s.attempts))
	for _, a := range s.attempts {
		out = append(out, *a)
	}
	return out
}

// NotificationView is a notification and its delivery state.
type NotificationView struct {
	NotifyID    string `json:"notify_id"`
	AppID       string `json:"app_id"`
	OutTradeNo  string `json:"out_trade_no"`
	TradeStatus string `json:"trade_status"`
	URL         string `json:"notify_url"`
	Attempts    int    `json:"attempts"`
	State       string `json:"state"` // pending, held, acked, failed
	NextAttempt string `json:"next_attempt,omitempty"`
}

func (s *Sandbox) apiNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match := func(appID, outNo, id string) bool {
		return (q.Get("app_id") == "" || q.Get("app_id") == appID) &&
			(q.Get("out_trade_no") == "" || q.Get("out_trade_no") == outNo) &&
			(q.Get("notify_id") == "" || q.Get("notify_id") == id)
	}
	s.mu.Lock()
	attempts := []Attempt{}
	for _, a := range s.attempts {
		if match(a.AppID, a.OutTradeNo, a.NotifyID) {
			attempts = append(attempts, *a)
		}
	}
	notes := []*note{}
	for _, n := range s.notes {
		if match(n.AppID, n.OutTradeNo, n.NotifyID) {
			notes = append(notes, n)
		}
	}
	slices.SortFunc(notes, func(a, b *note) int { return int(a.Seq - b.Seq) })
	views := []NotificationView{}
	for _, n := range notes {
		v := NotificationView{NotifyID: n.NotifyID, AppID: n.AppID, OutTradeNo: n.OutTradeNo, TradeStatus: n.TradeStatus, URL: n.URL, Attempts: n.Attempts}
		switch {
		case n.Acked:
			v.State = "acked"
		case n.Done:
			v.State = "failed"
		case n.Held:
			v.State, v.NextAttempt = "held", fmtTime(n.NextDue)
		default:
			v.State, v.NextAttempt = "pending", fmtTime(n.NextDue)
		}
		views = append(views, v)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"attempts": attempts, "notifications": views})
}

func (s *Sandbox) clockJSON() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	return map[string]string{"now": now.Format(time.RFC3339Nano), "beijing": alipay.FormatTime(now), "offset": s.offset.String()}
}

func (s *Sandbox) apiClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.clockJSON())
}

func (s *Sandbox) apiAdvance(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	d, err := time.ParseDuration(r.PostForm.Get("d"))
	if err != nil || d < 0 || d > 400*24*time.Hour {
		writeErr(w, http.StatusBadRequest, "d must be a Go duration from 0 to 9600h, e.g. 4m, 26h")
		return
	}
	s.Advance(r.Context(), d)
	writeJSON(w, http.StatusOK, s.clockJSON())
}

func (s *Sandbox) apiFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
}

// apiAddFaults accepts {"faults":[…]}, a list of rules, or one rule.
func (s *Sandbox) apiAddFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	body = bytes.TrimSpace(body)
	var fs []Fault
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	switch {
	case len(body) > 0 && body[0] == '[':
		err = dec(&fs)
	case bytes.Contains(body, []byte(`"faults"`)):
		var plan struct {
			Faults []Fault `json:"faults"`
		}
		err = dec(&plan)
		fs = plan.Faults
	default:
		var f Fault
		err = dec(&f)
		fs = []Fault{f}
	}
	if err != nil {
		writeErr(w, http.StatusBadRequest, "fault plan: "+err.Error())
		return
	}
	plan, err := s.AddFaults(fs)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": plan})
}

func (s *Sandbox) apiClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	writeJSON(w, http.StatusOK, map[string]any{"faults": []Fault{}})
}

// Reset forgets trades, notifications, the delivery log, the fault plan,
// bills, the clock offset, agreements and 支付宝登录's codes and tokens, and
// refills the buyer accounts. Apps and the key pair stay.
func (s *Sandbox) Reset() error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trades, s.byNo, s.byQR = map[tradeRef]*trade{}, map[string]*trade{}, map[string]*trade{}
	s.codes, s.paying, s.id = map[string]*payCode{}, map[*trade]struct{}{}, nil
	s.expiries, s.finishing, s.notes, s.pending, s.attempts = nil, nil, map[string]*note{}, map[*note]struct{}{}, nil
	s.faults, s.bills, s.offset, s.strs = nil, map[string]*bill{}, 0, map[string]string{}
	s.resetAccounts()
	s.resetFunds()
	if s.st != nil {
		if err := s.st.Clear("trades", "notes", "attempts", "transfers", "relations", "agreements"); err != nil {
			return err
		}
	}
	s.persistMeta()
	return nil
}

func (s *Sandbox) apiReset(w http.ResponseWriter, r *http.Request) {
	if err := s.Reset(); err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}

// apiPayCodes issues a payment code of buyer (form; "" = DefaultBuyer), as
// the buyer's wallet shows one.
func (s *Sandbox) apiPayCodes(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	buyer := r.PostForm.Get("buyer")
	pc, err := s.IssuePayCode(buyer)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "unknown buyer "+buyer)
		return
	}
	writeJSON(w, http.StatusOK, pc)
}

// SetNoPasswordLimit sets a buyer's no-password limit for alipay.trade.pay
// (0: every payment waits for the buyer's confirmation).
func (s *Sandbox) SetNoPasswordLimit(buyer string, limit alipay.Amount) error {
	if limit < 0 || limit > alipay.MaxAmount {
		return errors.New("sandbox: the no-password limit must be from 0 to 100000000.00")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[buyer]
	if a == nil {
		return ErrUnknownBuyer
	}
	a.NoPasswordLimit = limit
	s.persistMeta()
	return nil
}

// apiSetAccount changes a buyer's settings (form: login, no_password_limit
// in yuan) and answers the accounts.
func (s *Sandbox) apiSetAccount(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	login := r.PostForm.Get("login")
	limit, err := alipay.ParseAmount(r.PostForm.Get("no_password_limit"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "no_password_limit must be a yuan amount such as 2000.00")
		return
	}
	if err := s.SetNoPasswordLimit(login, limit); err != nil {
		writeErr(w, http.StatusBadRequest, err.Error()+": "+login)
		return
	}
	s.apiAccounts(w, r)
}
