package faultsuite

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/audit"
	"alishop/internal/shop"
)

// The sandbox's buyers (docs/SANDBOX.md): the default buyer pays the
// orders; the poor buyer only receives payouts, so its balance change is
// the payouts alone.
const (
	payerLogin    = "buyer@sandbox.com"
	payerUserID   = "2088102177846880"
	poorLogin     = "poor@sandbox.com"
	poorRealName  = "沙箱穷买家"
	payoutMethod  = "alipay.fund.trans.uni.transfer"
	payoutTimeout = time.Minute
)

// payoutKey is the one-time key of the payout confirmation page.
var payoutKey = regexp.MustCompile(`name="key" value="(T[0-9a-f]+)"`)

// paidOrders makes n orders and pays them at the sandbox as the default
// buyer, then waits until the shop has them paid.
func (h *harness) paidOrders(n int) []string {
	h.t.Helper()
	var nos []string
	for i := 0; i < n; i++ {
		no, err := h.order(true)
		if err != nil {
			h.t.Fatal(err)
		}
		h.pay(no)
		nos = append(nos, no)
	}
	h.waitFor("payments notified", 30*time.Second, func() (bool, string) {
		for _, no := range nos {
			if st, _ := h.apiOrder(no); st != "paid" {
				return false, no + " is " + st
			}
		}
		return true, ""
	})
	return nos
}

// planPayout is step 1 of a payout from the admin order page; it returns
// the confirmation form (key and amount) the confirmation page carries.
func (h *harness) planPayout(c *http.Client, no string, amount alipay.Amount, typ alipay.IdentityType, payee, name string) url.Values {
	h.t.Helper()
	form := url.Values{"amount": {amount.String()}, "payee_type": {string(typ)}, "payee": {payee}, "payee_name": {name}, "reason": {"故障注入补偿"}}
	resp, err := c.PostForm(h.shopURL+"/admin/orders/"+no+"/payouts", form)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := payoutKey.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		h.t.Fatalf("payout %s %s: HTTP %d, no confirmation\n%s", no, amount, resp.StatusCode, body)
	}
	return url.Values{"key": {string(m[1])}, "amount": {amount.String()}}
}

// confirmPayout posts a payout's confirmation (step 2); the shop answers
// it with a redirect back to the order whatever Alipay said.
func (h *harness) confirmPayout(c *http.Client, no string, confirm url.Values) error {
	resp, err := c.PostForm(h.shopURL+"/admin/orders/"+no+"/payouts/confirm", confirm)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("confirm payout %s: HTTP %d\n%s", no, resp.StatusCode, body)
	}
	return nil
}

// payout reads a payout from the shop's database.
func (h *harness) payout(outBizNo string) shop.Payout {
	h.t.Helper()
	db := h.openDB()
	defer db.Close()
	p, err := db.Payout(h.ctx, outBizNo)
	if err != nil {
		h.t.Fatalf("payout %s: %v", outBizNo, err)
	}
	return p
}

// balances reads the sandbox's merchant balance of the shop's app and
// every buyer's balance (by login), checking that each equals the
// sandbox's own recomputation from its records.
func (h *harness) balances() (merchant alipay.Amount, buyers map[string]alipay.Amount) {
	h.t.Helper()
	parse := func(what, s string) alipay.Amount {
		neg := len(s) > 0 && s[0] == '-'
		if neg {
			s = s[1:]
		}
		a, err := alipay.ParseAmount(s)
		if err != nil {
			h.t.Fatalf("%s: %v", what, err)
		}
		if neg {
			a = -a
		}
		return a
	}
	b := h.sb.Balances()
	found := false
	for _, m := range b.Merchants {
		if m.Balance != m.Movements {
			h.t.Errorf("sandbox merchant %s: balance %s, records %s", m.AppID, m.Balance, m.Movements)
		}
		if m.AppID == h.app.AppID {
			merchant, found = parse("merchant balance", m.Balance), true
		}
	}
	if !found {
		h.t.Fatalf("sandbox has no merchant balance for app %s", h.app.AppID)
	}
	buyers = map[string]alipay.Amount{}
	for _, x := range b.Buyers {
		if x.Balance != x.Movements {
			h.t.Errorf("sandbox buyer %s: balance %s, records %s", x.Login, x.Balance, x.Movements)
		}
		buyers[x.Login] = parse("buyer balance", x.Balance)
	}
	return merchant, buyers
}

