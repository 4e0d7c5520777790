package sandbox

// The buyer's wallet (支付宝钱包): a buyer signs in with login and password;
// the wallet then shows a payment code (digits, a Code 128 bar code and a
// QR code),
// refreshed every minute, and the payments above the no-password limit
// that wait for the buyer to confirm them. Server-rendered, no JavaScript.

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"alishop/alipay"
)

const (
	walletCookie      = "sandbox_wallet"
	walletSessionTTL  = 12 * time.Hour // wall clock
	maxWalletSessions = 1000
	walletRefresh     = 60 // seconds between payment codes
	barHeight         = 50 // bar code height, in modules
)

// walletSession is a signed-in buyer.
type walletSession struct {
	login, csrf string
	expire      time.Time
}

// walletSessions are the signed-in wallets by cookie token, in memory (a
// restart signs everyone out).
type walletSessions struct {
	mu sync.Mutex
	m  map[string]*walletSession
}

// start signs login in and returns the cookie token.
func (ws *walletSessions) start(login string, now time.Time) string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[string]*walletSession{}
	}
	if len(ws.m) >= maxWalletSessions {
		var soonest string
		for tok, s := range ws.m {
			if !now.Before(s.expire) {
				delete(ws.m, tok)
			} else if soonest == "" || s.expire.Before(ws.m[soonest].expire) {
				soonest = tok
			}
		}
		if len(ws.m) >= maxWalletSessions {
			delete(ws.m, soonest)
		}
	}
	tok := randHex(20)
	ws.m[tok] = &walletSession{login: login, csrf: randHex(16), expire: now.Add(walletSessionTTL)}
	return tok
}

func (ws *walletSessions) get(tok string, now time.Time) (walletSession, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	s := ws.m[tok]
	if s == nil {
		return walletSession{}, false
	}
	if !now.Before(s.expire) {
		delete(ws.m, tok)
		return walletSession{}, false
	}
	return *s, true
}

func (ws *walletSessions) end(tok string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.m, tok)
}

// walletSession returns the request's signed-in buyer.
func (s *Sandbox) walletSession(r *http.Request) (walletSession, string, bool) {
	c, err := r.Cookie(walletCookie)
	if err != nil || len(c.Value) > 64 {
		return walletSession{}, "", false
	}
	sess, ok := s.wallets.get(c.Value, s.wall())
	return sess, c.Value, ok
}

// rootPath is the URL path of the sandbox root, the wallet cookie's path.
func (s *Sandbox) rootPath(r *http.Request) string {
	u, err := url.Parse(s.baseURL(r))
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}

func (s *Sandbox) setWalletCookie(w http.ResponseWriter, r *http.Request, tok string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: walletCookie, Value: tok, Path: s.rootPath(r), MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(s.baseURL(r), "https://")})
}

var walletTmpl = template.Must(template.New("wallet").Parse(
	strings.Replace(pageHead, "<title>", `{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}<title>`, 1) + `
{{if not .Login}}
<form method="post" action="wallet/login" class="pay">
<h2>登录沙箱钱包</h2>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
<label for="login">账户名</label>
<input id="login" name="login" type="text" placeholder="buyer@sandbox.com" autocomplete="username" required value="{{.Typed}}">
<label for="password">登录密码</label>
<input id="password" name="password" type="password" inputmode="numeric" placeholder="6 位数字" autocomplete="current-password" required>
<div class="buttons"><button id="signin" type="submit">登录</button></div>
</form>
<p class="hint">沙箱买家：buyer@sandbox.com，密码 111111；余额不足测试账户：poor@sandbox.com，密码 111111。</p>
{{else}}
<section class="account"><p>账户 <b id="wallet_login">{{.Login}}</b></p>
<p>余额 ¥<span id="balance">{{.Balance}}</span> · 免密支付额度 ¥<span id="no_password_limit">{{.Limit}}</span></p></section>
<section class="paycode-card" aria-labelledby="paycode-title">
<h2 id="paycode-title">付款码</h2>
<p class="hint">向商家出示付款码，商家扫码即可收款</p>
<svg id="paycode-barcode" class="barcode" viewBox="0 0 {{.Barcode.Width}} {{.BarHeight}}" preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="付款码条形码"><rect width="{{.Barcode.Width}}" height="{{.BarHeight}}" fill="#fff"/>{{range .Barcode.Bars}}<rect x="{{.X}}" width="{{.W}}" height="{{$.BarHeight}}"/>{{end}}</svg>
<p class="paycode" id="paycode">{{.Code}}</p>
<svg id="paycode-qr" class="qr" viewBox="0 0 {{.QRSize}} {{.QRSize}}" shape-rendering="crispEdges" role="img" aria-label="付款码二维码"><rect width="{{.QRSize}}" height="{{.QRSize}}" fill="#fff"/>{{range .QR}}<rect x="{{.C}}" y="{{.R}}" width="1" height="1"/>{{end}}</svg>
<p class="hint">付款码每分钟自动刷新，{{.TTL}}内有效，只能使用一次；有效至 <span id="paycode_expire">{{.Expire}}</span>。不超过免密额度的付款直接完成，超过的需要在下方确认。</p>
</section>
<section class="pending" aria-labelledby="pending-title">
<h2 id="pending-title">待确认付款</h2>
{{if .Pending}}<ul class="pending-list">{{range .Pending}}<li><a class="confirm" id="confirm-{{.TradeNo}}" href="wallet/confirm/{{.TradeNo}}"><span class="subject">{{.Subject}}</span> <span class="amt">¥{{.Amount}}</span> <span class="merchant">{{.Merchant}}</span></a></li>{{end}}</ul>
{{else}}<p class="hint" id="no_pending">暂无待确认的付款。</p>{{end}}
</section>
<form method="post" action="wallet/logout" class="logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button id="signout" class="secondary" type="submit">退出钱包</button></form>
{{end}}
` + pageFoot))

