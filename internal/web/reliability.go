package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"alishop/alipay"
	"alishop/internal/shop"
)

// Bills is what the bill-check page reads (implemented by *store.DB).
type Bills interface {
	BillChecks(ctx context.Context, limit int) ([]shop.BillCheck, error)
	BillMismatches(ctx context.Context, date string) ([]shop.BillMismatch, error)
}

// adminOrder is GET /admin/orders/{out_trade_no}: the order, its review
// flag, its refunds and the refund form.
func (s *Server) adminOrder(w http.ResponseWriter, r *http.Request) {
	s.renderAdminOrder(w, r, http.StatusOK, r.PathValue("out_trade_no"), "", "", "")
}

func (s *Server) renderAdminOrder(w http.ResponseWriter, r *http.Request, status int, outTradeNo, formErr, amount, reason string) {
	o, err := s.svc.Order(r.Context(), outTradeNo)
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
	for _, rf := range refunds {
		if rf.Status != shop.RefundFailed {
			claimed += rf.Amount
		}
	}
	refundable := o.Status == shop.StatusPaid || o.Status == shop.StatusPartiallyRefunded
	if amount == "" && refundable && o.Amount > claimed {
		amount = (o.Amount - claimed).String()
	}
	s.render(w, r, status, "admin_order", "订单 "+o.OutTradeNo, map[string]any{
		"Order": o, "Refunds": refunds, "Refundable": refundable && s.refunds != nil && o.Amount > claimed,
		"Left": o.Amount - claimed, "Error": formErr, "Amount": amount, "Reason": reason,
	})
}

// adminRefund is POST /admin/orders/{out_trade_no}/refunds (form amount in
// yuan, reason). The refund is stored before Alipay is called; whatever
// Alipay answers (or if it does not), the admin is sent back to the order,
// where a refund whose outcome is unknown shows as pending until its job
// settles it.
func (s *Server) adminRefund(w http.ResponseWriter, r *http.Request) {
	if s.refunds == nil {
		s.renderError(w, r, http.StatusNotFound, "Not Found", "退款未启用")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	no := r.PathValue("out_trade_no")
	amountText := strings.TrimSpace(r.PostFormValue("amount"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	amount, err := alipay.ParseAmount(amountText)
	if err != nil || !amount.Valid() {
		s.renderAdminOrder(w, r, http.StatusUnprocessableEntity, no, "退款金额应为大于 0 的元金额，最多两位小数", amountText, reason)
		return
	}
	rf, err := s.refunds.Request(r.Context(), no, amount, reason)
	if err != nil {
		if shop.ErrorCode(err) == shop.EINVALID {
			s.renderAdminOrder(w, r, http.StatusUnprocessableEntity, no, shop.ErrorMessage(err), amountText, reason)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("refund requested", "out_trade_no", no, "out_request_no", rf.OutRequestNo, "amount", rf.Amount.String(), "status", rf.Status)
	http.Redirect(w, r, "/admin/orders/"+url.PathEscape(no), http.StatusSeeOther)
}

// adminBills is GET /admin/bills: the daily bill checks and their
// mismatches, when the next automatic check runs, and a form to check a
// past day now.
func (s *Server) adminBills(w http.ResponseWriter, r *http.Request) {
	date := r.URL.Query().Get("date")
	if len(date) > 10 {
		date = ""
	}
	s.renderBills(w, r, http.StatusOK, date, "", "")
}

func (s *Server) renderBills(w http.ResponseWriter, r *http.Request, status int, date, formErr, formDate string) {
	if s.bills == nil {
		s.renderError(w, r, http.StatusNotFound, "Not Found", "对账未启用")
		return
	}
	checks, err := s.bills.BillChecks(r.Context(), 60)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.bills.BillMismatches(r.Context(), date)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Checks": checks, "Mismatches": ms, "Date": date, "Error": formErr}
	if s.checker != nil {
		now := s.svc.Now().In(alipay.Beijing)
		if formDate == "" {
			formDate = now.AddDate(0, 0, -1).Format("2006-01-02")
		}
		data["CheckDate"], data["MaxDate"] = formDate, now.AddDate(0, 0, -1).Format("2006-01-02")
		data["MinDate"] = now.Add(-maxBillAge).Format("2006-01-02")
		if day, at, err := s.checker.NextBillCheck(r.Context()); err != nil {
			s.log.Warn("next bill check", "err", err)
		} else {
			data["NextDay"], data["NextAt"], data["NextDue"] = day, at, !at.After(now)
		}
	}
	s.render(w, r, status, "admin_bills", "对账", data)
}
