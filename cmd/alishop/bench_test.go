package main

import (
	"bufio"
	"context"
	"crypto/rsa"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/store"
	"alishop/internal/store/pgtest"

	_ "modernc.org/sqlite"
)

// The shop's benchmarks run the real program in a child process (this test
// binary re-executed as `alishop serve --addr 127.0.0.1:0`, see TestMain),
// pinned with taskset to the cores given in ALISHOP_BENCH_SHOP_CPUS
// (default "0"), and drive it over loopback HTTP with 64 concurrent clients
// from this process. Each reports its throughput next to the raw baseline it
// is judged against, measured in the same run: RSA-2048 signing in a child
// pinned to the same cores, or a bare commit loop on the same disk. Peak RSS
// is the shop process's own VmHWM.
//
//	taskset -c 1 go test ./cmd/alishop -run '^$' -bench 'Checkout|Notify' -benchtime 3000x
//
// See docs/BENCHMARKS.md (## shop).

const benchClients = 64

// benchClient is a keep-alive client with room for every benchmark client.
var benchClient = &http.Client{
	Transport: &http.Transport{MaxIdleConns: benchClients * 2, MaxIdleConnsPerHost: benchClients * 2},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// load runs n requests from benchClients goroutines and returns the
// throughput and latency percentiles. do performs request i.
func load(b *testing.B, n int, do func(i int) error) (perSec float64, p50, p99 time.Duration) {
	b.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < benchClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := do(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	return float64(n) / elapsed.Seconds(), lat[n/2], lat[n*99/100]
}

// signRate is the RSA-2048 (RSA2, SHA256withRSA) signing rate of all
// GOMAXPROCS cores on a page-pay sized string-to-sign: the ceiling of
// checkout, which signs once per order.
func signRate(key *rsa.PrivateKey, n int) (float64, error) {
	content := []byte(strings.Repeat("app_id=9021000000000001&biz_content=x&", 12))
	procs := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := alipay.Sign(key, alipay.SignTypeRSA2, content); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func vmHWM(status string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func report(b *testing.B, c *childShop, name string, rate, base float64, p50, p99 time.Duration) {
	rss := c.rss()
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(base, "baseline/s")
	b.ReportMetric(100*rate/base, "%-of-baseline")
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(rss, "peak-RSS-MB")
	b.Logf("%s: %.0f req/s, baseline %.0f/s (%.0f%%), p50 %v, p99 %v, %d clients, shop on CPUs %s, shop peak RSS %.1f MB",
		name, rate, base, 100*rate/base, p50, p99, benchClients, c.cpus, rss)
}

// childShop is the shop in its own process, pinned to the shop's cores.
type childShop struct {
	*shopProcess
	cmd  *exec.Cmd
	cpus string
}

func benchCPUs() string {
	if v := os.Getenv("ALISHOP_BENCH_SHOP_CPUS"); v != "" {
		return v
	}
	return "0"
}

// pinned returns a command running this test binary in child mode, pinned
// to the shop's cores when taskset is available.
func pinned(b *testing.B, mode string, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var cmd *exec.Cmd
	if ts, err := exec.LookPath("taskset"); err == nil {
		cmd = exec.Command(ts, append([]string{"-c", benchCPUs(), exe}, args...)...)
	} else {
		b.Log("taskset not available: the shop is not pinned")
		cmd = exec.Command(exe, args...)
	}
	cmd.Env = append(os.Environ(), "ALISHOP_BENCH_CHILD="+mode, "ALISHOP_LOG_LEVEL=warn")
	return cmd
}

func startChildShop(b *testing.B, extra ...string) *childShop {
	data := b.TempDir()
	// All the load comes from one address: no per-client checkout limit.
	cmd := pinned(b, "serve", append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--checkout-burst", "1000000"}, extra...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &shopProcess{t: b, data: data, stderr: &lockedBuffer{}}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
			p.base = m[1]
			break
		}
	}
	if p.base == "" {
		cmd.Process.Kill()
		b.Fatalf("child shop printed no listening line: %v", sc.Err())
	}
	go io.Copy(io.Discard, out)
	c := &childShop{shopProcess: p, cmd: cmd, cpus: benchCPUs()}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			b.Errorf("child shop: %v", err)
		}
	})
	return c
}

// rss is the child's peak resident set (VmHWM) in MB.
func (c *childShop) rss() float64 {
	pid := c.cmd.Process.Pid
	// With taskset the shop is taskset's exec'd image: same pid.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return vmHWM(string(b))
}

