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

// The cancels of a payment not paid in time, from Alipay's face-to-face
// demo (TradePayDemo: up to 3 cancels 2 s apart).
const (
	faceToFaceCancelAttempts = 3
	faceToFaceCancelInterval = 2 * time.Second
)

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
	if _, err := payBiz(p.TradePayRequest); err != nil {
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
		setPaid(res, pay.TradeNo, pay.TotalAmount, pay.BuyerLogonID, pay.GmtPayment)
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

// setPaid fills res for a paid trade.
func setPaid(res *FaceToFacePayResult, tradeNo string, amount Amount, buyer string, at time.Time) {
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
				setPaid(res, q.TradeNo, q.TotalAmount, q.BuyerLogonID, q.SendPayDate)
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
