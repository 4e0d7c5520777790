package alipay_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

// identEnv is the offline gateway with an app (key or certificate mode,
// v2 or v3) and a notify_url that records what it receives.
type identEnv struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	client *alipay.Client
	notify *httptest.Server

	mu    sync.Mutex
	notes [][]byte
}

func newIdentEnv(t *testing.T, api alipay.API, certs bool) *identEnv {
	t.Helper()
	appKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	if err != nil {
		t.Fatal(err)
	}
	alipayKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	sb, err := sandbox.New(sandbox.Config{AlipayKey: alipayKey, Now: func() time.Time { return base }})
	if err != nil {
		t.Fatal(err)
	}
	e := &identEnv{t: t, sb: sb, srv: httptest.NewServer(sb)}
	e.notify = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.notes = append(e.notes, b)
		e.mu.Unlock()
		alipay.AckNotification(w)
	}))
	t.Cleanup(func() { e.srv.Close(); e.notify.Close(); sb.Close() })
	if _, err := sb.RegisterAppWith(v3AppID, &appKey.PublicKey, sandbox.AppOptions{CertMode: certs}); err != nil {
		t.Fatal(err)
	}
	// The client keeps the real clock: v3 signatures are judged by it,
	// while the sandbox's clock moves to expire codes and tokens.
	cfg := alipay.Config{AppID: v3AppID, PrivateKey: appKey, API: api, Gateway: e.srv.URL + "/gateway.do",
		NotifyURL: e.notify.URL + "/notify", ReturnURL: "https://shop.example/agreement/done"}
	if certs {
		b, err := sb.Certificates(v3AppID)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Certificates, err = alipay.ParseCertificates([]byte(b.AppCert), []byte(b.AlipayCert), []byte(b.AlipayRootCert)); err != nil {
			t.Fatal(err)
		}
	} else {
		cfg.AlipayPublicKey = sb.PublicKey()
	}
	if e.client, err = alipay.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser fetches like a browser that does not follow redirects.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *identEnv) get(u string) (int, string, string) {
	e.t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (e *identEnv) postForm(u string, form url.Values) (int, string, string) {
	e.t.Helper()
	resp, err := browser.PostForm(u, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (e *identEnv) control(path string, form url.Values, out any) int {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (e *identEnv) fault(rule string) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/api/faults", "application/json", strings.NewReader(rule))
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("fault %s: %v %v", rule, resp, err)
	}
	resp.Body.Close()
}

// code issues an auth code through the control API.
func (e *identEnv) code(scope string) string {
	var oc struct {
		AuthCode string `json:"auth_code"`
	}
	if st := e.control("/api/oauth/codes", url.Values{"app_id": {v3AppID}, "buyer": {sandbox.DefaultBuyer}, "scope": {scope}}, &oc); st != 200 || oc.AuthCode == "" {
		e.t.Fatalf("api/oauth/codes: %d %+v", st, oc)
	}
	return oc.AuthCode
}

// delivered advances the clock by d (delivering what is due) and returns
// the agreement notifications received so far (deductions' trade
// notifications go to the same URL).
func (e *identEnv) delivered(d time.Duration) [][]byte {
	e.sb.Advance(e.t.Context(), d)
	e.mu.Lock()
	defer e.mu.Unlock()
	var out [][]byte
	for _, n := range e.notes {
		if alipay.IsAgreementNotification(n) {
			out = append(out, n)
		}
	}
	return out
}

var formToken = regexp.MustCompile(`name="form" value="([0-9a-f]+)"`)

const defaultBuyerID = "2088102177846880"

// TestIdentityAgainstSandbox runs 支付宝登录 and agreements with deductions
// against the offline gateway, over v2 and v3, in key and certificate mode:
// every call's success, its documented errors, repeats and unknown
// outcomes.
func TestIdentityAgainstSandbox(t *testing.T) {
	t.Parallel()
	for _, api := range []alipay.API{alipay.APIv2, alipay.APIv3} {
		for _, certs := range []bool{false, true} {
			t.Run(string(api)+"/"+map[bool]string{false: "key", true: "cert"}[certs], func(t *testing.T) {
				t.Parallel()
				e := newIdentEnv(t, api, certs)
				testOAuth(t, e, api)
				testAgreements(t, e)
			})
		}
	}
}

func testOAuth(t *testing.T, e *identEnv, api alipay.API) {
	ctx := t.Context()
	c := e.client
	// The authorize page: login and consent, then back with a code and the state.
	au, err := c.AuthorizeURL(alipay.AuthorizeRequest{Scopes: []alipay.Scope{alipay.ScopeAuthUser}, RedirectURI: "https://shop.example/auth/alipay/callback?x=1", State: "s<t>&1"})
	if err != nil || !strings.HasPrefix(au, e.srv.URL+"/oauth2/publicAppAuthorize.htm?") {
		t.Fatalf("authorize URL %q %v", au, err)
	}
	st, _, page := e.get(au)
	m := formToken.FindStringSubmatch(page)
	if st != 200 || m == nil || !strings.Contains(page, `id="login"`) || !strings.Contains(page, `id="password"`) || !strings.Contains(page, `id="pay"`) || strings.Contains(page, "s<t>") {
		t.Fatalf("authorize page: %d\n%s", st, page)
	}
	// A wrong password shows the page again, with no code.
	if st, loc, page := e.postForm(e.srv.URL+"/oauth2/publicAppAuthorize.htm", url.Values{"form": {m[1]}, "login": {sandbox.DefaultBuyer}, "password": {"000000"}, "action": {"allow"}}); st != 200 || loc != "" || !strings.Contains(page, `id="error"`) {
		t.Fatalf("wrong password: %d %q", st, loc)
	}
	st, loc, _ := e.postForm(e.srv.URL+"/oauth2/publicAppAuthorize.htm", url.Values{"form": {m[1]}, "login": {sandbox.DefaultBuyer}, "password": {sandbox.BuyerPassword}, "action": {"allow"}})
	back, _ := url.Parse(loc)
	if st != http.StatusSeeOther || back == nil || back.Host != "shop.example" || back.Query().Get("state") != "s<t>&1" || back.Query().Get("x") != "1" ||
		back.Query().Get("app_id") != v3AppID || back.Query().Get("auth_code") == "" {
		t.Fatalf("consent: %d %q", st, loc)
	}
	// The form works once.
	if st, _, _ := e.postForm(e.srv.URL+"/oauth2/publicAppAuthorize.htm", url.Values{"form": {m[1]}, "login": {sandbox.DefaultBuyer}, "password": {sandbox.BuyerPassword}, "action": {"allow"}}); st != http.StatusBadRequest {
		t.Fatalf("form reused: %d", st)
	}
	code := back.Query().Get("auth_code")
	tok, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: code})
	if err != nil || tok.UserID != defaultBuyerID || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != sandbox.AccessTokenTTL ||
		tok.ReExpiresIn != sandbox.RefreshTokenTTL || tok.AuthStart.IsZero() || tok.Raw.API != api {
		t.Fatalf("token: %+v %v", tok, err)
	}
	// A code works once.
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: code}); !alipay.HasSubCode(err, alipay.SubCodeCodeInvalid) || alipay.IsUnknownOutcome(err) {
		t.Fatalf("used code: %v", err)
	}
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: "nope"}); !alipay.HasSubCode(err, alipay.SubCodeCodeInvalid) {
		t.Fatalf("unknown code: %v", err)
	}
	// An expired code.
	old := e.code("auth_base")
	e.sb.Advance(ctx, sandbox.OAuthCodeTTL+time.Second)
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: old}); !alipay.HasSubCode(err, alipay.SubCodeCodeInvalid) {
		t.Fatalf("expired code: %v", err)
	}
	// User info with the auth_user token: nick name and an avatar the sandbox serves.
	info, err := c.UserInfoShare(ctx, tok.AccessToken)
	if err != nil || info.UserID != defaultBuyerID || info.NickName == "" || !strings.HasPrefix(info.Avatar, e.srv.URL+"/avatar/") {
		t.Fatalf("user info: %+v %v", info, err)
	}
	if resp, err := http.Get(info.Avatar); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("avatar: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if _, err := c.UserInfoShare(ctx, "20260101acdeadbeef"); !alipay.IsAuthTokenInvalid(err) {
		t.Fatalf("unknown token: %v", err)
	}
	// auth_base shares the user id only.
	base, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: e.code("auth_base")})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := c.UserInfoShare(ctx, base.AccessToken); err != nil || info.UserID != defaultBuyerID || info.NickName != "" {
		t.Fatalf("auth_base info: %+v %v", info, err)
	}
	// Refresh: a refresh token works once; the access token expires, the
	// refreshed one keeps working, and refresh tokens expire too.
	ref, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{GrantType: alipay.GrantRefreshToken, RefreshToken: tok.RefreshToken})
	if err != nil || ref.UserID != defaultBuyerID || ref.AccessToken == tok.AccessToken || ref.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %+v %v", ref, err)
	}
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{RefreshToken: tok.RefreshToken}); !alipay.HasSubCode(err, alipay.SubCodeRefreshTokenInvalid) {
		t.Fatalf("used refresh token: %v", err)
	}
	e.sb.Advance(ctx, sandbox.AccessTokenTTL+time.Minute)
	if _, err := c.UserInfoShare(ctx, ref.AccessToken); !alipay.IsAuthTokenInvalid(err) || alipay.IsUnknownOutcome(err) {
		t.Fatalf("expired token: %v", err)
	}
	ref2, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{RefreshToken: ref.RefreshToken})
	if err != nil {
		t.Fatalf("refresh after the access token expired: %v", err)
	}
	if _, err := c.UserInfoShare(ctx, ref2.AccessToken); err != nil {
		t.Fatalf("refreshed token: %v", err)
	}
	e.sb.Advance(ctx, sandbox.RefreshTokenTTL+time.Minute)
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{RefreshToken: ref2.RefreshToken}); !alipay.HasSubCode(err, alipay.SubCodeRefreshTokenTimeOut) {
		t.Fatalf("expired refresh token: %v", err)
	}
	// An answer lost after the code was spent: the outcome is unknown, and
	// the spent code cannot be exchanged again (the buyer signs in again).
	lost := e.code("auth_base")
	e.fault(`{"kind":"gateway_error","method":"alipay.system.oauth.token","error":"20000","count":1}`)
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: lost}); !alipay.IsUnknownOutcome(err) {
		t.Fatalf("lost answer: %v", err)
	}
	if _, err := c.SystemOauthToken(ctx, alipay.SystemOauthTokenRequest{Code: lost}); !alipay.HasSubCode(err, alipay.SubCodeCodeInvalid) {
		t.Fatalf("retry of a lost answer: %v", err)
	}
}

