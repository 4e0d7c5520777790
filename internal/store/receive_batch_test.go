package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// TestReceiveBatches: many Receives at once, as a busy shop gets them (and
// as the PostgreSQL receivers batch them): fresh payments, each delivered
// three times at once; refunds settled by their notifications while other
// payments come in; closes; review flags; messages without an order; and a
// job whose decision cannot be applied (it pays an order already paid),
// which must fail alone. Every payment and refund is applied exactly once,
// every message is recorded once, and the failing one leaves no trace.
func TestReceiveBatches(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		g := goods(t, db, "课程", 1000, false)
		const n = 40
		mk := func(no string) {
			o := shop.Order{OutTradeNo: no, GoodsID: g.ID, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateOrder(ctx, &o); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			mk(fmt.Sprintf("p%02d", i)) // paid below, three deliveries each
			mk(fmt.Sprintf("c%02d", i)) // closed below
		}
		// Paid orders with a pending refund each, settled below.
		for i := range n / 2 {
			no := fmt.Sprintf("r%02d", i)
			paidOrder(t, db, no, 1000, now)
			r := shop.Refund{OutTradeNo: no, OutRequestNo: "R" + no, Amount: 300, CreatedAt: now}
			if err := db.CreateRefund(ctx, &r, now.Add(time.Hour), allowRefund(&r)); err != nil {
				t.Fatal(err)
			}
		}

		pay := func(no string) shop.Decide {
			return func(o *shop.Order, _ *shop.Refund) shop.Decision {
				if o.Status != shop.StatusUnpaid {
					return shop.Decision{Outcome: shop.OutcomeDuplicate, Ack: true}
				}
				return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true,
					Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T" + no, PaidAt: now, Via: shop.SourceNotify}}
			}
		}
		type call struct {
			m      *shop.Inbound
			decide shop.Decide
			want   shop.Outcome // "" when it may be applied or duplicate; "fail" when it must fail
		}
		var calls []call
		msg := func(no, detail string) *shop.Inbound {
			return &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now, Method: "POST", Body: []byte(detail),
				Verified: true, NotifyID: "n-" + detail, OutTradeNo: no, TradeStatus: "TRADE_SUCCESS"}
		}
		for i := range n {
			no := fmt.Sprintf("p%02d", i)
			for k := range 3 {
				calls = append(calls, call{m: msg(no, fmt.Sprintf("%s-%d", no, k)), decide: pay(no)})
			}
			cno := fmt.Sprintf("c%02d", i)
			calls = append(calls, call{m: msg(cno, cno), want: shop.OutcomeApplied, decide: func(o *shop.Order, _ *shop.Refund) shop.Decision {
				d := shop.Decision{Outcome: shop.OutcomeApplied, Ack: true, Close: true}
				if i%4 == 0 {
					d.Review = "复核 " + cno
				}
				return d
			}})
			calls = append(calls, call{m: msg("", fmt.Sprintf("bad-%d", i)), want: shop.OutcomeBadSignature, decide: func(o *shop.Order, _ *shop.Refund) shop.Decision {
				if o != nil {
					t.Errorf("a message without an order got one: %+v", o)
				}
				return shop.Decision{Outcome: shop.OutcomeBadSignature}
			}})
		}
		for i := range n / 2 {
			no := fmt.Sprintf("r%02d", i)
			m := msg(no, "refund-"+no)
			m.OutRequestNo = "R" + no
			calls = append(calls, call{m: m, want: shop.OutcomeApplied, decide: func(o *shop.Order, r *shop.Refund) shop.Decision {
				d := shop.RefundMade(o, r, "R"+no)
				d.Ack = true
				return d
			}})
		}
		// The same verified message without an order, twice at once: stored
		// once, seen twice.
		for range 2 {
			m := msg("", "kept")
			calls = append(calls, call{m: m, want: shop.OutcomeFailed, decide: func(o *shop.Order, _ *shop.Refund) shop.Decision {
				return shop.Decision{Outcome: shop.OutcomeFailed}
			}})
		}
		// Pays an order that is already paid: the compare-and-set finds no
		// unpaid row and the job must fail, alone.
		calls = append(calls, call{m: msg("r00", "impossible"), want: "fail", decide: func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true, Pay: &shop.Payment{OutTradeNo: "r00", TradeNo: "X", PaidAt: now, Via: "notify"}}
		}})

		results := make([]shop.Decision, len(calls))
		errs := make([]error, len(calls))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = db.Receive(ctx, c.m, c.decide)
			}()
		}
		close(start)
		wg.Wait()

		applied := map[string]int{}
		for i, c := range calls {
			switch {
			case c.want == "fail":
				if errs[i] == nil {
					t.Errorf("%s: the impossible payment was accepted: %+v", c.m.NotifyID, results[i])
				}
				continue
			case errs[i] != nil:
				t.Errorf("%s: %v", c.m.NotifyID, errs[i])
				continue
			case c.want != "" && results[i].Outcome != c.want:
				t.Errorf("%s: outcome %s, want %s", c.m.NotifyID, results[i].Outcome, c.want)
			}
			if results[i].Outcome == shop.OutcomeApplied {
				applied[c.m.OutTradeNo]++
			}
		}
		for i := range n {
			no := fmt.Sprintf("p%02d", i)
			if applied[no] != 1 {
				t.Errorf("payment of %s applied %d times", no, applied[no])
			}
			o, _ := db.Order(ctx, no)
			if o.Status != shop.StatusPaid || o.TradeNo != "T"+no {
				t.Errorf("order %s: %+v", no, o)
			}
			c, _ := db.Order(ctx, fmt.Sprintf("c%02d", i))
			if c.Status != shop.StatusClosed || c.NeedsReview != (i%4 == 0) {
				t.Errorf("order c%02d: %s, review %v", i, c.Status, c.NeedsReview)
			}
		}
		for i := range n / 2 {
			no := fmt.Sprintf("r%02d", i)
			o, _ := db.Order(ctx, no)
			r, _ := db.Refund(ctx, "R"+no)
			if o.RefundedFen != 300 || o.Status != shop.StatusPartiallyRefunded || r.Status != shop.RefundSucceeded {
				t.Errorf("order %s: %s refunded %s, refund %s", no, o.Status, o.RefundedFen, r.Status)
			}
			if o.TradeNo != "T"+no {
				t.Errorf("order %s: trade_no %q changed", no, o.TradeNo)
			}
		}
		// Every message recorded once, the failed one not at all.
		ns, err := db.Notifications(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		seen, settled := map[string]int{}, map[string]int{}
		for _, m := range ns {
			if m.Source == shop.SourceNotify {
				seen[m.NotifyID]++
			}
			if m.SettledRefund != "" {
				settled[m.SettledRefund]++
			}
			if m.NotifyID == "n-kept" && m.TimesSeen != 2 {
				t.Errorf("the message sent twice was seen %d times, want 2", m.TimesSeen)
			}
		}
		for i := range n / 2 {
			if no := fmt.Sprintf("Rr%02d", i); settled[no] != 1 {
				t.Errorf("refund %s settled by %d stored messages, want 1", no, settled[no])
			}
		}
		for _, c := range calls {
			want := 1
			if c.want == "fail" {
				want = 0
			}
			if seen[c.m.NotifyID] != want {
				t.Errorf("message %s recorded %d times, want %d", c.m.NotifyID, seen[c.m.NotifyID], want)
			}
		}
	})
}
