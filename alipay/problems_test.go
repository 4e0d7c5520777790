package alipay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// One test per common integration problem that users of other Alipay SDKs
// report, named TestProblemNN. The package documentation lists how each is
// prevented.

// signNotify returns a form body of params signed (rule v1) by key.
func signNotify(t testing.TB, key *rsa.PrivateKey, params map[string]string) string {
	t.Helper()
	sig, err := Sign(key, SignTypeRSA2, SignContent(params, RuleV1))
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	for k, s := range params {
		v.Set(k, s)
	}
	v.Set("sign", sig)
	return v.Encode()
}

func paymentParams() map[string]string {
	return map[string]string{
		"app_id": testAppID, "auth_app_id": testAppID, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
		"notify_id": "2024010200222150405000000000000001", "notify_type": "trade_status_sync", "notify_time": "2024-01-02 15:04:10",
		"out_trade_no": "o_1", "trade_no": "2024010222001400000000000001", "trade_status": "TRADE_SUCCESS",
		"total_amount": "88.88", "receipt_amount": "88.88", "seller_id": "2088011354228910", "subject": "测试 a+b 100%",
		"gmt_payment": "2024-01-02 15:04:09",
	}
}

// alipayClient is a key-mode client whose Alipay key is test key 1.
func alipayClient(t testing.TB) *Client {
	return newTestClientWithAlipayKey(t, &testKey(t, 1).PublicKey, testAppID)
}

// Problem 1: the app's own public key configured as Alipay's.
func TestProblem01AppKeyAsAlipayKey(t *testing.T) {
	t.Parallel()
	app := testKey(t, 0)
	_, err := New(Config{AppID: testAppID, PrivateKey: app, AlipayPublicKey: &app.PublicKey})
	if !errors.Is(err, ErrAppKeyAsAlipayKey) {
		t.Fatalf("key mode: err = %v", err)
	}
	_, err = New(Config{AppID: testAppID, PrivateKey: app, Certificates: &Certificates{appKey: &app.PublicKey, alipayKeys: map[string]*rsa.PublicKey{"x": &app.PublicKey}}})
	if !errors.Is(err, ErrAppKeyAsAlipayKey) {
		t.Fatalf("cert map: err = %v", err)
	}
	pki := newTestPKI(t)
	if _, err := ParseCertificates(pki.appCert, pki.appCert, pki.rootBundle); !errors.Is(err, ErrAppKeyAsAlipayKey) {
		t.Fatalf("cert mode: err = %v", err)
	}
	// A private key given where Alipay's public key belongs is named as such.
	der := x509.MarshalPKCS1PrivateKey(app)
	if _, err := ParsePublicKey([]byte(base64.StdEncoding.EncodeToString(der))); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("private key as public: err = %v", err)
	}
}

