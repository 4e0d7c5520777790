package alipay

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the clock of a face-to-face payment under test: Sleep moves
// Now at once, and records what was waited.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
	// onSleep, when set, runs after each wait with the time waited so far
	// in all.
	onSleep func(total time.Duration)
	total   time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: fixedNow()} }

func (k *fakeClock) Now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now
}

func (k *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	k.now = k.now.Add(d)
	k.slept = append(k.slept, d)
	k.total += d
	total, f := k.total, k.onSleep
	k.mu.Unlock()
	if f != nil {
		f(total)
	}
	return nil
}

func (k *fakeClock) config(cfg *Config) { cfg.Now, cfg.Sleep = k.Now, k.Sleep }

// script answers each method with its next scripted answer (the last one
// repeats) and counts the calls.
type script struct {
	mu      sync.Mutex
	answers map[string][]string // method → node contents; "" = HTTP 502
	calls   map[string]int
	order   []string
	biz     []map[string]any
}

func (s *script) reply(g *fakeGateway) func(gotRequest) (int, string) {
	return func(r gotRequest) (int, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := r.Params["method"]
		if len(r.Problems) > 0 {
			g.t.Errorf("%s: %v", m, r.Problems)
		}
		s.order = append(s.order, m)
		s.biz = append(s.biz, r.Biz)
		as := s.answers[m]
		if len(as) == 0 {
			g.t.Errorf("unexpected call of %s", m)
			return 502, ""
		}
		i := min(s.calls[m], len(as)-1)
		s.calls[m]++
		if as[i] == "" {
			return 502, "bad gateway"
		}
		return 200, signedBody(g.t, g.key, ResponseNode(m), as[i])
	}
}

func (s *script) sequence() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	short := make([]string, len(s.order))
	for i, m := range s.order {
		short[i] = strings.TrimPrefix(m, "alipay.trade.")
	}
	return strings.Join(short, " ")
}

