// Package web is the shop's HTTP interface: server-rendered pages in
// Chinese (html/template, embedded templates and stylesheet), the Alipay
// notify and return endpoints, the admin pages and a small JSON API.
//
// Every state-changing form is a POST protected against cross-site requests
// by http.CrossOriginProtection; admin pages need a login whose session
// cookie is HttpOnly and SameSite. Domain errors are mapped to HTTP statuses
// in one place (statusOf).
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Admin is what the admin pages need from storage: settings (the password
// hash, the shop's profile) and login sessions.
type Admin interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	AddSettingIfMissing(ctx context.Context, key, value string) (bool, error)
	CreateSession(ctx context.Context, token string, ttl time.Duration) error
	ValidSession(ctx context.Context, token string) (bool, error)
	DeleteSession(ctx context.Context, token string) error
	DeleteAllSessions(ctx context.Context) error
}

// Config configures the handler.
type Config struct {
	Service *shop.Service
	Admin   Admin
	Health  func(ctx context.Context) error // checked by /healthz
	Logger  *slog.Logger
	// SecureCookies marks the session cookie Secure (set it when the shop is
	// reached over https).
	SecureCookies bool
	// SessionTTL is how long an admin login lasts; default 12h.
	SessionTTL time.Duration
	// Refunds makes refunds from the admin order page; nil hides the form.
	Refunds *shop.Refunds
	// Payouts makes payouts (转账补偿) to a buyer from the admin order
	// page; nil hides the form.
	Payouts *shop.Payouts
	// Bills shows the daily bill checks at /admin/bills; nil disables it.
	Bills Bills
	// Extra routes mounted outside the shop's CSRF protection, e.g. the
	// embedded sandbox under "/sandbox/".
	Mount map[string]http.Handler
	// Ready is checked by /readyz (database answers, schema current).
	Ready func(ctx context.Context) error
	// Metrics, when set, is served at /metrics to loopback clients only.
	Metrics http.Handler
	// ObserveHTTP, when set, is told of every request served: the route
	// pattern that matched ("" for none), method, status and duration.
	ObserveHTTP func(route, method string, status int, d time.Duration)
	// BillChecker runs a bill check on demand from /admin/bills; nil hides
	// the button.
	BillChecker BillChecker
	// ShopName is the shop's first name (DefaultShopName when empty): it is
	// stored with the shop's profile the first time the profile is read,
	// and the admin's 设置 page changes it from then on.
	ShopName string
	// CookieKey signs the 我的订单 cookie (at least 32 bytes; see
	// EnsureCookieKey). Processes serving one shop share it; empty: a
	// random key for this process only.
	CookieKey []byte
	// Limits bounds what one client address can do; zero fields take
	// DefaultLimits().
	Limits Limits
	// Now is the clock of the limits; default time.Now.
	Now func() time.Time
	// TrustedProxies are the reverse proxies whose X-Forwarded-For gives
	// the client's address (see ClientAddr); none by default.
	TrustedProxies TrustedProxies
	// Hosts, when set, is the Host values answered, the mounted routes
	// included; others get 421. nil answers every Host.
	Hosts *HostPolicy
	// Login enables 支付宝登录 for buyers (GET /auth/alipay); nil hides it.
	Login *shop.Login
}

// DefaultShopName is the shop's name when none is configured.
const DefaultShopName = "小店"

// Server is the shop's http.Handler.
type Server struct {
	svc    *shop.Service
	admin  Admin
	health func(ctx context.Context) error
	log    *slog.Logger
	secure bool
	ttl    time.Duration
	pages  map[string]*template.Template
	h      http.Handler
	// billSem admits one on-demand bill check at a time.
	billSem chan struct{}

	logins     *loginThrottle
	checkout   *limiters // per client address
	lookups    *limiters // per client address
	unverified *limiters // per client address
	unverTotal *limiters // all addresses together
	trusted    TrustedProxies
	hosts      *HostPolicy

	refunds *shop.Refunds
	payouts *shop.Payouts
	bills   Bills
	checker BillChecker

	ready       func(ctx context.Context) error
	metrics     http.Handler
	observeHTTP func(route, method string, status int, d time.Duration)
	shopName    string
	prof        profileCache
	buyers      buyerCookie
	alipayLogin *shop.Login
}

