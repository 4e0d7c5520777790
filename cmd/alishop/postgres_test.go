package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shop"
	"alishop/internal/store"
	"alishop/internal/store/pgtest"
)

// TestServePostgres: `alishop serve --db postgres://…` with the built-in
// sandbox, on a fresh schema: the migrations run (and again, changing
// nothing, on a restart), an order is paid through the sandbox and the
// notification marks it paid.
func TestServePostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	data := t.TempDir()
	p := startShop(t, data, "--db", dsn)
	resp, page := p.do("GET", "/", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Python全栈开发课程") {
		t.Fatalf("goods page: %s (no demo goods on a fresh PostgreSQL database?)", resp.Status)
	}
	no, gw := p.buy("2")
	if o := p.apiOrder(no); o.Status != "unpaid" || o.Amount != "88.00" {
		t.Fatalf("new order: %+v", o)
	}
	p.openCashier(gw)
	p.pay(no)
	if o := p.waitPaid(no); o.Status != "paid" || o.PaidVia != "notify" || o.TradeNo == "" {
		t.Fatalf("after payment: %+v; stderr:\n%s", o, p.stderr)
	}
	if err := p.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.stderr)
	}

	// Nothing was written to a SQLite file; the tables are in the schema.
	if _, err := os.Stat(filepath.Join(data, "alishop.db")); err == nil {
		t.Error("a SQLite database was made although --db names PostgreSQL")
	}
	// Every migration is recorded once: the store finds the schema
	// complete (Ready), with one row per version.
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := db.SchemaVersion(context.Background())
	if err != nil || want == 0 {
		t.Fatalf("schema version %d, %v", want, err)
	}
	if err := db.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	versions := func() int {
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := versions(); n != want {
		t.Fatalf("%d migrations recorded, want %d", n, want)
	}

	// A restart on the same database: no migration again, no second set
	// of demo goods, the order still paid.
	p = startShop(t, data, "--db", dsn)
	if n := versions(); n != want {
		t.Fatalf("after restart %d migrations recorded, want %d", n, want)
	}
	if o := p.apiOrder(no); o.Status != "paid" {
		t.Fatalf("after restart: %+v", o)
	}
	_, page = p.do("GET", "/", nil, nil)
	if c := strings.Count(page, "Python全栈开发课程"); c != 1 {
		t.Errorf("the goods page lists the demo goods %d times after a restart", c)
	}
}

