package sandbox

// Withholding agreements (商家扣款 / 周期扣款): the sign page behind
// alipay.user.agreement.page.sign, alipay.user.agreement.query and .unsign,
// deductions through alipay.trade.pay with agreement_params (charged at
// once, without a password), and the dut_user_sign / dut_user_unsign
// notifications, queued like trade notifications (retries, fault plan).

import (
	"crypto/subtle"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	"alishop/alipay"
)

// agreement is a buyer's agreement with an app.
type agreement struct {
	No, AppID, External, PersonalProduct, Product, Scene, ExternalLogonID string
	Status                                                                alipay.AgreementStatus
	Login, UserID                                                         string
	Created, Signed, Valid, Invalid, Unsigned                             time.Time
	NotifyURL, ReturnURL                                                  string
	SingleAmount                                                          alipay.Amount // 周期扣款: the most one deduction takes (0 = no limit)
}

// agreementTry is an open sign page.
type agreementTry struct {
	no     string
	expire time.Time
}

const signFormTTL = 30 * time.Minute

// agreementPageSign is the page method alipay.user.agreement.page.sign: it
// creates the agreement (TEMP) and sends the browser to its sign page.
func (s *Sandbox) agreementPageSign(w http.ResponseWriter, req *gwReq) {
	get := func(k string) string { v, _ := req.bizString(k); return strings.TrimSpace(v) }
	personal, product, scene, external := get("personal_product_code"), get("product_code"), get("sign_scene"), get("external_agreement_no")
	var access struct {
		Channel string `json:"channel"`
	}
	var period struct {
		PeriodType   string `json:"period_type"`
		Period       any    `json:"period"`
		ExecuteTime  string `json:"execute_time"`
		SingleAmount any    `json:"single_amount"`
	}
	fail := func(msg string) {
		s.errorPage(w, &gwError{code: "40004", msg: "Business Failed", subCode: "INVALID_PARAMETER", subMsg: msg})
	}
	if raw, ok := req.biz["access_params"]; !ok || json.Unmarshal(raw, &access) != nil || access.Channel == "" {
		fail("缺少 access_params.channel")
		return
	}
	switch {
	case personal == "":
		fail("缺少 personal_product_code")
		return
	case personal != alipay.PersonalProductCyclePay && personal != alipay.PersonalProductWithholding:
		fail("personal_product_code 无效：沙箱支持 CYCLE_PAY_AUTH_P 与 GENERAL_WITHHOLDING_P")
		return
	case len(external) > 32:
		fail("external_agreement_no 过长")
		return
	case external != "" && (scene == "" || scene == "DEFAULT|DEFAULT"):
		fail("传入 external_agreement_no 时 sign_scene 必填且不能为 DEFAULT|DEFAULT")
		return
	}
	var single alipay.Amount
	if personal == alipay.PersonalProductCyclePay {
		raw, ok := req.biz["period_rule_params"]
		if !ok || json.Unmarshal(raw, &period) != nil || (period.PeriodType != "DAY" && period.PeriodType != "MONTH") || period.ExecuteTime == "" {
			fail("周期扣款需要 period_rule_params（period_type DAY 或 MONTH、period、execute_time、single_amount）")
			return
		}
		sub := &gwReq{biz: map[string]json.RawMessage{}}
		var pr map[string]json.RawMessage
		_ = json.Unmarshal(raw, &pr)
		sub.biz = pr
		a, ok, n := sub.bizAmount("single_amount")
		if n != nil || !ok {
			fail("period_rule_params.single_amount 无效")
			return
		}
		single = a
	}
	if scene == "" {
		scene = "DEFAULT|DEFAULT"
	}
	s.mu.Lock()
	now := s.now()
	id := s.ident()
	if external != "" {
		for _, ag := range id.agreements {
			if ag.AppID == req.app.AppID && ag.External == external && ag.PersonalProduct == personal && ag.Status == alipay.AgreementNormal {
				s.mu.Unlock()
				fail("该商户签约号已有生效的协议（external_agreement_no 重复）")
				return
			}
		}
	}
	sweep(id.signForms, func(t *agreementTry) bool { return !now.Before(t.expire) })
	ag := &agreement{No: now.In(alipay.Beijing).Format("20060102") + randDigits(12), AppID: req.app.AppID, External: external,
		PersonalProduct: personal, Product: product, Scene: scene, ExternalLogonID: get("external_logon_id"),
		Status: alipay.AgreementTemp, Created: now, NotifyURL: req.p["notify_url"], ReturnURL: req.p["return_url"], SingleAmount: single}
	if len(id.agreements) >= maxOAuthEntries {
		for k, old := range id.agreements {
			if old.Status != alipay.AgreementNormal && old.Status != alipay.AgreementStop {
				delete(id.agreements, k)
			}
		}
	}
	id.agreements[ag.No] = ag
	tok := randHex(16)
	id.signForms[tok] = &agreementTry{no: ag.No, expire: now.Add(signFormTTL)}
	s.mu.Unlock()
	http.Redirect(w, req.r, s.baseURL(req.r)+"agreement/"+tok, http.StatusSeeOther)
}

