package alipay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"alishop/alipay"
)

// The examples use the throw-away test keys in testdata/keys: test_0 is the
// app key, test_1 plays Alipay.

func exampleClient(gateway string) *alipay.Client {
	appKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	if err != nil {
		log.Fatal(err)
	}
	alipayKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	if err != nil {
		log.Fatal(err)
	}
	c, err := alipay.New(alipay.Config{
		AppID:           "9021000122689420",
		PrivateKey:      appKey,
		AlipayPublicKey: &alipayKey.PublicKey, // in real life: alipay.LoadPublicKeyFile("alipay_public_key.txt")
		Gateway:         gateway,
		NotifyURL:       "https://shop.example/alipay/notify",
		ReturnURL:       "https://shop.example/alipay/return",
		Now:             func() time.Time { return time.Date(2024, 1, 2, 7, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func ExampleParseAmount() {
	a, err := alipay.ParseAmount("13.5")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(int64(a), "fen =", a, "yuan")
	_, err = alipay.ParseAmount("0.001")
	fmt.Println(err)
	// Output:
	// 1350 fen = 13.50 yuan
	// alipay: invalid amount: "0.001"
}

func ExampleFormatTime() {
	// Whatever the server's zone, Alipay gets Beijing time.
	t := time.Date(2024, 1, 1, 20, 30, 0, 0, time.FixedZone("EST", -5*3600))
	fmt.Println(alipay.FormatTime(t))
	// Output: 2024-01-02 09:30:00
}

func ExampleSignContent() {
	params := map[string]string{
		"app_id": "9021000122689420", "method": "alipay.trade.query", "charset": "utf-8",
		"sign_type": "RSA2", "version": "1.0", "timestamp": "2024-01-02 15:04:05",
		"notify_url":  "", // empty: left out
		"biz_content": `{"out_trade_no":"o_1"}`,
		"sign":        "left out too",
	}
	fmt.Println(string(alipay.SignContent(params, alipay.RuleV2)))
	// Output: app_id=9021000122689420&biz_content={"out_trade_no":"o_1"}&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-01-02 15:04:05&version=1.0
}

func ExampleClient_TradePagePayURL() {
	c := exampleClient(alipay.SandboxGateway)
	u, err := c.TradePagePayURL(alipay.TradePagePayRequest{
		OutTradeNo:  "o_20240102_1",
		TotalAmount: 8888, // fen
		Subject:     "测试商品",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Redirect the buyer's browser to u (303 See Other).
	pu, _ := url.Parse(u)
	q := pu.Query()
	fmt.Println(pu.Host)
	fmt.Println(q.Get("method"), q.Get("timestamp"))
	fmt.Println(q.Get("biz_content"))
	// Output:
	// openapi-sandbox.dl.alipaydev.com
	// alipay.trade.page.pay 2024-01-02 15:04:05
	// {"out_trade_no":"o_20240102_1","product_code":"FAST_INSTANT_TRADE_PAY","subject":"测试商品","total_amount":"88.88"}
}

// A gateway on the loopback interface stands in for Alipay here.
func ExampleClient_TradeQuery() {
	alipayKey, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		node := `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`
		sign, _ := alipay.Sign(alipayKey, alipay.SignTypeRSA2, []byte(node))
		fmt.Fprintf(w, `{"alipay_trade_query_response":%s,"sign":"%s"}`, node, sign)
	}))
	defer gw.Close()
	c := exampleClient(gw.URL + "/gateway.do")

	_, err := c.TradeQuery(context.Background(), alipay.TradeQueryRequest{OutTradeNo: "o_20240102_1"})
	switch {
	case alipay.IsTradeNotExist(err):
		fmt.Println("not created yet: the buyer has not opened the cashier")
	case alipay.IsUnknownOutcome(err):
		fmt.Println("unknown: query again later")
	case err != nil:
		fmt.Println("error:", err)
	}
	var e *alipay.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.SubCode, e.SubMsg)
	}
	// Output:
	// not created yet: the buyer has not opened the cashier
	// 40004 ACQ.TRADE_NOT_EXIST 交易不存在
}

func ExampleClient_VerifyNotification() {
	c := exampleClient(alipay.ProductionGateway)
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, alipay.MaxNotifyBody))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Store raw, valid or not, then verify the exact bytes received.
		n, err := c.VerifyNotification(raw)
		if err != nil {
			http.Error(w, "bad notification", http.StatusBadRequest)
			return
		}
		// The merchant's checks: app_id, seller, amount of the order.
		if err := n.Check(alipay.Expect{AppID: "9021000122689420", SellerID: "2088011354228910", TotalAmount: 8888}); err != nil {
			var m *alipay.MismatchError
			errors.As(err, &m)
			http.Error(w, "not ours: "+m.Field, http.StatusBadRequest)
			return
		}
		fmt.Println(n.OutTradeNo, n.TradeStatus, n.TotalAmount, n.TradeStatus.Paid())
		alipay.AckNotification(w) // only once the effect is stored
	}

	// Alipay's side: a signed payment notification.
	alipayKey, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	p := map[string]string{"app_id": "9021000122689420", "seller_id": "2088011354228910", "out_trade_no": "o_20240102_1",
		"trade_status": "TRADE_SUCCESS", "total_amount": "88.88", "notify_id": "2024010200222150405000000000000001",
		"notify_type": "trade_status_sync", "notify_time": "2024-01-02 15:04:10", "charset": "utf-8", "version": "1.0", "sign_type": "RSA2"}
	sign, _ := alipay.Sign(alipayKey, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV1))
	p["sign"] = sign
	r := httptest.NewRequest(http.MethodPost, "/alipay/notify", strings.NewReader(alipay.EncodeForm(p)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w := httptest.NewRecorder()
	handler(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	fmt.Printf("%d %s\n", w.Code, body)
	// Output:
	// o_20240102_1 TRADE_SUCCESS 88.88 true
	// 200 success
}

func ExampleCertSN() {
	// alipayCertPublicKey_RSA2.crt holds a chain: the SN is the first certificate's.
	sn, err := alipay.CertSN(mustRead("testdata/certs/sw_alipayPublicCert.crt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sn)
	root, err := alipay.RootCertSN(mustRead("testdata/certs/sw_alipayRootCert.crt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(root)
	// Output:
	// 05d88faef76d723019c5c14d3ecd014a
	// 687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6
}

func ExampleV3Authorization() {
	key, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	h, err := alipay.V3Authorization(key, alipay.V3Request{
		AppID:     "9021000122689420",
		Nonce:     "4f5e6d7c-0000-4000-8000-123456789abc",
		Timestamp: time.UnixMilli(1704179045000),
		Method:    "POST",
		URI:       "/v3/alipay/trade/query",
		Body:      []byte(`{"out_trade_no":"o_1"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h[:strings.Index(h, ",sign=")])
	// Output: ALIPAY-SHA256withRSA app_id=9021000122689420,nonce=4f5e6d7c-0000-4000-8000-123456789abc,timestamp=1704179045000
}

// With Config.API set to APIv3 the same typed calls go to OpenAPI v3. A
// gateway on the loopback interface stands in for Alipay here; it signs its
// answers in headers as Alipay does.
func Example_openAPIv3() {
	alipayKey, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, string(body), strings.HasPrefix(r.Header.Get("Authorization"), alipay.V3Scheme+" app_id="))
		status, answer := 200, `{"out_trade_no":"o_1","trade_no":"2024010222001400000000000001","trade_status":"TRADE_SUCCESS","total_amount":"88.88"}`
		if strings.Contains(string(body), "o_2") {
			status, answer = 400, `{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在"}`
		}
		ts, nonce := "1704179046000", "example-nonce"
		sign, _ := alipay.Sign(alipayKey, alipay.SignTypeRSA2, alipay.V3ResponseSignContent(ts, nonce, []byte(answer)))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("alipay-timestamp", ts)
		w.Header().Set("alipay-nonce", nonce)
		w.Header().Set("alipay-signature", sign)
		w.Header().Set("alipay-trace-id", "0b5c1a9e1704179046")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer gw.Close()
	appKey, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	c, err := alipay.New(alipay.Config{
		AppID:           "9021000122689420",
		PrivateKey:      appKey,
		AlipayPublicKey: &alipayKey.PublicKey,
		Gateway:         gw.URL + "/gateway.do", // v3 calls go to gw.URL + "/v3/…"
		API:             alipay.APIv3,
	})
	if err != nil {
		log.Fatal(err)
	}
	q, err := c.TradeQuery(context.Background(), alipay.TradeQueryRequest{OutTradeNo: "o_1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(q.TradeStatus, q.TotalAmount, q.Raw.API, q.Raw.StatusCode) // q.Raw.Body holds the bytes received

	_, err = c.TradeQuery(context.Background(), alipay.TradeQueryRequest{OutTradeNo: "o_2"})
	var e *alipay.Error
	if errors.As(err, &e) {
		fmt.Println(e.HTTPStatus, e.SubCode, e.SubMsg, e.TraceID, alipay.IsTradeNotExist(err))
	}
	// Output:
	// POST /v3/alipay/trade/query {"out_trade_no":"o_1"} true
	// TRADE_SUCCESS 88.88 v3 200
	// POST /v3/alipay/trade/query {"out_trade_no":"o_2"} true
	// 400 ACQ.TRADE_NOT_EXIST 交易不存在 0b5c1a9e1704179046 true
}

func mustRead(name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// exampleAlipay starts a gateway on the loopback interface that stands in
// for Alipay: it answers each method with the given node, signed with the
// key that plays Alipay. It returns a client of that gateway and a stop
// function.
func exampleAlipay(nodes map[string]string, mut ...func(*alipay.Config)) (*alipay.Client, func()) {
	alipayKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	if err != nil {
		log.Fatal(err)
	}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Query().Get("method")
		node, ok := nodes[method]
		if !ok {
			node = `{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-method","sub_msg":"不存在的方法名"}`
		}
		sign, _ := alipay.Sign(alipayKey, alipay.SignTypeRSA2, []byte(node))
		fmt.Fprintf(w, `{"%s":%s,"sign":"%s"}`, alipay.ResponseNode(method), node, sign)
	}))
	appKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	if err != nil {
		log.Fatal(err)
	}
	cfg := alipay.Config{
		AppID:           "9021000122689420",
		PrivateKey:      appKey,
		AlipayPublicKey: &alipayKey.PublicKey,
		Gateway:         gw.URL + "/gateway.do",
		NotifyURL:       "https://shop.example/alipay/notify",
	}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := alipay.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return c, gw.Close
}

func ExampleClient_TradeWapPayURL() {
	c := exampleClient(alipay.SandboxGateway)
	u, err := c.TradeWapPayURL(alipay.TradePagePayRequest{
		OutTradeNo:  "o_20240102_1",
		TotalAmount: 8888,
		Subject:     "测试商品",
		QuitURL:     "https://shop.example/orders/o_20240102_1", // where 取消 on the phone leads
	})
	if err != nil {
		log.Fatal(err)
	}
	pu, _ := url.Parse(u)
	fmt.Println(pu.Query().Get("method"))
	fmt.Println(pu.Query().Get("biz_content"))
	// Output:
	// alipay.trade.wap.pay
	// {"out_trade_no":"o_20240102_1","product_code":"QUICK_WAP_WAY","quit_url":"https://shop.example/orders/o_20240102_1","subject":"测试商品","total_amount":"88.88"}
}

func ExampleClient_TradePagePayForm() {
	c := exampleClient(alipay.SandboxGateway)
	form, err := c.TradePagePayForm(alipay.TradePagePayRequest{OutTradeNo: "o_20240102_1", TotalAmount: 8888, Subject: "测试商品"})
	if err != nil {
		log.Fatal(err)
	}
	// Serve form as the body of an HTML page: it posts itself to the gateway.
	fmt.Println(strings.HasPrefix(form, `<form name="punchout_form" method="post" action="https://openapi-sandbox.dl.alipaydev.com/gateway.do?`))
	fmt.Println(strings.Contains(form, `name="biz_content" value="{&#34;out_trade_no&#34;:&#34;o_20240102_1&#34;`))
	// Output:
	// true
	// true
}

func ExampleClient_TradePrecreate() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.precreate": `{"code":"10000","msg":"Success","out_trade_no":"o_20240102_2","qr_code":"https://qr.alipay.com/bax03431ljhokirwl38f00a7"}`,
	})
	defer stop()
	r, err := c.TradePrecreate(context.Background(), alipay.TradePrecreateRequest{
		OutTradeNo:  "o_20240102_2",
		TotalAmount: alipay.MustAmount("6.60"),
		Subject:     "扫码点单",
		ProductCode: alipay.ProductCodeQRCode,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Show r.QRCode as a QR code; the buyer scans it with Alipay.
	fmt.Println(r.OutTradeNo, r.QRCode)
	// Output: o_20240102_2 https://qr.alipay.com/bax03431ljhokirwl38f00a7
}

func ExampleClient_TradeCreate() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.create": `{"code":"10000","msg":"Success","out_trade_no":"o_20240102_3","trade_no":"2024010222001400000000000003"}`,
	})
	defer stop()
	r, err := c.TradeCreate(context.Background(), alipay.TradeCreateRequest{
		OutTradeNo:  "o_20240102_3",
		TotalAmount: alipay.MustAmount("1.00"),
		Subject:     "小程序下单",
		BuyerID:     "2088102177846880",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Hand r.TradeNo to the mini program, which opens the payment.
	fmt.Println(r.TradeNo)
	// Output: 2024010222001400000000000003
}

func ExampleClient_TradeRefund() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.refund": `{"code":"10000","msg":"Success","buyer_logon_id":"wei***@qq.com","fund_change":"Y","gmt_refund_pay":"2024-01-02 15:10:00","out_trade_no":"o_20240102_1","refund_fee":"10.00","send_back_fee":"10.00","trade_no":"2024010222001400000000000001"}`,
	})
	defer stop()
	// Store the refund with its out_request_no first, then call; repeat
	// with the same out_request_no until the outcome is known.
	req := alipay.TradeRefundRequest{OutTradeNo: "o_20240102_1", RefundAmount: alipay.MustAmount("10.00"), OutRequestNo: "o_20240102_1-r1", RefundReason: "缺货"}
	r, err := c.TradeRefund(context.Background(), req)
	switch {
	case alipay.IsUnknownOutcome(err):
		fmt.Println("unknown: repeat the same request later")
	case err != nil:
		fmt.Println("refused:", err)
	case r.FundChange == "Y":
		fmt.Println("refunded", req.RefundAmount, "of the trade's", r.RefundFee, "at", alipay.FormatTime(r.GmtRefundPay))
	default:
		fmt.Println("a repeat: confirm with TradeFastPayRefundQuery")
	}
	// Output: refunded 10.00 of the trade's 10.00 at 2024-01-02 15:10:00
}

func ExampleClient_TradeFastPayRefundQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.fastpay.refund.query": `{"code":"10000","msg":"Success","out_request_no":"o_20240102_1-r1","out_trade_no":"o_20240102_1","refund_amount":"10.00","refund_status":"REFUND_SUCCESS","total_amount":"88.88","trade_no":"2024010222001400000000000001"}`,
	})
	defer stop()
	r, err := c.TradeFastPayRefundQuery(context.Background(), alipay.TradeFastPayRefundQueryRequest{OutTradeNo: "o_20240102_1", OutRequestNo: "o_20240102_1-r1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.OutRequestNo, r.RefundAmount, r.Refunded())
	// Output: o_20240102_1-r1 10.00 true
}

func ExampleClient_TradeClose() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.close": `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR","sub_msg":"交易状态不合法"}`,
	})
	defer stop()
	_, err := c.TradeClose(context.Background(), alipay.TradeCloseRequest{OutTradeNo: "o_20240102_1"})
	switch {
	case err == nil:
		fmt.Println("closed: the buyer can no longer pay")
	case alipay.HasSubCode(err, alipay.SubCodeTradeStatusError):
		fmt.Println("not closed: the buyer has paid; query the trade")
	default:
		fmt.Println(alipay.OutcomeOf(err), err)
	}
	// Output: not closed: the buyer has paid; query the trade
}

func ExampleClient_TradeCancel() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.cancel": `{"code":"10000","msg":"Success","action":"refund","out_trade_no":"o_20240102_4","retry_flag":"N","trade_no":"2024010222001400000000000004"}`,
	})
	defer stop()
	r, err := c.TradeCancel(context.Background(), alipay.TradeCancelRequest{OutTradeNo: "o_20240102_4"})
	if err != nil {
		log.Fatal(err)
	}
	switch r.Action {
	case alipay.CancelActionClose:
		fmt.Println("the buyer had not paid: trade closed")
	case alipay.CancelActionRefund:
		fmt.Println("the buyer had paid: refunded in full")
	}
	// Output: the buyer had paid: refunded in full
}

func ExampleClient_BillDownloadURLQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.data.dataservice.bill.downloadurl.query": `{"code":"10000","msg":"Success","bill_download_url":"https://dwbillcenter.alipay.com/downloadBillFile.resource?bizType=trade&fileType=csv.zip&day=2024-01-01"}`,
	})
	defer stop()
	r, err := c.BillDownloadURLQuery(context.Background(), alipay.BillDownloadURLQueryRequest{BillType: "trade", BillDate: "2024-01-01"})
	if alipay.HasSubCode(err, alipay.SubCodeBillNotExist) {
		fmt.Println("no bill for that day yet")
		return
	} else if err != nil {
		log.Fatal(err)
	}
	// Download the zip within 30 seconds.
	u, _ := url.Parse(r.BillDownloadURL)
	fmt.Println(u.Host, u.Query().Get("day"))
	// Output: dwbillcenter.alipay.com 2024-01-01
}

func ExampleClient_Call() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.user.info.share": `{"code":"10000","msg":"Success","user_id":"2088102177846880","nick_name":"沙箱买家"}`,
	})
	defer stop()
	var out struct {
		UserID   string `json:"user_id"`
		NickName string `json:"nick_name"`
	}
	_, err := c.Call(context.Background(), alipay.CallRequest{Method: "alipay.user.info.share", Params: map[string]string{"auth_token": "authusrB…"}}, &out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.UserID, out.NickName)
	// Output: 2088102177846880 沙箱买家
}

// Config.OnCall receives every call's method, outcome and duration, here
// printed; a shop counts them in its metrics.
func ExampleCallReport() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.query": `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`,
		"alipay.trade.close": `{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"}`,
	}, func(cfg *alipay.Config) {
		cfg.OnCall = func(r alipay.CallReport) { fmt.Println(r.Method, r.API, r.Outcome, r.Duration > 0) }
	})
	defer stop()
	ctx := context.Background()
	_, _ = c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "o_1"})
	_, _ = c.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "o_1"})
	_, _ = c.TradeCancel(ctx, alipay.TradeCancelRequest{}) // refused before sending: not a call
	// Output:
	// alipay.trade.query v2 business_error true
	// alipay.trade.close v2 unknown true
}

