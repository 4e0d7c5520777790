package sandbox

// The methods that create trades: page and wap pay (the cashier), precreate
// (a QR code) and create.

import (
	"net/http"
	"time"

	"alishop/alipay"
)

// pagePay handles alipay.trade.page.pay and wap.pay: the buyer's browser
// arrives here and the trade is created when the cashier opens.
func (s *Sandbox) pagePay(w http.ResponseWriter, req *gwReq) {
	s.mu.Lock()
	now := s.now()
	nt, n := s.readNewTrade(req, now, 15*24*time.Hour)
	if n == nil {
		want := alipay.ProductCodePagePay
		if req.method == "alipay.trade.wap.pay" {
			want = alipay.ProductCodeWapPay
		}
		if nt.product != "" && nt.product != string(want) {
			n = invalidParam(string("product_code 应为 " + want))
		}
		nt.product = string(want)
	}
	var t *trade
	if n == nil {
		t, n = s.openTrade(req, nt, now)
	}
	s.mu.Unlock()
	if n != nil {
		s.errorPage(w, &gwError{code: n.code, msg: n.msg, subCode: n.subCode, subMsg: n.subMsg})
		return
	}
	http.Redirect(w, req.r, s.baseURL(req.r)+"cashier/"+t.TradeNo, http.StatusSeeOther)
}

// openTrade creates (or reopens) the WAIT_BUYER_PAY trade of a page/wap
// pay request. Callers hold s.mu.
func (s *Sandbox) openTrade(req *gwReq, nt *newTrade, now time.Time) (*trade, *node) {
	a := req.app
	t := s.trades[tradeID(a.AppID, nt.outTradeNo)]
	if t != nil {
		s.expireDue(t, now)
		switch t.Status {
		case alipay.TradeStatusSuccess, alipay.TradeStatusFinished:
			return nil, bizErr("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
		case alipay.TradeStatusClosed:
			return nil, bizErr("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
		}
		if t.TotalAmount != nt.total {
			return nil, bizErr("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
		}
	} else {
		t = &trade{AppID: a.AppID, OutTradeNo: nt.outTradeNo, TradeNo: newTradeNo(now), Requested: now}
	}
	if t.Status == "" {
		t.Status = alipay.TradeStatusWaitBuyerPay
		t.Created = now
	}
	t.Method, t.ProductCode = s.intern(req.method), nt.product
	t.Subject, t.Body, t.TotalAmount = s.intern(nt.subject), s.intern(nt.body), nt.total
	t.NotifyURL, t.ReturnURL, t.QuitURL = s.intern(req.p["notify_url"]), s.intern(req.p["return_url"]), s.intern(nt.quitURL)
	t.Passback, t.StoreID, t.Charset = nt.passback, s.intern(nt.storeID), req.charset
	t.Expire = nt.expire
	s.indexTrade(t)
	s.persistTrade(t)
	s.wakeWorker()
	return t, nil
}

// QRCodeTTL is how long a precreate QR code can be scanned.
const QRCodeTTL = 2 * time.Hour

// qrDeadline is when t's QR code stops scanning (trades stored before
// QRExpire existed use their expiry).
func (t *trade) qrDeadline() time.Time {
	if t.QRExpire.IsZero() {
		return t.Expire
	}
	return t.QRExpire
}

func (s *Sandbox) precreate(req *gwReq, now time.Time) *node {
	// The QR code itself is valid for 2h (docs/PROTOCOL.md).
	nt, n := s.readNewTrade(req, now, faceToFaceTimeout)
	if n != nil {
		return n
	}
	a := req.app
	t := s.trades[tradeID(a.AppID, nt.outTradeNo)]
	if t != nil {
		s.expireDue(t, now)
		switch t.Status {
		case alipay.TradeStatusSuccess, alipay.TradeStatusFinished:
			return bizErr("ACQ.TRADE_HAS_SUCCESS", "交易已被支付").str("out_trade_no", t.OutTradeNo)
		case alipay.TradeStatusClosed:
			return bizErr("ACQ.TRADE_HAS_CLOSE", "交易已经关闭").str("out_trade_no", t.OutTradeNo)
		}
		if t.TotalAmount != nt.total {
			return bizErr("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改").str("out_trade_no", t.OutTradeNo)
		}
	} else {
		t = &trade{AppID: a.AppID, OutTradeNo: nt.outTradeNo, TradeNo: newTradeNo(now), Requested: now}
	}
	if t.QR == "" {
		t.QR = newToken()
	}
	t.Method, t.ProductCode = s.intern(req.method), s.intern(nt.product)
	if t.ProductCode == "" {
		t.ProductCode = string(alipay.ProductCodeQRCode)
	}
	t.Subject, t.Body, t.TotalAmount = s.intern(nt.subject), s.intern(nt.body), nt.total
	t.NotifyURL, t.Passback, t.StoreID, t.Charset = s.intern(req.p["notify_url"]), nt.passback, s.intern(nt.storeID), req.charset
	t.Expire = nt.expire
	if t.Status == "" {
		t.QRExpire = now.Add(QRCodeTTL)
		if t.Expire.Before(t.QRExpire) {
			t.QRExpire = t.Expire
		}
	}
	s.indexTrade(t)
	s.persistTrade(t)
	return okNode().str("out_trade_no", t.OutTradeNo).str("qr_code", s.baseURL(req.r)+"qr/"+t.QR)
}

// create handles alipay.trade.create: a WAIT_BUYER_PAY trade the buyer pays
// in an app or mini program (here: the cashier page or api/trades/pay).
func (s *Sandbox) create(req *gwReq, now time.Time) *node {
	nt, n := s.readNewTrade(req, now, 15*24*time.Hour)
	if n != nil {
		return n
	}
	if nt.product == "" {
		nt.product = "JSAPI_PAY"
	}
	buyer, ok := req.bizString("buyer_id")
	if !ok || buyer != "" && !buyerIDRe.MatchString(buyer) {
		return invalidParam("buyer_id 应为 2088 开头的 16 位数字")
	}
	t, n := s.openTrade(req, nt, now)
	if n != nil {
		return n.str("out_trade_no", nt.outTradeNo)
	}
	return okNode().str("out_trade_no", t.OutTradeNo).str("trade_no", t.TradeNo)
}