var signPage = template.Must(template.New("sign").Parse(pageHead + `
<section class="order">
<p class="subject" id="subject">{{.Merchant}} 申请开通{{if .Cycle}}周期扣款{{else}}商家扣款{{end}}</p>
{{if .Single}}<p class="amount">单次最多 ¥<span id="amount">{{.Single}}</span></p>{{end}}
<dl><dt>协议号</dt><dd id="agreement_no">{{.No}}</dd><dt>签约场景</dt><dd>{{.Scene}}</dd>{{if .External}}<dt>商户签约号</dt><dd id="external_agreement_no">{{.External}}</dd>{{end}}{{if .LogonID}}<dt>商户账号</dt><dd>{{.LogonID}}</dd>{{end}}</dl>
</section>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
{{if .Open}}<form method="post" class="pay">
<h2>登录支付宝账户签约</h2>
<label for="login">账户名</label>
<input id="login" name="login" type="text" placeholder="buyer@sandbox.com" autocomplete="username" required value="{{.Login}}">
<label for="password">支付密码</label>
<input id="password" name="password" type="password" inputmode="numeric" placeholder="6 位数字" autocomplete="off">
<div class="buttons">
<button id="pay" name="action" value="sign" type="submit">同意协议并开通</button>
<button id="cancel" name="action" value="cancel" type="submit" class="secondary" formnovalidate>取消</button>
</div>
</form>
<p class="hint">开通后商户可按协议从你的余额扣款，无需再输入密码。沙箱买家：buyer@sandbox.com，支付密码 111111。</p>{{end}}
` + pageFoot))

type signData struct {
	Title, CSS, Merchant, No, Scene, External, LogonID, Single, Error, Login string
	Cycle, Open                                                              bool
}

func (s *Sandbox) signPageData(ag *agreement) signData {
	d := signData{Title: "支付宝协议签约", CSS: "../static/sandbox.css", No: ag.No, Scene: ag.Scene, External: ag.External,
		LogonID: ag.ExternalLogonID, Cycle: ag.PersonalProduct == alipay.PersonalProductCyclePay, Open: ag.Status == alipay.AgreementTemp}
	if ag.SingleAmount > 0 {
		d.Single = ag.SingleAmount.String()
	}
	if a := s.apps[ag.AppID]; a != nil {
		d.Merchant = sellerEmail(a)
	}
	if !d.Open {
		d.Error = "该协议已处理，无需再次签约。"
	}
	return d
}

// handleSignPage shows an agreement's sign page.
func (s *Sandbox) handleSignPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := s.ident()
	t := id.signForms[r.PathValue("token")]
	var ag *agreement
	if t != nil && s.now().Before(t.expire) {
		ag = id.agreements[t.no]
	}
	if ag == nil {
		s.mu.Unlock()
		render(w, http.StatusNotFound, resultPage, resultData{Title: "支付宝协议签约", CSS: "../static/sandbox.css", Class: "fail",
			Heading: "签约页已失效", Text: "请回到商户页面重新发起签约。"})
		return
	}
	d := s.signPageData(ag)
	s.mu.Unlock()
	render(w, http.StatusOK, signPage, d)
}

// handleSignPost signs (buyer's login and pay password) or cancels. The
// page's token, known only to the page, is what the form posts to.
func (s *Sandbox) handleSignPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	tok := r.PathValue("token")
	login := strings.TrimSpace(r.PostForm.Get("login"))
	s.mu.Lock()
	now := s.now()
	id := s.ident()
	t := id.signForms[tok]
	var ag *agreement
	if t != nil && now.Before(t.expire) {
		ag = id.agreements[t.no]
	}
	if ag == nil || ag.Status != alipay.AgreementTemp {
		s.mu.Unlock()
		render(w, http.StatusBadRequest, resultPage, resultData{Title: "支付宝协议签约", CSS: "../static/sandbox.css", Class: "fail",
			Heading: "签约页已失效", Text: "请回到商户页面重新发起签约。"})
		return
	}
	if r.PostForm.Get("action") != "sign" {
		delete(id.signForms, tok)
		ret := ag.ReturnURL
		s.mu.Unlock()
		if validHTTPURL(ret) {
			http.Redirect(w, r, ret, http.StatusSeeOther)
			return
		}
		render(w, http.StatusOK, resultPage, resultData{Title: "支付宝协议签约", CSS: "../static/sandbox.css", Class: "fail", Heading: "已取消签约", Text: "协议未开通。"})
		return
	}
	acct := s.accounts[login]
	if acct == nil || subtle.ConstantTimeCompare([]byte(acct.PayPassword), []byte(r.PostForm.Get("password"))) != 1 {
		d := s.signPageData(ag)
		d.Error, d.Login = "账户名或支付密码错误。", login
		s.mu.Unlock()
		render(w, http.StatusOK, signPage, d)
		return
	}
	delete(id.signForms, tok)
	ag.Status, ag.Login, ag.UserID, ag.Signed, ag.Valid = alipay.AgreementNormal, acct.Login, acct.UserID, now, now
	ag.Invalid = time.Date(2115, 12, 31, 23, 59, 59, 0, alipay.Beijing)
	s.persistAgreement(ag)
	if a := s.apps[ag.AppID]; a != nil {
		s.queueAgreementNote(a, ag, alipay.NotifyTypeAgreementSign, ag.NotifyURL, now)
	}
	ret := ag.ReturnURL
	s.mu.Unlock()
	if validHTTPURL(ret) {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, resultPage, resultData{Title: "支付宝协议签约", CSS: "../static/sandbox.css", Class: "ok", Heading: "签约成功", Text: "协议号 " + ag.No})
}

