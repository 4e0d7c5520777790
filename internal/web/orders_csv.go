package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// csvColumns are the export's header row, one column per field of an order.
var csvColumns = []string{"订单号", "支付宝交易号", "下单时间", "付款时间", "商品", "数量", "金额（元）", "已退款（元）", "状态",
	"收货人", "手机号", "收货地址", "快递公司", "运单号", "下单方式"}

// filterParam reads the order list's status parameter: a payment state
// (shop.Status) or a fulfilment stage (待发货, 已发货, 已完成).
func filterParam(v string) (shop.Status, shop.Stage) {
	if st := shop.Stage(v); st.Valid() {
		return "", st
	}
	return shop.Status(v), ""
}

// ordersCSV is GET /admin/orders.csv: the orders the list's filters select
// (status, from, to as yyyy-mm-dd in Beijing time, q), oldest first, one row
// per order (csvColumns), as UTF-8 with a byte order mark so that Excel
// reads it as such. It is written as it is read, a page of orders at a
// time; an export of more than shop.MaxExportOrders is refused (422).
func (s *Server) ordersCSV(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f shop.OrderFilter
	f.Status, f.Stage = filterParam(truncate(q.Get("status"), 32))
	f.Query = truncate(q.Get("q"), shop.MaxOrderQuery)
	var err error
	if f.From, err = dayStart(truncate(q.Get("from"), 10), 0); err == nil {
		f.To, err = dayStart(truncate(q.Get("to"), 10), 1)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cw *csv.Writer
	start := func() {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="orders-`+s.svc.Now().In(alipay.Beijing).Format("20060102")+`.csv"`)
		h.Set("Cache-Control", "no-store")
		w.Write([]byte("\uFEFF"))
		cw = csv.NewWriter(w)
		cw.UseCRLF = true
		cw.Write(csvColumns)
	}
	rows := 0
	err = s.svc.ExportOrders(r.Context(), f, func(o shop.Order) error {
		if cw == nil {
			start()
		}
		rows++
		if err := cw.Write(csvRow(o)); err != nil {
			return err
		}
		if rows%exportFlushRows == 0 {
			cw.Flush()
			return cw.Error()
		}
		return nil
	})
	if err != nil && cw == nil {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		// Part of the file is sent: cut the connection, so that it cannot
		// be taken for the whole export.
		s.log.Warn("orders export cut short", "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
	if cw == nil {
		start()
	}
	cw.Flush()
	s.log.Info("orders exported", "rows", rows)
}

// exportFlushRows is how many rows are written between flushes.
const exportFlushRows = 200

// csvRow is one order as a row of csvColumns. Times are Beijing time.
func csvRow(o shop.Order) []string {
	t := func(v time.Time) string {
		if v.IsZero() {
			return ""
		}
		return v.In(alipay.Beijing).Format("2006-01-02 15:04:05")
	}
	state := o.Stage().Label()
	if o.Status == shop.StatusPartiallyRefunded {
		state += "（部分退款）"
	}
	return []string{o.OutTradeNo, o.TradeNo, t(o.CreatedAt), t(o.PaidAt), csvText(o.Subject), strconv.Itoa(max(o.Quantity, 1)),
		o.Amount.String(), o.RefundedFen.String(), state,
		csvText(o.Receiver.Name), o.Receiver.Phone, csvText(o.Receiver.Address), csvText(o.Carrier), o.TrackingNo, o.Channel.Label()}
}

// csvText keeps a text a spreadsheet would take for a formula (starting
// with =, +, -, @, a tab or a carriage return) as text, with a leading
// apostrophe: the buyer wrote the receiver's name and address.
func csvText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// payoutColumns are the columns of GET /admin/payouts.csv.
var payoutColumns = []string{"订单号", "转账单号", "金额（元）", "收款方", "收款人姓名", "原因", "状态", "发起时间", "支付宝转账单号", "失败原因"}

// payoutsCSV is GET /admin/payouts.csv (filters from and to, dates in
// Beijing time, bounding when the payout was made): every payout (转账补偿)
// for the owner's accounting, UTF-8 with a byte order mark like the orders'
// export.
func (s *Server) payoutsCSV(w http.ResponseWriter, r *http.Request) {
	if s.payouts == nil {
		s.renderError(w, r, http.StatusNotFound, "", "本店未开通转账补偿。")
		return
	}
	q := r.URL.Query()
	from, err := dayStart(truncate(q.Get("from"), 10), 0)
	var to time.Time
	if err == nil {
		to, err = dayStart(truncate(q.Get("to"), 10), 1)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.payouts.ExportPayouts(r.Context(), from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="payouts-`+s.svc.Now().In(alipay.Beijing).Format("20060102")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write(payoutColumns)
	for _, p := range ps {
		state := map[shop.PayoutStatus]string{shop.PayoutSucceeded: "转账成功", shop.PayoutFailed: "转账失败"}[p.Status]
		if state == "" {
			state = "转账处理中"
		}
		why := ""
		if p.Status != shop.PayoutSucceeded {
			why = csvText(p.LastError)
		}
		cw.Write([]string{p.OutTradeNo, p.OutBizNo, p.Amount.String(), csvText(p.Payee), csvText(p.PayeeName), csvText(p.Reason), state,
			p.CreatedAt.In(alipay.Beijing).Format("2006-01-02 15:04:05"), p.AlipayOrderID, why})
	}
	cw.Flush()
	s.log.Info("payouts exported", "rows", len(ps))
}
