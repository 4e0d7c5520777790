package alipay

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// The benchmarks compare the package's operations with the raw crypto/rsa
// operations of the same 2048-bit key in the same run (docs/BENCHMARKS.md):
// building a page-pay URL should cost at most 5% more than RawRSASign, and
// parsing plus verifying a notification at most 20% more than RawRSAVerify.

var benchContent = []byte(`app_id=9021000122689420&biz_content={"out_trade_no":"ORDER20240102150405","product_code":"FAST_INSTANT_TRADE_PAY","subject":"测试商品 iPhone","total_amount":"88.88"}&charset=utf-8&format=JSON&method=alipay.trade.page.pay&notify_url=http://example.com/notify&return_url=http://example.com/return&sign_type=RSA2&timestamp=2024-01-02 15:04:05&version=1.0`)

func BenchmarkRawRSASign(b *testing.B) {
	key := testKey(b, 0)
	for b.Loop() {
		d := sha256.Sum256(benchContent)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	key := testKey(b, 0)
	for b.Loop() {
		if _, err := Sign(key, SignTypeRSA2, benchContent); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPagePayClient(b *testing.B) *Client {
	c, err := New(Config{AppID: testAppID, PrivateKey: testKey(b, 0), AlipayPublicKey: &testKey(b, 1).PublicKey,
		NotifyURL: "http://example.com/notify", ReturnURL: "http://example.com/return", Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkPagePayURL(b *testing.B) {
	c := benchPagePayClient(b)
	p := TradePagePayRequest{OutTradeNo: "ORDER20240102150405", TotalAmount: 8888, Subject: "测试商品 iPhone"}
	for b.Loop() {
		if _, err := c.TradePagePayURL(p); err != nil {
			b.Fatal(err)
		}
	}
}

// benchNotificationParams is a realistic payment notification (the fields
// of a real capture; see docs/PROTOCOL.md, "Notifications").
func benchNotificationParams() map[string]string {
	return map[string]string{
		"gmt_create": "2024-01-02 15:04:05", "charset": "utf-8", "seller_email": "shop@example.com", "subject": "测试商品 a+b 100%",
		"buyer_id": "2088802531875410", "invoice_amount": "88.88", "notify_id": "2024010200222150405000000000000001",
		"fund_bill_list": `[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]`, "notify_type": "trade_status_sync",
		"trade_status": "TRADE_SUCCESS", "receipt_amount": "88.88", "app_id": testAppID, "buyer_pay_amount": "88.88",
		"sign_type": "RSA2", "seller_id": "2088011354228910", "gmt_payment": "2024-01-02 15:04:09", "notify_time": "2024-01-02 15:04:10",
		"version": "1.0", "out_trade_no": "ORDER20240102150405", "total_amount": "88.88", "trade_no": "2024010222001475410569848381",
		"auth_app_id": testAppID, "buyer_logon_id": "wei***@qq.com", "point_amount": "0.00",
	}
}

// benchNotification returns the notification as a form body signed by test
// key 1, its string to sign and its raw signature.
func benchNotification(b testing.TB) (body, content, sig []byte) {
	p := benchNotificationParams()
	content = SignContent(p, RuleV1)
	d := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(nil, testKey(b, 1), crypto.SHA256, d[:])
	if err != nil {
		b.Fatal(err)
	}
	p["sign"] = base64.StdEncoding.EncodeToString(sig)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return []byte(v.Encode()), content, sig
}

// rawVerify is the RSA verification alone: SHA-256 of the string to sign
// and rsa.VerifyPKCS1v15.
func rawVerify(b *testing.B, pub *rsa.PublicKey, content, sig []byte) {
	d := sha256.Sum256(content)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRawRSAVerify(b *testing.B) {
	pub := &testKey(b, 1).PublicKey
	_, content, sig := benchNotification(b)
	for b.Loop() {
		rawVerify(b, pub, content, sig)
	}
}

func BenchmarkVerify(b *testing.B) {
	pub := &testKey(b, 1).PublicKey
	_, content, sig := benchNotification(b)
	s := base64.StdEncoding.EncodeToString(sig)
	for b.Loop() {
		if err := Verify(pub, SignTypeRSA2, content, s); err != nil {
			b.Fatal(err)
		}
	}
}

func benchNotifyClient(b *testing.B) *Client {
	c, err := New(Config{AppID: testAppID, PrivateKey: testKey(b, 0), AlipayPublicKey: &testKey(b, 1).PublicKey})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkNotificationParseVerify(b *testing.B) {
	c := benchNotifyClient(b)
	body, _, _ := benchNotification(b)
	for b.Loop() {
		n, err := c.VerifyNotification(body)
		if err != nil || n.TotalAmount != 8888 {
			b.Fatal(err)
		}
	}
}

// The paired benchmarks time the package operation and the raw RSA
// operation alternately in one loop and report the ratio of their median
// times per operation ("x-raw"): load from other processes on the machine
// affects both sides equally, and an operation that was preempted (a
// millisecond-long outlier on a busy machine) does not weigh on the result.

// paired runs raw and ours alternately b.N times and reports the ratio of
// their median durations.
func paired(b *testing.B, raw, ours func()) {
	var rawD, oursD []time.Duration
	for b.Loop() {
		t0 := time.Now()
		raw()
		t1 := time.Now()
		ours()
		t2 := time.Now()
		rawD = append(rawD, t1.Sub(t0))
		oursD = append(oursD, t2.Sub(t1))
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	b.ReportMetric(median(oursD)/median(rawD), "x-raw")
}

func BenchmarkPairedPagePayURLvsRawSign(b *testing.B) {
	key := testKey(b, 0)
	c := benchPagePayClient(b)
	p := TradePagePayRequest{OutTradeNo: "ORDER20240102150405", TotalAmount: 8888, Subject: "测试商品 iPhone"}
	paired(b, func() {
		d := sha256.Sum256(benchContent)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:]); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := c.TradePagePayURL(p); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkPairedNotificationVsRawVerify(b *testing.B) {
	pub := &testKey(b, 1).PublicKey
	c := benchNotifyClient(b)
	body, content, sig := benchNotification(b)
	paired(b, func() {
		rawVerify(b, pub, content, sig)
	}, func() {
		if n, err := c.VerifyNotification(body); err != nil || n.TotalAmount != 8888 {
			b.Fatal(err)
		}
	})
}

// OpenAPI v3: building a signed request (body, Authorization header and
// the other headers) against the raw signature, and checking an answer's
// signature headers against the raw verification of the same bytes.

func benchV3Client(b *testing.B) *Client {
	c, err := New(Config{AppID: testAppID, PrivateKey: testKey(b, 0), AlipayPublicKey: &testKey(b, 1).PublicKey,
		API: APIv3, NotifyURL: "http://example.com/notify", Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

var benchV3Query = request{method: "alipay.trade.query", biz: tradeRef{OutTradeNo: "ORDER20240102150405"}}

// benchV3Answer is a signed v3 query answer and the raw signature of its
// string to sign.
func benchV3Answer(b *testing.B) (*Response, []byte, []byte) {
	body := []byte(`{"buyer_logon_id":"wei***@qq.com","buyer_pay_amount":"88.88","buyer_user_id":"2088802531875410","invoice_amount":"88.88","out_trade_no":"ORDER20240102150405","point_amount":"0.00","receipt_amount":"88.88","send_pay_date":"2024-01-02 15:04:09","total_amount":"88.88","trade_no":"2024010222001475410569848381","trade_status":"TRADE_SUCCESS"}`)
	ts, nonce := "1704179046000", "3f2a9c1e5b7d4e8f9a0b1c2d3e4f5a6b"
	content := V3ResponseSignContent(ts, nonce, body)
	d := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(nil, testKey(b, 1), crypto.SHA256, d[:])
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Alipay-Timestamp", ts)
	h.Set("Alipay-Nonce", nonce)
	h.Set("Alipay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Alipay-Trace-Id", "0b5c1a9e17041790460001234e")
	return &Response{Method: "alipay.trade.query", API: APIv3, StatusCode: 200, Header: Header(h), Body: body}, content, sig
}

func BenchmarkV3Request(b *testing.B) {
	c := benchV3Client(b)
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.v3Request(ctx, benchV3Query, v3Routes["alipay.trade.query"]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkV3ResponseCheck(b *testing.B) {
	c := benchV3Client(b)
	resp, _, _ := benchV3Answer(b)
	for b.Loop() {
		if err := c.decodeV3(resp, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPairedV3RequestVsRawSign(b *testing.B) {
	key := testKey(b, 0)
	c := benchV3Client(b)
	ctx := b.Context()
	content := V3Request{AppID: testAppID, Nonce: "4f5e6d7c-0000-4000-8000-123456789abc", Timestamp: fixedNow(), Method: "POST",
		URI: "/v3/alipay/trade/query", Body: []byte(`{"out_trade_no":"ORDER20240102150405"}`)}.SignContent()
	paired(b, func() {
		d := sha256.Sum256(content)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:]); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := c.v3Request(ctx, benchV3Query, v3Routes["alipay.trade.query"]); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkPairedV3ResponseVsRawVerify(b *testing.B) {
	pub := &testKey(b, 1).PublicKey
	c := benchV3Client(b)
	resp, content, sig := benchV3Answer(b)
	paired(b, func() {
		rawVerify(b, pub, content, sig)
	}, func() {
		if err := c.decodeV3(resp, nil); err != nil {
			b.Fatal(err)
		}
	})
}
