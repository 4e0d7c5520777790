package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/metrics"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/store"
	"alishop/internal/web"
)

// runServe runs the shop until ctx ends, then shuts down gracefully.
func runServe(ctx context.Context, args []string, e *env) error {
	cfg, err := parseServeFlags(args, e)
	if err != nil {
		return err
	}
	log, err := newLogger(e.stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	acfg, err := cfg.alipay.config()
	if err != nil {
		return err
	}
	if err := privateDir(cfg.data); err != nil {
		return failure("serve: data directory: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return failure("serve: listen on %s: %v", cfg.addr, err)
	}
	defer ln.Close()
	listenURL := listenURL(ln)
	publicURL := cfg.publicURL
	if !cfg.publicURLSet {
		publicURL = listenURL
	}
	notifyURL := publicURL + "/alipay/notify"
	printStartLine(e.stdout, listenURL, cfg.db, notifyURL)
	warnNotifyURL(log, cfg.alipay.appID != "", notifyURL)

	// The listener answers at once: /healthz 200, /readyz 503 and 503 to
	// everything else until the database is ready and the shop assembled.
	front := &frontHandler{}
	front.set(startingHandler())
	srv := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("shutdown: requests still in flight were cut", "err", err)
		}
	}

	type opened struct {
		db *store.DB
		s  *shopServer
	}
	o, err := waitForDB(ctx, log, cfg.db, func(ctx context.Context) (opened, error) {
		db, err := store.Open(ctx, cfg.db, store.Options{})
		if err != nil {
			return opened{}, dbError{failure("serve: %v", err)}
		}
		s, err := assemble(ctx, cfg, db, log, acfg, publicURL)
		if err != nil {
			if s != nil && s.sandbox != nil {
				s.sandbox.Close()
			}
			db.Close()
			return opened{}, err
		}
		return opened{db, s}, nil
	})
	if err != nil {
		shutdown()
		if ctx.Err() != nil {
			return nil // stopped while waiting for the database
		}
		return err
	}
	db, s := o.db, o.s
	defer db.Close()
	if s.sandbox != nil {
		defer s.sandbox.Close()
	}
	front.set(s.handler)
	if cfg.metricsAddr != "" {
		stopMetrics, err := serveMetrics(ctx, cfg.metricsAddr, s.metrics, log, e)
		if err != nil {
			shutdown()
			return err
		}
		defer stopMetrics()
	}
	// The reconciler (background jobs) stops before the database closes.
	stopJobs := runReconciler(ctx, s.reconciler)
	defer stopJobs()
	stopPruner := runPruner(ctx, db, &cfg.retention, log)
	defer stopPruner()

	s.announce(e.stdout, cfg, listenURL, publicURL)

	select {
	case err := <-served:
		return failure("serve: %v", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown()
	return nil
}

// config resolves the gateway and loads the real app's keys, so a bad file
// is reported before anything starts.
func (f *alipayFlags) config() (alipay.Config, error) {
	gateway, err := alipay.ResolveGateway(f.gateway)
	if err != nil {
		return alipay.Config{}, usageError("serve: --alipay-gateway %q: want production, sandbox or an http(s) URL without a query", f.gateway)
	}
	acfg := alipay.Config{AppID: f.appID, Gateway: gateway, API: alipay.API(f.api)}
	if err := checkKeyFiles("serve", [][2]string{{"alipay-private-key", f.privateKey}, {"alipay-public-key", f.publicKey},
		{"alipay-app-cert", f.appCert}, {"alipay-cert", f.alipayCert}, {"alipay-root-cert", f.rootCert}}); err != nil {
		return acfg, err
	}
	if f.appID == "" {
		return acfg, nil
	}
	if acfg.PrivateKey, err = alipay.LoadPrivateKeyFile(f.privateKey); err != nil {
		return acfg, usageError("serve: --alipay-private-key: %v", err)
	}
	if f.publicKey != "" {
		if acfg.AlipayPublicKey, err = alipay.LoadPublicKeyFile(f.publicKey); err != nil {
			return acfg, usageError("serve: --alipay-public-key: %v", err)
		}
	} else if acfg.Certificates, err = alipay.LoadCertificates(f.appCert, f.alipayCert, f.rootCert); err != nil {
		return acfg, usageError("serve: certificates: %v", err)
	}
	return acfg, nil
}

// shopServer is the assembled shop: its HTTP handler and the parts that run
// beside it.
type shopServer struct {
	handler    http.Handler
	metrics    *metrics.Metrics
	reconciler *reconcile.Reconciler
	sandbox    *sandbox.Sandbox // the built-in sandbox, or nil
	client     *alipay.Client
	api        alipay.API
	gateway    string
	generated  string // the admin password generated at this start, or ""
}

// assemble builds the shop on db: the Alipay client (with the built-in
// sandbox when no app is configured), the shop service, the refund use
// cases and the reconciler, and the web handler. When it returns a sandbox
// the caller closes it, also on error.
func assemble(ctx context.Context, cfg *serveConfig, db *store.DB, log *slog.Logger, acfg alipay.Config, publicURL string) (*shopServer, error) {
	s := &shopServer{metrics: metrics.New(db, log)}
	acfg.NotifyURL = publicURL + "/alipay/notify"
	acfg.ReturnURL = publicURL + "/alipay/return"
	acfg.OnCall = s.metrics.AlipayCall
	merchant := shop.Merchant{AppID: cfg.alipay.appID, SellerID: cfg.alipay.sellerID}
	mount := map[string]http.Handler{}
	var err error
	if cfg.alipay.appID == "" {
		s.sandbox, err = startSandbox(ctx, cfg, publicURL, log, &acfg, &merchant)
		if err != nil {
			return s, failure("serve: sandbox: %v", err)
		}
		mount["/sandbox/"] = http.StripPrefix("/sandbox", s.sandbox)
	} else if cfg.alipay.sellerID == "" {
		log.Warn("no --alipay-seller-id: notifications are not checked against the merchant's PID; set it (账户中心 → 合作伙伴管理 → PID)")
	}
	s.api, s.gateway = acfg.API, acfg.Gateway
	if s.client, err = alipay.New(acfg); err != nil {
		return s, usageError("serve: Alipay configuration: %v", err)
	}

	svc := shop.NewService(shop.Config{Store: db, Gateway: s.client, Merchant: merchant, Logger: log, OrderTTL: cfg.jobs.orderTTL, Observer: s.metrics, AutoComplete: cfg.jobs.autoComplete,
		POSWait: cfg.jobs.posWait,
		QuitURL: func(no string) string { return publicURL + "/orders/" + no }})
	refunds, payouts, rec, err := cfg.jobs.wire(svc, db, s.client, log)
	if err != nil {
		return s, failure("serve: %v", err)
	}
	s.reconciler = rec
	if db.Fresh() && s.sandbox != nil {
		if err := addDemoGoods(ctx, svc); err != nil {
			return s, dbError{failure("serve: demo goods: %v", err)}
		}
	}
	if err := ensureAdminPassword(ctx, cfg, db, log, s); err != nil {
		return s, err
	}
	cookieKey, err := web.EnsureCookieKey(ctx, db)
	if err != nil {
		return s, dbError{failure("serve: cookie key: %v", err)}
	}
	hosts, err := hostPolicy([]string{publicURL}, cfg.proxy.allowedHosts)
	if err != nil {
		return s, usageError("serve: %v", err)
	}
	s.handler, err = web.New(web.Config{
		Service: svc, Admin: db, Health: db.Ping, Logger: log, Mount: mount, Refunds: refunds, Bills: db,
		Payouts:       payouts,
		SecureCookies: strings.HasPrefix(publicURL, "https://"), ShopName: cfg.shopName, CookieKey: cookieKey,
		Limits: cfg.limits, TrustedProxies: cfg.proxy.trusted, Hosts: hosts,
		Ready: db.Ready, ObserveHTTP: s.metrics.ObserveHTTP, BillChecker: rec, Metrics: loopbackMetrics(cfg, s.metrics),
		Login: shop.NewLogin(s.client, db, publicURL+"/auth/alipay/callback"),
	})
	if err != nil {
		return s, failure("serve: %v", err)
	}
	// One name for a shop on loopback: the 我的订单 cookie is per name.
	s.handler = web.OneLoopbackName(s.handler, publicURL)
	return s, nil
}

// ensureAdminPassword stores the admin password of the flags: the stored
// form given by --admin-password-hash, the password of --admin-password, or
// one generated at the first start (kept in s.generated to be printed once).
func ensureAdminPassword(ctx context.Context, cfg *serveConfig, db *store.DB, log *slog.Logger, s *shopServer) error {
	if cfg.adminPasswordHash == "" {
		var err error
		if s.generated, err = web.EnsureAdminPassword(ctx, db, cfg.adminPassword); err != nil {
			return dbError{failure("serve: admin password: %v", err)}
		}
		return nil
	}
	if n, _ := web.CheckPasswordHash(cfg.adminPasswordHash); n < web.PasswordIterations {
		log.Warn("the admin password hash has fewer PBKDF2 iterations than alishop's own; alishop passwd --hash makes one with them",
			"iterations", n, "alishop", web.PasswordIterations)
	}
	if err := web.EnsureAdminPasswordHash(ctx, db, cfg.adminPasswordHash); err != nil {
		return dbError{failure("serve: admin password: %v", err)}
	}
	return nil
}

// announce prints where the shop listens and how to reach it.
func (s *shopServer) announce(w io.Writer, cfg *serveConfig, listenURL, publicURL string) {
	fmt.Fprintf(w, "alishop listening on %s/\n", listenURL)
	fmt.Fprintf(w, "open the shop at %s/ (admin: %s/admin/orders, user %s)\n", publicURL, publicURL, web.AdminUser)
	if s.generated != "" {
		fmt.Fprintf(w, "admin password (generated, shown only this once): %s\n", s.generated)
	}
	api := ""
	if s.api == alipay.APIv3 {
		api = "; server-side calls over OpenAPI v3"
	}
	if s.sandbox != nil {
		fmt.Fprintf(w, "built-in Alipay sandbox at %s/sandbox/ (buyer %s, password %s); app id %s%s\n",
			publicURL, sandbox.DefaultBuyer, sandbox.BuyerPassword, sandboxAppID, api)
	} else {
		fmt.Fprintf(w, "Alipay app %s via %s; notifications to %s/alipay/notify%s\n", cfg.alipay.appID, s.gateway, publicURL, api)
	}
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("serve: --log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(web.BoundedLog(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))), nil
}

// listenURL is the URL of the listener; an unspecified address (every
// interface) is shown as 127.0.0.1.
func listenURL(ln net.Listener) string {
	a := ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP == nil || a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(a.Port))
}
