package shoptest

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/store"
	"alishop/internal/web"
)

// Env is a whole shop in one test: the service, refunds and reconciler on a
// SQLite database in a temp dir, the web handler on a loopback server, and
// an in-process sandbox on another whose clock the shop shares (advancing
// the sandbox moves both). Everything is closed when the test ends.
type Env struct {
	Sandbox    *sandbox.Sandbox
	App        sandbox.App
	AppKey     *rsa.PrivateKey
	AlipayKey  *rsa.PrivateKey
	DB         *store.DB
	Client     *alipay.Client // the shop's Alipay client
	Service    *shop.Service
	Refunds    *shop.Refunds
	Payouts    *shop.Payouts
	Reconciler *reconcile.Reconciler
	Server     *httptest.Server // the shop's web handler
	Goods      shop.Goods       // one goods item for sale
	Logger     *slog.Logger
}

// EnvOptions adjust NewEnv.
type EnvOptions struct {
	AppKey, AlipayKey *rsa.PrivateKey // default: the repository's test keys
	AppID             string          // default 2021000000000001
	Goods             shop.Goods      // default 测试商品 at 10.00
	API               alipay.API      // the shop's Alipay protocol; default v2
	// WrapSandbox, when set, wraps the sandbox's HTTP handler (e.g. to
	// count the calls that reach the gateway).
	WrapSandbox func(http.Handler) http.Handler
	// Reconcile, when set, adjusts the reconciler's configuration.
	Reconcile func(*reconcile.Config)
}

// NewEnv builds an Env.
func NewEnv(t testing.TB, opt EnvOptions) *Env {
	t.Helper()
	ctx := context.Background()
	if opt.AppKey == nil {
		opt.AppKey = TestKey(t, 0)
	}
	if opt.AlipayKey == nil {
		opt.AlipayKey = TestKey(t, 1)
	}
	if opt.AppID == "" {
		opt.AppID = "2021000000000001"
	}
	if opt.Goods.Name == "" {
		opt.Goods = shop.Goods{Name: "测试商品", Price: alipay.MustAmount("10.00")}
	}
	sb, err := sandbox.New(sandbox.Config{AlipayKey: opt.AlipayKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	var sbHandler http.Handler = sb
	if opt.WrapSandbox != nil {
		sbHandler = opt.WrapSandbox(sb)
	}
	sbSrv := httptest.NewServer(sbHandler)
	t.Cleanup(sbSrv.Close)
	app, err := sb.RegisterApp(opt.AppID, &opt.AppKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "shop.db"), store.Options{Now: sb.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	client, err := alipay.New(alipay.Config{AppID: app.AppID, PrivateKey: opt.AppKey, AlipayPublicKey: sb.PublicKey(),
		API: opt.API, Gateway: sbSrv.URL + "/gateway.do", NotifyURL: srv.URL + "/alipay/notify", ReturnURL: srv.URL + "/alipay/return"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := shop.NewService(shop.Config{Store: db, Gateway: client, Merchant: shop.Merchant{AppID: app.AppID, SellerID: app.SellerID},
		Now: sb.Now, Logger: log})
	refunds := shop.NewRefunds(svc, db, client)
	payouts := shop.NewPayouts(svc, db, client)
	rcfg := reconcile.Config{Service: svc, Refunds: refunds, Payouts: payouts, Store: db, Gateway: client, Logger: log}
	if opt.Reconcile != nil {
		opt.Reconcile(&rcfg)
	}
	rec, err := reconcile.New(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	handler, err = web.New(web.Config{Service: svc, Admin: db, Health: db.Ping, Logger: log, Refunds: refunds, Payouts: payouts, Bills: db, BillChecker: rec})
	if err != nil {
		t.Fatal(err)
	}
	g := opt.Goods
	if err := svc.SaveGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	return &Env{Sandbox: sb, App: app, AppKey: opt.AppKey, AlipayKey: opt.AlipayKey, DB: db, Client: client, Service: svc,
		Refunds: refunds, Payouts: payouts, Reconciler: rec, Server: srv, Goods: g, Logger: log}
}

// TestKey loads the repository's RSA test key alipay/testdata/keys/test_N.pem.
func TestKey(t testing.TB, n int) *rsa.PrivateKey {
	t.Helper()
	// The repository's root is the nearest directory above the test's own
	// (go test runs a test in its package's directory) that holds go.mod;
	// source file paths are not used, as -trimpath builds do not have them.
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("shoptest: cannot locate the test keys: no go.mod above the working directory")
		}
		dir = up
	}
	k, err := alipay.LoadPrivateKeyFile(filepath.Join(dir, "alipay", "testdata", "keys", fmt.Sprintf("test_%d.pem", n)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
