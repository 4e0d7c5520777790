package sandbox

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
)

// A notification held by a reorder rule that went out after its delay is no
// longer held: a later notification of the trade must not "release" it again
// and so pull its next retry ahead of the schedule (+4m after a failure).
func TestHeldNotificationKeepsScheduleOnceSent(t *testing.T) {
	e := newEnv(t)
	e.m.setAnswer(func(int) string { return "fail" })
	e.addFault(`{"kind":"reorder","out_trade_no":"hs","count":1,"delay":"2m"}`)
	e.paid("hs", alipay.MustAmount("5.00"))
	e.deliver()
	e.advance(2 * time.Minute) // the held TRADE_SUCCESS goes out: attempt 1, fails
	if a := e.attempts("hs"); len(a) != 1 {
		t.Fatalf("after the hold: %d attempts, want 1", len(a))
	}
	if _, err := e.client.Refund(ctx, alipay.TradeRefund{TradeRef: alipay.TradeRef{OutTradeNo: "hs"}, RefundAmount: 100, OutRequestNo: "r1"}); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	var success []Attempt
	for _, a := range e.attempts("hs") {
		if a.TradeStatus == string(alipay.TradeSuccess) && a.At.Sub(t0) < 6*time.Minute && a.Body != "" && a.Attempt > 1 {
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
	if _, err := e.client.Refund(ctx, alipay.TradeRefund{TradeRef: alipay.TradeRef{OutTradeNo: "rr"}, RefundAmount: 100, OutRequestNo: "r1"}); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-done
	e.deliver()
	if got := len(e.m.notifications()); got != 2 {
		t.Fatalf("%d notifications delivered, want 2 (payment, refund)", got)
	}
}

// PROTOCOL.md §1.7/§10.5: a notification never carries an empty value, and a
// whitespace-only one is empty for the Java SDK (left out of the signed
// string) but not for EasySDK or the Node SDK (kept): either way one of them
// fails to verify, so the sandbox must not send one.
func TestNotificationHasNoBlankValues(t *testing.T) {
	e := newEnv(t)
	u, err := e.client.PagePayURL(alipay.TradePagePay{OutTradeNo: "blank1", TotalAmount: 100, Subject: "s", Body: " ", PassbackParams: "\t"})
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

// docs/SANDBOX.md: gateway rules match on app_id and method. A latency rule
// scoped to another app neither slows this app's calls nor is used up by them.
func TestFaultLatencyHonoursAppID(t *testing.T) {
	e := newEnv(t)
	e.paid("la1", alipay.MustAmount("1.00"))
	e.addFault(`{"kind":"latency","app_id":"9021000999999999","delay":"1s","count":1}`)
	if _, err := e.client.Query(ctx, alipay.TradeRef{OutTradeNo: "la1"}); err != nil {
		t.Fatal(err)
	}
	plan := e.sb.Faults()
	if len(plan) != 1 || plan[0].Used != 0 {
		t.Fatalf("a latency rule of another app was applied: %+v", plan)
	}
}

// The gateway bounds a request body to 1 MiB whatever its Content-Type: a
// multipart upload must not spool an unbounded file to disk.
func TestGatewayBoundsMultipartBody(t *testing.T) {
	e := newEnv(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("app_id", testAppID)
	_ = mw.WriteField("method", "alipay.trade.query")
	fw, _ := mw.CreateFormFile("file", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), maxGatewayBody+1024))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/gateway.do", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	n, raw, _ := e.rawCall("alipay.trade.query", req)
	// Refused unread: nothing of the body (not even app_id) is taken.
	if sc := n["sub_code"]; sc != "isv.invalid-parameter" && sc != "isv.missing-app-id" {
		t.Fatalf("a %d-byte multipart body was accepted: %s", maxGatewayBody+1024, raw)
	}
}

// PROTOCOL.md §3.3/§7: a face-to-face (precreate) trade waits 3h by default;
// only its QR code is valid for 2h. A code scanned in time leaves a trade
// the buyer can still pay until the 3h are over.
func TestPrecreateDefaultTimeoutIsThreeHours(t *testing.T) {
	e := newEnv(t)
	res, err := e.client.Precreate(ctx, alipay.TradePrecreate{OutTradeNo: "f2f1", TotalAmount: 100, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)
	resp, err := e.http.Get(res.QRCode) // the buyer scans: WAIT_BUYER_PAY
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.advance(90 * time.Minute) // +2h30m
	q, err := e.client.Query(ctx, alipay.TradeRef{OutTradeNo: "f2f1"})
	if err != nil || q.TradeStatus != alipay.WaitBuyerPay {
		t.Fatalf("at +2h30m: %+v %v; want WAIT_BUYER_PAY (default timeout 3h)", q, err)
	}
	e.advance(30 * time.Minute) // +3h
	if q, err := e.client.Query(ctx, alipay.TradeRef{OutTradeNo: "f2f1"}); err != nil || q.TradeStatus != alipay.TradeClosed {
		t.Fatalf("at +3h: %+v %v; want TRADE_CLOSED", q, err)
	}

	// An unscanned code expires after 2h.
	_, err = e.client.Precreate(ctx, alipay.TradePrecreate{OutTradeNo: "f2f2", TotalAmount: 100, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Hour)
	if _, err := e.sb.Pay(testAppID, "f2f2", ""); err == nil || !strings.Contains(err.Error(), "二维码已过期") {
		t.Fatalf("paying a 2h-old unscanned code: %v", err)
	}
}