// transferMade asks the sandbox, as the shop's app, whether the transfer
// of outBizNo was made (alipay.fund.trans.common.query).
func (h *harness) transferMade(cl *alipay.Client, outBizNo string) bool {
	h.t.Helper()
	q, err := cl.FundTransCommonQuery(h.ctx, alipay.FundTransCommonQueryRequest{OutBizNo: outBizNo})
	if alipay.HasSubCode(err, alipay.SubCodeOrderNotExist) {
		return false
	}
	if err != nil {
		h.t.Fatalf("transfer query %s: %v", outBizNo, err)
	}
	return q.Status == alipay.TransferStatusSuccess
}

// A payout whose answer is lost is settled by its job with
// alipay.fund.trans.common.query, with nobody posting anything again. The
// transfer is made at the sandbox each time, and its answer is (a) 20000,
// (b) SYSTEM_ERROR, (c) the connection dropped without an answer, (d)
// never read because the shop was SIGKILLed while waiting for it (then
// restarted). Then the same confirmations are posted again, twice, and
// change nothing: the payee's balance rises exactly once per payout and
// each payout is recorded once, as succeeded. Over both protocols of the
// shop's server-side calls.
func TestPayoutLostAnswers(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api, func(t *testing.T) { t.Parallel(); payoutLostAnswers(t, api) })
	}
}

