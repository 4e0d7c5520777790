package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"alishop/internal/shop"
)

// The fulfilment of orders: the owner's 发货, the buyer's 确认收货 and the
// lookup of an order from another device.

// carriers are offered in the ship form (any other may be typed).
var carriers = []string{"顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递", "京东物流", "邮政EMS", "中国邮政"}

// adminShip is POST /admin/orders/{out_trade_no}/ship (form carrier,
// tracking_no): 待发货 → 已发货. A refused shipment shows the order again
// with the message next to the form (422, or 409 when it was shipped
// otherwise already).
func (s *Server) adminShip(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	no := r.PathValue("out_trade_no")
	carrier, trackingNo := r.PostFormValue("carrier"), r.PostFormValue("tracking_no")
	o, err := s.svc.Ship(r.Context(), no, carrier, trackingNo)
	if c := shop.ErrorCode(err); c == shop.EINVALID || c == shop.ECONFLICT {
		s.renderAdminOrderWith(w, r, statusOf(c), no, "", "", "", map[string]any{
			"ShipError": shop.ErrorMessage(err), "Carrier": truncate(carrier, 64), "TrackingNo": truncate(trackingNo, 64)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("order shipped", "out_trade_no", o.OutTradeNo, "carrier", o.Carrier)
	http.Redirect(w, r, "/admin/orders/"+url.PathEscape(no)+"?shipped=1", http.StatusSeeOther)
}

// receiveOrder is POST /orders/{out_trade_no}/receive (确认收货): 已发货 →
// 已完成, from a browser that holds the order (made it, or looked it up).
func (s *Server) receiveOrder(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	no := r.PathValue("out_trade_no")
	if !s.buyers.has(r, no) {
		s.renderErrorPage(w, r, http.StatusForbidden, errorPage{Heading: "无法确认收货",
			Message: "只有下单时使用的浏览器，或用订单号和手机号查询过该订单的浏览器，才能确认收货。",
			Next:    []nextStep{{Text: "查询订单", Href: "/orders/lookup"}, {Text: "返回首页", Href: "/"}}})
		return
	}
	o, err := s.svc.Receive(r.Context(), no)
	if err != nil {
		s.orderFailed(w, r, o, err)
		return
	}
	s.log.Info("order received by its buyer", "out_trade_no", o.OutTradeNo)
	http.Redirect(w, r, "/orders/"+url.PathEscape(no)+"?done=received", http.StatusSeeOther)
}

// lookupPage is GET /orders/lookup: the form that finds an order by its
// number and the receiver's phone number.
func (s *Server) lookupPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "lookup", "查询订单", map[string]any{"No": truncate(r.URL.Query().Get("out_trade_no"), 64), "Nav": "orders"})
}

// lookupOrder is POST /orders/lookup (form out_trade_no, phone): when both
// match an order, the browser is given the order as if it had made it (the
// 我的订单 cookie) and sent to its page. An unknown order and a wrong phone
// get the same page (404), and each client address has a budget of
// attempts (429 past it), so a phone number cannot be guessed.
func (s *Server) lookupOrder(w http.ResponseWriter, r *http.Request) {
	if ok, retry := s.lookups.allow(clientKey(r)); !ok {
		s.log.Warn("order lookup rate limit", "client", clientString(r))
		s.tooMany(w, r, retry, "查询次数过多，请稍后再试。")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	no := truncate(strings.TrimSpace(r.PostFormValue("out_trade_no")), 64)
	phone := truncate(strings.TrimSpace(r.PostFormValue("phone")), 32)
	o, err := s.svc.LookupOrder(r.Context(), no, phone)
	if errors.Is(err, shop.ErrLookupFailed) {
		s.render(w, r, http.StatusNotFound, "lookup", "查询订单", map[string]any{"No": no, "Error": shop.ErrorMessage(err), "Nav": "orders"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.buyers.add(w, r, o.OutTradeNo)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/orders/"+url.PathEscape(o.OutTradeNo), http.StatusSeeOther)
}

// autoCompleteAt is when a shipped order completes by itself.
func (s *Server) autoCompleteAt(o shop.Order) time.Time {
	if o.ShippedAt.IsZero() {
		return time.Time{}
	}
	return o.ShippedAt.Add(s.svc.AutoCompleteAfter())
}

// timelineEntry is one line of the admin's 订单记录.
type timelineEntry struct {
	At   time.Time
	Text string
}

// orderTimeline is every change of an order, oldest first, with its time
// and who made it: the order made by the buyer, its payment as Alipay's
// message or the shop's query made it known, its close, the refunds, and
// the fulfilment events.
func orderTimeline(o shop.Order, events []shop.OrderEvent, refunds []shop.Refund) []timelineEntry {
	out := []timelineEntry{{o.CreatedAt, "买家下单"}}
	if !o.PaidAt.IsZero() {
		text := "买家付款"
		if v := paidViaLabel(o.PaidVia); v != "" {
			text += "（支付宝" + v + "确认）"
		}
		out = append(out, timelineEntry{o.PaidAt, text})
	}
	if !o.PaidAt.IsZero() && !o.Shipping {
		out = append(out, timelineEntry{o.PaidAt, "虚拟商品，付款即完成"})
	}
	if !o.ClosedAt.IsZero() {
		out = append(out, timelineEntry{o.ClosedAt, "订单关闭：" + shop.ClosedReason(o)})
	}
	for _, rf := range refunds {
		out = append(out, timelineEntry{rf.CreatedAt, "商家发起退款 " + rf.Amount.String() + " 元"})
		if !rf.SettledAt.IsZero() {
			out = append(out, timelineEntry{rf.SettledAt, "支付宝退款成功 " + rf.Amount.String() + " 元"})
		}
	}
	for _, e := range events {
		text := e.Actor.Label() + e.Kind.Label()
		switch {
		case e.Kind == shop.EventRestocked:
			text += " " + e.Detail + " 件"
		case e.Detail != "":
			text += "：" + e.Detail
		}
		out = append(out, timelineEntry{e.At, text})
	}
	slices.SortStableFunc(out, func(a, b timelineEntry) int { return a.At.Compare(b.At) })
	return out
}