// New returns the shop's handler.
func New(cfg Config) (*Server, error) {
	s := &Server{svc: cfg.Service, admin: cfg.Admin, health: cfg.Health, log: cfg.Logger, secure: cfg.SecureCookies, ttl: cfg.SessionTTL,
		billSem: make(chan struct{}, 1), refunds: cfg.Refunds, payouts: cfg.Payouts, bills: cfg.Bills, checker: cfg.BillChecker,
		ready: cfg.Ready, metrics: cfg.Metrics, observeHTTP: cfg.ObserveHTTP, shopName: cfg.ShopName,
		trusted: cfg.TrustedProxies, hosts: cfg.Hosts, alipayLogin: cfg.Login}
	if s.shopName == "" {
		s.shopName = DefaultShopName
	}
	key := cfg.CookieKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("web: cookie key of %d bytes, want at least 32", len(key))
	}
	s.buyers = buyerCookie{key: key, secure: cfg.SecureCookies}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s.prof.now = now
	lim := cfg.Limits.withDefaults()
	// Password checks are slow on purpose (PBKDF2): at most one per address
	// and a few in all run at once, so a flood cannot take every core.
	s.logins = newLoginThrottle(lim.LoginFailures, lim.LoginWindow, now, max(2, runtime.NumCPU()))
	s.checkout = newLimiters(lim.CheckoutBurst, lim.CheckoutEvery, now)
	s.lookups = newLimiters(lim.LookupBurst, lim.LookupEvery, now)
	s.unverified = newLimiters(lim.UnverifiedBurst, lim.UnverifiedEvery, now)
	s.unverTotal = newLimiters(lim.UnverifiedTotalBurst, lim.UnverifiedTotalEvery, now)
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = slog.New(BoundedLog(s.log.Handler()))
	if s.ttl <= 0 {
		s.ttl = 12 * time.Hour
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.h = s.routes(cfg.Mount)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

var funcs = template.FuncMap{
	"fmtTime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(alipay.Beijing).Format("2006-01-02 15:04:05")
	},
	// yuan shows an amount in fen as a price: ¥369.00.
	"yuan":     func(a alipay.Amount) string { return "¥" + a.String() },
	"viaLabel": paidViaLabel,
	"refundLabel": func(st shop.RefundStatus) string {
		switch st {
		case shop.RefundSucceeded:
			return "退款成功"
		case shop.RefundFailed:
			return "退款失败"
		}
		return "退款处理中"
	},
	"mismatchLabel": mismatchLabel,
	"billDetail":    billDetail,
	"closedReason":  shop.ClosedReason,
	"maskPhone":     shop.MaskPhone,
	// refundLeft is what a refund of the whole rest of an order gives back.
	"refundLeft": func(o shop.Order) alipay.Amount { return o.Amount - o.RefundedFen },
	// initial is the first character of s, for a picture's placeholder.
	"initial": func(s string) string {
		for _, r := range s {
			return string(r)
		}
		return ""
	},
}

// paidViaLabel names how a payment became known, for people.
func paidViaLabel(via string) string {
	switch via {
	case shop.SourceNotify:
		return "异步通知"
	case shop.SourceReturn:
		return "同步返回查询"
	case shop.SourceQuery:
		return "主动查询"
	case shop.SourcePay:
		return "当面付收款应答"
	case "":
		return ""
	}
	return "其他（" + via + "）"
}

// mismatchLabel names a bill check difference, for people.
func mismatchLabel(kind string) string {
	switch kind {
	case "missing_local":
		return "账单有、本店无"
	case "missing_bill":
		return "本店有、账单无"
	case "amount":
		return "金额不符"
	case "status":
		return "状态不符"
	case "refund_missing_local":
		return "退款：账单有、本店无"
	case "refund_missing_bill":
		return "退款：本店有、账单无"
	case "refund_amount":
		return "退款金额不符"
	case "refund_status":
		return "退款状态不符"
	}
	return kind
}

func (s *Server) parseTemplates() error {
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", n, err)
		}
		s.pages[name] = t
	}
	return nil
}

