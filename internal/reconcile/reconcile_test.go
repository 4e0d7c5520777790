package reconcile_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/reconcile"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a shop (service, store, web handler on loopback) wired to an
// in-process sandbox whose clock is the shop's clock too: advancing the
// sandbox moves both.
type env struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	app     sandbox.App
	db      *store.DB
	client  *alipay.Client
	svc     *shop.Service
	refunds *shop.Refunds
	payouts *shop.Payouts
	rec     *reconcile.Reconciler
	goods   shop.Goods
	browser *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAPI(t, alipay.APIv2)
}

// newEnvAPI is newEnv with the shop calling Alipay over api.
func newEnvAPI(t *testing.T, api alipay.API) *env {
	t.Helper()
	s := shoptest.NewEnv(t, shoptest.EnvOptions{API: api})
	return &env{t: t, sb: s.Sandbox, app: s.App, db: s.DB, client: s.Client, svc: s.Service, refunds: s.Refunds, payouts: s.Payouts, rec: s.Reconciler,
		goods: s.Goods, browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// order makes an order; open also opens the cashier (creating the trade),
// pay also pays it.
func (e *env) order(open, pay bool) shop.Order {
	e.t.Helper()
	o, u, err := e.svc.CreateOrder(context.Background(), e.goods.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if open || pay {
		resp, err := e.browser.Get(u)
		if err != nil {
			e.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			e.t.Fatalf("page pay: HTTP %d", resp.StatusCode)
		}
	}
	if pay {
		if _, err := e.sb.Pay(e.app.AppID, o.OutTradeNo, ""); err != nil {
			e.t.Fatal(err)
		}
	}
	return o
}

// openWithoutExpiry makes an order and opens its cashier with a page-pay
// request of the same app that carries no time_expire, so the sandbox keeps
// the trade waiting past the order's expiry and the shop's close is what
// closes it.
func (e *env) openWithoutExpiry() shop.Order {
	e.t.Helper()
	o, _, err := e.svc.CreateOrder(context.Background(), e.goods.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: o.OutTradeNo, TotalAmount: o.Amount, Subject: o.Subject})
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.browser.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("page pay: HTTP %d", resp.StatusCode)
	}
	return o
}

func (e *env) get(outTradeNo string) shop.Order {
	e.t.Helper()
	o, err := e.svc.Order(context.Background(), outTradeNo)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) advance(d time.Duration) { e.sb.Advance(context.Background(), d) }

func (e *env) runDue() {
	e.t.Helper()
	if _, err := e.rec.RunDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) faults(fs ...sandbox.Fault) {
	e.t.Helper()
	if _, err := e.sb.AddFaults(fs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) wantStatus(o shop.Order, want shop.Status) shop.Order {
	e.t.Helper()
	got := e.get(o.OutTradeNo)
	if got.Status != want {
		e.t.Errorf("order %s: status %s, want %s", o.OutTradeNo, got.Status, want)
	}
	return got
}

// Notifications all dropped: the reconciler's queries find the payment, and
// expired orders are closed (by alipay.trade.close, or locally when the buyer
// never opened the cashier).
func TestReconcilePaysAndExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	paid, opened, never := e.order(true, true), e.order(true, false), e.order(false, false)
	e.advance(time.Minute)
	e.runDue() // nothing due yet: checks start 5 minutes after the order
	e.wantStatus(paid, shop.StatusUnpaid)
	e.advance(5 * time.Minute)
	e.runDue()
	o := e.wantStatus(paid, shop.StatusPaid)
	if o.PaidVia != shop.SourceQuery {
		t.Errorf("paid via %q, want query", o.PaidVia)
	}
	e.wantStatus(opened, shop.StatusUnpaid)
	e.wantStatus(never, shop.StatusUnpaid)
	e.advance(26 * time.Hour)
	e.runDue()
	e.wantStatus(paid, shop.StatusPaid)
	e.wantStatus(opened, shop.StatusClosed)
	e.wantStatus(never, shop.StatusClosed)
	if tv, _ := e.sb.Trade(e.app.AppID, opened.OutTradeNo); tv.TradeStatus != string(alipay.TradeStatusClosed) {
		t.Errorf("sandbox trade of the opened order: %s, want TRADE_CLOSED", tv.TradeStatus)
	}
	left, err := e.db.Jobs(context.Background(), "order", false)
	if err != nil || len(left) != 0 {
		t.Errorf("order jobs left: %+v %v", left, err)
	}
}

// Start-up: an unpaid order is queried at once whatever its age.
func TestStartupChecksAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	paid := e.order(true, true)
	e.runDue() // schedules the check 5 minutes out
	e.advance(time.Millisecond)
	rec, err := reconcile.New(reconcile.Config{Service: e.svc, Refunds: e.refunds, Store: e.db, Gateway: e.client, Logger: quiet})
	if err != nil { // the shop restarted
		t.Fatal(err)
	}
	e.rec = rec
	if n, err := e.rec.Startup(context.Background()); err != nil || n != 1 {
		t.Fatalf("Startup: %d, %v", n, err)
	}
	e.runDue()
	e.wantStatus(paid, shop.StatusPaid)
}

