package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/metrics"
	"alishop/internal/shop"
	"alishop/internal/store"
	"alishop/internal/web"
)

// sandboxAppID is the app id the embedded sandbox registers for the shop,
// in the style of the open platform's sandbox app ids.
const sandboxAppID = "9021000000000001"

type serveConfig struct {
	addr, data, db, publicURL              string
	appID, privateKey, publicKey, sellerID string
	appCert, alipayCert, rootCert, gateway string
	api                                    string
	adminPassword, logLevel, metricsAddr   string
	shopName                               string
	publicURLSet                           bool
	shutdownTimeout                        time.Duration
	rel                                    reliabilityFlags
	sec                                    securityFlags
}

// envName is the environment variable of a flag: ALISHOP_ + the name in
// upper case with - as _.
func envName(flagName string) string {
	return "ALISHOP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func parseServeFlags(args []string, e *env) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8000", "listen address (with the built-in sandbox, loopback only unless --sandbox-listen-any)")
	fs.StringVar(&c.data, "data", "./data", "data directory: SQLite database, generated keys, the embedded sandbox's state")
	fs.StringVar(&c.db, "db", "", "database: a SQLite file path (default DATA/alishop.db), or a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL for PostgreSQL")
	fs.StringVar(&c.publicURL, "public-url", "http://localhost:8000", "base URL Alipay redirects buyers and sends notifications to")
	fs.StringVar(&c.appID, "alipay-app-id", "", "Alipay app id (APPID); without it the built-in sandbox is used")
	fs.StringVar(&c.privateKey, "alipay-private-key", "", "file with the app private key (应用私钥), PEM or bare base64")
	fs.StringVar(&c.publicKey, "alipay-public-key", "", "file with Alipay's public key (支付宝公钥), PEM or bare base64 (key mode)")
	fs.StringVar(&c.appCert, "alipay-app-cert", "", "certificate mode: the app public key certificate (appCertPublicKey_APPID.crt)")
	fs.StringVar(&c.alipayCert, "alipay-cert", "", "certificate mode: Alipay's public key certificate (alipayCertPublicKey_RSA2.crt)")
	fs.StringVar(&c.rootCert, "alipay-root-cert", "", "certificate mode: Alipay's root certificate (alipayRootCert.crt)")
	fs.StringVar(&c.gateway, "alipay-gateway", "production", "gateway: production, sandbox, or a URL")
	fs.StringVar(&c.api, "alipay-api", "v2", "protocol of the server-side calls (query, close, refund, refund query, bill): v2 (gateway.do) or v3 (OpenAPI v3); page pay stays v2")
	fs.StringVar(&c.sellerID, "alipay-seller-id", "", "the merchant's PID (2088…), checked against seller_id in notifications")
	fs.StringVar(&c.adminPassword, "admin-password", "", "admin password (default: generated on first start, printed once)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve /metrics on this separate address (e.g. 10.0.0.5:9100) for a scraper on another host; without it /metrics answers loopback clients on --addr only")
	fs.StringVar(&c.shopName, "shop-name", web.DefaultShopName, "the shop's name, shown on every page")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for requests in flight at shutdown")
	c.rel.register(fs)
	c.sec.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError("serve: %v", err)
	}
	if fs.NArg() > 0 {
		return nil, usageError("serve: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		if v := e.getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usageError("serve: %s: %v", envName(f.Name), err)
			}
			set[f.Name] = true
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := c.rel.check(); err != nil {
		return nil, err
	}
	if c.api != string(alipay.APIv2) && c.api != string(alipay.APIv3) {
		return nil, usageError("serve: --alipay-api %q: want v2 or v3", c.api)
	}
	c.shopName = strings.TrimSpace(c.shopName)
	if n := utf8.RuneCountInString(c.shopName); n == 0 || n > 32 || !utf8.ValidString(c.shopName) || strings.ContainsFunc(c.shopName, unicode.IsControl) {
		return nil, usageError("serve: --shop-name %q: want 1 to 32 characters of text", c.shopName)
	}
	if err := c.sec.check(); err != nil {
		return nil, err
	}
	if c.adminPassword != "" {
		if err := web.CheckNewPassword(c.adminPassword); err != nil {
			return nil, usageError("serve: --admin-password: %v", err)
		}
	}
	c.publicURLSet = set["public-url"]
	db, err := resolveDB("serve", c.data, c.db)
	if err != nil {
		return nil, err
	}
	c.db = db
	if c.publicURLSet {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, usageError("serve: --public-url %q: want an absolute http or https URL such as https://shop.example.com", c.publicURL)
		}
		c.publicURL = strings.TrimRight(c.publicURL, "/")
	}
	if c.appID == "" {
		if err := c.sec.checkSandboxAddr(c.addr); err != nil {
			return nil, err
		}
		for _, f := range []string{"alipay-private-key", "alipay-public-key", "alipay-app-cert", "alipay-cert", "alipay-root-cert", "alipay-seller-id"} {
			if set[f] {
				return nil, usageError("serve: --%s needs --alipay-app-id (without an app the built-in sandbox is used)", f)
			}
		}
	} else {
		if c.privateKey == "" {
			return nil, usageError("serve: --alipay-app-id needs --alipay-private-key")
		}
		certs := c.appCert != "" || c.alipayCert != "" || c.rootCert != ""
		switch {
		case certs && (c.appCert == "" || c.alipayCert == "" || c.rootCert == ""):
			return nil, usageError("serve: certificate mode needs all of --alipay-app-cert, --alipay-cert and --alipay-root-cert")
		case certs && c.publicKey != "":
			return nil, usageError("serve: give either --alipay-public-key (key mode) or the three certificates, not both")
		case !certs && c.publicKey == "":
			return nil, usageError("serve: --alipay-app-id needs --alipay-public-key (支付宝公钥) or the certificate flags")
		}
	}
	return c, nil
}

