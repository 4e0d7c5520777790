package sandbox

// 支付宝登录: the authorize page (oauth2/publicAppAuthorize.htm), one-time
// auth codes, access and refresh tokens (alipay.system.oauth.token) and
// the buyers' profiles (alipay.user.info.share), with avatars served here.
// Codes and tokens live in memory: a restart forgets them, as if every
// buyer had to sign in again. Signed agreements are kept with the other
// state (store.go).

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
)

// Lifetimes of 支付宝登录's codes and tokens (sandbox clock). Alipay's
// auth_code lives from 3 minutes up to a day; the tokens' lifetimes are the
// expires_in and re_expires_in Alipay commonly answers.
const (
	OAuthCodeTTL     = 5 * time.Minute
	AccessTokenTTL   = 15 * 24 * time.Hour
	RefreshTokenTTL  = 30 * 24 * time.Hour
	authorizeFormTTL = 30 * time.Minute
	maxOAuthEntries  = 10000 // bounds each of the maps below
)

// identity is the state of 支付宝登录 and agreements; guarded by Sandbox.mu.
type identity struct {
	forms      map[string]*authForm     // open authorize pages, by form token
	codes      map[string]*oauthGrant   // auth codes
	access     map[string]*oauthGrant   // access tokens
	refresh    map[string]*oauthGrant   // refresh tokens
	agreements map[string]*agreement    // by agreement_no
	signForms  map[string]*agreementTry // open agreement sign pages, by token
}

// ident returns the identity state, created on first use. Callers hold s.mu.
func (s *Sandbox) ident() *identity {
	if s.id == nil {
		s.id = &identity{forms: map[string]*authForm{}, codes: map[string]*oauthGrant{}, access: map[string]*oauthGrant{},
			refresh: map[string]*oauthGrant{}, agreements: map[string]*agreement{}, signForms: map[string]*agreementTry{}}
	}
	return s.id
}

// authForm is an authorize page shown to a browser: the form posts its
// token, which only that page knows (a cross-site post cannot name it).
type authForm struct {
	appID, scope, redirect, state string
	expire                        time.Time
}

// oauthGrant is what a code or token stands for.
type oauthGrant struct {
	appID, login, scope string
	start, expire       time.Time
}

// sweep drops expired entries of m, and the oldest when it is full.
func sweep[V any](m map[string]V, expired func(V) bool) {
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxOAuthEntries {
			break
		}
		delete(m, k)
	}
}

func scopesOK(scope string) bool {
	if scope == "" || len(scope) > 100 {
		return false
	}
	for _, s := range strings.Split(scope, ",") {
		if s != string(alipay.ScopeAuthBase) && s != string(alipay.ScopeAuthUser) {
			return false
		}
	}
	return true
}

// issueOAuthCode makes an auth code of login for app. Callers hold s.mu.
func (s *Sandbox) issueOAuthCode(appID, login, scope string, now time.Time) string {
	id := s.ident()
	sweep(id.codes, func(g *oauthGrant) bool { return !now.Before(g.expire) })
	code := randHex(16)
	id.codes[code] = &oauthGrant{appID: appID, login: login, scope: scope, start: now, expire: now.Add(OAuthCodeTTL)}
	return code
}

// OAuthCode is an issued auth code, as api/oauth/codes answers it.
type OAuthCode struct {
	AuthCode   string    `json:"auth_code"`
	AppID      string    `json:"app_id"`
	Buyer      string    `json:"buyer"`
	UserID     string    `json:"user_id"`
	Scope      string    `json:"scope"`
	ExpiresAt  time.Time `json:"expires_at"`
	ExpireTime string    `json:"expire_time"`
}

