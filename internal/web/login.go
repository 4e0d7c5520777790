package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"alishop/internal/shop"
)

// 支付宝登录 for buyers. GET /auth/alipay binds a random state to the
// browser (cookie alishop_oauth_state, HttpOnly, SameSite=Lax so that it
// comes back with Alipay's redirect, 10 minutes) and sends the browser to
// the authorize page (scope auth_base). GET /auth/alipay/callback accepts
// only that state, exchanges auth_code for the buyer's user id and keeps the
// id in the signed session cookie alishop_buyer (HMAC-SHA256 with the shop's
// cookie key over the id and its expiry; HttpOnly, SameSite=Lax, 30 days).
// POST /auth/logout ends it. The id is never logged and is shown masked.
const (
	loginStateCookie = "alishop_oauth_state"
	loginStateAge    = 10 * 60 // seconds
	buyerCookieName  = "alishop_buyer"
	buyerSessionAge  = 30 * 24 * time.Hour
)

func (b buyerCookie) sessionMAC(v string) string {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte("buyer-session\x00" + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session returns the logged-in buyer's user id, "" when none (missing,
// forged or expired cookie).
func (b buyerCookie) session(r *http.Request, now time.Time) string {
	c, err := r.Cookie(buyerCookieName)
	if err != nil || len(c.Value) > 256 {
		return ""
	}
	v, sig, ok := strings.Cut(c.Value, "~")
	if !ok || !hmac.Equal([]byte(sig), []byte(b.sessionMAC(v))) {
		return ""
	}
	uid, exp, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !shop.ValidUserID(uid) || now.Unix() >= n {
		return ""
	}
	return uid
}

func (b buyerCookie) setSession(w http.ResponseWriter, uid string, now time.Time) {
	v := uid + "." + strconv.FormatInt(now.Add(buyerSessionAge).Unix(), 10)
	http.SetCookie(w, &http.Cookie{Name: buyerCookieName, Value: v + "~" + b.sessionMAC(v), Path: "/",
		MaxAge: int(buyerSessionAge / time.Second), HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode})
}

func (b buyerCookie) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode})
}

// buyerID is the request's logged-in buyer, "" when none or when 支付宝登录
// is off.
func (s *Server) buyerID(r *http.Request) string {
	if s.alipayLogin == nil {
		return ""
	}
	return s.buyers.session(r, s.prof.now())
}

// loginStart is GET /auth/alipay: a new state in a cookie, then 303 to
// Alipay's authorize page.
func (s *Server) loginStart(w http.ResponseWriter, r *http.Request) {
	if s.alipayLogin == nil {
		s.renderError(w, r, http.StatusNotFound, "", "")
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	state := hex.EncodeToString(b)
	u, err := s.alipayLogin.Start(state)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Value: state, Path: "/auth/alipay", MaxAge: loginStateAge,
		HttpOnly: true, Secure: s.buyers.secure, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// loginCallback is GET /auth/alipay/callback?auth_code=&state=: the state
// must be this browser's; the code becomes the session.
func (s *Server) loginCallback(w http.ResponseWriter, r *http.Request) {
	if s.alipayLogin == nil {
		s.renderError(w, r, http.StatusNotFound, "", "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the URL holds the code
	q := r.URL.Query()
	bound := ""
	if c, err := r.Cookie(loginStateCookie); err == nil {
		bound = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Value: "", Path: "/auth/alipay", MaxAge: -1, HttpOnly: true,
		Secure: s.buyers.secure, SameSite: http.SameSiteLaxMode})
	if !shop.LoginStateOK(bound, q.Get("state")) {
		s.renderError(w, r, http.StatusBadRequest, "登录未完成", "登录请求已失效或不是从本站发起的，请重新点击“用支付宝登录”。")
		return
	}
	code := q.Get("auth_code")
	if code == "" {
		s.renderError(w, r, http.StatusBadRequest, "登录已取消", "您没有在支付宝确认授权。可以重新点击“用支付宝登录”。")
		return
	}
	uid, err := s.alipayLogin.Finish(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.buyers.setSession(w, uid, s.prof.now())
	s.log.Info("buyer logged in with alipay")
	http.Redirect(w, r, "/orders", http.StatusSeeOther)
}

// logout is POST /auth/logout: the session cookie is cleared; the
// browser's own order list stays.
func (s *Server) buyerLogout(w http.ResponseWriter, r *http.Request) {
	s.buyers.clear(w, buyerCookieName)
	http.Redirect(w, r, "/orders", http.StatusSeeOther)
}
