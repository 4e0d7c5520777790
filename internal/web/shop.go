package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

func (s *Server) goodsPage(w http.ResponseWriter, r *http.Request) {
	goods, err := s.svc.ListGoods(r.Context(), false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "goods", "全部商品", map[string]any{"Goods": goods, "Home": true, "Nav": "home"})
}

func (s *Server) orderPage(w http.ResponseWriter, r *http.Request) {
	o, err := s.svc.Order(r.Context(), r.PathValue("out_trade_no"))
	if err != nil {
		s.orderFailed(w, r, o, err)
		return
	}
	access := s.buyers.has(r, o.OutTradeNo)
	data := map[string]any{"Order": o, "Payable": s.svc.Payable(o), "Deadline": s.svc.PayDeadline(o), "Stage": o.Stage(),
		"Access": access, "AutoCompleteAt": s.autoCompleteAt(o)}
	if r.URL.Query().Get("done") == "received" && o.Stage() == shop.StageCompleted {
		data["Notice"], data["NoticeClass"] = "已确认收货，订单已完成。感谢您的购买！", "ok"
	}
	data["BuyAgain"] = buyAgain(o)
	if access && shop.DeliveryNoteShown(o) {
		// Virtual goods, paid, in the browser that holds the order: what the
		// buyer bought (the goods' note as it is now). It is shown here
		// only, never listed or logged.
		if g, err := s.svc.Goods(r.Context(), o.GoodsID); err == nil && g.DeliveryNote != "" {
			data["DeliveryNote"] = g.DeliveryNote
		}
	}
	switch r.URL.Query().Get("checked") {
	case "paid":
		data["Notice"], data["NoticeClass"] = "支付宝已确认付款，感谢您的购买。", "ok"
	case "closed":
		data["Notice"], data["NoticeClass"] = "支付宝显示该交易已关闭，订单未付款。", "warn"
	case "unpaid":
		data["Notice"], data["NoticeClass"] = "支付宝尚未收到这笔订单的付款。如您刚刚付款，请稍候再查询。", "warn"
	case "done":
		data["Notice"], data["NoticeClass"] = "订单状态已是最新。", "ok"
	case "unavailable":
		data["Notice"], data["NoticeClass"] = "暂时无法连接支付宝查询，请稍后再试。", "bad"
	}
	s.render(w, r, http.StatusOK, "order", "订单详情", data)
}

// syncOrder is POST /orders/{out_trade_no}/sync (查询支付结果): ask Alipay
// about an unpaid order, for a buyer whose notification has not arrived
// (a shop without a public address) and who closed the return page.
func (s *Server) syncOrder(w http.ResponseWriter, r *http.Request) {
	if s.limitCheckout(w, r) {
		return
	}
	no := r.PathValue("out_trade_no")
	before, err := s.svc.Order(r.Context(), no)
	if err != nil {
		s.orderFailed(w, r, before, err)
		return
	}
	checked := "done"
	if before.Status == shop.StatusUnpaid {
		o, err := s.svc.SyncOrder(r.Context(), no)
		switch {
		case shop.ErrorCode(err) == shop.EUNAVAILABLE:
			s.log.Warn("sync order", "out_trade_no", no, "err", err)
			checked = "unavailable"
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			checked = string(o.Status)
			if o.Status != shop.StatusUnpaid && o.Status != shop.StatusClosed {
				checked = "paid"
			}
		}
	}
	http.Redirect(w, r, "/orders/"+url.PathEscape(no)+"?checked="+checked, http.StatusSeeOther)
}