// Answers of the gateway, as Alipay writes them.
const (
	f2fPaid    = `{"code":"10000","msg":"Success","buyer_logon_id":"abc***@sandbox.com","buyer_pay_amount":"12.00","buyer_user_id":"2088102177846880","fund_bill_list":[{"amount":"12.00","fund_channel":"ALIPAYACCOUNT"}],"gmt_payment":"2024-01-02 15:04:06","invoice_amount":"12.00","out_trade_no":"f1","point_amount":"0.00","receipt_amount":"12.00","total_amount":"12.00","trade_no":"2024010222001477460500000001"}`
	f2fPaying  = `{"code":"10003","msg":" order success pay inprocess","buyer_logon_id":"abc***@sandbox.com","buyer_pay_amount":"0.00","buyer_user_id":"2088102177846880","invoice_amount":"0.00","out_trade_no":"f1","point_amount":"0.00","receipt_amount":"0.00","total_amount":"2500.00","trade_no":"2024010222001477460500000001"}`
	f2fBadCode = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.PAYMENT_AUTH_CODE_INVALID","sub_msg":"支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款，如再次收款失败，请联系管理员处理。[SOUNDWAVE_PARSER_FAIL]","out_trade_no":"f1"}`
	f2f20000   = `{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}`
	f2fSysErr  = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"系统错误"}`
	f2fNoTrade = `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`
	f2fWaiting = `{"code":"10000","msg":"Success","out_trade_no":"f1","trade_no":"2024010222001477460500000001","trade_status":"WAIT_BUYER_PAY","total_amount":"2500.00","buyer_logon_id":"abc***@sandbox.com"}`
	f2fSuccess = `{"code":"10000","msg":"Success","out_trade_no":"f1","trade_no":"2024010222001477460500000001","trade_status":"TRADE_SUCCESS","total_amount":"2500.00","buyer_logon_id":"abc***@sandbox.com","send_pay_date":"2024-01-02 15:04:20"}`
	f2fClosed  = `{"code":"10000","msg":"Success","out_trade_no":"f1","trade_no":"2024010222001477460500000001","trade_status":"TRADE_CLOSED","total_amount":"2500.00"}`
	f2fClose   = `{"code":"10000","msg":"Success","action":"close","out_trade_no":"f1","retry_flag":"N","trade_no":"2024010222001477460500000001"}`
	f2fRefund  = `{"code":"10000","msg":"Success","action":"refund","gmt_refund_pay":"2024-01-02 15:04:40","out_trade_no":"f1","retry_flag":"N","trade_no":"2024010222001477460500000001"}`
	f2fRetry   = `{"code":"10000","msg":"Success","out_trade_no":"f1","retry_flag":"Y","trade_no":"2024010222001477460500000001"}`
)

var f2fRequest = FaceToFacePayRequest{TradePayRequest: TradePayRequest{OutTradeNo: "f1", TotalAmount: 250000, Subject: "柜台收款", AuthCode: "283654875600000001"}}

// Every branch of the face-to-face state machine against a gateway that
// answers from a script, with a clock that moves only when the payment
// waits.
func TestFaceToFacePay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answers map[string][]string
		want    FaceToFaceStatus
		wantErr func(error) bool
		calls   string          // the methods called, in order
		slept   []time.Duration // the waits
		action  CancelAction
	}{
		{name: "paid at once", answers: map[string][]string{"alipay.trade.pay": {f2fPaid}},
			want: FaceToFaceStatusPaid, calls: "pay"},
		{name: "refused", answers: map[string][]string{"alipay.trade.pay": {f2fBadCode}},
			wantErr: func(err error) bool {
				return HasSubCode(err, "ACQ.PAYMENT_AUTH_CODE_INVALID") && !IsUnknownOutcome(err)
			}, calls: "pay"},
		{name: "waits, then paid", answers: map[string][]string{"alipay.trade.pay": {f2fPaying}, "alipay.trade.query": {f2fWaiting, f2fWaiting, f2fSuccess}},
			want: FaceToFaceStatusPaid, calls: "pay query query query", slept: []time.Duration{5e9, 5e9, 5e9}},
		{name: "waits, then closed", answers: map[string][]string{"alipay.trade.pay": {f2fPaying}, "alipay.trade.query": {f2fWaiting, f2fClosed}},
			want: FaceToFaceStatusClosed, calls: "pay query query", slept: []time.Duration{5e9, 5e9}},
		{name: "never confirmed: cancelled", answers: map[string][]string{"alipay.trade.pay": {f2fPaying}, "alipay.trade.query": {f2fWaiting}, "alipay.trade.cancel": {f2fClose}},
			want: FaceToFaceStatusCancelled, action: CancelActionClose,
			calls: "pay query query query query query query cancel", slept: []time.Duration{5e9, 5e9, 5e9, 5e9, 5e9, 5e9}},
		{name: "confirmed as the cancel came: refunded", answers: map[string][]string{"alipay.trade.pay": {f2fPaying}, "alipay.trade.query": {f2fWaiting}, "alipay.trade.cancel": {f2fRefund}},
			want: FaceToFaceStatusCancelled, action: CancelActionRefund,
			calls: "pay query query query query query query cancel", slept: []time.Duration{5e9, 5e9, 5e9, 5e9, 5e9, 5e9}},
		{name: "queries that fail until the deadline", answers: map[string][]string{"alipay.trade.pay": {f2fPaying}, "alipay.trade.query": {""}, "alipay.trade.cancel": {f2fClose}},
			want: FaceToFaceStatusCancelled, action: CancelActionClose,
			calls: "pay query query query query query query cancel", slept: []time.Duration{5e9, 5e9, 5e9, 5e9, 5e9, 5e9}},
		{name: "20000, then found paid", answers: map[string][]string{"alipay.trade.pay": {f2f20000}, "alipay.trade.query": {f2fSuccess}},
			want: FaceToFaceStatusPaid, calls: "pay query"},
		{name: "SYSTEM_ERROR, then waiting, then paid", answers: map[string][]string{"alipay.trade.pay": {f2fSysErr}, "alipay.trade.query": {f2fWaiting, f2fSuccess}},
			want: FaceToFaceStatusPaid, calls: "pay query query", slept: []time.Duration{5e9}},
		{name: "no answer, no trade: cancelled at once", answers: map[string][]string{"alipay.trade.pay": {""}, "alipay.trade.query": {f2fNoTrade}, "alipay.trade.cancel": {f2fNoTrade}},
			want: FaceToFaceStatusClosed, calls: "pay query cancel"},
		{name: "no answer, trade arrives as the cancel does", answers: map[string][]string{"alipay.trade.pay": {""}, "alipay.trade.query": {f2fNoTrade}, "alipay.trade.cancel": {f2fClose}},
			want: FaceToFaceStatusCancelled, action: CancelActionClose, calls: "pay query cancel"},
		{name: "cancel repeated while unknown or asked to retry", answers: map[string][]string{"alipay.trade.pay": {""}, "alipay.trade.query": {f2fNoTrade}, "alipay.trade.cancel": {f2fSysErr, f2fRetry, f2fClose}},
			want: FaceToFaceStatusCancelled, action: CancelActionClose, calls: "pay query cancel cancel cancel", slept: []time.Duration{2e9, 2e9}},
		{name: "cancel never settles", answers: map[string][]string{"alipay.trade.pay": {""}, "alipay.trade.query": {f2fNoTrade}, "alipay.trade.cancel": {""}},
			wantErr: IsUnknownOutcome, calls: "pay query cancel cancel cancel", slept: []time.Duration{2e9, 2e9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newFakeGateway(t)
			s := &script{answers: tc.answers, calls: map[string]int{}}
			g.setReply(s.reply(g))
			clock := newFakeClock()
			c := g.client(t, clock.config)
			res, err := c.FaceToFacePay(t.Context(), f2fRequest)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil || res.Status != tc.want {
				t.Fatalf("result %+v, %v; want %s", res, err, tc.want)
			}
			if got := s.sequence(); got != tc.calls {
				t.Errorf("calls %q, want %q", got, tc.calls)
			}
			if !equalDurations(clock.slept, tc.slept) {
				t.Errorf("waits %v, want %v", clock.slept, tc.slept)
			}
			if err != nil {
				return
			}
			switch tc.want {
			case FaceToFaceStatusPaid:
				if res.TradeNo != "2024010222001477460500000001" || res.GmtPayment.IsZero() || res.TotalAmount == 0 || res.Cancel != nil {
					t.Errorf("paid result %+v", res)
				}
			case FaceToFaceStatusCancelled:
				if res.Cancel == nil || res.Cancel.Action != tc.action || res.Cancel.Raw == nil {
					t.Errorf("cancel %+v, want action %s", res.Cancel, tc.action)
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// What trade.pay sends, and how its answers read.
func TestTradePay(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	s := &script{answers: map[string][]string{"alipay.trade.pay": {f2fPaid, f2fPaying}}, calls: map[string]int{}}
	g.setReply(s.reply(g))
	c := g.client(t)
	p := TradePayRequest{OutTradeNo: "f1", TotalAmount: 1200, Subject: "柜台收款", AuthCode: "283654875600000001", StoreID: "S1"}
	r, err := c.TradePay(t.Context(), p)
	if err != nil || !r.Paid() || r.WaitingForBuyer || r.GmtPayment.IsZero() || r.TotalAmount != 1200 || r.BuyerUserID != "2088102177846880" {
		t.Fatalf("paid answer: %+v %v", r, err)
	}
	got := g.last(t)
	if got.Params["method"] != "alipay.trade.pay" || got.Params["notify_url"] != "https://shop.example/alipay/notify" {
		t.Errorf("params %v", got.Params)
	}
	for k, want := range map[string]any{"out_trade_no": "f1", "scene": "bar_code", "auth_code": "283654875600000001", "total_amount": "12.00", "subject": "柜台收款", "store_id": "S1"} {
		if got.Biz[k] != want {
			t.Errorf("biz %s = %v, want %v", k, got.Biz[k], want)
		}
	}
	r, err = c.TradePay(t.Context(), p)
	if err != nil || r.Paid() || !r.WaitingForBuyer || !r.GmtPayment.IsZero() || r.TradeNo == "" {
		t.Fatalf("10003 answer: %+v %v", r, err)
	}
	// A stored 10003 answer verifies again as an answer, not an error.
	var again TradePayResult
	if err := c.DecodeResponse(r.Raw, &again); err != nil || again.TradeNo != r.TradeNo {
		t.Fatalf("decoding the stored 10003 answer: %v", err)
	}
	// 10003 is an answer of trade.pay only.
	g.setReply(func(gotRequest) (int, string) {
		return 200, signedBody(t, g.key, "alipay_trade_query_response", `{"code":"10003","msg":" order success pay inprocess"}`)
	})
	if _, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "f1"}); err == nil {
		t.Error("a query answering 10003 was taken as a success")
	}
	for name, bad := range map[string]TradePayRequest{
		"no code":         {OutTradeNo: "f1", TotalAmount: 1, Subject: "s"},
		"letters":         {OutTradeNo: "f1", TotalAmount: 1, Subject: "s", AuthCode: "28365487560000000x"},
		"too long":        {OutTradeNo: "f1", TotalAmount: 1, Subject: "s", AuthCode: strings.Repeat("2", 33)},
		"scene":           {OutTradeNo: "f1", TotalAmount: 1, Subject: "s", AuthCode: "283654875600000001", Scene: "wave"},
		"no amount":       {OutTradeNo: "f1", Subject: "s", AuthCode: "283654875600000001"},
		"no out_trade_no": {TotalAmount: 1, Subject: "s", AuthCode: "283654875600000001"},
	} {
		if _, err := c.TradePay(t.Context(), bad); !errors.Is(err, ErrInvalidParam) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := c.FaceToFacePay(t.Context(), FaceToFacePayRequest{TradePayRequest: bad}); !errors.Is(err, ErrInvalidParam) {
			t.Errorf("face-to-face, %s: %v", name, err)
		}
	}
}

// Over OpenAPI v3 a payment waiting for its buyer is a 200 without
// gmt_payment.
func TestTradePayV3(t *testing.T) {
	t.Parallel()
	f := newFakeV3(t)
	c := f.client(t)
	f.setReply(func(v3Got) v3Reply {
		return v3Reply{status: 200, body: `{"out_trade_no":"f1","trade_no":"2024010222001477460500000001","total_amount":"2500.00","receipt_amount":"0.00"}`}
	})
	p := TradePayRequest{OutTradeNo: "f1", TotalAmount: 250000, Subject: "柜台收款", AuthCode: "283654875600000001", Scene: SceneSecurityCode}
	r, err := c.TradePay(t.Context(), p)
	if err != nil || !r.WaitingForBuyer {
		t.Fatalf("waiting answer: %+v %v", r, err)
	}
	got := f.last(t)
	if got.Method != "POST" || got.URI != "/sub/v3/alipay/trade/pay" || !strings.Contains(string(got.Body), `"scene":"security_code"`) {
		t.Errorf("request %s %s %s", got.Method, got.URI, got.Body)
	}
	f.setReply(func(v3Got) v3Reply {
		return v3Reply{status: 200, body: `{"out_trade_no":"f1","trade_no":"2024010222001477460500000001","total_amount":"12.00","gmt_payment":"2024-01-02 15:04:06"}`}
	})
	if r, err := c.TradePay(t.Context(), p); err != nil || !r.Paid() {
		t.Fatalf("paid answer: %+v %v", r, err)
	}
}

// A context that ends while the payment waits leaves its outcome unknown.
func TestFaceToFacePayContextEnds(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	s := &script{answers: map[string][]string{"alipay.trade.pay": {f2fPaying}, "alipay.trade.query": {f2fWaiting}}, calls: map[string]int{}}
	g.setReply(s.reply(g))
	ctx, cancel := context.WithCancel(t.Context())
	clock := newFakeClock()
	clock.onSleep = func(total time.Duration) {
		if total >= 10*time.Second {
			cancel()
		}
	}
	c := g.client(t, clock.config)
	_, err := c.FaceToFacePay(ctx, f2fRequest)
	if !IsUnknownOutcome(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if got := s.sequence(); got != "pay query" { // the second query never left: ctx had ended
		t.Errorf("calls %q", got)
	}
}
