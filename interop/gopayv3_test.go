package interop

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/go-pay/gopay"
	gp3 "github.com/go-pay/gopay/alipay/v3"
	"github.com/go-pay/gopay/pkg/xhttp"
)

// rootSNTransport adds the alipay-root-cert-sn header that gopay's v3
// client never sends (Alipay requires the root certificate SN of
// certificate-mode apps; the Java SDK sends this header).
type rootSNTransport struct{ sn string }

func (rt rootSNTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("alipay-root-cert-sn", rt.sn)
	return http.DefaultTransport.RoundTrip(r)
}

// TestGopayV3 drives gopay's OpenAPI v3 client (alipay/v3 ClientV3)
// against the sandbox's v3 routes in key and certificate mode.
func TestGopayV3(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"key", "cert"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t)
			a := sb.registerApp(t, map[string]string{"key": "9021000100000061", "cert": "9021000100000062"}[mode], mode == "cert")
			r := &reporter{t: t, lib: "gopay-v3", mode: mode}
			runGopayV3(t, r, sb, a)
			r.expectLines(map[string]int{"key": 36, "cert": 37}[mode])
		})
	}
}

// newGopayV3 makes a v3 client of the app; in certificate mode with the
// given Alipay certificate and, when addRootSN, the root SN header.
func newGopayV3(t *testing.T, sb *sandboxProc, a *app, alipayCert string, addRootSN bool) *gp3.ClientV3 {
	t.Helper()
	c, err := gp3.NewClientV3(a.id, a.pkcs8, false)
	if err != nil {
		t.Fatal(err)
	}
	c.SetProxyHost(strings.TrimSuffix(sb.root, "/"))
	hc := xhttp.NewClient()
	hc.SetTimeout(callTimeout)
	if a.certs != nil {
		if err := c.SetCert([]byte(a.certs.AppCert), []byte(a.certs.AlipayRootCert), []byte(alipayCert)); err != nil {
			t.Fatal(err)
		}
		if addRootSN {
			hc.SetTransport(rootSNTransport{sn: c.AliPayRootCertSN})
		}
	}
	c.SetHttpClient(hc)
	return c
}

// v3OK checks a v3 answer's HTTP status.
func v3OK(status int, e gp3.ErrResponse) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d %s %s", status, e.Code, e.Message)
	}
	return nil
}

