package shop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"alishop/alipay/wire"
)

// 当面付收款: the owner charges a buyer's payment code (付款码) at the
// counter. The order is stored before Alipay is called, so a process killed
// during the call leaves an order the reconciler settles; the first
// alipay.trade.pay is made while the owner's request waits, and a payment
// that waits for its buyer (USERPAYING) or whose outcome is unknown is then
// followed one query at a time (FollowPOS: the counter's wait page on each
// refresh, the reconciler in the background) until it is paid, closed, or
// its deadline passes and it is cancelled with alipay.trade.cancel. This is
// Alipay's face-to-face state machine (alipay.Client.FaceToFacePay) spread over
// requests instead of one blocking call.

// OrderChannel is how an order was made.
type OrderChannel string

// Order channels.
const (
	OrderChannelWeb OrderChannel = "web" // a buyer's checkout (page or wap pay)
	OrderChannelPOS OrderChannel = "pos" // 当面付 at the counter (alipay.trade.pay)
)

// Label is the channel's name in the admin's pages.
func (c OrderChannel) Label() string {
	if c == OrderChannelPOS {
		return "当面付"
	}
	return "网上下单"
}

// POSGoodsID is the reserved goods row counter orders name: they sell no
// goods item, only the subject and amount the owner typed. Storage never
// lists, sells, edits or deletes it.
const POSGoodsID int64 = 0

// DefaultPOSWait is how long a counter payment waits for its buyer before it
// is cancelled (Alipay's face-to-face guide: 30 s).
const DefaultPOSWait = wire.DefaultFaceToFaceWait

// POSRefresh is how often the counter's wait page refreshes itself, each
// refresh one alipay.trade.query.
const POSRefresh = 3 * time.Second

// SourcePay is how an order's payment became known from the answer of
// alipay.trade.pay itself (Order.PaidVia).
const SourcePay = "pay"

// POSStore is the storage of counter orders (implemented by package store).
type POSStore interface {
	// CreatePOSOrder inserts o, unpaid, with its own subject and amount,
	// under the one-time key of the form that made it; ErrOrderExists
	// when the key is stored already.
	CreatePOSOrder(ctx context.Context, o *Order, key string) error
	// OrderByPOSKey returns the order made under key, or ErrOrderNotFound.
	OrderByPOSKey(ctx context.Context, key string) (Order, error)
	// SetPOSNote stores why a counter order ends unpaid, while it is unpaid.
	SetPOSNote(ctx context.Context, outTradeNo, note string) error
}

// POSGateway is what counter payments need of Alipay besides Gateway;
// *alipay.Client implements it.
type POSGateway interface {
	TradePay(ctx context.Context, p wire.TradePayRequest) (*wire.TradePayResult, error)
	TradeCancel(ctx context.Context, p wire.TradeCancelRequest) (*wire.TradeCancelResult, error)
}

// POSCharge is one submission of the 当面付收款 form.
type POSCharge struct {
	Amount   wire.Amount
	Subject  string // "" becomes DefaultPOSSubject
	AuthCode string // the buyer's payment code, as scanned
	Key      string // the form's one-time key (NewPOSKey)
}

// DefaultPOSSubject is the subject of a counter order given none.
const DefaultPOSSubject = "当面付收款"

