package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/internal/shop"
)

// 我的订单 shows each order in the buyer's words: an unpaid one as 待付款
// with the time left and 去付款, a closed one with why and 重新购买; its
// tabs show a part of the orders.
func TestMyOrdersCards(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var cookie *http.Cookie
	buy := func() string {
		t.Helper()
		req, _ := http.NewRequest("POST", h.srv.URL+"/orders", strings.NewReader(url.Values{"goods_id": {itoa(h.goods.ID)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var cs []*http.Cookie
		if cookie != nil {
			cs = append(cs, cookie)
		}
		resp, _ := h.send(req, cs)
		if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
			t.Fatalf("buying: %s", resp.Status)
		}
		cookie = resp.Cookies()[0]
		loc, _ := url.Parse(resp.Header.Get("Location"))
		biz := loc.Query().Get("biz_content")
		no := biz[strings.Index(biz, `"out_trade_no":"`)+len(`"out_trade_no":"`):]
		return no[:strings.IndexByte(no, '"')]
	}
	closed, unpaid := buy(), buy()
	if _, err := h.db.Receive(t.Context(), &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: time.Now(), OutTradeNo: closed, Verified: true},
		func(o *shop.Order, _ *shop.Refund) shop.Decision {
			return shop.Decision{Outcome: shop.OutcomeApplied, Close: true}
		}); err != nil {
		t.Fatal(err)
	}
	_, page := h.get("/orders", cookie)
	for _, want := range []string{
		`<span class="status status-unpaid">待付款</span>`,
		`id="left-` + unpaid + `">剩 30 分钟自动关闭</span>`,
		`<form method="post" action="/orders/` + unpaid + `/pay"><button type="submit" class="small" id="pay-` + unpaid + `">去付款</button>`,
		`<span class="status status-closed">已关闭</span>`,
		`id="reason-` + closed + `">交易已关闭</span>`,
		`id="again-` + closed + `">重新购买</button>`,
		`aria-current="page" data-tab="">全部</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("我的订单 lacks %s", want)
		}
	}
	if strings.Contains(page, "未支付") {
		t.Error("我的订单 says 未支付")
	}
	_, page = h.get("/orders?tab=unpaid", cookie)
	if strings.Count(page, `<li class="order-card"`) != 1 || !strings.Contains(page, unpaid) || !strings.Contains(page, `aria-current="page" data-tab="unpaid"`) {
		t.Errorf("the 待付款 tab:\n%s", section(page, `id="order-tabs"`))
	}
	if _, page = h.get("/orders?tab=refund", cookie); strings.Contains(page, `<li class="order-card"`) || !strings.Contains(page, `id="tab-empty"`) {
		t.Error("the 退款售后 tab shows orders")
	}
	_, page = h.get("/orders/" + closed)
	if !strings.Contains(page, `<dd id="closed-reason">交易已关闭</dd>`) {
		t.Error("the closed order's page gives no reason")
	}
}
