package shop

import (
	"errors"
	"testing"
	"time"

	"alishop/alipay/wire"
)

// A pending refund confirms only its own order and amount, before it
// expires; none stored is refused as never issued.
func TestCheckPendingRefund(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := &PendingRefund{Key: "R1", OutTradeNo: "o1", Amount: 3000, CreatedAt: now, ExpiresAt: now.Add(PendingRefundTTL)}
	for _, c := range []struct {
		name string
		p    *PendingRefund
		no   string
		amt  int64
		at   time.Time
		ok   bool
	}{
		{"as issued", p, "o1", 3000, now.Add(time.Minute), true},
		{"just before it expires", p, "o1", 3000, now.Add(PendingRefundTTL - time.Millisecond), true},
		{"never issued", nil, "o1", 3000, now, false},
		{"another order", p, "o2", 3000, now, false},
		{"another amount", p, "o1", 3001, now, false},
		{"expired", p, "o1", 3000, now.Add(PendingRefundTTL), false},
	} {
		err := CheckPendingRefund(c.p, c.no, wire.Amount(c.amt), c.at)
		if (err == nil) != c.ok || err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.p == nil && !errors.Is(err, ErrPendingRefundNotFound) {
			t.Errorf("%s: %v, want ErrPendingRefundNotFound", c.name, err)
		}
	}
}
