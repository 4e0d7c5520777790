package sandbox

// A buyer paying a trade (cashier, wallet, api/trades/pay).

import (
	"time"

	"alishop/alipay"
)

// PayError is why a payment was refused.
type PayError struct{ Msg string }

func (e *PayError) Error() string { return e.Msg }

var (
	// ErrNoTrade is Pay's error for a trade the sandbox does not have (a
	// page-pay trade exists once the buyer has opened the cashier).
	ErrNoTrade  = &PayError{"交易不存在"}
	errPassword = &PayError{"账户名或支付密码错误"}
)

// payTrade pays t as buyer login. Callers hold s.mu. It returns the signed
// return_url redirect ("" when there is none to go to).
func (s *Sandbox) payTrade(t *trade, login, password string, checkPassword bool, now time.Time) (string, error) {
	if t.Status == "" { // a precreated QR code is scanned and paid at once
		if !now.Before(t.qrDeadline()) {
			return "", &PayError{"二维码已过期"}
		}
		t.Status, t.Created = alipay.TradeStatusWaitBuyerPay, now
		s.indexTrade(t)
	}
	s.expireDue(t, now)
	switch t.Status {
	case alipay.TradeStatusSuccess, alipay.TradeStatusFinished:
		return "", &PayError{"交易已支付，请勿重复付款"}
	case alipay.TradeStatusClosed:
		return "", &PayError{"交易已关闭"}
	}
	acct := s.accounts[login]
	if acct == nil || (checkPassword && acct.PayPassword != password) {
		return "", errPassword
	}
	if t.BuyerLogin != "" && t.BuyerLogin != login { // a payment code named the buyer
		return "", &PayError{"交易买家不匹配"}
	}
	if acct.Balance < t.TotalAmount {
		return "", &PayError{"余额不足"}
	}
	acct.Balance -= t.TotalAmount
	s.merchantOf(t.AppID).Balance += t.TotalAmount
	t.Status, t.Paid = alipay.TradeStatusSuccess, now
	s.finishing = append(s.finishing, t)
	t.BuyerID, t.BuyerLogin = acct.UserID, acct.Login
	s.persistTrade(t)
	s.persistMeta()
	a := s.apps[t.AppID]
	if a == nil {
		return "", nil
	}
	if a.notifies("success") {
		p := s.baseNotifyParams(t, a)
		p["trade_status"] = string(alipay.TradeStatusSuccess)
		p["fund_bill_list"] = `[{"amount":"` + t.TotalAmount.String() + `","fundChannel":"ALIPAYACCOUNT"}]`
		p["receipt_amount"] = t.TotalAmount.String()
		p["invoice_amount"] = t.TotalAmount.String()
		p["buyer_pay_amount"] = t.TotalAmount.String()
		p["point_amount"] = "0.00"
		s.queueNote(t, a, p, "")
	}
	return s.returnURL(t, a, now), nil
}
