package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"alishop/alipay"
	"alishop/internal/shop"
)

// payoutForm is the payout form as the admin filled it, shown again with
// its error.
type payoutForm struct {
	Error, Amount, PayeeType, Payee, PayeeName, Reason string
}

// addPayouts adds an order's payouts, the result of one
// (?payout=OUT_BIZ_NO) and the payout form (data["PayoutForm"] as the admin
// filled it, if any) to the admin order page's data.
func (s *Server) addPayouts(r *http.Request, o shop.Order, data map[string]any) error {
	if s.payouts == nil {
		return nil
	}
	payouts, err := s.payouts.OrderPayouts(r.Context(), o.OutTradeNo)
	if err != nil {
		return err
	}
	var claimed alipay.Amount
	key := r.URL.Query().Get("payout")
	for _, p := range payouts {
		if p.Status != shop.PayoutFailed {
			claimed += p.Amount
		}
		if p.OutBizNo == key {
			data["PayoutResult"] = payoutResult(p, r.URL.Query().Get("repeat") != "")
		}
	}
	pf, _ := data["PayoutForm"].(payoutForm)
	if pf.PayeeType == "" {
		pf.PayeeType = string(alipay.IdentityLogonID)
	}
	paid := o.Status == shop.StatusPaid || o.Status == shop.StatusPartiallyRefunded || o.Status == shop.StatusRefunded
	data["Payouts"], data["PayoutLeft"], data["PayoutForm"] = payouts, o.Amount-claimed, pf
	data["Payable"] = paid && o.Amount-claimed >= alipay.MinTransferAmount
	data["PayoutsOn"] = true
	return nil
}

func payoutResult(p shop.Payout, repeat bool) refundMessage {
	var m refundMessage
	switch p.Status {
	case shop.PayoutSucceeded:
		m = refundMessage{"ok", "转账成功", fmt.Sprintf("已向 %s 转账 %s 元（支付宝转账单号 %s）。", p.Payee, p.Amount, p.AlipayOrderID)}
	case shop.PayoutFailed:
		m = refundMessage{"bad", "转账失败", fmt.Sprintf("支付宝拒绝了这笔 %s 元的转账，款项未转出：%s", p.Amount, p.LastError)}
	default:
		m = refundMessage{"warn", "转账处理中", fmt.Sprintf("%s 元的转账已提交，支付宝尚未确认结果；再次提交同一确认会先查询结果，不会重复转账。", p.Amount)}
		if p.LastError != "" {
			m.Text += "最近一次的答复：" + p.LastError
		}
	}
	if repeat {
		m.Text += "（这次确认是重复提交，没有再次转账。）"
	}
	return m
}

// payoutFormOf reads the payout form of POST /admin/orders/{out_trade_no}/
// payouts[/confirm], bounded to 8 KiB. When payouts are off or the amount
// is not a yuan amount it answers the request itself and returns ok false.
func (s *Server) payoutFormOf(w http.ResponseWriter, r *http.Request) (no string, pf payoutForm, amount alipay.Amount, ok bool) {
	if s.payouts == nil {
		s.renderError(w, r, http.StatusNotFound, "", "转账未启用")
		return "", pf, 0, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	no = r.PathValue("out_trade_no")
	pf = payoutForm{Amount: strings.TrimSpace(r.PostFormValue("amount")), PayeeType: r.PostFormValue("payee_type"),
		Payee: strings.TrimSpace(r.PostFormValue("payee")), PayeeName: strings.TrimSpace(r.PostFormValue("payee_name")),
		Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	amount, err := alipay.ParseAmount(pf.Amount)
	if err != nil || !amount.Valid() {
		pf.Error = "转账金额应为大于 0 的元金额，最多两位小数"
		s.renderAdminOrderWith(w, r, http.StatusUnprocessableEntity, no, "", "", "", map[string]any{"PayoutForm": pf})
		return "", pf, 0, false
	}
	return no, pf, amount, true
}

// adminPayout is POST /admin/orders/{out_trade_no}/payouts (form amount in
// yuan, payee_type ALIPAY_LOGON_ID or ALIPAY_USER_ID, payee, payee_name,
// reason): the first of two steps. It checks the payout, stores it as
// pending under a one-time key and shows a confirmation page carrying that
// key; nothing is sent to Alipay.
func (s *Server) adminPayout(w http.ResponseWriter, r *http.Request) {
	no, pf, amount, ok := s.payoutFormOf(w, r)
	if !ok {
		return
	}
	plan, err := s.payouts.Plan(r.Context(), no, amount, alipay.IdentityType(pf.PayeeType), pf.Payee, pf.PayeeName, pf.Reason)
	if err != nil {
		if shop.ErrorCode(err) == shop.EINVALID {
			pf.Error = shop.ErrorMessage(err)
			s.renderAdminOrderWith(w, r, http.StatusUnprocessableEntity, no, "", "", "", map[string]any{"PayoutForm": pf})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_payout_confirm", "确认转账", map[string]any{"Plan": plan})
}

// adminPayoutConfirm is POST /admin/orders/{out_trade_no}/payouts/confirm
// (form key, amount): the second step. Only a key that step 1 stored for
// this order and amount is accepted, with the payee given there; it becomes
// the transfer's out_biz_no, so posting the same confirmation again makes
// no second transfer (it settles the first by query if its outcome is
// unknown). The admin is sent back to the order, which says what happened.
func (s *Server) adminPayoutConfirm(w http.ResponseWriter, r *http.Request) {
	no, _, amount, ok := s.payoutFormOf(w, r)
	if !ok {
		return
	}
	p, repeat, err := s.payouts.Confirm(r.Context(), no, r.PostFormValue("key"), amount)
	if err != nil {
		if c := shop.ErrorCode(err); c == shop.EINVALID || c == shop.ECONFLICT {
			s.renderAdminOrderWith(w, r, http.StatusUnprocessableEntity, no, "", "", "", map[string]any{"PayoutForm": payoutForm{Error: shop.ErrorMessage(err)}})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("payout requested", "out_trade_no", no, "out_biz_no", p.OutBizNo, "amount", p.Amount.String(), "status", p.Status, "repeat", repeat)
	q := url.Values{"payout": {p.OutBizNo}}
	if repeat {
		q.Set("repeat", "1")
	}
	http.Redirect(w, r, "/admin/orders/"+url.PathEscape(no)+"?"+q.Encode(), http.StatusSeeOther)
}