// DownloadAlipayCert runs in certificate mode when an answer names an
// Alipay certificate the client does not know yet.
func ExampleClient_DownloadAlipayCert() {
	appKey, _ := alipay.LoadPrivateKeyFile("app_private_key.pem")
	certs, err := alipay.LoadCertificates("appCertPublicKey_2021000000000000.crt", "alipayCertPublicKey_RSA2.crt", "alipayRootCert.crt")
	if err != nil {
		log.Fatal(err)
	}
	c, err := alipay.New(alipay.Config{AppID: "2021000000000000", PrivateKey: appKey, Certificates: certs})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "o_1"})
	if errors.Is(err, alipay.ErrUnknownCertSN) {
		raw := alipay.ResponseOf(err)
		answer, _ := alipay.ExtractResponse(raw.Body, raw.Method)
		pem, err := c.DownloadAlipayCert(ctx, answer.CertSN)
		if err != nil {
			log.Fatal(err) // not issued under the root certificates: never trust it
		}
		if _, err := certs.AddAlipayCert(pem); err != nil {
			log.Fatal(err)
		}
		// Store pem next to the other certificates, and create the client
		// again with certs.
	}
}

// A counter charges the buyer's payment code. Here the buyer must confirm
// in the Alipay app (10003) and does so before the first query; the
// example's clock does not really wait.
func ExampleClient_FaceToFacePay() {
	now := time.Date(2024, 1, 2, 7, 4, 5, 0, time.UTC)
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.pay":   `{"code":"10003","msg":" order success pay inprocess","buyer_logon_id":"abc***@sandbox.com","out_trade_no":"o_20240102_5","total_amount":"2500.00","trade_no":"2024010222001400000000000005","receipt_amount":"0.00"}`,
		"alipay.trade.query": `{"code":"10000","msg":"Success","buyer_logon_id":"abc***@sandbox.com","out_trade_no":"o_20240102_5","send_pay_date":"2024-01-02 15:04:10","total_amount":"2500.00","trade_no":"2024010222001400000000000005","trade_status":"TRADE_SUCCESS"}`,
	}, func(cfg *alipay.Config) {
		cfg.Now = func() time.Time { return now }
		cfg.Sleep = func(ctx context.Context, d time.Duration) error { now = now.Add(d); return nil }
	})
	defer stop()
	res, err := c.FaceToFacePay(context.Background(), alipay.FaceToFacePayRequest{TradePayRequest: alipay.TradePayRequest{
		OutTradeNo:  "o_20240102_5",
		TotalAmount: alipay.MustAmount("2500.00"),
		Subject:     "柜台收款",
		AuthCode:    "283654875600000005", // as the scanner typed it
	}})
	switch {
	case alipay.IsUnknownOutcome(err):
		fmt.Println("unknown: query or cancel o_20240102_5 later")
	case err != nil:
		fmt.Println("refused, nothing charged:", err)
	case res.Status == alipay.FaceToFaceStatusPaid:
		fmt.Println("收款成功", res.TotalAmount, res.TradeNo, "waited for the buyer:", res.Pay.WaitingForBuyer)
	case res.Status == alipay.FaceToFaceStatusCancelled:
		fmt.Println("cancelled:", res.Cancel.Action)
	default:
		fmt.Println("not paid, nothing charged")
	}
	// Output: 收款成功 2500.00 2024010222001400000000000005 waited for the buyer: true
}

