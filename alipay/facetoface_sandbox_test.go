package alipay_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

// f2fEnv is the offline gateway with an app whose client waits on the
// sandbox's clock: a wait of the face-to-face payment moves the sandbox's
// time, and then runs the buyer's part of the test.
type f2fEnv struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	client *alipay.Client

	mu     sync.Mutex
	waited time.Duration
	// buyer runs after each wait with the time waited so far.
	buyer func(waited time.Duration)
	calls []string
}

func newF2FEnv(t *testing.T, api alipay.API) *f2fEnv {
	t.Helper()
	appKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	if err != nil {
		t.Fatal(err)
	}
	alipayKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	if err != nil {
		t.Fatal(err)
	}
	// The sandbox's clock stands still but for Advance, so the deadline
	// counts only the payment's waits.
	base := time.Now()
	sb, err := sandbox.New(sandbox.Config{AlipayKey: alipayKey, Now: func() time.Time { return base }})
	if err != nil {
		t.Fatal(err)
	}
	e := &f2fEnv{t: t, sb: sb, srv: httptest.NewServer(sb)}
	t.Cleanup(func() { e.srv.Close(); sb.Close() })
	if _, err := sb.RegisterApp(v3AppID, &appKey.PublicKey); err != nil {
		t.Fatal(err)
	}
	e.client, err = alipay.New(alipay.Config{AppID: v3AppID, PrivateKey: appKey, AlipayPublicKey: sb.PublicKey(), API: api,
		Gateway: e.srv.URL + "/gateway.do", Now: sb.Now, Sleep: e.sleep,
		OnCall: func(r alipay.CallReport) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.calls = append(e.calls, strings.TrimPrefix(r.Method, "alipay.trade.")+":"+r.Outcome.String())
		}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// sleep is the client's wait: it moves the sandbox's clock, never the
// test's.
func (e *f2fEnv) sleep(ctx context.Context, d time.Duration) error {
	e.sb.Advance(ctx, d)
	e.mu.Lock()
	e.waited += d
	waited, buyer := e.waited, e.buyer
	e.mu.Unlock()
	if buyer != nil {
		buyer(waited)
	}
	return ctx.Err()
}

// post calls a control route of the sandbox and decodes its JSON answer.
func (e *f2fEnv) post(path string, form url.Values, out any) {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s: %v", path, err)
		}
	}
}

// payCode issues the default buyer's payment code, as the wallet shows it.
func (e *f2fEnv) payCode() string {
	var pc struct {
		AuthCode string `json:"auth_code"`
	}
	e.post("/api/paycodes", url.Values{"buyer": {sandbox.DefaultBuyer}}, &pc)
	if len(pc.AuthCode) != 18 {
		e.t.Fatalf("auth_code %q", pc.AuthCode)
	}
	return pc.AuthCode
}