// routes lists every route of the shop.
func (s *Server) routes(mount map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(noListing(http.FileServerFS(static)), time.Hour)))
	mux.Handle("GET /favicon.ico", cacheFor(http.HandlerFunc(favicon), 24*time.Hour))

	mux.HandleFunc("GET /{$}", s.goodsPage)
	mux.HandleFunc("POST /orders", s.createOrder)
	mux.HandleFunc("GET /orders", s.myOrders)
	mux.HandleFunc("GET /orders/{out_trade_no}", s.orderPage)
	mux.HandleFunc("GET /orders/lookup", s.lookupPage)
	mux.HandleFunc("POST /orders/lookup", s.lookupOrder)
	mux.HandleFunc("POST /orders/{out_trade_no}/receive", s.receiveOrder)
	mux.HandleFunc("POST /orders/{out_trade_no}/pay", s.payOrder)
	mux.HandleFunc("GET /goods/{id}/image", s.goodsImage)
	mux.HandleFunc("GET /goods/{id}/pictures/{version}/{size}", s.goodsPicture)
	mux.HandleFunc("GET /goods/{id}", s.goodsDetail)
	mux.HandleFunc("GET /checkout", s.checkoutPage)
	mux.HandleFunc("POST /orders/{out_trade_no}/sync", s.syncOrder)
	mux.HandleFunc("GET /alipay/return", s.alipayReturn)
	mux.HandleFunc("/alipay/notify", s.alipayNotify) // every method: a wrong one is recorded too
	mux.HandleFunc("GET /api/orders/{out_trade_no}", s.apiOrder)
	mux.HandleFunc("GET /auth/alipay", s.loginStart)
	mux.HandleFunc("GET /auth/alipay/callback", s.loginCallback)
	mux.HandleFunc("POST /auth/logout", s.buyerLogout)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.metrics != nil {
		mux.Handle("GET /metrics", LoopbackOnly(s.metrics))
	}

	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.login)
	mux.HandleFunc("POST /admin/logout", s.logout)
	mux.Handle("GET /admin/{$}", s.requireAdmin(http.RedirectHandler("/admin/orders", http.StatusSeeOther)))
	mux.Handle("GET /admin/orders", s.requireAdmin(http.HandlerFunc(s.adminOrders)))
	mux.Handle("GET /admin/orders/{out_trade_no}", s.requireAdmin(http.HandlerFunc(s.adminOrder)))
	mux.Handle("GET /admin/orders.csv", s.requireAdmin(http.HandlerFunc(s.ordersCSV)))
	mux.Handle("POST /admin/orders/{out_trade_no}/ship", s.requireAdmin(http.HandlerFunc(s.adminShip)))
	mux.Handle("POST /admin/orders/{out_trade_no}/refunds", s.requireAdmin(http.HandlerFunc(s.adminRefund)))
	mux.Handle("POST /admin/orders/{out_trade_no}/refunds/confirm", s.requireAdmin(http.HandlerFunc(s.adminRefundConfirm)))
	mux.Handle("GET /admin/payouts.csv", s.requireAdmin(http.HandlerFunc(s.payoutsCSV)))
	mux.Handle("POST /admin/orders/{out_trade_no}/payouts", s.requireAdmin(http.HandlerFunc(s.adminPayout)))
	mux.Handle("POST /admin/orders/{out_trade_no}/payouts/confirm", s.requireAdmin(http.HandlerFunc(s.adminPayoutConfirm)))
	mux.Handle("GET /admin/bills", s.requireAdmin(http.HandlerFunc(s.adminBills)))
	mux.Handle("POST /admin/bills/check", s.requireAdmin(http.HandlerFunc(s.adminCheckBill)))
	mux.Handle("GET /admin/goods", s.requireAdmin(http.HandlerFunc(s.adminGoods)))
	mux.Handle("GET /admin/goods/new", s.requireAdmin(http.HandlerFunc(s.goodsForm)))
	mux.Handle("POST /admin/goods", s.requireAdmin(http.HandlerFunc(s.saveGoods)))
	mux.Handle("GET /admin/goods/{id}/edit", s.requireAdmin(http.HandlerFunc(s.goodsForm)))
	mux.Handle("POST /admin/goods/{id}", s.requireAdmin(http.HandlerFunc(s.saveGoods)))
	mux.Handle("POST /admin/goods/{id}/delete", s.requireAdmin(http.HandlerFunc(s.deleteGoods)))
	mux.Handle("GET /admin/settings", s.requireAdmin(http.HandlerFunc(s.adminSettings)))
	mux.Handle("POST /admin/settings", s.requireAdmin(http.HandlerFunc(s.saveSettings)))
	mux.Handle("GET /admin/password", s.requireAdmin(http.HandlerFunc(s.passwordPage)))
	mux.Handle("POST /admin/password", s.requireAdmin(http.HandlerFunc(s.changePassword)))
	mux.Handle("GET /admin/pos", s.requireAdmin(http.HandlerFunc(s.adminPOS)))
	mux.Handle("POST /admin/pos", s.requireAdmin(http.HandlerFunc(s.adminPOSCharge)))
	mux.Handle("GET /admin/pos/{out_trade_no}", s.requireAdmin(http.HandlerFunc(s.adminPOSOrder)))
	mux.Handle("POST /admin/pos/{out_trade_no}/cancel", s.requireAdmin(http.HandlerFunc(s.adminPOSCancel)))
	mux.HandleFunc("GET /policy", s.policyPage)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "client", clientString(r), "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.renderError(w, r, http.StatusForbidden, "操作未被允许", "这个请求不是从本站页面提交的，已被拒绝。请回到本站页面再操作。")
	}))
	var root http.Handler = securityHeaders(s.recoverPanics(cop.Handler(s.routeErrors(mux))))
	if len(mount) > 0 {
		m := http.NewServeMux()
		m.Handle("/", root)
		for pattern, h := range mount {
			m.Handle(pattern, h)
		}
		root = m
	}
	return withClient(s.trusted, logRequests(s.log, s.observeHTTP, Gzip(s.checkHost(root))))
}