// childSignRate runs rawSignRate in a child pinned to the shop's cores.
func childSignRate(b *testing.B, keyFile string, n int) float64 {
	cmd := pinned(b, "sign")
	cmd.Env = append(cmd.Env, "ALISHOP_BENCH_KEY="+keyFile, fmt.Sprintf("ALISHOP_BENCH_N=%d", n))
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("sign child: %v", err)
	}
	rate, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("sign child printed %q", out)
	}
	return rate
}

// TestMain runs this binary as the shop or the signing baseline when a
// benchmark re-executes it; otherwise it runs the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("ALISHOP_BENCH_CHILD") {
	case "serve":
		if f := os.Getenv("ALISHOP_BENCH_CPUPROFILE"); f != "" {
			out, err := os.Create(f)
			if err == nil && pprof.StartCPUProfile(out) == nil {
				defer pprof.StopCPUProfile()
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err := run(ctx, append([]string{"alishop"}, os.Args[1:]...), os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		pprof.StopCPUProfile()
		os.Exit(exitCode(err, os.Stderr))
	case "sign":
		key, err := alipay.LoadPrivateKeyFile(os.Getenv("ALISHOP_BENCH_KEY"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n, _ := strconv.Atoi(os.Getenv("ALISHOP_BENCH_N"))
		rate, err := signRate(key, max(n, 100))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(rate)
		os.Exit(0)
	}
	code := m.Run()
	stopTestBrowser()
	removeOpsBinary()
	os.Exit(code)
}

// BenchmarkCheckout: POST /orders (insert the order durably, sign the
// page-pay request, answer 303) against the raw RSA-2048 signing rate.
func BenchmarkCheckout(b *testing.B) {
	p := startChildShop(b)
	keyFile := filepath.Join(p.data, "keys", "app_private_key.pem")
	n := max(b.N, 200)
	before := childSignRate(b, keyFile, n)
	form := url.Values{"goods_id": {"1"}}.Encode()
	b.ResetTimer()
	rate, p50, p99 := load(b, n, func(int) error { return postOrder(p.base, form) })
	b.StopTimer()
	// The machine may be shared: the baseline is the mean of a measurement
	// just before and one just after the load.
	base := (before + childSignRate(b, keyFile, n)) / 2
	report(b, p, "checkout", rate, base, p50, p99)
}

// postOrder posts the checkout form to the shop at base and wants the
// 303 to the cashier.
func postOrder(base, form string) error {
	req, _ := http.NewRequest("POST", base+"/orders", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := benchClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST /orders: %s", resp.Status)
	}
	return nil
}

// BenchmarkNotify: POST /alipay/notify with genuine notifications, each
// paying one order (verify, checks, compare-and-set, durable commit),
// against a bare loop committing the same rows on the same disk.
func BenchmarkNotify(b *testing.B) {
	p := startChildShop(b)
	n := max(b.N, 200)
	tg, db := benchTarget(b, p.shopProcess)
	ctx := context.Background()
	bodies := make([]string, n)
	orders := make([]shop.Order, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range n {
		no, _ := p.buy("1")
		o, err := db.Order(ctx, no)
		if err != nil {
			b.Fatal(err)
		}
		orders[i] = o
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			bodies[i] = shoptest.Sign(nil, tg.AlipayKey, tg.Genuine(o, fmt.Sprintf("2026112522001400%012d", i)))
		}()
	}
	wg.Wait()
	before := bareCommitRate(b, bodies, orders)

	b.ResetTimer()
	rate, p50, p99 := load(b, n, func(i int) error { return postNotify(p.base, bodies[i]) })
	b.StopTimer()
	_, paid, err := db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid, Limit: 1})
	if err != nil || paid != n {
		b.Fatalf("%d orders paid, want %d (%v)", paid, n, err)
	}
	base := (before + bareCommitRate(b, bodies, orders)) / 2
	report(b, p, "notify", rate, base, p50, p99)
}

// bareCommitRate commits the same rows as the notification handler (the
// raw notification insert and the order update), one durable transaction
// each, on one connection with the shop's pragmas, in a database in the
// same directory tree (same disk) with the same schema.
func bareCommitRate(b *testing.B, bodies []string, orders []shop.Order) float64 {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bare.db")
	ctx := context.Background()
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := shop.Goods{Name: "x", Price: 36900, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateGoods(ctx, &g); err != nil {
		b.Fatal(err)
	}
	for i := range orders {
		o := orders[i]
		o.GoodsID = g.ID
		if err := st.CreateOrder(ctx, &o); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	now := time.Now().UnixMilli()
	start := time.Now()
	for i, o := range orders {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (source, received_at, remote_addr, method, body, verified, notify_id, out_trade_no, trade_status, outcome, detail)
			VALUES ('notify', $1, '127.0.0.1:1', 'POST', $2, TRUE, $3, $4, 'TRADE_SUCCESS', 'applied', '')`, now, []byte(bodies[i]), "n"+o.OutTradeNo, o.OutTradeNo); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET status = 'paid', trade_no = $1, paid_at = $2, paid_via = 'notify', updated_at = $2 WHERE out_trade_no = $3 AND status = 'unpaid'`,
			fmt.Sprintf("t%d", i), now, o.OutTradeNo); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(len(orders)) / time.Since(start).Seconds()
}

func benchTarget(b *testing.B, p *shopProcess) (*shoptest.Target, *store.DB) {
	return shopTarget(b, p)
}

// freshNotifications makes n orders on the shop p (whose database is
// dbPath) and returns a genuine payment notification of each, signed
// beforehand as Alipay signs them.
func freshNotifications(b *testing.B, p *shopProcess, dbPath string, n int) ([]string, *store.DB) {
	tg, db := shopTargetDB(b, p, dbPath)
	ctx := context.Background()
	bodies := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range n {
		no, _ := p.buy("1")
		o, err := db.Order(ctx, no)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			bodies[i] = shoptest.Sign(nil, tg.AlipayKey, tg.Genuine(o, fmt.Sprintf("2026112522001400%012d", i)))
		}()
	}
	wg.Wait()
	return bodies, db
}

// postNotify delivers one notification and wants "success".
func postNotify(base, body string) error {
	resp, err := benchClient.Post(base+"/alipay/notify", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(body))
	if err != nil {
		return err
	}
	ans, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(ans) != "success" {
		return fmt.Errorf("notify: %s %q", resp.Status, ans)
	}
	return nil
}

// BenchmarkNotifyPostgres: fresh payment notifications (each pays a new
// order), as in BenchmarkNotify, on two shops in the same run: one on the
// default SQLite database and one on PostgreSQL (--db, a fresh schema of
// ALISHOP_TEST_POSTGRES). Both shops run pinned to the same cores and
// are loaded one at a time, in alternating rounds, so that a busy moment
// of a shared machine falls on both. It reports each rate and PostgreSQL's
// as a percentage of SQLite's.
//
//	ALISHOP_TEST_POSTGRES=postgres://root@127.0.0.1:5432/test?sslmode=disable \
//	    go test ./cmd/alishop -run '^$' -bench NotifyPostgres -benchtime 3000x -count 3
func BenchmarkNotifyPostgres(b *testing.B) {
	dsn := pgtest.URL(b)
	n := max(b.N, 300)
	type side struct {
		name     string
		p        *childShop
		db       *store.DB
		bodies   []string
		elapsed  time.Duration
		p50, p99 []time.Duration
	}
	lite := startChildShop(b)
	pg := startChildShop(b, "--db", dsn)
	sides := []*side{{name: "sqlite", p: lite}, {name: "postgres", p: pg}}
	for _, s := range sides {
		path := filepath.Join(s.p.data, "alishop.db")
		if s.p == pg {
			path = dsn
		}
		s.bodies, s.db = freshNotifications(b, s.p.shopProcess, path, n)
	}
	const rounds = 3
	b.ResetTimer()
	for r := range rounds {
		lo, hi := r*n/rounds, (r+1)*n/rounds
		// Alternate which goes first, too.
		order := sides
		if r%2 == 1 {
			order = []*side{sides[1], sides[0]}
		}
		for _, s := range order {
			bodies := s.bodies[lo:hi]
			rate, p50, p99 := load(b, len(bodies), func(i int) error { return postNotify(s.p.base, bodies[i]) })
			s.elapsed += time.Duration(float64(len(bodies)) / rate * float64(time.Second))
			s.p50, s.p99 = append(s.p50, p50), append(s.p99, p99)
		}
	}
	b.StopTimer()
	ctx := context.Background()
	rates := map[string]float64{}
	for _, s := range sides {
		if _, paid, err := s.db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid, Limit: 1}); err != nil || paid != n {
			b.Fatalf("%s: %d orders paid, want %d (%v)", s.name, paid, n, err)
		}
		rates[s.name] = float64(n) / s.elapsed.Seconds()
		slices.Sort(s.p50)
		slices.Sort(s.p99)
		b.ReportMetric(rates[s.name], s.name+"-req/s")
		b.ReportMetric(float64(s.p99[len(s.p99)/2].Microseconds())/1000, s.name+"-p99-ms")
		b.Logf("%s: %.0f req/s, median of the rounds' p50 %v, p99 %v, shop peak RSS %.1f MB",
			s.name, rates[s.name], s.p50[len(s.p50)/2], s.p99[len(s.p99)/2], s.p.rss())
	}
	b.ReportMetric(100*rates["postgres"]/rates["sqlite"], "pg-%-of-sqlite")
	b.Logf("PostgreSQL at %.0f%% of SQLite (%d notifications each, %d rounds, %d clients, shops on CPUs %s)",
		100*rates["postgres"]/rates["sqlite"], n, rounds, benchClients, benchCPUs())
}

