package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

const usage = `usage: alishop-load --db postgres://USER@127.0.0.1:5432/DATABASE [flags]

Runs the stand-alone Alipay sandbox and --instances shop processes on one
fresh schema of the PostgreSQL database --db (dropped at the end), behind a
round-robin proxy on loopback; drives checkout → pay → notification at
--rate orders/s for --duration, refunds every --refund-every-th paid order,
SIGKILLs one instance every --kill-every and restarts it; then waits for the
shop to settle and checks every sandbox trade against the shop's orders.
Exits 1 if a payment was lost or applied twice, or a refund applied twice.

flags:
`

type config struct {
	db, alishop                string
	instances, refundEvery     int
	rate                       float64
	duration, killEvery, down  time.Duration
	settle                     time.Duration
	maxInflight                int
	keep, quiet                bool
	shopArgs                   []string // extra serve flags
	reconcileAfter, retryUnkwn time.Duration
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("alishop-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	def := getenv("ALISHOP_LOAD_DB")
	if def == "" {
		def = getenv("ALISHOP_TEST_POSTGRES")
	}
	fs.StringVar(&c.db, "db", def, "PostgreSQL database URL on loopback (default $ALISHOP_LOAD_DB, else $ALISHOP_TEST_POSTGRES); a fresh schema is made in it and dropped at the end")
	fs.StringVar(&c.alishop, "alishop", "", "the alishop binary (default: go build alishop/cmd/alishop into a temp dir)")
	fs.IntVar(&c.instances, "instances", 2, "shop processes on the one database (1 to 8)")
	fs.Float64Var(&c.rate, "rate", 20, "orders started per second (0.1 to 500)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "how long orders are started (1s to 10m)")
	fs.DurationVar(&c.killEvery, "kill-every", 5*time.Second, "SIGKILL one instance (in turn) this often and restart it; 0: no kills")
	fs.DurationVar(&c.down, "down", 300*time.Millisecond, "how long a killed instance stays down before its restart")
	fs.IntVar(&c.refundEvery, "refund-every", 5, "refund 1.00 of every n-th paid order from the admin page (0: no refunds)")
	fs.DurationVar(&c.settle, "settle", 2*time.Minute, "longest wait after the run for every payment and refund to be settled (up to 5m)")
	fs.IntVar(&c.maxInflight, "max-inflight", 64, "most orders in flight at once; a tick finding them all busy is counted as skipped")
	fs.DurationVar(&c.reconcileAfter, "reconcile-after", 3*time.Second, "the shops' --reconcile-after: how soon a payment whose notification was lost is found by a query")
	fs.DurationVar(&c.retryUnkwn, "retry-unknown", time.Second, "the shops' --retry-unknown")
	fs.BoolVar(&c.keep, "keep", false, "keep the schema and the temp dir (logs) at the end")
	fs.BoolVar(&c.quiet, "quiet", false, "print only the summary")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError(err.Error())
	}
	c.shopArgs = fs.Args()
	switch {
	case c.db == "":
		return nil, usageError("--db is required (a postgres:// URL of a database on this machine)")
	case !store.IsPostgresURL(c.db):
		return nil, usageError("--db must be a postgres:// URL")
	case c.instances < 1 || c.instances > 8:
		return nil, usageError("--instances: want 1 to 8")
	case c.rate < 0.1 || c.rate > 500:
		return nil, usageError("--rate: want 0.1 to 500 orders/s")
	case c.duration < time.Second || c.duration > 10*time.Minute:
		return nil, usageError("--duration: want 1s to 10m")
	case c.killEvery < 0 || (c.killEvery > 0 && c.killEvery < 500*time.Millisecond):
		return nil, usageError("--kill-every: want 0 or at least 500ms")
	case c.down < 0 || c.down > time.Minute:
		return nil, usageError("--down: want 0 to 1m")
	case c.refundEvery < 0:
		return nil, usageError("--refund-every: want 0 or more")
	case c.settle < time.Second || c.settle > 5*time.Minute:
		return nil, usageError("--settle: want 1s to 5m")
	case c.maxInflight < 1 || c.maxInflight > 1024:
		return nil, usageError("--max-inflight: want 1 to 1024")
	case c.reconcileAfter <= 0 || c.retryUnkwn <= 0:
		return nil, usageError("--reconcile-after and --retry-unknown must be positive")
	}
	if err := store.CheckPostgresURL(c.db); err != nil {
		return nil, usageError(err.Error())
	}
	u, _ := url.Parse(c.db)
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usageError("--db: the load runs on this machine only: want a PostgreSQL on loopback (127.0.0.1, ::1, localhost), not " + host)
	}
	return c, nil
}

