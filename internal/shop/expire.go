package shop

import (
	"context"
	"time"

	"alishop/alipay/wire"
)

// DefaultOrderTTL is how long a buyer has to pay an order: it is sent to
// Alipay as time_expire, and after it the reconciler closes the trade.
const DefaultOrderTTL = 30 * time.Minute

// ExpireAt is when an order stops being payable: its time_expire, or for an
// order made without one, its creation plus ttl.
func ExpireAt(o Order, ttl time.Duration) time.Time {
	if !o.TimeExpire.IsZero() {
		return o.TimeExpire
	}
	if ttl <= 0 {
		ttl = DefaultOrderTTL
	}
	return o.CreatedAt.Add(ttl)
}

// ApplyClosed closes an unpaid order because Alipay closed its trade (an
// alipay.trade.close that succeeded) or never had one (ACQ.TRADE_NOT_EXIST
// after the order expired). It goes through the same recorded
// compare-and-set as notifications; raw is Alipay's answer, kept with the
// order's messages. A paid or closed order is left as it is.
func (s *Service) ApplyClosed(ctx context.Context, outTradeNo, method string, raw *wire.Response, detail string) (Decision, error) {
	in := &Inbound{Source: SourceQuery, ReceivedAt: s.now(), Method: method,
		Verified: true, OutTradeNo: outTradeNo, TradeStatus: "TRADE_CLOSED"}
	in.setAnswer(raw)
	return s.receive(ctx, in, func(o *Order, _ *Refund) Decision { return decideClosed(o, detail) })
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }
