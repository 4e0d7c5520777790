package faultsuite

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shoptest"

	_ "modernc.org/sqlite"
)

// apis are the protocols of the shop's server-side calls (--alipay-api)
// that the scenarios with queries, refunds and closes run under.
var apis = []string{"v2", "v3"}

func apiFlag(api string) []string { return []string{"--alipay-api", api} }

// Flags of a shop whose reconciler stays out of the way (it would query
// within the hour), so a scenario sees what notifications alone do.
var quietReconciler = []string{"--reconcile-after", "1h", "--jobs-poll", "100ms"}

// Scenario 1: the sandbox drops every notification. After 26 hours of
// sandbox clock every delivery attempt has failed; the shop is restarted
// (the server was down while buyers paid) and its reconciler's start-up run
// finds every payment.
func TestScenario1DroppedNotifications(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) { t.Parallel(); scenario1(t, api) })
	}
}

func scenario1(t *testing.T, api string) {
	h := newHarness(t, append(apiFlag(api), quietReconciler...)...)
	h.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	const paid, opened, never = 40, 8, 4
	var paidNos []string
	for i := 0; i < paid+opened+never; i++ {
		no, err := h.order(i < paid+opened)
		if err != nil {
			t.Fatal(err)
		}
		if i < paid {
			h.pay(no)
			paidNos = append(paidNos, no)
		}
	}
	h.advance(26 * time.Hour)
	total, acked, _ := h.attempts()
	if acked != 0 || total < paid*h.sb.MaxAttempts() {
		t.Fatalf("sandbox log: %d attempts, %d acked; want every one of %d×%d dropped", total, acked, paid, h.sb.MaxAttempts())
	}
	for _, no := range paidNos {
		if st, err := h.apiOrder(no); err != nil || st != "unpaid" {
			t.Fatalf("order %s is %q (%v) although no notification arrived", no, st, err)
		}
	}
	h.restart()
	h.waitFor("the reconciler to find every payment", time.Minute, func() (bool, string) {
		n := 0
		for _, no := range paidNos {
			if st, _ := h.apiOrder(no); st == "paid" {
				n++
			}
		}
		return n == paid, fmt.Sprintf("%d of %d paid", n, paid)
	})
	h.stop()
	r := h.check()
	r.must(t)
	summary(t, "scenario 1 (%s): %d payments, %d notification attempts dropped over 26h, %d paid by the reconciler, %d lost, %d applied twice",
		api, paid, total, r.paid, r.lost, r.twice)
}

// Scenario 2: a storm of 500 payments while the shop is SIGKILLed at random
// moments (at least 3 times) and restarted on the same data directory.
func TestScenario2KillStorm(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "--reconcile-after", "2s", "--retry-unknown", "1s", "--jobs-poll", "200ms", "--sweep-every", "500ms")
	const payments, buyers = 500, 8
	rng := rand.New(rand.NewPCG(testSeed(t), 7))
	killAt := []int64{40 + rng.Int64N(100), 200 + rng.Int64N(100), 330 + rng.Int64N(100), 440 + rng.Int64N(50)}
	t.Logf("kills after %v payments", killAt)

	var done, failedOrders atomic.Int64
	var mu sync.Mutex
	var paidNos []string
	var wg sync.WaitGroup
	next := make(chan struct{}, payments)
	for i := 0; i < payments; i++ {
		next <- struct{}{}
	}
	close(next)
	for b := 0; b < buyers; b++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				for {
					no, err := h.order(true)
					if err != nil {
						// The shop died under the request (or the order was
						// stored but the answer lost): the buyer tries again.
						failedOrders.Add(1)
						time.Sleep(20 * time.Millisecond)
						continue
					}
					if _, err := h.sb.Pay(h.app.AppID, no, ""); err != nil {
						t.Errorf("pay %s: %v", no, err)
						return
					}
					mu.Lock()
					paidNos = append(paidNos, no)
					mu.Unlock()
					done.Add(1)
					break
				}
			}
		}()
	}
	kills := 0
	for _, at := range killAt {
		for done.Load() < at && done.Load() < payments {
			time.Sleep(time.Duration(1+rng.IntN(5)) * time.Millisecond)
		}
		if done.Load() >= payments {
			break
		}
		h.kill()
		kills++
		time.Sleep(time.Duration(50+rng.IntN(150)) * time.Millisecond) // down for a moment: deliveries fail
		h.start()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Alipay's retries (4m, 10m, …) and the reconciler's queries catch up.
	h.advance(26 * time.Hour)
	h.waitFor("every payment to reach the shop", 2*time.Minute, func() (bool, string) {
		n := 0
		for _, no := range paidNos {
			if st, _ := h.apiOrder(no); st == "paid" {
				n++
			}
		}
		return n == len(paidNos), fmt.Sprintf("%d of %d paid", n, len(paidNos))
	})
	h.stop()
	r := h.check()
	r.must(t)
	if kills < 3 {
		t.Errorf("only %d kills", kills)
	}
	if r.paid != payments {
		t.Errorf("%d trades paid at the sandbox, want %d", r.paid, payments)
	}
	total, acked, _ := h.attempts()
	summary(t, "scenario 2: %d payments, %d kills (SIGKILL), %d order requests cut by a kill, %d of %d deliveries failed, %d paid by notification and %d by query, %d lost, %d applied twice",
		r.paid, kills, failedOrders.Load(), total-acked, total, r.paidByNotify, r.paid-r.paidByNotify, r.lost, r.twice)
}