var (
	shopReady    = regexp.MustCompile(`^alishop listening on (http://127\.0\.0\.1:\d+)/$`)
	sandboxReady = regexp.MustCompile(`^sandbox listening on (http://127\.0\.0\.1:\d+)/$`)
)

// loadRun is one run's state.
type loadRun struct {
	cfg     *config
	out     io.Writer
	dir     string
	bin     string
	dsn     string
	sandbox *proc
	appID   string
	lb      *balancer
	lbURL   string
	shops   []*proc
	shopMu  sync.Mutex
	args    func(i int) []string
	client  *http.Client // buyers (no redirects)
	admin   *http.Client // a logged-in admin session
	goodsID int64

	// what the driver did
	mu          sync.Mutex
	checkouts   []time.Duration // POST /orders latencies
	payAt       map[string]time.Time
	offered     int
	skipped     atomic.Int64
	checkoutErr atomic.Int64
	payErr      atomic.Int64
	refundAsked atomic.Int64
	refundErr   atomic.Int64
	kills       int
	restarts    []time.Duration
	errs        map[string]int // first words of errors, for the summary
	cleanup     []func()
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "wrk" {
		return runWrk(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	r := &loadRun{cfg: cfg, out: stdout, payAt: map[string]time.Time{}, errs: map[string]int{}}
	if cfg.quiet {
		r.out = io.Discard
	}
	r.dir, err = os.MkdirTemp("", "alishop-load-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintf(stdout, "logs and keys in %s\n", r.dir)
	} else {
		defer os.RemoveAll(r.dir)
	}
	defer r.stopAll()
	if err := r.setup(ctx); err != nil {
		return err
	}
	res, err := r.drive(ctx)
	if err != nil {
		return err
	}
	rep, err := r.settleAndCheck(ctx, res)
	if err != nil {
		return err
	}
	r.report(stdout, res, rep)
	if !rep.ok() {
		return fmt.Errorf("invariant broken: %d lost, %d applied twice, %d wrong", rep.lost, rep.twice, rep.wrong)
	}
	return nil
}

func (r *loadRun) logf(format string, args ...any) {
	fmt.Fprintf(r.out, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// setup builds the binary, starts the sandbox, makes the schema and the
// goods, and starts the shops behind the balancer.
func (r *loadRun) setup(ctx context.Context) error {
	if err := r.buildBinary(ctx); err != nil {
		return err
	}
	keys := filepath.Join(r.dir, "keys")
	if out, err := exec.CommandContext(ctx, r.bin, "keygen", "--dir", keys).CombinedOutput(); err != nil {
		return fmt.Errorf("alishop keygen: %v\n%s", err, out)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	app, err := r.startSandbox(ctx, keys, rnd)
	if err != nil {
		return err
	}
	schema := "alishop_load_" + hex.EncodeToString(rnd[:])
	if err := r.makeSchema(ctx, schema); err != nil {
		return err
	}
	if err := r.startShops(ctx, keys, app); err != nil {
		return err
	}
	if err := r.loginAdmin(); err != nil {
		return err
	}
	r.logf("sandbox %s, schema %s, %d shops behind %s", r.sandbox.url, schema, r.cfg.instances, r.lbURL)
	return nil
}

// buildBinary builds alishop into the run's directory unless --alishop
// names one.
func (r *loadRun) buildBinary(ctx context.Context) error {
	r.bin = r.cfg.alishop
	if r.bin != "" {
		return nil
	}
	r.bin = filepath.Join(r.dir, "alishop")
	r.logf("building alishop (go build alishop/cmd/alishop)…")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", r.bin, "alishop/cmd/alishop")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build alishop/cmd/alishop (run from the repository): %w", err)
	}
	return nil
}

// sandboxApp is the app the run registers at the sandbox.
type sandboxApp struct {
	sellerID  string
	alipayKey string // file with the sandbox's public key
}

// startSandbox starts the stand-alone sandbox (state in memory) and
// registers an app with a random id and the key pair in keys.
func (r *loadRun) startSandbox(ctx context.Context, keys string, rnd [6]byte) (*sandboxApp, error) {
	var err error
	r.sandbox, err = startProc(ctx, "sandbox", r.bin, []string{"sandbox", "--addr", "127.0.0.1:0"},
		filepath.Join(r.dir, "sandbox.log"), sandboxReady, 30*time.Second)
	if err != nil {
		return nil, err
	}
	var id uint64
	for _, b := range rnd {
		id = id<<8 | uint64(b)
	}
	r.appID = fmt.Sprintf("2021%012d", id%1e12)
	pub, err := os.ReadFile(filepath.Join(keys, "app_public_key.pem"))
	if err != nil {
		return nil, err
	}
	resp, err := http.PostForm(r.sandbox.url+"/api/apps", url.Values{"app_id": {r.appID}, "app_public_key": {string(pub)}})
	if err != nil {
		return nil, fmt.Errorf("register the app at the sandbox: %w", err)
	}
	var app struct {
		SellerID string `json:"seller_id"`
		PEM      string `json:"alipay_public_key_pem"`
		Error    string `json:"error"`
	}
	err = json.NewDecoder(resp.Body).Decode(&app)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || app.SellerID == "" {
		return nil, fmt.Errorf("register the app at the sandbox: HTTP %d %s %v", resp.StatusCode, app.Error, err)
	}
	alipayKey := filepath.Join(keys, "alipay_public_key.pem")
	if err := os.WriteFile(alipayKey, []byte(app.PEM), 0o600); err != nil {
		return nil, err
	}
	return &sandboxApp{sellerID: app.SellerID, alipayKey: alipayKey}, nil
}

// makeSchema creates a fresh schema in --db (dropped at the end unless
// --keep), migrates it and puts one goods item on sale.
func (r *loadRun) makeSchema(ctx context.Context, schema string) error {
	cfg := r.cfg
	admin, err := sql.Open("pgx", cfg.db)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	if !cfg.keep {
		base := cfg.db
		r.cleanup = append(r.cleanup, func() {
			db, err := sql.Open("pgx", base)
			if err == nil {
				defer db.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err = db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "alishop-load: drop schema %s: %v\n", schema, err)
			}
		})
	}
	u, _ := url.Parse(cfg.db)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	r.dsn = u.String()
	db, err := store.Open(ctx, r.dsn, store.Options{})
	if err != nil {
		return err
	}
	now := time.Now()
	g := shop.Goods{Name: "压测商品", Price: alipay.MustAmount("10.00"), CreatedAt: now, UpdatedAt: now}
	err = db.CreateGoods(ctx, &g)
	db.Close()
	if err != nil {
		return err
	}
	r.goodsID = g.ID
	return nil
}

// loadAdminPassword is the shops' admin password.
const loadAdminPassword = "load-test-admin-pw"

// startShops starts the balancer, then the shops behind it.
func (r *loadRun) startShops(ctx context.Context, keys string, app *sandboxApp) error {
	cfg := r.cfg
	r.lb = newBalancer(cfg.instances)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	lbSrv := &http.Server{Handler: r.lb, ReadHeaderTimeout: 10 * time.Second}
	go lbSrv.Serve(ln)
	r.cleanup = append(r.cleanup, func() { lbSrv.Close() })
	r.lbURL = "http://" + ln.Addr().String()
	r.args = func(i int) []string {
		return append([]string{"serve", "--addr", "127.0.0.1:0", "--public-url", r.lbURL,
			"--data", filepath.Join(r.dir, fmt.Sprint("shop", i)), "--db", r.dsn,
			"--alipay-app-id", r.appID, "--alipay-private-key", filepath.Join(keys, "app_private_key.pem"),
			"--alipay-public-key", app.alipayKey, "--alipay-gateway", r.sandbox.url + "/gateway.do",
			"--alipay-seller-id", app.sellerID, "--admin-password", loadAdminPassword, "--log-level", "warn",
			"--reconcile-after", cfg.reconcileAfter.String(), "--retry-unknown", cfg.retryUnkwn.String(),
			"--jobs-poll", "200ms", "--sweep-every", "1s",
			// Every buyer comes through the balancer's one address.
			"--checkout-burst", "1000000"}, cfg.shopArgs...)
	}
	r.shops = make([]*proc, cfg.instances)
	for i := range r.shops {
		if err := r.startShop(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// loginAdmin makes the buyers' client and logs the admin's in.
func (r *loadRun) loginAdmin() error {
	r.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	jar, _ := cookiejar.New(nil)
	r.admin = &http.Client{Timeout: 30 * time.Second, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := r.admin.PostForm(r.lbURL+"/admin/login", url.Values{"username": {"admin"}, "password": {loadAdminPassword}})
	if err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("admin login: HTTP %d", resp.StatusCode)
	}
	return nil
}

func (r *loadRun) startShop(ctx context.Context, i int) error {
	p, err := startProc(ctx, fmt.Sprint("shop ", i), r.bin, r.args(i), filepath.Join(r.dir, fmt.Sprintf("shop%d.log", i)), shopReady, 60*time.Second)
	if err != nil {
		return err
	}
	r.shopMu.Lock()
	r.shops[i] = p
	r.shopMu.Unlock()
	r.lb.set(i, p.url)
	return nil
}

// stopAll stops the shops (SIGTERM), then the sandbox, then runs the
// cleanups (balancer, schema).
func (r *loadRun) stopAll() {
	r.shopMu.Lock()
	shops := slices.Clone(r.shops)
	r.shopMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range shops {
		if p != nil {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(15 * time.Second) }()
		}
	}
	wg.Wait()
	if r.sandbox != nil {
		r.sandbox.stop(5 * time.Second)
	}
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		r.cleanup[i]()
	}
}

func (r *loadRun) noteErr(what string, err error) {
	msg := what + ": " + err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	r.mu.Lock()
	r.errs[msg]++
	r.mu.Unlock()
}

// runResult is what the driving phase measured.
type runResult struct {
	elapsed time.Duration
	started time.Time
}

// drive starts orders at the set rate for the set duration, refunds some
// paid ones, and kills and restarts instances; it returns when every order
// it started is done.
func (r *loadRun) drive(ctx context.Context) (runResult, error) {
	cfg := r.cfg
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := runResult{started: time.Now()}
	r.logf("driving %.1f orders/s for %s (%d instances, kill every %s)", cfg.rate, cfg.duration, cfg.instances, cfg.killEvery)

	var killer sync.WaitGroup
	killErr := make(chan error, 1)
	if cfg.killEvery > 0 {
		killer.Add(1)
		go func() {
			defer killer.Done()
			if err := r.chaos(ctx, res.started.Add(cfg.duration)); err != nil {
				killErr <- err
				cancel()
			}
		}()
	}
	refunds := make(chan string, 4096)
	var refunders sync.WaitGroup
	if cfg.refundEvery > 0 {
		for range 2 {
			refunders.Add(1)
			go func() { defer refunders.Done(); r.refunder(ctx, refunds) }()
		}
	}

	sem := make(chan struct{}, cfg.maxInflight)
	var orders sync.WaitGroup
	interval := time.Duration(float64(time.Second) / cfg.rate)
	end := res.started.Add(cfg.duration)
	n := 0
	for next := res.started; next.Before(end) && ctx.Err() == nil; next = next.Add(interval) {
		if d := time.Until(next); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		n++
		select {
		case sem <- struct{}{}:
		default:
			r.skipped.Add(1)
			continue
		}
		orders.Add(1)
		refund := cfg.refundEvery > 0 && n%cfg.refundEvery == 0
		go func() {
			defer orders.Done()
			defer func() { <-sem }()
			if no := r.order(ctx); no != "" && refund {
				select {
				case refunds <- no:
				default:
				}
			}
		}()
	}
	r.offered = n
	orders.Wait()
	res.elapsed = time.Since(res.started)
	killer.Wait()
	close(refunds)
	refunders.Wait()
	select {
	case err := <-killErr:
		return res, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// order is one buyer: checkout, open the cashier (the trade is made), pay.
// It returns the out_trade_no once paid at the sandbox, "" otherwise.
func (r *loadRun) order(ctx context.Context) string {
	t0 := time.Now()
	req, _ := http.NewRequestWithContext(ctx, "POST", r.lbURL+"/orders", strings.NewReader(url.Values{"goods_id": {fmt.Sprint(r.goodsID)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := r.client.Do(req)
	if err != nil {
		r.checkoutErr.Add(1)
		r.noteErr("checkout", err)
		return ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(t0)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, r.sandbox.url+"/gateway.do?") {
		r.checkoutErr.Add(1)
		r.noteErr("checkout", fmt.Errorf("HTTP %d", resp.StatusCode))
		return ""
	}
	r.mu.Lock()
	r.checkouts = append(r.checkouts, lat)
	r.mu.Unlock()
	u, _ := url.Parse(loc)
	var biz struct {
		OutTradeNo string `json:"out_trade_no"`
	}
	if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil || biz.OutTradeNo == "" {
		r.payErr.Add(1)
		r.noteErr("gateway URL", fmt.Errorf("no out_trade_no in %q", loc))
		return ""
	}
	// The buyer's browser opens the signed page-pay URL: the trade appears.
	if resp, err = r.client.Get(loc); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	if err != nil {
		r.payErr.Add(1)
		r.noteErr("cashier", err)
		return ""
	}
	payAt := time.Now()
	resp, err = r.client.PostForm(r.sandbox.url+"/api/trades/pay", url.Values{"app_id": {r.appID}, "out_trade_no": {biz.OutTradeNo}})
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	if err != nil {
		r.payErr.Add(1)
		r.noteErr("pay", err)
		return ""
	}
	r.mu.Lock()
	r.payAt[biz.OutTradeNo] = payAt
	r.mu.Unlock()
	return biz.OutTradeNo
}

// refunder refunds 1.00 of each order it is given once the shop shows it
// paid (it waits up to 10 s for that), from the admin order page.
func (r *loadRun) refunder(ctx context.Context, nos <-chan string) {
	for no := range nos {
		deadline := time.Now().Add(10 * time.Second)
		paid := false
		for !paid && time.Now().Before(deadline) && ctx.Err() == nil {
			resp, err := r.client.Get(r.lbURL + "/api/orders/" + no)
			if err == nil {
				var o struct {
					Status string `json:"status"`
				}
				json.NewDecoder(resp.Body).Decode(&o)
				resp.Body.Close()
				paid = o.Status == string(shop.StatusPaid)
			}
			if !paid {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !paid {
			continue
		}
		r.refundAsked.Add(1)
		if err := r.refund(no); err != nil {
			// Cut off by a kill: the refund may be stored pending; its job
			// settles it. The invariant check counts what Alipay made.
			r.refundErr.Add(1)
			r.noteErr("refund", err)
		}
	}
}

var refundKey = regexp.MustCompile(`name="key" value="(R[0-9a-f]+)"`)

// refund makes a refund the way the admin does: the refund form, whose
// answer is a confirmation with a one-time key, then the confirmation. A
// confirmation cut off (a killed instance) is submitted again with the same
// key, as an admin would; the key makes it one refund.
func (r *loadRun) refund(no string) error {
	form := url.Values{"amount": {"1.00"}, "reason": {"压测退款"}}
	resp, err := r.admin.PostForm(r.lbURL+"/admin/orders/"+no+"/refunds", form)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	m := refundKey.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("refund form: HTTP %d", resp.StatusCode)
	}
	form.Set("key", string(m[1]))
	for try := 0; ; try++ {
		resp, err = r.admin.PostForm(r.lbURL+"/admin/orders/"+no+"/refunds/confirm", form)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		if err == nil || try == 1 {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// chaos kills one instance in turn every kill-every until end, and
// restarts it after --down.
func (r *loadRun) chaos(ctx context.Context, end time.Time) error {
	for i := 0; ; i = (i + 1) % r.cfg.instances {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.cfg.killEvery):
		}
		if time.Now().After(end) {
			return nil
		}
		r.shopMu.Lock()
		p := r.shops[i]
		r.shopMu.Unlock()
		r.logf("SIGKILL shop %d (pid %d)", i, p.cmd.Process.Pid)
		p.kill()
		r.lb.set(i, "")
		r.kills++
		time.Sleep(r.cfg.down)
		t0 := time.Now()
		if err := r.startShop(ctx, i); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("restart shop %d: %w", i, err)
		}
		r.restarts = append(r.restarts, time.Since(t0))
		r.logf("shop %d restarted in %s", i, time.Since(t0).Round(time.Millisecond))
	}
}
