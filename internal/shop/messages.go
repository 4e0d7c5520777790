package shop

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"alishop/alipay/wire"
)

// Messages from Alipay about payments: notifications, return redirects and
// answers to queries. Each is stored raw with what became of it, whatever it
// says, through Store.Receive, which applies the decision (decide.go) in the
// same transaction.

// Decide chooses what a message does to its order (nil: none) and to the
// refund it names (nil: none named, or not one of the order's). It is a pure
// function of what it is given: Store.Receive calls it inside the
// transaction that applies its result.
type Decide func(o *Order, r *Refund) Decision

// Inbound is a message about a payment as received: a notification POST, a
// return redirect, or a query answer. It is stored raw, whatever it says.
type Inbound struct {
	Source      string // SourceNotify, SourceReturn or SourceQuery
	ReceivedAt  time.Time
	RemoteAddr  string
	Method      string
	Body        []byte // the raw body (notify), query string (return) or JSON (query)
	Verified    bool   // the signature verified
	NotifyID    string
	OutTradeNo  string
	TradeStatus string
	// API, StatusCode and Header complete an answer of Alipay's gateway
	// (SourceQuery): the protocol it came over, its HTTP status and the
	// headers that carry its signature and identity (see AnswerHeader), so
	// that a stored answer verifies again. All are empty for notifications
	// and returns, signed in their body.
	API        wire.API
	StatusCode int
	Header     map[string][]string
	// OutRequestNo names the refund the message is about, if any: Receive
	// reads it with the order. It is not stored.
	OutRequestNo string
	// Key identifies a verified message: two verified messages of one
	// Source with the same Key are one message, stored once and counted
	// again (times seen, last seen) when it comes back. For notifications
	// and returns it is the string their signature covers
	// (wire.Notification.SignedContent), so that padding or reordering
	// what the signature leaves out makes no new message; empty for
	// answers of the gateway, identified by their exact body.
	Key []byte
}

// MaxUnsignedKept bounds what a verified notification or return keeps of
// what its signature does not cover, in bytes: a message up to this much
// longer than its signed form (wire.Notification.SignedForm) is stored
// as received, a longer one as its signed form.
const MaxUnsignedKept = 1 << 10

// verifiedBody is what is stored of the verified message raw, which n is:
// raw itself, or its signed form when raw carries more than
// MaxUnsignedKept bytes beyond it (note then says so, for the detail).
func verifiedBody(raw []byte, n *wire.Notification) (body []byte, note string) {
	signed := n.SignedForm()
	if len(raw) <= len(signed)+MaxUnsignedKept {
		return raw, ""
	}
	return []byte(signed), fmt.Sprintf("%d bytes received; kept the %d its signature covers, with sign and sign_type", len(raw), len(signed))
}

// withNote adds note (if any) to a decision's detail.
func withNote(d Decision, note string) Decision {
	switch {
	case note == "":
	case d.Detail == "":
		d.Detail = note
	default:
		d.Detail += " (" + note + ")"
	}
	return d
}

// MaxMessagesPerOrder is how many distinct verified messages about one
// order are stored whole (see KeepMessage). Alipay sends a handful per
// order (the payment, each refund, a few retries), and the shop's own
// queries add a few more.
const MaxMessagesPerOrder = 100

// KeepMessage says whether a verified message about an order, not stored
// before, is stored whole when kept messages about that order are: always
// when its decision changes or flags the order (every change keeps its
// record), otherwise while kept < MaxMessagesPerOrder. One not kept is
// only counted, with the others of its order and source.
func KeepMessage(d Decision, kept int) bool {
	return d.Pay != nil || d.Close || d.Review != "" || d.SettleRefund != "" || kept < MaxMessagesPerOrder
}

// Message sources.
const (
	SourceNotify = "notify"
	SourceReturn = "return"
	SourceQuery  = "query"
)

// Outcome says what became of an inbound message.
type Outcome string

