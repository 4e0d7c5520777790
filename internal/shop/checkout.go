package shop

import (
	"context"
	"fmt"
	"time"

	"alishop/alipay"
)

// Channel is how a buyer pays at Alipay's cashier.
type Channel string

// Channels: page pay (alipay.trade.page.pay, FAST_INSTANT_TRADE_PAY) for
// desktop browsers, wap pay (alipay.trade.wap.pay, QUICK_WAP_WAY) for phone
// browsers.
const (
	ChannelPage Channel = "page"
	ChannelWap  Channel = "wap"
)

// CreateOrderVia creates an unpaid order for one goods item, like
// CreateOrder, and returns the signed gateway URL of channel ch. The
// payment request is signed before the order is stored, so a checkout that
// cannot be signed leaves no order behind.
func (s *Service) CreateOrderVia(ctx context.Context, goodsID int64, ch Channel) (Order, string, error) {
	g, err := s.store.Goods(ctx, goodsID)
	if err != nil {
		return Order{}, "", err
	}
	if g.Hidden {
		return Order{}, "", ErrGoodsHidden
	}
	now := s.now()
	o := Order{
		OutTradeNo: NewOutTradeNo(now),
		GoodsID:    goodsID,
		Status:     StatusUnpaid,
		CreatedAt:  now,
		UpdatedAt:  now,
		// Alipay takes time_expire to the second; the order keeps the same.
		TimeExpire: now.Add(s.ttl).Truncate(time.Second),
	}
	signed := o
	signed.Subject, signed.Amount = g.Name, g.Price
	u, err := s.payURL(signed, ch)
	if err != nil {
		return Order{}, "", err
	}
	if err := s.store.CreateOrder(ctx, &o); err != nil {
		return Order{}, "", err
	}
	s.obs.OrderCreated()
	if o.Subject != g.Name || o.Amount != g.Price {
		// The goods changed between the read and the insert: the order
		// holds what it was made with, and so must the payment request.
		if u, err = s.payURL(o, ch); err != nil {
			return Order{}, "", err
		}
	}
	return o, u, nil
}

// ContinuePayment returns a freshly signed gateway URL for an unpaid order
// whose time to pay has not run out: the same out_trade_no, amount, subject
// and time_expire as the first request, so Alipay reopens the same trade
// and a buyer can never pay one order twice.
func (s *Service) ContinuePayment(ctx context.Context, outTradeNo string, ch Channel) (Order, string, error) {
	o, err := s.Order(ctx, outTradeNo)
	if err != nil {
		return Order{}, "", err
	}
	switch o.Status {
	case StatusUnpaid:
	case StatusClosed:
		return o, "", Errorf(ECONFLICT, "订单已关闭，不能继续付款，请重新购买")
	default:
		return o, "", Errorf(ECONFLICT, "订单已付款，无需再次付款")
	}
	if !s.now().Before(ExpireAt(o, s.ttl)) {
		return o, "", Errorf(ECONFLICT, "订单已超过支付截止时间，不能继续付款，请重新购买")
	}
	u, err := s.payURL(o, ch)
	return o, u, err
}

func (s *Service) payURL(o Order, ch Channel) (string, error) {
	p := alipay.TradePagePayRequest{OutTradeNo: o.OutTradeNo, TotalAmount: o.Amount, Subject: PaySubject(o.Subject),
		TimeExpire: ExpireAt(o, s.ttl)}
	var u string
	var err error
	if ch == ChannelWap {
		if s.quitURL != nil {
			p.QuitURL = s.quitURL(o.OutTradeNo)
		}
		u, err = s.gw.TradeWapPayURL(p)
	} else {
		u, err = s.gw.TradePagePayURL(p)
	}
	if err != nil {
		return "", fmt.Errorf("signing %s pay for %s: %w", ch, o.OutTradeNo, err)
	}
	return u, nil
}

// Payable reports whether a buyer can still pay o: it is unpaid and its
// time to pay has not run out.
func (s *Service) Payable(o Order) bool {
	return o.Status == StatusUnpaid && s.now().Before(ExpireAt(o, s.ttl))
}

// PayDeadline is when o stops being payable.
func (s *Service) PayDeadline(o Order) time.Time { return ExpireAt(o, s.ttl) }