// agreementParams are the notification parameters of ag.
func agreementParams(a *app, ag *agreement, notifyType string) map[string]string {
	p := map[string]string{
		"notify_type": notifyType, "app_id": a.AppID, "auth_app_id": a.AppID, "charset": "utf-8", "version": "1.0",
		"agreement_no": ag.No, "external_agreement_no": ag.External, "personal_product_code": ag.PersonalProduct,
		"sign_scene": ag.Scene, "alipay_user_id": ag.UserID, "alipay_logon_id": maskLogin(ag.Login),
		"partner_id": a.SellerID,
	}
	if notifyType == alipay.NotifyTypeAgreementSign {
		p["status"] = string(alipay.AgreementNormal)
		p["sign_time"], p["valid_time"], p["invalid_time"] = alipay.FormatTime(ag.Signed), alipay.FormatTime(ag.Valid), alipay.FormatTime(ag.Invalid)
	} else {
		p["status"] = string(alipay.AgreementUnsign)
		p["unsign_time"] = alipay.FormatTime(ag.Unsigned)
	}
	for k, v := range p {
		if strings.TrimSpace(v) == "" {
			delete(p, k)
		}
	}
	return p
}

// queueAgreementNote queues a dut_user_sign or dut_user_unsign notification.
// Callers hold s.mu.
func (s *Sandbox) queueAgreementNote(a *app, ag *agreement, notifyType, u string, now time.Time) {
	if !validHTTPURL(u) {
		s.log.Info("sandbox: no valid notify_url; agreement notification not sent", "agreement_no", ag.No, "notify_type", notifyType)
		return
	}
	s.seq++
	n := &note{NotifyID: newNotifyID(now), AppID: a.AppID, OutTradeNo: ag.No, TradeStatus: notifyType, URL: u,
		Params: agreementParams(a, ag, notifyType), SignType: a.SignType, Charset: "utf-8", Seq: s.seq, Created: now, NextDue: now}
	s.notes[n.NotifyID] = n
	s.pending[n] = struct{}{}
	s.persistNote(n)
	s.wakeWorker()
}

// findAgreement finds the live (not unsigned) agreement a request names.
// Callers hold s.mu.
func (s *Sandbox) findAgreement(req *gwReq) *agreement {
	id := s.ident()
	get := func(k string) string { v, _ := req.bizString(k); return strings.TrimSpace(v) }
	live := func(ag *agreement) bool {
		return ag != nil && ag.AppID == req.app.AppID && ag.Status != alipay.AgreementUnsign
	}
	if no := get("agreement_no"); no != "" {
		if ag := id.agreements[no]; live(ag) {
			return ag
		}
		return nil
	}
	personal, external, uid, scene := get("personal_product_code"), get("external_agreement_no"), get("alipay_user_id"), get("sign_scene")
	if personal == "" || (external == "" && uid == "") {
		return nil
	}
	var best *agreement
	for _, ag := range id.agreements {
		if !live(ag) || ag.PersonalProduct != personal || (scene != "" && ag.Scene != scene) ||
			(external != "" && ag.External != external) || (uid != "" && ag.UserID != uid) {
			continue
		}
		if best == nil || ag.Created.After(best.Created) {
			best = ag
		}
	}
	return best
}

func agreementNotExist() *node {
	return bizErr(string(alipay.SubCodeAgreementNotExist), "用户协议不存在")
}