// Outcomes. Applied, duplicate and ignored are acknowledged to Alipay with
// "success"; every other outcome is not, so Alipay delivers it again.
const (
	OutcomeApplied        Outcome = "applied"         // the order changed state
	OutcomeDuplicate      Outcome = "duplicate"       // the order was already in that state
	OutcomeIgnored        Outcome = "ignored"         // verified, but nothing to do (e.g. WAIT_BUYER_PAY)
	OutcomeRecorded       Outcome = "recorded"        // a verified return, kept until the query confirms it
	OutcomeReview         Outcome = "review"          // verified, but contradicts the order: flagged for review
	OutcomeBadSignature   Outcome = "bad_signature"   // the signature did not verify, or there was none
	OutcomeMalformed      Outcome = "malformed"       // not a well-formed form
	OutcomeTooLarge       Outcome = "too_large"       // the body exceeded the limit
	OutcomeBadMethod      Outcome = "bad_method"      // not a POST
	OutcomeWrongApp       Outcome = "wrong_app"       // app_id is not this shop's
	OutcomeWrongSeller    Outcome = "wrong_seller"    // seller_id is not this merchant's
	OutcomeUnknownOrder   Outcome = "unknown_order"   // out_trade_no is not an order of this shop
	OutcomeAmountMismatch Outcome = "amount_mismatch" // total_amount differs from the order's
	OutcomeFailed         Outcome = "failed"          // verified, but its transaction did not commit
	OutcomeRateLimited    Outcome = "rate_limited"    // failed verification from a client over its limit: not stored
)

// Decision is what to do with an inbound message and its order. At most one
// of Pay and Close is set; each is a compare-and-set from the state the
// order was read in (unpaid, or for a payment after the close, closed).
type Decision struct {
	Outcome Outcome
	Ack     bool   // answer Alipay "success" once committed
	Detail  string // for the log and the admin; no secrets
	Pay     *Payment
	Close   bool
	Review  string // set the order's needs_review flag with this reason
	// SettleRefund names a refund (out_request_no) Alipay made: it moves
	// pending → succeeded and its amount is added to the order, by
	// compare-and-set (a repeat changes nothing and becomes a duplicate).
	SettleRefund string
}

// setAnswer fills in the message from an answer of Alipay's gateway exactly
// as it was received (status, signature headers and body, never
// re-encoded), so that it can be verified again; nil leaves it empty
// (there was no answer).
func (in *Inbound) setAnswer(r *wire.Response) {
	if r == nil {
		return
	}
	in.API, in.StatusCode, in.Header, in.Body = r.API, r.StatusCode, AnswerHeader(r.Header), r.Body
}

// MaxAnswerHeader bounds the headers kept with a stored answer, in bytes
// of their "Name: value" lines. A v3 signature with its timestamp, nonce,
// certificate SN and trace id takes well under 1 KiB.
const MaxAnswerHeader = 4096