func payoutLostAnswers(t *testing.T, api string) {
	// Payout jobs run 2 s after an unknown answer, polled every 200 ms.
	h := newHarness(t, append(apiFlag(api), "--retry-unknown", "2s", "--jobs-poll", "200ms")...)
	nos := h.paidOrders(4)
	h.faults(
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: payoutMethod, Error: "20000", Count: 1},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: payoutMethod, Error: "ACQ.SYSTEM_ERROR", Count: 1},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: payoutMethod, Error: "timeout", Delay: sandbox.Duration(200 * time.Millisecond), Count: 1},
	)
	cl, err := alipay.New(alipay.Config{AppID: h.app.AppID, PrivateKey: h.appKey, AlipayPublicKey: h.sb.PublicKey(),
		Gateway: h.sbURL + "/gateway.do"})
	if err != nil {
		t.Fatal(err)
	}
	_, before := h.balances()
	admin := h.admin()
	amounts := []alipay.Amount{alipay.MustAmount("1.10"), alipay.MustAmount("1.20"), alipay.MustAmount("1.30"), alipay.MustAmount("1.40")}
	var want alipay.Amount
	var confirms []url.Values
	pendingAfterFirst := 0
	for i, no := range nos[:3] {
		c := h.planPayout(admin, no, amounts[i], alipay.IdentityLogonID, poorLogin, poorRealName)
		confirms = append(confirms, c)
		if err := h.confirmPayout(admin, no, c); err != nil {
			t.Fatal(err)
		}
		want += amounts[i]
		// Pending, or already settled by its job on a slow machine;
		// never failed: the transfer was made.
		switch p := h.payout(c.Get("key")); p.Status {
		case shop.PayoutPending:
			pendingAfterFirst++
		case shop.PayoutFailed:
			t.Errorf("payout %s after a lost answer: failed (%s)", c.Get("key"), p.LastError)
		}
		if !h.transferMade(cl, c.Get("key")) {
			t.Errorf("payout %s: the sandbox made no transfer", c.Get("key"))
		}
	}
	// (d) The shop is killed while it waits for the transfer's answer, which
	// the sandbox holds after making the transfer.
	h.faults(sandbox.Fault{Kind: sandbox.KindGatewayError, Method: payoutMethod, Error: "timeout", Delay: sandbox.Duration(time.Minute), Count: 1})
	killed := h.planPayout(admin, nos[3], amounts[3], alipay.IdentityLogonID, poorLogin, poorRealName)
	confirms = append(confirms, killed)
	want += amounts[3]
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = h.confirmPayout(admin, nos[3], killed) // fails: the shop dies under it
	}()
	h.waitFor("the held transfer made", payoutTimeout, func() (bool, string) {
		_, now := h.balances()
		got := now[poorLogin] - before[poorLogin]
		return got == want, "received " + got.String()
	})
	h.kill()
	wg.Wait()
	h.start()
	switch p := h.payout(killed.Get("key")); p.Status {
	case shop.PayoutPending:
		pendingAfterFirst++
	case shop.PayoutFailed:
		t.Errorf("payout %s after the kill: failed (%s)", killed.Get("key"), p.LastError)
	}

	// The jobs settle every payout by the transfer query.
	h.waitFor("the payout jobs settling every payout", payoutTimeout, func() (bool, string) {
		var states []string
		done := true
		for _, c := range confirms {
			p := h.payout(c.Get("key"))
			states = append(states, string(p.Status))
			done = done && p.Status == shop.PayoutSucceeded
		}
		return done, strings.Join(states, " ")
	})

	// The same confirmations posted again, twice, change nothing.
	admin = h.admin()
	posts := 0
	for round := 0; round < 2; round++ {
		for i, c := range confirms {
			if err := h.confirmPayout(admin, nos[i], c); err != nil {
				t.Fatal(err)
			}
			posts++
		}
	}
	succeeded := 0
	db := h.openDB()
	for i, c := range confirms {
		ps, err := db.OrderPayouts(h.ctx, nos[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].OutBizNo != c.Get("key") || ps[0].Amount != amounts[i] {
			t.Errorf("order %s: payouts %+v, want one of %s under %s", nos[i], ps, amounts[i], c.Get("key"))
			continue
		}
		if ps[0].Status != shop.PayoutSucceeded || ps[0].AlipayOrderID == "" {
			t.Errorf("payout %s: %s (order id %q), want succeeded", c.Get("key"), ps[0].Status, ps[0].AlipayOrderID)
			continue
		}
		succeeded++
	}
	db.Close()
	_, after := h.balances()
	received := after[poorLogin] - before[poorLogin]
	if received != want {
		t.Errorf("the payee received %s, want %s (each payout once)", received, want)
	}
	used := 0
	for _, f := range h.sb.Faults() {
		if f.Used != f.Count {
			t.Errorf("fault %s %s %s used %d of %d times", f.Kind, f.Method, f.Error, f.Used, f.Count)
		}
		used += f.Used
	}
	h.stop()
	h.check().must(t)
	summary(t, "payouts with lost answers (%s): %d payouts, %d answers lost (20000, SYSTEM_ERROR, dropped, shop SIGKILLed), %d pending after the first confirmation, all settled by their jobs; %d confirmations posted again changed nothing; %d succeeded once, payee received %s of %s",
		api, len(confirms), used, pendingAfterFirst, posts, succeeded, received, want)
}