// NewPOSKey returns a one-time key for a 当面付收款 form: 128 random bits
// in hex.
func NewPOSKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// validPOSKey reports whether s is a key NewPOSKey could have made.
func validPOSKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// CleanPOSCharge checks a counter charge and returns it tidied: the subject
// trimmed (DefaultPOSSubject when empty), the code without the spaces a
// person may type between its groups of digits.
func CleanPOSCharge(c POSCharge) (POSCharge, error) {
	c.Subject = strings.TrimSpace(c.Subject)
	if c.Subject == "" {
		c.Subject = DefaultPOSSubject
	}
	c.AuthCode = strings.Join(strings.Fields(c.AuthCode), "")
	switch {
	case !validPOSKey(c.Key):
		return c, Errorf(EINVALID, "收款表单已失效，请刷新页面后重新收款")
	case !c.Amount.Valid():
		return c, Errorf(EINVALID, "收款金额应在 0.01 到 %s 元之间，最多两位小数", wire.MaxAmount)
	case !utf8.ValidString(c.Subject) || utf8.RuneCountInString(c.Subject) > MaxGoodsName:
		return c, Errorf(EINVALID, "收款说明不能超过 %d 个字", MaxGoodsName)
	case len(c.AuthCode) < 10 || len(c.AuthCode) > 32 || strings.Trim(c.AuthCode, "0123456789") != "":
		return c, Errorf(EINVALID, "付款码应为 10 到 32 位数字：请扫描顾客支付宝中的付款码，或照着输入")
	}
	for _, r := range c.Subject {
		if r < ' ' || r == 0x7f {
			return c, Errorf(EINVALID, "收款说明含有控制字符")
		}
	}
	return c, nil
}

// ErrPOSOff: the shop's storage or gateway cannot take counter payments.
var ErrPOSOff = &Error{Code: ENOTFOUND, Message: "当面付收款未启用"}

// POSEnabled reports whether the service can take counter payments.
func (s *Service) POSEnabled() bool { return s.pos != nil && s.posGW != nil }

// POSWait is how long a counter payment waits for its buyer.
func (s *Service) POSWait() time.Duration { return s.posWait }

// ChargePOS takes a counter payment: it stores the order under the form's
// one-time key, then makes one alipay.trade.pay. A key already used
// returns the order it made (repeat true) and charges nothing. The order
// comes back paid (paid at once), closed (refused, with the reason in
// POSNote) or unpaid (waiting for the buyer, or the outcome is unknown:
// follow it with FollowPOS).
func (s *Service) ChargePOS(ctx context.Context, c POSCharge) (o Order, repeat bool, err error) {
	if !s.POSEnabled() {
		return Order{}, false, ErrPOSOff
	}
	if c, err = CleanPOSCharge(c); err != nil {
		return Order{}, false, err
	}
	if o, err := s.pos.OrderByPOSKey(ctx, c.Key); err == nil || !errors.Is(err, ErrOrderNotFound) {
		return o, err == nil, err
	}
	now := s.now()
	o = Order{OutTradeNo: NewOutTradeNo(now), GoodsID: POSGoodsID, Subject: c.Subject, Amount: c.Amount, Status: StatusUnpaid,
		Channel: OrderChannelPOS, CreatedAt: now, UpdatedAt: now, TimeExpire: now.Add(s.posWait)}
	if err := s.pos.CreatePOSOrder(ctx, &o, c.Key); errors.Is(err, ErrOrderExists) {
		o, err := s.pos.OrderByPOSKey(ctx, c.Key) // the same form, posted twice at once
		return o, err == nil, err
	} else if err != nil {
		return Order{}, false, err
	}
	s.obs.OrderCreated()
	s.log.Info("counter order created", "out_trade_no", o.OutTradeNo, "amount", o.Amount.String())
	// The owner's request may end (a second click, a closed tab); the
	// payment must not: its outcome decides the order.
	callCtx := context.WithoutCancel(ctx)
	pay, err := s.posGW.TradePay(callCtx, wire.TradePayRequest{OutTradeNo: o.OutTradeNo, TotalAmount: o.Amount,
		Subject: PaySubject(o.Subject), AuthCode: c.AuthCode})
	switch {
	case err == nil:
		if err := s.applyTradePay(callCtx, o.OutTradeNo, pay); err != nil {
			return o, false, err
		}
	case posRefused(err):
		note := POSRefusal(err)
		if err := s.pos.SetPOSNote(callCtx, o.OutTradeNo, note); err != nil {
			return o, false, err
		}
		if _, err := s.ApplyClosed(callCtx, o.OutTradeNo, "alipay.trade.pay", wire.ResponseOf(err), "refused: "+err.Error()); err != nil {
			return o, false, err
		}
		s.log.Info("counter payment refused", "out_trade_no", o.OutTradeNo, "err", err)
	default:
		// Unknown: the trade may exist. FollowPOS queries it, and cancels
		// it at the deadline if it is not paid.
		s.log.Warn("counter payment outcome unknown; following it", "out_trade_no", o.OutTradeNo, "err", err)
	}
	o, err = s.store.Order(callCtx, o.OutTradeNo)
	return o, false, err
}