// AnswerHeader is the part of an answer's headers stored with it: the
// alipay-* headers (a v3 answer's signature, timestamp, nonce, certificate
// SN and trace id) and Content-Type (which says whether a v3 body is
// encrypted), one value each, in name order, within MaxAnswerHeader. Every
// other header is left out. It returns nil when none is kept.
func AnswerHeader(h map[string][]string) map[string][]string {
	names := make([]string, 0, len(h))
	for name := range h {
		c := textproto.CanonicalMIMEHeaderKey(name)
		if (c == "Content-Type" || strings.HasPrefix(c, "Alipay-")) && len(h[name]) > 0 {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return strings.Compare(textproto.CanonicalMIMEHeaderKey(a), textproto.CanonicalMIMEHeaderKey(b))
	})
	var out map[string][]string
	size := 0
	for _, name := range names {
		c, v := textproto.CanonicalMIMEHeaderKey(name), h[name][0]
		if strings.ContainsAny(c+v, "\r\n") || size+len(c)+len(v)+3 > MaxAnswerHeader {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[c] = []string{v}
		size += len(c) + len(v) + 3
	}
	return out
}

// Received is a notification as it arrived: who sent it and its body.
type Received struct {
	RemoteAddr string
	Body       []byte
	// Admit is asked only about a message that fails verification (a
	// genuine one is never refused): false drops it without storing it,
	// as OutcomeRateLimited. nil admits everything.
	Admit func() bool
}

// MaxUnverifiedKept is how much of a message that fails verification (or
// is rejected before it) is stored: its first bytes, enough to see what it
// was. Verified messages are stored as MaxUnsignedKept says.
const MaxUnverifiedKept = 4 << 10

// keepUnverified cuts an unverified message's body to MaxUnverifiedKept and
// says so in detail.
func keepUnverified(in *Inbound, detail string) string {
	if len(in.Body) <= MaxUnverifiedKept {
		return detail
	}
	full := len(in.Body)
	in.Body = in.Body[:MaxUnverifiedKept]
	return fmt.Sprintf("%s (first %d of %d bytes kept)", detail, MaxUnverifiedKept, full)
}

// Rejected is a request to the notification endpoint that cannot be a
// notification (the caller says why: the method, the size…). It is stored
// raw like every message, and changes nothing.
type Rejected struct {
	RemoteAddr string
	Method     string // as received, kept with the message
	Body       []byte // what arrived, cut to a bound by the caller
	Outcome    Outcome
	Detail     string
	Admit      func() bool // as in Received
}

// RejectNotification stores r (cut to MaxUnverifiedKept, if admitted) and
// answers the decision not to act on it.
func (s *Service) RejectNotification(ctx context.Context, r Rejected) (Decision, error) {
	if r.Admit != nil && !r.Admit() {
		return Decision{Outcome: OutcomeRateLimited, Detail: r.Detail}, nil
	}
	in := &Inbound{Source: SourceNotify, ReceivedAt: s.now(), RemoteAddr: r.RemoteAddr, Method: r.Method, Body: r.Body}
	r.Detail = keepUnverified(in, r.Detail)
	return s.receive(ctx, in, func(*Order, *Refund) Decision { return Decision{Outcome: r.Outcome, Detail: r.Detail} })
}

// HandleNotification stores a notification raw and acts on it only when its
// signature, app_id, seller_id, out_trade_no and total_amount all hold.
// Decision.Ack says whether to answer "success"; it is true only after the
// effect (or the proof of a duplicate) is committed. An error means nothing
// was committed.
func (s *Service) HandleNotification(ctx context.Context, r Received) (Decision, error) {
	in := &Inbound{Source: SourceNotify, ReceivedAt: s.now(), RemoteAddr: r.RemoteAddr, Method: "POST", Body: r.Body}
	reject := func(o Outcome, detail string) (Decision, error) {
		if r.Admit != nil && !r.Admit() {
			return Decision{Outcome: OutcomeRateLimited, Detail: detail}, nil
		}
		detail = keepUnverified(in, detail)
		return s.receive(ctx, in, func(*Order, *Refund) Decision { return Decision{Outcome: o, Detail: detail} })
	}
	n, err := s.gw.VerifyNotification(r.Body)
	if err != nil {
		if errors.Is(err, wire.ErrSignature) {
			return reject(OutcomeBadSignature, err.Error())
		}
		return reject(OutcomeMalformed, err.Error())
	}
	in.Verified, in.NotifyID, in.OutTradeNo, in.TradeStatus = true, n.NotifyID, n.OutTradeNo, string(n.TradeStatus)
	if IsRefundNotification(n) {
		in.OutRequestNo = n.OutBizNo
	}
	var note string
	in.Key = n.SignedContent()
	in.Body, note = verifiedBody(r.Body, n)
	d, err := s.receive(ctx, in, func(o *Order, r *Refund) Decision {
		return withNote(decideNotification(s.merchant, n, o, r, in.ReceivedAt), note)
	})
	if err != nil {
		// Nothing was committed. Keep the raw message anyway if the
		// database takes a plain insert; it is not acknowledged, so Alipay
		// delivers it again.
		s.log.Error("notification not committed", "out_trade_no", n.OutTradeNo, "notify_id", n.NotifyID, "err", err)
		keep := *in
		keep.OutTradeNo, keep.OutRequestNo = "", "" // no order is read or changed
		if _, kerr := s.receive(ctx, &keep, func(*Order, *Refund) Decision {
			return Decision{Outcome: OutcomeFailed, Detail: "out_trade_no " + n.OutTradeNo + ": " + err.Error()}
		}); kerr != nil {
			s.log.Error("notification not stored", "out_trade_no", n.OutTradeNo, "err", kerr)
		}
		return Decision{}, err
	}
	if d.Outcome != OutcomeApplied && d.Outcome != OutcomeDuplicate {
		s.log.Info("notification not applied", "out_trade_no", n.OutTradeNo, "notify_id", n.NotifyID, "outcome", d.Outcome, "detail", d.Detail)
	}
	return d, err
}

// ReturnResult is what the return page shows.
type ReturnResult struct {
	Verified bool   // the redirect's signature verified and it names our order
	Order    *Order // the order, when verified
	Limited  bool   // it failed verification and admit refused it: not stored
}

// HandleReturn verifies a return redirect (the raw query string), records
// it, and confirms the payment with alipay.trade.query, moving the order
// through the same state change as a notification. An unverified return
// changes nothing; it is stored cut to MaxUnverifiedKept bytes, and only if
// admit (nil: always) allows it.
func (s *Service) HandleReturn(ctx context.Context, rawQuery, remoteAddr string, admit func() bool) (ReturnResult, error) {
	in := &Inbound{Source: SourceReturn, ReceivedAt: s.now(), RemoteAddr: remoteAddr, Method: "GET", Body: []byte(rawQuery)}
	n, err := s.gw.VerifyNotification([]byte(rawQuery))
	if err != nil {
		outcome := OutcomeMalformed
		if errors.Is(err, wire.ErrSignature) {
			outcome = OutcomeBadSignature
		}
		if admit != nil && !admit() {
			return ReturnResult{Limited: true}, nil
		}
		detail := keepUnverified(in, err.Error())
		_, serr := s.receive(ctx, in, func(*Order, *Refund) Decision { return Decision{Outcome: outcome, Detail: detail} })
		return ReturnResult{}, serr
	}
	in.Verified, in.OutTradeNo = true, n.OutTradeNo
	var note string
	in.Key = n.SignedContent()
	in.Body, note = verifiedBody(in.Body, n)
	d, err := s.receive(ctx, in, func(o *Order, _ *Refund) Decision {
		if d := checkMessage(s.merchant, n, o); d != nil {
			return withNote(*d, note)
		}
		return withNote(Decision{Outcome: OutcomeRecorded}, note)
	})
	if err != nil {
		return ReturnResult{}, err
	}
	if d.Outcome != OutcomeRecorded {
		s.log.Info("return not accepted", "out_trade_no", n.OutTradeNo, "outcome", d.Outcome, "detail", d.Detail)
		return ReturnResult{}, nil
	}
	o, err := s.SyncOrder(ctx, n.OutTradeNo)
	if err != nil {
		// The redirect is genuine; the payment is still being confirmed.
		s.log.Warn("return: query failed", "out_trade_no", n.OutTradeNo, "err", err)
		o, err = s.store.Order(ctx, n.OutTradeNo)
		if err != nil {
			return ReturnResult{}, err
		}
	}
	return ReturnResult{Verified: true, Order: &o}, nil
}

// SyncOrder asks Alipay for the state of an unpaid order's trade and applies
// it through the same compare-and-set as a notification. It returns the
// order as stored afterwards. Orders not unpaid are returned as they are.
// When Alipay's trade is for another amount the order is flagged for review
// and ErrAmountMismatch is returned with it: asking again cannot settle it.
func (s *Service) SyncOrder(ctx context.Context, outTradeNo string) (Order, error) {
	o, err := s.Order(ctx, outTradeNo)
	if err != nil || o.Status != StatusUnpaid {
		return o, err
	}
	q, err := s.gw.TradeQuery(ctx, wire.TradeQueryRequest{OutTradeNo: outTradeNo})
	if wire.IsTradeNotExist(err) {
		return o, nil // the buyer has not reached the cashier yet
	}
	if err != nil {
		return o, Errorf(EUNAVAILABLE, "查询支付宝交易失败: %v", err)
	}
	in := &Inbound{Source: SourceQuery, ReceivedAt: s.now(), Method: "alipay.trade.query",
		Verified: true, OutTradeNo: outTradeNo, TradeStatus: string(q.TradeStatus)}
	in.setAnswer(q.Raw)
	d, err := s.receive(ctx, in, func(o *Order, _ *Refund) Decision { return decideQuery(outTradeNo, q, o, in.ReceivedAt) })
	if err != nil {
		return o, err
	}
	if d.Outcome == OutcomeApplied || d.Outcome == OutcomeReview {
		s.log.Info("query applied", "out_trade_no", outTradeNo, "outcome", d.Outcome, "trade_status", q.TradeStatus)
	}
	o, err = s.store.Order(ctx, outTradeNo)
	if err == nil && d.Outcome == OutcomeAmountMismatch {
		s.log.Warn("query: amount differs from the order; flagged for review", "out_trade_no", outTradeNo, "detail", d.Detail)
		err = ErrAmountMismatch
	}
	return o, err
}

// receive stores an inbound message with its decision (Store.Receive), then
// logs a payment that was applied and tells the observer.
func (s *Service) receive(ctx context.Context, in *Inbound, decide Decide) (Decision, error) {
	d, err := s.store.Receive(ctx, in, decide)
	if err != nil {
		return d, err
	}
	if d.Outcome == OutcomeApplied && d.Pay != nil {
		s.log.Info("order paid", "out_trade_no", d.Pay.OutTradeNo, "trade_no", d.Pay.TradeNo,
			"amount", d.Pay.Amount.String(), "source", d.Pay.Via)
	}
	s.obs.Received(in.Source, d)
	return d, nil
}