func ExampleClient_TradePay() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.pay": `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.PAYMENT_AUTH_CODE_INVALID","sub_msg":"支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款"}`,
	})
	defer stop()
	_, err := c.TradePay(context.Background(), alipay.TradePayRequest{OutTradeNo: "o_20240102_6", TotalAmount: 1200, Subject: "柜台收款",
		AuthCode: "283654875600000006", Scene: alipay.SceneBarCode})
	var e *alipay.Error
	if errors.As(err, &e) && alipay.OutcomeOf(err) == alipay.OutcomeBusinessError {
		fmt.Println(e.SubCode) // show e.SubMsg to the cashier: the buyer refreshes the code
	}
	// Output: ACQ.PAYMENT_AUTH_CODE_INVALID
}

func ExampleClient_TradeAppPayOrder() {
	c := exampleClient(alipay.ProductionGateway)
	order, err := c.TradeAppPayOrder(alipay.TradeAppPayRequest{OutTradeNo: "o_20240102_7", TotalAmount: 990, Subject: "会员一个月"})
	if err != nil {
		log.Fatal(err)
	}
	// Send order to the merchant's app, which passes it unchanged to the
	// Alipay SDK (payV2 / pay).
	q, _ := url.ParseQuery(order)
	fmt.Println(q.Get("method"), q.Get("notify_url"))
	fmt.Println(q.Get("biz_content"))
	fmt.Println(q.Get("sign") != "")
	// Output:
	// alipay.trade.app.pay https://shop.example/alipay/notify
	// {"out_trade_no":"o_20240102_7","total_amount":"9.90","subject":"会员一个月","product_code":"QUICK_MSECURITY_PAY"}
	// true
}

func ExampleClient_VerifyTradeAppPayResult() {
	c := exampleClient(alipay.ProductionGateway)
	// What the Alipay app handed the merchant's app (resultStatus 9000),
	// sent on to the server unchanged; signed here by the key that plays
	// Alipay.
	alipayKey, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	node := `{"code":"10000","msg":"Success","app_id":"9021000122689420","auth_app_id":"9021000122689420","charset":"utf-8","timestamp":"2024-01-02 15:05:00","out_trade_no":"o_20240102_7","total_amount":"9.90","trade_no":"2024010222001400000000000007","seller_id":"2088011354228910"}`
	sign, _ := alipay.Sign(alipayKey, alipay.SignTypeRSA2, []byte(node))
	result := `{"alipay_trade_app_pay_response":` + node + `,"sign":"` + sign + `","sign_type":"RSA2"}`

	r, err := c.VerifyTradeAppPayResult([]byte(result))
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Check(alipay.Expect{AppID: "9021000122689420", SellerID: "2088011354228910", TotalAmount: 990}); err != nil {
		log.Fatal(err)
	}
	// A hint, like a return: wait for the notification or query the trade.
	fmt.Println(r.OutTradeNo, r.TradeNo, r.TotalAmount)
	// Output: o_20240102_7 2024010222001400000000000007 9.90
}
