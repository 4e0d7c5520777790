package alipay

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeV3 is an OpenAPI v3 endpoint: it checks each request's Authorization
// header with the app's public key (test key 0) and answers with reply,
// signed in headers by "Alipay" (test key 1) unless reply says otherwise.
type fakeV3 struct {
	t     testing.TB
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []v3Got
	reply func(v3Got) v3Reply
	app   *rsa.PublicKey // the app key requests must be signed with
}

type v3Got struct {
	Method, URI, Auth string
	Header            http.Header
	Body              []byte
	AuthOK            bool
}

type v3Reply struct {
	status  int
	body    string
	header  map[string]string
	unsign  bool // no signature headers
	tamper  bool // a signature over other content
	certSN  string
	encrypt []byte // AES key: encrypt the body
}

func newFakeV3(t testing.TB) *fakeV3 {
	f := &fakeV3{t: t, reply: func(v3Got) v3Reply { return v3Reply{status: 200, body: `{}`} }, app: &testKey(t, 0).PublicKey}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeV3) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g := v3Got{Method: r.Method, URI: r.RequestURI, Auth: r.Header.Get("Authorization"), Header: r.Header, Body: body}
	f.mu.Lock()
	g.AuthOK = checkV3Auth(f.app, g)
	f.reqs = append(f.reqs, g)
	reply := f.reply
	f.mu.Unlock()
	rp := reply(g)
	out := []byte(rp.body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if rp.encrypt != nil {
		enc, _ := EncryptContent(rp.encrypt, out)
		out = []byte(enc)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	if !rp.unsign {
		ts, nonce := "1704179046000", "n-"+strconv.Itoa(len(f.reqs))
		signed := out
		if rp.tamper {
			signed = append([]byte("x"), out...)
		}
		sig, _ := Sign(testKey(f.t, 1), SignTypeRSA2, V3ResponseSignContent(ts, nonce, signed))
		w.Header().Set("alipay-timestamp", ts)
		w.Header().Set("alipay-nonce", nonce)
		w.Header().Set("alipay-signature", sig)
	}
	if rp.certSN != "" {
		w.Header().Set("alipay-sn", rp.certSN)
	}
	w.Header().Set("alipay-trace-id", "trace-1")
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(out)
}

// checkV3Auth verifies the Authorization header of a request as Alipay does.
func checkV3Auth(pub *rsa.PublicKey, g v3Got) bool {
	rest, ok := strings.CutPrefix(g.Auth, V3Scheme+" ")
	i := strings.LastIndex(rest, ",sign=")
	if !ok || i < 0 {
		return false
	}
	content := rest[:i] + "\n" + g.Method + "\n" + g.URI + "\n" + string(g.Body) + "\n"
	if tok := g.Header.Get("alipay-app-auth-token"); tok != "" {
		content += tok + "\n"
	}
	return Verify(pub, SignTypeRSA2, []byte(content), rest[i+len(",sign="):]) == nil
}

func (f *fakeV3) last(t testing.TB) v3Got {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request reached the v3 endpoint")
	}
	g := f.reqs[len(f.reqs)-1]
	if !g.AuthOK {
		t.Fatalf("request Authorization does not verify: %q over %s %s %s", g.Auth, g.Method, g.URI, g.Body)
	}
	return g
}

func (f *fakeV3) setReply(r func(v3Got) v3Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply = r
}

// client is a v3 client whose gateway is the fake under /sub/gateway.do, so
// that the prefix below the host is part of what is signed.
func (f *fakeV3) client(t testing.TB, mut ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: &testKey(t, 1).PublicKey,
		Gateway: f.srv.URL + "/sub/gateway.do", API: APIv3, Now: func() time.Time { return time.UnixMilli(1704179045000) },
		NotifyURL: "https://shop.example/alipay/notify"}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestV3RequestMatchesVector sends the v3_authorization vector's call
