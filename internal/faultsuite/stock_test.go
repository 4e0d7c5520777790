package faultsuite

import (
	"encoding/json"
	"fmt"
	"io"
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
	"alishop/internal/shoptest"
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

// stockRace races checkouts for the last items on the shops given (all on
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
		addr := shoptest.FreeAddrBeside(t, h.addr)
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

// TestStockKillBetweenReservationAndRedirect: checkouts of limited stock
// are cut by SIGKILLs, so some orders are committed (their stock reserved)
// whose buyers never got the redirect to Alipay. Nothing leaks: once the
// orders expire, every one is closed and the stock is whole again.
func TestStockKillBetweenReservationAndRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, expiringFlags...)
	dsn := filepath.Join(h.dir, "data", "alishop.db")
	const stock = 1000
	id := stockGoods(h, dsn, stock)
	answered, unanswered, rounds := 0, 0, 0
	// Each round, 24 buyers check out up to 4 times each, one after the
	// other, while the shop is killed after a delay growing with the round
	// (8 ms, 16 ms, …): on a fast machine or a slow one, some round kills the
	// shop between an order's commit and its redirect.
	for rounds < 20 && (unanswered == 0 || rounds < 3) {
		rounds++
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				for k := range 4 {
					resp, err := h.browser.PostForm(h.shopURL+"/orders", checkoutForm(id, rounds*1000+i*10+k))
					if err != nil {
						return // cut by the kill
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusSeeOther {
						mu.Lock()
						answered++
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(time.Duration(rounds*8) * time.Millisecond)
		h.kill()
		wg.Wait()
		c := h.stockCounts(dsn, id)
		unanswered = c.orders - answered
		if held := stock - c.stock; held != int64(c.unpaid) {
			t.Fatalf("round %d: stock %d for %+v", rounds, c.stock, c)
		}
		h.start()
	}
	c := h.stockCounts(dsn, id)
	if unanswered == 0 {
		t.Fatalf("%d rounds of checkouts cut by SIGKILL left no order without its redirect (%d orders, %d redirects)", rounds, c.orders, answered)
	}
	h.waitFor("every order closed and its stock given back", 2*time.Minute, func() (bool, string) {
		c = h.stockCounts(dsn, id)
		return c.closed == c.orders && c.stock == stock, fmt.Sprintf("%+v", c)
	})
	summary(t, "stock and SIGKILL: %d rounds of up to 96 checkouts (24 buyers × 4) each cut by a kill: %d orders stored, %d redirects answered, %d orders whose buyer got no redirect; after expiry %d closed, stock %d of %d (0 leaked)",
		rounds, c.orders, answered, c.orders-answered, c.closed, c.stock, stock)
}

// TestStockPaidAfterClose: an order expires unpaid and is closed (its
// stock given back and sold to another buyer); then Alipay takes the first
// buyer's payment after all. The payment is kept (the order is paid, 0
// lost), flagged for review, and the goods' stock goes below zero, by
// that path only.
func TestStockPaidAfterClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, expiringFlags...)
	dsn := filepath.Join(h.dir, "data", "alishop.db")
	id := stockGoods(h, dsn, 1)
	buy := func(i int) string {
		resp, err := h.browser.PostForm(h.shopURL+"/orders", checkoutForm(id, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("checkout: HTTP %d", resp.StatusCode)
		}
		u, _ := url.Parse(resp.Header.Get("Location"))
		var biz struct {
			OutTradeNo string `json:"out_trade_no"`
		}
		if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil {
			t.Fatal(err)
		}
		return biz.OutTradeNo
	}
	first := buy(1)
	h.waitFor("the first order closed unpaid", 2*time.Minute, func() (bool, string) {
		st, err := h.apiOrder(first)
		return st == "closed", fmt.Sprint(st, err)
	})
	if c := h.stockCounts(dsn, id); c.stock != 1 {
		t.Fatalf("stock after the close: %+v", c)
	}
	second := buy(2)
	// The first buyer's payment reaches Alipay after the close: a trade
	// opened without time_expire, so the sandbox takes it.
	cl, err := alipay.New(alipay.Config{AppID: h.app.AppID, PrivateKey: h.appKey, AlipayPublicKey: h.sb.PublicKey(),
		Gateway: h.sbURL + "/gateway.do", NotifyURL: h.shopURL + "/alipay/notify"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := cl.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: first, TotalAmount: alipay.MustAmount("399.00"), Subject: "限量机械键盘"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.open(u); err != nil {
		t.Fatal(err)
	}
	h.pay(first)
	h.waitFor("the late payment applied", time.Minute, func() (bool, string) {
		st, err := h.apiOrder(first)
		return st == "paid", fmt.Sprint(st, err)
	})
	db, err := store.Open(h.ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.Order(h.ctx, first)
	db.Close()
	if err != nil || !o.NeedsReview || o.StockHeld != 1 {
		t.Fatalf("order paid after its close: %+v %v", o, err)
	}
	if c := h.stockCounts(dsn, id); c.stock != -1 {
		t.Fatalf("stock after the late payment, with the second order holding the last one: %+v", c)
	}
	// The second order expires unpaid: its stock comes back, to 0.
	h.waitFor("the second order closed", 2*time.Minute, func() (bool, string) {
		st, err := h.apiOrder(second)
		return st == "closed", fmt.Sprint(st, err)
	})
	c := h.stockCounts(dsn, id)
	if c.stock != 0 {
		t.Fatalf("stock after the second order closed: %+v", c)
	}
	h.stop()
	r := h.check()
	r.must(t)
	summary(t, "stock and a payment after the close: kept as paid and flagged for review (%q); stock -1 while another order held the last one, 0 after it closed; %d lost, %d applied twice",
		o.ReviewReason, r.lost, r.twice)
}
