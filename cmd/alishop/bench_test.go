package main

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
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

	_ "modernc.org/sqlite"
)

// The shop's benchmarks run the real program (run() on 127.0.0.1:0, as the
// end-to-end tests do) and drive it over loopback HTTP with 64 concurrent
// clients. Each reports its throughput next to the raw baseline it is
// judged against, measured in the same run on the same cores and disk:
//
//	go test ./cmd/alishop -run '^$' -bench 'Checkout|Notify' -benchtime 3000x
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

// rawSignRate is the RSA-2048 (RSA2, SHA256withRSA) signing rate of all
// GOMAXPROCS cores on a page-pay sized string-to-sign: the ceiling of
// checkout, which signs once per order.
func rawSignRate(b *testing.B, key *rsa.PrivateKey, n int) float64 {
	content := []byte(strings.Repeat("app_id=9021000000000001&biz_content=x&", 12))
	procs := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := alipay.Sign(key, alipay.RSA2, content); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// peakRSS is the process's peak resident set (VmHWM) in MB: the shop and
// the load generator together, so an upper bound for the shop.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func report(b *testing.B, name string, rate, base float64, p50, p99 time.Duration) {
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(base, "baseline/s")
	b.ReportMetric(100*rate/base, "%-of-baseline")
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
	b.Logf("%s: %.0f req/s, baseline %.0f/s (%.0f%%), p50 %v, p99 %v, %d clients, GOMAXPROCS %d, peak RSS %.1f MB",
		name, rate, base, 100*rate/base, p50, p99, benchClients, runtime.GOMAXPROCS(0), peakRSS())
}

// BenchmarkCheckout: POST /orders (insert the order durably, sign the
// page-pay request, answer 303) against the raw RSA-2048 signing rate.
func BenchmarkCheckout(b *testing.B) {
	p := startShop(b, b.TempDir())
	key, err := alipay.LoadPrivateKeyFile(filepath.Join(p.data, "keys", "app_private_key.pem"))
	if err != nil {
		b.Fatal(err)
	}
	n := max(b.N, 200)
	base := rawSignRate(b, key, n)
	form := url.Values{"goods_id": {"1"}}.Encode()
	b.ResetTimer()
	rate, p50, p99 := load(b, n, func(int) error {
		req, _ := http.NewRequest("POST", p.base+"/orders", strings.NewReader(form))
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
	})
	b.StopTimer()
	report(b, "checkout", rate, base, p50, p99)
}

// BenchmarkNotify: POST /alipay/notify with genuine notifications, each
// paying one order (verify, checks, compare-and-set, durable commit),
// against a bare loop committing the same rows on the same disk.
func BenchmarkNotify(b *testing.B) {
	p := startShop(b, b.TempDir())
	n := max(b.N, 200)
	tg, db := benchTarget(b, p)
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
	base := bareCommitRate(b, bodies, orders)

	b.ResetTimer()
	rate, p50, p99 := load(b, n, func(i int) error {
		resp, err := benchClient.Post(p.base+"/alipay/notify", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(bodies[i]))
		if err != nil {
			return err
		}
		ans, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(ans) != "success" {
			return fmt.Errorf("notify: %s %q", resp.Status, ans)
		}
		return nil
	})
	b.StopTimer()
	_, paid, err := db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid, Limit: 1})
	if err != nil || paid != n {
		b.Fatalf("%d orders paid, want %d (%v)", paid, n, err)
	}
	report(b, "notify", rate, base, p50, p99)
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