// Close calls whose effect is committed but whose answer is 20000 or a
// timeout: the shop tries again, and the query settles the state.
func TestCloseUnknownOutcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.close", Error: "20000", Count: 1},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.close", Error: "timeout", Delay: sandbox.Duration(50 * time.Millisecond), Count: 1})
	a, b := e.openWithoutExpiry(), e.openWithoutExpiry()
	e.advance(32 * time.Minute)
	for _, o := range []shop.Order{a, b} {
		if tv, _ := e.sb.Trade(e.app.AppID, o.OutTradeNo); tv.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
			t.Fatalf("sandbox: %s before the close", tv.TradeStatus)
		}
	}
	e.runDue()
	for _, o := range []shop.Order{a, b} {
		e.wantStatus(o, shop.StatusUnpaid) // the answer was lost: nothing decided
		if tv, _ := e.sb.Trade(e.app.AppID, o.OutTradeNo); tv.TradeStatus != string(alipay.TradeStatusClosed) {
			t.Errorf("sandbox: %s, want the close committed", tv.TradeStatus)
		}
	}
	for _, f := range e.sb.Faults() {
		if f.Kind == sandbox.KindGatewayError && f.Used != f.Count {
			t.Errorf("fault %s/%s used %d times", f.Method, f.Error, f.Used)
		}
	}
	e.advance(2 * time.Minute)
	e.runDue()
	e.wantStatus(a, shop.StatusClosed)
	e.wantStatus(b, shop.StatusClosed)
}

// Refunds whose answer is lost (20000, timeout) are settled by the refund
// query; one that never reached Alipay is sent again with the same
// out_request_no; the total never exceeds what was paid.
func TestRefundUnknownOutcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(true, true)
	e.advance(time.Second) // deliver the notification
	e.wantStatus(o, shop.StatusPaid)
	e.faults(sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "20000", Count: 1})
	r1, err := e.refunds.Request(ctx, o.OutTradeNo, alipay.MustAmount("3.00"), "部分退款")
	if err != nil || r1.Status != shop.RefundPending {
		t.Fatalf("refund 1: %+v %v", r1, err)
	}
	e.faults(sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "timeout", Delay: sandbox.Duration(50 * time.Millisecond), Count: 1})
	r2, err := e.refunds.Request(ctx, o.OutTradeNo, alipay.MustAmount("5.00"), "")
	if err != nil || r2.Status != shop.RefundPending {
		t.Fatalf("refund 2: %+v %v", r2, err)
	}
	e.faults(sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "ACQ.SYSTEM_ERROR", Effect: "none", Count: 1})
	r3, err := e.refunds.Request(ctx, o.OutTradeNo, alipay.MustAmount("2.00"), "")
	if err != nil || r3.Status != shop.RefundPending {
		t.Fatalf("refund 3: %+v %v", r3, err)
	}
	if _, err := e.refunds.Request(ctx, o.OutTradeNo, alipay.MustAmount("0.01"), ""); shop.ErrorCode(err) != shop.EINVALID {
		t.Fatalf("refund beyond the amount paid: %v", err)
	}
	e.wantStatus(o, shop.StatusPaid)
	e.advance(2 * time.Minute)
	e.runDue()
	got := e.wantStatus(o, shop.StatusRefunded)
	tv, _ := e.sb.Trade(e.app.AppID, o.OutTradeNo)
	if got.RefundedFen != tv.RefundFee || len(tv.Refunds) != 3 {
		t.Errorf("shop refunded %s, sandbox %s in %d refunds", got.RefundedFen, tv.RefundFee, len(tv.Refunds))
	}
	rs, _ := e.refunds.OrderRefunds(ctx, o.OutTradeNo)
	for _, r := range rs {
		if r.Status != shop.RefundSucceeded {
			t.Errorf("refund %s: %s", r.OutRequestNo, r.Status)
		}
	}
}