// IssueOAuthCode issues an auth code as if buyer ("" = DefaultBuyer) had
// consented on the authorize page of appID for scope ("" = auth_base).
func (s *Sandbox) IssueOAuthCode(appID, buyer, scope string) (OAuthCode, error) {
	if buyer == "" {
		buyer = DefaultBuyer
	}
	if scope == "" {
		scope = string(alipay.ScopeAuthBase)
	}
	if !scopesOK(scope) {
		return OAuthCode{}, errString("sandbox: scope must be auth_base and/or auth_user")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps[appID] == nil {
		return OAuthCode{}, errString("sandbox: unknown app_id")
	}
	acct := s.accounts[buyer]
	if acct == nil {
		return OAuthCode{}, ErrUnknownBuyer
	}
	now := s.now()
	code := s.issueOAuthCode(appID, buyer, scope, now)
	exp := now.Add(OAuthCodeTTL)
	return OAuthCode{AuthCode: code, AppID: appID, Buyer: buyer, UserID: acct.UserID, Scope: scope, ExpiresAt: exp, ExpireTime: alipay.FormatTime(exp)}, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// apiOAuthCodes issues an auth code (form: app_id, buyer, scope).
func (s *Sandbox) apiOAuthCodes(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	oc, err := s.IssueOAuthCode(r.PostForm.Get("app_id"), r.PostForm.Get("buyer"), r.PostForm.Get("scope"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, oc)
}

var authorizePage = template.Must(template.New("authorize").Parse(pageHead + `
<section class="order">
<p class="subject" id="subject">{{.Merchant}} 申请获取你的{{if .User}}支付宝头像、昵称和{{end}}支付宝账户标识</p>
<dl><dt>应用</dt><dd id="app_id">{{.AppID}}</dd><dt>授权范围</dt><dd id="scope">{{.Scope}}</dd><dt>授权后返回</dt><dd id="redirect_uri">{{.Redirect}}</dd></dl>
</section>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
{{if .Token}}<form method="post" class="pay" action="{{.Action}}">
<h2>登录支付宝账户并授权</h2>
<input type="hidden" name="form" value="{{.Token}}">
<label for="login">账户名</label>
<input id="login" name="login" type="text" placeholder="buyer@sandbox.com" autocomplete="username" required value="{{.Login}}">
<label for="password">登录密码</label>
<input id="password" name="password" type="password" inputmode="numeric" placeholder="6 位数字" autocomplete="off">
<div class="buttons">
<button id="pay" name="action" value="allow" type="submit">同意授权</button>
<button id="cancel" name="action" value="deny" type="submit" class="secondary" formnovalidate>取消</button>
</div>
</form>
<p class="hint">沙箱买家：buyer@sandbox.com，密码 111111；poor@sandbox.com，密码 111111。</p>{{end}}
` + pageFoot))

type authorizeData struct {
	Title, CSS, Merchant, AppID, Scope, Redirect, Error, Token, Action, Login string
	User                                                                      bool
}

// handleAuthorize shows the authorize page of a request
// (app_id, scope, redirect_uri, state), as Alipay's publicAppAuthorize.htm.
func (s *Sandbox) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := authorizeData{Title: "支付宝登录授权", CSS: "../static/sandbox.css", Action: "publicAppAuthorize.htm",
		AppID: q.Get("app_id"), Scope: q.Get("scope"), Redirect: q.Get("redirect_uri")}
	state := q.Get("state")
	if d.Scope == "" {
		d.Scope = string(alipay.ScopeAuthBase)
	}
	d.User = strings.Contains(d.Scope, string(alipay.ScopeAuthUser))
	s.mu.Lock()
	a := s.apps[d.AppID]
	if a != nil {
		d.Merchant = sellerEmail(a)
	}
	switch {
	case a == nil:
		d.Error = "无效的 app_id：应用不存在。"
	case !scopesOK(d.Scope):
		d.Error = "scope 无效：应为 auth_base 或 auth_user。"
	case !validHTTPURL(d.Redirect) || len(d.Redirect) > 1024:
		d.Error = "redirect_uri 无效：应为完整的 http(s) 地址。"
	case len(state) > alipay.MaxStateLen:
		d.Error = "state 过长（最多 100 个字符）。"
	default:
		now := s.now()
		id := s.ident()
		sweep(id.forms, func(f *authForm) bool { return !now.Before(f.expire) })
		d.Token = randHex(16)
		id.forms[d.Token] = &authForm{appID: d.AppID, scope: d.Scope, redirect: d.Redirect, state: state, expire: now.Add(authorizeFormTTL)}
	}
	s.mu.Unlock()
	status := http.StatusOK
	if d.Token == "" {
		status = http.StatusBadRequest
	}
	render(w, status, authorizePage, d)
}

// handleAuthorizePost signs the buyer in and, on consent, redirects to
// redirect_uri with auth_code, app_id, scope, source and state; on refusal,
// back to redirect_uri without a code.
func (s *Sandbox) handleAuthorizePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		render(w, http.StatusBadRequest, resultPage, resultData{Title: "支付宝登录授权", CSS: "../static/sandbox.css", Class: "fail", Heading: "请求无效", Text: "表单无法解析。"})
		return
	}
	tok := r.PostForm.Get("form")
	login := strings.TrimSpace(r.PostForm.Get("login"))
	s.mu.Lock()
	now := s.now()
	id := s.ident()
	f := id.forms[tok]
	if f == nil || !now.Before(f.expire) || len(tok) > 64 {
		s.mu.Unlock()
		render(w, http.StatusBadRequest, resultPage, resultData{Title: "支付宝登录授权", CSS: "../static/sandbox.css", Class: "fail",
			Heading: "授权页已失效", Text: "请回到商户页面重新发起支付宝登录。"})
		return
	}
	target, err := url.Parse(f.redirect)
	if err != nil {
		s.mu.Unlock()
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := target.Query()
	q.Set("app_id", f.appID)
	q.Set("scope", f.scope)
	q.Set("source", "alipay_wallet")
	if f.state != "" {
		q.Set("state", f.state)
	}
	if r.PostForm.Get("action") != "allow" {
		delete(id.forms, tok)
		s.mu.Unlock()
		q.Set("error", "access_denied")
		target.RawQuery = q.Encode()
		http.Redirect(w, r, target.String(), http.StatusSeeOther)
		return
	}
	acct := s.accounts[login]
	good := acct != nil && subtle.ConstantTimeCompare([]byte(acct.PayPassword), []byte(r.PostForm.Get("password"))) == 1
	if !good {
		a := s.apps[f.appID]
		d := authorizeData{Title: "支付宝登录授权", CSS: "../static/sandbox.css", Action: "publicAppAuthorize.htm", AppID: f.appID,
			Scope: f.scope, Redirect: f.redirect, Token: tok, Login: login, Error: "账户名或密码错误。",
			User: strings.Contains(f.scope, string(alipay.ScopeAuthUser))}
		if a != nil {
			d.Merchant = sellerEmail(a)
		}
		s.mu.Unlock()
		render(w, http.StatusOK, authorizePage, d)
		return
	}
	delete(id.forms, tok)
	q.Set("auth_code", s.issueOAuthCode(f.appID, login, f.scope, now))
	s.mu.Unlock()
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusSeeOther)
}