// BenchmarkCheckoutStock: the checkout of shipped goods with a counted
// stock (POST /orders with quantity and the receiver's name, phone and
// address: the fields checked, the stock taken by compare-and-set in the
// order's transaction) against today's plain checkout of unlimited virtual
// goods (goods_id alone), on the same shop in alternating rounds, so that
// a busy moment of a shared machine falls on both. On SQLite, and on
// PostgreSQL too when ALISHOP_TEST_POSTGRES is set. It reports each rate
// and the stock checkout's as a percentage of the plain one's.
//
//	ALISHOP_TEST_POSTGRES=postgres://root@127.0.0.1:5432/test?sslmode=disable \
//	    go test ./cmd/alishop -run '^$' -bench CheckoutStock -benchtime 3000x -count 3
func BenchmarkCheckoutStock(b *testing.B) {
	n := max(b.N, 300)
	backends := []struct{ name, dsn string }{{"sqlite", ""}}
	if os.Getenv(pgtest.Env) != "" {
		backends = append(backends, struct{ name, dsn string }{"postgres", pgtest.URL(b)})
	}
	ctx := context.Background()
	for _, be := range backends {
		var p *childShop
		path := be.dsn
		if be.dsn == "" {
			p = startChildShop(b)
			path = filepath.Join(p.data, "alishop.db")
		} else {
			p = startChildShop(b, "--db", be.dsn)
		}
		db, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		stock := int64(10 * n)
		now := time.Now()
		g := shop.Goods{Name: "机械键盘（限量）", Price: alipay.MustAmount("399.00"), Stock: &stock, Shipping: true, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateGoods(ctx, &g); err != nil {
			b.Fatal(err)
		}
		forms := map[string]string{
			"plain": url.Values{"goods_id": {"1"}}.Encode(),
			"stock": url.Values{"goods_id": {fmt.Sprint(g.ID)}, "quantity": {"1"}, "name": {"张三"}, "phone": {"13800138000"},
				"address": {"浙江省杭州市西湖区文三路 478 号 3 幢 1201 室"}}.Encode(),
		}
		elapsed := map[string]time.Duration{}
		const rounds = 4
		for r := range rounds {
			kinds := []string{"plain", "stock"}
			if r%2 == 1 {
				kinds = []string{"stock", "plain"}
			}
			for _, kind := range kinds {
				form, m := forms[kind], n/rounds
				rate, _, _ := load(b, m, func(int) error { return postOrder(p.base, form) })
				elapsed[kind] += time.Duration(float64(m) / rate * float64(time.Second))
			}
		}
		left, err := db.Goods(ctx, g.ID)
		if err != nil || left.Stock == nil || *left.Stock != stock-int64(rounds*(n/rounds)) {
			b.Fatalf("%s: stock left %v (%v), want %d", be.name, left.Stock, err, stock-int64(rounds*(n/rounds)))
		}
		db.Close()
		plain := float64(rounds*(n/rounds)) / elapsed["plain"].Seconds()
		withStock := float64(rounds*(n/rounds)) / elapsed["stock"].Seconds()
		b.ReportMetric(plain, be.name+"-plain-req/s")
		b.ReportMetric(withStock, be.name+"-stock-req/s")
		b.ReportMetric(100*withStock/plain, be.name+"-stock-%-of-plain")
		b.Logf("%s: plain checkout %.0f req/s, with stock and address %.0f req/s (%.1f%%), %d checkouts of each in %d rounds, %d clients, shop on CPUs %s",
			be.name, plain, withStock, 100*withStock/plain, rounds*(n/rounds), rounds, benchClients, benchCPUs())
	}
}