// A refund Alipay refuses is failed (final) and frees its amount.
func TestRefundRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(true, true)
	e.advance(time.Second)
	// Refunded in full at Alipay behind the shop's back: the trade is closed
	// there, so the shop's refund is refused with ACQ.TRADE_HAS_CLOSE.
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: o.OutTradeNo,
		RefundAmount: o.Amount, OutRequestNo: "console-1"}); err != nil {
		t.Fatal(err)
	}
	r, err := e.refunds.Request(ctx, o.OutTradeNo, alipay.MustAmount("4.00"), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != shop.RefundFailed || r.LastError == "" {
		t.Fatalf("refused refund: %+v", r)
	}
	e.wantStatus(o, shop.StatusPaid)
	e.advance(2 * time.Minute)
	e.runDue() // its job finds it final
	if left, _ := e.db.Jobs(ctx, "refund", false); len(left) != 0 {
		t.Errorf("refund jobs left: %+v", left)
	}
}

// The daily bill check: no mismatch when the shop agrees with Alipay; a
// payment the shop has not seen yet is shown.
func TestBillCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.order(true, true)
	e.advance(time.Second)
	e.wantStatus(a, shop.StatusPaid)
	if _, err := e.refunds.Request(ctx, a.OutTradeNo, alipay.MustAmount("1.00"), ""); err != nil {
		t.Fatal(err)
	}
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	b := e.order(true, true)
	day := e.sb.Now().In(alipay.Beijing).Format("2006-01-02")
	e.advance(36 * time.Hour)
	c, ms, err := e.rec.CheckBill(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rows != 3 || len(ms) != 1 || ms[0].Kind != "status" || ms[0].OutTradeNo != b.OutTradeNo {
		t.Fatalf("bill check: %+v %+v", c, ms)
	}
	e.runDue() // the reconciler pays b (its bill job for that day runs too)
	e.wantStatus(b, shop.StatusPaid)
	c, ms, err = e.rec.CheckBill(ctx, day)
	if err != nil || len(ms) != 0 {
		t.Fatalf("bill check after reconciling: %+v %+v %v", c, ms, err)
	}
	// The check of day is stored (the reconciler's own bill job may have
	// checked the day after too, depending on the hour in Beijing).
	stored, err := e.db.BillChecks(ctx, 10)
	found := false
	for _, c := range stored {
		found = found || c.BillDate == day && c.Rows == 3 && c.Mismatches == 0
	}
	if err != nil || !found {
		t.Fatalf("stored checks: %+v %v", stored, err)
	}
}

// A query whose answer is lost (20000, ACQ.SYSTEM_ERROR, a timeout) decides
// nothing; the order is queried again later.
func TestQueryUnknownOutcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.query", Error: "20000", Count: 1},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.query", Error: "timeout", Delay: sandbox.Duration(50 * time.Millisecond), Count: 1},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.query", Error: "ACQ.SYSTEM_ERROR", Count: 1})
	o := e.order(true, true)
	for i := 0; i < 3; i++ {
		e.advance(6 * time.Minute)
		e.runDue()
		e.wantStatus(o, shop.StatusUnpaid)
	}
	e.advance(6 * time.Minute)
	e.runDue()
	e.wantStatus(o, shop.StatusPaid)
}

// queries counts the recorded alipay.trade.query answers of an order.
func (e *env) queries(outTradeNo string) int {
	e.t.Helper()
	ns, err := e.db.Notifications(context.Background(), 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, m := range ns {
		if m.Source == shop.SourceQuery && m.OutTradeNo == outTradeNo && m.Method == "alipay.trade.query" {
			n++
		}
	}
	return n
}

// A query whose total_amount differs from the order's flags the order for a
// person and ends its job: asking again cannot settle it.
func TestQueryAmountMismatchStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	o, _, err := e.svc.CreateOrder(context.Background(), e.goods.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The trade at Alipay is opened (same app, same out_trade_no) for
	// another amount and paid.
	u, err := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: o.OutTradeNo, TotalAmount: alipay.MustAmount("9.99"), Subject: o.Subject})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := e.sb.Pay(e.app.AppID, o.OutTradeNo, ""); err != nil {
		t.Fatal(err)
	}
	e.advance(6 * time.Minute)
	e.runDue()
	got := e.wantStatus(o, shop.StatusUnpaid)
	if !got.NeedsReview || got.ReviewReason == "" {
		t.Fatalf("order not flagged for review: %+v", got)
	}
	if n := e.queries(o.OutTradeNo); n != 1 {
		t.Fatalf("%d queries, want 1", n)
	}
	if left, err := e.db.Jobs(context.Background(), "order", false); err != nil || len(left) != 0 {
		t.Fatalf("order job still scheduled after the mismatch: %+v %v", left, err)
	}
	for i := 0; i < 4; i++ {
		e.advance(2 * time.Hour)
		e.runDue()
	}
	if n := e.queries(o.OutTradeNo); n != 1 {
		t.Errorf("%d queries after the mismatch was flagged, want 1", n)
	}
	e.wantStatus(o, shop.StatusUnpaid)
}

