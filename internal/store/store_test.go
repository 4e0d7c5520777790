package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"

	"alishop/internal/store/pgtest"
)

// source is a database the suite runs on: how store.Open was given it, and
// the database/sql driver that opens it raw.
type source struct {
	backend, driver, dsn string
}

// backends are SQLite (always) and PostgreSQL (with ALISHOP_TEST_POSTGRES,
// each test in a schema of its own; see pgtest).
var backends = []struct {
	name, driver string
	fresh        func(t testing.TB) string
}{
	{"sqlite", "sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "shop.db") }},
	{"postgres", "pgx", func(t testing.TB) string { return pgtest.URL(t) }},
}

// eachDB runs fn as a subtest on a fresh database of each backend.
func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB, src source)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			src := source{backend: b.name, driver: b.driver, dsn: b.fresh(t)}
			db, err := store.Open(context.Background(), src.dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, db, src)
		})
	}
}

func goods(t *testing.T, db *store.DB, name string, price int64, hidden bool) shop.Goods {
	t.Helper()
	now := time.Now()
	g := shop.Goods{Name: name, Price: alipay.Amount(price), Hidden: hidden, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateGoods(context.Background(), &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestMigrationsFreshAndReopen(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, src source) {
		if !db.Fresh() {
			t.Fatal("a new database is not Fresh")
		}
		// Ready: every migration applied.
		if err := db.Ready(context.Background()); err != nil {
			t.Fatal(err)
		}
		db.Close()
		again, err := store.Open(context.Background(), src.dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if again.Fresh() {
			t.Fatal("a reopened database is Fresh")
		}
		// A database from a newer program is refused.
		raw, err := sql.Open(src.driver, src.dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		again.Close()
		if _, err := store.Open(context.Background(), src.dsn, store.Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("newer schema: %v", err)
		}
	})
}

func TestCreateOrderCopiesGoods(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		g := goods(t, db, "机械键盘", 378800, false)
		h := goods(t, db, "下架商品", 100, true)
		o := shop.Order{OutTradeNo: "20261125000000aaaa", GoodsID: g.ID, Status: shop.StatusUnpaid, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		if o.ID == 0 || o.Subject != "机械键盘" || o.Amount != 378800 {
			t.Fatalf("order %+v", o)
		}
		dup := o
		if err := db.CreateOrder(ctx, &dup); shop.ErrorCode(err) != shop.ECONFLICT {
			t.Fatalf("duplicate out_trade_no: %v", err)
		}
		for _, c := range []struct {
			id   int64
			want error
		}{{h.ID, shop.ErrGoodsHidden}, {9999, shop.ErrGoodsNotFound}} {
			o := shop.Order{OutTradeNo: fmt.Sprintf("x%d", c.id), GoodsID: c.id, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := db.CreateOrder(ctx, &o); !errors.Is(err, c.want) {
				t.Fatalf("goods %d: %v, want %v", c.id, err, c.want)
			}
		}
		_, n, _ := db.ListOrders(ctx, shop.OrderFilter{})
		if n != 1 {
			t.Fatalf("%d orders, want 1", n)
		}
	})
}

// TestReceiveCompareAndSet: many concurrent deliveries of the same payment
// change the order once; every message is stored.
func TestReceiveCompareAndSet(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		g := goods(t, db, "课程", 36900, false)
		o := shop.Order{OutTradeNo: "20261125000000bbbb", GoodsID: g.ID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		applied := 0
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: time.Now(), Body: []byte(fmt.Sprintf("n=%d", i)), Verified: true, OutTradeNo: o.OutTradeNo}
				d, err := db.Receive(ctx, in, func(cur *shop.Order, _ *shop.Refund) shop.Decision {
					if cur.Status == shop.StatusUnpaid {
						return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true, Pay: &shop.Payment{TradeNo: "T1", PaidAt: time.Now(), Via: "notify"}}
					}
					return shop.Decision{Outcome: shop.OutcomeDuplicate, Ack: true}
				})
				if err != nil {
					t.Error(err)
					return
				}
				if d.Outcome == shop.OutcomeApplied {
					mu.Lock()
					applied++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if applied != 1 {
			t.Fatalf("applied %d times, want 1", applied)
		}
		got, _ := db.Order(ctx, o.OutTradeNo)
		if got.Status != shop.StatusPaid || got.TradeNo != "T1" {
			t.Fatalf("order %+v", got)
		}
		ns, _ := db.Notifications(ctx, 0, 100)
		if len(ns) != 20 {
			t.Fatalf("%d messages stored, want 20", len(ns))
		}
	})
}

// TestBatchIsolation: a failing job in a group-commit batch does not undo
// the others.
func TestBatchIsolation(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		g := goods(t, db, "课程", 100, false)
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				no := fmt.Sprintf("o%d", i/2) // every number twice: one of each pair fails
				o := shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
				errs[i] = db.CreateOrder(ctx, &o)
			}()
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				if shop.ErrorCode(err) != shop.ECONFLICT {
					t.Fatalf("unexpected error %v", err)
				}
				failed++
			}
		}
		_, n, _ := db.ListOrders(ctx, shop.OrderFilter{})
		if failed != 20 || n != 20 {
			t.Fatalf("%d failed, %d stored; want 20 and 20", failed, n)
		}
	})
}

// TestNewDatabaseFileMode: a database file (and its WAL files) made by Open
// is readable by its owner only.
func TestNewDatabaseFileMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
}
