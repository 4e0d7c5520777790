package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/audit"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// report is what the invariant check counted.
type report struct {
	orders, trades, paidRemote, paidLocal int
	refundsRemote, refundsLocal, pending  int
	lost, twice, wrong                    int
	payLatency                            []time.Duration // sandbox pay → payment recorded applied by the shop
	byQuery                               int             // payments the shop found by querying (notification lost)
	settle                                time.Duration
	problems                              []string
}

func (rep *report) problem(format string, args ...any) {
	if len(rep.problems) < 20 {
		rep.problems = append(rep.problems, fmt.Sprintf(format, args...))
	}
}

func (rep *report) ok() bool { return rep.lost == 0 && rep.twice == 0 && rep.wrong == 0 }

// settled: nothing left to wait for (an applied-twice is final).
func (rep *report) settled() bool { return rep.lost == 0 && rep.wrong == 0 && rep.pending == 0 }

// settleAndCheck waits (up to --settle) for the shop to catch up with every
// payment and refund the sandbox made, then returns the final check. When
// nothing moves for 15 s the sandbox clock is advanced 5 minutes, which
// sends the notification retries that are due by Alipay's schedule (the
// first retry comes 4 minutes after a failed delivery).
func (r *loadRun) settleAndCheck(ctx context.Context, res runResult) (*report, error) {
	t0 := time.Now()
	deadline := t0.Add(r.cfg.settle)
	last, lastMove := "", time.Now()
	for {
		rep, err := r.check(ctx)
		if err != nil {
			return nil, err
		}
		rep.settle = time.Since(t0)
		if rep.settled() || time.Now().After(deadline) || ctx.Err() != nil {
			return rep, nil
		}
		state := fmt.Sprint(rep.lost, rep.wrong, rep.pending)
		if state != last {
			last, lastMove = state, time.Now()
			r.logf("settling: %d payments not yet applied, %d refunds pending, %d differences", rep.lost, rep.pending, rep.wrong)
		} else if time.Since(lastMove) > 15*time.Second {
			r.logf("settling: no change for 15 s; advancing the sandbox clock 5m (notification retries)")
			resp, err := http.PostForm(r.sandbox.url+"/api/clock/advance", url.Values{"d": {"5m"}})
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			lastMove = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// check compares every sandbox trade of the app with the shop's orders:
// the same payments, each applied once; the same refunds, each applied
// once. Every trade comes from an order the shop stored first, so the
// shop's orders list every trade.
func (r *loadRun) check(ctx context.Context) (*report, error) {
	resp, err := http.Get(r.sandbox.url + "/api/trades?app_id=" + url.QueryEscape(r.appID))
	if err != nil {
		return nil, err
	}
	var tl struct {
		Trades []sandbox.TradeView `json:"trades"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tl)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("sandbox trades: %w", err)
	}
	trades := map[string]sandbox.TradeView{}
	for _, t := range tl.Trades {
		trades[t.OutTradeNo] = t
	}

	db, err := store.Open(ctx, r.dsn, store.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	orders, err := audit.Orders(ctx, db)
	if err != nil {
		return nil, err
	}
	// Every state change recorded as applied: payments per order, refunds
	// per out_request_no.
	applied, err := audit.ReadApplied(ctx, db)
	if err != nil {
		return nil, err
	}
	pays, paidAt, settles := applied.Pays, applied.FirstPaid, applied.Settles
	rep := &report{orders: len(orders), trades: len(trades), byQuery: applied.PaysBy[shop.SourceQuery]}
	r.mu.Lock()
	payAt := make(map[string]time.Time, len(r.payAt))
	for k, v := range r.payAt {
		payAt[k] = v
	}
	r.mu.Unlock()

	seen := map[string]bool{}
	for _, o := range orders {
		seen[o.OutTradeNo] = true
		tv, ok := trades[o.OutTradeNo]
		local := o.Status == shop.StatusPaid || o.Status == shop.StatusPartiallyRefunded || o.Status == shop.StatusRefunded
		if local {
			rep.paidLocal++
		}
		if pays[o.OutTradeNo] > 1 {
			rep.twice++
			rep.problem("order %s: payment applied %d times", o.OutTradeNo, pays[o.OutTradeNo])
		}
		if !ok {
			if local {
				rep.wrong++
				rep.problem("order %s is %s but the sandbox has no trade", o.OutTradeNo, o.Status)
			}
			continue
		}
		remote := tv.GmtPayment != ""
		switch {
		case remote && !local:
			rep.lost++
			rep.problem("trade %s paid at the sandbox (%s), order %s", o.OutTradeNo, tv.TradeStatus, o.Status)
		case !remote && local:
			rep.wrong++
			rep.problem("trade %s not paid at the sandbox (%s), order %s", o.OutTradeNo, tv.TradeStatus, o.Status)
		}
		if remote {
			rep.paidRemote++
			if at, ok := payAt[o.OutTradeNo]; ok && !paidAt[o.OutTradeNo].IsZero() {
				rep.payLatency = append(rep.payLatency, max(0, paidAt[o.OutTradeNo].Sub(at)))
			}
		}
		if o.RefundedFen != tv.RefundFee {
			rep.wrong++
			rep.problem("order %s refunded %s, sandbox %s", o.OutTradeNo, o.RefundedFen, tv.RefundFee)
		}
		rs, err := db.OrderRefunds(ctx, o.OutTradeNo)
		if err != nil {
			return nil, err
		}
		succeeded := map[string]alipay.Amount{}
		for _, rf := range rs {
			switch rf.Status {
			case shop.RefundSucceeded:
				succeeded[rf.OutRequestNo] = rf.Amount
				rep.refundsLocal++
			case shop.RefundPending:
				rep.pending++
			}
			if settles[rf.OutRequestNo] > 1 {
				rep.twice++
				rep.problem("refund %s applied %d times", rf.OutRequestNo, settles[rf.OutRequestNo])
			}
		}
		for _, rv := range tv.Refunds {
			rep.refundsRemote++
			if a, ok := succeeded[rv.OutRequestNo]; !ok || a != rv.RefundAmount {
				rep.wrong++
				rep.problem("sandbox refund %s of %s (%s): shop has %v", rv.OutRequestNo, o.OutTradeNo, rv.RefundAmount, a)
			}
			delete(succeeded, rv.OutRequestNo)
		}
		for no := range succeeded {
			rep.wrong++
			rep.problem("shop refund %s of %s is not at the sandbox", no, o.OutTradeNo)
		}
	}
	for no := range trades {
		if !seen[no] {
			rep.wrong++
			rep.problem("sandbox trade %s has no order in the shop", no)
		}
	}
	return rep, nil
}

// pct returns the p-th percentile (0 < p <= 100) of ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func (r *loadRun) report(w io.Writer, res runResult, rep *report) {
	cfg := r.cfg
	r.mu.Lock()
	defer r.mu.Unlock()
	kills := fmt.Sprint(r.kills)
	if len(r.restarts) > 0 {
		kills += fmt.Sprintf(" (restart to listening p50 %s, max %s)", pct(r.restarts, 50).Round(time.Millisecond), pct(r.restarts, 100).Round(time.Millisecond))
	}
	fmt.Fprintf(w, "\nalishop-load: %d instance(s) on one PostgreSQL schema, %.1f orders/s offered for %s, SIGKILL every %s\n",
		cfg.instances, cfg.rate, cfg.duration, cfg.killEvery)
	fmt.Fprintf(w, "orders:     %d offered, %d skipped (max in flight), %d checkouts, %d checkout errors, %d payment errors\n",
		r.offered, r.skipped.Load(), len(r.checkouts), r.checkoutErr.Load(), r.payErr.Load())
	fmt.Fprintf(w, "throughput: %.1f orders/s paid at the sandbox (%d in %s)\n",
		float64(len(r.payAt))/res.elapsed.Seconds(), len(r.payAt), res.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "latency:    checkout p50 %s p99 %s; payment → applied in the shop p50 %s p99 %s max %s\n",
		ms(pct(r.checkouts, 50)), ms(pct(r.checkouts, 99)), ms(pct(rep.payLatency, 50)), ms(pct(rep.payLatency, 99)), ms(pct(rep.payLatency, 100)))
	fmt.Fprintf(w, "kills:      %s\n", kills)
	fmt.Fprintf(w, "refunds:    %d asked, %d cut off (left to their jobs)\n", r.refundAsked.Load(), r.refundErr.Load())
	fmt.Fprintf(w, "settled:    %s after the run; %d payments found by query (notification lost)\n", rep.settle.Round(100*time.Millisecond), rep.byQuery)
	if len(r.errs) > 0 {
		var lines []string
		for k, v := range r.errs {
			lines = append(lines, fmt.Sprintf("  %4d× %s", v, k))
		}
		slices.Sort(lines)
		if len(lines) > 10 {
			lines = lines[:10]
		}
		fmt.Fprintf(w, "errors seen by clients:\n%s\n", strings.Join(lines, "\n"))
	}
	fmt.Fprintf(w, "invariant:  %d sandbox trades, %d paid there, %d paid in the shop; %d refunds there, %d in the shop, %d pending\n",
		rep.trades, rep.paidRemote, rep.paidLocal, rep.refundsRemote, rep.refundsLocal, rep.pending)
	fmt.Fprintf(w, "            %d lost, %d applied twice, %d wrong\n", rep.lost, rep.twice, rep.wrong)
	for _, p := range rep.problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if rep.ok() {
		fmt.Fprintln(w, "OK: every sandbox payment paid exactly once in the shop, every refund applied once")
	}
}
