package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/alipay/sandbox/sqlitestore"
	"alishop/internal/web"
)

// sandboxFlags are the stand-alone sandbox's flags.
type sandboxFlags struct {
	addr, data, publicURL string
	listenAny             bool
	apps                  appFlags
	allowedHosts          hostList
}

// appFlags collects repeated --app APP_ID=APP_PUBLIC_KEY_FILE flags.
type appFlags []string

func (a *appFlags) String() string     { return strings.Join(*a, ",") }
func (a *appFlags) Set(v string) error { *a = append(*a, v); return nil }

// sandboxApp is an app to register: its public key, and its certificate in
// certificate mode.
type sandboxApp struct {
	id   string
	pub  *rsa.PublicKey
	cert []byte
}

func parseSandboxFlags(args []string, e *env) (*sandboxFlags, error) {
	var f sandboxFlags
	fs := newFlags("sandbox")
	// A prefix of its own: ALISHOP_ADDR and ALISHOP_DATA belong to the shop.
	fs.envPrefix = "ALISHOP_SANDBOX_"
	fs.envRule = `Every flag can also be set in the environment: ALISHOP_SANDBOX_ + the flag
name in upper case with - as _ (--addr is ALISHOP_SANDBOX_ADDR;
ALISHOP_SANDBOX_APP takes comma-separated APP_ID=FILE pairs). A flag on
the command line wins.`
	fs.about = "The gateway, cashier, control API and bills are described in docs/SANDBOX.md. It listens on loopback only unless --listen-any is given, and answers only Host names that are loopback, its --addr or --public-url host, an --allowed-host, or (with --listen-any) an IP address (docs/SECURITY.md)."
	fs.lists["app"] = true
	fs.StringVar(&f.addr, "addr", ":9000", "listen address; a host-less or wildcard address binds to 127.0.0.1 unless --listen-any")
	fs.BoolVar(&f.listenAny, "listen-any", false, "listen on every interface (or on a non-loopback --addr host): other machines can then reach the sandbox")
	fs.StringVar(&f.data, "data", "", "directory for the SQLite state and the sandbox's Alipay key pair (default: in memory, lost on exit)")
	fs.StringVar(&f.publicURL, "public-url", "", "absolute URL of the sandbox root used in cashier, QR code and bill links (default: from each request's Host)")
	fs.Var(&f.apps, "app", "register an app: APP_ID=APP_PUBLIC_KEY_FILE (PEM or one-line base64; an app certificate selects certificate mode; repeatable)")
	fs.Var(&f.allowedHosts, "allowed-host", "a `HOST` name the sandbox answers besides loopback, the --addr and --public-url hosts and (with --listen-any) any IP address (repeatable, or a comma-separated list); other names get 421")
	fs.lists["allowed-host"] = true
	pos, err := fs.parse(args, e)
	if err != nil {
		return nil, err
	}
	return &f, fs.noArgs(pos)
}

// loadApps reads the --app flags' key files.
func (f *sandboxFlags) loadApps() ([]sandboxApp, error) {
	var apps []sandboxApp
	for _, a := range f.apps {
		id, file, ok := strings.Cut(a, "=")
		if !ok || id == "" || file == "" {
			return nil, usageError("sandbox: --app %q: want APP_ID=APP_PUBLIC_KEY_FILE", a)
		}
		pub, err := alipay.LoadPublicKeyFile(file)
		if err != nil {
			return nil, usageError("sandbox: --app %s: %v", id, err)
		}
		k := sandboxApp{id: id, pub: pub}
		if data, err := os.ReadFile(file); err == nil && strings.Contains(string(data), "BEGIN CERTIFICATE") {
			k.cert = data
		}
		apps = append(apps, k)
	}
	return apps, nil
}

// hostPolicy is the Host names the stand-alone sandbox answers
// (docs/SECURITY.md): loopback, the --addr host when it names one, the
// --public-url host, --allowed-host, and with --listen-any any IP address,
// as SDKs on other machines are given it.
func (f *sandboxFlags) hostPolicy() (*web.HostPolicy, error) {
	urls := []string{f.publicURL}
	if h, _, err := net.SplitHostPort(f.addr); err == nil && h != "" {
		urls = append(urls, "http://"+net.JoinHostPort(h, "0"))
	}
	p, err := hostPolicy(urls, f.allowedHosts)
	if err != nil {
		return nil, usageError("sandbox: %v", err)
	}
	p.AnyAddress = f.listenAny
	return p, nil
}

