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

// RefundStatus is the state of one refund request.
type RefundStatus string

// Refund states: pending until Alipay's answer (or a refund query, or a
// refund notification) settles it.
const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// Refund is one refund request of an order. OutRequestNo is stored before
// Alipay is called and sent unchanged on every retry, so a refund is made at
// most once whatever happens to the answers.
type Refund struct {
	ID           int64
	OrderID      int64
	OutTradeNo   string
	OutRequestNo string
	Amount       wire.Amount
	Reason       string
	Status       RefundStatus
	LastError    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	SettledAt    time.Time
}

// MaxRefundReason bounds a refund reason, in characters (Alipay allows 256).
const MaxRefundReason = 256

// RefundStore is the storage of refunds (implemented by package store).
type RefundStore interface {
	// CreateRefund stores r as pending, with a job to settle it due at
	// settleAt, in one transaction that first reads r's order (locked) and
	// the total of its refunds not failed, and calls allow with them: an
	// error from allow is returned and nothing is stored.
	CreateRefund(ctx context.Context, r *Refund, settleAt time.Time, allow func(o *Order, claimed wire.Amount) error) error
	Refund(ctx context.Context, outRequestNo string) (Refund, error) // ErrRefundNotFound
	OrderRefunds(ctx context.Context, outTradeNo string) ([]Refund, error)
	// AddPendingRefund stores step 1 of a refund until it is confirmed or
	// expires, deleting those expired at p.CreatedAt.
	AddPendingRefund(ctx context.Context, p PendingRefund) error
	// PendingRefund returns the pending refund of a key, or
	// ErrPendingRefundNotFound.
	PendingRefund(ctx context.Context, key string) (PendingRefund, error)
	// ConfirmRefund is CreateRefund for the refund a pending refund's key
	// (r.OutRequestNo) confirms: in the same transaction, after the order
	// is locked and the refund is found not to exist (ErrRefundExists), it
	// deletes that pending refund by compare-and-set (of r's order, amount
	// and restock, not expired at r.CreatedAt); ErrPendingRefundNotFound
	// when there is none such, and nothing is stored. With restock, the
	// stock the order holds (Order.StockHeld) goes back to its goods, the
	// order holds none after, and an EventRestocked event by the admin
	// records how many (its Detail the count).
	ConfirmRefund(ctx context.Context, r *Refund, restock bool, settleAt time.Time, allow func(o *Order, claimed wire.Amount) error) error
	// FailRefund moves a pending refund to failed (what Alipay refused).
	FailRefund(ctx context.Context, outRequestNo, why string, now time.Time) (bool, error)
	// NoteRefund keeps the last unknown outcome of a pending refund.
	NoteRefund(ctx context.Context, outRequestNo, note string, now time.Time) error
}

// RefundGateway is what refunds need from Alipay; *alipay.Client implements it.
type RefundGateway interface {
	TradeRefund(ctx context.Context, p wire.TradeRefundRequest) (*wire.TradeRefundResult, error)
	TradeFastPayRefundQuery(ctx context.Context, p wire.TradeFastPayRefundQueryRequest) (*wire.TradeFastPayRefundQueryResult, error)
}

// ErrRefundNotFound is returned for an unknown out_request_no.
var ErrRefundNotFound = &Error{Code: ENOTFOUND, Message: "退款不存在"}

// ErrRefundExists is returned by CreateRefund for an out_request_no that
// is already stored.
var ErrRefundExists = &Error{Code: ECONFLICT, Message: "该退款已提交过"}

// ErrPendingRefundNotFound is returned for a confirmation key that step 1
// of a refund did not issue, or no longer holds (used or expired).
var ErrPendingRefundNotFound = &Error{Code: EINVALID, Message: "退款确认无效或已过期，请重新填写退款"}

// PendingRefundTTL is how long the confirmation of a refund can be
// posted after step 1.
const PendingRefundTTL = 30 * time.Minute

