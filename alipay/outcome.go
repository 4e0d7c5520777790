package alipay

import "time"

// CallReport describes one finished call, for Config.OnCall.
type CallReport struct {
	Method   string // the API method, e.g. alipay.trade.query
	API      API    // the protocol it went over
	Outcome  Outcome
	Duration time.Duration // from signing the request to reading its answer, on the monotonic clock
}

// report calls Config.OnCall for a call that was sent (one that failed
// before a request could be built is not reported).
func (c *Client) report(method string, api API, start time.Time, resp *Response, err error) {
	if c.cfg.OnCall == nil || (resp == nil && err != nil && !IsUnknownOutcome(err)) {
		return
	}
	c.cfg.OnCall(CallReport{Method: method, API: api, Outcome: OutcomeOf(err), Duration: time.Since(start)})
}