// agreementQuery answers alipay.user.agreement.query.
func (s *Sandbox) agreementQuery(req *gwReq, _ time.Time) *node {
	ag := s.findAgreement(req)
	if ag == nil {
		return agreementNotExist()
	}
	n := okNode().str("agreement_no", ag.No).str("external_agreement_no", ag.External).str("personal_product_code", ag.PersonalProduct).
		str("sign_scene", ag.Scene).str("status", string(ag.Status)).str("external_logon_id", ag.ExternalLogonID).
		str("third_party_type", "PARTNER")
	if ag.Login != "" {
		n.str("principal_id", ag.UserID).str("principal_type", "CARD").str("alipay_logon_id", maskLogin(ag.Login)).
			str("sign_time", alipay.FormatTime(ag.Signed)).str("valid_time", alipay.FormatTime(ag.Valid)).
			str("invalid_time", alipay.FormatTime(ag.Invalid))
	}
	return n
}

// agreementUnsign answers alipay.user.agreement.unsign: the agreement ends
// and dut_user_unsign goes to the unsign's notify_url (or the sign's).
func (s *Sandbox) agreementUnsign(req *gwReq, now time.Time) *node {
	ag := s.findAgreement(req)
	if ag == nil || ag.Status == alipay.AgreementTemp {
		return agreementNotExist()
	}
	ag.Status, ag.Unsigned = alipay.AgreementUnsign, now
	s.persistAgreement(ag)
	u := req.p["notify_url"]
	if u == "" {
		u = ag.NotifyURL
	}
	s.queueAgreementNote(req.app, ag, alipay.NotifyTypeAgreementUnsign, u, now)
	return okNode()
}

// deduct answers alipay.trade.pay with agreement_params: the agreement's
// buyer is charged at once, without a password or a code.
func (s *Sandbox) deduct(req *gwReq, nt *newTrade, raw json.RawMessage, now time.Time) *node {
	var p struct {
		AgreementNo string `json:"agreement_no"`
	}
	if json.Unmarshal(raw, &p) != nil || strings.TrimSpace(p.AgreementNo) == "" {
		return invalidParam("agreement_params.agreement_no 缺失")
	}
	if nt.product == "" {
		nt.product = string(alipay.ProductCodeWithholding)
	}
	if t := s.trades[tradeID(req.app.AppID, nt.outTradeNo)]; t != nil {
		return s.repeatedPay(t, nt, now)
	}
	ag := s.ident().agreements[p.AgreementNo]
	if ag == nil || ag.AppID != req.app.AppID || ag.Status == alipay.AgreementUnsign || ag.Status == alipay.AgreementTemp {
		return payRefused(nt.outTradeNo, string(alipay.SubCodeTradeAgreementNotExist), "协议不存在")
	}
	if ag.Status != alipay.AgreementNormal {
		return payRefused(nt.outTradeNo, string(alipay.SubCodeAgreementStatusInvalid), "协议状态非正常")
	}
	if ag.SingleAmount > 0 && nt.total > ag.SingleAmount {
		return payRefused(nt.outTradeNo, "ACQ.TOTAL_FEE_EXCEED", "订单金额超过协议单次扣款限额")
	}
	buyer := s.accounts[ag.Login]
	if buyer == nil {
		return payRefused(nt.outTradeNo, string(alipay.SubCodeTradeAgreementNotExist), "协议不存在")
	}
	if buyer.Balance < nt.total {
		return payRefused(nt.outTradeNo, "ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")
	}
	t, n := s.openTrade(req, nt, now)
	if n != nil {
		return n
	}
	t.BuyerID, t.BuyerLogin = buyer.UserID, buyer.Login
	if _, err := s.payTrade(t, buyer.Login, "", false, now); err != nil {
		return bizErr("ACQ.SYSTEM_ERROR", "系统错误: "+err.Error())
	}
	return payAnswer(t)
}

// SetAgreementStatus pauses (STOP) or resumes (NORMAL) a signed agreement,
// as the buyer can in the Alipay app.
func (s *Sandbox) SetAgreementStatus(agreementNo string, status alipay.AgreementStatus) error {
	if status != alipay.AgreementStop && status != alipay.AgreementNormal {
		return errString("sandbox: status must be STOP or NORMAL")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ag := s.ident().agreements[agreementNo]
	if ag == nil || (ag.Status != alipay.AgreementNormal && ag.Status != alipay.AgreementStop) {
		return errString("sandbox: no signed agreement " + agreementNo)
	}
	ag.Status = status
	s.persistAgreement(ag)
	return nil
}

// apiAgreementStatus is POST api/agreements/status (agreement_no, status).
func (s *Sandbox) apiAgreementStatus(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	no := r.PostForm.Get("agreement_no")
	if err := s.SetAgreementStatus(no, alipay.AgreementStatus(r.PostForm.Get("status"))); err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"agreement_no": no, "status": r.PostForm.Get("status")})
}
