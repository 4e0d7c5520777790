package sandbox

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
)

var wantOffsets = []time.Duration{0, 4 * time.Minute, 14 * time.Minute, 24 * time.Minute,
	time.Hour + 24*time.Minute, 3*time.Hour + 24*time.Minute, 9*time.Hour + 24*time.Minute, 24*time.Hour + 24*time.Minute}

func TestNotificationScheduleEightAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.m.setAnswer(func(int) string { return "fail" })
	e.paid("s1", alipay.MustAmount("1.00"))
	e.deliver()
	e.advance(26 * time.Hour)
	atts := e.attempts("s1")
	if len(atts) != 8 {
		t.Fatalf("%d attempts, want 8: %+v", len(atts), atts)
	}
	for i, a := range atts {
		if got := a.At.Sub(atts[0].At); got != wantOffsets[i] || a.Attempt != i+1 || a.NotifyID != atts[0].NotifyID || a.Acked {
			t.Errorf("attempt %d at +%v (attempt %d, notify_id %s), want +%v", i+1, got, a.Attempt, a.NotifyID, wantOffsets[i])
		}
		if a.HTTPStatus != 200 || a.Response != "" { // an answer other than success is not recorded
			t.Errorf("attempt %d: %d %q", i+1, a.HTTPStatus, a.Response)
		}
	}
	if !atts[0].At.Equal(t0) {
		t.Errorf("first attempt at %v, want %v", atts[0].At, t0)
	}
	// Every attempt verifies and carries the same notify_id; notify_time moves.
	bodies := e.m.notifications()
	for i, b := range bodies {
		n, err := e.verifiedNotification(b)
		if err != nil || n.NotifyID != atts[0].NotifyID || !n.NotifyTime.Equal(t0.Add(wantOffsets[i])) {
			t.Errorf("body %d: %+v %v", i+1, n, err)
		}
	}
	e.advance(72 * time.Hour)
	if n := len(e.attempts("s1")); n != 8 {
		t.Fatalf("%d attempts after giving up, want 8", n)
	}
	var out struct{ Notifications []NotificationView }
	e.getJSON("/api/notifications?out_trade_no=s1", &out)
	if len(out.Notifications) != 1 || out.Notifications[0].State != "failed" {
		t.Fatalf("notification state: %+v", out.Notifications)
	}
}

func TestNotificationSuccessOnThirdAttemptStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.m.setAnswer(func(n int) string {
		switch n {
		case 1:
			return "fail"
		case 2:
			return "success\n" // not exactly "success": retried
		}
		return "success"
	})
	e.paid("s3", alipay.MustAmount("1.00"))
	e.deliver()
	e.advance(26 * time.Hour)
	atts := e.attempts("s3")
	if len(atts) != 3 || !atts[2].Acked || atts[1].Acked || atts[2].At.Sub(atts[0].At) != 14*time.Minute {
		t.Fatalf("attempts: %+v", atts)
	}
	var out struct{ Notifications []NotificationView }
	e.getJSON("/api/notifications?out_trade_no=s3", &out)
	if out.Notifications[0].State != "acked" {
		t.Fatalf("state %s", out.Notifications[0].State)
	}
}

func TestNotificationNon200IsFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := newMerchant(t)
	srv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("success"))
	})
	c := e.newClient(testAppID, appKey, alipay.SignTypeRSA2)
	u, _ := c.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: "h1", TotalAmount: 100, Subject: "x", NotifyURL: srv.srv.URL + "/notify"})
	resp, _ := e.http.Get(u)
	resp.Body.Close()
	if _, err := e.sb.Pay(testAppID, "h1", ""); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	atts := e.attempts("h1")
	if len(atts) != 1 || atts[0].Acked || atts[0].HTTPStatus != 500 {
		t.Fatalf("attempts %+v", atts)
	}
}