// checkHost answers 421 to a request whose Host the policy refuses, before
// any route (the mounted ones too) sees it. Health probes (GET /healthz,
// GET /readyz) answer whatever the Host: a load balancer or orchestrator
// may probe by an address, and they change and tell nothing.
func (s *Server) checkHost(h http.Handler) http.Handler {
	if s.hosts == nil {
		return h
	}
	refuse := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("request for another host refused", "client", clientString(r), "host", r.Host, "method", r.Method, "path", r.URL.Path)
		s.renderError(w, r, http.StatusMisdirectedRequest, "", "")
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
		if probe || s.hosts.Allows(r.Host) {
			h.ServeHTTP(w, r)
			return
		}
		refuse.ServeHTTP(w, r)
	})
}

// noListing answers 404 for a directory, so the file server never lists
// what it holds.
func noListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// limitCheckout answers 429 when the client is over its checkout budget.
func (s *Server) limitCheckout(w http.ResponseWriter, r *http.Request) bool {
	ok, retry := s.checkout.allow(clientKey(r))
	if ok {
		return false
	}
	s.log.Warn("checkout rate limit", "client", clientString(r))
	s.tooMany(w, r, retry, "操作过于频繁，请稍后再试。")
	return true
}

// tooMany answers 429 with the error page (JSON under /api/) and
// Retry-After saying when the limiter will admit the client again.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration, msg string) {
	setRetryAfter(w, retry)
	s.renderError(w, r, http.StatusTooManyRequests, "请求过于频繁", msg)
}

// setRetryAfter sets Retry-After to wait in whole seconds, rounded up, at
// least 1.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64((wait+time.Second-1)/time.Second)), 10))
}

func cacheFor(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request's method, path (never the query, which may
// carry signatures) and status at debug level, and 5xx at warn; observe (if
// set) gets the route pattern the request matched, which the muxes record
// in r.Pattern.
func logRequests(log *slog.Logger, observe func(route, method string, status int, d time.Duration), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if observe != nil {
			observe(r.Pattern, r.Method, sw.status, time.Since(start))
		}
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "http", "client", clientString(r), "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
	})
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data map[string]any) {
	t := s.pages[name]
	if data == nil {
		data = map[string]any{}
	}
	data["Title"] = title
	p := s.profile(r.Context())
	data["ShopName"], data["Profile"] = p.Name, p
	if _, ok := data["Admin"]; !ok {
		data["Admin"] = s.isAdmin(r)
	}
	if _, ok := data["Nav"]; !ok {
		data["Nav"] = ""
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		s.log.Error("render", "template", name, "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// renderError answers with an error, the one place that does: the shop's
// error page with a heading saying what happened (statusHeading when
// heading is ""), a message (statusMessage when "") and the way back (the
// admin's order list on admin pages, else the storefront), the status
// only in the HTTP answer, never on the page; under /api/ a JSON body
// {"error": code, "message": message}.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		if msg == "" {
			msg = statusMessage(status)
		}
		writeJSON(w, status, map[string]string{"error": apiErrorCode(status), "message": msg})
		return
	}
	back := nextStep{Text: "返回首页", Href: "/"}
	if strings.HasPrefix(r.URL.Path, "/admin/") && r.URL.Path != "/admin/login" {
		back = nextStep{Text: "返回订单管理", Href: "/admin/orders"}
	}
	s.renderErrorPage(w, r, status, errorPage{Heading: heading, Message: msg, Next: []nextStep{back}})
}

// errorPage is an error page: what happened, in the buyer's words, and the
// next steps that fit, the first being the main one.
type errorPage struct {
	Heading, Message string
	Next             []nextStep
}

// nextStep is a way on from an error page: a link (Href), or a button that
// posts Fields to Post (e.g. 重新购买).
type nextStep struct {
	Text, Href string
	Post       string
	Fields     map[string]string
	ID         string // the element id; the first step's is "back" when empty
}