func testAgreements(t *testing.T, e *identEnv) {
	ctx := t.Context()
	c := e.client
	if _, err := c.UserAgreementQuery(ctx, alipay.AgreementRef{AgreementNo: "20260101000000000000"}); !alipay.IsAgreementNotExist(err) {
		t.Fatalf("unknown agreement: %v", err)
	}
	signURL, err := c.UserAgreementPageSignURL(alipay.AgreementPageSignRequest{SignScene: "INDUSTRY|DIGITAL_MEDIA", ExternalAgreementNo: "m1",
		PeriodRule: &alipay.PeriodRule{PeriodType: "MONTH", Period: 1, ExecuteTime: e.sb.Now(), SingleAmount: 3000}})
	if err != nil {
		t.Fatal(err)
	}
	st, loc, _ := e.get(signURL)
	if st != http.StatusSeeOther || !strings.Contains(loc, "/agreement/") {
		t.Fatalf("page.sign: %d %q", st, loc)
	}
	st, _, page := e.get(loc)
	if st != 200 || !strings.Contains(page, `id="login"`) || !strings.Contains(page, `<span id="amount">30.00</span>`) {
		t.Fatalf("sign page: %d\n%s", st, page)
	}
	temp, err := c.UserAgreementQuery(ctx, alipay.AgreementRef{PersonalProductCode: alipay.PersonalProductCyclePay, SignScene: "INDUSTRY|DIGITAL_MEDIA", ExternalAgreementNo: "m1"})
	if err != nil || temp.Status != alipay.AgreementTemp {
		t.Fatalf("agreement before signing: %+v %v", temp, err)
	}
	// Deducting under an agreement not signed yet is refused.
	if _, err := c.TradePay(ctx, alipay.TradePayRequest{OutTradeNo: "d0", TotalAmount: 100, Subject: "月费", AgreementNo: temp.AgreementNo, ProductCode: alipay.ProductCodeCyclePay}); !alipay.IsAgreementNotExist(err) {
		t.Fatalf("deduction before signing: %v", err)
	}
	st, loc, _ = e.postForm(loc, url.Values{"login": {sandbox.DefaultBuyer}, "password": {sandbox.BuyerPassword}, "action": {"sign"}})
	if st != http.StatusSeeOther || loc != "https://shop.example/agreement/done" {
		t.Fatalf("sign: %d %q", st, loc)
	}
	notes := e.delivered(0)
	if len(notes) != 1 {
		t.Fatalf("%d notifications after signing", len(notes))
	}
	if alipay.IsAgreementNotification([]byte("notify_type=trade_status_sync&x=1")) || !alipay.IsAgreementNotification(notes[0]) {
		t.Fatal("IsAgreementNotification")
	}
	sn, err := c.VerifyAgreementNotification(notes[0])
	if err != nil || sn.NotifyType != alipay.NotifyTypeAgreementSign || sn.Status != alipay.AgreementNormal || sn.AgreementNo != temp.AgreementNo ||
		sn.AlipayUserID != defaultBuyerID || sn.ExternalAgreementNo != "m1" || sn.SignTime.IsZero() {
		t.Fatalf("sign notification: %+v %v", sn, err)
	}
	if _, err := c.VerifyNotification(notes[0]); err == nil {
		t.Fatal("an agreement notification verified as a trade notification")
	}
	tampered := strings.Replace(string(notes[0]), "status=NORMAL", "status=STOP", 1)
	if _, err := c.VerifyAgreementNotification([]byte(tampered)); err == nil {
		t.Fatal("tampered notification verified")
	}
	ag, err := c.UserAgreementQuery(ctx, alipay.AgreementRef{AgreementNo: sn.AgreementNo})
	if err != nil || ag.Status != alipay.AgreementNormal || ag.PrincipalID != defaultBuyerID || ag.SignTime.IsZero() || ag.ExternalAgreementNo != "m1" {
		t.Fatalf("query: %+v %v", ag, err)
	}
	before := accountBalance(t, e.srv.URL, sandbox.DefaultBuyer)
	// A deduction: charged at once, without a password; its repeat charges nothing more.
	deduct := alipay.TradePayRequest{OutTradeNo: "d1", TotalAmount: 2500, Subject: "月费", AgreementNo: ag.AgreementNo, ProductCode: alipay.ProductCodeCyclePay}
	p1, err := c.TradePay(ctx, deduct)
	if err != nil || !p1.Paid() || p1.BuyerUserID != defaultBuyerID || p1.TotalAmount != 2500 {
		t.Fatalf("deduction: %+v %v", p1, err)
	}
	p2, err := c.TradePay(ctx, deduct)
	if err != nil || p2.TradeNo != p1.TradeNo {
		t.Fatalf("repeated deduction: %+v %v", p2, err)
	}
	if got := accountBalance(t, e.srv.URL, sandbox.DefaultBuyer); got != before-2500 {
		t.Fatalf("balance %v, want %v", got, before-2500)
	}
	// Above the single amount of the period rule.
	if _, err := c.TradePay(ctx, alipay.TradePayRequest{OutTradeNo: "d2", TotalAmount: 3001, Subject: "月费", AgreementNo: ag.AgreementNo, ProductCode: alipay.ProductCodeCyclePay}); !alipay.HasSubCode(err, "ACQ.TOTAL_FEE_EXCEED") {
		t.Fatalf("above the single amount: %v", err)
	}
	// A deduction whose answer is lost: the query shows it paid, the repeat charges nothing more.
	e.fault(`{"kind":"gateway_error","method":"alipay.trade.pay","error":"20000","count":1}`)
	lost := alipay.TradePayRequest{OutTradeNo: "d3", TotalAmount: 1000, Subject: "月费", AgreementNo: ag.AgreementNo, ProductCode: alipay.ProductCodeCyclePay}
	if _, err := c.TradePay(ctx, lost); !alipay.IsUnknownOutcome(err) {
		t.Fatalf("lost deduction: %v", err)
	}
	if q, err := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "d3"}); err != nil || q.TradeStatus != alipay.TradeStatusSuccess || q.BuyerUserID != defaultBuyerID {
		t.Fatalf("query after a lost deduction: %+v %v", q, err)
	}
	if _, err := c.TradePay(ctx, lost); err != nil {
		t.Fatalf("repeat of a lost deduction: %v", err)
	}
	if got := accountBalance(t, e.srv.URL, sandbox.DefaultBuyer); got != before-3500 {
		t.Fatalf("balance %v after the lost deduction, want %v", got, before-3500)
	}
	// A paused agreement refuses deductions.
	if st := e.control("/api/agreements/status", url.Values{"agreement_no": {ag.AgreementNo}, "status": {"STOP"}}, nil); st != 200 {
		t.Fatalf("pause: %d", st)
	}
	if q, _ := c.UserAgreementQuery(ctx, alipay.AgreementRef{AgreementNo: ag.AgreementNo}); q == nil || q.Status != alipay.AgreementStop {
		t.Fatalf("paused agreement: %+v", q)
	}
	if _, err := c.TradePay(ctx, alipay.TradePayRequest{OutTradeNo: "d4", TotalAmount: 100, Subject: "月费", AgreementNo: ag.AgreementNo}); !alipay.HasSubCode(err, alipay.SubCodeAgreementStatusInvalid) {
		t.Fatalf("deduction under a paused agreement: %v", err)
	}
	e.control("/api/agreements/status", url.Values{"agreement_no": {ag.AgreementNo}, "status": {"NORMAL"}}, nil)
	// Unsign: the agreement ends, dut_user_unsign follows, and it no longer exists.
	if _, err := c.UserAgreementUnsign(ctx, alipay.AgreementUnsignRequest{AgreementRef: alipay.AgreementRef{AgreementNo: ag.AgreementNo}}); err != nil {
		t.Fatalf("unsign: %v", err)
	}
	notes = e.delivered(0)
	if len(notes) != 2 {
		t.Fatalf("%d notifications after unsigning", len(notes))
	}
	un, err := c.VerifyAgreementNotification(notes[1])
	if err != nil || un.NotifyType != alipay.NotifyTypeAgreementUnsign || un.Status != alipay.AgreementUnsign || un.AgreementNo != ag.AgreementNo || un.UnsignTime.IsZero() {
		t.Fatalf("unsign notification: %+v %v", un, err)
	}
	if _, err := c.UserAgreementQuery(ctx, alipay.AgreementRef{AgreementNo: ag.AgreementNo}); !alipay.HasSubCode(err, alipay.SubCodeAgreementNotExist) {
		t.Fatalf("query after unsign: %v", err)
	}
	if _, err := c.UserAgreementUnsign(ctx, alipay.AgreementUnsignRequest{AgreementRef: alipay.AgreementRef{AgreementNo: ag.AgreementNo}}); !alipay.IsAgreementNotExist(err) {
		t.Fatalf("unsign again: %v", err)
	}
	if _, err := c.TradePay(ctx, alipay.TradePayRequest{OutTradeNo: "d5", TotalAmount: 100, Subject: "月费", AgreementNo: ag.AgreementNo}); !alipay.HasSubCode(err, alipay.SubCodeTradeAgreementNotExist) {
		t.Fatalf("deduction after unsign: %v", err)
	}
}

// accountBalance reads a buyer's balance from the sandbox's control API.
func accountBalance(t *testing.T, base, login string) alipay.Amount {
	t.Helper()
	resp, err := http.Get(base + "/api/accounts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all struct {
		Accounts []struct {
			Login   string        `json:"login"`
			Balance alipay.Amount `json:"balance"`
		} `json:"accounts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	for _, a := range all.Accounts {
		if a.Login == login {
			return a.Balance
		}
	}
	t.Fatalf("no account %s", login)
	return 0
}