func (e *testEnv) addFault(body string) {
	e.t.Helper()
	code, out := e.postJSON("/api/faults", body)
	if code != 200 {
		e.t.Fatalf("POST api/faults %s: %d %v", body, code, out)
	}
}

func TestFaultDropNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(`{"kind":"drop","out_trade_no":"d1","count":2}`)
	e.paid("d1", alipay.MustAmount("1.00"))
	e.deliver()
	e.advance(4 * time.Minute)
	if got := e.m.notifications(); len(got) != 0 {
		t.Fatalf("%d notifications arrived through a drop", len(got))
	}
	e.advance(10 * time.Minute)
	atts := e.attempts("d1")
	if len(atts) != 3 || len(e.m.notifications()) != 1 || !atts[2].Acked || atts[0].Faults[0] != KindDrop || atts[2].Faults != nil {
		t.Fatalf("attempts %+v", atts)
	}
	// Other trades are not affected.
	e.paid("d2", alipay.MustAmount("1.00"))
	e.deliver()
	if a := e.attempts("d2"); len(a) != 1 || !a[0].Acked {
		t.Fatalf("d2: %+v", a)
	}
}

func TestFaultDropAllOfApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(`{"kind":"drop","app_id":"` + testAppID + `"}`)
	e.paid("da", alipay.MustAmount("1.00"))
	e.deliver()
	e.advance(26 * time.Hour)
	if atts := e.attempts("da"); len(atts) != 8 || len(e.m.notifications()) != 0 {
		t.Fatalf("%d attempts, %d received", len(atts), len(e.m.notifications()))
	}
	// Clearing the plan ends it.
	req, _ := http.NewRequest("DELETE", e.srv.URL+"/api/faults", nil)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	e.paid("db", alipay.MustAmount("1.00"))
	e.deliver()
	if len(e.m.notifications()) != 1 {
		t.Fatal("notification dropped after the plan was cleared")
	}
}

func TestFaultDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(`{"kind":"duplicate","times":3,"count":1}`)
	e.paid("dup", alipay.MustAmount("1.00"))
	e.deliver()
	got := e.m.notifications()
	if len(got) != 3 || got[0] != got[1] || got[1] != got[2] {
		t.Fatalf("%d notifications, want 3 identical", len(got))
	}
	if _, err := e.verifiedNotification(got[0]); err != nil {
		t.Fatal(err)
	}
	atts := e.attempts("dup")
	if len(atts) != 3 || atts[2].Copy != 3 || atts[2].Attempt != 1 {
		t.Fatalf("attempts %+v", atts)
	}
}

func TestFaultOutOfOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(`{"kind":"reorder","out_trade_no":"oo","count":1}`)
	e.paid("oo", alipay.MustAmount("5.00"))
	e.deliver()
	if len(e.m.notifications()) != 0 {
		t.Fatal("the held notification was delivered")
	}
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "oo", RefundAmount: 100, OutRequestNo: "r1"}); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	e.advance(time.Second)
	got := e.m.notifications()
	if len(got) != 2 {
		t.Fatalf("%d notifications, want 2", len(got))
	}
	first, _ := e.verifiedNotification(got[0])
	second, _ := e.verifiedNotification(got[1])
	if first == nil || second == nil || first.OutBizNo != "r1" || second.OutBizNo != "" || second.TradeStatus != alipay.TradeStatusSuccess {
		t.Fatalf("order: %+v then %+v", first, second)
	}
	// Without a later notification, a held one goes out after `delay`.
	e.addFault(`{"kind":"reorder","out_trade_no":"oo2","count":1,"delay":"2m"}`)
	e.paid("oo2", alipay.MustAmount("5.00"))
	e.deliver()
	e.advance(2 * time.Minute)
	if a := e.attempts("oo2"); len(a) != 1 || !a[0].At.Equal(e.sb.Now()) {
		t.Fatalf("held notification: %+v", a)
	}
}

