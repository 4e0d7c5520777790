package sandbox

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"alishop/alipay"
)

// Requests built byte for byte the way each client (Java and PHP SDKs,
// gopay, smartwalle, a hand-written form) sends them.

func sortedKeys(p map[string]string) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// javaSign signs with the Java SDK rule (empty and blank values skipped).
func javaSign(t *testing.T, key *rsa.PrivateKey, st alipay.SignType, p map[string]string) string {
	sig, err := alipay.Sign(key, st, alipay.SignContent(p, alipay.RuleV2))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// javaEncode is java.net.URLEncoder.encode(s, "UTF-8").
func javaEncode(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "%2A", "*"), "~", "%7E")
}

func javaQuery(p map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(p) {
		parts = append(parts, k+"="+javaEncode(p[k]))
	}
	return strings.Join(parts, "&")
}

func protocolParams(method string) map[string]string {
	return map[string]string{
		"app_id": testAppID, "method": method, "format": "json", "charset": "UTF-8",
		"sign_type": "RSA2", "timestamp": alipay.FormatTime(t0), "version": "1.0",
	}
}

// javaRequest: protocol params in the query, biz_content in the body.
func (e *testEnv) javaRequest(t *testing.T, method, biz string, key *rsa.PrivateKey, tamper func(p map[string]string)) *http.Request {
	p := protocolParams(method)
	p["alipay_sdk"] = "alipay-sdk-java-4.38.0.ALL"
	p["notify_url"] = "" // empty: dropped from the string-to-sign and from the request
	all := map[string]string{"biz_content": biz}
	for k, v := range p {
		all[k] = v
	}
	sig := javaSign(t, key, alipay.SignTypeRSA2, all)
	if tamper != nil {
		tamper(all)
	}
	q := map[string]string{"sign": sig}
	for k, v := range all {
		if k != "biz_content" && v != "" {
			q[k] = v
		}
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/gateway.do?"+javaQuery(q), strings.NewReader("biz_content="+javaEncode(all["biz_content"])))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("User-Agent", "aop-sdk-java")
	return req
}

func TestInteropJavaSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("j1", alipay.MustAmount("1.00"))
	n, body, signed := e.rawCall("alipay.trade.query", e.javaRequest(t, "alipay.trade.query", `{"out_trade_no":"j1"}`, appKey, nil))
	if !signed || n["code"] != "10000" || n["trade_status"] != "TRADE_SUCCESS" {
		t.Fatalf("Java SDK query: %s (signed %v)", body, signed)
	}
	if !strings.HasPrefix(body, `{"alipay_trade_query_response":{"code":"10000","msg":"Success",`) {
		t.Fatalf("response layout: %s", body)
	}
}

func TestInteropGopay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// gopay: every parameter in the body, POSTed to gateway.do?charset=utf-8,
	// so charset arrives twice; format JSON.
	p := map[string]string{
		"app_id": testAppID, "method": "alipay.trade.precreate", "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": alipay.FormatTime(t0), "version": "1.0", "notify_url": e.m.srv.URL + "/notify",
		"biz_content": `{"out_trade_no":"g1","subject":"gopay 商品","total_amount":"0.01"}`,
	}
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/gateway.do?charset=utf-8", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	n, body, signed := e.rawCall("alipay.trade.precreate", req)
	if !signed || n["code"] != "10000" || !strings.Contains(body, `"qr_code":"http:\/\/127.0.0.1`) {
		t.Fatalf("gopay precreate: %s", body)
	}
}

func TestInteropPHPForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// PHP AopClient::pageExecute: a form whose action is gateway.do?charset=UTF-8
	// and whose hidden inputs carry every parameter, sign included. PHP's
	// json_encode escapes non-ASCII and "/".
	p := protocolParams("alipay.trade.page.pay")
	p["alipay_sdk"] = "alipay-sdk-PHP-4.20.0"
	p["return_url"] = e.m.srv.URL + "/return"
	p["notify_url"] = e.m.srv.URL + "/notify"
	p["biz_content"] = `{"out_trade_no":"php1","total_amount":"0.01","subject":"\u6d4b\u8bd5\/\u5546\u54c1","product_code":"FAST_INSTANT_TRADE_PAY"}`
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/gateway.do?charset=UTF-8", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("PHP form: HTTP %d %s", resp.StatusCode, decodeGBK(body))
	}
	if v, ok := e.sb.Trade(testAppID, "php1"); !ok || v.Subject != "测试/商品" || v.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
		t.Fatalf("PHP trade: %+v", v)
	}
}

func TestInteropSmartwalleGetURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// smartwalle TradePagePay: every parameter, sign included, in one GET URL
	// (url.Values.Encode); biz_content from encoding/json (HTML-escaped).
	biz, _ := json.Marshal(map[string]string{"out_trade_no": "sw1", "total_amount": "18.80", "subject": "<书>", "product_code": "FAST_INSTANT_TRADE_PAY"})
	p := map[string]string{
		"app_id": testAppID, "method": "alipay.trade.page.pay", "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": alipay.FormatTime(t0), "version": "1.0", "return_url": e.m.srv.URL + "/return", "notify_url": e.m.srv.URL + "/notify",
		"biz_content": string(biz),
	}
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	resp, err := e.http.Get(e.srv.URL + "/gateway.do?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("smartwalle URL: HTTP %d", resp.StatusCode)
	}
	if tv, ok := e.sb.Trade(testAppID, "sw1"); !ok || tv.Subject != "<书>" {
		t.Fatalf("smartwalle trade: %+v", tv)
	}
}

// payPyURL builds the URL of the tutorial's pay.py: json.dumps with
// separators=(',', ':') (ASCII-only: \u escapes), notify_url and return_url
// set to " ", every value signed raw (nothing skipped), then quote_plus.
func payPyURL(t *testing.T, gateway string, key *rsa.PrivateKey, outTradeNo string) string {
	biz := `{"subject":"\u6d4b\u8bd5\u5546\u54c1","out_trade_no":"` + outTradeNo + `","total_amount":369.0,"product_code":"FAST_INSTANT_TRADE_PAY"}`
	p := map[string]string{
		"app_id": testAppID, "method": "alipay.trade.page.pay", "charset": "utf-8", "sign_type": "RSA2",
		"timestamp": "2026-03-10 03:00:00", // datetime.now() on a UTC server
		"version":   "1.0", "biz_content": biz, "notify_url": " ", "return_url": " ",
	}
	var unsigned, quoted []string
	for _, k := range sortedKeys(p) {
		unsigned = append(unsigned, k+"="+p[k])
		quoted = append(quoted, k+"="+url.QueryEscape(p[k])) // quote_plus
	}
	sig, err := alipay.Sign(key, alipay.SignTypeRSA2, []byte(strings.Join(unsigned, "&")))
	if err != nil {
		t.Fatal(err)
	}
	return gateway + "?" + strings.Join(quoted, "&") + "&sign=" + url.QueryEscape(sig)
}

func TestInteropTutorialPayPy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := payPyURL(t, e.srv.URL+"/gateway.do", appKey, "fc4252b0-b0a4-480a-bd83-aaaca3745378")
	if !strings.Contains(u, "notify_url=+&") {
		t.Fatalf("not the pay.py shape: %s", u)
	}
	resp, err := e.http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay.py URL: HTTP %d %s", resp.StatusCode, decodeGBK(body))
	}
	v, ok := e.sb.Trade(testAppID, "fc4252b0-b0a4-480a-bd83-aaaca3745378")
	if !ok || v.Subject != "测试商品" || v.TotalAmount != alipay.MustAmount("369.00") {
		t.Fatalf("pay.py trade: %+v", v)
	}
	// " " is no URL: paying neither redirects nor notifies.
	ret, err := e.sb.Pay(testAppID, v.OutTradeNo, "")
	if err != nil || ret != "" {
		t.Fatalf("pay: %q %v", ret, err)
	}
	e.deliver()
	if len(e.sb.Notifications()) != 0 {
		t.Fatal("a notification was sent to \" \"")
	}
}

func TestGatewayRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("n1", alipay.MustAmount("1.00"))
	biz := `{"out_trade_no":"n1"}`
	cases := []struct {
		name          string
		req           *http.Request
		code, subCode string
		signed        bool
		subMsg        string
	}{
		{"wrong key", e.javaRequest(t, "alipay.trade.query", biz, otherKey, nil), "40002", "isv.invalid-signature", true, "网关生成的验签字符串为：alipay_sdk=alipay-sdk-java-4.38.0.ALL&amp;app_id=" + testAppID + "&amp;biz_content=" + biz},
		{"tampered biz_content", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { p["biz_content"] = `{"out_trade_no":"n2"}` }), "40002", "isv.invalid-signature", true, `biz_content={"out_trade_no":"n2"}`},
		{"stale sign_type", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { p["sign_type"] = "RSA" }), "40003", "isv.missing-signature-config", true, "未配置对应签名算法的公钥"},
		{"unknown sign_type", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { p["sign_type"] = "MD5" }), "40002", "isv.invalid-signature-type", true, "无效签名类型"},
		{"unknown app", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { p["app_id"] = "2021999999999999" }), "40002", "isv.invalid-app-id", false, "无效的AppID参数"},
		{"unknown app before missing sign", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { p["app_id"] = "2021999999999999"; p["timestamp"] = "" }), "40002", "isv.invalid-app-id", false, ""},
		{"missing timestamp", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { delete(p, "timestamp") }), "40001", "isv.missing-timestamp", true, "缺少时间戳参数"},
		{"bad timestamp", e.javaRequest(t, "alipay.trade.query", biz, appKey, func(p map[string]string) { p["timestamp"] = "2026/03/10 10:00" }), "40002", "isv.invalid-timestamp", true, "非法的时间戳参数"},
		{"unknown method", e.javaRequest(t, "alipay.trade.nope", biz, appKey, nil), "40002", "isv.invalid-method", true, "不存在的方法名"},
		{"bad biz_content", e.javaRequest(t, "alipay.trade.query", `{"out_trade_no":`, appKey, nil), "40002", "isv.invalid-parameter", true, ""},
	}
	for _, c := range cases {
		method := c.req.URL.Query().Get("method")
		n, body, signed := e.rawCall(method, c.req)
		if n["code"] != c.code || n["sub_code"] != c.subCode || signed != c.signed || !strings.Contains(n["sub_msg"].(string), c.subMsg) {
			t.Errorf("%s: %s (signed %v)", c.name, body, signed)
		}
		if !c.signed && strings.Contains(body, `"sign"`) {
			t.Errorf("%s: the unknown-app error is signed: %s", c.name, body)
		}
	}
	// Missing sign.
	req := e.javaRequest(t, "alipay.trade.query", biz, appKey, nil)
	q := req.URL.Query()
	q.Del("sign")
	req.URL.RawQuery = q.Encode()
	if n, body, signed := e.rawCall("alipay.trade.query", req); n["sub_code"] != "isv.missing-signature" || !signed {
		t.Errorf("missing sign: %s", body)
	}
	// Signed with SHA1 while sign_type says RSA2: the type-mismatch message.
	p := protocolParams("alipay.trade.query")
	p["biz_content"] = biz
	sha1Sig := javaSign(t, appKey, alipay.SignTypeRSA, p)
	p["sign"] = sha1Sig
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	req, _ = http.NewRequest("POST", e.srv.URL+"/gateway.do", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if n, body, _ := e.rawCall("alipay.trade.query", req); !strings.Contains(n["sub_msg"].(string), "sign值与sign_type参数指定的签名类型不一致") {
		t.Errorf("sign type mismatch: %s", body)
	}
	// Our client reports the invalid-app-id error as unverified.
	c := e.newClient("2021999999999999", appKey, alipay.SignTypeRSA2)
	_, err := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "n1"})
	var ae *alipay.Error
	if !asError(err, &ae) || ae.SubCode != "isv.invalid-app-id" || !ae.Unverified {
		t.Errorf("client with an unknown app: %v", err)
	}
	// A bad page-pay request: the GBK error page.
	u := payPyURL(t, e.srv.URL+"/gateway.do", otherKey, "pp1")
	resp, _ := e.http.Get(u)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "GBK") || !strings.Contains(decodeGBK(page), "错误代码 <b>invalid-signature</b>") {
		t.Errorf("page pay with a bad signature: %d %s", resp.StatusCode, decodeGBK(page))
	}
}

func TestGBKCharset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	subject := "中文商品"
	gbkSubject := string(encodeCharset([]byte(subject), "gbk"))
	p := protocolParams("alipay.trade.precreate")
	p["charset"] = "GBK"
	p["biz_content"] = `{"out_trade_no":"gbk1","total_amount":"2.00","subject":"` + gbkSubject + `"}`
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p) // over the GBK bytes
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/gateway.do?charset=GBK", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=GBK")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Content-Type"), "GBK") {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	raw, err := alipay.ExtractResponse(body, "alipay.trade.precreate")
	if err != nil || alipay.Verify(e.sb.PublicKey(), alipay.SignTypeRSA2, raw.Content, raw.Sign) != nil {
		t.Fatalf("GBK response does not verify over its bytes: %v %s", err, body)
	}
	if tv, ok := e.sb.Trade(testAppID, "gbk1"); !ok || tv.Subject != subject {
		t.Fatalf("GBK subject: %+v", tv)
	}
}

