package alipay

import (
	"sync"
	"testing"
)

// recorder collects the reports of Config.OnCall.
type recorder struct {
	mu   sync.Mutex
	got  []CallReport
	hook func(CallReport)
}

func newRecorder() *recorder {
	r := &recorder{}
	r.hook = func(c CallReport) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, c)
	}
	return r
}

func (r *recorder) take() []CallReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// Each v2 answer is reported once, with the class the client gives it, and
// the error OutcomeOf classifies the same way.
func TestOutcomeV2(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	rec := newRecorder()
	c := g.client(t, func(cfg *Config) { cfg.OnCall = rec.hook })
	node := "alipay_trade_query_response"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   Outcome
	}{
		{"success", 200, signedBody(t, g.key, node, `{"code":"10000","msg":"Success","out_trade_no":"o1","trade_status":"TRADE_SUCCESS","total_amount":"1.00"}`), OutcomeOK},
		{"business", 200, signedBody(t, g.key, node, `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"}`), OutcomeBusinessError},
		{"unsigned business", 200, `{"` + node + `":{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"}}`, OutcomeUnknown},
		{"gateway", 200, `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}`, OutcomeGatewayError},
		{"20000", 200, signedBody(t, g.key, node, `{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"}`), OutcomeUnknown},
		{"system error", 200, signedBody(t, g.key, node, `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR"}`), OutcomeUnknown},
		{"bad signature", 200, signedBody(t, testKey(t, 0), node, `{"code":"10000","msg":"Success"}`), OutcomeUnknown},
		{"502", 502, "bad gateway", OutcomeUnknown},
		{"not JSON", 200, "<html>", OutcomeUnknown},
	} {
		g.setReply(func(gotRequest) (int, string) { return tc.status, tc.body })
		_, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o1"})
		if got := OutcomeOf(err); got != tc.want {
			t.Errorf("%s: OutcomeOf = %s, want %s (err %v)", tc.name, got, tc.want, err)
		}
		reps := rec.take()
		if len(reps) != 1 || reps[0].Outcome != tc.want || reps[0].Method != "alipay.trade.query" || reps[0].API != APIv2 || reps[0].Duration <= 0 {
			t.Errorf("%s: reports %+v, want one %s", tc.name, reps, tc.want)
		}
	}
	// Refused before sending: no call, no report.
	if _, err := c.TradeQuery(t.Context(), TradeQueryRequest{}); OutcomeOf(err) != OutcomeGatewayError {
		t.Errorf("invalid parameter: %v", err)
	}
	if reps := rec.take(); len(reps) != 0 {
		t.Errorf("a call refused before sending was reported: %+v", reps)
	}
	// No answer at all.
	g.srv.Close()
	_, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o1"})
	if OutcomeOf(err) != OutcomeTransportError || !IsUnknownOutcome(err) {
		t.Errorf("closed gateway: %s, %v", OutcomeOf(err), err)
	}
	if reps := rec.take(); len(reps) != 1 || reps[0].Outcome != OutcomeTransportError {
		t.Errorf("closed gateway: reports %+v", reps)
	}
}

// OpenAPI v3 answers are classified by status and code.
func TestOutcomeV3(t *testing.T) {
	t.Parallel()
	f := newFakeV3(t)
	rec := newRecorder()
	c := f.client(t, func(cfg *Config) { cfg.OnCall = rec.hook })
	for _, tc := range []struct {
		status int
		body   string
		unsign bool
		want   Outcome
	}{
		{200, `{"out_trade_no":"o1","trade_status":"WAIT_BUYER_PAY"}`, false, OutcomeOK},
		{400, `{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在"}`, false, OutcomeBusinessError},
		{401, `{"code":"isv.invalid-signature","message":"验签出错"}`, true, OutcomeGatewayError},
		{404, `{"code":"NOT_FOUND","message":"接口不存在"}`, false, OutcomeGatewayError},
		{500, `{"code":"SYSTEM_ERROR","message":"系统繁忙"}`, false, OutcomeUnknown},
		{400, `{"code":"ACQ.SYSTEM_ERROR","message":"系统繁忙"}`, false, OutcomeUnknown},
		{200, `{"out_trade_no":"o1"}`, true, OutcomeUnknown},
	} {
		f.setReply(func(v3Got) v3Reply { return v3Reply{status: tc.status, body: tc.body, unsign: tc.unsign} })
		_, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o1"})
		if got := OutcomeOf(err); got != tc.want {
			t.Errorf("%d %s: OutcomeOf = %s, want %s (err %v)", tc.status, tc.body, got, tc.want, err)
		}
		if reps := rec.take(); len(reps) != 1 || reps[0].Outcome != tc.want || reps[0].API != APIv3 {
			t.Errorf("%d %s: reports %+v", tc.status, tc.body, reps)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	for o, want := range map[Outcome]string{OutcomeOK: "ok", OutcomeBusinessError: "business_error", OutcomeGatewayError: "gateway_error",
		OutcomeUnknown: "unknown", OutcomeTransportError: "transport_error", 9: "outcome(9)"} {
		if o.String() != want {
			t.Errorf("%d: %q", o, o.String())
		}
	}
}
