package sandbox

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
)

// v3Call is one signed v3 call and its answer.
type v3Call struct {
	appID, certSN, rootSN string
	key                   *rsa.PrivateKey
	verb, uri             string // uri as signed (path and query)
	target                string // URL path requested; "" = uri
	body                  string
	nonce                 string
	at                    time.Time // zero = the wall clock
	header                http.Header
}

type v3Answer struct {
	status int
	body   []byte
	header http.Header
	fields map[string]any
}

func (e *testEnv) v3(c v3Call) v3Answer {
	e.t.Helper()
	if c.appID == "" {
		c.appID = testAppID
	}
	if c.key == nil {
		c.key = appKey
	}
	if c.verb == "" {
		c.verb = http.MethodPost
	}
	if c.at.IsZero() {
		c.at = time.Now()
	}
	auth, err := alipay.V3Authorization(c.key, alipay.V3Request{AppID: c.appID, AppCertSN: c.certSN, Nonce: c.nonce,
		Timestamp: c.at, Method: c.verb, URI: c.uri, Body: []byte(c.body)})
	if err != nil {
		e.t.Fatal(err)
	}
	target := c.target
	if target == "" {
		target = c.uri
	}
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.verb, e.srv.URL+target, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.rootSN != "" {
		req.Header.Set("alipay-root-cert-sn", c.rootSN)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := v3Answer{status: resp.StatusCode, body: b, header: resp.Header}
	_ = json.Unmarshal(b, &a.fields)
	return a
}

// verified reports whether the answer's signature headers verify.
func (e *testEnv) verified(a v3Answer) bool {
	return alipay.VerifyV3Response(e.sb.PublicKey(), a.header.Get("alipay-timestamp"), a.header.Get("alipay-nonce"),
		a.body, a.header.Get("alipay-signature")) == nil
}

func (e *testEnv) wantV3(a v3Answer, status int, code string) {
	e.t.Helper()
	if a.status != status {
		e.t.Fatalf("HTTP %d, want %d: %s", a.status, status, a.body)
	}
	if code != "" && a.fields["code"] != code {
		e.t.Fatalf("code %v, want %s: %s", a.fields["code"], code, a.body)
	}
	if !e.verified(a) || a.header.Get("alipay-trace-id") == "" {
		e.t.Fatalf("answer not signed in its headers: %v", a.header)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("Content-Type %q", ct)
	}
	if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("Content-Security-Policy") == "" {
		e.t.Fatalf("v3 answer without the security headers: %v", a.header)
	}
}

func TestV3TradeLifeCycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.v3(v3Call{uri: "/v3/alipay/trade/precreate", body: `{"out_trade_no":"v3a","total_amount":"88.88","subject":"v3 书","notify_url":"` + e.m.srv.URL + `/notify"}`})
	e.wantV3(a, 200, "")
	if a.fields["out_trade_no"] != "v3a" || !strings.Contains(a.fields["qr_code"].(string), "/qr/") || a.fields["code"] != nil {
		t.Fatalf("precreate: %s", a.body)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/query", body: `{"out_trade_no":"v3a"}`})
	e.wantV3(a, 400, "ACQ.TRADE_NOT_EXIST") // not scanned yet
	if _, err := e.sb.Pay(testAppID, "v3a", ""); err != nil {
		t.Fatal(err)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/query", body: `{"out_trade_no":"v3a"}`})
	e.wantV3(a, 200, "")
	if a.fields["trade_status"] != "TRADE_SUCCESS" || a.fields["total_amount"] != "88.88" {
		t.Fatalf("query: %s", a.body)
	}
	tradeNo := a.fields["trade_no"].(string)
	for range 2 {
		a = e.v3(v3Call{uri: "/v3/alipay/trade/refund", body: `{"trade_no":"` + tradeNo + `","refund_amount":"10.00","out_request_no":"r1"}`})
		e.wantV3(a, 200, "")
		if a.fields["refund_fee"] != "10.00" {
			t.Fatalf("refund: %s", a.body)
		}
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/fastpay/refund/query", body: `{"out_trade_no":"v3a","out_request_no":"r1"}`})
	e.wantV3(a, 200, "")
	if a.fields["refund_amount"] != "10.00" || a.fields["refund_status"] != "REFUND_SUCCESS" {
		t.Fatalf("refund query: %s", a.body)
	}
	v, _ := e.sb.Trade(testAppID, "v3a")
	if v.RefundFee != 10_00 {
		t.Fatalf("the same out_request_no twice refunded %s", v.RefundFee)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/close", body: `{"out_trade_no":"v3a"}`})
	e.wantV3(a, 400, "ACQ.TRADE_STATUS_ERROR")

	a = e.v3(v3Call{uri: "/v3/alipay/trade/create", body: `{"out_trade_no":"v3b","total_amount":"1.00","subject":"小程序","buyer_id":"2088102177846880"}`})
	e.wantV3(a, 200, "")
	if a.fields["trade_no"] == nil {
		t.Fatalf("create: %s", a.body)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/close", body: `{"out_trade_no":"v3b"}`})
	e.wantV3(a, 200, "")
	a = e.v3(v3Call{uri: "/v3/alipay/trade/query", body: `{"out_trade_no":"v3b"}`})
	if a.fields["trade_status"] != "TRADE_CLOSED" {
		t.Fatalf("query after close: %s", a.body)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/cancel", body: `{"out_trade_no":"v3b"}`})
	e.wantV3(a, 200, "")
	if a.fields["action"] != "close" {
		t.Fatalf("cancel: %s", a.body)
	}

	// The same trades over v2.
	q, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "v3a"})
	if err != nil || q.TradeNo != tradeNo {
		t.Fatalf("v2 query of a v3 trade: %+v %v", q, err)
	}

	e.clock.t = e.clock.t.Add(48 * time.Hour)
	day := e.clock.t.In(alipay.Beijing).AddDate(0, 0, -2).Format("2006-01-02")
	a = e.v3(v3Call{verb: http.MethodGet, uri: "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=" + day})
	e.wantV3(a, 200, "")
	resp, err := http.Get(a.fields["bill_download_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	bill, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(bill, []byte(tradeNo)) {
		t.Fatalf("bill of %s lacks the trade:\n%s", day, bill)
	}
}

func TestV3Authorization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The sandbox clock is far from the wall clock: v3 timestamps are judged by the wall clock.
	e.advance(400 * 24 * time.Hour)
	ok := e.v3(v3Call{uri: "/v3/alipay/trade/query", body: `{"out_trade_no":"none"}`, nonce: "n1"})
	e.wantV3(ok, 400, "ACQ.TRADE_NOT_EXIST")

	for _, c := range []struct {
		name string
		call v3Call
		code string
	}{
		{"reused nonce", v3Call{nonce: "n1"}, "isv.invalid-nonce"},
		{"wrong key", v3Call{key: otherKey}, "isv.invalid-signature"},
		{"unknown app", v3Call{appID: "2021000000009999"}, "isv.invalid-app-id"},
		{"stale", v3Call{at: time.Now().Add(-11 * time.Minute)}, "isv.invalid-timestamp"},
		{"ahead", v3Call{at: time.Now().Add(11 * time.Minute)}, "isv.invalid-timestamp"},
		{"sandbox clock", v3Call{at: e.sb.Now()}, "isv.invalid-timestamp"},
	} {
		c.call.uri, c.call.body = "/v3/alipay/trade/query", `{"out_trade_no":"none"}`
		a := e.v3(c.call)
		if a.status != 401 || a.fields["code"] != c.code {
			t.Errorf("%s: HTTP %d %s, want 401 %s", c.name, a.status, a.body, c.code)
		}
	}
	// A body changed after signing.
	c := v3Call{uri: "/v3/alipay/trade/query", body: `{"out_trade_no":"none"}`}
	auth, _ := alipay.V3Authorization(appKey, alipay.V3Request{AppID: testAppID, Timestamp: time.Now(), Method: "POST", URI: c.uri, Body: []byte(`{"out_trade_no":"other"}`)})
	a := e.v3(v3Call{uri: c.uri, body: c.body, header: http.Header{"Authorization": {auth}}})
	e.wantV3(a, 401, "isv.invalid-signature")
	// No Authorization at all, and a JSON 404 for an unknown path.
	resp, err := http.Post(e.srv.URL+"/v3/alipay/trade/query", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("unsigned call: HTTP %d", resp.StatusCode)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/nothing", body: `{}`})
	e.wantV3(a, 404, "NOT_FOUND")
	a = e.v3(v3Call{verb: http.MethodGet, uri: "/v3/alipay/trade/query"})
	e.wantV3(a, 405, "METHOD_NOT_ALLOWED")
}

func TestV3NonceSetBounded(t *testing.T) {
	t.Parallel()
	var ns nonceSet
	now := time.Now()
	if ns.add("a", now) != nonceNew || ns.add("a", now.Add(time.Minute)) != nonceReused {
		t.Fatal("a nonce within the window must be refused")
	}
	if ns.add("a", now.Add(2*v3AuthWindow)) != nonceNew {
		t.Fatal("a nonce out of the window is forgotten")
	}
	for i := range v3NonceMax - 1 {
		ns.add(string(rune(i+0x10000)), now.Add(2*v3AuthWindow))
	}
	if got := ns.add("full", now.Add(2*v3AuthWindow)); got != nonceFull {
		t.Fatalf("past %d nonces: %d, want full", v3NonceMax, got)
	}
	if ns.add("later", now.Add(5*v3AuthWindow)) != nonceNew || len(ns.seen) != 1 {
		t.Fatalf("expired nonces are dropped: %d left", len(ns.seen))
	}
}

func TestV3EmbeddedAndCertMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sb.RegisterAppWith(certAppID, &otherKey.PublicKey, AppOptions{CertMode: true}); err != nil {
		t.Fatal(err)
	}
	b, err := e.sb.Certificates(certAppID)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", e.sb))
	e.srv = httptestServer(t, mux)
	call := v3Call{appID: certAppID, key: otherKey, certSN: b.AppCertSN, rootSN: b.AlipayRootCertSN,
		uri: "/sandbox/v3/alipay/trade/precreate", body: `{"out_trade_no":"c1","total_amount":"1.00","subject":"证书"}`}
	a := e.v3(call)
	e.wantV3(a, 200, "")
	if a.header.Get("alipay-sn") != b.AlipayCertSN {
		t.Fatalf("alipay-sn %q, want %q", a.header.Get("alipay-sn"), b.AlipayCertSN)
	}
	// The Node.js SDK signs the path below its endpoint.
	call.uri, call.target = "/v3/alipay/trade/query", "/sandbox/v3/alipay/trade/query"
	call.body = `{"out_trade_no":"c1"}`
	e.wantV3(e.v3(call), 400, "ACQ.TRADE_NOT_EXIST")
	call.rootSN = "0123"
	e.wantV3(e.v3(call), 401, "isv.invalid-alipay-root-cert-sn")
	call.rootSN, call.certSN = b.AlipayRootCertSN, ""
	e.wantV3(e.v3(call), 401, "isv.missing-app-cert-sn")
}

func TestV3FaultsAndAES(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const aesKey = "aa4BtZ4tspm2wnXLb1ThQA=="
	if _, err := e.sb.RegisterAppWith(testAppID, &appKey.PublicKey, AppOptions{AESKey: aesKey}); err != nil {
		t.Fatal(err)
	}
	key, _ := alipay.DecodeAESKey(aesKey)
	enc, _ := alipay.EncryptContent(key, []byte(`{"out_trade_no":"x1","total_amount":"2.00","subject":"加密"}`))
	a := e.v3(v3Call{uri: "/v3/alipay/trade/precreate", body: enc, header: http.Header{"Alipay-Encrypt-Type": {"AES"}, "Content-Type": {"text/plain"}}})
	if a.status != 200 || !e.verified(a) {
		t.Fatalf("AES precreate: HTTP %d %s", a.status, a.body)
	}
	plain, err := alipay.DecryptContent(key, string(a.body))
	if err != nil || !bytes.Contains(plain, []byte(`"out_trade_no":"x1"`)) {
		t.Fatalf("AES answer %s: %s %v", a.body, plain, err)
	}

	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Error: "20000", Method: "alipay.trade.precreate", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/precreate", body: `{"out_trade_no":"f1","total_amount":"1.00","subject":"故障"}`})
	e.wantV3(a, 503, "isp.unknow-error")
	if _, ok := e.sb.Trade(testAppID, "f1"); !ok {
		t.Fatal("a committed gateway_error fault still creates the trade")
	}

	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Error: "ACQ.SYSTEM_ERROR", Effect: "none", Method: "alipay.trade.precreate", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	a = e.v3(v3Call{uri: "/v3/alipay/trade/precreate", body: `{"out_trade_no":"f2","total_amount":"1.00","subject":"故障"}`})
	e.wantV3(a, 500, "ACQ.SYSTEM_ERROR")
	if _, ok := e.sb.Trade(testAppID, "f2"); ok {
		t.Fatal(`a gateway_error fault with effect "none" created the trade`)
	}
	if _, err := e.sb.AddFaults([]Fault{{Kind: KindGatewayError, Error: "timeout", Delay: Duration(time.Millisecond), Method: "alipay.trade.query", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	auth, _ := alipay.V3Authorization(appKey, alipay.V3Request{AppID: testAppID, Timestamp: time.Now(), Method: "POST", URI: "/v3/alipay/trade/query", Body: []byte(`{"out_trade_no":"f1"}`)})
	req, _ := http.NewRequest("POST", e.srv.URL+"/v3/alipay/trade/query", strings.NewReader(`{"out_trade_no":"f1"}`))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a timeout fault answered HTTP %d", resp.StatusCode)
	}

	if _, err := e.sb.AddFaults([]Fault{{Kind: KindLatency, Delay: Duration(time.Minute), Count: 1}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	auth, _ = alipay.V3Authorization(appKey, alipay.V3Request{AppID: testAppID, Timestamp: time.Now(), Method: "POST", URI: "/v3/alipay/trade/query", Body: []byte(`{}`)})
	req, _ = http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v3/alipay/trade/query", strings.NewReader(`{}`))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a held call answered")
	}
	// The handler returns once the client has gone: the server closes promptly.
	done := make(chan struct{})
	go func() { e.srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the latency fault kept the handler running after the client left (%v)", time.Since(start))
	}
}