// TestServePostgresBadURL: a bad --db URL is refused at once with one line
// that names the problem, without the password. A good URL whose server
// cannot be reached is waited for instead: the shop logs each try, naming
// the problem, and never the password (also not on its start-up line).
func TestServePostgresBadURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url, want string
		code      int
	}{
		{"postgres://shop:hunter2@127.0.0.1:5432/shop?sslmode=sometimes", "sslmode", 2},
		{"postgres://shop:hunter2@127.0.0.1:5432", "no database name", 2},
	} {
		var stderr strings.Builder
		args := []string{"alishop", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", c.url}
		err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
		code := exitCode(err, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code != c.code || strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
			t.Errorf("--db %s: exit %d, %q; want exit %d and one line naming %q without the password",
				strings.ReplaceAll(c.url, "hunter2", "…"), code, msg, c.code, c.want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	args := []string{"alishop", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", "postgres://shop:hunter2@127.0.0.1:1/shop?connect_timeout=5"}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(stderr.String(), "database not ready; trying again") {
		select {
		case err := <-done:
			t.Fatalf("alishop exited (%v) instead of waiting for the database:\n%s", err, stderr.String())
		case <-deadline:
			t.Fatalf("no retry logged:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stopped while waiting for the database: %v", err)
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, "hunter2") || !strings.Contains(stderr.String(), "connect") ||
		!strings.Contains(stdout.String(), "database postgres://shop@127.0.0.1:1/shop") {
		t.Errorf("waiting for an unreachable database: want the database named without its password and the problem logged:\n%s", out)
	}
}

// TestServePostgresTwoProcesses: two shop processes (two run() instances)
// on one PostgreSQL database, with one Alipay (a stand-alone sandbox) as
// behind a load balancer. Orders are made on both; half are paid with their
// notifications dropped. Every notification is then also delivered to the
// other process. Both processes are restarted; at start-up both make every
// unpaid order's job due at once and race for them. Every payment is
// applied exactly once and every order's query job runs exactly once.
func TestServePostgresTwoProcesses(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	ctx := context.Background()

	// Alipay: a stand-alone sandbox on loopback, queries slowed down so the
	// two reconcilers overlap.
	dir := t.TempDir()
	if err := run(ctx, []string{"alishop", "keygen", "--dir", dir}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatalf("keygen: %v", err)
	}
	appKey, err := alipay.LoadPrivateKeyFile(filepath.Join(dir, "app_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	const appID = "2021000000000043"
	app, err := sb.RegisterApp(appID, &appKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sb.Start(sctx)
	gw := httptest.NewServer(sb)
	defer gw.Close()
	alipayKey := filepath.Join(dir, "alipay_public_key.pem")
	if err := os.WriteFile(alipayKey, alipay.PublicKeyPEM(sb.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}

	// The goods, put in the database before the shops start.
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := shop.Goods{Name: "两进程测试商品", Price: alipay.MustAmount("10.00"), CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	db.Close()

	dataA, dataB := t.TempDir(), t.TempDir()
	start := func(data string, extra ...string) *shopProcess {
		return startShop(t, data, append([]string{"--db", dsn, "--alipay-app-id", appID,
			"--alipay-private-key", filepath.Join(dir, "app_private_key.pem"), "--alipay-public-key", alipayKey,
			"--alipay-gateway", gw.URL + "/gateway.do", "--alipay-seller-id", app.SellerID,
			"--admin-password", "two-processes-pw"}, extra...)...)
	}
	a, b := start(dataA), start(dataB)
	shops := []*shopProcess{a, b}

	// 1. Orders on both processes, all paid; the odd ones' notifications
	// are dropped.
	const n = 20
	var nos []string
	dropped := map[string]bool{}
	for i := 0; i < n; i++ {
		p := shops[i%2]
		resp, body := p.do("POST", "/orders", url.Values{"goods_id": {fmt.Sprint(g.ID)}}, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, gw.URL+"/gateway.do?") {
			t.Fatalf("POST /orders: %s %s %s", resp.Status, loc, body)
		}
		u, _ := url.Parse(loc)
		var biz struct {
			OutTradeNo string `json:"out_trade_no"`
		}
		if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil || biz.OutTradeNo == "" {
			t.Fatalf("biz_content: %v", err)
		}
		no := biz.OutTradeNo
		nos = append(nos, no)
		if i%2 == 1 {
			dropped[no] = true
			if _, err := sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindDrop, OutTradeNo: no}}); err != nil {
				t.Fatal(err)
			}
		}
		p.openCashier(loc)
		if _, err := sb.Pay(appID, no, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, no := range nos {
		if dropped[no] {
			continue
		}
		if o := b.waitPaid(no); o.Status != "paid" || o.PaidVia != "notify" {
			t.Fatalf("order %s: %+v; stderr A:\n%s\nstderr B:\n%s", no, o, a.stderr, b.stderr)
		}
	}
	for no := range dropped {
		if o := a.apiOrder(no); o.Status != "unpaid" {
			t.Fatalf("order %s paid although its notification was dropped and no query was due: %+v", no, o)
		}
	}

	// Every notification delivered, now also to the other process, twice at
	// once: acknowledged, and applied no second time.
	db, err = store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := db.Notifications(ctx, 0, 1000)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, m := range ns {
		if m.Source != shop.SourceNotify {
			continue
		}
		for _, p := range shops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Post(p.base+"/alipay/notify", "application/x-www-form-urlencoded", strings.NewReader(string(m.Body)))
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				if body, _ := io.ReadAll(resp.Body); string(body) != "success" {
					t.Errorf("notification of %s delivered again: %s %q", m.OutTradeNo, resp.Status, body)
				}
			}()
		}
	}
	wg.Wait()

	// 2. Both processes restarted with a short poll: at start-up each makes
	// the unpaid orders' jobs due now; the jobs query Alipay, which answers
	// TRADE_SUCCESS, and pay the orders.
	for _, p := range shops {
		if err := p.stop(); err != nil {
			t.Fatalf("stop: %v\n%s", err, p.stderr)
		}
	}
	if _, err := sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindLatency, Method: "alipay.trade.query", Delay: sandbox.Duration(50 * time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	fast := []string{"--jobs-poll", "20ms", "--jobs-workers", "2"}
	a, b = start(dataA, fast...), start(dataB, fast...)
	deadline := time.Now().Add(60 * time.Second)
	for no := range dropped {
		for {
			o := a.apiOrder(no)
			if o.Status == "paid" {
				if o.PaidVia != "query" {
					t.Errorf("order %s paid via %q, want query", no, o.PaidVia)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %s still %s; stderr A:\n%s\nstderr B:\n%s", no, o.Status, a.stderr, b.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, p := range []*shopProcess{a, b} {
		if err := p.stop(); err != nil {
			t.Fatalf("stop: %v\n%s", err, p.stderr)
		}
	}

	// The record: per order one applied payment, the other messages
	// duplicates; one query per dropped order; their jobs done.
	db, err = store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ns, err = db.Notifications(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	applied, queries, replays := map[string]int{}, map[string]int{}, 0
	for _, m := range ns {
		if m.Outcome == shop.OutcomeApplied {
			applied[m.OutTradeNo]++
		}
		if m.Source == shop.SourceQuery {
			queries[m.OutTradeNo]++
		}
		// An identical verified message is stored once and counted.
		if m.Source == shop.SourceNotify && m.Outcome == shop.OutcomeDuplicate {
			replays += int(m.TimesSeen)
		} else if m.Source == shop.SourceNotify {
			replays += int(m.TimesSeen - 1)
		}
	}
	for _, no := range nos {
		if applied[no] != 1 {
			t.Errorf("payment of %s applied %d times", no, applied[no])
		}
		if want := map[bool]int{true: 1}[dropped[no]]; queries[no] != want {
			t.Errorf("order %s queried %d times, want %d", no, queries[no], want)
		}
	}
	if replays != 2*(n/2) {
		t.Errorf("%d notifications recorded as duplicates, want %d", replays, 2*(n/2))
	}
	js, err := db.Jobs(ctx, "order", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if dropped[j.Ref] && (!j.Done || j.Attempts != 1) {
			t.Errorf("job of %s: done %v after %d claims, want done after 1", j.Ref, j.Done, j.Attempts)
		}
	}
	orders, total, err := db.ListOrders(ctx, shop.OrderFilter{Status: shop.StatusPaid, Limit: 500})
	if err != nil || total != n || len(orders) != n {
		t.Fatalf("%d paid orders (%v), want %d", total, err, n)
	}
}
