package shop

import (
	"testing"
	"time"

	"alishop/alipay/wire"
)

// The payer's user id travels from a notification or a query answer to the
// payment; anything that is not a user id (an open_id) names no one.
func TestPaymentBuyerUserID(t *testing.T) {
	t.Parallel()
	m := Merchant{AppID: "app"}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, wire.Beijing)
	for _, c := range []struct{ given, want string }{{"2088102177846880", "2088102177846880"}, {"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", ""}, {"", ""}} {
		o := &Order{OutTradeNo: "o1", Amount: 100, Status: StatusUnpaid}
		d := decideNotification(m, &wire.Notification{AppID: "app", OutTradeNo: "o1", TradeNo: "T1", TotalAmount: 100,
			TradeStatus: wire.TradeStatusSuccess, BuyerID: c.given}, o, nil, now)
		if d.Pay == nil || d.Pay.BuyerUserID != c.want {
			t.Errorf("notification buyer_id %q: %+v", c.given, d.Pay)
		}
		q := decideQuery("o1", &wire.TradeQueryResult{OutTradeNo: "o1", TradeNo: "T1", TotalAmount: 100,
			TradeStatus: wire.TradeStatusSuccess, BuyerUserID: c.given}, o, now)
		if q.Pay == nil || q.Pay.BuyerUserID != c.want {
			t.Errorf("query buyer_user_id %q: %+v", c.given, q.Pay)
		}
	}
}

func TestLoginState(t *testing.T) {
	t.Parallel()
	const s = "0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		bound, got string
		ok         bool
	}{{s, s, true}, {s, s[:31] + "0", false}, {"", "", false}, {"short", "short", false}, {s, "", false}} {
		if LoginStateOK(c.bound, c.got) != c.ok {
			t.Errorf("LoginStateOK(%q, %q) != %v", c.bound, c.got, c.ok)
		}
	}
	for id, ok := range map[string]bool{"2088102177846880": true, "2088102177846": false, "1088102177846880": false, "2088a02177846880": false} {
		if ValidUserID(id) != ok {
			t.Errorf("ValidUserID(%q) != %v", id, ok)
		}
	}
	if MaskUserID("2088102177846880") != "2088****6880" {
		t.Error(MaskUserID("2088102177846880"))
	}
}
