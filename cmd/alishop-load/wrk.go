package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

const wrkUsage = `usage: alishop-load wrk --db postgres://USER@127.0.0.1:5432/DATABASE --alishop BIN [flags]

Measures the rate of fresh payment notifications from outside with wrk:
two shops (alishop serve, embedded sandbox), one on SQLite and one on a fresh
schema of the PostgreSQL database --db (dropped at the end), both pinned to
--shop-cpus. Each notification is genuine (signed with the embedded sandbox's
Alipay key) and pays its own new order, made beforehand in the shop's
database; none is sent twice. wrk, pinned to --wrk-cpus, posts them with
the Lua script --script for --duration per run at each of --conns
connections, SQLite and PostgreSQL alternating (which goes first alternates
too), for --rounds rounds. It prints each run, then the medians and
PostgreSQL's rate as a share of SQLite's, with the load average, and checks
that every order answered "success" is paid.

flags:
`

type wrkConfig struct {
	db, alishop, script string
	shopCPUs, wrkCPUs   string
	conns               []int
	rounds              int
	duration            time.Duration
	keep                bool
}

func parseWrkFlags(args []string, getenv func(string) string, stderr io.Writer) (*wrkConfig, error) {
	c := &wrkConfig{}
	fs := flag.NewFlagSet("alishop-load wrk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, wrkUsage); fs.PrintDefaults() }
	def := getenv("ALISHOP_LOAD_DB")
	if def == "" {
		def = getenv("ALISHOP_TEST_POSTGRES")
	}
	fs.StringVar(&c.db, "db", def, "PostgreSQL database URL on loopback (default $ALISHOP_LOAD_DB, else $ALISHOP_TEST_POSTGRES); a fresh schema is made in it and dropped at the end")
	fs.StringVar(&c.alishop, "alishop", "", "the alishop binary (default: go build alishop/cmd/alishop into a temp dir)")
	fs.StringVar(&c.script, "script", "scripts/notify-wrk.lua", "wrk's Lua script")
	fs.StringVar(&c.shopCPUs, "shop-cpus", "0", "taskset CPU list of both shops")
	fs.StringVar(&c.wrkCPUs, "wrk-cpus", "1", "taskset CPU list of wrk")
	conns := fs.String("conns", "16,64", "comma-separated connection counts")
	fs.IntVar(&c.rounds, "rounds", 5, "rounds; each runs both databases at every connection count")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "wrk's duration of one run")
	fs.BoolVar(&c.keep, "keep", false, "keep the schema and the temp dir (logs, shops' data) at the end")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return nil, usageError("--conns: connection counts from 1 to 1024")
		}
		c.conns = append(c.conns, n)
	}
	switch {
	case fs.NArg() > 0:
		return nil, usageError("unexpected arguments: " + strings.Join(fs.Args(), " "))
	case c.db == "":
		return nil, usageError("--db is required (a PostgreSQL URL)")
	case c.rounds < 1 || c.rounds > 100:
		return nil, usageError("--rounds from 1 to 100")
	case c.duration < time.Second || c.duration > 5*time.Minute:
		return nil, usageError("--duration from 1s to 5m")
	}
	if _, err := os.Stat(c.script); err != nil {
		return nil, usageError("--script: " + err.Error() + " (run from the repository or give its path)")
	}
	return c, nil
}

// wrkShop is one shop under test and its pool of signed notifications, each
// for an unpaid order of its own; next is the first one never handed to wrk.
type wrkShop struct {
	name     string
	dbPath   string // SQLite file or PostgreSQL URL
	proc     *proc
	key      *rsa.PrivateKey // the embedded sandbox's Alipay key
	sellerID string
	pool     []string
	next     int
	rate     map[int]float64 // last measured rate per connection count
	success  int             // notifications answered "success" in all runs
}

// wrkResult is what the Lua script's done() prints about one run.
type wrkResult struct {
	success, failed, sent, requests int
	durationUS, p50US, p99US        float64
	ranOut                          bool
}