// Scenario 3: every notification is delivered 5 times and out of order
// (each held until the trade's next notification has gone), with payments
// confirmed by the buyers' return pages and refunds made meanwhile.
func TestScenario3DuplicatedReordered(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) { t.Parallel(); scenario3(t, api) })
	}
}

func scenario3(t *testing.T, api string) {
	h := newHarness(t, append(apiFlag(api), quietReconciler...)...)
	// Some refund answers are lost too (20000 after the refund is made),
	// and the shop's own retry is an hour away: the refund notifications
	// are what settles those refunds.
	h.faults(sandbox.Fault{Kind: sandbox.KindDuplicate, Times: 5}, sandbox.Fault{Kind: sandbox.KindReorder},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "20000", Count: 8})
	const n = 24
	var nos []string
	for i := 0; i < n; i++ {
		no, err := h.order(true)
		if err != nil {
			t.Fatal(err)
		}
		ret := h.pay(no)
		// The buyer comes back: the verified return plus a query pays the
		// order while its notification is held back.
		resp, err := h.browser.Get(ret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		nos = append(nos, no)
	}
	admin := h.admin()
	for i, no := range nos {
		switch i % 3 {
		case 0: // full refund
			h.refund(admin, no, alipay.MustAmount("10.00"), "全额退款")
		case 1: // two partial refunds
			h.refund(admin, no, alipay.MustAmount("3.00"), "部分退款")
			h.refund(admin, no, alipay.MustAmount("2.50"), "")
		}
	}
	h.advance(2 * time.Hour) // release whatever is still held
	h.waitFor("every notification delivered", time.Minute, func() (bool, string) {
		states := h.noteStates()
		return states["pending"]+states["held"]+states["failed"] == 0, fmt.Sprint(states)
	})
	h.stop()
	total, acked, _ := h.attempts()
	r := h.check()
	r.must(t)
	// The 8 whose answer was lost can only be settled by their notification
	// (the shop's own retry is an hour away); others may be too, when the
	// notification beats the answer.
	if r.refundsByNotify < 8 {
		t.Errorf("%d refunds settled by their notification, want at least the 8 whose answer was lost", r.refundsByNotify)
	}
	summary(t, "scenario 3 (%s): %d payments, %d refunds (%d settled by a notification), %d deliveries (each notification 5 times, out of order), %d acknowledged, %d lost, %d applied twice",
		api, r.paid, r.refunds, r.refundsByNotify, total, acked, r.lost, r.twice)
}

// Scenario 4: close and refund calls that answer 20000 or time out after
// their effect was committed at the sandbox.
func TestScenario4UnknownOutcomes(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) { t.Parallel(); scenario4(t, api) })
	}
}

