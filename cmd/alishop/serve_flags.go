package main

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"alishop/alipay"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/web"
)

// serveConfig is serve's flags.
type serveConfig struct {
	addr, data, db, publicURL        string
	adminPassword, adminPasswordHash string
	logLevel, metricsAddr, shopName  string
	publicURLSet                     bool
	shutdownTimeout                  time.Duration
	sandboxListenAny                 bool
	alipay                           alipayFlags
	jobs                             jobFlags
	retention                        retentionFlags
	limits                           web.Limits
	proxy                            proxyFlags
}

// alipayFlags name the real Alipay app; without an app id the built-in
// sandbox is used.
type alipayFlags struct {
	appID, privateKey, publicKey, sellerID string
	appCert, alipayCert, rootCert, gateway string
	api                                    string
}

// jobFlags tune the payment window and the reconciler's background jobs.
// The defaults suit production; the fault-injection suite shortens them.
type jobFlags struct {
	orderTTL       time.Duration
	autoComplete   time.Duration
	posWait        time.Duration
	reconcileAfter time.Duration
	expireGrace    time.Duration
	retryUnknown   time.Duration
	jobsPoll       time.Duration
	sweepEvery     time.Duration
	jobsWorkers    int
	gatewayBudget  int
}

// retentionFlags say how long inbound messages are kept (docs/SECURITY.md).
type retentionFlags struct {
	keepVerified   time.Duration
	keepUnverified time.Duration
	maxUnverified  int
}

const serveAbout = `Without --alipay-app-id the shop runs against a built-in Alipay sandbox
at /sandbox/ (no money moves; docs/SANDBOX.md). docs/OPERATIONS.md describes
running it for real.`

func parseServeFlags(args []string, e *env) (*serveConfig, error) {
	c := &serveConfig{}
	fs := newFlags("serve")
	fs.about = serveAbout
	c.register(fs)
	pos, err := fs.parse(args, e)
	if err != nil {
		return nil, err
	}
	if err := fs.noArgs(pos); err != nil {
		return nil, err
	}
	c.publicURLSet = fs.set["public-url"]
	if err := c.check(fs.set); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *serveConfig) register(fs *cmdFlags) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8000", "listen address (with the built-in sandbox, loopback only unless --sandbox-listen-any)")
	fs.StringVar(&c.data, "data", "./data", "data directory: SQLite database, generated keys, the embedded sandbox's state")
	fs.StringVar(&c.db, "db", "", "database: a SQLite file path (default DATA/alishop.db), or a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL for PostgreSQL")
	fs.StringVar(&c.publicURL, "public-url", "", "base URL Alipay redirects buyers and sends notifications to (default: the listen address, e.g. http://127.0.0.1:8000)")
	fs.StringVar(&c.adminPassword, "admin-password", "", "admin password (default: generated on first start, printed once)")
	fs.StringVar(&c.adminPasswordHash, "admin-password-hash", "", "the admin password in its stored form, as `alishop passwd --hash` prints it: the shop never sees the password itself")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve /metrics on this separate address (e.g. 10.0.0.5:9100) for a scraper on another host; without it /metrics answers loopback clients on --addr only")
	fs.StringVar(&c.shopName, "shop-name", web.DefaultShopName, "the shop's first name, shown on every page; stored on first start, then changed in the admin's 设置 page")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for requests in flight at shutdown")
	fs.BoolVar(&c.sandboxListenAny, "sandbox-listen-any", false, "with the built-in sandbox, allow a non-loopback --addr (a LAN demo: anyone who can reach it can pay any order at the sandbox cashier)")
	c.alipay.register(fs)
	c.jobs.register(fs)
	c.retention.register(fs)
	registerLimits(fs, &c.limits)
	c.proxy.register(fs)
}

func (f *alipayFlags) register(fs *cmdFlags) {
	fs.StringVar(&f.appID, "alipay-app-id", "", "Alipay app id (APPID); without it the built-in sandbox is used")
	fs.StringVar(&f.privateKey, "alipay-private-key", "", "file with the app private key (应用私钥), PEM or bare base64")
	fs.StringVar(&f.publicKey, "alipay-public-key", "", "file with Alipay's public key (支付宝公钥), PEM or bare base64 (key mode)")
	fs.StringVar(&f.appCert, "alipay-app-cert", "", "certificate mode: the app public key certificate (appCertPublicKey_APPID.crt)")
	fs.StringVar(&f.alipayCert, "alipay-cert", "", "certificate mode: Alipay's public key certificate (alipayCertPublicKey_RSA2.crt)")
	fs.StringVar(&f.rootCert, "alipay-root-cert", "", "certificate mode: Alipay's root certificate (alipayRootCert.crt)")
	fs.StringVar(&f.gateway, "alipay-gateway", "production", "gateway: production, sandbox, or a URL")
	fs.StringVar(&f.api, "alipay-api", "v2", "protocol of the server-side calls (query, close, refund, refund query, bill): v2 (gateway.do) or v3 (OpenAPI v3); page pay stays v2")
	fs.StringVar(&f.sellerID, "alipay-seller-id", "", "the merchant's PID (2088…), checked against seller_id in notifications")
}

