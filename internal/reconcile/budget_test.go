package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/jobs"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
)

// gatewayCall is one call that reached the sandbox's gateway, with the
// sandbox's clock when it arrived.
type gatewayCall struct {
	method, outTradeNo string
	at                 time.Time
}

// callCounter records the gateway.do calls that reach the sandbox while on.
type callCounter struct {
	now   func() time.Time
	mu    sync.Mutex
	on    bool
	calls []gatewayCall
}

func (c *callCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gateway.do" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			q := r.URL.Query()
			method := q.Get("method") + form.Get("method")
			var biz struct {
				OutTradeNo string `json:"out_trade_no"`
			}
			_ = json.Unmarshal([]byte(q.Get("biz_content")+form.Get("biz_content")), &biz)
			c.mu.Lock()
			if c.on {
				c.calls = append(c.calls, gatewayCall{method: method, outTradeNo: biz.OutTradeNo, at: c.now()})
			}
			c.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (c *callCounter) start() {
	c.mu.Lock()
	c.on = true
	c.mu.Unlock()
}

func (c *callCounter) snapshot() []gatewayCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// maxInAnyMinute is the most calls within any 60 s of the sandbox clock
// (times sorted).
func maxInAnyMinute(calls []gatewayCall) (peak int, from time.Time) {
	for i, j := 0, 0; i < len(calls); i++ {
		for j < len(calls) && calls[j].at.Sub(calls[i].at) < time.Minute {
			j++
		}
		if j-i > peak {
			peak, from = j-i, calls[i].at
		}
	}
	return peak, from
}

// TestGatewayBudgetFlood: 200 unpaid orders made at once (50 whose buyer
// never opened the cashier, 50 whose trade Alipay closes at time_expire,
// 50 whose trade waits until the shop closes it, 50 paid at Alipay whose
// notifications are all lost) are worked off by the reconciler with at most
// the default budget of gateway calls in any minute, counted at the sandbox
// with its clock; every order ends paid or closed, each paid one paid, and
// each closed one was queried or closed at Alipay before it was marked
// closed.
func TestGatewayBudgetFlood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	counter := &callCounter{}
	// The first query at 25 minutes, five before the orders expire: 200
	// queries fall due at once, then 200 closes (a query more for those
	// whose trade Alipay closed itself), each wave far over the budget.
	s := shoptest.NewEnv(t, shoptest.EnvOptions{WrapSandbox: counter.wrap,
		Reconcile: func(c *reconcile.Config) { c.CheckAfter = 25 * time.Minute }})
	counter.now = s.Sandbox.Now
	e := &env{t: t, sb: s.Sandbox, app: s.App, db: s.DB, client: s.Client, svc: s.Service, refunds: s.Refunds, rec: s.Reconciler,
		goods: s.Goods, browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if _, err := e.sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindDrop, AppID: e.app.AppID}}); err != nil {
		t.Fatal(err)
	}

	const perGroup = 50
	var never, expiring, waiting, paid []shop.Order
	for range perGroup {
		never = append(never, e.order(false, false))
		expiring = append(expiring, e.order(true, false))
		waiting = append(waiting, e.openWithoutExpiry())
		paid = append(paid, e.order(true, true))
	}
	all := slices.Concat(never, expiring, waiting, paid)
	counter.start()
	start := e.sb.Now()

	// Run the background work in the sandbox's time, from one due job to
	// the next (at least 10 s on), until no order job is left.
	steps, runs := 0, 0
	for ; ; steps++ {
		n, err := e.rec.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		runs += n
		_, next, ok, err := e.db.NextJob(ctx, jobs.KindOrder)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if steps > 20000 || e.sb.Now().Sub(start) > 2*time.Hour {
			t.Fatalf("order jobs still due after %d steps, %s of sandbox time", steps, e.sb.Now().Sub(start))
		}
		// Workers that poll come back to a job somewhat after its turn; ten
		// seconds at a time also keeps the steps few.
		e.advance(max(next.Sub(e.sb.Now()), 10*time.Second))
	}
	elapsed := e.sb.Now().Sub(start)

	calls := counter.snapshot()
	slices.SortStableFunc(calls, func(a, b gatewayCall) int { return a.at.Compare(b.at) })
	byMethod := map[string]int{}
	for _, c := range calls {
		byMethod[c.method]++
		switch c.method {
		case "alipay.trade.query", "alipay.trade.close":
		case "alipay.data.dataservice.bill.downloadurl.query":
			// The day's bill check falls due when the sandbox's clock passes
			// 10:00 in Beijing; it is background work too, in the budget.
		default:
			t.Errorf("call %s reached the gateway: not background work", c.method)
		}
	}
	peak, from := maxInAnyMinute(calls)
	t.Logf("200 unpaid orders: %d gateway calls %v over %s of sandbox time (%d job runs in %d steps); at most %d in any minute (from %s), budget %d",
		len(calls), byMethod, elapsed.Round(time.Second), runs, steps, peak, from.Sub(start).Round(time.Second), reconcile.DefaultGatewayBudget)
	if peak > reconcile.DefaultGatewayBudget {
		t.Errorf("%d gateway calls within one minute, budget %d", peak, reconcile.DefaultGatewayBudget)
	}
	if len(calls) < len(all) {
		t.Errorf("%d gateway calls for %d orders: some were never asked about", len(calls), len(all))
	}

	asked := map[string][]time.Time{} // out_trade_no → when it was queried or closed
	for _, c := range calls {
		asked[c.outTradeNo] = append(asked[c.outTradeNo], c.at)
	}
	for _, o := range paid {
		if got := e.get(o.OutTradeNo); got.Status != shop.StatusPaid || got.PaidVia != shop.SourceQuery {
			t.Errorf("order %s, paid at Alipay with every notification lost: %s via %q", o.OutTradeNo, got.Status, got.PaidVia)
		}
	}
	for _, o := range slices.Concat(never, expiring, waiting) {
		got := e.get(o.OutTradeNo)
		if got.Status != shop.StatusClosed {
			t.Errorf("order %s, never paid: %s", o.OutTradeNo, got.Status)
			continue
		}
		if ts := asked[o.OutTradeNo]; len(ts) == 0 || ts[0].After(got.ClosedAt) {
			t.Errorf("order %s marked closed at %s without a query or close at Alipay before (calls at %v)",
				o.OutTradeNo, got.ClosedAt.Sub(start), ts)
		}
	}
	// An order whose close Alipay refused (its trade closed at time_expire)
	// is queried next, in the same run or, when the budget is spent, in a
	// run of its own at its turn; never closed a second time.
	// An order whose turn after its time_expire came before the close's
	// (how far the flood pushes each order depends on how fast the orders
	// were made) finds its trade closed by Alipay at that query: no close is
	// needed, and none may be sent.
	putOff, closedFirst := 0, 0
	for _, o := range expiring {
		var closes, queriesAfter []time.Time
		var last time.Time
		for _, c := range calls {
			switch {
			case c.outTradeNo != o.OutTradeNo:
				continue
			case c.method == "alipay.trade.close":
				closes = append(closes, c.at)
			case len(closes) > 0:
				queriesAfter = append(queriesAfter, c.at)
			}
			last = c.at
		}
		if len(closes) == 0 && !last.IsZero() && !last.Before(o.TimeExpire) {
			closedFirst++
			continue
		}
		if len(closes) != 1 || len(queriesAfter) != 1 {
			var at []time.Duration
			for _, c := range calls {
				if c.outTradeNo == o.OutTradeNo {
					at = append(at, c.at.Sub(start).Round(time.Second))
				}
			}
			t.Errorf("order %s (created at %s, time_expire at %s): %d closes, %d queries after the first; calls at %v",
				o.OutTradeNo, o.CreatedAt.Sub(start).Round(time.Second), o.TimeExpire.Sub(start).Round(time.Second), len(closes), len(queriesAfter), at)
			continue
		}
		if queriesAfter[0].Sub(closes[0]) > time.Second {
			putOff++
		}
	}
	t.Logf("%d of %d refused closes had their query put off to a later turn; %d orders were found closed by a query after their time_expire", putOff, len(expiring), closedFirst)
	if putOff == 0 {
		t.Error("no query after a refused close waited for its turn: the flood did not reach that path")
	}
	for _, o := range waiting {
		if tr, ok := e.sb.Trade(e.app.AppID, o.OutTradeNo); !ok || tr.TradeStatus != string(alipay.TradeStatusClosed) {
			t.Errorf("order %s: the shop closed it but Alipay's trade is %q", o.OutTradeNo, tr.TradeStatus)
		}
	}
}
