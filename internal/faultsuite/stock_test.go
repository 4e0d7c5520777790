package faultsuite

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
	"alishop/internal/store/pgtest"
)

// expiringFlags make unpaid orders expire after 10 s and the reconciler
// close them soon after (alipay.trade.close, ACQ.TRADE_NOT_EXIST for a
// cashier never opened), which gives their stock back.
var expiringFlags = []string{"--order-ttl", "10s", "--expire-grace", "500ms", "--reconcile-after", "1h",
	"--retry-unknown", "1s", "--jobs-poll", "100ms", "--sweep-every", "200ms"}

// stockGoods puts shipped goods with a stock of n on sale in the database
// at dsn and returns their id.
func stockGoods(h *harness, dsn string, n int64) int64 {
	h.t.Helper()
	db, err := store.Open(h.ctx, dsn, store.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	g := shop.Goods{Name: "限量机械键盘", Price: alipay.MustAmount("399.00"), Stock: &n, Shipping: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateGoods(h.ctx, &g); err != nil {
		h.t.Fatal(err)
	}
	return g.ID
}

// checkoutForm is 确认订单 as a buyer submits it for one of goods id.
func checkoutForm(id int64, i int) url.Values {
	return url.Values{"goods_id": {fmt.Sprint(id)}, "quantity": {"1"}, "name": {fmt.Sprintf("买家%d", i)},
		"phone": {fmt.Sprintf("138%08d", i)}, "address": {fmt.Sprintf("浙江省杭州市西湖区文三路 %d 号", i)}}
}

// stockCounts is what the database holds of one goods item's orders.
type stockCounts struct {
	orders, unpaid, closed, paid int
	stock                        int64
	messages                     int
}

func (h *harness) stockCounts(dsn string, goodsID int64) stockCounts {
	h.t.Helper()
	db, err := store.Open(h.ctx, dsn, store.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	var c stockCounts
	orders, _, err := db.ListOrders(h.ctx, shop.OrderFilter{Limit: 500})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, o := range orders {
		if o.GoodsID != goodsID {
			continue
		}
		c.orders++
		switch o.Status {
		case shop.StatusUnpaid:
			c.unpaid++
		case shop.StatusClosed:
			c.closed++
		case shop.StatusPaid:
			c.paid++
		}
	}
	g, err := db.Goods(h.ctx, goodsID)
	if err != nil {
		h.t.Fatal(err)
	}
	c.stock = *g.Stock
	ns, err := db.Notifications(h.ctx, 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	c.messages = len(ns)
	return c
}

// race posts n checkouts of goods id at once, spread over the shops, and
// counts the answers: 303 to the gateway (an order), 409 库存不足, others.
func (h *harness) race(shops []string, id int64, n int) (made, short int, other []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := h.browser.PostForm(shops[i%len(shops)]+"/orders", checkoutForm(id, i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				other = append(other, err.Error())
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusSeeOther && strings.Contains(resp.Header.Get("Location"), "/gateway.do"):
				made++
			case resp.StatusCode == http.StatusConflict && strings.Contains(string(body), "库存不足"):
				short++
			default:
				other = append(other, fmt.Sprintf("HTTP %d %.200s", resp.StatusCode, body))
			}
		})
	}
	close(start)
	wg.Wait()
	return made, short, other
}

// stockRace is acceptance 2 of the stock work on the shops given (all on
// the database dsn): goods with a stock of 5, 40 checkouts at once → 5
// orders, 35 库存不足, nothing else stored; once those 5 expire unpaid
// and are closed, the stock is 5 again.
func stockRace(t *testing.T, h *harness, dsn, what string, shops []string) {
	id := stockGoods(h, dsn, 5)
	const n = 40
	made, short, other := h.race(shops, id, n)
	for _, o := range other {
		t.Errorf("a checkout answered %s", o)
	}
	// Nothing but the 5 orders is stored (and, should some have expired
	// already under a slow machine, their closes: one answer of Alipay
	// each, their stock given back).
	c := h.stockCounts(dsn, id)
	if made != 5 || short != n-5 || c.orders != 5 || c.unpaid+c.closed != 5 || c.stock != int64(c.closed) || c.messages != c.closed {
		t.Fatalf("%d checkouts of a stock of 5: %d orders made, %d 库存不足, %d other; stored: %+v", n, made, short, len(other), c)
	}
	h.waitFor("the 5 orders closed unpaid", 2*time.Minute, func() (bool, string) {
		c = h.stockCounts(dsn, id)
		return c.closed == 5 && c.stock == 5, fmt.Sprintf("%+v", c)
	})
	summary(t, "stock race (%s): %d checkouts at once of a stock of 5 over %d process(es): %d orders, %d 库存不足, %d other; after expiry %d closed, stock %d",
		what, n, len(shops), made, short, len(other), c.closed, c.stock)
}

// TestStockRaceSQLite: the stock race on one process on SQLite.
func TestStockRaceSQLite(t *testing.T) {
	t.Parallel()
	h := newHarness(t, expiringFlags...)
	stockRace(t, h, filepath.Join(h.dir, "data", "alishop.db"), "SQLite", []string{h.shopURL})
}

// TestStockRaceThreeProcessesPostgres: the stock race over three shop
// processes on one PostgreSQL database.
func TestStockRaceThreeProcessesPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	h := newHarness(t, append([]string{"--db", dsn}, expiringFlags...)...)
	shops := []string{h.shopURL}
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := h.spawn(addr)
		t.Cleanup(func() { stopCmd(cmd) })
		shops = append(shops, "http://"+addr)
	}
	stockRace(t, h, dsn, "PostgreSQL", shops)
}

// stopCmd stops a shop process started by spawn.
func stopCmd(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