func scenario4(t *testing.T, api string) {
	h := newHarness(t, append(apiFlag(api), "--order-ttl", "2s", "--expire-grace", "500ms", "--reconcile-after", "1h",
		"--retry-unknown", "1s", "--jobs-poll", "100ms", "--sweep-every", "200ms")...)
	delay := sandbox.Duration(200 * time.Millisecond)
	h.faults(
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.close", Error: "20000", Count: 2},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.close", Error: "timeout", Delay: delay, Count: 2},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "20000", Count: 3},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "timeout", Delay: delay, Count: 3},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "ACQ.SYSTEM_ERROR", Count: 2},
	)
	// A client of the same app, to open cashiers without time_expire: the
	// sandbox then keeps the trade waiting, so the shop's close is what
	// closes it (and its answer is what the fault replaces).
	cl, err := alipay.New(alipay.Config{AppID: h.app.AppID, PrivateKey: h.appKey, AlipayPublicKey: h.sb.PublicKey(),
		Gateway: h.sbURL + "/gateway.do", NotifyURL: h.shopURL + "/alipay/notify"})
	if err != nil {
		t.Fatal(err)
	}
	var unpaid, paid []string
	for i := 0; i < 6; i++ {
		no, err := h.order(false)
		if err != nil {
			t.Fatal(err)
		}
		u, err := cl.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: no, TotalAmount: alipay.MustAmount("10.00"), Subject: "故障注入测试商品"})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.open(u); err != nil {
			t.Fatal(err)
		}
		unpaid = append(unpaid, no)
	}
	for i := 0; i < 6; i++ {
		no, err := h.order(true)
		if err != nil {
			t.Fatal(err)
		}
		h.pay(no)
		paid = append(paid, no)
	}
	h.waitFor("payments notified", 30*time.Second, func() (bool, string) {
		for _, no := range paid {
			if st, _ := h.apiOrder(no); st != "paid" {
				return false, no + " is " + st
			}
		}
		return true, ""
	})
	admin := h.admin()
	for i, no := range paid {
		if i%2 == 0 {
			h.refund(admin, no, alipay.MustAmount("10.00"), "全额退款")
		} else {
			h.refund(admin, no, alipay.MustAmount("4.00"), "部分退款")
			h.refund(admin, no, alipay.MustAmount("6.00"), "")
		}
	}
	h.waitFor("expired orders closed and refunds settled", time.Minute, func() (bool, string) {
		for _, no := range unpaid {
			if st, _ := h.apiOrder(no); st != "closed" {
				return false, no + " is " + st
			}
		}
		for _, no := range paid {
			if st, _ := h.apiOrder(no); st != "refunded" {
				return false, no + " is " + st
			}
		}
		return true, ""
	})
	used := 0
	for _, f := range h.sb.Faults() {
		if f.Used != f.Count {
			t.Errorf("fault %s %s %s used %d of %d times", f.Kind, f.Method, f.Error, f.Used, f.Count)
		}
		used += f.Used
	}
	h.stop()
	for _, no := range unpaid {
		if tv, _ := h.sb.Trade(h.app.AppID, no); tv.TradeStatus != string(alipay.TradeStatusClosed) {
			t.Errorf("sandbox trade %s: %s", no, tv.TradeStatus)
		}
	}
	r := h.check()
	r.must(t)
	summary(t, "scenario 4 (%s): %d closes and %d refunds, %d answered 20000/ACQ.SYSTEM_ERROR/timeout after committing; final states match the sandbox: %d closed, %d refunded, %d lost, %d applied twice",
		api, len(unpaid), r.refunds, used, r.closed, len(paid), r.lost, r.twice)
}

// Scenario 5: a genuinely signed notification with a wrong amount: the
// order is not paid and is flagged for review; the notification is not
// acknowledged.
func TestScenario5WrongAmount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, quietReconciler...)
	h.faults(sandbox.Fault{Kind: sandbox.KindWrongAmount})
	const n = 5
	var nos []string
	for i := 0; i < n; i++ {
		no, err := h.order(true)
		if err != nil {
			t.Fatal(err)
		}
		h.pay(no)
		nos = append(nos, no)
	}
	h.waitFor("the first attempts", 30*time.Second, func() (bool, string) {
		_, _, by := h.attempts()
		for _, no := range nos {
			if len(by[no]) == 0 {
				return false, no
			}
		}
		return true, ""
	})
	_, acked, _ := h.attempts()
	if acked != 0 {
		t.Errorf("%d notifications with a wrong amount acknowledged", acked)
	}
	db := h.openDB()
	flagged := 0
	for _, no := range nos {
		o, err := db.Order(h.ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != "unpaid" {
			t.Errorf("order %s paid by a notification with a wrong amount: %s", no, o.Status)
		}
		if o.NeedsReview {
			flagged++
		}
	}
	db.Close()
	if flagged != n {
		t.Errorf("%d of %d orders flagged for review", flagged, n)
	}
	// The trades are really paid (with the right amount): the reconciler's
	// query, at the next start, settles them; the flag stays for a person.
	h.sb.ClearFaults()
	h.restart()
	h.waitFor("the reconciler", 30*time.Second, func() (bool, string) {
		for _, no := range nos {
			if st, _ := h.apiOrder(no); st != "paid" {
				return false, no + " " + st
			}
		}
		return true, ""
	})
	h.stop()
	r := h.check()
	r.must(t)
	summary(t, "scenario 5: %d notifications with a wrong amount, %d acknowledged, %d orders flagged for review, 0 paid by them; %d lost, %d applied twice",
		n, acked, flagged, r.lost, r.twice)
}