// walletPage is the wallet's home page.
type walletPage struct {
	Title, CSS   string
	Refresh      int
	Login, Typed string // the signed-in buyer; what was typed into a failed sign-in
	Error        string
	Balance      string
	Limit        string
	Code, Expire string
	TTL          string
	Barcode      barcode
	BarHeight    int
	QR           []qrSquare // the dark modules of the code's QR code
	QRSize       int        // its side in modules, quiet zone included
	Pending      []pendingPay
	CSRF         string
}

// pendingPay is a payment waiting for the buyer's confirmation.
type pendingPay struct{ TradeNo, Subject, Amount, Merchant string }

// handleBuyerWallet shows the sign-in form, or the signed-in buyer's
// wallet with a new payment code.
func (s *Sandbox) handleBuyerWallet(w http.ResponseWriter, r *http.Request) {
	page := walletPage{Title: "支付宝钱包", CSS: "static/sandbox.css"}
	sess, _, ok := s.walletSession(r)
	if !ok {
		render(w, http.StatusOK, walletTmpl, page)
		return
	}
	s.mu.Lock()
	acct := s.accounts[sess.login]
	if acct == nil { // accounts are fixed; a reset keeps them
		s.mu.Unlock()
		render(w, http.StatusOK, walletTmpl, page)
		return
	}
	now := s.now()
	pc := s.issuePayCode(sess.login, now)
	page.Login, page.CSRF, page.Refresh = sess.login, sess.csrf, walletRefresh
	page.Balance, page.Limit = acct.Balance.String(), acct.NoPasswordLimit.String()
	page.Code, page.Expire, page.TTL = pc.code, alipay.FormatTime(pc.expire), "2 分钟"
	for _, t := range s.waitingFor(sess.login, now) {
		p := pendingPay{TradeNo: t.TradeNo, Subject: t.Subject, Amount: t.TotalAmount.String()}
		if a := s.apps[t.AppID]; a != nil {
			p.Merchant = sellerEmail(a)
		}
		page.Pending = append(page.Pending, p)
	}
	s.mu.Unlock()
	b, err := code128C(page.Code)
	if err != nil { // cannot happen: a code is 18 digits
		s.log.Error("sandbox: drawing a payment code", "err", err)
	}
	q, err := qrNumeric(page.Code)
	if err != nil { // cannot happen: 18 digits fit
		s.log.Error("sandbox: drawing a payment code", "err", err)
	}
	page.Barcode, page.BarHeight = b, barHeight
	page.QR, page.QRSize = q.squares(), qrSize+2*qrQuiet
	render(w, http.StatusOK, walletTmpl, page)
}

