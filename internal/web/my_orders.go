package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"alishop/internal/shop"
)

// myOrderTab is one tab of 我的订单: the orders it shows.
type myOrderTab struct {
	Key, Label string
	shows      func(shop.Order) bool
}

// myOrderTabs are 我的订单's tabs, in order; ?tab=KEY picks one, "" all.
var myOrderTabs = []myOrderTab{
	{"", "全部", func(shop.Order) bool { return true }},
	{"unpaid", "待付款", func(o shop.Order) bool { return o.Status == shop.StatusUnpaid }},
	{"to_ship", "待发货", func(o shop.Order) bool { return o.Stage() == shop.StageToShip }},
	{"shipped", "已发货", func(o shop.Order) bool { return o.Stage() == shop.StageShipped }},
	{"refund", "退款售后", func(o shop.Order) bool {
		return o.Status == shop.StatusPartiallyRefunded || o.Status == shop.StatusRefunded || o.RefundedFen > 0
	}},
}

// myOrderCard is one order of 我的订单 as its card shows it.
type myOrderCard struct {
	shop.Order
	Label        string // the state in the buyer's words
	Payable      bool   // 去付款 is offered
	Left         string // the time left to pay, e.g. 剩 23 分钟
	Reason       string // why a closed order was closed
	ImageVersion string // the goods' picture, "" for none
}

// timeLeft says how long is left to pay, rounded up to the minute.
func timeLeft(d time.Duration) string {
	if d < time.Minute {
		return "不到 1 分钟"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d 分钟", m)
	}
	return fmt.Sprintf("%d 小时 %d 分钟", m/60, m%60)
}

// maskedID is a user id as shown to its owner, "" for none.
func maskedID(uid string) string {
	if uid == "" {
		return ""
	}
	return shop.MaskUserID(uid)
}

// myOrders is GET /orders (我的订单): the orders made in this browser,
// newest first, each with its state in the buyer's words, its picture,
// 去付款 and the time left while it can be paid, why it was closed; the
// tabs (?tab=) show a part of them.
func (s *Server) myOrders(w http.ResponseWriter, r *http.Request) {
	tab := myOrderTabs[0]
	for _, t := range myOrderTabs {
		if t.Key == r.URL.Query().Get("tab") {
			tab = t
		}
	}
	nos := s.buyers.orders(r)
	uid := s.buyerID(r)
	if uid != "" {
		// A logged-in buyer's orders from any device: made while logged in,
		// or paid with the same Alipay account.
		theirs, err := s.alipayLogin.Orders(r.Context(), uid)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, no := range theirs {
			if !slices.Contains(nos, no) {
				nos = append(nos, no)
			}
		}
	}
	var orders []shop.Order
	for _, no := range nos {
		o, err := s.svc.Order(r.Context(), no)
		if shop.ErrorCode(err) == shop.ENOTFOUND {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		orders = append(orders, o)
	}
	slices.SortStableFunc(orders, func(a, b shop.Order) int { return b.CreatedAt.Compare(a.CreatedAt) })
	pictures := map[int64]string{}
	if len(orders) > 0 {
		goods, err := s.svc.ListGoods(r.Context(), true)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, g := range goods {
			pictures[g.ID] = g.ImageVersion
		}
	}
	now := s.svc.Now()
	var cards []myOrderCard
	for _, o := range orders {
		if !tab.shows(o) {
			continue
		}
		c := myOrderCard{Order: o, Label: o.Stage().Label(), Payable: s.svc.Payable(o), Reason: shop.ClosedReason(o),
			ImageVersion: pictures[o.GoodsID]}
		if c.Payable {
			c.Left = timeLeft(s.svc.PayDeadline(o).Sub(now))
		} else if o.Status == shop.StatusUnpaid {
			c.Label = "已过支付时间"
		}
		cards = append(cards, c)
	}
	s.render(w, r, http.StatusOK, "my_orders", "我的订单", map[string]any{"Cards": cards, "Any": len(orders) > 0,
		"Tabs": myOrderTabs, "Tab": tab.Key, "Nav": "orders", "LoginOn": s.alipayLogin != nil, "Buyer": maskedID(uid)})
}
