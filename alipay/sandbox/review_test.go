package sandbox

import (
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
		if a.TradeStatus == alipay.TradeSuccess && a.At.Sub(t0) < 6*time.Minute && a.Body != "" && a.Attempt > 1 {
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
