package alipay

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestV3ResponseVerify(t *testing.T) {
	t.Parallel()
	alipayKey := testKey(t, 1)
	body := []byte(`{"out_trade_no":"o_1","trade_status":"TRADE_SUCCESS"}`)
	sig, _ := Sign(alipayKey, SignTypeRSA2, V3ResponseSignContent("1704179045000", "n1", body))
	if err := VerifyV3Response(&alipayKey.PublicKey, "1704179045000", "n1", body, sig); err != nil {
		t.Fatal(err)
	}
	if err := VerifyV3Response(&alipayKey.PublicKey, "1704179045001", "n1", body, sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("changed timestamp: %v", err)
	}
	if err := VerifyV3Response(&alipayKey.PublicKey, "1704179045000", "n1", append(body, ' '), sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("changed body: %v", err)
	}
	if err := VerifyV3Response(&alipayKey.PublicKey, "", "n1", body, sig); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("no timestamp: %v", err)
	}
	if _, err := V3Authorization(testKey(t, 0), V3Request{AppID: "a", Method: "GET", URI: "no-slash", Timestamp: fixedNow()}); !errors.Is(err, ErrInvalidParam) {
		t.Fatalf("bad URI: %v", err)
	}
}

// TestAESCall runs a call with encrypt_type=AES through the fake gateway:
// biz_content goes encrypted, the response node comes back as an encrypted
// JSON string signed with its quotes.
func TestAESCall(t *testing.T) {
	t.Parallel()
	key, err := DecodeAESKey("aa4BtZ4tspm2wnXLb1ThQA==")
	if err != nil {
		t.Fatal(err)
	}
	g := newFakeGateway(t)
	c := g.client(t, func(cfg *Config) { cfg.EncryptKey = key })
	var gotBiz string
	g.setReply(func(r gotRequest) (int, string) {
		if r.Params["encrypt_type"] == "AES" {
			pt, err := DecryptContent(key, r.Params["biz_content"])
			if err != nil {
				return 500, ""
			}
			gotBiz = string(pt)
		}
		ct, _ := EncryptContent(key, []byte(`{"code":"10000","msg":"Success","out_trade_no":"o_1","total_amount":"3.00","trade_status":"TRADE_SUCCESS"}`))
		node, _ := json.Marshal(ct)
		return 200, signedBody(t, g.key, "alipay_trade_query_response", string(node))
	})
	r, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"})
	if err != nil || r.TotalAmount != 300 || gotBiz != `{"out_trade_no":"o_1"}` {
		t.Fatalf("%v %+v %q", err, r, gotBiz)
	}
	// Without the key, an encrypted response is an error, not a success.
	plain := g.client(t)
	if _, err := plain.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"}); err == nil || !strings.Contains(err.Error(), "no EncryptKey") {
		t.Fatal("encrypted response accepted without a key")
	}
	if _, err := DecodeAESKey("c2hvcnQ="); err == nil {
		t.Fatal("short AES key accepted")
	}
}

func TestEncryptedKeysAreNamed(t *testing.T) {
	t.Parallel()
	legacy := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
	pkcs8 := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
	for _, k := range []string{legacy, pkcs8} {
		if _, err := ParsePrivateKey([]byte(k)); err == nil || !strings.Contains(err.Error(), "password-protected") {
			t.Errorf("err = %v", err)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	alipayPub := &testKey(t, 1).PublicKey
	for name, cfg := range map[string]Config{
		"1024-bit RSA2 key":    {AppID: testAppID, PrivateKey: small, AlipayPublicKey: alipayPub},
		"no app id":            {PrivateKey: testKey(t, 0), AlipayPublicKey: alipayPub},
		"no key":               {AppID: testAppID, AlipayPublicKey: alipayPub},
		"no alipay key":        {AppID: testAppID, PrivateKey: testKey(t, 0)},
		"bad sign type":        {AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: alipayPub, SignType: "SM2"},
		"bad gateway":          {AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: alipayPub, Gateway: "openapi.alipay.com/gateway.do"},
		"query in URL":         {AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: alipayPub, Gateway: "https://x.example/gateway.do?charset=gbk"},
		"certs of another app": {AppID: testAppID, PrivateKey: testKey(t, 0), Certificates: &Certificates{appKey: &testKey(t, 2).PublicKey}},
		"short AES key":        {AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: alipayPub, EncryptKey: []byte("short")},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// RSA (SHA1) apps may keep their 1024-bit keys.
	if _, err := New(Config{AppID: testAppID, PrivateKey: small, AlipayPublicKey: alipayPub, SignType: SignTypeRSA}); err != nil {
		t.Errorf("RSA with 1024 bits: %v", err)
	}
}

func TestExtraParamsCannotOverrideProtocol(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	c := g.client(t)
	for _, k := range []string{"charset", "sign_type", "app_id", "sign", "biz_content"} {
		_, err := c.Call(t.Context(), CallRequest{Method: "alipay.trade.query", Params: map[string]string{k: "x"}}, nil)
		if !errors.Is(err, ErrInvalidParam) {
			t.Errorf("%s: err = %v", k, err)
		}
	}
}

func TestVerifyReturn(t *testing.T) {
	t.Parallel()
	c := alipayClient(t)
	p := paymentParams()
	delete(p, "trade_status")
	p["method"] = "alipay.trade.page.pay.return"
	q := signNotify(t, testKey(t, 1), p)
	r := httptest.NewRequest(http.MethodGet, "/alipay/return?"+q, nil)
	n, err := c.VerifyNotification([]byte(r.URL.RawQuery))
	if err != nil || n.OutTradeNo != "o_1" || n.TotalAmount != 8888 {
		t.Fatalf("%v %+v", err, n)
	}
	r = httptest.NewRequest(http.MethodGet, "/alipay/return?"+strings.Replace(q, "total_amount=88.88", "total_amount=0.01", 1), nil)
	if _, err := c.VerifyNotification([]byte(r.URL.RawQuery)); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered return: %v", err)
	}
}