func TestRSA1App(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sb.RegisterAppWith("2016000000000001", &rsa1Key.PublicKey, AppOptions{SignType: alipay.SignTypeRSA}); err != nil {
		t.Fatal(err)
	}
	c := e.newClient("2016000000000001", rsa1Key, alipay.SignTypeRSA)
	r, err := c.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "old1", TotalAmount: alipay.MustAmount("1.00"), Subject: "x"})
	if err != nil || r.QRCode == "" {
		t.Fatalf("RSA app precreate: %+v %v", r, err)
	}
	if _, err := e.sb.Pay("2016000000000001", "old1", ""); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	got := e.m.notifications()
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	if n, err := c.VerifyNotification([]byte(got[0])); err != nil || n.SignType != "RSA" {
		t.Fatalf("RSA notification: %+v %v", n, err)
	}
}

func asError(err error, target **alipay.Error) bool {
	for err != nil {
		if e, ok := err.(*alipay.Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	keys(t)
	sb, err := New(Config{AlipayKey: alipayKey})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb))
	srv := httptestServer(t, mux)
	if _, err := sb.RegisterApp(testAppID, &appKey.PublicKey); err != nil {
		t.Fatal(err)
	}
	c, _ := alipay.New(alipay.Config{AppID: testAppID, PrivateKey: appKey, AlipayPublicKey: sb.PublicKey(), Gateway: srv.URL + "/sandbox/gateway.do"})
	r, err := c.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "m1", TotalAmount: 100, Subject: "x"})
	if err != nil || !strings.HasPrefix(r.QRCode, srv.URL+"/sandbox/qr/") {
		t.Fatalf("qr_code under a prefix: %+v %v", r, err)
	}
	resp, err := http.Get(r.QRCode)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `href="../static/sandbox.css"`) {
		t.Fatalf("wallet page: %s", page)
	}
	resp, _ = http.Get(srv.URL + "/sandbox/static/sandbox.css")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("css: %d", resp.StatusCode)
	}
	// A method name that is not a name answers in error_response.
	p := protocolParams(`x","y":{"`)
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	resp, _ = http.PostForm(srv.URL+"/sandbox/gateway.do", v)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-method"`) {
		t.Fatalf("odd method: %s", body)
	}
}

func TestGBKNotificationSignedOverGBKBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := protocolParams("alipay.trade.precreate")
	p["charset"] = "GBK"
	p["notify_url"] = e.m.srv.URL + "/notify"
	p["biz_content"] = `{"out_trade_no":"gbk2","total_amount":"2.00","subject":"` + string(encodeCharset([]byte("中文"), "gbk")) + `"}`
	p["sign"] = javaSign(t, appKey, alipay.SignTypeRSA2, p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	resp, err := http.PostForm(e.srv.URL+"/gateway.do?charset=GBK", v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := e.sb.Pay(testAppID, "gbk2", ""); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	got := e.m.notifications()
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	raw, err := url.ParseQuery(got[0]) // values stay GBK bytes
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k, vs := range raw {
		m[k] = vs[0]
	}
	if m["charset"] != "gbk" || decodeCharset(m["subject"], "gbk") != "中文" {
		t.Fatalf("charset %q subject %q", m["charset"], decodeCharset(m["subject"], "gbk"))
	}
	if err := alipay.Verify(e.sb.PublicKey(), alipay.SignTypeRSA2, alipay.SignContent(m, alipay.RuleV1), m["sign"]); err != nil {
		t.Fatalf("GBK notification: %v", err)
	}
}

// docs/SANDBOX.md: gateway rules match on app_id and method. A latency rule
// scoped to another app neither slows this app's calls nor is used up by them.
func TestFaultLatencyHonoursAppID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("la1", alipay.MustAmount("1.00"))
	e.addFault(`{"kind":"latency","app_id":"9021000999999999","delay":"1s","count":1}`)
	if _, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "la1"}); err != nil {
		t.Fatal(err)
	}
	plan := e.sb.Faults()
	if len(plan) != 1 || plan[0].Used != 0 {
		t.Fatalf("a latency rule of another app was applied: %+v", plan)
	}
}

// The gateway bounds a request body to 1 MiB whatever its Content-Type: a
// multipart upload must not spool an unbounded file to disk.
func TestGatewayBoundsMultipartBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("app_id", testAppID)
	_ = mw.WriteField("method", "alipay.trade.query")
	fw, _ := mw.CreateFormFile("file", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), maxGatewayBody+1024))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/gateway.do", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	n, raw, _ := e.rawCall("alipay.trade.query", req)
	// Refused unread: nothing of the body (not even app_id) is taken.
	if sc := n["sub_code"]; sc != "isv.invalid-parameter" && sc != "isv.missing-app-id" {
		t.Fatalf("a %d-byte multipart body was accepted: %s", maxGatewayBody+1024, raw)
	}
}