// Problem 2: the sandbox moved to openapi-sandbox.dl.alipaydev.com.
func TestProblem02SandboxGateway(t *testing.T) {
	t.Parallel()
	if SandboxGateway != "https://openapi-sandbox.dl.alipaydev.com/gateway.do" {
		t.Fatal(SandboxGateway)
	}
	for in, want := range map[string]string{"sandbox": SandboxGateway, "production": ProductionGateway, "": ProductionGateway,
		"http://127.0.0.1:9000/gateway.do": "http://127.0.0.1:9000/gateway.do"} {
		if got, err := ResolveGateway(in); err != nil || got != want {
			t.Errorf("ResolveGateway(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ResolveGateway("openapi.alipay.com"); err == nil {
		t.Error("a URL without scheme is accepted")
	}
	c, err := New(Config{AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: &testKey(t, 1).PublicKey})
	if err != nil || c.cfg.Gateway != ProductionGateway {
		t.Fatalf("default gateway %q, %v", c.cfg.Gateway, err)
	}
}

// Problem 3: certificate mode must sign app_cert_sn and alipay_root_cert_sn
// into every request, whatever the API.
func TestProblem03CertSNsOnEveryCall(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	pki := newTestPKI(t)
	c := g.client(t, func(cfg *Config) {
		cfg.AlipayPublicKey = nil
		if err := useCerts(cfg, pki.appCert, pki.alipayCert, pki.rootBundle); err != nil {
			t.Fatal(err)
		}
	})
	appSN, _ := CertSN(pki.appCert)
	g.setReply(func(r gotRequest) (int, string) { return 200, "{}" })
	for _, tc := range apiCases() {
		tc.call(t.Context(), c)
		got := g.last(t) // fails on a bad signature
		if got.Params["app_cert_sn"] != appSN || got.Params["alipay_root_cert_sn"] == "" {
			t.Errorf("%s: SNs %q %q", tc.name, got.Params["app_cert_sn"], got.Params["alipay_root_cert_sn"])
		}
	}
	u, err := c.TradePagePayURL(TradePagePayRequest{OutTradeNo: "o", TotalAmount: 1, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if pu.Query().Get("app_cert_sn") != appSN {
		t.Errorf("page pay URL lacks app_cert_sn")
	}
	// The wrong app certificate for the private key is caught by New.
	cfg := Config{AppID: testAppID, PrivateKey: testKey(t, 2)}
	if err := useCerts(&cfg, pki.appCert, pki.alipayCert, pki.rootBundle); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "app certificate") {
		t.Fatalf("mismatched app certificate: err = %v", err)
	}
}

// Problem 4: "correct" keys rejected because of PKCS#1/PKCS#8 and format
// confusion: every format of one key gives the same signature, and a key of
// the wrong kind is named.
func TestProblem04KeyFormats(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs1 := x509.MarshalPKCS1PrivateKey(k)
	forms := [][]byte{
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		[]byte(base64.StdEncoding.EncodeToString(pkcs1)),
		[]byte(base64.StdEncoding.EncodeToString(pkcs8) + "\r\n"),
		[]byte("\xef\xbb\xbf" + base64.StdEncoding.EncodeToString(pkcs8)),
	}
	want, _ := Sign(k, SignTypeRSA2, []byte("a=1"))
	for i, f := range forms {
		pk, err := ParsePrivateKey(f)
		if err != nil {
			t.Fatalf("form %d: %v", i, err)
		}
		if got, _ := Sign(pk, SignTypeRSA2, []byte("a=1")); got != want {
			t.Fatalf("form %d signs differently", i)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	if _, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})); err == nil || !strings.Contains(err.Error(), "not RSA") {
		t.Fatalf("EC key: err = %v", err)
	}
	if _, err := LoadPrivateKeyFile("testdata/nope.pem"); err == nil || !strings.Contains(err.Error(), "testdata/nope.pem") {
		t.Fatalf("missing file: err = %v", err)
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil || !strings.Contains(err.Error(), "public key, not a private key") {
		t.Fatalf("public PEM as private: err = %v", err)
	}
	// The string to sign is exposed, to compare with Alipay's tool.
	if s := SignContent(map[string]string{"b": "2", "a": "1", "sign": "x", "c": ""}, RuleV2); string(s) != "a=1&b=2" {
		t.Fatalf("SignContent(RuleV2) = %s", s)
	}
}

// Problem 5: sign_type handling. Payment notifications (v1) drop sign_type;
// gateway messages (v2) keep it.
func TestProblem05SignTypeRule(t *testing.T) {
	t.Parallel()
	p := paymentParams()
	if strings.Contains(string(SignContent(p, RuleV1)), "sign_type") {
		t.Fatal("v1 keeps sign_type")
	}
	if !strings.Contains(string(SignContent(p, RuleV2)), "sign_type=RSA2") {
		t.Fatal("v2/request drop sign_type")
	}
	c := alipayClient(t)
	if _, err := c.VerifyNotification([]byte(signNotify(t, testKey(t, 1), p))); err != nil {
		t.Fatal(err)
	}
	// Signed v2-style: a v1 check must fail.
	sig, _ := Sign(testKey(t, 1), SignTypeRSA2, SignContent(p, RuleV2))
	p["sign"] = sig
	if _, err := c.VerifyNotification([]byte(EncodeForm(p))); !errors.Is(err, ErrSignature) {
		t.Fatalf("v2-signed payment notification: err = %v", err)
	}
	// A notification claiming the other algorithm is refused.
	p["sign_type"] = "RSA"
	if _, err := c.VerifyNotification([]byte(EncodeForm(p))); !errors.Is(err, ErrSignature) {
		t.Fatalf("sign_type RSA: err = %v", err)
	}
}

// Problem 6: decoding twice breaks values holding '%' or '+'.
func TestProblem06DecodeOnce(t *testing.T) {
	t.Parallel()
	p := paymentParams()
	p["passback_params"] = "tpdp_id%3D17+x" // sent URL-encoded by the merchant, echoed as is
	p["subject"] = "a+b 100% c%2Bd"
	body := signNotify(t, testKey(t, 1), p)
	c := alipayClient(t)
	n, err := c.VerifyNotification([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if n.PassbackParams != "tpdp_id%3D17+x" || n.Subject != "a+b 100% c%2Bd" {
		t.Fatalf("values changed: %q %q", n.PassbackParams, n.Subject)
	}
	if _, err := c.VerifyNotification([]byte(body)); err != nil {
		t.Fatalf("return: %v", err)
	}
	// Decoding a second time (what the broken SDKs did) changes the string.
	twice, _ := url.QueryUnescape(p["passback_params"])
	if twice == p["passback_params"] {
		t.Fatal("test value does not exercise double decoding")
	}
	// Malformed escapes are rejected, not guessed at.
	if _, err := c.VerifyNotification([]byte(body + "&x=%zz")); !errors.Is(err, ErrBadNotification) {
		t.Fatalf("bad escape: err = %v", err)
	}
}

// Problem 7: trimming values breaks the signature; values are never trimmed
// (whitespace-only values are left out, as Alipay does).
func TestProblem07NoTrimming(t *testing.T) {
	t.Parallel()
	p := paymentParams()
	p["subject"] = " 活动名称 "
	p["body"] = "   "
	if !strings.Contains(string(SignContent(p, RuleV1)), "subject= 活动名称 &") || strings.Contains(string(SignContent(p, RuleV1)), "body=") {
		t.Fatalf("content %s", SignContent(p, RuleV1))
	}
	n, err := alipayClient(t).VerifyNotification([]byte(signNotify(t, testKey(t, 1), p)))
	if err != nil || n.Subject != " 活动名称 " {
		t.Fatalf("%v %q", err, n)
	}
}

// Problem 8: extra keys (URL query on notify_url, cookies) in the verified
// set. Only the POST body is verified.
func TestProblem08ExtraKeys(t *testing.T) {
	t.Parallel()
	c := alipayClient(t)
	body := signNotify(t, testKey(t, 1), paymentParams())
	r := httptest.NewRequest(http.MethodPost, "/alipay/notify?shop=1&PHPSESSID=abc", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.AddCookie(&http.Cookie{Name: "PHPSESSID", Value: "abc"})
	n, raw, err := postedNotification(c, r)
	if err != nil || string(raw) != body || n.OutTradeNo != "o_1" {
		t.Fatalf("notification: %v", err)
	}
	// An extra key in the body itself is not Alipay's: the signature fails.
	r = httptest.NewRequest(http.MethodPost, "/alipay/notify", strings.NewReader(body+"&shop=1"))
	if _, _, err := postedNotification(c, r); !errors.Is(err, ErrSignature) {
		t.Fatalf("extra body key: err = %v", err)
	}
	// A repeated key is refused outright.
	r = httptest.NewRequest(http.MethodPost, "/alipay/notify", strings.NewReader(body+"&total_amount=0.01"))
	if _, _, err := postedNotification(c, r); !errors.Is(err, ErrMultiValued) {
		t.Fatalf("repeated key: err = %v", err)
	}
}

// Problem 9: GBK. The client always sends charset=utf-8; a GBK notification
// with non-ASCII text is verified over its raw bytes, then clearly refused.
func TestProblem09GBK(t *testing.T) {
	t.Parallel()
	c := alipayClient(t)
	p := paymentParams()
	p["charset"] = "gbk"
	p["subject"] = "\xb2\xe2\xca\xd4" // 测试 in GBK
	_, err := c.VerifyNotification([]byte(signNotify(t, testKey(t, 1), p)))
	if !errors.Is(err, ErrCharset) || errors.Is(err, ErrSignature) {
		t.Fatalf("GBK notification: err = %v", err)
	}
	p["subject"] = "test"
	if _, err := c.VerifyNotification([]byte(signNotify(t, testKey(t, 1), p))); err != nil {
		t.Fatalf("ASCII-only GBK notification: %v", err)
	}
	// A signed response in GBK is refused, not returned garbled.
	content := `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"` + "\xbd\xbb\xd2\xd7" + `"}`
	err = c.DecodeResponse(&Response{Method: "alipay.trade.query", StatusCode: 200, Body: []byte(signedBody(t, testKey(t, 1), "alipay_trade_query_response", content))}, nil)
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("GBK response: err = %v", err)
	}
	// Requests name utf-8 in the URL query.
	u, _ := c.TradePagePayURL(TradePagePayRequest{OutTradeNo: "o", TotalAmount: 1, Subject: "测试"})
	if pu, _ := url.Parse(u); pu.Query().Get("charset") != "utf-8" {
		t.Fatal("charset")
	}
}

// Problem 10: extraction that depends on key order, spacing or
// re-serialisation. The node's exact bytes are used wherever it is.
func TestProblem10Extraction(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	content := `{"code":"10000","msg":"Success","out_trade_no":"o_1","total_amount":"1.00","sign":"inner","x":{"y":"}"}}`
	sig, _ := Sign(key, SignTypeRSA2, []byte(content))
	c := alipayClient(t)
	for _, body := range []string{
		`{"sign":"` + sig + `","alipay_trade_query_response":` + content + `}`,
		"{\n \"alipay_trade_query_response\" :\t" + content + " ,\n \"sign\" : \"" + sig + "\"\n}\n",
		`{"alipay_trade_query_response":` + content + `,"alipay_cert_sn":"","sign":"` + sig + `"}`,
	} {
		var out TradeQueryResult
		if err := c.DecodeResponse(&Response{Method: "alipay.trade.query", StatusCode: 200, Body: []byte(body)}, &out); err != nil || out.TotalAmount != 100 {
			t.Fatalf("%s: %v", body, err)
		}
	}
	// Trailing garbage and a second object are refused.
	body := `{"alipay_trade_query_response":` + content + `,"sign":"` + sig + `"}{"a":1}`
	if err := c.DecodeResponse(&Response{Method: "alipay.trade.query", StatusCode: 200, Body: []byte(body)}, nil); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("trailing data: err = %v", err)
	}
}

// Problem 11: return_url in certificate mode carries no alipay_cert_sn; the
// loaded certificates are tried.
func TestProblem11ReturnInCertMode(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	cfg := Config{AppID: testAppID, PrivateKey: testKey(t, 0)}
	if err := useCerts(&cfg, pki.appCert, pki.alipayCert, pki.rootBundle); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Certificates.AddAlipayCert(pki.oldAlipayCert); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := paymentParams()
	delete(p, "trade_status")
	p["method"] = "alipay.trade.page.pay.return"
	for _, k := range []int{1, 2} {
		n, err := c.VerifyNotification([]byte(signNotify(t, testKey(t, k), p)))
		if err != nil || n.Method != "alipay.trade.page.pay.return" || n.TradeStatus.Paid() {
			t.Fatalf("return signed by key %d: %v", k, err)
		}
	}
	if _, err := c.VerifyNotification([]byte(signNotify(t, testKey(t, 0), p))); !errors.Is(err, ErrSignature) {
		t.Fatalf("return signed by the app key: err = %v", err)
	}
}

// Problem 12: time zones. Timestamps are Beijing time from a fixed zone,
// whatever the server's zone, with no tzdata.
func TestProblem12TimeZone(t *testing.T) {
	t.Parallel()
	ny := time.FixedZone("EST", -5*3600)
	g := newFakeGateway(t)
	c := g.client(t, func(cfg *Config) {
		cfg.Now = func() time.Time { return time.Date(2024, 1, 1, 20, 30, 0, 0, ny) }
	})
	g.setReply(func(gotRequest) (int, string) { return 200, "{}" })
	c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o"})
	if ts := g.last(t).Params["timestamp"]; ts != "2024-01-02 09:30:00" {
		t.Fatalf("timestamp %q, want Beijing 2024-01-02 09:30:00", ts)
	}
	tm, err := ParseTime("2021-07-14 09:51:36.631")
	if err != nil || !tm.Equal(time.Date(2021, 7, 14, 1, 51, 36, 631e6, time.UTC)) {
		t.Fatalf("ParseTime: %v %v", tm, err)
	}
	if _, err := ParseTime("2021-07-14T09:51:36Z"); err == nil {
		t.Fatal("ParseTime accepts RFC 3339")
	}
}

// Problem 13: notifications repeat until the exact body "success".
func TestProblem13Ack(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	AckNotification(w)
	if w.Code != 200 || w.Body.String() != "success" {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	// The same notification verifies again and carries the same notify_id,
	// the key for idempotent handling.
	c := alipayClient(t)
	body := []byte(signNotify(t, testKey(t, 1), paymentParams()))
	a, err1 := c.VerifyNotification(body)
	b, err2 := c.VerifyNotification(body)
	if err1 != nil || err2 != nil || a.NotifyID != b.NotifyID || a.NotifyID == "" {
		t.Fatal("repeat")
	}
}

// Problem 14: full-refund notifications (TRADE_CLOSED, gmt_refund with
// milliseconds, no receipt fields) verify and parse.
func TestProblem14FullRefundNotification(t *testing.T) {
	t.Parallel()
	p := map[string]string{
		"gmt_create": "2021-07-14 09:50:10", "charset": "utf-8", "seller_email": "s@example.com", "subject": "pay_product",
		"buyer_id": "2088802531875410", "notify_id": "2021071400222095137081431442870001", "notify_type": "trade_status_sync",
		"trade_status": "TRADE_CLOSED", "app_id": testAppID, "sign_type": "RSA2", "seller_id": "2088011354228910",
		"gmt_payment": "2021-07-14 09:50:20", "notify_time": "2021-07-14 09:51:37", "gmt_refund": "2021-07-14 09:51:36.631",
		"out_biz_no": "r_1", "passback_params": "pay_product", "version": "1.0", "out_trade_no": "o_1", "total_amount": "0.60",
		"refund_fee": "0.60", "trade_no": "2021071422001431441402161234", "auth_app_id": testAppID, "buyer_logon_id": "180***@189.cn",
		"gmt_close": "2021-07-14 09:51:36",
	}
	n, err := alipayClient(t).VerifyNotification([]byte(signNotify(t, testKey(t, 1), p)))
	if err != nil {
		t.Fatal(err)
	}
	if n.TradeStatus != TradeStatusClosed || n.RefundFee != 60 || n.TotalAmount != 60 || n.OutBizNo != "r_1" ||
		n.GmtRefund.Nanosecond() != 631e6 || n.GmtClose.IsZero() || n.TradeStatus.Paid() {
		t.Fatalf("parsed %+v", n)
	}
	if err := n.Check(Expect{AppID: testAppID, SellerID: "2088011354228910", TotalAmount: 60}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []Expect{
		{AppID: "other", SellerID: "2088011354228910", TotalAmount: 60},
		{AppID: testAppID, SellerID: "2088000000000000", TotalAmount: 60},
		{AppID: testAppID, SellerID: "2088011354228910", TotalAmount: 61},
	} {
		var m *MismatchError
		if err := n.Check(e); !errors.As(err, &m) {
			t.Errorf("Check(%+v) = %v", e, err)
		}
	}
}

// Problem 15: alipay_cert_sn. An unknown SN (Alipay rotated its
// certificate) is reported as such; an unsigned alipay_cert_sn added to a
// notification does not break verification.
func TestProblem15CertSN(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	cfg := Config{AppID: testAppID, PrivateKey: testKey(t, 0)}
	if err := useCerts(&cfg, pki.appCert, pki.alipayCert, pki.rootBundle); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := CertSN(pki.alipayCert)
	p := paymentParams()
	body := signNotify(t, testKey(t, 1), p)
	if _, err := c.VerifyNotification([]byte(body + "&alipay_cert_sn=" + sn)); err != nil {
		t.Fatalf("notification with an unsigned alipay_cert_sn: %v", err)
	}
	content := `{"code":"10000","msg":"Success"}`
	b := strings.Replace(signedBody(t, testKey(t, 1), "alipay_trade_close_response", content), `,"sign"`, `,"alipay_cert_sn":"ffffffffffffffffffffffffffffffff","sign"`, 1)
	err = c.DecodeResponse(&Response{Method: "alipay.trade.close", StatusCode: 200, Body: []byte(b)}, nil)
	if !errors.Is(err, ErrUnknownCertSN) || !strings.Contains(err.Error(), "ffffffffffffffffffffffffffffffff") {
		t.Fatalf("unknown SN: err = %v", err)
	}
	// SNs come from the first certificate of a chain file.
	chainSN, _ := CertSN(pki.alipayCert)
	leafOnly, _, _ := strings.Cut(string(pki.alipayCert), "-----END CERTIFICATE-----")
	if leafSN, _ := CertSN([]byte(leafOnly + "-----END CERTIFICATE-----\n")); leafSN != chainSN {
		t.Fatal("chain SN is not the first certificate's")
	}
	// A key file where a certificate belongs is named.
	if _, err := CertSN(PublicKeyPEM(&testKey(t, 1).PublicKey)); err == nil || !strings.Contains(err.Error(), "public key, not a certificate") {
		t.Fatalf("public key as certificate: err = %v", err)
	}
}

// useCerts sets cfg.Certificates from the three PEM files.
func useCerts(cfg *Config, app, alipay, root []byte) error {
	certs, err := ParseCertificates(app, alipay, root)
	if err == nil {
		cfg.Certificates = certs
	}
	return err
}

// postedNotification verifies the body of a notify_url POST as a handler does.
func postedNotification(c *Client, r *http.Request) (*Notification, []byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxNotifyBody))
	if err != nil {
		return nil, nil, err
	}
	n, err := c.VerifyNotification(body)
	return n, body, err
}
