package shop

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"alishop/alipay/wire"
)

// decideAt is the time the decision tests decide at.
var decideAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestStatus(t *testing.T) {
	t.Parallel()
	want := map[Status]string{StatusUnpaid: "未支付", StatusPaid: "已支付", StatusClosed: "已关闭",
		StatusPartiallyRefunded: "部分退款", StatusRefunded: "已退款"}
	for s, label := range want {
		if !s.Valid() || s.Label() != label {
			t.Errorf("%s: valid %v label %q", s, s.Valid(), s.Label())
		}
	}
	if Status("pending").Valid() || len(Statuses()) != len(want) {
		t.Error("unknown status accepted, or Statuses incomplete")
	}
}

func TestOutTradeNo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		n := NewOutTradeNo(now)
		if !ValidOutTradeNo(n) || !strings.HasPrefix(n, "20261125200000") || len(n) != 38 || seen[n] {
			t.Fatalf("out_trade_no %q", n)
		}
		seen[n] = true
	}
	for _, bad := range []string{"", "a-b", "a b", "订单", strings.Repeat("a", 65), "a/b", "a%2F"} {
		if ValidOutTradeNo(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidateGoods(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		g  Goods
		ok bool
	}{
		{Goods{Name: "机械键盘", Price: 378800}, true},
		{Goods{Name: strings.Repeat("长", 64), Price: 1}, true},
		{Goods{Name: "", Price: 1}, false},
		{Goods{Name: strings.Repeat("长", 65), Price: 1}, false},
		{Goods{Name: "a\nb", Price: 1}, false},
		{Goods{Name: "x", Price: 0}, false},
		{Goods{Name: "x", Price: -1}, false},
		{Goods{Name: "x", Price: wire.MaxAmount + 1}, false},
		{Goods{Name: "\xff", Price: 1}, false},
	} {
		if err := ValidateGoods(&c.g); (err == nil) != c.ok || (err != nil && ErrorCode(err) != EINVALID) {
			t.Errorf("%+v: %v", c.g, err)
		}
	}
}

// TestDecideNotification is the decision table behind the notify endpoint.
func TestDecideNotification(t *testing.T) {
	t.Parallel()
	s := NewService(Config{Merchant: Merchant{AppID: "app", SellerID: "2088seller"}})
	unpaid := &Order{OutTradeNo: "o1", Amount: 36900, Status: StatusUnpaid}
	paid := &Order{OutTradeNo: "o1", Amount: 36900, Status: StatusPaid, TradeNo: "T1"}
	closed := &Order{OutTradeNo: "o1", Amount: 36900, Status: StatusClosed}
	n := func(kv ...string) *wire.Notification {
		x := &wire.Notification{AppID: "app", SellerID: "2088seller", OutTradeNo: "o1", TradeNo: "T1",
			TotalAmount: 36900, TradeStatus: "TRADE_SUCCESS"}
		for i := 0; i < len(kv); i += 2 {
			switch kv[i] {
			case "app":
				x.AppID = kv[i+1]
			case "seller":
				x.SellerID = kv[i+1]
			case "amount":
				x.TotalAmount = wire.MustAmount(kv[i+1])
			case "status":
				x.TradeStatus = wire.TradeStatus(kv[i+1])
			case "trade":
				x.TradeNo = kv[i+1]
			case "refund":
				x.RefundFee = wire.MustAmount(kv[i+1])
			}
		}
		return x
	}
	for _, c := range []struct {
		name    string
		n       *wire.Notification
		o       *Order
		outcome Outcome
		ack     bool
		pay     bool
		close   bool
		review  bool
	}{
		{"paid", n(), unpaid, OutcomeApplied, true, true, false, false},
		{"finished", n("status", "TRADE_FINISHED"), unpaid, OutcomeApplied, true, true, false, false},
		{"duplicate", n(), paid, OutcomeDuplicate, true, false, false, false},
		{"another trade", n("trade", "T2"), paid, OutcomeReview, true, false, false, true},
		{"paid after close: kept, flagged", n(), closed, OutcomeApplied, true, true, false, true},
		{"wait buyer pay", n("status", "WAIT_BUYER_PAY"), unpaid, OutcomeIgnored, true, false, false, false},
		{"closed", n("status", "TRADE_CLOSED"), unpaid, OutcomeApplied, true, false, true, false},
		{"refund without out_biz_no", n("refund", "1.00"), paid, OutcomeReview, true, false, false, true},
		{"wrong app", n("app", "other"), unpaid, OutcomeWrongApp, false, false, false, false},
		{"wrong seller", n("seller", "2088other"), unpaid, OutcomeWrongSeller, false, false, false, false},
		{"unknown order", n(), nil, OutcomeUnknownOrder, false, false, false, false},
		{"amount", n("amount", "0.01"), unpaid, OutcomeAmountMismatch, false, false, false, true},
		{"amount on a paid order", n("amount", "369.01"), paid, OutcomeAmountMismatch, false, false, false, true},
	} {
		d := decideNotification(s.merchant, c.n, c.o, nil, decideAt)
		if d.Outcome != c.outcome || d.Ack != c.ack || (d.Pay != nil) != c.pay || d.Close != c.close || (d.Review != "") != c.review {
			t.Errorf("%s: %+v", c.name, d)
		}
		if d.Pay != nil && (d.Pay.TradeNo != c.n.TradeNo || d.Pay.Via != SourceNotify || d.Pay.PaidAt.IsZero()) {
			t.Errorf("%s: payment %+v", c.name, d.Pay)
		}
	}
}

func TestDecideQuery(t *testing.T) {
	t.Parallel()
	unpaid := &Order{OutTradeNo: "o1", Amount: 36900, Status: StatusUnpaid}
	q := func(status string, amount wire.Amount) *wire.TradeQueryResult {
		return &wire.TradeQueryResult{OutTradeNo: "o1", TradeNo: "T1", TradeStatus: wire.TradeStatus(status), TotalAmount: amount, SendPayDate: time.Date(2026, 11, 25, 20, 0, 0, 0, wire.Beijing)}
	}
	if d := decideQuery("o1", q("TRADE_SUCCESS", 36900), unpaid, decideAt); d.Outcome != OutcomeApplied || d.Pay == nil || d.Pay.Via != SourceQuery ||
		!d.Pay.PaidAt.Equal(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("paid: %+v", d)
	}
	if d := decideQuery("o1", q("WAIT_BUYER_PAY", 36900), unpaid, decideAt); d.Outcome != OutcomeIgnored || d.Pay != nil {
		t.Errorf("waiting: %+v", d)
	}
	if d := decideQuery("o1", q("TRADE_SUCCESS", 1), unpaid, decideAt); d.Outcome != OutcomeAmountMismatch || d.Pay != nil || d.Review == "" {
		t.Errorf("amount: %+v", d)
	}
	if d := decideQuery("o1", q("TRADE_CLOSED", 36900), unpaid, decideAt); !d.Close {
		t.Errorf("closed: %+v", d)
	}
	other := q("TRADE_SUCCESS", 36900)
	other.OutTradeNo = "o2"
	if d := decideQuery("o1", other, unpaid, decideAt); d.Pay != nil {
		t.Errorf("answer for another order applied: %+v", d)
	}
}

// failingStore fails the first Receive, as a locked database would, and
// records what is stored after.
type failingStore struct {
	Store
	calls  int
	stored []*Inbound
	outc   []Outcome
}

func (f *failingStore) Receive(ctx context.Context, m *Inbound, decide Decide) (Decision, error) {
	f.calls++
	if f.calls == 1 {
		return Decision{}, errors.New("database is locked")
	}
	d := decide(nil, nil)
	f.stored, f.outc = append(f.stored, m), append(f.outc, d.Outcome)
	return d, nil
}

type verifyAll struct{ Gateway }

func (verifyAll) VerifyNotification(form []byte) (*wire.Notification, error) {
	return &wire.Notification{AppID: "app", OutTradeNo: "o1", TradeStatus: "TRADE_SUCCESS", TotalAmount: 1}, nil
}

// TestNotificationNotCommitted: when the transaction fails the answer is
// an error (never "success") and the raw body is still kept.
func TestNotificationNotCommitted(t *testing.T) {
	t.Parallel()
	st := &failingStore{}
	s := NewService(Config{Store: st, Gateway: verifyAll{}, Merchant: Merchant{AppID: "app"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d, err := s.HandleNotification(context.Background(), Received{Body: []byte("raw=1")})
	if err == nil || d.Ack {
		t.Fatalf("failed commit answered %+v, %v", d, err)
	}
	if len(st.stored) != 1 || string(st.stored[0].Body) != "raw=1" || st.stored[0].OutTradeNo != "" || st.outc[0] != OutcomeFailed {
		t.Fatalf("kept %+v %v", st.stored, st.outc)
	}
}

func TestPaySubject(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("长", 300)
	for _, c := range []struct{ in, want string }{
		{"A/B=C&D 测试", "A／B＝C＆D 测试"},
		{"普通商品", "普通商品"},
		{"a\x00b\tc", "abc"},
		{"\x01 ", "商品"},
		{"", "商品"},
		{long, strings.Repeat("长", MaxSubject)},
	} {
		got := PaySubject(c.in)
		if got != c.want {
			t.Errorf("PaySubject(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.ContainsAny(got, "/=&") || len([]rune(got)) > MaxSubject || got == "" {
			t.Errorf("PaySubject(%q) = %q: not a valid subject", c.in, got)
		}
	}
}

// goodsStore sells one goods item and records created orders.
type goodsStore struct {
	Store
	g      Goods
	orders int
}

func (s *goodsStore) Goods(ctx context.Context, id int64) (Goods, error) {
	if id != s.g.ID {
		return Goods{}, ErrGoodsNotFound
	}
	return s.g, nil
}

func (s *goodsStore) CreateOrder(ctx context.Context, o *Order) error {
	s.orders++
	o.Subject, o.Amount = s.g.Name, s.g.Price
	return nil
}

type failSign struct{ Gateway }

func (failSign) TradePagePayURL(wire.TradePagePayRequest) (string, error) {
	return "", errors.New("signing failed")
}

// A checkout whose payment request cannot be signed stores no order.
func TestCheckoutUnsignedLeavesNoOrder(t *testing.T) {
	t.Parallel()
	st := &goodsStore{g: Goods{ID: 1, Name: "x", Price: 100}}
	s := NewService(Config{Store: st, Gateway: failSign{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, _, err := s.CreateOrder(context.Background(), 1); err == nil || st.orders != 0 {
		t.Fatalf("CreateOrder: %v, %d orders stored", err, st.orders)
	}
	st.g.Hidden = true
	if _, _, err := s.CreateOrder(context.Background(), 1); err != ErrGoodsHidden || st.orders != 0 {
		t.Fatalf("hidden goods: %v, %d orders", err, st.orders)
	}
}

func TestBuyerWords(t *testing.T) {
	expire := time.Date(2026, 6, 18, 10, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		o    Order
		want string
	}{
		{Order{Status: StatusClosed, TimeExpire: expire, ClosedAt: expire.Add(time.Minute)}, "超时未付款"},
		{Order{Status: StatusClosed, TimeExpire: expire, ClosedAt: expire}, "超时未付款"},
		{Order{Status: StatusClosed, TimeExpire: expire, ClosedAt: expire.Add(-time.Minute)}, "交易已关闭"},
		{Order{Status: StatusClosed, ClosedAt: expire}, "交易已关闭"},
		{Order{Status: StatusPaid, TimeExpire: expire}, ""},
	} {
		if got := ClosedReason(c.o); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
	if StatusUnpaid.BuyerLabel() != "待付款" || StatusPaid.BuyerLabel() != "已支付" {
		t.Error("buyer labels")
	}
}

// TestDecideTradePay: a counter payment's answer pays the order with the
// buyer's user id (a malformed one is dropped); USERPAYING changes nothing.
func TestDecideTradePay(t *testing.T) {
	t.Parallel()
	unpaid := &Order{OutTradeNo: "p1", Amount: 1200, Status: StatusUnpaid}
	paid := &wire.TradePayResult{OutTradeNo: "p1", TradeNo: "T9", TotalAmount: 1200, BuyerUserID: "2088102177846880"}
	if d := decideTradePay("p1", paid, unpaid, decideAt); d.Outcome != OutcomeApplied || d.Pay == nil || d.Pay.Via != SourcePay ||
		d.Pay.BuyerUserID != "2088102177846880" || !d.Pay.PaidAt.Equal(decideAt) {
		t.Errorf("paid: %+v", d)
	}
	bad := *paid
	bad.BuyerUserID = "<script>"
	if d := decideTradePay("p1", &bad, unpaid, decideAt); d.Pay == nil || d.Pay.BuyerUserID != "" {
		t.Errorf("malformed user id kept: %+v", d)
	}
	waiting := *paid
	waiting.WaitingForBuyer = true
	if d := decideTradePay("p1", &waiting, unpaid, decideAt); d.Outcome != OutcomeIgnored || d.Pay != nil {
		t.Errorf("waiting: %+v", d)
	}
}