// PendingRefund is step 1 of a refund, stored on the server: what the
// admin is asked to confirm, and the one-time key that confirms it (the
// refund's out_request_no once confirmed).
type PendingRefund struct {
	Key        string
	OutTradeNo string
	Amount     wire.Amount
	Reason     string
	// Restock: the confirmation also gives back the stock the order holds
	// (the admin's choice on the refund form, for goods that come back or
	// were never sent).
	Restock   bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Refunds makes and settles refunds.
type Refunds struct {
	svc   *Service
	store RefundStore
	gw    RefundGateway
	// SettleAfter is when a refund whose answer is unknown is first looked
	// at again (by its job); default one minute.
	SettleAfter time.Duration
}

// NewRefunds returns the refund use cases of svc.
func NewRefunds(svc *Service, st RefundStore, gw RefundGateway) *Refunds {
	return &Refunds{svc: svc, store: st, gw: gw, SettleAfter: time.Minute}
}

// NewOutRequestNo returns a refund request number: R, the Beijing time,
// and 64 random bits in hex.
func NewOutRequestNo(now time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "R" + now.In(wire.Beijing).Format("20060102150405") + hex.EncodeToString(b[:])
}

// Request refunds amount of a paid order with a reason. The refund is stored
// (with its out_request_no and a job to settle it) before Alipay is called;
// when Alipay's answer is unknown the refund stays pending and its job
// settles it later. It returns the refund as it stands.
func (rf *Refunds) Request(ctx context.Context, outTradeNo string, amount wire.Amount, reason string) (Refund, error) {
	if err := checkRefund(outTradeNo, amount, reason); err != nil {
		return Refund{}, err
	}
	now := rf.svc.now()
	r := Refund{OutTradeNo: outTradeNo, OutRequestNo: NewOutRequestNo(now), Amount: amount, Reason: reason,
		Status: RefundPending, CreatedAt: now, UpdatedAt: now}
	allow := func(o *Order, claimed wire.Amount) error { return RefundAllowed(o, claimed, amount) }
	if err := rf.store.CreateRefund(ctx, &r, now.Add(rf.SettleAfter), allow); err != nil {
		return Refund{}, err
	}
	return rf.send(ctx, r)
}

// Confirm makes the refund that step 1 (Plan) stored under key, for order
// outTradeNo and amount: key becomes the refund's out_request_no, and the
// reason is the one given in step 1. Only a key Plan issued for that order
// and amount, not expired, is accepted, once. The same confirmation posted
// again (a double click, a reload, a resubmission after a restart, or at
// once to another process) makes no refund: it returns the refund the first
// one made (repeat is true), or ECONFLICT when that one was for another
// order or amount.
func (rf *Refunds) Confirm(ctx context.Context, outTradeNo, key string, amount wire.Amount) (r Refund, repeat bool, err error) {
	if !ValidOutRequestNo(key) {
		return Refund{}, false, ErrPendingRefundNotFound
	}
	if err := checkRefund(outTradeNo, amount, ""); err != nil {
		return Refund{}, false, err
	}
	// The pending refund is read before the refund: confirming deletes the
	// one and stores the other in one transaction, so a key whose pending
	// refund is gone has its refund by the time it is looked for.
	var pending *PendingRefund
	switch p, err := rf.store.PendingRefund(ctx, key); {
	case err == nil:
		pending = &p
	case !errors.Is(err, ErrPendingRefundNotFound):
		return Refund{}, false, err
	}
	switch r, err := rf.store.Refund(ctx, key); {
	case err == nil:
		return rf.repeat(ctx, r, outTradeNo, amount)
	case !errors.Is(err, ErrRefundNotFound):
		return Refund{}, false, err
	}
	now := rf.svc.now()
	if err := CheckPendingRefund(pending, outTradeNo, amount, now); err != nil {
		return Refund{}, false, err
	}
	r = Refund{OutTradeNo: outTradeNo, OutRequestNo: key, Amount: amount, Reason: pending.Reason,
		Status: RefundPending, CreatedAt: now, UpdatedAt: now}
	allow := func(o *Order, claimed wire.Amount) error { return RefundAllowed(o, claimed, amount) }
	err = rf.store.ConfirmRefund(ctx, &r, pending.Restock, now.Add(rf.SettleAfter), allow)
	if errors.Is(err, ErrRefundExists) {
		// Confirmed meanwhile by the same confirmation elsewhere.
		if r, err = rf.store.Refund(ctx, key); err != nil {
			return Refund{}, true, err
		}
		return rf.repeat(ctx, r, outTradeNo, amount)
	}
	if err != nil {
		return Refund{}, false, err
	}
	r, err = rf.send(ctx, r)
	return r, false, err
}

// repeat answers a confirmation posted again: the refund r its key made.
func (rf *Refunds) repeat(ctx context.Context, r Refund, outTradeNo string, amount wire.Amount) (Refund, bool, error) {
	if r.OutTradeNo != outTradeNo || r.Amount != amount {
		return Refund{}, true, Errorf(ECONFLICT, "该退款确认已用于订单 %s 的 %s 元退款", r.OutTradeNo, r.Amount)
	}
	if r.Status != RefundPending {
		return r, true, nil
	}
	// Its first attempt may have died with the process: ask Alipay
	// (refund query first, the same out_request_no after).
	if _, err := rf.Settle(ctx, r.OutRequestNo, false); err != nil {
		rf.svc.log.Warn("refund: outcome unknown, will settle later", "out_trade_no", outTradeNo, "out_request_no", r.OutRequestNo, "err", err)
	}
	r, err := rf.store.Refund(ctx, r.OutRequestNo)
	return r, true, err
}

// ValidOutRequestNo reports whether s has the form of NewOutRequestNo.
func ValidOutRequestNo(s string) bool {
	if len(s) != 31 || s[0] != 'R' {
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

// RefundPlan is what a refund would do, for a confirmation page.
type RefundPlan struct {
	Order     Order
	Amount    wire.Amount
	Reason    string
	Claimed   wire.Amount // refunded or being refunded before this one
	LeftAfter wire.Amount // still refundable after this one
	Key       string      // the one-time key that confirms it (Confirm), its identity once made
	ExpiresAt time.Time   // when Key stops confirming it
	Restock   int         // how many of the goods' stock it gives back (0: none)
}

// Plan is step 1 of a refund: it checks the refund as Request would, and
// stores it as pending under a fresh one-time key for Confirm, valid for
// PendingRefundTTL. With restock, confirming it also gives back the stock
// the order holds (nothing when it holds none: unlimited goods, or given
// back before). Nothing is sent to Alipay.
func (rf *Refunds) Plan(ctx context.Context, outTradeNo string, amount wire.Amount, reason string, restock bool) (RefundPlan, error) {
	if err := checkRefund(outTradeNo, amount, reason); err != nil {
		return RefundPlan{}, err
	}
	o, err := rf.svc.Order(ctx, outTradeNo)
	if err != nil {
		return RefundPlan{}, err
	}
	refunds, err := rf.store.OrderRefunds(ctx, outTradeNo)
	if err != nil {
		return RefundPlan{}, err
	}
	var claimed wire.Amount
	for _, r := range refunds {
		if r.Status != RefundFailed {
			claimed += r.Amount
		}
	}
	if err := RefundAllowed(&o, claimed, amount); err != nil {
		return RefundPlan{}, err
	}
	now := rf.svc.now()
	p := PendingRefund{Key: NewOutRequestNo(now), OutTradeNo: outTradeNo, Amount: amount, Reason: reason,
		Restock: restock && o.StockHeld > 0, CreatedAt: now, ExpiresAt: now.Add(PendingRefundTTL)}
	if err := rf.store.AddPendingRefund(ctx, p); err != nil {
		return RefundPlan{}, err
	}
	plan := RefundPlan{Order: o, Amount: amount, Reason: reason, Claimed: claimed, LeftAfter: o.Amount - claimed - amount,
		Key: p.Key, ExpiresAt: p.ExpiresAt}
	if p.Restock {
		plan.Restock = o.StockHeld
	}
	return plan, nil
}

func checkRefund(outTradeNo string, amount wire.Amount, reason string) error {
	if !ValidOutTradeNo(outTradeNo) {
		return ErrOrderNotFound
	}
	switch n := utf8.RuneCountInString(reason); {
	case !utf8.ValidString(reason):
		return Errorf(EINVALID, "退款原因不是有效文字")
	case n > MaxRefundReason:
		return Errorf(EINVALID, "退款原因不能超过 %d 个字", MaxRefundReason)
	}
	if !amount.Valid() {
		return Errorf(EINVALID, "退款金额必须大于 0")
	}
	return nil
}

// send asks Alipay for the refund r, stored as pending, and returns it as
// it stands after.
func (rf *Refunds) send(ctx context.Context, r Refund) (Refund, error) {
	if _, err := rf.Settle(ctx, r.OutRequestNo, true); err != nil {
		rf.svc.log.Warn("refund: outcome unknown, will settle later", "out_trade_no", r.OutTradeNo, "out_request_no", r.OutRequestNo, "err", err)
	}
	return rf.store.Refund(ctx, r.OutRequestNo)
}

// Settle drives a pending refund to a final state: on a retry it first asks
// Alipay (alipay.trade.fastpay.refund.query) whether the refund was made;
// if not, it sends the refund again with the same out_request_no. It reports
// whether the refund is final; an error means the outcome is still unknown.
func (rf *Refunds) Settle(ctx context.Context, outRequestNo string, first bool) (bool, error) {
	r, err := rf.store.Refund(ctx, outRequestNo)
	if err != nil {
		if errors.Is(err, ErrRefundNotFound) {
			return true, nil
		}
		return false, err
	}
	if r.Status != RefundPending {
		return true, nil
	}
	if !first {
		done, err := rf.query(ctx, r)
		if done || err != nil {
			return done, err
		}
	}
	res, err := rf.gw.TradeRefund(ctx, wire.TradeRefundRequest{OutTradeNo: r.OutTradeNo, RefundAmount: r.Amount, OutRequestNo: r.OutRequestNo, RefundReason: r.Reason})
	switch {
	case err == nil && res.FundChange == "Y":
		changed, err := rf.settle(ctx, r, "alipay.trade.refund", res.Raw)
		if changed {
			rf.svc.obs.RefundOutcome(RefundResultSucceeded)
		}
		return err == nil, err
	case err == nil:
		// fund_change=N: a repeat of a refund already made, or not known
		// yet; only the refund query says which.
		return rf.query(ctx, r)
	case wire.IsUnknownOutcome(err):
		_ = rf.store.NoteRefund(ctx, r.OutRequestNo, err.Error(), rf.svc.now())
		rf.svc.obs.RefundOutcome(RefundResultUnknown)
		return false, err
	}
	if wire.OutcomeOf(err) == wire.OutcomeBusinessError {
		// A business refusal (amount, trade state, balance…): final.
		failed, ferr := rf.store.FailRefund(ctx, r.OutRequestNo, err.Error(), rf.svc.now())
		if failed {
			rf.svc.obs.RefundOutcome(RefundResultFailed)
		}
		rf.svc.log.Warn("refund refused by Alipay", "out_trade_no", r.OutTradeNo, "out_request_no", r.OutRequestNo, "err", err)
		return ferr == nil, ferr
	}
	_ = rf.store.NoteRefund(ctx, r.OutRequestNo, err.Error(), rf.svc.now())
	rf.svc.obs.RefundOutcome(RefundResultUnknown)
	return false, err
}

// query settles r if Alipay's refund query says it was made.
func (rf *Refunds) query(ctx context.Context, r Refund) (bool, error) {
	q, err := rf.gw.TradeFastPayRefundQuery(ctx, wire.TradeFastPayRefundQueryRequest{OutTradeNo: r.OutTradeNo, OutRequestNo: r.OutRequestNo})
	if err != nil {
		_ = rf.store.NoteRefund(ctx, r.OutRequestNo, err.Error(), rf.svc.now())
		return false, err
	}
	if !q.Refunded() || q.OutRequestNo != r.OutRequestNo {
		return false, nil
	}
	if q.RefundAmount != r.Amount {
		return false, fmt.Errorf("refund %s: Alipay refunded %s, we asked %s", r.OutRequestNo, q.RefundAmount, r.Amount)
	}
	changed, err := rf.settle(ctx, r, "alipay.trade.fastpay.refund.query", q.Raw)
	if changed {
		rf.svc.obs.RefundOutcome(RefundResultSucceeded)
	}
	return err == nil, err
}

// settle records Alipay's answer raw (the answer to method) saying that r
// was made and, in the same transaction, applies RefundMade. It reports
// whether the refund changed to succeeded.
func (rf *Refunds) settle(ctx context.Context, r Refund, method string, raw *wire.Response) (bool, error) {
	in := &Inbound{Source: SourceQuery, ReceivedAt: rf.svc.now(), Method: method, Verified: true,
		OutTradeNo: r.OutTradeNo, OutRequestNo: r.OutRequestNo}
	in.setAnswer(raw)
	d, err := rf.svc.receive(ctx, in, func(o *Order, stored *Refund) Decision {
		if o == nil {
			return Decision{Outcome: OutcomeUnknownOrder}
		}
		return RefundMade(o, stored, r.OutRequestNo)
	})
	if err != nil {
		return false, err
	}
	return d.Outcome == OutcomeApplied, nil
}

// OrderRefunds lists an order's refunds, oldest first.
func (rf *Refunds) OrderRefunds(ctx context.Context, outTradeNo string) ([]Refund, error) {
	return rf.store.OrderRefunds(ctx, outTradeNo)
}
