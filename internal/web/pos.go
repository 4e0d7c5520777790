package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// 当面付收款: the owner's counter page. The form posts the amount, a
// subject, the buyer's payment code (a USB scanner types it into the
// focused field and presses Enter) and the form's one-time key; the answer
// is a redirect to the order's counter page, which says 收款成功, waits for
// the buyer (refreshing itself, each refresh one query) with 撤销, or says
// why it did not go through.

// posForm is the data of the 当面付收款 form.
type posForm struct {
	Key, Amount, Subject, AuthCode, Error string
}

// adminPOS is GET /admin/pos: the 当面付收款 form with a fresh one-time key.
func (s *Server) adminPOS(w http.ResponseWriter, r *http.Request) {
	if !s.svc.POSEnabled() {
		s.fail(w, r, shop.ErrPOSOff)
		return
	}
	s.renderPOSForm(w, r, http.StatusOK, posForm{Key: shop.NewPOSKey()})
}

func (s *Server) renderPOSForm(w http.ResponseWriter, r *http.Request, status int, f posForm) {
	s.render(w, r, status, "admin_pos", "当面付收款", map[string]any{"Nav": "pos", "Form": f,
		"WaitSeconds": int(s.svc.POSWait() / time.Second)})
}

// adminPOSCharge is POST /admin/pos (form amount in yuan, subject,
// auth_code, key): it stores the order and makes the first
// alipay.trade.pay, then sends the owner to the order's counter page. The
// same key posted again (a double click, a reload) charges nothing and
// shows the order it made.
func (s *Server) adminPOSCharge(w http.ResponseWriter, r *http.Request) {
	if !s.svc.POSEnabled() {
		s.fail(w, r, shop.ErrPOSOff)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	f := posForm{Key: r.PostFormValue("key"), Amount: strings.TrimSpace(r.PostFormValue("amount")),
		Subject: r.PostFormValue("subject"), AuthCode: r.PostFormValue("auth_code")}
	if len(f.Key) > 64 || len(f.Amount) > 32 || len(f.Subject) > 1024 || len(f.AuthCode) > 128 {
		f.Key, f.Error = shop.NewPOSKey(), "输入过长"
		f.Subject, f.AuthCode = "", ""
		s.renderPOSForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	amount, err := alipay.ParseAmount(f.Amount)
	if err != nil || !amount.Valid() {
		f.Error = "收款金额应为大于 0 的元金额，最多两位小数，例如 12.00"
		s.renderPOSForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	o, repeat, err := s.svc.ChargePOS(r.Context(), shop.POSCharge{Amount: amount, Subject: f.Subject, AuthCode: f.AuthCode, Key: f.Key})
	if err != nil {
		if shop.ErrorCode(err) == shop.EINVALID {
			if strings.Contains(shop.ErrorMessage(err), "表单") {
				f.Key = shop.NewPOSKey()
			}
			f.Error = shop.ErrorMessage(err)
			s.renderPOSForm(w, r, http.StatusUnprocessableEntity, f)
			return
		}
		if o.OutTradeNo == "" {
			s.fail(w, r, err)
			return
		}
		// The order is stored: its page follows it from here.
		s.log.Warn("counter payment", "out_trade_no", o.OutTradeNo, "err", err)
	}
	s.log.Info("counter payment", "out_trade_no", o.OutTradeNo, "amount", o.Amount.String(), "status", o.Status, "repeat", repeat)
	u := "/admin/pos/" + url.PathEscape(o.OutTradeNo)
	if repeat {
		u += "?repeat=1"
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// adminPOSOrder is GET /admin/pos/{out_trade_no}: the counter page of one
// order. While the order waits for its buyer, each view queries Alipay
// once (and cancels the trade once its deadline has passed), and the page
// refreshes itself every shop.POSRefresh unless ?auto=off (停止自动刷新:
// the owner refreshes by hand).
func (s *Server) adminPOSOrder(w http.ResponseWriter, r *http.Request) {
	o, err := s.svc.FollowPOS(r.Context(), r.PathValue("out_trade_no"))
	if err != nil && o.OutTradeNo == "" {
		s.fail(w, r, err)
		return
	}
	msg := ""
	if err != nil {
		msg = shop.ErrorMessage(err)
		if shop.ErrorCode(err) == shop.EINTERNAL {
			s.log.Error("counter payment", "out_trade_no", o.OutTradeNo, "err", err)
		}
	}
	s.renderPOSOrder(w, r, http.StatusOK, o, msg)
}

// adminPOSCancel is POST /admin/pos/{out_trade_no}/cancel: 撤销 a counter
// payment still waiting for its buyer.
func (s *Server) adminPOSCancel(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("out_trade_no")
	o, err := s.svc.CancelPOS(r.Context(), no)
	switch {
	case err == nil:
		s.log.Info("counter payment cancelled by the owner", "out_trade_no", no, "status", o.Status)
		http.Redirect(w, r, "/admin/pos/"+url.PathEscape(no), http.StatusSeeOther)
	case o.OutTradeNo != "" && shop.ErrorCode(err) == shop.EUNAVAILABLE:
		s.renderPOSOrder(w, r, http.StatusServiceUnavailable, o, shop.ErrorMessage(err))
	default:
		s.fail(w, r, err)
	}
}

// posView is what the counter page shows of an order.
type posView struct {
	Order        shop.Order
	State        string // paid, waiting, closed
	Class        string // ok, warn, bad
	Heading, Say string
	Left         int  // seconds left to confirm (waiting)
	Auto         bool // the page refreshes itself (waiting, unless ?auto=off)
}

func (s *Server) renderPOSOrder(w http.ResponseWriter, r *http.Request, status int, o shop.Order, errMsg string) {
	if o.Channel != shop.OrderChannelPOS {
		http.Redirect(w, r, "/admin/orders/"+url.PathEscape(o.OutTradeNo), http.StatusSeeOther)
		return
	}
	v := posView{Order: o}
	data := map[string]any{"Nav": "pos", "View": &v, "Error": errMsg, "Repeat": r.URL.Query().Get("repeat") != ""}
	switch o.Status {
	case shop.StatusUnpaid:
		v.State, v.Class, v.Heading = "waiting", "warn", "等待顾客在支付宝中确认"
		v.Left = max(0, int(o.TimeExpire.Sub(s.svc.Now()).Seconds()+0.5))
		if r.URL.Query().Get("auto") == "off" {
			v.Say = "请顾客在手机支付宝中确认付款（超过免密额度的金额需要顾客确认）。自动刷新已停止，请点“刷新”查看结果；超过时限未确认将自动撤销，不会扣款。"
		} else {
			v.Say = fmt.Sprintf("请顾客在手机支付宝中确认付款（超过免密额度的金额需要顾客确认）。本页每 %d 秒自动刷新；超过时限未确认将自动撤销，不会扣款。", int(shop.POSRefresh/time.Second))
			v.Auto = true
			data["Refresh"] = int(shop.POSRefresh / time.Second)
		}
	case shop.StatusClosed:
		v.State, v.Class, v.Heading = "closed", "bad", "收款未成功"
		v.Say = o.POSNote
		if v.Say == "" {
			v.Say = "交易已关闭，没有扣款。"
		}
	default:
		v.State, v.Class, v.Heading = "paid", "ok", "收款成功"
		v.Say = "已收到 " + o.Amount.String() + " 元。"
		if o.Status != shop.StatusPaid {
			v.Say += "（此后已" + o.Status.Label() + "）"
		}
	}
	s.render(w, r, status, "admin_pos_order", v.Heading, data)
}