func (s *Server) renderErrorPage(w http.ResponseWriter, r *http.Request, status int, p errorPage) {
	if p.Heading == "" {
		p.Heading = statusHeading(status)
	}
	if p.Message == "" {
		p.Message = statusMessage(status)
	}
	if len(p.Next) > 0 && p.Next[0].ID == "" {
		p.Next[0].ID = "back"
	}
	s.render(w, r, status, "error", p.Heading, map[string]any{"Page": p})
}

// statusHeading is an error page's heading when the handler gives none: what
// happened, in the words of the person reading it.
func statusHeading(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "请求无法处理"
	case http.StatusUnauthorized:
		return "需要登录"
	case http.StatusForbidden:
		return "操作未被允许"
	case http.StatusNotFound:
		return "找不到这个页面"
	case http.StatusMethodNotAllowed:
		return "无法这样打开此页面"
	case http.StatusConflict:
		return "操作未能完成"
	case http.StatusRequestEntityTooLarge:
		return "提交的内容太大"
	case http.StatusUnprocessableEntity:
		return "填写的信息有误"
	case http.StatusMisdirectedRequest:
		return "网址不属于本店"
	case http.StatusTooManyRequests:
		return "操作太频繁了"
	case http.StatusServiceUnavailable:
		return "暂时无法访问"
	}
	if status >= 500 {
		return "出了点问题"
	}
	return "请求未能完成"
}

// statusMessage is the error page's text when the handler gives none.
func statusMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "链接可能有误，或者这个页面已被删除。"
	case http.StatusMethodNotAllowed:
		return "该页面不能以这种方式访问，请从本站页面上的链接或按钮进入。"
	case http.StatusMisdirectedRequest:
		return "这个网址不是本店的地址，请通过本店的网址访问。"
	case http.StatusTooManyRequests:
		return "您的操作太频繁了，请稍等片刻再试。"
	case http.StatusRequestEntityTooLarge:
		return "提交的内容超过了大小限制。"
	case http.StatusServiceUnavailable:
		return "服务暂时不可用，请稍后再试。"
	}
	if status >= 500 {
		return "我们这边处理时出错了，您的操作没有完成。请稍后再试。"
	}
	return "请求未能完成，请返回后重试。"
}

// routeErrors answers requests no route takes (an unknown path, or a known
// path with another method) with the shop's error page instead of the
// mux's plain text; under /api/ the answer is JSON.
func (s *Server) routeErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own answer tells 404 from 405 (and a redirect to a
		// cleaned path); it is a few bytes, kept in memory.
		rec := &headerRecorder{h: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status < 400 {
			for k, v := range rec.h {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			return
		}
		if allow := rec.h.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		s.renderError(w, r, rec.status, "", "")
	})
}

// apiErrorCode is the "error" of a JSON error answer: the domain error code
// statusOf maps to status, or a name of its own for statuses no domain
// error has.
func apiErrorCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return shop.ENOTFOUND
	case http.StatusConflict:
		return shop.ECONFLICT
	case http.StatusUnauthorized:
		return shop.EUNAUTHORIZED
	case http.StatusServiceUnavailable:
		return shop.EUNAVAILABLE
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusMisdirectedRequest:
		return "misdirected_request"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	if status >= 500 {
		return shop.EINTERNAL
	}
	return shop.EINVALID
}

// headerRecorder keeps the status and headers of a small answer, dropping
// its body.
type headerRecorder struct {
	h      http.Header
	status int
}

func (r *headerRecorder) Header() http.Header { return r.h }
func (r *headerRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}

// recoverPanics turns a handler's panic into the 500 page (or JSON) and a
// log line, instead of a dropped connection.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}
				return
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			s.fail(w, r, fmt.Errorf("panic: %v", v))
		}()
		h.ServeHTTP(w, r)
	})
}

// statusOf maps a domain error code to an HTTP status: the one place that does.
func statusOf(code string) int {
	switch code {
	case shop.EINVALID:
		return http.StatusUnprocessableEntity
	case shop.ENOTFOUND:
		return http.StatusNotFound
	case shop.ECONFLICT:
		return http.StatusConflict
	case shop.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case shop.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers a request that failed with err: a page (or JSON under /api/)
// with a safe message; internal errors are logged, never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := shop.ErrorCode(err)
	status := statusOf(code)
	if code == shop.EINTERNAL || code == shop.EUNAVAILABLE {
		s.log.Error("request failed", "client", clientString(r), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.renderError(w, r, status, "", shop.ErrorMessage(err))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.health != nil {
		if err := s.health(r.Context()); err != nil {
			s.log.Error("health check failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