var wrkLine = regexp.MustCompile(`^wrk-notify: (.*)$`)

func runWrk(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseWrkFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, tool := range []string{"wrk", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (apt-get install wrk util-linux)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "alishop-wrk-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintf(stdout, "logs and data in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	r := &loadRun{cfg: &config{db: cfg.db, alishop: cfg.alishop, keep: cfg.keep}, out: stdout, dir: dir}
	defer func() {
		for i := len(r.cleanup) - 1; i >= 0; i-- {
			r.cleanup[i]()
		}
	}()
	if err := r.buildBinary(ctx); err != nil {
		return err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "alishop_wrk_" + hex.EncodeToString(rnd[:])
	if err := r.makeSchema(ctx, schema); err != nil {
		return err
	}
	lite := &wrkShop{name: "SQLite", dbPath: filepath.Join(dir, "sqlite", "alishop.db")}
	pg := &wrkShop{name: "PostgreSQL", dbPath: r.dsn}
	shops := []*wrkShop{lite, pg}
	for _, s := range shops {
		data := filepath.Join(dir, strings.ToLower(s.name))
		args := []string{"-c", cfg.shopCPUs, r.bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn"}
		if s == pg {
			args = append(args, "--db", r.dsn)
		}
		s.proc, err = startProc(ctx, s.name+" shop", "taskset", args, filepath.Join(dir, strings.ToLower(s.name)+".log"), shopReady, 60*time.Second)
		if err != nil {
			return err
		}
		defer s.proc.stop(10 * time.Second)
		if err := s.loadKeys(data); err != nil {
			return err
		}
		s.rate = map[int]float64{}
	}

	// A short warm-up of each shop (connections, prepared statements,
	// caches); not counted.
	for _, s := range shops {
		if _, err := s.run(ctx, cfg, dir, cfg.conns[0], time.Second, stdout); err != nil {
			return err
		}
	}
	type cell struct{ rates [2][]float64 }
	cells := make([]cell, len(cfg.conns))
	var ratios = make([][]float64, len(cfg.conns))
	var loads []float64
	fmt.Fprintf(stdout, "%d rounds of %s per run, shops on CPUs %s, wrk on CPUs %s\n", cfg.rounds, cfg.duration, cfg.shopCPUs, cfg.wrkCPUs)
	for round := range cfg.rounds {
		for ci, conns := range cfg.conns {
			order := []int{0, 1}
			if (round+ci)%2 == 1 {
				order = []int{1, 0}
			}
			var rates [2]float64
			for _, si := range order {
				s := shops[si]
				load1 := loadAvg()
				res, err := s.run(ctx, cfg, dir, conns, cfg.duration, stdout)
				if err != nil {
					return err
				}
				rate := float64(res.success) / (res.durationUS / 1e6)
				rates[si] = rate
				s.rate[conns] = rate
				cells[ci].rates[si] = append(cells[ci].rates[si], rate)
				loads = append(loads, load1)
				fmt.Fprintf(stdout, "round %d, %3d connections, %-10s %7.0f notifications/s (p50 %.1f ms, p99 %.1f ms; %d sent), load %.1f\n",
					round+1, conns, s.name, rate, res.p50US/1000, res.p99US/1000, res.sent, load1)
			}
			ratios[ci] = append(ratios[ci], 100*rates[1]/rates[0])
		}
	}
	// Every notification answered "success" has paid its order; no order
	// was paid that was not sent.
	time.Sleep(2 * time.Second)
	for _, s := range shops {
		paid, err := s.paidOrders(ctx)
		if err != nil {
			return err
		}
		if paid < s.success || paid > s.next {
			return fmt.Errorf("%s: %d orders paid, but %d notifications answered success and %d were sent", s.name, paid, s.success, s.next)
		}
		fmt.Fprintf(stdout, "%s: %d orders paid, %d notifications answered success, %d handed to wrk\n", s.name, paid, s.success, s.next)
	}
	slices.Sort(loads)
	fmt.Fprintf(stdout, "\nload average (1 min) at the runs' start: %.1f–%.1f, median %.1f\n\n", loads[0], loads[len(loads)-1], median(loads))
	fmt.Fprintln(stdout, "| connections | SQLite notifications/s, median (range) | PostgreSQL notifications/s, median (range) | PostgreSQL / SQLite, median of the rounds (range) |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for ci, conns := range cfg.conns {
		l, p := cells[ci].rates[0], cells[ci].rates[1]
		fmt.Fprintf(stdout, "| %d | %s | %s | %s |\n", conns, medRange(l, "%.0f"), medRange(p, "%.0f"), medRange(ratios[ci], "%.0f %%"))
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medRange(v []float64, f string) string {
	return fmt.Sprintf(f+" ("+f+"–"+f+")", median(v), slices.Min(v), slices.Max(v))
}

// loadAvg is the one-minute load average (0 where /proc has none).
func loadAvg() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// loadKeys reads the embedded sandbox's Alipay key from the shop's data
// directory and its app's seller id from the sandbox.
func (s *wrkShop) loadKeys(data string) error {
	var err error
	if s.key, err = alipay.LoadPrivateKeyFile(filepath.Join(data, "sandbox", "sandbox-alipay-private-key.pem")); err != nil {
		return err
	}
	resp, err := http.Get(s.proc.url + "/sandbox/api/apps")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	type app struct {
		AppID    string `json:"app_id"`
		SellerID string `json:"seller_id"`
	}
	var apps []app
	if err := json.Unmarshal(body, &apps); err != nil {
		var wrapped struct {
			Apps []app `json:"apps"`
		}
		if err2 := json.Unmarshal(body, &wrapped); err2 != nil {
			return fmt.Errorf("%s: sandbox apps %q: %v", s.name, body, err)
		}
		apps = wrapped.Apps
	}
	for _, a := range apps {
		if a.AppID == wrkAppID {
			s.sellerID = a.SellerID
		}
	}
	if s.sellerID == "" {
		return fmt.Errorf("%s: app %s not in the embedded sandbox: %s", s.name, wrkAppID, body)
	}
	return nil
}

// wrkAppID is the app alishop serve registers at its embedded sandbox.
const wrkAppID = "9021000000000001"

// run hands wrk the unused part of the pool (topped up to what this run
// can use) for d at conns connections and returns what the script saw. A
// run that used up the pool is void: it is run again with a larger one.
func (s *wrkShop) run(ctx context.Context, cfg *wrkConfig, dir string, conns int, d time.Duration, stdout io.Writer) (wrkResult, error) {
	for range 3 {
		res, err := s.runOnce(ctx, cfg, dir, conns, d)
		if err != nil || !res.ranOut {
			return res, err
		}
		s.rate[conns] = 2 * float64(res.sent) / d.Seconds()
		fmt.Fprintf(stdout, "%s: wrk used every one of the %d notifications prepared; run again with more\n", s.name, res.sent)
	}
	return wrkResult{}, fmt.Errorf("%s: wrk used up the notifications three times", s.name)
}

func (s *wrkShop) runOnce(ctx context.Context, cfg *wrkConfig, dir string, conns int, d time.Duration) (wrkResult, error) {
	guess := s.rate[conns]
	if guess == 0 {
		guess = 2000
	}
	want := int(guess*d.Seconds()*1.5) + 2*conns + 200
	if have := len(s.pool) - s.next; have < want {
		if err := s.topUp(ctx, want-have); err != nil {
			return wrkResult{}, err
		}
	}
	file := filepath.Join(dir, "notifications.txt")
	if err := os.WriteFile(file, []byte(strings.Join(s.pool[s.next:], "\n")+"\n"), 0o600); err != nil {
		return wrkResult{}, err
	}
	secs := strconv.Itoa(int(d.Seconds()))
	cmd := exec.CommandContext(ctx, "taskset", "-c", cfg.wrkCPUs, "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+secs+"s",
		"--timeout", "30s", "-s", cfg.script, s.proc.url, "--", file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	var res wrkResult
	found := false
	for _, line := range strings.Split(string(out), "\n") {
		m := wrkLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		found = true
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			f, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "success":
				res.success = int(f)
			case "failed":
				res.failed = int(f)
			case "sent":
				res.sent = int(f)
			case "requests":
				res.requests = int(f)
			case "duration_us":
				res.durationUS = f
			case "p50_us":
				res.p50US = f
			case "p99_us":
				res.p99US = f
			case "ran_out":
				res.ranOut = v == "true"
			}
		}
	}
	s.next += res.sent
	s.success += res.success
	switch {
	case !found:
		return res, fmt.Errorf("wrk printed no result line:\n%s", out)
	case res.ranOut:
		return res, nil
	case res.failed > 0 || res.success == 0:
		return res, fmt.Errorf("%s: %d notifications not answered success (of %d):\n%s", s.name, res.failed, res.requests, out)
	}
	return res, nil
}

// topUp makes n new unpaid orders in the shop's database and a genuine
// signed payment notification for each, appended to the pool.
func (s *wrkShop) topUp(ctx context.Context, n int) error {
	db, err := store.Open(ctx, s.dbPath, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	bodies := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	base := len(s.pool)
	for range max(2*runtime.GOMAXPROCS(0), 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				body, err := s.fresh(ctx, db, base+i)
				if err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
					return
				}
				bodies[i] = body
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("%s: making orders and notifications: %w", s.name, firstErr)
	}
	s.pool = append(s.pool, bodies...)
	return nil
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// fresh makes one unpaid order of the demo goods 1 (payable for two hours)
// and returns Alipay's signed TRADE_SUCCESS notification for it.
func (s *wrkShop) fresh(ctx context.Context, db *store.DB, i int) (string, error) {
	now := time.Now()
	o := shop.Order{OutTradeNo: shop.NewOutTradeNo(now), GoodsID: 1, Status: shop.StatusUnpaid,
		CreatedAt: now, UpdatedAt: now, TimeExpire: now.Add(2 * time.Hour).Truncate(time.Second)}
	if err := db.CreateOrder(ctx, &o); err != nil {
		return "", err
	}
	paid := now.In(alipay.Beijing)
	amount := o.Amount.String()
	tradeNo := fmt.Sprintf("%s22001400%012d", paid.Format("20060102"), i)
	p := map[string]string{
		"gmt_create": alipay.FormatTime(paid.Add(-5 * time.Second)), "charset": "utf-8", "seller_email": "merchant@sandbox.com",
		"subject": o.Subject, "buyer_id": "2088102177846875", "invoice_amount": amount,
		"notify_id": fmt.Sprintf("%s0022220%012d", paid.Format("20060102"), i), "fund_bill_list": `[{"amount":"` + amount + `","fundChannel":"ALIPAYACCOUNT"}]`,
		"notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS", "receipt_amount": amount,
		"app_id": wrkAppID, "buyer_pay_amount": amount, "seller_id": s.sellerID,
		"gmt_payment": alipay.FormatTime(paid), "notify_time": alipay.FormatTime(paid),
		"version": "1.0", "out_trade_no": o.OutTradeNo, "total_amount": amount, "trade_no": tradeNo,
		"auth_app_id": wrkAppID, "buyer_logon_id": "buy***@sandbox.com", "point_amount": "0.00",
		"sign_type": "RSA2",
	}
	sig, err := alipay.Sign(s.key, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV1))
	if err != nil {
		return "", err
	}
	p["sign"] = sig
	return alipay.EncodeForm(p), nil
}

// paidOrders counts the shop's paid orders.
func (s *wrkShop) paidOrders(ctx context.Context) (int, error) {
	db, err := store.Open(ctx, s.dbPath, store.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	_, n, err := db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid, Limit: 1})
	return n, err
}