// through the client: the same URI, body and auth string (but for the
// random nonce), signed so that Alipay's check passes.
func TestV3RequestMatchesVector(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	f := newFakeV3(t)
	f.setReply(func(v3Got) v3Reply {
		return v3Reply{status: 200, body: `{"out_trade_no":"ORDER20240102150405","trade_no":"2024010222001400000000000001","trade_status":"WAIT_BUYER_PAY","total_amount":"88.88"}`}
	})
	key := v.priv(t, v.V3.PrivateKey)
	f.app = &key.PublicKey
	c := f.client(t, func(cfg *Config) { cfg.PrivateKey = key; cfg.Gateway = f.srv.URL + "/gateway.do" })
	q, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "ORDER20240102150405"})
	if err != nil || q.TradeStatus != TradeStatusWaitBuyerPay || q.TotalAmount != 8888 || q.Raw == nil || q.Raw.API != APIv3 {
		t.Fatalf("%+v %v", q, err)
	}
	got := f.last(t)
	if got.Method != v.V3.Method || got.URI != v.V3.URI || string(got.Body) != v.V3.Body {
		t.Fatalf("request %s %s %s, want the vector's %s %s %s", got.Method, got.URI, got.Body, v.V3.Method, v.V3.URI, v.V3.Body)
	}
	fields := map[string]string{}
	rest, _ := strings.CutPrefix(got.Auth, V3Scheme+" ")
	for _, kv := range strings.Split(rest[:strings.LastIndex(rest, ",sign=")], ",") {
		k, val, _ := strings.Cut(kv, "=")
		fields[k] = val
	}
	r := V3Request{AppID: fields["app_id"], Nonce: "4f5e6d7c-0000-4000-8000-123456789abc", Timestamp: c.cfg.Now(),
		Method: got.Method, URI: got.URI, Body: got.Body}
	if string(r.SignContent()) != v.V3.StringToSign || fields["nonce"] == "" {
		t.Fatalf("string to sign with the vector's nonce:\n%q\nwant\n%q", r.SignContent(), v.V3.StringToSign)
	}
	for _, h := range []string{"Alipay-Request-Id", "Content-Type"} {
		if got.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestV3Calls(t *testing.T) {
	t.Parallel()
	f := newFakeV3(t)
	c := f.client(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name, verb, uri, body, answer string
		call                          func() (any, error)
		check                         func(any) bool
	}{
		{"query", "POST", "/sub/v3/alipay/trade/query", `{"out_trade_no":"o_1"}`,
			`{"out_trade_no":"o_1","trade_no":"T1","trade_status":"TRADE_SUCCESS","total_amount":"88.88","send_pay_date":"2024-01-02 15:04:05"}`,
			func() (any, error) { return c.TradeQuery(ctx, TradeQueryRequest{OutTradeNo: "o_1"}) },
			func(r any) bool {
				q := r.(*TradeQueryResult)
				return q.TradeStatus.Paid() && q.SendPayDate.Equal(time.Date(2024, 1, 2, 15, 4, 5, 0, Beijing))
			}},
		{"refund", "POST", "/sub/v3/alipay/trade/refund", `{"out_trade_no":"o_1","refund_amount":"10.00","out_request_no":"r1"}`,
			`{"out_trade_no":"o_1","trade_no":"T1","fund_change":"Y","refund_fee":"10.00","gmt_refund_pay":"2024-01-02 15:05:00"}`,
			func() (any, error) {
				return c.TradeRefund(ctx, TradeRefundRequest{OutTradeNo: "o_1", RefundAmount: 1000, OutRequestNo: "r1"})
			},
			func(r any) bool { x := r.(*TradeRefundResult); return x.RefundFee == 1000 && !x.GmtRefundPay.IsZero() }},
		{"refund query", "POST", "/sub/v3/alipay/trade/fastpay/refund/query", `{"out_trade_no":"o_1","out_request_no":"r1","query_options":["gmt_refund_pay"]}`,
			`{"out_trade_no":"o_1","out_request_no":"r1","refund_amount":"10.00","refund_status":"REFUND_SUCCESS"}`,
			func() (any, error) {
				return c.TradeFastPayRefundQuery(ctx, TradeFastPayRefundQueryRequest{OutTradeNo: "o_1", OutRequestNo: "r1"})
			},
			func(r any) bool { return r.(*TradeFastPayRefundQueryResult).Refunded() }},
		{"close", "POST", "/sub/v3/alipay/trade/close", `{"out_trade_no":"o_2"}`, `{"out_trade_no":"o_2","trade_no":"T2"}`,
			func() (any, error) { return c.TradeClose(ctx, TradeCloseRequest{OutTradeNo: "o_2"}) },
			func(r any) bool { return r.(*TradeCloseResult).TradeNo == "T2" }},
		{"cancel", "POST", "/sub/v3/alipay/trade/cancel", `{"out_trade_no":"o_2"}`, `{"out_trade_no":"o_2","retry_flag":"N","action":"close"}`,
			func() (any, error) { return c.TradeCancel(ctx, TradeCancelRequest{OutTradeNo: "o_2"}) },
			func(r any) bool { return r.(*TradeCancelResult).Action == "close" }},
		{"precreate", "POST", "/sub/v3/alipay/trade/precreate",
			`{"out_trade_no":"o_3","total_amount":"1.00","subject":"书","notify_url":"https://shop.example/alipay/notify"}`,
			`{"out_trade_no":"o_3","qr_code":"https://qr.alipay.com/x"}`,
			func() (any, error) {
				return c.TradePrecreate(ctx, TradePrecreateRequest{OutTradeNo: "o_3", TotalAmount: 100, Subject: "书"})
			},
			func(r any) bool { return r.(*TradePrecreateResult).QRCode != "" }},
		{"create", "POST", "/sub/v3/alipay/trade/create",
			`{"out_trade_no":"o_4","total_amount":"1.00","subject":"书","buyer_id":"2088102177846880","notify_url":"https://shop.example/alipay/notify"}`,
			`{"out_trade_no":"o_4","trade_no":"T4"}`,
			func() (any, error) {
				return c.TradeCreate(ctx, TradeCreateRequest{OutTradeNo: "o_4", TotalAmount: 100, Subject: "书", BuyerID: "2088102177846880"})
			},
			func(r any) bool { return r.(*TradeCreateResult).TradeNo == "T4" }},
		{"bill", "GET", "/sub/v3/alipay/data/dataservice/bill/downloadurl/query?bill_date=2024-01-01&bill_type=trade", ``,
			`{"bill_download_url":"http://dwbillcenter.alipay.com/x"}`,
			func() (any, error) {
				return c.BillDownloadURLQuery(ctx, BillDownloadURLQueryRequest{BillType: "trade", BillDate: "2024-01-01"})
			},
			func(r any) bool { return r.(*BillDownloadURLQueryResult).BillDownloadURL != "" }},
	} {
		f.setReply(func(v3Got) v3Reply { return v3Reply{status: 200, body: tc.answer} })
		res, err := tc.call()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := f.last(t)
		if got.Method != tc.verb || got.URI != tc.uri || string(got.Body) != tc.body {
			t.Errorf("%s: sent %s %s %s\nwant %s %s %s", tc.name, got.Method, got.URI, got.Body, tc.verb, tc.uri, tc.body)
		}
		if !tc.check(res) {
			t.Errorf("%s: result %+v", tc.name, res)
		}
	}
	// Page pay stays a v2 page request.
	u, err := c.TradePagePayURL(TradePagePayRequest{OutTradeNo: "o_5", TotalAmount: 1, Subject: "s"})
	if err != nil || !strings.Contains(u, "/sub/gateway.do?") || !strings.Contains(u, "method=alipay.trade.page.pay") {
		t.Fatalf("page pay %q %v", u, err)
	}
}

func TestV3Answers(t *testing.T) {
	t.Parallel()
	f := newFakeV3(t)
	c := f.client(t)
	query := func() error { _, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"}); return err }
	ok := `{"out_trade_no":"o_1","trade_status":"WAIT_BUYER_PAY","total_amount":"1.00"}`

	f.setReply(func(v3Got) v3Reply { return v3Reply{status: 200, body: ok, tamper: true} })
	if err := query(); !IsUnknownOutcome(err) || !errors.Is(err, ErrSignature) || ResponseOf(err) == nil {
		t.Errorf("tampered signature: %v", err)
	}
	f.setReply(func(v3Got) v3Reply { return v3Reply{status: 200, body: ok, unsign: true} })
	if err := query(); !IsUnknownOutcome(err) || !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned answer: %v", err)
	}
	f.setReply(func(v3Got) v3Reply {
		return v3Reply{status: 400, body: `{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在","links":[{"link":"https://x","desc":"d"}]}`}
	})
	err := query()
	var e *Error
	if !errors.As(err, &e) || !IsTradeNotExist(err) || IsUnknownOutcome(err) || e.HTTPStatus != 400 || e.TraceID != "trace-1" ||
		e.SubMsg != "交易不存在" || e.Raw == nil || !bytes.Contains(e.Raw.Body, []byte("links")) {
		t.Errorf("error answer: %#v %v", e, err)
	}
	f.setReply(func(v3Got) v3Reply {
		return v3Reply{status: 400, body: `{"code":"ACQ.TRADE_NOT_EXIST","message":"x"}`, tamper: true}
	})
	if err := query(); IsTradeNotExist(err) || !IsUnknownOutcome(err) {
		t.Errorf("tampered error answer: %v", err)
	}
	f.setReply(func(v3Got) v3Reply {
		return v3Reply{status: 400, body: `{"code":"ACQ.TRADE_NOT_EXIST","message":"x"}`, unsign: true}
	})
	if err := query(); !errors.As(err, &e) || !e.Unverified || IsTradeNotExist(err) {
		t.Errorf("unsigned error answer: %v", err)
	}
	for _, rp := range []v3Reply{
		{status: 500, body: `{"code":"ACQ.SYSTEM_ERROR","message":"系统错误"}`},
		{status: 503, body: `{"code":"isp.unknow-error","message":"系统繁忙"}`},
		{status: 400, body: `{"code":"SYSTEM_ERROR","message":"系统错误"}`},
		{status: 502, body: `<html>bad gateway</html>`, unsign: true},
		{status: 404, body: `404 page not found`, unsign: true},
		{status: 200, body: `[1]`},
		{status: 200, body: `{"total_amount":"1.001"}`},
	} {
		f.setReply(func(v3Got) v3Reply { return rp })
		if err := query(); !IsUnknownOutcome(err) {
			t.Errorf("HTTP %d %s: %v, want an unknown outcome", rp.status, rp.body, err)
		}
	}
}

func TestV3AESAndCertMode(t *testing.T) {
	t.Parallel()
	key, _ := DecodeAESKey("aa4BtZ4tspm2wnXLb1ThQA==")
	f := newFakeV3(t)
	c := f.client(t, func(cfg *Config) { cfg.EncryptKey = key })
	f.setReply(func(g v3Got) v3Reply {
		pt, err := DecryptContent(key, string(g.Body))
		if err != nil || string(pt) != `{"out_trade_no":"o_1"}` || g.Header.Get("Alipay-Encrypt-Type") != "AES" {
			return v3Reply{status: 400, body: `{"code":"isv.invalid-encrypt","message":"解密异常"}`}
		}
		return v3Reply{status: 200, body: `{"out_trade_no":"o_1","trade_status":"TRADE_CLOSED","total_amount":"1.00"}`, encrypt: key}
	})
	if q, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"}); err != nil || q.TradeStatus != TradeStatusClosed {
		t.Fatalf("AES: %+v %v", q, err)
	}
	f.last(t)

	pki := newTestPKI(t)
	cc := f.client(t, func(cfg *Config) {
		cfg.AlipayPublicKey = nil
		if err := useCerts(cfg, pki.appCert, pki.alipayCert, pki.rootBundle); err != nil {
			t.Fatal(err)
		}
	})
	alipaySN, _ := CertSN(pki.alipayCert)
	ok := `{"out_trade_no":"o_1","trade_status":"TRADE_CLOSED","total_amount":"1.00"}`
	f.setReply(func(v3Got) v3Reply { return v3Reply{status: 200, body: ok, certSN: alipaySN} })
	if _, err := cc.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"}); err != nil {
		t.Fatalf("cert mode: %v", err)
	}
	got := f.last(t)
	appSN, _ := CertSN(pki.appCert)
	rootSN, _ := RootCertSN(pki.rootBundle)
	if !strings.Contains(got.Auth, ",app_cert_sn="+appSN+",") || got.Header.Get("Alipay-Root-Cert-Sn") != rootSN {
		t.Fatalf("cert SNs: %q %q", got.Auth, got.Header.Get("Alipay-Root-Cert-Sn"))
	}
	for _, sn := range []string{"", strings.Repeat("0", 32)} {
		f.setReply(func(v3Got) v3Reply { return v3Reply{status: 200, body: ok, certSN: sn} })
		if _, err := cc.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"}); !errors.Is(err, ErrUnknownCertSN) || !IsUnknownOutcome(err) {
			t.Errorf("alipay-sn %q: %v", sn, err)
		}
	}
}