func (f *jobFlags) register(fs *cmdFlags) {
	fs.DurationVar(&f.orderTTL, "order-ttl", shop.DefaultOrderTTL, "how long a buyer has to pay an order (sent to Alipay as time_expire); after it the trade is closed")
	fs.DurationVar(&f.autoComplete, "auto-complete", shop.DefaultAutoComplete, "how long after shipping an order its buyer has not confirmed receipt becomes 已完成 (a durable job)")
	fs.DurationVar(&f.posWait, "pos-wait", shop.DefaultPOSWait, "how long a 当面付 counter payment waits for the buyer to confirm before it is cancelled (alipay.trade.cancel)")
	fs.DurationVar(&f.reconcileAfter, "reconcile-after", 5*time.Minute, "age at which an unpaid order is first queried with alipay.trade.query (then on a backoff)")
	fs.DurationVar(&f.expireGrace, "expire-grace", time.Minute, "wait after time_expire before alipay.trade.close")
	fs.DurationVar(&f.retryUnknown, "retry-unknown", time.Minute, "wait before trying again after an unknown outcome (20000, ACQ.SYSTEM_ERROR, timeout)")
	fs.DurationVar(&f.jobsPoll, "jobs-poll", time.Second, "how often background jobs are looked for")
	fs.DurationVar(&f.sweepEvery, "sweep-every", 10*time.Second, "how often unpaid orders without a reconciliation job get one")
	fs.IntVar(&f.jobsWorkers, "jobs-workers", 2, "background jobs of each kind (order, refund, bill) run at once by this process")
	fs.IntVar(&f.gatewayBudget, "gateway-budget", reconcile.DefaultGatewayBudget, "Alipay gateway calls a minute this process's background jobs make at most (order queries and closes, refund queries, bill requests); a flood of unpaid orders waits its turn")
}

func (f *retentionFlags) register(fs *cmdFlags) {
	fs.DurationVar(&f.keepVerified, "keep-verified", 180*24*time.Hour, "how long verified notifications, returns and query answers are kept after they were last received")
	fs.DurationVar(&f.keepUnverified, "keep-unverified", 7*24*time.Hour, "how long messages that failed verification are kept")
	fs.IntVar(&f.maxUnverified, "max-unverified", 10_000, "at most this many messages that failed verification are kept (the oldest go first)")
}

// registerLimits registers the per-client-address limits (docs/SECURITY.md).
func registerLimits(fs *cmdFlags, l *web.Limits) {
	d := web.DefaultLimits()
	fs.IntVar(&l.CheckoutBurst, "checkout-burst", d.CheckoutBurst, "orders (and payment checks) one client address may make at once")
	fs.DurationVar(&l.CheckoutEvery, "checkout-every", d.CheckoutEvery, "one more order per client address per this interval, after the burst")
	fs.IntVar(&l.UnverifiedBurst, "unverified-burst", d.UnverifiedBurst, "messages failing verification stored per client address at once")
	fs.DurationVar(&l.UnverifiedEvery, "unverified-every", d.UnverifiedEvery, "one more stored per client address per this interval, after the burst")
	fs.IntVar(&l.LoginFailures, "login-failures", d.LoginFailures, "failed admin logins per client address within --login-window before it is refused (429)")
	fs.DurationVar(&l.LoginWindow, "login-window", d.LoginWindow, "the window of --login-failures")
	fs.IntVar(&l.LookupBurst, "lookup-burst", d.LookupBurst, "order lookups (order number + phone) one client address may make at once")
	fs.DurationVar(&l.LookupEvery, "lookup-every", d.LookupEvery, "one more order lookup per client address per this interval, after the burst")
}

// check validates the flags; set names the flags given.
func (c *serveConfig) check(set map[string]bool) error {
	if err := c.jobs.check(); err != nil {
		return err
	}
	if err := c.retention.check(); err != nil {
		return err
	}
	if err := checkLimits(c.limits); err != nil {
		return err
	}
	if c.alipay.api != string(alipay.APIv2) && c.alipay.api != string(alipay.APIv3) {
		return usageError("serve: --alipay-api %q: want v2 or v3", c.alipay.api)
	}
	c.shopName = strings.TrimSpace(c.shopName)
	if n := utf8.RuneCountInString(c.shopName); n == 0 || n > 32 || !utf8.ValidString(c.shopName) || strings.ContainsFunc(c.shopName, unicode.IsControl) {
		return usageError("serve: --shop-name %q: want 1 to 32 characters of text", c.shopName)
	}
	if c.adminPassword != "" {
		if err := web.CheckNewPassword(c.adminPassword); err != nil {
			return usageError("serve: --admin-password: %v", err)
		}
	}
	if c.adminPasswordHash != "" {
		if c.adminPassword != "" {
			return usageError("serve: --admin-password and --admin-password-hash: give one of them")
		}
		if _, err := web.CheckPasswordHash(c.adminPasswordHash); err != nil {
			return usageError("serve: --admin-password-hash: %v (alishop passwd --hash makes one)", err)
		}
	}
	db, err := resolveDB("serve", c.data, c.db)
	if err != nil {
		return err
	}
	c.db = db
	if c.publicURLSet {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return usageError("serve: --public-url %q: want an absolute http or https URL such as https://shop.example.com", c.publicURL)
		}
		c.publicURL = strings.TrimRight(c.publicURL, "/")
	}
	if c.alipay.appID == "" {
		return c.checkSandboxMode(set)
	}
	return c.alipay.checkApp()
}

