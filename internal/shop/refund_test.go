package shop

import (
	"strings"
	"testing"
	"time"

	"alishop/alipay/wire"
)

func TestDecideRefundNotification(t *testing.T) {
	t.Parallel()
	s := NewService(Config{Merchant: Merchant{AppID: "app", SellerID: "2088seller"}})
	order := func(st Status, refunded wire.Amount) *Order {
		return &Order{OutTradeNo: "o1", Amount: 36900, Status: st, TradeNo: "T1", RefundedFen: refunded}
	}
	stored := func(no string, amount wire.Amount, st RefundStatus) *Refund {
		return &Refund{OutTradeNo: "o1", OutRequestNo: no, Amount: amount, Status: st}
	}
	refund := func(status, fee, outBizNo string) *wire.Notification {
		return &wire.Notification{AppID: "app", SellerID: "2088seller", OutTradeNo: "o1", TradeNo: "T1", TotalAmount: 36900,
			TradeStatus: wire.TradeStatus(status), RefundFee: wire.MustAmount(fee), OutBizNo: outBizNo, GmtRefund: time.Now()}
	}
	for _, c := range []struct {
		name    string
		n       *wire.Notification
		o       *Order
		r       *Refund
		outcome Outcome
		settle  string
		review  bool
	}{
		{"partial refund", refund("TRADE_SUCCESS", "100.00", "R1"), order(StatusPaid, 0), stored("R1", 10000, RefundPending), OutcomeApplied, "R1", false},
		{"second partial", refund("TRADE_SUCCESS", "200.00", "R2"), order(StatusPartiallyRefunded, 10000), stored("R2", 10000, RefundPending), OutcomeApplied, "R2", false},
		{"full refund closes the trade", refund("TRADE_CLOSED", "369.00", "R3"), order(StatusPaid, 0), stored("R3", 36900, RefundPending), OutcomeApplied, "R3", false},
		{"repeat after refunded", refund("TRADE_CLOSED", "369.00", "R3"), order(StatusRefunded, 36900), stored("R3", 36900, RefundSucceeded), OutcomeDuplicate, "", false},
		{"failed here, made at Alipay, fits", refund("TRADE_SUCCESS", "50.00", "R6"), order(StatusPartiallyRefunded, 30000), stored("R6", 5000, RefundFailed), OutcomeApplied, "R6", false},
		{"failed here, room taken since", refund("TRADE_SUCCESS", "100.00", "R7"), order(StatusPartiallyRefunded, 30000), stored("R7", 10000, RefundFailed), OutcomeReview, "", true},
		{"not made by this shop", refund("TRADE_SUCCESS", "1.00", "X1"), order(StatusPaid, 0), nil, OutcomeReview, "", true},
		{"refund of an unpaid order", refund("TRADE_CLOSED", "369.00", "R3"), order(StatusUnpaid, 0), nil, OutcomeReview, "", true},
		{"refund of a closed order", refund("TRADE_SUCCESS", "1.00", "R4"), order(StatusClosed, 0), nil, OutcomeReview, "", true},
		{"no out_biz_no", refund("TRADE_SUCCESS", "1.00", ""), order(StatusPaid, 0), nil, OutcomeReview, "", true},
		{"wrong amount", func() *wire.Notification { n := refund("TRADE_SUCCESS", "1.00", "R5"); n.TotalAmount = 1; return n }(),
			order(StatusPaid, 0), nil, OutcomeAmountMismatch, "", true},
	} {
		d := decideNotification(s.merchant, c.n, c.o, c.r, decideAt)
		if d.Outcome != c.outcome || d.SettleRefund != c.settle || (d.Review != "") != c.review || d.Pay != nil || d.Close {
			t.Errorf("%s: %+v", c.name, d)
		}
		if c.outcome != OutcomeAmountMismatch && !d.Ack {
			t.Errorf("%s: not acknowledged", c.name)
		}
		if c.settle != "" && d.Detail != "refund "+c.settle {
			t.Errorf("%s: detail %q", c.name, d.Detail)
		}
	}
}