// posRefused reports whether err from alipay.trade.pay says for sure that
// nothing was charged and no trade waits: a verified refusal, or a request
// the client refused to send. Anything else may have made a trade.
func posRefused(err error) bool {
	var e *wire.Error
	if errors.As(err, &e) {
		return !e.Unverified && !wire.IsUnknownOutcome(err)
	}
	return errors.Is(err, wire.ErrInvalidParam)
}

// POSRefusal says in the owner's words why Alipay refused a counter
// payment.
func POSRefusal(err error) string {
	var e *wire.Error
	if !errors.As(err, &e) {
		return "付款信息有误，未能发起收款。"
	}
	switch e.SubCode {
	case "ACQ.PAYMENT_AUTH_CODE_INVALID":
		return "付款码无效或已过期：请顾客刷新付款码后重新收款。"
	case "ACQ.BUYER_BALANCE_NOT_ENOUGH", "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH":
		return "顾客账户余额不足：请顾客更换付款方式后重新收款。"
	case "ACQ.TRADE_HAS_CLOSE":
		return "交易已关闭：请重新收款。"
	case "ACQ.BUYER_SELLER_EQUAL":
		return "买家与卖家不能是同一个支付宝账户。"
	case "ACQ.EXIST_FORBIDDEN_WORD":
		return "收款说明含有支付宝不允许的词语：请修改后重新收款。"
	case "ACQ.TOTAL_FEE_EXCEED":
		return "收款金额超过支付宝允许的上限。"
	case "ACQ.PAYMENT_REQUEST_HAS_RISK", "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT", "ACQ.BUYER_ENABLE_STATUS_FORBID":
		return "支付宝因顾客账户的原因拒绝了这笔付款：请顾客换一种方式付款。"
	}
	msg := e.SubMsg
	if msg == "" {
		msg = e.Msg
	}
	return fmt.Sprintf("支付宝拒绝了这笔付款（%s）：%s", e.SubCode, msg)
}

// applyTradePay records the answer of alipay.trade.pay and applies it:
// paid → the order is paid; waiting for the buyer → nothing changes.
func (s *Service) applyTradePay(ctx context.Context, outTradeNo string, p *wire.TradePayResult) error {
	status := wire.TradeStatusSuccess
	if p.WaitingForBuyer {
		status = wire.TradeStatusWaitBuyerPay
	}
	in := &Inbound{Source: SourceQuery, ReceivedAt: s.now(), Method: "alipay.trade.pay", Verified: true,
		OutTradeNo: outTradeNo, TradeStatus: string(status)}
	in.setAnswer(p.Raw)
	d, err := s.receive(ctx, in, func(o *Order, _ *Refund) Decision { return decideTradePay(outTradeNo, p, o, in.ReceivedAt) })
	if err != nil {
		return err
	}
	if d.Outcome == OutcomeAmountMismatch {
		s.log.Warn("trade.pay: amount differs from the order; flagged for review", "out_trade_no", outTradeNo, "detail", d.Detail)
	}
	return nil
}