// OrderJSON is the body of GET /api/orders/{out_trade_no}.
type OrderJSON struct {
	OutTradeNo  string      `json:"out_trade_no"`
	Status      shop.Status `json:"status"`
	StatusLabel string      `json:"status_label"`
	// Stage is the order's fulfilment stage (unpaid, to_ship, shipped,
	// completed, refunded, closed) and StageLabel its Chinese name.
	Stage      shop.Stage    `json:"stage"`
	StageLabel string        `json:"stage_label"`
	Quantity   int           `json:"quantity"`
	Amount     alipay.Amount `json:"amount"`
	Goods      string        `json:"goods"`
	GoodsID    int64         `json:"goods_id"`
	TradeNo    string        `json:"trade_no,omitempty"`
	PaidVia    string        `json:"paid_via,omitempty"`
	Refunded   alipay.Amount `json:"refunded"`
	CreatedAt  string        `json:"created_at"`
	PaidAt     string        `json:"paid_at,omitempty"`
	ClosedAt   string        `json:"closed_at,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(alipay.Beijing).Format(time.RFC3339)
}

func (s *Server) apiOrder(w http.ResponseWriter, r *http.Request) {
	o, err := s.svc.Order(r.Context(), r.PathValue("out_trade_no"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OrderJSON{
		OutTradeNo: o.OutTradeNo, Status: o.Status, StatusLabel: o.Status.Label(), Amount: o.Amount,
		Stage: o.Stage(), StageLabel: o.Stage().Label(), Quantity: max(o.Quantity, 1),
		Goods: o.Subject, GoodsID: o.GoodsID, TradeNo: o.TradeNo, PaidVia: o.PaidVia, Refunded: o.RefundedFen,
		CreatedAt: rfc3339(o.CreatedAt), PaidAt: rfc3339(o.PaidAt), ClosedAt: rfc3339(o.ClosedAt),
	})
}

// notifyStatus is the HTTP status of each notification outcome. Alipay only
// looks for the body "success"; the status is for logs and monitoring.
func notifyStatus(o shop.Outcome) int {
	switch o {
	case shop.OutcomeApplied, shop.OutcomeDuplicate, shop.OutcomeIgnored, shop.OutcomeReview:
		return http.StatusOK
	case shop.OutcomeBadMethod:
		return http.StatusMethodNotAllowed
	case shop.OutcomeTooLarge:
		return http.StatusRequestEntityTooLarge
	case shop.OutcomeBadSignature, shop.OutcomeMalformed:
		return http.StatusBadRequest
	case shop.OutcomeWrongApp, shop.OutcomeWrongSeller:
		return http.StatusForbidden
	case shop.OutcomeUnknownOrder:
		return http.StatusNotFound
	case shop.OutcomeAmountMismatch:
		return http.StatusConflict
	case shop.OutcomeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// unverifiedBudget decides whether messages from one client that fail
// verification may be stored: within the client's budget and the total.
// wait is, after a refusal, how long until one would be admitted.
type unverifiedBudget struct {
	s    *Server
	key  string
	wait time.Duration
}

func (s *Server) unverifiedBudget(r *http.Request) *unverifiedBudget {
	return &unverifiedBudget{s: s, key: clientKey(r)}
}

// admit is shop.Received.Admit.
func (b *unverifiedBudget) admit() bool {
	ok, wait := b.s.unverified.allow(b.key)
	if ok {
		ok, wait = b.s.unverTotal.allow("")
	}
	b.wait = wait
	return ok
}

// alipayNotify is POST /alipay/notify. It answers exactly "success" only
// when the outcome is committed and acknowledgeable; anything else answers
// "fail" so that Alipay delivers the notification again.
func (s *Server) alipayNotify(w http.ResponseWriter, r *http.Request) {
	// Whatever the method, what arrived is stored: the body, or for a
	// request without one, the query string.
	body, err := io.ReadAll(io.LimitReader(r.Body, alipay.MaxNotifyBody+1))
	if err != nil {
		s.log.Warn("notify: reading body", "err", err)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "fail")
		return
	}
	tooLarge := len(body) > alipay.MaxNotifyBody
	if tooLarge {
		body = body[:alipay.MaxNotifyBody]
	}
	if len(body) == 0 && r.Method != http.MethodPost {
		body = []byte(r.URL.RawQuery)
		if len(body) > alipay.MaxNotifyBody {
			body = body[:alipay.MaxNotifyBody]
		}
	}
	budget, client := s.unverifiedBudget(r), clientString(r)
	var d shop.Decision
	switch {
	case r.Method != http.MethodPost:
		d, err = s.svc.RejectNotification(r.Context(), shop.Rejected{RemoteAddr: client, Method: r.Method, Body: body,
			Outcome: shop.OutcomeBadMethod, Detail: "method " + r.Method, Admit: budget.admit})
	case tooLarge:
		d, err = s.svc.RejectNotification(r.Context(), shop.Rejected{RemoteAddr: client, Method: r.Method, Body: body,
			Outcome: shop.OutcomeTooLarge, Detail: fmt.Sprintf("body longer than %d bytes", alipay.MaxNotifyBody), Admit: budget.admit})
	default:
		d, err = s.svc.HandleNotification(r.Context(), shop.Received{RemoteAddr: client, Body: body, Admit: budget.admit})
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		s.log.Error("notify: not committed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "fail")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
	}
	if tooLarge {
		w.Header().Set("Connection", "close")
	}
	if d.Ack {
		io.WriteString(w, "success")
		return
	}
	if d.Outcome == shop.OutcomeRateLimited {
		setRetryAfter(w, budget.wait)
	}
	w.WriteHeader(notifyStatus(d.Outcome))
	io.WriteString(w, "fail")
}

// alipayReturn is GET /alipay/return: verify, confirm with a query, show
// 支付成功 / 支付处理中 / 验签失败.
func (s *Server) alipayReturn(w http.ResponseWriter, r *http.Request) {
	budget := s.unverifiedBudget(r)
	res, err := s.svc.HandleReturn(r.Context(), r.URL.RawQuery, clientString(r), budget.admit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if res.Limited {
		s.tooMany(w, r, budget.wait, "验签失败的请求过多，请稍后再试。")
		return
	}
	data := map[string]any{}
	status := http.StatusOK
	switch {
	case !res.Verified:
		status = http.StatusBadRequest
		data["Heading"], data["Class"] = "验签失败", "bad"
		data["Message"] = "支付宝返回的信息未通过签名验证，订单状态未改变。如已付款，支付结果将以支付宝异步通知为准。"
	case res.Order.Status == shop.StatusUnpaid:
		data["Heading"], data["Class"] = "支付处理中", "warn"
		data["Message"] = "支付宝尚未确认本次付款，请稍后刷新订单页面。"
		data["Order"] = res.Order
	case res.Order.Status == shop.StatusClosed:
		data["Heading"], data["Class"] = "订单已关闭", "bad"
		data["Message"] = "该订单已关闭。"
		data["Order"] = res.Order
	default:
		data["Heading"], data["Class"] = "支付成功", "ok"
		data["Message"] = "感谢您的购买，支付宝已确认付款。"
		data["Order"] = res.Order
	}
	s.render(w, r, status, "result", data["Heading"].(string), data)
}