// A refund may be made of a paid order, within what is left once the
// refunds not failed are counted.
func TestRefundAllowed(t *testing.T) {
	t.Parallel()
	o := func(st Status) *Order { return &Order{Amount: 1000, Status: st} }
	for _, c := range []struct {
		o       *Order
		claimed wire.Amount
		amount  wire.Amount
		ok      bool
	}{
		{o(StatusPaid), 0, 1000, true},
		{o(StatusPaid), 0, 1001, false},
		{o(StatusPartiallyRefunded), 600, 400, true},
		{o(StatusPartiallyRefunded), 600, 401, false},
		{o(StatusUnpaid), 0, 1, false},
		{o(StatusClosed), 0, 1, false},
		{o(StatusRefunded), 1000, 1, false},
	} {
		err := RefundAllowed(c.o, c.claimed, c.amount)
		if (err == nil) != c.ok || err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("%s, %s claimed, refund %s: %v", c.o.Status, c.claimed, c.amount, err)
		}
	}
}

func TestRefundValidation(t *testing.T) {
	t.Parallel()
	rf := NewRefunds(NewService(Config{}), nil, nil)
	for _, c := range []struct {
		no     string
		amount wire.Amount
		reason string
		code   string
	}{
		{"bad/no", 100, "", ENOTFOUND},
		{"o1", 0, "", EINVALID},
		{"o1", -1, "", EINVALID},
		{"o1", 100, strings.Repeat("因", MaxRefundReason+1), EINVALID},
		{"o1", 100, "\xff", EINVALID},
	} {
		if _, err := rf.Request(t.Context(), c.no, c.amount, c.reason); ErrorCode(err) != c.code {
			t.Errorf("%q %s %q: %v, want %s", c.no, c.amount, c.reason, err, c.code)
		}
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a, b := NewOutRequestNo(now), NewOutRequestNo(now)
	if a == b || len(a) != 31 || !strings.HasPrefix(a, "R20261125200000") || !ValidOutTradeNo(a) {
		t.Errorf("out_request_no %q %q", a, b)
	}
}

func TestExpireAt(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if got := ExpireAt(Order{CreatedAt: created}, 0); !got.Equal(created.Add(DefaultOrderTTL)) {
		t.Errorf("no time_expire: %v", got)
	}
	te := created.Add(time.Hour)
	if got := ExpireAt(Order{CreatedAt: created, TimeExpire: te}, time.Minute); !got.Equal(te) {
		t.Errorf("time_expire: %v", got)
	}
}

// After its refund period a trade becomes TRADE_FINISHED, and Alipay's
// notification of it carries the refunds made so far in refund_fee without
// naming one (no out_biz_no, no gmt_refund; see the sandbox's finishTrade).
// When that total is what the order holds, nothing is wrong: the order must
// not be flagged for review. A total that disagrees still is.
func TestTradeFinishedAfterPartialRefund(t *testing.T) {
	t.Parallel()
	s := NewService(Config{Merchant: Merchant{AppID: "app", SellerID: "2088seller"}})
	o := &Order{OutTradeNo: "o1", Amount: 36900, Status: StatusPartiallyRefunded, TradeNo: "T1", RefundedFen: 10000}
	finished := func(fee string) *wire.Notification {
		return &wire.Notification{AppID: "app", SellerID: "2088seller", OutTradeNo: "o1", TradeNo: "T1", TotalAmount: 36900,
			TradeStatus: wire.TradeStatusFinished, RefundFee: wire.MustAmount(fee)}
	}
	d := decideNotification(s.merchant, finished("100.00"), o, nil, decideAt)
	if d.Review != "" || d.Outcome != OutcomeDuplicate || !d.Ack || d.Pay != nil || d.Close || d.SettleRefund != "" {
		t.Errorf("TRADE_FINISHED with the order's refunded total: %+v", d)
	}
	d = decideNotification(s.merchant, finished("200.00"), o, nil, decideAt)
	if d.Review == "" || d.Outcome != OutcomeReview || !d.Ack || d.Pay != nil || d.SettleRefund != "" {
		t.Errorf("TRADE_FINISHED with another refunded total: %+v", d)
	}
}
