package alipay

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// apiCase is one typed API call: how to make it, what the gateway must
// receive, a success node (without code/msg) and a check of the result.
type apiCase struct {
	name    string
	method  string
	call    func(ctx context.Context, c *Client) (any, error)
	wantBiz map[string]any    // exact biz_content
	wantP   map[string]string // protocol parameters that must be present
	success string            // fields of the success node after code and msg
	check   func(t *testing.T, res any)
}

func apiCases() []apiCase {
	return []apiCase{
		{
			name: "Precreate", method: "alipay.trade.precreate",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.TradePrecreate(ctx, TradePrecreateRequest{OutTradeNo: "o_1", TotalAmount: 1050, Subject: "可乐 x2", ProductCode: ProductCodeQRCode})
			},
			wantBiz: map[string]any{"out_trade_no": "o_1", "total_amount": "10.50", "subject": "可乐 x2", "product_code": "QR_CODE_OFFLINE"},
			wantP:   map[string]string{"notify_url": "https://shop.example/alipay/notify"},
			success: `"out_trade_no":"o_1","qr_code":"https:\/\/qr.alipay.com\/bax01"`,
			check: func(t *testing.T, res any) {
				r := res.(*TradePrecreateResult)
				if r.QRCode != "https://qr.alipay.com/bax01" || r.OutTradeNo != "o_1" {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "Query", method: "alipay.trade.query",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.TradeQuery(ctx, TradeQueryRequest{OutTradeNo: "o_1"})
			},
			wantBiz: map[string]any{"out_trade_no": "o_1"},
			success: `"buyer_logon_id":"ljf***@sandbox.com","buyer_pay_amount":"0.00","out_trade_no":"o_1","send_pay_date":"2024-01-02 15:05:00","total_amount":"10.50","trade_no":"2024010222001400000000000001","trade_status":"TRADE_SUCCESS"`,
			check: func(t *testing.T, res any) {
				r := res.(*TradeQueryResult)
				if r.TotalAmount != 1050 || r.TradeStatus != TradeStatusSuccess || !r.TradeStatus.Paid() || r.TradeNo == "" {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "Refund", method: "alipay.trade.refund",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.TradeRefund(ctx, TradeRefundRequest{OutTradeNo: "o_1", RefundAmount: 250, OutRequestNo: "r_1", RefundReason: "缺货"})
			},
			wantBiz: map[string]any{"out_trade_no": "o_1", "refund_amount": "2.50", "out_request_no": "r_1", "refund_reason": "缺货"},
			success: `"buyer_logon_id":"ljf***@sandbox.com","fund_change":"Y","gmt_refund_pay":"2024-01-02 15:06:00","out_trade_no":"o_1","refund_fee":"2.50","send_back_fee":"0.00","trade_no":"2024010222001400000000000001"`,
			check: func(t *testing.T, res any) {
				r := res.(*TradeRefundResult)
				if r.RefundFee != 250 || r.FundChange != "Y" {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "RefundQuery", method: "alipay.trade.fastpay.refund.query",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.TradeFastPayRefundQuery(ctx, TradeFastPayRefundQueryRequest{TradeNo: "2024010222001400000000000001", OutRequestNo: "r_1"})
			},
			wantBiz: map[string]any{"trade_no": "2024010222001400000000000001", "out_request_no": "r_1", "query_options": []any{"gmt_refund_pay"}},
			success: `"out_request_no":"r_1","out_trade_no":"o_1","refund_amount":"2.50","refund_status":"REFUND_SUCCESS","total_amount":"10.50","trade_no":"2024010222001400000000000001"`,
			check: func(t *testing.T, res any) {
				r := res.(*TradeFastPayRefundQueryResult)
				if !r.Refunded() || r.RefundAmount != 250 || r.TotalAmount != 1050 {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "Close", method: "alipay.trade.close",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.TradeClose(ctx, TradeCloseRequest{OutTradeNo: "o_2"})
			},
			wantBiz: map[string]any{"out_trade_no": "o_2"},
			success: `"out_trade_no":"o_2","trade_no":"2024010222001400000000000002"`,
			check: func(t *testing.T, res any) {
				if r := res.(*TradeCloseResult); r.OutTradeNo != "o_2" {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "Cancel", method: "alipay.trade.cancel",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.TradeCancel(ctx, TradeCancelRequest{OutTradeNo: "o_3"})
			},
			wantBiz: map[string]any{"out_trade_no": "o_3"},
			success: `"action":"close","out_trade_no":"o_3","retry_flag":"N","trade_no":"2024010222001400000000000003"`,
			check: func(t *testing.T, res any) {
				if r := res.(*TradeCancelResult); r.Action != "close" || r.RetryFlag != "N" {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "BillDownloadURL", method: "alipay.data.dataservice.bill.downloadurl.query",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.BillDownloadURLQuery(ctx, BillDownloadURLQueryRequest{BillType: "trade", BillDate: "2024-01-01"})
			},
			wantBiz: map[string]any{"bill_type": "trade", "bill_date": "2024-01-01"},
			success: `"bill_download_url":"http:\/\/dwbillcenter.alipay.com\/downloadBillFile.resource?bizType=trade&fileType=csv.zip"`,
			check: func(t *testing.T, res any) {
				if r := res.(*BillDownloadURLQueryResult); !strings.HasPrefix(r.BillDownloadURL, "http://dwbillcenter.alipay.com/") {
					t.Errorf("result %+v", r)
				}
			},
		},
		{
			name: "Call", method: "alipay.user.info.share",
			call: func(ctx context.Context, c *Client) (any, error) {
				var out struct {
					UserID string `json:"user_id"`
				}
				_, err := c.Call(ctx, CallRequest{Method: "alipay.user.info.share", Params: map[string]string{"auth_token": "tok"}, Biz: map[string]any{"x": "a&b=c"}}, &out)
				return out.UserID, err
			},
			wantBiz: map[string]any{"x": "a&b=c"},
			wantP:   map[string]string{"auth_token": "tok"},
			success: `"user_id":"2088102104794936"`,
			check: func(t *testing.T, res any) {
				if res.(string) != "2088102104794936" {
					t.Errorf("result %v", res)
				}
			},
		},
	}
}

func checkReceived(t *testing.T, got gotRequest, tc apiCase) {
	t.Helper()
	if got.HTTPMethod != http.MethodPost {
		t.Errorf("HTTP method %s", got.HTTPMethod)
	}
	if got.Params["method"] != tc.method {
		t.Errorf("method %q, want %q", got.Params["method"], tc.method)
	}
	if got.Query.Has("biz_content") {
		t.Errorf("biz_content in the URL query")
	}
	if fmt.Sprint(got.Biz) != fmt.Sprint(tc.wantBiz) {
		t.Errorf("biz_content %v, want %v", got.Biz, tc.wantBiz)
	}
	for k, v := range tc.wantP {
		if got.Params[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Params[k], v)
		}
	}
	if got.Params["timestamp"] != "2024-01-02 15:04:05" {
		t.Errorf("timestamp %q, want Beijing time 2024-01-02 15:04:05", got.Params["timestamp"])
	}
}

// TestAPICalls runs every typed call against the fake gateway with each kind
// of answer Alipay (or a forger) can give.
func TestAPICalls(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	c := g.client(t)
	alipayKey := g.key
	for _, tc := range apiCases() {
		node := ResponseNode(tc.method)
		okContent := `{"code":"10000","msg":"Success",` + tc.success + `}`
		scenarios := []struct {
			name  string
			reply func(gotRequest) (int, string)
			check func(t *testing.T, res any, err error)
		}{
			{"success", func(gotRequest) (int, string) {
				return 200, signedBody(t, alipayKey, node, okContent)
			}, func(t *testing.T, res any, err error) {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, res)
			}},
			{"business_error", func(gotRequest) (int, string) {
				return 200, signedBody(t, alipayKey, node, `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在","out_trade_no":"o_1"}`)
			}, func(t *testing.T, res any, err error) {
				var e *Error
				if !errors.As(err, &e) || e.Unverified || e.Code != "40004" || e.SubMsg != "交易不存在" || e.Method != tc.method {
					t.Fatalf("err = %#v", err)
				}
				if !IsTradeNotExist(err) || IsUnknownOutcome(err) {
					t.Fatalf("classification wrong for %v", err)
				}
			}},
			{"unsigned_error", func(gotRequest) (int, string) {
				return 200, `{"` + node + `":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}}`
			}, func(t *testing.T, res any, err error) {
				var e *Error
				if !errors.As(err, &e) || !e.Unverified || e.SubCode != "isv.invalid-app-id" || !errors.Is(err, ErrUnsigned) {
					t.Fatalf("err = %#v", err)
				}
				if HasSubCode(err, "isv.invalid-app-id") {
					t.Fatal("HasSubCode trusts an unsigned error")
				}
			}},
			{"unsigned_success", func(gotRequest) (int, string) {
				return 200, `{"` + node + `":` + okContent + `}`
			}, func(t *testing.T, res any, err error) {
				if !errors.Is(err, ErrUnsigned) || !IsUnknownOutcome(err) {
					t.Fatalf("err = %v, want unsigned + unknown outcome", err)
				}
			}},
			{"tampered", func(gotRequest) (int, string) {
				b := signedBody(t, alipayKey, node, okContent)
				return 200, strings.Replace(b, `"msg":"Success"`, `"msg":"Succes5"`, 1)
			}, func(t *testing.T, res any, err error) {
				if !errors.Is(err, ErrSignature) || !IsUnknownOutcome(err) {
					t.Fatalf("err = %v, want ErrSignature + unknown outcome", err)
				}
			}},
			{"signed_by_other_key", func(gotRequest) (int, string) {
				return 200, signedBody(t, testKey(t, 2), node, okContent)
			}, func(t *testing.T, res any, err error) {
				if !errors.Is(err, ErrSignature) {
					t.Fatalf("err = %v, want ErrSignature", err)
				}
			}},
			{"http_502", func(gotRequest) (int, string) {
				return 502, signedBody(t, alipayKey, node, okContent)
			}, func(t *testing.T, res any, err error) {
				if !IsUnknownOutcome(err) || !strings.Contains(err.Error(), "502") {
					t.Fatalf("err = %v, want unknown outcome naming HTTP 502", err)
				}
			}},
			{"duplicate_node", func(gotRequest) (int, string) {
				forged := `{"code":"10000","msg":"Success",` + tc.success + `}`
				b := signedBody(t, alipayKey, node, `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}`)
				return 200, strings.Replace(b, `,"sign":`, `,"`+node+`":`+forged+`,"sign":`, 1)
			}, func(t *testing.T, res any, err error) {
				if !errors.Is(err, ErrDuplicateNode) || !IsUnknownOutcome(err) {
					t.Fatalf("err = %v, want ErrDuplicateNode", err)
				}
			}},
			{"escaped_slash_fallback", func(gotRequest) (int, string) {
				// Signed over "/", sent with "\/" (the Java SDK's fallback case).
				plain := strings.ReplaceAll(okContent, `\/`, `/`) + ``
				plain = strings.Replace(plain, `"msg":"Success"`, `"msg":"Success","note":"a/b"`, 1)
				b := signedBody(t, alipayKey, node, plain)
				return 200, strings.ReplaceAll(b[:strings.LastIndex(b, `,"sign":`)], `/`, `\/`) + b[strings.LastIndex(b, `,"sign":`):]
			}, func(t *testing.T, res any, err error) {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, res)
			}},
			{"error_response_fallback", func(gotRequest) (int, string) {
				return 200, signedBody(t, alipayKey, "error_response", `{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-method","sub_msg":"不存在的方法名"}`)
			}, func(t *testing.T, res any, err error) {
				var e *Error
				if !errors.As(err, &e) || e.Unverified || e.SubCode != "isv.invalid-method" {
					t.Fatalf("err = %#v, want a verified isv.invalid-method", err)
				}
			}},
			{"system_error", func(gotRequest) (int, string) {
				return 200, signedBody(t, alipayKey, node, `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"系统错误"}`)
			}, func(t *testing.T, res any, err error) {
				if !IsUnknownOutcome(err) || !HasSubCode(err, "ACQ.SYSTEM_ERROR") {
					t.Fatalf("err = %v, want unknown outcome", err)
				}
			}},
			{"code_20000", func(gotRequest) (int, string) {
				return 200, signedBody(t, alipayKey, node, `{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}`)
			}, func(t *testing.T, res any, err error) {
				if !IsUnknownOutcome(err) {
					t.Fatalf("err = %v, want unknown outcome", err)
				}
			}},
			{"not_json", func(gotRequest) (int, string) {
				return 200, `<html>系统繁忙</html>`
			}, func(t *testing.T, res any, err error) {
				if !errors.Is(err, ErrBadResponse) || !IsUnknownOutcome(err) {
					t.Fatalf("err = %v", err)
				}
			}},
		}
		for _, sc := range scenarios {
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				g.setReply(sc.reply)
				res, err := tc.call(t.Context(), c)
				checkReceived(t, g.last(t), tc)
				sc.check(t, res, err)
			})
		}
	}
}

