package alipay

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Face-to-face payment (当面付) as Alipay's guide describes it: charge the
// buyer's code; if the trade waits for the buyer (10003, USERPAYING) or the
// outcome is unknown, query it every few seconds until it is paid or
// closed, or a deadline passes, and then cancel it (alipay.trade.cancel
// closes an unpaid trade and refunds a paid one). docs/PROTOCOL.md cites
// the sources.

// Defaults of FaceToFacePayRequest, from Alipay's face-to-face demo
// (TradePayDemo: 5 queries 5 s apart, then up to 3 cancels 2 s apart).
const (
	DefaultFaceToFaceWait         = 30 * time.Second
	DefaultFaceToFacePollInterval = 5 * time.Second
	faceToFaceCancelAttempts      = 3
	faceToFaceCancelInterval      = 2 * time.Second
)

// FaceToFacePayRequest is a face-to-face payment: the alipay.trade.pay
// request, and how long to follow a payment that waits for its buyer.
type FaceToFacePayRequest struct {
	TradePayRequest
	// Wait is how long a payment that waits for its buyer, or whose
	// outcome is unknown, is followed before it is cancelled; default
	// DefaultFaceToFaceWait (30 s).
	Wait time.Duration
	// PollInterval is the time between two queries; default
	// DefaultFaceToFacePollInterval (5 s).
	PollInterval time.Duration
}

// FaceToFaceStatus is how a face-to-face payment ended.
type FaceToFaceStatus string

// Ends of a face-to-face payment.
const (
	// FaceToFaceStatusPaid: the buyer paid.
	FaceToFaceStatusPaid FaceToFaceStatus = "paid"
	// FaceToFaceStatusClosed: not paid, and no trade stays open at
	// Alipay: it closed (it expired, or was closed elsewhere), or the
	// payment never reached Alipay. Nothing was charged.
	FaceToFaceStatusClosed FaceToFaceStatus = "closed"
	// FaceToFaceStatusCancelled: not paid in time, and cancelled; the
	// cancel's Action says whether the trade was closed (nothing charged)
	// or refunded (the buyer paid at the last moment and got the money
	// back in full).
	FaceToFaceStatusCancelled FaceToFaceStatus = "cancelled"
)

// FaceToFacePayResult is how a face-to-face payment ended, with the
// answers that decided it.
type FaceToFacePayResult struct {
	Status       FaceToFaceStatus
	OutTradeNo   string
	TradeNo      string    // Alipay's trade number, "" if no trade was seen
	TotalAmount  Amount    // the amount paid (FaceToFaceStatusPaid)
	BuyerLogonID string    // masked by Alipay
	GmtPayment   time.Time // when the buyer paid (FaceToFaceStatusPaid)
	// Pay is the answer of alipay.trade.pay, nil when its outcome was unknown.
	Pay *TradePayResult
	// Query is the last answer of alipay.trade.query, nil if none was made.
	Query *TradeQueryResult
	// Cancel is the answer of alipay.trade.cancel when the payment was
	// cancelled (FaceToFaceStatusCancelled), nil otherwise.
	Cancel *TradeCancelResult
}

// FaceToFacePay charges the buyer's payment code and follows the payment
// to its end, so that it ends paid, or not paid with nothing left open:
//
//   - paid at once (10000): FaceToFaceStatusPaid;
//   - refused (ACQ.PAYMENT_AUTH_CODE_INVALID, ACQ.BUYER_BALANCE_NOT_ENOUGH,
//     …): the *Error, and nothing was charged;
//   - waiting for the buyer (10003, USERPAYING): the trade is queried every
//     PollInterval until it is paid (FaceToFaceStatusPaid) or closed
//     (FaceToFaceStatusClosed); when Wait has passed it is cancelled
//     (FaceToFaceStatusCancelled, with the cancel's answer);
//   - unknown outcome (timeout, 20000, ACQ.SYSTEM_ERROR): the trade is
//     queried at once, then as above; a trade that does not exist is
//     cancelled at once, so that a payment still on its way cannot go
//     through later.
//
// Any other error leaves the payment's outcome unknown (IsUnknownOutcome
// is true): the cancel kept failing or ctx ended. The trade must then be
// queried or cancelled later with the same OutTradeNo. The waits use
// Config.Sleep and the deadline Config.Now.
func (c *Client) FaceToFacePay(ctx context.Context, p FaceToFacePayRequest) (*FaceToFacePayResult, error) {
	if _, err := p.biz(); err != nil {
		return nil, err
	}
	if p.Wait <= 0 {
		p.Wait = DefaultFaceToFaceWait
	}
	if p.PollInterval <= 0 {
		p.PollInterval = DefaultFaceToFacePollInterval
	}
	deadline := c.cfg.Now().Add(p.Wait)
	res := &FaceToFacePayResult{OutTradeNo: p.OutTradeNo}
	pay, err := c.TradePay(ctx, p.TradePayRequest)
	switch {
	case err == nil && pay.Paid():
		res.Pay = pay
		res.paid(pay.TradeNo, pay.TotalAmount, pay.BuyerLogonID, pay.GmtPayment)
		return res, nil
	case err == nil:
		res.Pay, res.TradeNo = pay, pay.TradeNo
	case !IsUnknownOutcome(err):
		return nil, err // refused: nothing was charged
	}
	done, err := c.followPayment(ctx, p, res, deadline, pay == nil)
	if done || err != nil {
		return res, err
	}
	return res, c.cancelPayment(ctx, res)
}