// Acceptance 2, the shop's records agree with the money: a scripted day
// through the shop (payments at the sandbox, a partial and a full refund,
// two payouts to two buyers, one of them answered 20000 and settled by
// the confirmation posted again), then the sandbox merchant's balance
// change equals the shop's sum(paid) − sum(refunded) − sum(payouts
// succeeded), and each buyer's balance change equals their movements in
// the shop's records.
func TestPayoutDayBooksAgree(t *testing.T) {
	t.Parallel()
	h := newHarness(t, apiFlag("v2")...)
	merchantBefore, buyersBefore := h.balances()
	nos := h.paidOrders(5)
	admin := h.admin()
	h.refund(admin, nos[0], alipay.MustAmount("4.00"), "部分退款")
	h.refund(admin, nos[1], alipay.MustAmount("10.00"), "全额退款")
	h.faults(sandbox.Fault{Kind: sandbox.KindGatewayError, Method: payoutMethod, Error: "20000", Count: 1})
	c1 := h.planPayout(admin, nos[2], alipay.MustAmount("2.50"), alipay.IdentityLogonID, poorLogin, poorRealName)
	if err := h.confirmPayout(admin, nos[2], c1); err != nil {
		t.Fatal(err)
	}
	if err := h.confirmPayout(admin, nos[2], c1); err != nil { // settles the lost answer
		t.Fatal(err)
	}
	c2 := h.planPayout(admin, nos[3], alipay.MustAmount("1.20"), alipay.IdentityUserID, payerUserID, "")
	if err := h.confirmPayout(admin, nos[3], c2); err != nil {
		t.Fatal(err)
	}
	h.waitFor("refunds settled", time.Minute, func() (bool, string) {
		for no, st := range map[string]string{nos[0]: "partially_refunded", nos[1]: "refunded"} {
			if got, _ := h.apiOrder(no); got != st {
				return false, no + " is " + got
			}
		}
		return true, ""
	})
	merchantAfter, buyersAfter := h.balances()

	// The shop's own records.
	db := h.openDB()
	orders, err := audit.Orders(h.ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var paid, refunded, paidOut alipay.Amount
	moves := map[string]alipay.Amount{}
	payments, payouts := 0, 0
	for _, o := range orders {
		switch o.Status {
		case shop.StatusPaid, shop.StatusPartiallyRefunded, shop.StatusRefunded:
		default:
			continue
		}
		payments++
		if o.BuyerLogonID == "" {
			t.Errorf("order %s: paid without the buyer's account", o.OutTradeNo)
		}
		// Every order of the day is paid by the default buyer (h.pay).
		paid += o.Amount
		refunded += o.RefundedFen
		moves[payerLogin] += o.RefundedFen - o.Amount
		ps, err := db.OrderPayouts(h.ctx, o.OutTradeNo)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Status != shop.PayoutSucceeded {
				t.Errorf("payout %s: %s", p.OutBizNo, p.Status)
				continue
			}
			payouts++
			paidOut += p.Amount
			switch p.Payee {
			case poorLogin:
				moves[poorLogin] += p.Amount
			case payerUserID:
				moves[payerLogin] += p.Amount
			default:
				t.Errorf("payout %s to %s: not a sandbox buyer of this test", p.OutBizNo, p.Payee)
			}
		}
	}
	db.Close()
	merchantDelta := merchantAfter - merchantBefore
	if books := paid - refunded - paidOut; merchantDelta != books {
		t.Errorf("merchant balance changed by %s; the shop's records: paid %s − refunded %s − paid out %s = %s", merchantDelta, paid, refunded, paidOut, books)
	}
	for _, login := range []string{payerLogin, poorLogin} {
		if d := buyersAfter[login] - buyersBefore[login]; d != moves[login] {
			t.Errorf("buyer %s: balance changed by %s, the shop's records say %s", login, d, moves[login])
		}
	}
	if payments != 5 || payouts != 2 {
		t.Errorf("the shop has %d payments and %d payouts, want 5 and 2", payments, payouts)
	}
	h.stop()
	h.check().must(t)
	summary(t, "a day's books: %d payments %s, refunded %s (1 partial, 1 full), %d payouts %s (1 answered 20000, settled by the confirmation again); merchant balance +%s = the shop's paid − refunded − paid out; buyers %s %s and %s +%s as the shop's records say",
		payments, paid, refunded, payouts, paidOut, merchantDelta, payerLogin, buyersAfter[payerLogin]-buyersBefore[payerLogin], poorLogin, buyersAfter[poorLogin]-buyersBefore[poorLogin])
}