// balance is the default buyer's balance.
func (e *f2fEnv) balance() alipay.Amount {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/api/accounts")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var all struct {
		Accounts []struct {
			Login   string        `json:"login"`
			Balance alipay.Amount `json:"balance"`
		} `json:"accounts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		e.t.Fatal(err)
	}
	for _, a := range all.Accounts {
		if a.Login == sandbox.DefaultBuyer {
			return a.Balance
		}
	}
	e.t.Fatal("no default buyer")
	return 0
}

func (e *f2fEnv) status(outTradeNo string) string {
	v, ok := e.sb.Trade(v3AppID, outTradeNo)
	if !ok {
		return "none"
	}
	return v.TradeStatus
}

func (e *f2fEnv) fault(rule string) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/api/faults", "application/json", strings.NewReader(rule))
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("fault %s: %v %v", rule, resp, err)
	}
	resp.Body.Close()
}

func (e *f2fEnv) callLog() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.calls, " ")
}

// Every branch of the face-to-face payment against the offline gateway,
// over v2 and v3: a buyer within the no-password limit, one who confirms
// in the wallet after 5 s, one who never confirms, and a first call whose
// outcome is unknown (applied or not). No test sleeps: the payment waits
// on the sandbox's clock.
func TestFaceToFacePayAgainstSandbox(t *testing.T) {
	t.Parallel()
	for _, api := range []alipay.API{alipay.APIv2, alipay.APIv3} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			t.Run("within the no-password limit: paid at once", func(t *testing.T) {
				e := newF2FEnv(t, api)
				before := e.balance()
				res, err := e.client.FaceToFacePay(t.Context(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
					OutTradeNo: "f2f-1", TotalAmount: alipay.MustAmount("12.00"), Subject: "柜台收款", AuthCode: e.payCode()}})
				if err != nil || res.Status != alipay.FaceToFaceStatusPaid || res.Pay == nil || res.Query != nil || res.TradeNo == "" || res.TotalAmount != 1200 {
					t.Fatalf("%+v %v", res, err)
				}
				if got := e.balance(); got != before-1200 || e.status("f2f-1") != "TRADE_SUCCESS" {
					t.Fatalf("balance %s → %s, trade %s", before, got, e.status("f2f-1"))
				}
				if e.callLog() != "pay:ok" {
					t.Errorf("calls %s", e.callLog())
				}
			})
			t.Run("the buyer confirms after 5 s", func(t *testing.T) {
				e := newF2FEnv(t, api)
				before := e.balance()
				confirmed := false
				e.buyer = func(waited time.Duration) {
					if waited >= 5*time.Second && !confirmed {
						confirmed = true
						e.post("/api/trades/pay", url.Values{"app_id": {v3AppID}, "out_trade_no": {"f2f-2"}}, nil)
					}
				}
				res, err := e.client.FaceToFacePay(t.Context(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
					OutTradeNo: "f2f-2", TotalAmount: alipay.MustAmount("2500.00"), Subject: "柜台收款", AuthCode: e.payCode()}})
				if err != nil || res.Status != alipay.FaceToFaceStatusPaid || res.Pay == nil || !res.Pay.WaitingForBuyer || res.Query == nil || res.GmtPayment.IsZero() {
					t.Fatalf("%+v %v", res, err)
				}
				if got := e.balance(); got != before-250000 || !confirmed || e.waited != 5*time.Second {
					t.Fatalf("balance %s → %s, waited %s", before, got, e.waited)
				}
				if e.callLog() != "pay:ok query:ok" {
					t.Errorf("calls %s", e.callLog())
				}
			})
			t.Run("the buyer never confirms: cancelled, nothing charged", func(t *testing.T) {
				e := newF2FEnv(t, api)
				before := e.balance()
				res, err := e.client.FaceToFacePay(t.Context(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
					OutTradeNo: "f2f-3", TotalAmount: alipay.MustAmount("2500.00"), Subject: "柜台收款", AuthCode: e.payCode()}})
				if err != nil || res.Status != alipay.FaceToFaceStatusCancelled || res.Cancel == nil || res.Cancel.Action != alipay.CancelActionClose {
					t.Fatalf("%+v %v", res, err)
				}
				if got := e.balance(); got != before || e.status("f2f-3") != "TRADE_CLOSED" || e.waited != 30*time.Second {
					t.Fatalf("balance %s → %s, trade %s, waited %s", before, got, e.status("f2f-3"), e.waited)
				}
				if e.callLog() != "pay:ok"+strings.Repeat(" query:ok", 6)+" cancel:ok" {
					t.Errorf("calls %s", e.callLog())
				}
			})
			t.Run("unknown outcome, payment made: found paid", func(t *testing.T) {
				e := newF2FEnv(t, api)
				e.fault(`{"kind":"gateway_error","method":"alipay.trade.pay","error":"20000","count":1}`)
				before := e.balance()
				res, err := e.client.FaceToFacePay(t.Context(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
					OutTradeNo: "f2f-4", TotalAmount: alipay.MustAmount("12.00"), Subject: "柜台收款", AuthCode: e.payCode()}})
				if err != nil || res.Status != alipay.FaceToFaceStatusPaid || res.Pay != nil || res.Query == nil {
					t.Fatalf("%+v %v", res, err)
				}
				if got := e.balance(); got != before-1200 || e.waited != 0 {
					t.Fatalf("balance %s → %s, waited %s", before, got, e.waited)
				}
				if e.callLog() != "pay:unknown query:ok" {
					t.Errorf("calls %s", e.callLog())
				}
			})
			t.Run("unknown outcome, no answer, nothing made: cancelled at once", func(t *testing.T) {
				e := newF2FEnv(t, api)
				e.fault(`{"kind":"gateway_error","method":"alipay.trade.pay","error":"timeout","effect":"none","delay":"1ms","count":1}`)
				before := e.balance()
				res, err := e.client.FaceToFacePay(t.Context(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
					OutTradeNo: "f2f-5", TotalAmount: alipay.MustAmount("12.00"), Subject: "柜台收款", AuthCode: e.payCode()}})
				if err != nil || res.Status != alipay.FaceToFaceStatusClosed || res.Pay != nil || res.Cancel != nil {
					t.Fatalf("%+v %v", res, err)
				}
				if got := e.balance(); got != before || e.status("f2f-5") != "none" || e.waited != 0 {
					t.Fatalf("balance %s → %s, trade %s", before, got, e.status("f2f-5"))
				}
				if e.callLog() != "pay:transport_error query:business_error cancel:business_error" {
					t.Errorf("calls %s", e.callLog())
				}
			})
			t.Run("unknown outcome, the buyer asked to confirm, never does: cancelled", func(t *testing.T) {
				e := newF2FEnv(t, api)
				e.fault(`{"kind":"gateway_error","method":"alipay.trade.pay","error":"ACQ.SYSTEM_ERROR","count":1}`)
				before := e.balance()
				res, err := e.client.FaceToFacePay(t.Context(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
					OutTradeNo: "f2f-6", TotalAmount: alipay.MustAmount("2500.00"), Subject: "柜台收款", AuthCode: e.payCode()}})
				if err != nil || res.Status != alipay.FaceToFaceStatusCancelled || res.Cancel.Action != alipay.CancelActionClose || res.Pay != nil {
					t.Fatalf("%+v %v", res, err)
				}
				if got := e.balance(); got != before || e.status("f2f-6") != "TRADE_CLOSED" || e.waited != 30*time.Second {
					t.Fatalf("balance %s → %s, trade %s, waited %s", before, got, e.status("f2f-6"), e.waited)
				}
				if e.callLog() != "pay:unknown"+strings.Repeat(" query:ok", 7)+" cancel:ok" {
					t.Errorf("calls %s", e.callLog())
				}
			})
			t.Run("a used code is refused: nothing charged", func(t *testing.T) {
				e := newF2FEnv(t, api)
				code := e.payCode()
				p := alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{OutTradeNo: "f2f-7", TotalAmount: 100, Subject: "柜台收款", AuthCode: code}}
				if _, err := e.client.FaceToFacePay(t.Context(), p); err != nil {
					t.Fatal(err)
				}
				before := e.balance()
				p.OutTradeNo = "f2f-8"
				_, err := e.client.FaceToFacePay(t.Context(), p)
				if !alipay.HasSubCode(err, "ACQ.PAYMENT_AUTH_CODE_INVALID") || alipay.OutcomeOf(err) != alipay.OutcomeBusinessError || e.balance() != before {
					t.Fatalf("reused code: %v", err)
				}
			})
		})
	}
}

// App pay end to end: the client's order string is accepted by the
// sandbox playing the Alipay app, and the result it hands back verifies;
// in certificate mode too.
func TestAppPayAgainstSandbox(t *testing.T) {
	t.Parallel()
	for _, certs := range []bool{false, true} {
		t.Run(map[bool]string{false: "key", true: "cert"}[certs], func(t *testing.T) {
			sb, srv, mk := v3Sandbox(t, certs)
			c := mk(srv.URL + "/gateway.do")
			order, err := c.TradeAppPayOrder(alipay.TradeAppPayRequest{OutTradeNo: "app-1", TotalAmount: alipay.MustAmount("9.90"), Subject: "会员一个月"})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.PostForm(srv.URL+"/api/apppay", url.Values{"order": {order}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				ResultStatus string `json:"resultStatus"`
				Memo         string `json:"memo"`
				Result       string `json:"result"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.ResultStatus != "9000" {
				t.Fatalf("app: %+v %v", got, err)
			}
			r, err := c.VerifyTradeAppPayResult([]byte(got.Result))
			if err != nil {
				t.Fatalf("verify %s: %v", got.Result, err)
			}
			if r.OutTradeNo != "app-1" || r.TotalAmount != 990 || r.TradeNo == "" || r.AppID != v3AppID {
				t.Errorf("result %+v", r)
			}
			if v, ok := sb.Trade(v3AppID, "app-1"); !ok || v.TradeStatus != "TRADE_SUCCESS" || v.TradeNo != r.TradeNo {
				t.Errorf("trade %+v", v)
			}
			// The same result with one character of the amount changed
			// does not verify.
			if _, err := c.VerifyTradeAppPayResult([]byte(strings.Replace(got.Result, `"9.90"`, `"0.99"`, 1))); !errors.Is(err, alipay.ErrSignature) {
				t.Errorf("tampered result: %v", err)
			}
		})
	}
}