// FollowPOS moves a counter order that waits for its buyer on: one
// alipay.trade.query (paid or closed as Alipay says) and, once its deadline
// has passed unpaid, alipay.trade.cancel. Other orders come back as they
// are. An error with the order unpaid means Alipay did not answer (or the
// cancel's outcome is unknown): call it again later.
func (s *Service) FollowPOS(ctx context.Context, outTradeNo string) (Order, error) {
	o, err := s.Order(ctx, outTradeNo)
	if err != nil || o.Channel != OrderChannelPOS || o.Status != StatusUnpaid {
		return o, err
	}
	if !s.POSEnabled() {
		return o, ErrPOSOff
	}
	o, qerr := s.SyncOrder(ctx, outTradeNo)
	if errors.Is(qerr, ErrAmountMismatch) || o.Status != StatusUnpaid {
		return o, qerr
	}
	if s.now().Before(o.TimeExpire) {
		return o, qerr
	}
	secs := int(s.posWait / time.Second)
	return s.cancelPOS(ctx, o, fmt.Sprintf("顾客未在 %d 秒内确认付款，交易已撤销，没有扣款。", secs))
}

// CancelPOS is the owner's 撤销 of a counter order still waiting for its
// buyer: alipay.trade.cancel (which closes the trade, or refunds it in full
// if the buyer paid at that moment), then the order is closed.
func (s *Service) CancelPOS(ctx context.Context, outTradeNo string) (Order, error) {
	o, err := s.Order(ctx, outTradeNo)
	switch {
	case err != nil:
		return o, err
	case o.Channel != OrderChannelPOS:
		return o, Errorf(EINVALID, "只有当面付订单可以撤销")
	case o.Status != StatusUnpaid:
		return o, nil // paid or closed already: the page says which
	case !s.POSEnabled():
		return o, ErrPOSOff
	}
	return s.cancelPOS(ctx, o, "收银员已撤销这笔收款，没有扣款。")
}

// cancelPOS cancels the trade of unpaid counter order o, with note for the
// counter page.
func (s *Service) cancelPOS(ctx context.Context, o Order, note string) (Order, error) {
	ctx = context.WithoutCancel(ctx)
	if err := s.pos.SetPOSNote(ctx, o.OutTradeNo, note); err != nil {
		return o, err
	}
	res, err := s.posGW.TradeCancel(ctx, wire.TradeCancelRequest{OutTradeNo: o.OutTradeNo})
	var raw *wire.Response
	action := wire.CancelActionClose
	switch {
	case err == nil && res.RetryFlag != "Y":
		raw = res.Raw
		if res.Action == wire.CancelActionRefund {
			action = wire.CancelActionRefund
			if err := s.pos.SetPOSNote(ctx, o.OutTradeNo, "顾客在撤销时刚好付款，款项已由支付宝全额退回；交易已撤销。"); err != nil {
				return o, err
			}
		}
	case wire.IsTradeNotExist(err):
		raw = wire.ResponseOf(err) // no trade: nothing charged, nothing open
	case err == nil:
		return o, Errorf(EUNAVAILABLE, "支付宝要求稍后重试撤销；系统会自动重试，请勿重复收款")
	default:
		s.log.Warn("counter payment cancel failed; the reconciler retries", "out_trade_no", o.OutTradeNo, "err", err)
		return o, Errorf(EUNAVAILABLE, "撤销未完成（%s）；系统会自动重试，请勿重复收款", posErrText(err))
	}
	in := &Inbound{Source: SourceQuery, ReceivedAt: s.now(), Method: "alipay.trade.cancel", Verified: true,
		OutTradeNo: o.OutTradeNo, TradeStatus: string(wire.TradeStatusClosed)}
	in.setAnswer(raw)
	if _, err := s.receive(ctx, in, func(o *Order, _ *Refund) Decision { return decideCancelled(o, action) }); err != nil {
		return o, err
	}
	s.log.Info("counter payment cancelled", "out_trade_no", o.OutTradeNo, "action", action)
	return s.store.Order(ctx, o.OutTradeNo)
}

// posErrText is a short reason for an error of a gateway call.
func posErrText(err error) string {
	if wire.IsUnknownOutcome(err) {
		return "支付宝暂未应答"
	}
	return "调用支付宝失败"
}