// A refund whose outcome stays unknown is looked at again every
// RetryUnknown, not on the order queries' backoff.
func TestRefundUnknownRetriesAtRetryUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const retry = 10 * time.Second
	rec, err := reconcile.New(reconcile.Config{Service: e.svc, Refunds: e.refunds, Store: e.db, Gateway: e.client, Logger: quiet, RetryUnknown: retry})
	if err != nil {
		t.Fatal(err)
	}
	e.rec = rec
	e.refunds.SettleAfter = retry
	o := e.order(true, true)
	e.advance(time.Second)
	e.wantStatus(o, shop.StatusPaid)
	// No refund notification: only the job can settle the refund.
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.refund", Error: "20000", Count: 1},
		sandbox.Fault{Kind: sandbox.KindGatewayError, Method: "alipay.trade.fastpay.refund.query", Error: "ACQ.SYSTEM_ERROR", Count: 3})
	r, err := e.refunds.Request(ctx, o.OutTradeNo, alipay.MustAmount("3.00"), "")
	if err != nil || r.Status != shop.RefundPending {
		t.Fatalf("refund: %+v %v", r, err)
	}
	// Three lost refund-query answers, then the fourth settles it: four
	// runs, each RetryUnknown after the one before.
	for i := 0; i < 4; i++ {
		e.advance(retry)
		e.runDue()
	}
	if r, _ := e.db.Refund(ctx, r.OutRequestNo); r.Status != shop.RefundSucceeded {
		t.Fatalf("refund after 4 × RetryUnknown: %s (%s), want succeeded", r.Status, r.LastError)
	}
	e.wantStatus(o, shop.StatusPartiallyRefunded)
}