// checkSandboxMode checks the flags of the built-in sandbox mode: a
// loopback address, and no flag of a real app.
func (c *serveConfig) checkSandboxMode(set map[string]bool) error {
	if !c.sandboxListenAny && !loopbackAddr(c.addr) {
		return usageError("serve: --addr %s is reachable from the network, and the built-in sandbox pays any order without money; listen on 127.0.0.1, configure an Alipay app, or pass --sandbox-listen-any", c.addr)
	}
	for _, f := range []string{"alipay-private-key", "alipay-public-key", "alipay-app-cert", "alipay-cert", "alipay-root-cert", "alipay-seller-id"} {
		if set[f] {
			return usageError("serve: --%s needs --alipay-app-id (without an app the built-in sandbox is used)", f)
		}
	}
	return nil
}

// checkApp checks that a real app has its private key and either Alipay's
// public key or all three certificates.
func (f *alipayFlags) checkApp() error {
	if f.privateKey == "" {
		return usageError("serve: --alipay-app-id needs --alipay-private-key")
	}
	certs := f.appCert != "" || f.alipayCert != "" || f.rootCert != ""
	switch {
	case certs && (f.appCert == "" || f.alipayCert == "" || f.rootCert == ""):
		return usageError("serve: certificate mode needs all of --alipay-app-cert, --alipay-cert and --alipay-root-cert")
	case certs && f.publicKey != "":
		return usageError("serve: give either --alipay-public-key (key mode) or the three certificates, not both")
	case !certs && f.publicKey == "":
		return usageError("serve: --alipay-app-id needs --alipay-public-key (支付宝公钥) or the certificate flags")
	}
	return nil
}

func (f *jobFlags) check() error {
	switch {
	case f.orderTTL < time.Second || f.orderTTL > 15*24*time.Hour:
		return usageError("serve: --order-ttl %s: want between 1s and 360h (Alipay allows at most 15 days)", f.orderTTL)
	case f.posWait < 5*time.Second || f.posWait > 10*time.Minute:
		return usageError("serve: --pos-wait %s: want between 5s and 10m", f.posWait)
	case f.reconcileAfter <= 0, f.expireGrace <= 0, f.retryUnknown <= 0, f.jobsPoll <= 0, f.sweepEvery <= 0:
		return usageError("serve: --reconcile-after, --expire-grace, --retry-unknown, --jobs-poll and --sweep-every must be positive")
	case f.autoComplete < time.Minute || f.autoComplete > 90*24*time.Hour:
		return usageError("serve: --auto-complete %s: want between 1m and 2160h (90 days)", f.autoComplete)
	case f.jobsWorkers < 1 || f.jobsWorkers > 64:
		return usageError("serve: --jobs-workers %d: want 1 to 64", f.jobsWorkers)
	case f.gatewayBudget < reconcile.MinGatewayBudget || f.gatewayBudget > 100000:
		return usageError("serve: --gateway-budget %d: want %d to 100000 calls a minute", f.gatewayBudget, reconcile.MinGatewayBudget)
	}
	return nil
}

func (f *retentionFlags) check() error {
	switch {
	case f.keepVerified < 24*time.Hour:
		return usageError("serve: --keep-verified %s: want at least 24h", f.keepVerified)
	case f.keepUnverified < time.Hour:
		return usageError("serve: --keep-unverified %s: want at least 1h", f.keepUnverified)
	case f.maxUnverified < 100:
		return usageError("serve: --max-unverified %d: want at least 100", f.maxUnverified)
	}
	return nil
}

func checkLimits(l web.Limits) error {
	switch {
	case l.CheckoutBurst < 1, l.UnverifiedBurst < 1, l.LoginFailures < 1, l.LookupBurst < 1:
		return usageError("serve: --checkout-burst, --unverified-burst, --login-failures and --lookup-burst must be at least 1")
	case l.CheckoutEvery <= 0, l.UnverifiedEvery <= 0, l.LoginWindow <= 0, l.LookupEvery <= 0:
		return usageError("serve: --checkout-every, --unverified-every, --login-window and --lookup-every must be positive")
	}
	return nil
}

// loopbackAddr reports whether a listen address binds loopback only: an
// IP loopback host or "localhost". An empty host binds every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