// Scenario 6: the database refuses writes for a while (another process
// holds its write lock): the notification is not acknowledged, Alipay's
// retry delivers it later, nothing is lost.
func TestScenario6DatabaseLocked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, quietReconciler...)
	const n = 4
	var nos []string
	for i := 0; i < n; i++ {
		no, err := h.order(true)
		if err != nil {
			t.Fatal(err)
		}
		nos = append(nos, no)
	}
	lock, err := sql.Open("sqlite", "file:"+filepath.Join(h.dir, "data", "alishop.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(h.ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	for _, no := range nos {
		h.pay(no)
	}
	h.waitFor("refused deliveries", time.Minute, func() (bool, string) {
		_, _, by := h.attempts()
		for _, no := range nos {
			if len(by[no]) == 0 || by[no][0].HTTPStatus == 0 && by[no][0].Error == "" {
				return false, no
			}
		}
		return true, ""
	})
	// The sandbox may give up waiting (a timeout) before the shop answers:
	// the lock is kept until the shop has answered every delivery, so that
	// none of its writes is still waiting for it.
	h.waitFor("the shop's answers", 2*time.Minute, func() (bool, string) {
		b, _ := os.ReadFile(h.logPath)
		got := strings.Count(string(b), "path=/alipay/notify status=")
		return got >= n, fmt.Sprintf("%d of %d answered", got, n)
	})
	_, ackedLocked, _ := h.attempts()
	if _, err := conn.ExecContext(h.ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	for _, no := range nos {
		if st, _ := h.apiOrder(no); st != "unpaid" {
			t.Errorf("order %s is %s while its notification could not be stored", no, st)
		}
	}
	h.advance(5 * time.Minute) // Alipay's first retry (+4m)
	h.waitFor("the retries", 30*time.Second, func() (bool, string) {
		for _, no := range nos {
			if st, _ := h.apiOrder(no); st != "paid" {
				return false, no + " " + st
			}
		}
		return true, ""
	})
	total, acked, _ := h.attempts()
	h.stop()
	r := h.check()
	r.must(t)
	if ackedLocked != 0 {
		t.Errorf("%d notifications acknowledged while the database was locked", ackedLocked)
	}
	summary(t, "scenario 6: %d payments notified while the database was locked: %d acknowledged then, %d delivered by Alipay's retry (%d attempts); %d lost, %d applied twice",
		n, ackedLocked, acked, total, r.lost, r.twice)
}

// Scenario 7: two shop processes on one database (one data directory),
// both running the reconciler, both making every unpaid order due at
// start-up: each order's job runs once, in one process or the other.
func TestScenario7TwoProcessesOneDatabase(t *testing.T) {
	t.Parallel()
	h := newHarness(t, quietReconciler...)
	h.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	const n = 40
	var nos []string
	for i := 0; i < n; i++ {
		no, err := h.order(true)
		if err != nil {
			t.Fatal(err)
		}
		h.pay(no)
		nos = append(nos, no)
	}
	h.stop()
	addrB := shoptest.FreeAddrBeside(t, h.addr)
	var wg sync.WaitGroup
	var b *exec.Cmd
	wg.Add(1)
	go func() { defer wg.Done(); b = h.spawn(addrB) }()
	h.start()
	wg.Wait()
	defer func() { _ = b.Process.Kill(); _ = b.Wait() }()
	h.waitFor("both reconcilers", time.Minute, func() (bool, string) {
		paid := 0
		for _, no := range nos {
			if st, _ := h.apiOrder(no); st == "paid" {
				paid++
			}
		}
		return paid == n, fmt.Sprintf("%d of %d paid", paid, n)
	})
	h.stop()
	_ = b.Process.Signal(syscall.SIGTERM)
	_ = b.Wait()
	db := h.openDB()
	queries := map[string]int{}
	var after int64
	for {
		ns, err := db.Notifications(h.ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) == 0 {
			break
		}
		for _, x := range ns {
			after = x.ID
			if x.Method == "alipay.trade.query" {
				queries[x.OutTradeNo]++
			}
		}
	}
	left, err := db.Jobs(h.ctx, "order", false)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	runs, twice := 0, 0
	for _, no := range nos {
		runs += queries[no]
		if queries[no] != 1 {
			twice++
			t.Errorf("order %s queried %d times", no, queries[no])
		}
	}
	if len(left) != 0 {
		t.Errorf("%d order jobs not done", len(left))
	}
	r := h.check()
	r.must(t)
	summary(t, "scenario 7: 2 processes on one database, %d order jobs due at once in both, %d runs, %d run twice; %d lost, %d applied twice",
		n, runs, twice, r.lost, r.twice)
}
