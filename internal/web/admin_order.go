package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"alishop/alipay"
	"alishop/internal/shop"
)

// adminOrder is GET /admin/orders/{out_trade_no}: the order, its review
// flag, its refunds and the refund form; ?refund=OUT_REQUEST_NO shows what
// became of that refund.
func (s *Server) adminOrder(w http.ResponseWriter, r *http.Request) {
	s.renderAdminOrder(w, r, http.StatusOK, r.PathValue("out_trade_no"), "", "", "")
}

func (s *Server) renderAdminOrder(w http.ResponseWriter, r *http.Request, status int, outTradeNo, formErr, amount, reason string) {
	s.renderAdminOrderWith(w, r, status, outTradeNo, formErr, amount, reason, nil)
}

// renderAdminOrderWith is renderAdminOrder with more of the page's data
// (the ship form's values and message, the payout form's).
func (s *Server) renderAdminOrderWith(w http.ResponseWriter, r *http.Request, status int, outTradeNo, formErr, amount, reason string, extra map[string]any) {
	o, err := s.svc.Order(r.Context(), outTradeNo)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	events, err := s.svc.OrderEvents(r.Context(), outTradeNo)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var refunds []shop.Refund
	if s.refunds != nil {
		if refunds, err = s.refunds.OrderRefunds(r.Context(), outTradeNo); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var claimed alipay.Amount
	data := map[string]any{"Nav": "orders", "Events": orderTimeline(o, events, refunds), "Stage": o.Stage(), "Carriers": carriers,
		"Shippable": o.Stage() == shop.StageToShip, "AutoCompleteAt": s.autoCompleteAt(o), "Shipped": r.URL.Query().Get("shipped") != ""}
	for k, v := range extra {
		data[k] = v
	}
	key := r.URL.Query().Get("refund")
	for _, rf := range refunds {
		if rf.Status != shop.RefundFailed {
			claimed += rf.Amount
		}
		if rf.OutRequestNo == key {
			data["Result"] = refundResult(rf, r.URL.Query().Get("repeat") != "")
		}
	}
	refundable := o.Status == shop.StatusPaid || o.Status == shop.StatusPartiallyRefunded
	data["Order"], data["Refunds"], data["Left"], data["Error"], data["Amount"], data["Reason"] = o, refunds, o.Amount-claimed, formErr, amount, reason
	data["Refundable"] = refundable && s.refunds != nil && o.Amount > claimed
	if err := s.addPayouts(r, o, data); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "admin_order", "订单 "+o.OutTradeNo, data)
}

// refundMessage says what became of a refund, for the admin.
type refundMessage struct {
	Class, Heading, Text string
}

func refundResult(rf shop.Refund, repeat bool) refundMessage {
	var m refundMessage
	switch rf.Status {
	case shop.RefundSucceeded:
		m = refundMessage{"ok", "退款成功", fmt.Sprintf("已退款 %s 元，款项原路退回买家。", rf.Amount)}
	case shop.RefundFailed:
		m = refundMessage{"bad", "退款失败", fmt.Sprintf("支付宝拒绝了这笔 %s 元的退款：%s", rf.Amount, rf.LastError)}
	default:
		m = refundMessage{"warn", "退款处理中", fmt.Sprintf("%s 元的退款已提交，支付宝尚未确认结果；系统会自动查询，无需重复提交。", rf.Amount)}
		if rf.LastError != "" {
			m.Text += "最近一次的答复：" + rf.LastError
		}
	}
	if repeat {
		m.Text += "（这次确认是重复提交，没有再次退款。）"
	}
	return m
}

// refundForm reads the refund form of POST /admin/orders/{out_trade_no}/
// refunds[/confirm] (amount in yuan, reason), bounded to 8 KiB. When
// refunds are off or the amount is not a positive yuan amount it answers
// the request itself and returns ok false.
func (s *Server) refundForm(w http.ResponseWriter, r *http.Request) (no, amountText string, amount alipay.Amount, reason string, ok bool) {
	if s.refunds == nil {
		s.renderError(w, r, http.StatusNotFound, "", "退款未启用")
		return "", "", 0, "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	no = r.PathValue("out_trade_no")
	amountText = strings.TrimSpace(r.PostFormValue("amount"))
	reason = strings.TrimSpace(r.PostFormValue("reason"))
	amount, err := alipay.ParseAmount(amountText)
	if err != nil || !amount.Valid() {
		s.renderAdminOrderWith(w, r, http.StatusUnprocessableEntity, no, "退款金额应为大于 0 的元金额，最多两位小数", amountText, reason,
			map[string]any{"Restock": r.PostFormValue("restock") != ""})
		return "", "", 0, "", false
	}
	return no, amountText, amount, reason, true
}

// adminRefund is POST /admin/orders/{out_trade_no}/refunds (form amount in
// yuan, reason, restock when the stock the order holds goes back to the
// goods): the first of two steps. It checks the refund, stores it as
// pending under a one-time key and shows a confirmation page carrying that
// key; nothing is sent to Alipay.
func (s *Server) adminRefund(w http.ResponseWriter, r *http.Request) {
	no, amountText, amount, reason, ok := s.refundForm(w, r)
	if !ok {
		return
	}
	restock := r.PostFormValue("restock") != ""
	plan, err := s.refunds.Plan(r.Context(), no, amount, reason, restock)
	if err != nil {
		if shop.ErrorCode(err) == shop.EINVALID {
			s.renderAdminOrderWith(w, r, http.StatusUnprocessableEntity, no, shop.ErrorMessage(err), amountText, reason,
				map[string]any{"Restock": restock})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_refund_confirm", "确认退款", map[string]any{"Plan": plan})
}

// adminRefundConfirm is POST /admin/orders/{out_trade_no}/refunds/confirm
// (form key, amount): the second step. Only a key that step 1 stored for
// this order and amount is accepted (with the reason given there); it
// becomes the refund's out_request_no, so posting the same confirmation
// again (a double click, a reload, a resubmission after a restart, the
// same post to two processes) makes no second refund and shows the first.
// The refund is stored before Alipay is called; the admin is sent back to
// the order, which says what happened.
func (s *Server) adminRefundConfirm(w http.ResponseWriter, r *http.Request) {
	no, _, amount, _, ok := s.refundForm(w, r)
	if !ok {
		return
	}
	rf, repeat, err := s.refunds.Confirm(r.Context(), no, r.PostFormValue("key"), amount)
	if err != nil {
		if c := shop.ErrorCode(err); c == shop.EINVALID || c == shop.ECONFLICT {
			s.renderAdminOrder(w, r, http.StatusUnprocessableEntity, no, shop.ErrorMessage(err), "", "")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("refund requested", "out_trade_no", no, "out_request_no", rf.OutRequestNo, "amount", rf.Amount.String(), "status", rf.Status, "repeat", repeat)
	q := url.Values{"refund": {rf.OutRequestNo}}
	if repeat {
		q.Set("repeat", "1")
	}
	http.Redirect(w, r, "/admin/orders/"+url.PathEscape(no)+"?"+q.Encode(), http.StatusSeeOther)
}