func gatewayURL(g string) (string, error) {
	u, err := alipay.ResolveGateway(g)
	if err != nil {
		return "", usageError("serve: --alipay-gateway %q: want production, sandbox or an http(s) URL without a query", g)
	}
	return u, nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("serve: --log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// listenURLs returns the URL to print for the listener and the public URL
// derived from it.
func listenURLs(ln net.Listener) (listen, public string) {
	a := ln.Addr().(*net.TCPAddr)
	port := fmt.Sprint(a.Port)
	if a.IP == nil || a.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", port), "http://" + net.JoinHostPort("localhost", port)
	}
	u := "http://" + net.JoinHostPort(a.IP.String(), port)
	return u, u
}

// loadOrCreateAppKey returns the app key pair of the built-in sandbox mode,
// generating it into dir on first start.
func loadOrCreateAppKey(dir string) (*rsa.PrivateKey, bool, error) {
	priv := filepath.Join(dir, "app_private_key.pem")
	if _, err := os.Stat(priv); err == nil {
		k, err := alipay.LoadPrivateKeyFile(priv)
		return k, false, err
	}
	if err := privateDir(dir); err != nil {
		return nil, false, err
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, false, err
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	if err := writeFileAtomic(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, false, err
	}
	if err := writeFileAtomic(filepath.Join(dir, "app_public_key.pem"), alipay.PublicKeyPEM(&k.PublicKey), 0o600); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}

// demoGoods are put on sale the first time the shop runs with the built-in
// sandbox, like the tutorial's goods table.
var demoGoods = []struct{ name, price, desc string }{
	{"Python全栈开发课程", "369.00", "从基础语法到 Web 开发与部署，120 节视频课，附源码与练习。"},
	{"Django实战教程", "88.00", "用 Django 一步步做出一个完整的网上商店。"},
	{"算法导论（第三版）", "128.50", "经典算法教材，精装中文版。"},
	{"机械键盘", "3788.00", "87 键热插拔，铝合金外壳，三模连接。"},
	{"支付测试商品", "0.01", "一分钱体验完整的支付流程。"},
}

// runServe runs the shop until ctx ends, then shuts down gracefully.
func runServe(ctx context.Context, args []string, e *env) error {
	cfg, err := parseServeFlags(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	gateway, err := gatewayURL(cfg.gateway)
	if err != nil {
		return err
	}
	log, err := newLogger(e.stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	if err := privateDir(cfg.data); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: data directory: %v", err)}
	}

	// Load the real app's keys before anything else, so a bad file is
	// reported at once.
	acfg := alipay.Config{AppID: cfg.appID, Gateway: gateway, API: alipay.API(cfg.api)}
	if err := checkKeyFiles("serve", [][2]string{{"alipay-private-key", cfg.privateKey}, {"alipay-public-key", cfg.publicKey},
		{"alipay-app-cert", cfg.appCert}, {"alipay-cert", cfg.alipayCert}, {"alipay-root-cert", cfg.rootCert}}); err != nil {
		return err
	}
	if cfg.appID != "" {
		if acfg.PrivateKey, err = alipay.LoadPrivateKeyFile(cfg.privateKey); err != nil {
			return usageError("serve: --alipay-private-key: %v", err)
		}
		if cfg.publicKey != "" {
			if acfg.AlipayPublicKey, err = alipay.LoadPublicKeyFile(cfg.publicKey); err != nil {
				return usageError("serve: --alipay-public-key: %v", err)
			}
		} else if acfg.Certificates, err = alipay.LoadCertificates(cfg.appCert, cfg.alipayCert, cfg.rootCert); err != nil {
			return usageError("serve: certificates: %v", err)
		}
	}

	db, err := store.Open(ctx, cfg.db, store.Options{})
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: %v", err)}
	}
	defer db.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: listen on %s: %v", cfg.addr, err)}
	}
	defer ln.Close()
	listenURL, derived := listenURLs(ln)
	publicURL := cfg.publicURL
	if !cfg.publicURLSet {
		publicURL = derived
	}
	acfg.NotifyURL = publicURL + "/alipay/notify"
	acfg.ReturnURL = publicURL + "/alipay/return"

	mx := metrics.New(db, log)
	acfg.HTTPClient = &http.Client{Timeout: 15 * time.Second, Transport: mx.Transport(nil)}
	merchant := shop.Merchant{AppID: cfg.appID, SellerID: cfg.sellerID}
	mount := map[string]http.Handler{}
	var sb *sandbox.Sandbox
	if cfg.appID == "" {
		sb, err = startSandbox(ctx, cfg, publicURL, log, &acfg, &merchant)
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("serve: sandbox: %v", err)}
		}
		defer sb.Close()
		mount["/sandbox/"] = http.StripPrefix("/sandbox", sb)
	} else if cfg.sellerID == "" {
		log.Warn("no --alipay-seller-id: notifications are not checked against the merchant's PID; set it (账户中心 → 合作伙伴管理 → PID)")
	}
	client, err := alipay.New(acfg)
	if err != nil {
		return usageError("serve: Alipay configuration: %v", err)
	}

	svc := shop.NewService(shop.Config{Store: db, Gateway: client, Merchant: merchant, Logger: log, OrderTTL: cfg.rel.orderTTL, Observer: mx,
		QuitURL: func(no string) string { return publicURL + "/orders/" + no }})
	refunds, rec, err := cfg.rel.wire(svc, db, client, log)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: %v", err)}
	}
	if db.Fresh && sb != nil {
		for _, g := range demoGoods {
			if err := svc.SaveGoods(ctx, &shop.Goods{Name: g.name, Price: alipay.MustAmount(g.price), Description: g.desc}); err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("serve: demo goods: %v", err)}
			}
		}
	}
	generated, err := web.EnsureAdminPassword(ctx, db, cfg.adminPassword)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: admin password: %v", err)}
	}
	cookieKey, err := web.EnsureCookieKey(ctx, db)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: cookie key: %v", err)}
	}
	handler, err := web.New(web.Config{
		Service: svc, Admin: db, Health: db.Ping, Logger: log, Mount: mount, Refunds: refunds, Bills: db,
		SecureCookies: strings.HasPrefix(publicURL, "https://"), ShopName: cfg.shopName, CookieKey: cookieKey,
		Limits: cfg.sec.limits,
		Ready:  db.Ready, ObserveHTTP: mx.ObserveHTTP, BillChecker: rec, Metrics: loopbackMetrics(cfg, mx),
	})
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: %v", err)}
	}
	srv := &http.Server{
		Handler:           handler,
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
	if cfg.metricsAddr != "" {
		stopMetrics, err := serveMetrics(ctx, cfg.metricsAddr, mx, log, e)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	// The reconciler (background jobs) stops before the database closes.
	stopJobs := runReconciler(ctx, rec)
	defer stopJobs()
	stopPruner := runPruner(ctx, db, &cfg.sec, log)
	defer stopPruner()

	fmt.Fprintf(e.stdout, "alishop listening on %s/\n", listenURL)
	fmt.Fprintf(e.stdout, "open the shop at %s/ (admin: %s/admin/orders, user %s)\n", publicURL, publicURL, web.AdminUser)
	if generated != "" {
		fmt.Fprintf(e.stdout, "admin password (generated, shown only this once): %s\n", generated)
	}
	api := ""
	if acfg.API == alipay.APIv3 {
		api = "; server-side calls over OpenAPI v3"
	}
	if sb != nil {
		fmt.Fprintf(e.stdout, "built-in Alipay sandbox at %s/sandbox/ (buyer %s, password %s); app id %s%s\n",
			publicURL, sandbox.DefaultBuyer, sandbox.BuyerPassword, cfg.appIDOr(sandboxAppID), api)
	} else {
		fmt.Fprintf(e.stdout, "Alipay app %s via %s; notifications to %s%s\n", cfg.appID, gateway, acfg.NotifyURL, api)
	}

	select {
	case err := <-served:
		return &exitError{code: 1, msg: fmt.Sprintf("serve: %v", err)}
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown: requests still in flight were cut", "err", err)
	}
	return nil
}

func (c *serveConfig) appIDOr(def string) string {
	if c.appID != "" {
		return c.appID
	}
	return def
}

// startSandbox creates the embedded sandbox, registers the shop's app with
// generated keys, and points the client at it over HTTP.
func startSandbox(ctx context.Context, cfg *serveConfig, publicURL string, log *slog.Logger, acfg *alipay.Config, m *shop.Merchant) (*sandbox.Sandbox, error) {
	key, created, err := loadOrCreateAppKey(filepath.Join(cfg.data, "keys"))
	if err != nil {
		return nil, fmt.Errorf("app keys: %w", err)
	}
	if created {
		log.Info("generated app keys for the built-in sandbox", "dir", filepath.Join(cfg.data, "keys"))
	}
	sb, err := newSandbox(sandbox.Config{
		DataDir: filepath.Join(cfg.data, "sandbox"),
		BaseURL: publicURL + "/sandbox/",
		Logger:  log.With("component", "sandbox"),
		// The shop's listener may face a network: only this machine may
		// drive the simulator (pay trades, read the trade list, reset).
		ControlLoopbackOnly: true,
	})
	if err != nil {
		return nil, err
	}
	app, err := sb.RegisterApp(sandboxAppID, &key.PublicKey)
	if err != nil {
		sb.Close()
		return nil, err
	}
	sb.Start(ctx)
	acfg.AppID = app.AppID
	acfg.PrivateKey = key
	acfg.AlipayPublicKey = sb.PublicKey()
	acfg.Gateway = publicURL + "/sandbox/gateway.do"
	m.AppID, m.SellerID = app.AppID, app.SellerID
	return sb, nil
}