// Start-up makes due the unpaid orders made before the reconciler started
// (buyers may have paid while the shop was down), never the ones made after:
// those belong to the running shop and wait for their notification.
func TestStartupOnlyOrdersMadeBefore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	before := e.order(true, true)
	e.advance(time.Second)
	rec, err := reconcile.New(reconcile.Config{Service: e.svc, Refunds: e.refunds, Store: e.db, Gateway: e.client, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e.rec = rec
	e.advance(time.Second)
	after := e.order(true, false)
	e.runDue() // schedules both orders' checks 5 minutes out
	if n, err := e.rec.Startup(context.Background()); err != nil || n != 1 {
		t.Fatalf("Startup: %d, %v; want 1 (the order made before the start)", n, err)
	}
	e.runDue()
	e.wantStatus(before, shop.StatusPaid)
	if n := e.queries(after.OutTradeNo); n != 0 {
		t.Errorf("the order made after the start was queried %d times", n)
	}
}

// Alipay's answers (query, close, refund, and a refusal) are stored as
// received, over either protocol: an answer rebuilt from its stored row
// (protocol, HTTP status, signature headers, exact body) verifies again with the client,
// as it did on arrival. A v3 answer is signed in its headers, so its body
// alone does not verify.
func TestAnswersStoredAsReceived(t *testing.T) {
	t.Parallel()
	for _, api := range []alipay.API{alipay.APIv2, alipay.APIv3} {
		t.Run(string(api), func(t *testing.T) { testAnswersStoredAsReceived(t, api) })
	}
}

func testAnswersStoredAsReceived(t *testing.T, api alipay.API) {
	e := newEnvAPI(t, api)
	ctx := context.Background()
	e.faults(sandbox.Fault{Kind: sandbox.KindDrop})
	paid, opened, never := e.order(true, true), e.order(true, false), e.order(false, false)
	e.advance(6 * time.Minute)
	e.runDue() // paid: query
	e.wantStatus(paid, shop.StatusPaid)
	e.advance(26 * time.Hour)
	e.runDue() // opened: close; never: close answered ACQ.TRADE_NOT_EXIST
	e.wantStatus(opened, shop.StatusClosed)
	e.wantStatus(never, shop.StatusClosed)
	if r, err := e.refunds.Request(ctx, paid.OutTradeNo, alipay.MustAmount("1.00"), ""); err != nil || r.Status != shop.RefundSucceeded {
		t.Fatalf("refund: %+v %v", r, err)
	}
	ns, err := e.db.Notifications(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	methods, refusals := map[string]int{}, 0
	for _, m := range ns {
		if m.Source != shop.SourceQuery {
			continue
		}
		methods[m.Method]++
		if m.API != api || m.StatusCode == 0 {
			t.Errorf("stored %s answer of %s: API %q, HTTP %d; want %q and its status", m.Method, m.OutTradeNo, m.API, m.StatusCode, api)
		}
		if api == alipay.APIv3 && m.Header.Get("Alipay-Signature") == "" {
			t.Errorf("stored v3 %s answer of %s has no alipay-signature header: %v", m.Method, m.OutTradeNo, m.Header)
		}
		for name := range m.Header {
			if name != "Content-Type" && !strings.HasPrefix(name, "Alipay-") {
				t.Errorf("stored %s answer keeps header %s", m.Method, name)
			}
		}
		err := e.client.DecodeResponse(&alipay.Response{Method: m.Method, API: m.API, StatusCode: m.StatusCode, Header: alipay.Header(m.Header), Body: m.Body}, nil)
		var ae *alipay.Error
		switch {
		case errors.As(err, &ae) && !ae.Unverified:
			refusals++
		case err != nil:
			t.Errorf("stored %s answer of %s does not verify: %v\nHTTP %d\n%v\n%s", m.Method, m.OutTradeNo, err, m.StatusCode, m.Header, m.Body)
		}
	}
	for _, want := range []string{"alipay.trade.query", "alipay.trade.close", "alipay.trade.refund"} {
		if methods[want] == 0 {
			t.Errorf("no stored %s answer (stored: %v)", want, methods)
		}
	}
	if refusals == 0 {
		t.Error("no stored refusal verified")
	}
}

// Payouts whose answer is lost are settled by their jobs with nobody
// posting the confirmation again: made at Alipay but answered 20000 or
// never answered (timeout) → the transfer query finds them; never made
// (SYSTEM_ERROR before the transfer) → the same transfer again. The payee
// receives each exactly once.
func TestPayoutUnknownOutcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(true, true)
	e.advance(time.Second)
	e.wantStatus(o, shop.StatusPaid)
	received := func() alipay.Amount {
		for _, b := range e.sb.Balances().Buyers {
			if b.Login == sandbox.DefaultBuyer {
				return alipay.MustAmount(b.Received)
			}
		}
		t.Fatal("no sandbox buyer")
		return 0
	}
	before := received()
	const method = "alipay.fund.trans.uni.transfer"
	var keys []string
	for i, f := range []sandbox.Fault{
		{Kind: sandbox.KindGatewayError, Method: method, Error: "20000", Count: 1},
		{Kind: sandbox.KindGatewayError, Method: method, Error: "timeout", Delay: sandbox.Duration(50 * time.Millisecond), Count: 1},
		{Kind: sandbox.KindGatewayError, Method: method, Error: "ACQ.SYSTEM_ERROR", Effect: "none", Count: 1},
	} {
		e.faults(f)
		plan, err := e.payouts.Plan(ctx, o.OutTradeNo, alipay.Amount(100*(i+1)), alipay.IdentityLogonID, sandbox.DefaultBuyer, sandbox.DefaultBuyerName, "")
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := e.payouts.Confirm(ctx, o.OutTradeNo, plan.Pending.Key, plan.Pending.Amount)
		if err != nil || p.Status != shop.PayoutPending {
			t.Fatalf("payout with %s: %+v %v", f.Error, p, err)
		}
		keys = append(keys, p.OutBizNo)
	}
	e.advance(2 * time.Minute)
	e.runDue()
	ps, err := e.payouts.OrderPayouts(ctx, o.OutTradeNo)
	if err != nil || len(ps) != len(keys) {
		t.Fatalf("payouts %+v %v", ps, err)
	}
	for _, p := range ps {
		if p.Status != shop.PayoutSucceeded {
			t.Errorf("payout %s: %s %s", p.OutBizNo, p.Status, p.LastError)
		}
	}
	if got := received() - before; got != 6_00 {
		t.Errorf("the payee received %s for payouts of 1.00 + 2.00 + 3.00", got)
	}
	e.advance(10 * time.Minute)
	e.runDue()
	if got := received() - before; got != 6_00 {
		t.Errorf("after the jobs ran again the payee has received %s", got)
	}
}