// oauthParam reads a parameter of the oauth calls: a protocol parameter
// over v2, a field of the JSON body (or the query) over v3.
func (req *gwReq) oauthParam(k string) string {
	if v := req.p[k]; v != "" {
		return v
	}
	if v, ok := req.bizString(k); ok && v != "" {
		return v
	}
	if req.r != nil {
		return req.r.URL.Query().Get(k) // v3: auth_token is in the query
	}
	return ""
}

func gwNode(code, sub, msg string) *node { return gatewayErr(code, sub, msg).node() }

// oauthToken answers alipay.system.oauth.token.
func (s *Sandbox) oauthToken(req *gwReq, now time.Time) *node {
	id := s.ident()
	var g *oauthGrant
	switch req.oauthParam("grant_type") {
	case "authorization_code":
		code := req.oauthParam("code")
		g = id.codes[code]
		delete(id.codes, code) // used once, whatever happens
		if g == nil || !now.Before(g.expire) || g.appID != req.app.AppID {
			return gwNode("40002", "isv.code-invalid", "授权码code无效")
		}
	case "refresh_token":
		rt := req.oauthParam("refresh_token")
		g = id.refresh[rt]
		if g == nil || g.appID != req.app.AppID {
			return gwNode("40002", "isv.refresh-token-invalid", "刷新令牌refresh_token无效")
		}
		delete(id.refresh, rt)
		if !now.Before(g.expire) {
			return gwNode("40002", "isv.refresh-token-time-out", "刷新令牌refresh_token过期")
		}
	case "":
		return gwNode("40001", "isv.missing-parameter", "缺少必选参数 grant_type")
	default:
		return gwNode("40002", "isv.grant-type-invalid", "grant_type 无效：应为 authorization_code 或 refresh_token")
	}
	acct := s.accounts[g.login]
	if acct == nil {
		return gwNode("40002", "isv.code-invalid", "授权码code无效")
	}
	sweep(id.access, func(t *oauthGrant) bool { return !now.Before(t.expire) })
	sweep(id.refresh, func(t *oauthGrant) bool { return !now.Before(t.expire) })
	at, rt := alipayToken(now), alipayToken(now)
	id.access[at] = &oauthGrant{appID: g.appID, login: g.login, scope: g.scope, start: now, expire: now.Add(AccessTokenTTL)}
	id.refresh[rt] = &oauthGrant{appID: g.appID, login: g.login, scope: g.scope, start: now, expire: now.Add(RefreshTokenTTL)}
	return okNode().str("user_id", acct.UserID).str("alipay_user_id", acct.UserID).str("access_token", at).
		raw("expires_in", []byte(strconv.Itoa(int(AccessTokenTTL/time.Second)))).str("refresh_token", rt).
		raw("re_expires_in", []byte(strconv.Itoa(int(RefreshTokenTTL/time.Second)))).str("auth_start", alipay.FormatTime(now))
}