func TestCallTimeoutIsUnknownOutcome(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	g.setReply(func(gotRequest) (int, string) {
		<-release
		return 200, ""
	})
	c := g.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.TradeQuery(ctx, TradeQueryRequest{OutTradeNo: "o_1"})
	if !IsUnknownOutcome(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want unknown outcome wrapping DeadlineExceeded", err)
	}
}

func TestInvalidParamsAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	c := g.client(t)
	ctx := t.Context()
	cases := map[string]func() error{
		"zero amount": func() error {
			_, err := c.TradePrecreate(ctx, TradePrecreateRequest{OutTradeNo: "o", Subject: "s"})
			return err
		},
		"bad out_trade_no": func() error {
			_, err := c.TradePagePayURL(TradePagePayRequest{OutTradeNo: "a b", TotalAmount: 1, Subject: "s"})
			return err
		},
		"subject with &": func() error {
			_, err := c.TradeWapPayURL(TradePagePayRequest{OutTradeNo: "o", TotalAmount: 1, Subject: "a&b"})
			return err
		},
		"too large": func() error {
			_, err := c.TradePagePayForm(TradePagePayRequest{OutTradeNo: "o", TotalAmount: MaxAmount + 1, Subject: "s"})
			return err
		},
		"no ref": func() error { _, err := c.TradeQuery(ctx, TradeQueryRequest{}); return err },
		"refund no request": func() error {
			_, err := c.TradeRefund(ctx, TradeRefundRequest{OutTradeNo: "o", RefundAmount: 1})
			return err
		},
		"refund zero": func() error {
			_, err := c.TradeRefund(ctx, TradeRefundRequest{OutTradeNo: "o", OutRequestNo: "r"})
			return err
		},
		"refund query": func() error {
			_, err := c.TradeFastPayRefundQuery(ctx, TradeFastPayRefundQueryRequest{OutTradeNo: "o", OutRequestNo: ""})
			return err
		},
		"bill": func() error {
			_, err := c.BillDownloadURLQuery(ctx, BillDownloadURLQueryRequest{BillType: "trade", BillDate: ""})
			return err
		},
	}
	for name, f := range cases {
		if err := f(); !errors.Is(err, ErrInvalidParam) {
			t.Errorf("%s: err = %v, want ErrInvalidParam", name, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) != 0 {
		t.Fatalf("%d requests reached the gateway", len(g.reqs))
	}
}

// TestPagePay checks the GET URLs and the POST form by sending them to the
// fake gateway as a browser would.
func TestPagePay(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	c := g.client(t)
	g.setReply(func(gotRequest) (int, string) { return 200, "cashier" })
	p := TradePagePayRequest{OutTradeNo: "o_9", TotalAmount: 8888, Subject: "测试 a+b 100%", PassbackParams: "k%3Dv", ReturnURL: "https://shop.example/r?x=1"}
	wantBiz := map[string]any{"out_trade_no": "o_9", "total_amount": "88.88", "subject": "测试 a+b 100%", "passback_params": "k%3Dv"}

	for _, method := range []string{"alipay.trade.page.pay", "alipay.trade.wap.pay"} {
		t.Run(method, func(t *testing.T) {
			f, product := c.TradePagePayURL, ProductCodePagePay
			if method == "alipay.trade.wap.pay" {
				f, product = c.TradeWapPayURL, ProductCodeWapPay
			}
			u, err := f(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(u, g.url()+"?") {
				t.Fatalf("URL %s", u)
			}
			resp, err := g.srv.Client().Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := g.last(t)
			if got.HTTPMethod != http.MethodGet || got.Params["method"] != method {
				t.Fatalf("got %s %s", got.HTTPMethod, got.Params["method"])
			}
			want := map[string]any{"product_code": product}
			for k, v := range wantBiz {
				want[k] = v
			}
			if fmt.Sprint(got.Biz) != fmt.Sprint(want) {
				t.Fatalf("biz %v, want %v", got.Biz, want)
			}
			if got.Params["return_url"] != p.ReturnURL || got.Params["notify_url"] != "https://shop.example/alipay/notify" {
				t.Fatalf("urls %q %q", got.Params["return_url"], got.Params["notify_url"])
			}
		})
	}

	t.Run("form", func(t *testing.T) {
		form, err := c.TradePagePayForm(p)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?s)^<form name="punchout_form" method="post" action="([^"]*)">\n<input type="hidden" name="biz_content" value="([^"]*)">\n<input type="submit".*document\.forms\[0\]\.submit\(\);</script>\n$`).FindStringSubmatch(form)
		if m == nil {
			t.Fatalf("form:\n%s", form)
		}
		action, biz := html.UnescapeString(m[1]), html.UnescapeString(m[2])
		resp, err := g.srv.Client().PostForm(action, url.Values{"biz_content": {biz}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := g.last(t)
		if got.HTTPMethod != http.MethodPost || got.Params["method"] != "alipay.trade.page.pay" || got.Biz["subject"] != p.Subject {
			t.Fatalf("got %+v", got)
		}
		if strings.Contains(action, "biz_content") {
			t.Fatal("biz_content in the action URL")
		}
	})
}

func TestCertificateModeCalls(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t)
	pki := newTestPKI(t)
	c := g.client(t, func(cfg *Config) {
		cfg.AlipayPublicKey = nil
		certs, err := ParseCertificates(pki.appCert, pki.alipayCert, pki.rootBundle)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = certs
		// A second, older Alipay certificate (rotation).
		if _, err := certs.AddAlipayCert(pki.oldAlipayCert); err != nil {
			t.Fatal(err)
		}
	})
	appSN, _ := CertSN(pki.appCert)
	rootSN, _ := RootCertSN(pki.rootBundle)
	alipaySN, _ := CertSN(pki.alipayCert)
	oldSN, _ := CertSN(pki.oldAlipayCert)
	content := `{"code":"10000","msg":"Success","out_trade_no":"o_1","total_amount":"1.00","trade_status":"WAIT_BUYER_PAY"}`
	bodyWithSN := func(key int, sn string) string {
		b := signedBody(t, testKey(t, key), "alipay_trade_query_response", content)
		if sn == "" {
			return b
		}
		return strings.Replace(b, `,"sign":`, `,"alipay_cert_sn":"`+sn+`","sign":`, 1)
	}
	for _, tc := range []struct {
		name string
		key  int
		sn   string
		ok   bool
		want error
	}{
		{"current cert", 1, alipaySN, true, nil},
		{"older cert", 2, oldSN, true, nil},
		{"sn names the other cert", 2, alipaySN, false, ErrSignature},
		{"unknown sn", 1, "00000000000000000000000000000000", false, ErrUnknownCertSN},
		{"no sn, two certs", 1, "", false, ErrUnknownCertSN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.setReply(func(gotRequest) (int, string) { return 200, bodyWithSN(tc.key, tc.sn) })
			r, err := c.TradeQuery(t.Context(), TradeQueryRequest{OutTradeNo: "o_1"})
			got := g.last(t)
			if got.Params["app_cert_sn"] != appSN || got.Params["alipay_root_cert_sn"] != rootSN {
				t.Fatalf("SNs sent: %q %q", got.Params["app_cert_sn"], got.Params["alipay_root_cert_sn"])
			}
			if tc.ok {
				if err != nil || r.TotalAmount != 100 {
					t.Fatalf("%v %+v", err, r)
				}
			} else if !errors.Is(err, tc.want) || !IsUnknownOutcome(err) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