func runGopayV3(t *testing.T, r *reporter, sb *sandboxProc, a *app) {
	alipayCert := ""
	if a.certs != nil {
		alipayCert = a.certs.AlipayCert
	}
	c := newGopayV3(t, sb, a, alipayCert, true)
	v2 := &gopayRun{t: t, r: r, sb: sb, a: a} // gopay's notification and sync verifiers are in its v2 package
	notes := newNotifyReceiver(t)
	day := sb.today(t)
	query := func(outTradeNo string) (*gp3.TradeQueryRsp, error) {
		q, err := c.TradeQuery(ctx(t), gopay.BodyMap{"out_trade_no": outTradeNo})
		if err != nil {
			return nil, err
		}
		return q, v3OK(q.StatusCode, q.ErrResponse)
	}

	if a.certs != nil {
		r.step("without alipay-root-cert-sn (as gopay sends) → 401", func() (string, error) {
			bare := newGopayV3(t, sb, a, alipayCert, false)
			q, err := bare.TradeQuery(ctx(t), gopay.BodyMap{"out_trade_no": "nothing"})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("HTTP %d %s (the test adds the header from here on)", q.StatusCode, q.ErrResponse.Code),
				check(q.StatusCode == http.StatusUnauthorized && q.ErrResponse.Code == "isv.missing-alipay-root-cert-sn", "401 isv.missing-alipay-root-cert-sn")
		})
		r.step("answer not signed by the configured certificate is refused", func() (string, error) {
			other := newGopayV3(t, sb, a, a.certs.AppCert, true)
			_, err := other.TradePrecreate(ctx(t), gopay.BodyMap{"out_trade_no": uniq("G3K"), "total_amount": "1.00", "subject": "gopay v3 check"})
			if err == nil {
				return "", fmt.Errorf("an answer verified under the app's own certificate")
			}
			return err.Error(), nil
		})
	} else {
		r.lacks("answer signature check in key mode", "ClientV3 verifies answers only with SetCert (certificate mode); key mode has no Alipay public key setting")
	}

	page, wap := uniq("G3P"), uniq("G3W")
	r.step("TradePagePay (a v2 gateway URL) → cashier", func() (string, error) {
		u, err := c.TradePagePay(ctx(t), gopay.BodyMap{"out_trade_no": page, "total_amount": "30.00", "subject": "gopay v3 page", "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		return openPayURL(sb.gateway() + strings.TrimPrefix(u, gopaySandboxGateway))
	})
	r.step("TradeWapPay (a v2 gateway URL) → cashier", func() (string, error) {
		u, err := c.TradeWapPay(ctx(t), gopay.BodyMap{"out_trade_no": wap, "total_amount": "5.00", "subject": "gopay v3 wap", "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		return openPayURL(sb.gateway() + strings.TrimPrefix(u, gopaySandboxGateway))
	})
	r.step("pay (api/trades/pay) → ParseNotifyToBodyMap, VerifySign", func() (string, error) {
		sb.pay(t, a.id, page)
		bm, err := v2.waitNotify(notes, page, "TRADE_SUCCESS")
		if err != nil {
			return "", err
		}
		return "verified " + bm.GetString("notify_id"), nil
	})
	var tradeNo string
	r.step("TradeQuery (paid)", func() (string, error) {
		q, err := query(page)
		if err != nil {
			return "", err
		}
		tradeNo = q.TradeNo
		return q.TradeStatus + " " + q.TotalAmount + " " + q.TradeNo, check(q.TradeStatus == "TRADE_SUCCESS" && q.TotalAmount == "30.00", "TRADE_SUCCESS 30.00")
	})
	for i, want := range []string{"Y", "N"} {
		r.step(fmt.Sprintf("TradeRefund #%d (out_request_no R1)", i+1), func() (string, error) {
			q, err := c.TradeRefund(ctx(t), gopay.BodyMap{"trade_no": tradeNo, "refund_amount": "10.00", "out_request_no": "R1"})
			if err != nil {
				return "", err
			}
			if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
				return "", err
			}
			return "fund_change " + q.FundChange + " refund_fee " + q.RefundFee, check(q.FundChange == want && q.RefundFee == "10.00", "fund_change %s refund_fee 10.00", want)
		})
	}
	r.step("TradeFastPayRefundQuery", func() (string, error) {
		q, err := c.TradeFastPayRefundQuery(ctx(t), gopay.BodyMap{"out_trade_no": page, "out_request_no": "R1"})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return q.RefundStatus + " " + q.RefundAmount, check(q.RefundAmount == "10.00" && q.RefundStatus == "REFUND_SUCCESS", "REFUND_SUCCESS 10.00")
	})
	r.step("TradeClose (waiting wap trade)", func() (string, error) {
		q, err := c.TradeClose(ctx(t), gopay.BodyMap{"out_trade_no": wap})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		s, err := query(wap)
		if err != nil {
			return "", err
		}
		return "then " + s.TradeStatus, check(s.TradeStatus == "TRADE_CLOSED", "TRADE_CLOSED after close")
	})
	created := uniq("G3C")
	r.step("TradeCreate", func() (string, error) {
		q, err := c.TradeCreate(ctx(t), gopay.BodyMap{"out_trade_no": created, "total_amount": "8.00", "subject": "gopay v3 create",
			"product_code": "JSAPI_PAY", "op_app_id": a.id}) // gopay requires both (a mini-program trade)
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return q.TradeNo, check(q.OutTradeNo == created && q.TradeNo != "", "out_trade_no and trade_no")
	})
	r.step("TradeCancel (unpaid create: action close)", func() (string, error) {
		q, err := c.TradeCancel(ctx(t), gopay.BodyMap{"out_trade_no": created})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return "action " + q.Action, check(q.Action == "close", "action close")
	})
	pre, preTradeNo := uniq("G3Q"), ""
	r.step("TradePrecreate → scan and pay → query", func() (string, error) {
		q, err := c.TradePrecreate(ctx(t), gopay.BodyMap{"out_trade_no": pre, "total_amount": "12.34", "subject": "gopay v3 precreate"})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		sb.pay(t, a.id, pre)
		s, err := query(pre)
		if err != nil {
			return "", err
		}
		preTradeNo = s.TradeNo
		return q.QrCode + " then " + s.TradeStatus, check(strings.Contains(q.QrCode, "/qr/") && s.TradeStatus == "TRADE_SUCCESS", "a qr_code, then TRADE_SUCCESS")
	})
	bar := uniq("G3B")
	r.step("TradePay within the no-password limit (200, paid)", func() (string, error) {
		q, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": bar, "total_amount": "12.00", "subject": "gopay v3 bar code",
			"scene": "bar_code", "auth_code": sb.payCode(t)})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return q.TradeNo + " " + q.TotalAmount + " at " + q.GmtPayment, check(q.TotalAmount == "12.00" && q.GmtPayment != "", "12.00 with gmt_payment")
	})
	big := uniq("G3U")
	r.step("TradePay above the limit (200, waiting: no gmt_payment)", func() (string, error) {
		q, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": big, "total_amount": "2500.00", "subject": "gopay v3 bar code, large",
			"scene": "bar_code", "auth_code": sb.payCode(t), "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return "receipt_amount " + q.ReceiptAmount + ", no gmt_payment", check(q.GmtPayment == "" && q.ReceiptAmount == "0.00" && q.BuyerPayAmount == "0.00",
			"the waiting trade's fields: zero paid amounts and no gmt_payment, got %+v", q)
	})
	r.step("USERPAYING: buyer confirms → query → notification", func() (string, error) {
		sb.pay(t, a.id, big)
		s, err := query(big)
		if err != nil {
			return "", err
		}
		if err := check(s.TradeStatus == "TRADE_SUCCESS" && s.TotalAmount == "2500.00", "TRADE_SUCCESS 2500.00, got %s %s", s.TradeStatus, s.TotalAmount); err != nil {
			return "", err
		}
		if _, err := v2.waitNotify(notes, big, "TRADE_SUCCESS"); err != nil {
			return "", err
		}
		return s.TradeStatus + ", notification verified", nil
	})
	r.step("unknown outcome (fault: 20000 on trade/pay) → 503 → query", func() (string, error) {
		sb.fault(t, `{"kind":"gateway_error","method":"alipay.trade.pay","error":"20000","count":1}`)
		lost := uniq("G3F")
		q, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": lost, "total_amount": "3.00", "subject": "gopay v3 lost answer",
			"scene": "bar_code", "auth_code": sb.payCode(t)})
		if err != nil {
			return "", err
		}
		if err := check(q.StatusCode == http.StatusServiceUnavailable && q.ErrResponse.Code == "isp.unknow-error", "503 isp.unknow-error, got %d %s", q.StatusCode, q.ErrResponse.Code); err != nil {
			return "", err
		}
		s, err := query(lost)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d %s, then %s", q.StatusCode, q.ErrResponse.Code, s.TradeStatus), check(s.TradeStatus == "TRADE_SUCCESS", "the committed payment found by query")
	})
	appOrder := uniq("G3A")
	r.step("TradeAppPay (a v2 order string) → Alipay app pays → result verified", func() (string, error) {
		order, err := c.TradeAppPay(ctx(t), gopay.BodyMap{"out_trade_no": appOrder, "total_amount": "6.66", "subject": "gopay v3 app",
			"product_code": "QUICK_MSECURITY_PAY", "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		res := sb.appPay(t, order)
		if res.ResultStatus != "9000" {
			return "", fmt.Errorf("resultStatus 9000, got %+v", res)
		}
		node, sign, err := appPayNode(res.Result)
		if err != nil {
			return "", err
		}
		if err := v2.verify(node, sign); err != nil {
			return "", err
		}
		return "resultStatus 9000, result verified", nil
	})
	r.step("app pay notification → VerifySign → query", func() (string, error) {
		if _, err := v2.waitNotify(notes, appOrder, "TRADE_SUCCESS"); err != nil {
			return "", err
		}
		s, err := query(appOrder)
		if err != nil {
			return "", err
		}
		return s.TradeStatus + " " + s.TotalAmount, check(s.TradeStatus == "TRADE_SUCCESS" && s.TotalAmount == "6.66", "TRADE_SUCCESS 6.66")
	})
	r.step("TradeCancel (paid bar-code trade: action refund)", func() (string, error) {
		q, err := c.TradeCancel(ctx(t), gopay.BodyMap{"out_trade_no": bar})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return "action " + q.Action, check(q.Action == "refund", "action refund")
	})
	r.step("error answer (refund over the balance) → HTTP 400", func() (string, error) {
		q, err := c.TradeRefund(ctx(t), gopay.BodyMap{"out_trade_no": page, "refund_amount": "99.00", "out_request_no": "R2"})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d %s", q.StatusCode, q.ErrResponse.Code), check(q.StatusCode == http.StatusBadRequest && q.ErrResponse.Code == "ACQ.REASON_TRADE_REFUND_FEE_ERR", "400 ACQ.REASON_TRADE_REFUND_FEE_ERR")
	})
	v2.c = v2.newClient(alipayCert)
	gopayV3Identity(t, r, sb, a, c, v2, notes)
	gopayV3Money(t, r, a, c, preTradeNo)

	r.step("DataBillDownloadUrlQuery (GET) → bill file", func() (string, error) {
		sb.advance(t, "48h")
		q, err := c.DataBillDownloadUrlQuery(ctx(t), gopay.BodyMap{"bill_type": "trade", "bill_date": day})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		bill, err := fetch(q.BillDownloadUrl)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %d lines", day, strings.Count(bill, "\n")), check(strings.Contains(bill, page) && strings.Contains(bill, bar), "the bill to list %s and %s", page, bar)
	})
}