// paid fills res for a paid trade.
func (res *FaceToFacePayResult) paid(tradeNo string, amount Amount, buyer string, at time.Time) {
	res.Status, res.TradeNo, res.TotalAmount, res.BuyerLogonID, res.GmtPayment = FaceToFaceStatusPaid, tradeNo, amount, buyer, at
}

// followPayment queries the trade (at once when queryFirst, else after
// one interval) until it is paid or closed (done), the deadline passes, or
// it turns out never to have been created; then the caller cancels it.
func (c *Client) followPayment(ctx context.Context, p FaceToFacePayRequest, res *FaceToFacePayResult, deadline time.Time, queryFirst bool) (done bool, err error) {
	for wait := !queryFirst; ; wait = true {
		if wait {
			if d := min(p.PollInterval, deadline.Sub(c.cfg.Now())); d > 0 {
				if err := c.cfg.Sleep(ctx, d); err != nil {
					return false, unsettled(p.OutTradeNo, "waiting for the buyer", err)
				}
			}
		}
		q, err := c.TradeQuery(ctx, TradeQueryRequest{OutTradeNo: p.OutTradeNo})
		switch {
		case err == nil:
			res.Query = q
			if q.TradeNo != "" {
				res.TradeNo = q.TradeNo
			}
			if q.TradeStatus.Paid() {
				res.paid(q.TradeNo, q.TotalAmount, q.BuyerLogonID, q.SendPayDate)
				return true, nil
			}
			if q.TradeStatus == TradeStatusClosed {
				res.Status = FaceToFaceStatusClosed
				return true, nil
			}
		case IsTradeNotExist(err) && res.Pay == nil:
			// The payment whose outcome was unknown made no trade (yet):
			// cancel now rather than let it arrive later.
			return false, nil
		case ctx.Err() != nil:
			return false, unsettled(p.OutTradeNo, "querying", err)
		}
		if !c.cfg.Now().Before(deadline) {
			return false, nil
		}
	}
}

// cancelPayment cancels the trade, repeating the cancel while Alipay asks
// for it (retry_flag Y) or its outcome is unknown.
func (c *Client) cancelPayment(ctx context.Context, res *FaceToFacePayResult) error {
	var err error
	for attempt := 1; ; attempt++ {
		var r *TradeCancelResult
		r, err = c.TradeCancel(ctx, TradeCancelRequest{OutTradeNo: res.OutTradeNo})
		switch {
		case err == nil && r.RetryFlag != "Y":
			res.Status, res.Cancel = FaceToFaceStatusCancelled, r
			if r.TradeNo != "" {
				res.TradeNo = r.TradeNo
			}
			return nil
		case err == nil:
			err = fmt.Errorf("alipay: %s: retry_flag Y", r.Raw.Method)
		case IsTradeNotExist(err):
			// No trade at Alipay: nothing was charged, nothing stays open.
			res.Status = FaceToFaceStatusClosed
			return nil
		case !IsUnknownOutcome(err):
			return unsettled(res.OutTradeNo, "cancelling", err)
		}
		if attempt == faceToFaceCancelAttempts || ctx.Err() != nil {
			return unsettled(res.OutTradeNo, "cancelling", err)
		}
		if serr := c.cfg.Sleep(ctx, faceToFaceCancelInterval); serr != nil {
			return unsettled(res.OutTradeNo, "cancelling", errors.Join(err, serr))
		}
	}
}

// unsettled is the error of a face-to-face payment left with an unknown
// outcome.
func unsettled(outTradeNo, doing string, err error) error {
	return fmt.Errorf("alipay: face-to-face payment %s: %w while %s: %w", outTradeNo, ErrUnknownOutcome, doing, err)
}

// sleep waits d, or until ctx is done: Config.Sleep's default.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