// alipayToken makes a token in Alipay's shape: the date, "ac" and hex.
func alipayToken(now time.Time) string {
	return now.In(alipay.Beijing).Format("20060102") + "ac" + randHex(15)
}

// userInfoShare answers alipay.user.info.share for the auth_token's buyer.
func (s *Sandbox) userInfoShare(req *gwReq, now time.Time) *node {
	tok := req.oauthParam("auth_token")
	g := s.ident().access[tok]
	if g == nil || g.appID != req.app.AppID {
		return gwNode("20001", "aop.invalid-auth-token", "无效的访问令牌")
	}
	if !now.Before(g.expire) {
		return gwNode("20001", "aop.auth-token-time-out", "访问令牌已过期")
	}
	acct := s.accounts[g.login]
	if acct == nil {
		return gwNode("20001", "aop.invalid-auth-token", "无效的访问令牌")
	}
	n := okNode().str("user_id", acct.UserID)
	if !strings.Contains(g.scope, string(alipay.ScopeAuthUser)) {
		return n // auth_base shares the user id only
	}
	return n.str("nick_name", nickName(acct.Login)).str("avatar", s.baseURL(req.r)+"avatar/"+acct.UserID+".png").
		str("gender", "F").str("province", "浙江省").str("city", "杭州市").str("is_certified", "T").
		str("user_type", "2").str("user_status", "T")
}

// nickName is a buyer's nick name in the sandbox.
func nickName(login string) string {
	switch login {
	case DefaultBuyer:
		return "沙箱买家"
	case PoorBuyer:
		return "余额不足买家"
	}
	name, _, _ := strings.Cut(login, "@")
	return name
}

// handleAvatar serves a buyer's avatar: a 96×96 PNG in a colour of their
// user id.
func (s *Sandbox) handleAvatar(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	uid, ok := strings.CutSuffix(name, ".png")
	if !ok || !buyerIDRe.MatchString(uid) {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256([]byte(uid))
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	bg := color.RGBA{sum[0]/2 + 64, sum[1]/2 + 64, sum[2]/2 + 64, 255}
	for y := 0; y < 96; y++ {
		for x := 0; x < 96; x++ {
			c := bg
			if (x-48)*(x-48)+(y-38)*(y-38) < 324 || ((x-48)*(x-48)/2+(y-96)*(y-96) < 1100) {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(b.Bytes())
}