func TestV3Config(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"unknown API": {AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: &testKey(t, 1).PublicKey, API: "v4"},
		"v3 with RSA": {AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: &testKey(t, 1).PublicKey, API: APIv3, SignType: SignTypeRSA},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := New(Config{AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: &testKey(t, 1).PublicKey, API: APIv3})
	if err != nil || c.v3Origin+c.v3Prefix+strings.TrimPrefix(v3Routes["alipay.trade.query"].path, "/") != "https://openapi.alipay.com/v3/alipay/trade/query" {
		t.Fatalf("production v3 URL %q%q, %v", c.v3Origin, c.v3Prefix, err)
	}
}

// kmsKey is a crypto.Signer that is not an *rsa.PrivateKey, as a key held
// in a KMS or an HSM is: the client signs through its Sign method only.
type kmsKey struct {
	k     *rsa.PrivateKey
	calls int
}

func (s *kmsKey) Public() crypto.PublicKey { return &s.k.PublicKey }

func (s *kmsKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls++
	return s.k.Sign(r, digest, opts)
}

func TestCryptoSignerKey(t *testing.T) {
	t.Parallel()
	signer := &kmsKey{k: testKey(t, 0)}
	g := newFakeGateway(t)
	g.setReply(func(gotRequest) (int, string) {
		return 200, signedBody(t, g.key, "alipay_trade_close_response", `{"code":"10000","msg":"Success","out_trade_no":"o_1"}`)
	})
	c := g.client(t, func(cfg *Config) { cfg.PrivateKey = signer })
	if _, err := c.TradeClose(t.Context(), TradeCloseRequest{OutTradeNo: "o_1"}); err != nil {
		t.Fatal(err)
	}
	g.last(t) // the request signature verifies with the app's public key
	f := newFakeV3(t)
	c3 := f.client(t, func(cfg *Config) { cfg.PrivateKey = signer })
	if _, err := c3.TradeClose(t.Context(), TradeCloseRequest{OutTradeNo: "o_1"}); err != nil {
		t.Fatal(err)
	}
	f.last(t)
	if signer.calls != 2 {
		t.Fatalf("the signer was called %d times, want 2", signer.calls)
	}
	if _, err := New(Config{AppID: testAppID, PrivateKey: &kmsKey{k: testKey(t, 1)}, AlipayPublicKey: &testKey(t, 1).PublicKey}); !errors.Is(err, ErrAppKeyAsAlipayKey) {
		t.Fatalf("a signer holding Alipay's key: %v", err)
	}
}