// handleWalletLogin signs a buyer in with login and password.
func (s *Sandbox) handleWalletLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("login"))
	password := r.PostForm.Get("password")
	s.mu.Lock()
	acct := s.accounts[login]
	good := acct != nil && subtle.ConstantTimeCompare([]byte(acct.PayPassword), []byte(password)) == 1
	s.mu.Unlock()
	if !good {
		if len(login) > 100 {
			login = login[:100]
		}
		render(w, http.StatusOK, walletTmpl, walletPage{Title: "支付宝钱包", CSS: "../static/sandbox.css", Typed: login, Error: "账户名或密码错误"})
		return
	}
	s.setWalletCookie(w, r, s.wallets.start(login, s.wall()), int(walletSessionTTL.Seconds()))
	http.Redirect(w, r, s.baseURL(r)+"wallet", http.StatusSeeOther)
}

// handleWalletLogout signs the buyer out.
func (s *Sandbox) handleWalletLogout(w http.ResponseWriter, r *http.Request) {
	sess, tok, ok := s.walletSession(r)
	if ok && !s.checkCSRF(w, r, sess) {
		return
	}
	if ok {
		s.wallets.end(tok)
	}
	s.setWalletCookie(w, r, "", -1)
	http.Redirect(w, r, s.baseURL(r)+"wallet", http.StatusSeeOther)
}

// checkCSRF reads the (bounded) form and checks its csrf field against
// the session's; a mismatch is answered 403.
func (s *Sandbox) checkCSRF(w http.ResponseWriter, r *http.Request, sess walletSession) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
		http.Error(w, "表单已失效，请返回钱包重试", http.StatusForbidden)
		return false
	}
	return true
}

// pendingTrade finds a payment waiting for sess's buyer. Callers hold s.mu.
func (s *Sandbox) pendingTrade(no string, sess walletSession, now time.Time) *trade {
	t := s.byNo[no]
	if t == nil {
		return nil
	}
	if _, ok := s.paying[t]; !ok || t.BuyerLogin != sess.login {
		return nil
	}
	s.expireDue(t, now)
	if t.Status != alipay.TradeStatusWaitBuyerPay {
		return nil
	}
	return t
}

const confirmCSS = "../../static/sandbox.css"

func (s *Sandbox) confirmPage(t *trade, sess walletSession) payPage {
	p := s.payPageData(t, "支付宝钱包 · 确认付款")
	p.CSS, p.Buyer, p.CSRF = confirmCSS, sess.login, sess.csrf
	return p
}

func walletGone(w http.ResponseWriter) {
	render(w, http.StatusNotFound, resultPage, resultData{Title: "支付宝钱包", CSS: confirmCSS, Class: "fail",
		Heading: "没有待确认的付款", Text: "该付款已完成、已关闭，或不属于当前账户。", Link: "../../wallet", LinkText: "返回钱包"})
}

// handleWalletConfirm shows a waiting payment to its buyer.
func (s *Sandbox) handleWalletConfirm(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := s.walletSession(r)
	if !ok {
		http.Redirect(w, r, s.baseURL(r)+"wallet", http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	t := s.pendingTrade(r.PathValue("trade_no"), sess, s.now())
	var page payPage
	if t != nil {
		page = s.confirmPage(t, sess)
	}
	s.mu.Unlock()
	if t == nil {
		walletGone(w)
		return
	}
	render(w, http.StatusOK, pages, page)
}

// handleWalletConfirmPost pays a waiting payment with the buyer's pay
// password (action=pay), or goes back to the wallet (action=cancel), the
// payment still waiting.
func (s *Sandbox) handleWalletConfirmPost(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := s.walletSession(r)
	if !ok {
		http.Redirect(w, r, s.baseURL(r)+"wallet", http.StatusSeeOther)
		return
	}
	if !s.checkCSRF(w, r, sess) {
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		http.Redirect(w, r, s.baseURL(r)+"wallet", http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	now := s.now()
	t := s.pendingTrade(r.PathValue("trade_no"), sess, now)
	if t == nil {
		s.mu.Unlock()
		walletGone(w)
		return
	}
	_, err := s.payTrade(t, sess.login, r.PostForm.Get("password"), true, now)
	page := s.confirmPage(t, sess)
	s.mu.Unlock()
	if err != nil {
		page.Error = err.Error()
		render(w, http.StatusOK, pages, page)
		return
	}
	render(w, http.StatusOK, resultPage, resultData{Title: "支付宝钱包", CSS: confirmCSS, Class: "ok",
		Heading: "支付成功", Text: "¥" + page.Amount + " 已付款给 " + page.Merchant + "。", Link: "../../wallet", LinkText: "返回钱包"})
}
