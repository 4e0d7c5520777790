package shop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"alishop/alipay/wire"
)

// PayoutStatus is the state of one payout.
type PayoutStatus string

// Payout states: pending until Alipay's answer (or a transfer query)
// settles it.
const (
	PayoutPending   PayoutStatus = "pending"
	PayoutSucceeded PayoutStatus = "succeeded"
	PayoutFailed    PayoutStatus = "failed"
)

// Payout is money the owner pays out to a buyer of an order (a
// compensation, 转账) from the merchant's Alipay balance. OutBizNo is stored
// before Alipay is called and sent unchanged, with the same parameters, on
// every retry, so a payout is made at most once whatever happens to the
// answers.
type Payout struct {
	ID            int64
	OrderID       int64
	OutTradeNo    string
	OutBizNo      string
	Amount        wire.Amount
	PayeeType     wire.IdentityType
	Payee         string // the payee's Alipay login or user id
	PayeeName     string // the payee's real name, checked by Alipay
	Reason        string
	Status        PayoutStatus
	AlipayOrderID string // Alipay's transfer order, once made
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PendingPayout is step 1 of a payout, stored on the server: what the admin
// is asked to confirm, and the one-time key that confirms it (the payout's
// out_biz_no once confirmed).
type PendingPayout struct {
	Key        string
	OutTradeNo string
	Amount     wire.Amount
	PayeeType  wire.IdentityType
	Payee      string
	PayeeName  string
	Reason     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// PendingPayoutTTL is how long the confirmation of a payout can be posted
// after step 1.
const PendingPayoutTTL = 30 * time.Minute

// Bounds of a payout's texts, in characters.
const (
	MaxPayoutReason = 100 // Alipay's order_title allows 128
	MaxPayeeName    = 100
	MaxPayee        = 100
)

// PayoutStore is the storage of payouts (implemented by package store).
type PayoutStore interface {
	// AddPendingPayout stores step 1 of a payout until it is confirmed or
	// expires, deleting those expired at p.CreatedAt.
	AddPendingPayout(ctx context.Context, p PendingPayout) error
	// PendingPayout returns the pending payout of a key, or
	// ErrPendingPayoutNotFound.
	PendingPayout(ctx context.Context, key string) (PendingPayout, error)
	// ConfirmPayout stores p as pending in one transaction that locks p's
	// order, finds no payout with p.OutBizNo (ErrPayoutExists), deletes
	// the pending payout of that key by compare-and-set (of p's order,
	// amount and payee, not expired at p.CreatedAt;
	// ErrPendingPayoutNotFound when there is none such), reads the total of
	// the order's payouts not failed and calls allow with them: an error
	// from allow is returned and nothing is stored. With the payout it
	// stores a job that settles it, due at settleAt.
	ConfirmPayout(ctx context.Context, p *Payout, settleAt time.Time, allow func(o *Order, claimed wire.Amount) error) error
	Payout(ctx context.Context, outBizNo string) (Payout, error) // ErrPayoutNotFound
	OrderPayouts(ctx context.Context, outTradeNo string) ([]Payout, error)
	// FinishPayout moves a pending payout to succeeded (with Alipay's
	// order id) or failed (with why), by compare-and-set; it reports
	// whether it changed it.
	FinishPayout(ctx context.Context, outBizNo string, status PayoutStatus, alipayOrderID, why string, now time.Time) (bool, error)
	// NotePayout keeps the last unknown outcome of a pending payout.
	NotePayout(ctx context.Context, outBizNo, note string, now time.Time) error
	// ListPayouts returns the payouts made in [from, to) (zero: unbounded),
	// oldest first, at most limit of them.
	ListPayouts(ctx context.Context, from, to time.Time, limit int) ([]Payout, error)
}

// PayoutGateway is what payouts need from Alipay; *alipay.Client implements it.
type PayoutGateway interface {
	FundTransUniTransfer(ctx context.Context, p wire.FundTransUniTransferRequest) (*wire.FundTransUniTransferResult, error)
	FundTransCommonQuery(ctx context.Context, p wire.FundTransCommonQueryRequest) (*wire.FundTransCommonQueryResult, error)
}

// Errors of payouts.
var (
	ErrPayoutNotFound        = &Error{Code: ENOTFOUND, Message: "转账不存在"}
	ErrPayoutExists          = &Error{Code: ECONFLICT, Message: "该转账已提交过"}
	ErrPendingPayoutNotFound = &Error{Code: EINVALID, Message: "转账确认无效或已过期，请重新填写转账"}
)

// NewOutBizNo returns a payout's merchant number: T, the Beijing time, and
// 64 random bits in hex.
func NewOutBizNo(now time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "T" + now.In(wire.Beijing).Format("20060102150405") + hex.EncodeToString(b[:])
}

// ValidOutBizNo reports whether s has the form of NewOutBizNo.
func ValidOutBizNo(s string) bool {
	if len(s) != 31 || s[0] != 'T' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkPayee checks a payee as the admin typed it.
func checkPayee(typ wire.IdentityType, payee, name, reason string) error {
	for _, s := range []string{payee, name, reason} {
		if !utf8.ValidString(s) {
			return Errorf(EINVALID, "收款人信息不是有效文字")
		}
	}
	switch {
	case typ != wire.IdentityLogonID && typ != wire.IdentityUserID:
		return Errorf(EINVALID, "收款账户类型应为支付宝登录号或支付宝用户号")
	case payee == "" || utf8.RuneCountInString(payee) > MaxPayee:
		return Errorf(EINVALID, "请填写收款支付宝账户（不超过 %d 个字）", MaxPayee)
	case typ == wire.IdentityUserID && !ValidBuyerUserID(payee):
		return Errorf(EINVALID, "支付宝用户号应为 2088 开头的 16 位数字")
	case typ == wire.IdentityLogonID && name == "":
		return Errorf(EINVALID, "按支付宝登录号转账时须填写收款人真实姓名")
	case utf8.RuneCountInString(name) > MaxPayeeName:
		return Errorf(EINVALID, "收款人姓名不能超过 %d 个字", MaxPayeeName)
	case utf8.RuneCountInString(reason) > MaxPayoutReason:
		return Errorf(EINVALID, "转账说明不能超过 %d 个字", MaxPayoutReason)
	}
	return nil
}

// ValidBuyerUserID reports whether s is an Alipay user id: 2088 and 12 digits.
func ValidBuyerUserID(s string) bool {
	if len(s) != 16 || s[:4] != "2088" {
		return false
	}
	for i := 4; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Payouts makes and settles payouts.
type Payouts struct {
	svc   *Service
	store PayoutStore
	gw    PayoutGateway
	// SettleAfter is when a payout whose answer is unknown is first looked
	// at again by its job (default one minute): the job settles it
	// without the admin, by the transfer query and, when Alipay never
	// accepted it, the same transfer again.
	SettleAfter time.Duration
}

// NewPayouts returns the payout use cases of svc.
func NewPayouts(svc *Service, st PayoutStore, gw PayoutGateway) *Payouts {
	return &Payouts{svc: svc, store: st, gw: gw, SettleAfter: time.Minute}
}

// PayoutPlan is what a payout would do, for a confirmation page.
type PayoutPlan struct {
	Order     Order
	Pending   PendingPayout
	Claimed   wire.Amount // paid out or being paid out before this one
	LeftAfter wire.Amount // what may still be paid out after this one
}

// Plan is step 1 of a payout: it checks the payout and stores it as pending
// under a fresh one-time key for Confirm, valid for PendingPayoutTTL.
// Nothing is sent to Alipay.
func (po *Payouts) Plan(ctx context.Context, outTradeNo string, amount wire.Amount, typ wire.IdentityType, payee, name, reason string) (PayoutPlan, error) {
	if !ValidOutTradeNo(outTradeNo) {
		return PayoutPlan{}, ErrOrderNotFound
	}
	if err := checkPayee(typ, payee, name, reason); err != nil {
		return PayoutPlan{}, err
	}
	o, err := po.svc.Order(ctx, outTradeNo)
	if err != nil {
		return PayoutPlan{}, err
	}
	claimed, err := po.claimed(ctx, outTradeNo)
	if err != nil {
		return PayoutPlan{}, err
	}
	if err := PayoutAllowed(&o, claimed, amount); err != nil {
		return PayoutPlan{}, err
	}
	now := po.svc.now()
	p := PendingPayout{Key: NewOutBizNo(now), OutTradeNo: outTradeNo, Amount: amount, PayeeType: typ, Payee: payee, PayeeName: name,
		Reason: reason, CreatedAt: now, ExpiresAt: now.Add(PendingPayoutTTL)}
	if err := po.store.AddPendingPayout(ctx, p); err != nil {
		return PayoutPlan{}, err
	}
	return PayoutPlan{Order: o, Pending: p, Claimed: claimed, LeftAfter: o.Amount - claimed - amount}, nil
}

func (po *Payouts) claimed(ctx context.Context, outTradeNo string) (wire.Amount, error) {
	ps, err := po.store.OrderPayouts(ctx, outTradeNo)
	if err != nil {
		return 0, err
	}
	var claimed wire.Amount
	for _, p := range ps {
		if p.Status != PayoutFailed {
			claimed += p.Amount
		}
	}
	return claimed, nil
}

// Confirm makes the payout that Plan stored under key, for order outTradeNo
// and amount: key becomes the payout's out_biz_no; payee and reason are
// those of step 1. Only a key Plan issued for that order and amount, not
// expired, is accepted, once. The same confirmation posted again makes no
// payout: it returns the payout the first one made (repeat is true, after
// settling it if its outcome is still unknown), or ECONFLICT when that one
// was for another order or amount.
func (po *Payouts) Confirm(ctx context.Context, outTradeNo, key string, amount wire.Amount) (p Payout, repeat bool, err error) {
	if !ValidOutBizNo(key) || !ValidOutTradeNo(outTradeNo) {
		return Payout{}, false, ErrPendingPayoutNotFound
	}
	// The pending payout is read before the payout: confirming deletes the
	// one and stores the other in one transaction.
	var pending *PendingPayout
	switch pp, err := po.store.PendingPayout(ctx, key); {
	case err == nil:
		pending = &pp
	case !errors.Is(err, ErrPendingPayoutNotFound):
		return Payout{}, false, err
	}
	switch p, err := po.store.Payout(ctx, key); {
	case err == nil:
		return po.repeat(ctx, p, outTradeNo, amount)
	case !errors.Is(err, ErrPayoutNotFound):
		return Payout{}, false, err
	}
	now := po.svc.now()
	if err := CheckPendingPayout(pending, outTradeNo, amount, now); err != nil {
		return Payout{}, false, err
	}
	p = Payout{OutTradeNo: outTradeNo, OutBizNo: key, Amount: amount, PayeeType: pending.PayeeType, Payee: pending.Payee,
		PayeeName: pending.PayeeName, Reason: pending.Reason, Status: PayoutPending, CreatedAt: now, UpdatedAt: now}
	allow := func(o *Order, claimed wire.Amount) error { return PayoutAllowed(o, claimed, amount) }
	err = po.store.ConfirmPayout(ctx, &p, now.Add(po.SettleAfter), allow)
	if errors.Is(err, ErrPayoutExists) {
		// Confirmed meanwhile by the same confirmation elsewhere.
		if p, err = po.store.Payout(ctx, key); err != nil {
			return Payout{}, true, err
		}
		return po.repeat(ctx, p, outTradeNo, amount)
	}
	if err != nil {
		return Payout{}, false, err
	}
	if _, err := po.Settle(ctx, key, true); err != nil {
		po.svc.log.Warn("payout: outcome unknown, settle it later", "out_trade_no", outTradeNo, "out_biz_no", key, "err", err)
	}
	p, err = po.store.Payout(ctx, key)
	return p, false, err
}

// repeat answers a confirmation posted again: the payout p its key made.
func (po *Payouts) repeat(ctx context.Context, p Payout, outTradeNo string, amount wire.Amount) (Payout, bool, error) {
	if p.OutTradeNo != outTradeNo || p.Amount != amount {
		return Payout{}, true, Errorf(ECONFLICT, "该转账确认已用于订单 %s 的 %s 元转账", p.OutTradeNo, p.Amount)
	}
	if p.Status != PayoutPending {
		return p, true, nil
	}
	if _, err := po.Settle(ctx, p.OutBizNo, false); err != nil {
		po.svc.log.Warn("payout: outcome unknown, settle it later", "out_trade_no", outTradeNo, "out_biz_no", p.OutBizNo, "err", err)
	}
	p, err := po.store.Payout(ctx, p.OutBizNo)
	return p, true, err
}

// Settle drives a pending payout to a final state: on a retry it first asks
// Alipay (alipay.fund.trans.common.query) whether the transfer was made;
// if Alipay never accepted it, it sends the same transfer again with the
// same out_biz_no. It reports whether the payout is final; an error means
// the outcome is still unknown.
func (po *Payouts) Settle(ctx context.Context, outBizNo string, first bool) (bool, error) {
	p, err := po.store.Payout(ctx, outBizNo)
	if err != nil {
		if errors.Is(err, ErrPayoutNotFound) {
			return true, nil
		}
		return false, err
	}
	if p.Status != PayoutPending {
		return true, nil
	}
	if !first {
		q, err := po.gw.FundTransCommonQuery(ctx, wire.FundTransCommonQueryRequest{OutBizNo: p.OutBizNo})
		switch {
		case err == nil && q.Status == wire.TransferStatusSuccess:
			if q.TransAmount != 0 && q.TransAmount != p.Amount {
				return false, fmt.Errorf("payout %s: Alipay paid %s, we asked %s", p.OutBizNo, q.TransAmount, p.Amount)
			}
			return po.finish(ctx, p, PayoutSucceeded, q.OrderID, "")
		case err == nil && q.Status == wire.TransferStatusFail:
			return po.finish(ctx, p, PayoutFailed, q.OrderID, "Alipay: "+q.ErrorCode+" "+q.FailReason)
		case err == nil:
			return false, fmt.Errorf("payout %s: transfer %s", p.OutBizNo, q.Status)
		case !wire.HasSubCode(err, wire.SubCodeOrderNotExist):
			_ = po.store.NotePayout(ctx, p.OutBizNo, err.Error(), po.svc.now())
			return false, err
		}
		// Never accepted: the same transfer again is safe.
	}
	res, err := po.gw.FundTransUniTransfer(ctx, wire.FundTransUniTransferRequest{OutBizNo: p.OutBizNo, TransAmount: p.Amount,
		Payee: wire.Participant{Identity: p.Payee, IdentityType: p.PayeeType, Name: p.PayeeName}, OrderTitle: payoutTitle(p)})
	switch {
	case err == nil && res.Status == wire.TransferStatusSuccess:
		return po.finish(ctx, p, PayoutSucceeded, res.OrderID, "")
	case err == nil:
		_ = po.store.NotePayout(ctx, p.OutBizNo, "transfer "+string(res.Status), po.svc.now())
		return false, fmt.Errorf("payout %s: transfer %s", p.OutBizNo, res.Status)
	case wire.OutcomeOf(err) == wire.OutcomeBusinessError && !wire.HasSubCode(err, wire.SubCodeFundSystemError):
		// A refusal (balance, payee, real name…): nothing was paid.
		po.svc.log.Warn("payout refused by Alipay", "out_trade_no", p.OutTradeNo, "out_biz_no", p.OutBizNo, "err", err)
		return po.finish(ctx, p, PayoutFailed, "", err.Error())
	}
	_ = po.store.NotePayout(ctx, p.OutBizNo, err.Error(), po.svc.now())
	return false, err
}

func (po *Payouts) finish(ctx context.Context, p Payout, status PayoutStatus, orderID, why string) (bool, error) {
	if _, err := po.store.FinishPayout(ctx, p.OutBizNo, status, orderID, why, po.svc.now()); err != nil {
		return false, err
	}
	return true, nil
}

// payoutTitle is the transfer's title in the payee's Alipay bill.
func payoutTitle(p Payout) string {
	if p.Reason != "" {
		return p.Reason
	}
	return "订单 " + p.OutTradeNo + " 补偿"
}

// MaxExportPayouts bounds one export of payouts: a larger one is refused.
const MaxExportPayouts = 10_000

// ExportPayouts lists the payouts made in [from, to) (zero: unbounded),
// oldest first; more than MaxExportPayouts is refused.
func (po *Payouts) ExportPayouts(ctx context.Context, from, to time.Time) ([]Payout, error) {
	ps, err := po.store.ListPayouts(ctx, from, to, MaxExportPayouts+1)
	if err != nil {
		return nil, err
	}
	if len(ps) > MaxExportPayouts {
		return nil, Errorf(EINVALID, "所选日期内的转账超过 %d 笔，请缩小日期范围后再导出", MaxExportPayouts)
	}
	return ps, nil
}

// OrderPayouts lists an order's payouts, oldest first.
func (po *Payouts) OrderPayouts(ctx context.Context, outTradeNo string) ([]Payout, error) {
	return po.store.OrderPayouts(ctx, outTradeNo)
}