func TestFaultCorruptSignature(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.m.setAnswerBody(func(_ int, body string) string {
		if _, err := e.verifiedNotification(body); err != nil {
			return "fail"
		}
		return "success"
	})
	e.addFault(`{"kind":"corrupt_signature","count":1}`)
	e.paid("cs", alipay.MustAmount("1.00"))
	e.deliver()
	got := e.m.notifications()
	if _, err := e.verifiedNotification(got[0]); !errors.Is(err, alipay.ErrSignature) {
		t.Fatalf("corrupted notification: %v", err)
	}
	e.advance(4 * time.Minute)
	atts := e.attempts("cs")
	if len(atts) != 2 || atts[0].Acked || !atts[1].Acked {
		t.Fatalf("attempts %+v", atts)
	}
}

func TestFaultWrongAmount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(`{"kind":"wrong_amount","out_trade_no":"wa","count":1,"amount":"0.01"}`)
	e.paid("wa", alipay.MustAmount("100.00"))
	e.deliver()
	got := e.m.notifications()
	n, err := e.verifiedNotification(got[0])
	if err != nil {
		t.Fatalf("the wrong-amount notification must be genuinely signed: %v", err)
	}
	if err := n.Check(alipay.Expect{AppID: testAppID, SellerID: e.app.SellerID, TotalAmount: alipay.MustAmount("100.00")}); !errors.As(err, new(*alipay.MismatchError)) {
		t.Fatalf("amount check: %v (total %s)", err, n.TotalAmount)
	}
	// The default wrong amount is the total + 0.01.
	e.addFault(`{"kind":"wrong_amount","out_trade_no":"wb","count":1}`)
	e.paid("wb", alipay.MustAmount("100.00"))
	e.deliver()
	for _, b := range e.m.notifications() {
		if n, _ := e.verifiedNotification(b); n != nil && n.OutTradeNo == "wb" && n.TotalAmount != alipay.MustAmount("100.01") {
			t.Fatalf("default wrong amount %s", n.TotalAmount)
		}
	}
}

func TestFaultGateway20000AfterCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("g1", alipay.MustAmount("10.00"))
	e.addFault(`{"kind":"gateway_error","method":"alipay.trade.refund","error":"20000","count":1}`)
	req := alipay.TradeRefundRequest{OutTradeNo: "g1", RefundAmount: 300, OutRequestNo: "u1"}
	_, err := e.client.TradeRefund(ctx, req)
	var ae *alipay.Error
	if !alipay.IsUnknownOutcome(err) || !asError(err, &ae) || ae.Code != "20000" || ae.Unverified {
		t.Fatalf("refund under the fault: %v", err)
	}
	if v, _ := e.sb.Trade(testAppID, "g1"); v.RefundFee != 300 {
		t.Fatalf("the effect was not committed: %+v", v)
	}
	r, err := e.client.TradeRefund(ctx, req) // the retry: same out_request_no
	if err != nil || r.FundChange != "N" || r.RefundFee != 300 {
		t.Fatalf("retry: %+v %v", r, err)
	}
}

func TestFaultSystemErrorAfterCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.openCashier("g2", alipay.MustAmount("10.00"))
	e.addFault(`{"kind":"gateway_error","method":"alipay.trade.close","error":"ACQ.SYSTEM_ERROR","count":1}`)
	_, err := e.client.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "g2"})
	if !alipay.IsUnknownOutcome(err) || !alipay.HasSubCode(err, "ACQ.SYSTEM_ERROR") {
		t.Fatalf("close under the fault: %v", err)
	}
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "g2"}); q.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("the close was not committed: %s", q.TradeStatus)
	}
	// effect "none": the call fails and nothing happens.
	e.openCashier("g3", alipay.MustAmount("10.00"))
	e.addFault(`{"kind":"gateway_error","method":"alipay.trade.close","error":"ACQ.SYSTEM_ERROR","effect":"none","count":1}`)
	if _, err := e.client.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "g3"}); !alipay.IsUnknownOutcome(err) {
		t.Fatalf("close under the fault: %v", err)
	}
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "g3"}); q.TradeStatus != alipay.TradeStatusWaitBuyerPay {
		t.Fatalf("effect none changed the trade: %s", q.TradeStatus)
	}
}

func TestFaultTimeoutAfterCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("g4", alipay.MustAmount("10.00"))
	e.addFault(`{"kind":"gateway_error","method":"alipay.trade.refund","error":"timeout","delay":"1ms","count":1}`)
	req := alipay.TradeRefundRequest{OutTradeNo: "g4", RefundAmount: 1000, OutRequestNo: "t1"}
	if _, err := e.client.TradeRefund(ctx, req); !alipay.IsUnknownOutcome(err) {
		t.Fatalf("refund under a timeout: %v", err)
	}
	if v, _ := e.sb.Trade(testAppID, "g4"); v.TradeStatus != string(alipay.TradeStatusClosed) {
		t.Fatalf("the refund was not committed: %+v", v)
	}
	if r, err := e.client.TradeRefund(ctx, req); err != nil || r.FundChange != "N" {
		t.Fatalf("retry: %+v %v", r, err)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("l1", alipay.MustAmount("1.00"))
	e.addFault(`{"kind":"latency","method":"alipay.trade.query","delay":"2s","count":1}`)
	cfg := *e.http
	cfg.Timeout = 100 * time.Millisecond
	impatient, _ := alipay.New(alipay.Config{AppID: testAppID, PrivateKey: appKey, AlipayPublicKey: e.sb.PublicKey(),
		Gateway: e.srv.URL + "/gateway.do", HTTPClient: &cfg, Now: e.clock.Now})
	if _, err := impatient.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "l1"}); !alipay.IsUnknownOutcome(err) {
		t.Fatalf("query under latency with a 100 ms client timeout: %v", err)
	}
	if q, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "l1"}); err != nil || q.TradeStatus != alipay.TradeStatusSuccess {
		t.Fatalf("after the latency rule is used up: %+v %v", q, err)
	}
	var plan struct{ Faults []Fault }
	e.getJSON("/api/faults", &plan)
	if len(plan.Faults) != 1 || plan.Faults[0].Used != 1 {
		t.Fatalf("plan %+v", plan)
	}
}

func TestFaultPlanValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, bad := range []string{
		`{"kind":"explode"}`,
		`{"kind":"gateway_error","error":"500"}`,
		`{"kind":"gateway_error","error":"20000","method":"alipay.trade.page.pay"}`,
		`{"kind":"duplicate","times":1}`,
		`{"kind":"latency"}`,
		`{"kind":"drop","count":-1}`,
		`{"kind":"wrong_amount","amount":"1.001"}`,
		`{"kind":"drop","bogus":1}`,
		`not json`,
	} {
		if code, _ := e.postJSON("/api/faults", bad); code != 400 {
			t.Errorf("%s: HTTP %d, want 400", bad, code)
		}
	}
	if len(e.sb.Faults()) != 0 {
		t.Fatal("a rejected plan changed the faults")
	}
	e.addFault(`{"faults":[{"kind":"drop","count":1},{"kind":"duplicate"}]}`)
	e.addFault(`[{"kind":"corrupt_signature"}]`)
	if fs := e.sb.Faults(); len(fs) != 3 || fs[1].Times != 2 {
		t.Fatalf("plan %+v", fs)
	}
	resp, _ := http.PostForm(e.srv.URL+"/api/reset", url.Values{})
	resp.Body.Close()
	if len(e.sb.Faults()) != 0 {
		t.Fatal("reset kept the faults")
	}
}

func TestAdvanceRejectsBadDuration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, d := range []string{"", "-1h", "soon"} {
		resp, _ := http.PostForm(e.srv.URL+"/api/clock/advance", url.Values{"d": {d}})
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("d=%q: HTTP %d", d, resp.StatusCode)
		}
	}
	if !e.sb.Now().Equal(t0) {
		t.Fatal("a bad advance moved the clock")
	}
	var clock map[string]string
	e.getJSON("/api/clock", &clock)
	if !strings.HasPrefix(clock["beijing"], "2026-03-10 10:00:00") {
		t.Fatalf("clock %v", clock)
	}
}

func TestFaultReorderAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(`{"kind":"reorder"}`)
	e.paid("ra", alipay.MustAmount("10.00"))
	ref := "ra"
	for _, rq := range []string{"r1", "r2", "r3"} {
		if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: 100, OutRequestNo: rq}); err != nil {
			t.Fatal(err)
		}
	}
	e.deliver()
	e.advance(2 * time.Hour)
	var order []string
	for _, b := range e.m.notifications() {
		n, err := e.verifiedNotification(b)
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, orDefault(n.OutBizNo, "pay"))
	}
	// pay held; r1 goes first and releases pay; r2 held; r3 first, then r2.
	if strings.Join(order, ",") != "r1,pay,r3,r2" {
		t.Fatalf("delivery order %v", order)
	}
}

// A notification held by a reorder rule that went out after its delay is no
// longer held: a later notification of the trade must not "release" it again
// and so pull its next retry ahead of the schedule (+4m after a failure).
func TestHeldNotificationKeepsScheduleOnceSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.m.setAnswer(func(int) string { return "fail" })
	e.addFault(`{"kind":"reorder","out_trade_no":"hs","count":1,"delay":"2m"}`)
	e.paid("hs", alipay.MustAmount("5.00"))
	e.deliver()
	e.advance(2 * time.Minute) // the held TRADE_SUCCESS goes out: attempt 1, fails
	if a := e.attempts("hs"); len(a) != 1 {
		t.Fatalf("after the hold: %d attempts, want 1", len(a))
	}
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "hs", RefundAmount: 100, OutRequestNo: "r1"}); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	var success []Attempt
	for _, a := range e.attempts("hs") {
		if a.TradeStatus == string(alipay.TradeStatusSuccess) && a.At.Sub(t0) < 6*time.Minute && a.Body != "" && a.Attempt > 1 {
			success = append(success, a)
		}
	}
	if len(success) != 0 {
		t.Fatalf("the payment notification was retried at %v (attempt %d), before its +4m retry", success[0].At.Sub(t0), success[0].Attempt)
	}
}

// Notifications queued while due ones are being delivered must not race with
// the delivery round (go test -race).
func TestQueueDuringDeliveryIsRaceFree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	e.m.setAnswer(func(n int) string {
		if n == 1 {
			once.Do(func() { close(entered) })
			<-release
		}
		return "success"
	})
	e.addFault(`{"kind":"reorder","out_trade_no":"rr","count":1,"delay":"1m"}`)
	e.paid("rr", alipay.MustAmount("5.00"))
	e.deliver()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.sb.Advance(ctx, time.Minute) // delivers the held notification; the merchant blocks
	}()
	<-entered
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "rr", RefundAmount: 100, OutRequestNo: "r1"}); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-done
	e.deliver()
	if got := len(e.m.notifications()); got != 2 {
		t.Fatalf("%d notifications delivered, want 2 (payment, refund)", got)
	}
}

// A notification never carries an empty value, and a
// whitespace-only one is empty for the Java SDK (left out of the signed
// string) but not for EasySDK or the Node SDK (kept): either way one of them
// fails to verify, so the sandbox must not send one.
func TestNotificationHasNoBlankValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, err := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: "blank1", TotalAmount: 100, Subject: "s", Body: " ", PassbackParams: "\t"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("page pay: HTTP %d", resp.StatusCode)
	}
	if _, err := e.sb.Pay(testAppID, "blank1", ""); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	got := e.m.notifications()
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	p, err := alipay.ParseForm(got[0])
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p {
		if strings.TrimSpace(v) == "" {
			t.Errorf("notification carries %s=%q", k, v)
		}
	}
}
