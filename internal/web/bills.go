package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// BillChecker runs the bill check of a day on demand and tells when the next
// automatic one runs (implemented by *reconcile.Reconciler).
type BillChecker interface {
	CheckBill(ctx context.Context, day string) (shop.BillCheck, []shop.BillMismatch, error)
	NextBillCheck(ctx context.Context) (day string, at time.Time, err error)
}

// maxBillAge bounds how far back a bill check can be asked for.
const maxBillAge = 366 * 24 * time.Hour

// checkBillTimeout bounds one on-demand check (a gateway call and a download).
const checkBillTimeout = 2 * time.Minute

// billDay checks a day asked for from the bills page: yyyy-mm-dd (Beijing),
// before today and within the last year. Alipay's bill of a day is ready
// the next morning.
func billDay(day string, now time.Time) (string, bool) {
	d, err := time.ParseInLocation("2006-01-02", day, alipay.Beijing)
	if err != nil || len(day) != 10 {
		return "", false
	}
	y, m, dd := now.In(alipay.Beijing).Date()
	today := time.Date(y, m, dd, 0, 0, 0, 0, alipay.Beijing)
	if !d.Before(today) || today.Sub(d) > maxBillAge {
		return "", false
	}
	return d.Format("2006-01-02"), true
}

// adminCheckBill is POST /admin/bills/check (form date): the bill check of
// that day runs now, and the admin is sent to its result. One check runs at
// a time.
func (s *Server) adminCheckBill(w http.ResponseWriter, r *http.Request) {
	if s.checker == nil || s.bills == nil {
		s.renderError(w, r, http.StatusNotFound, "", "对账未启用")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	raw := r.PostFormValue("date")
	day, ok := billDay(raw, s.svc.Now())
	if !ok {
		s.renderBills(w, r, http.StatusUnprocessableEntity, "", "对账日期应为今天以前一年内的某一天（yyyy-mm-dd）", raw)
		return
	}
	select {
	case s.billSem <- struct{}{}:
		defer func() { <-s.billSem }()
	default:
		s.renderBills(w, r, http.StatusConflict, "", "另一次对账正在进行，请稍后再试", day)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), checkBillTimeout)
	defer cancel()
	check, _, err := s.checker.CheckBill(ctx, day)
	if err != nil {
		s.log.Warn("bill check on demand failed", "date", day, "err", err)
		s.renderBills(w, r, http.StatusBadGateway, "", billError(err), day)
		return
	}
	s.log.Info("bill check on demand", "date", day, "rows", check.Rows, "mismatches", check.Mismatches)
	http.Redirect(w, r, "/admin/bills?date="+url.QueryEscape(day), http.StatusSeeOther)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Bills is what the bill-check page reads (implemented by *store.DB).
type Bills interface {
	BillChecks(ctx context.Context, limit int) ([]shop.BillCheck, error)
	BillMismatches(ctx context.Context, date string) ([]shop.BillMismatch, error)
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
		s.renderError(w, r, http.StatusNotFound, "", "对账未启用")
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
	data := map[string]any{"Checks": checks, "Mismatches": ms, "Date": date, "Error": formErr, "Nav": "bills"}
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

// billError says why an on-demand bill check failed, in Chinese: Alipay's
// own message when it answered with an error, else what kind of failure it
// was (the details are in the log).
func billError(err error) string {
	var ae *alipay.Error
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		msg := ae.SubMsg
		if msg == "" {
			msg = ae.Msg
		}
		code := string(ae.SubCode)
		if code == "" {
			code = string(ae.Code)
		}
		return "对账失败：支付宝返回错误：" + truncate(msg, 200) + "（" + truncate(code, 64) + "）"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "对账失败：连接支付宝超时，请稍后再试。"
	case errors.As(err, &ne):
		return "对账失败：无法连接支付宝，请稍后再试。"
	}
	return "对账失败：账单未能下载或读取，请稍后再试（详细原因已记入日志）。"
}

// billDetail shows a bill check's stored detail in Chinese, including the
// English wording older checks were stored with.
func billDetail(detail string) string {
	switch detail {
	case "no bill (isp.bill_not_exist)":
		return shop.NoBillDetail
	}
	for en, zh := range map[string]string{"pending": "退款处理中", "failed": "退款失败"} {
		if strings.HasSuffix(detail, "本店退款状态为 "+en) {
			return strings.TrimSuffix(detail, " "+en) + zh
		}
	}
	return detail
}