// runSandbox runs the stand-alone simulator until ctx ends.
func runSandbox(ctx context.Context, args []string, e *env) error {
	f, err := parseSandboxFlags(args, e)
	if err != nil {
		return err
	}
	bind, err := bindAddress(f.addr, f.listenAny)
	if err != nil {
		return usageError("sandbox: %v", err)
	}
	apps, err := f.loadApps()
	if err != nil {
		return err
	}
	logger := slog.New(web.BoundedLog(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	hosts, err := f.hostPolicy()
	if err != nil {
		return err
	}
	sb, err := newSandbox(sandbox.Config{DataDir: f.data, BaseURL: f.publicURL, Logger: logger})
	if err != nil {
		return failure("%v", err)
	}
	defer sb.Close()
	var registered []sandbox.App
	for _, k := range apps {
		a, err := sb.RegisterAppWith(k.id, k.pub, sandbox.AppOptions{AppCert: k.cert})
		if err != nil {
			return usageError("sandbox: --app %s: %v", k.id, err)
		}
		registered = append(registered, a)
	}

	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return failure("sandbox: listen on %s: %v", bind, err)
	}
	srv := &http.Server{Handler: hosts.Handler(sb), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	announceSandbox(e, f, ln, sb, registered)

	sb.Start(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return failure("sandbox: %v", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return sb.Close()
}

// announceSandbox prints where the sandbox listens, its key, its apps and
// its buyer.
func announceSandbox(e *env, f *sandboxFlags, ln net.Listener, sb *sandbox.Sandbox, apps []sandbox.App) {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	root := "http://" + net.JoinHostPort(host, port) + "/"
	if f.listenAny {
		fmt.Fprintf(e.stderr, "sandbox: --listen-any: listening on %s, reachable from other machines; the control API can pay any trade\n", ln.Addr())
	} else {
		fmt.Fprintf(e.stderr, "sandbox: bound to loopback %s only (use --listen-any to accept connections from other machines)\n", ln.Addr())
	}
	if f.data == "" {
		fmt.Fprintln(e.stderr, "sandbox: state in memory (use --data DIR to keep it across restarts)")
	}
	fmt.Fprintf(e.stdout, "sandbox listening on %s\n", root)
	fmt.Fprintf(e.stdout, "gateway: %sgateway.do\n", root)
	fmt.Fprintf(e.stdout, "alipay public key (支付宝公钥): %s\n", sb.PublicKeyBase64())
	for _, a := range apps {
		if b, err := sb.Certificates(a.AppID); err == nil {
			fmt.Fprintf(e.stdout, "app %s seller_id %s certificate mode: app_cert_sn %s alipay_cert_sn %s alipay_root_cert_sn %s (files: GET %sapi/apps)\n",
				a.AppID, a.SellerID, b.AppCertSN, b.AlipayCertSN, b.AlipayRootCertSN, root)
			continue
		}
		fmt.Fprintf(e.stdout, "app %s seller_id %s\n", a.AppID, a.SellerID)
	}
	fmt.Fprintf(e.stdout, "buyer %s pay password %s\n", sandbox.DefaultBuyer, sandbox.BuyerPassword)
}

// sandboxDBFile is the sandbox's SQLite file in its data directory.
const sandboxDBFile = "sandbox.db"

// newSandbox creates a sandbox whose state, when cfg.DataDir is set, is kept
// in a SQLite file there.
func newSandbox(cfg sandbox.Config) (*sandbox.Sandbox, error) {
	if cfg.DataDir != "" && cfg.Store == nil {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: data dir: %w", err)
		}
		st, err := sqlitestore.Open(filepath.Join(cfg.DataDir, sandboxDBFile))
		if err != nil {
			return nil, err
		}
		cfg.Store = st
	}
	return sandbox.New(cfg)
}

// bindAddress applies the loopback-only rule: a missing or wildcard host
// becomes 127.0.0.1, and a non-loopback host needs --listen-any.
func bindAddress(addr string, listenAny bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %v", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
		if !listenAny {
			host = "127.0.0.1"
		}
	case ip != nil && ip.IsLoopback():
	default:
		if !listenAny {
			return "", fmt.Errorf("--addr %q is not a loopback address; add --listen-any to listen on it", addr)
		}
	}
	return net.JoinHostPort(host, port), nil
}
