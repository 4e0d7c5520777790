package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-pay/gopay"
	gp "github.com/go-pay/gopay/alipay"
	"github.com/go-pay/gopay/pkg/xhttp"
)

// gopaySandboxGateway is the gateway URL compiled into gopay's v2 client
// (not configurable): requests to it are redirected to our sandbox.
const gopaySandboxGateway = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"

// redirectTransport sends gopay's requests for Alipay's sandbox gateway to
// ours, the way docs/SANDBOX.md tells gopay users to.
type redirectTransport struct{ to *url.URL }

func (rt redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "openapi-sandbox.dl.alipaydev.com" {
		return nil, fmt.Errorf("gopay called %s, not the sandbox gateway", req.URL)
	}
	r := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host, u.Path = rt.to.Scheme, rt.to.Host, rt.to.Path
	r.URL, r.Host = &u, rt.to.Host
	return http.DefaultTransport.RoundTrip(r)
}

// TestGopay drives github.com/go-pay/gopay's Alipay v2 client against the
// sandbox in key and certificate mode.
func TestGopay(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"key", "cert"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t)
			a := sb.registerApp(t, map[string]string{"key": "9021000100000051", "cert": "9021000100000052"}[mode], mode == "cert")
			r := &reporter{t: t, lib: "gopay", mode: mode}
			g := &gopayRun{t: t, r: r, sb: sb, a: a}
			g.run()
			r.expectLines(map[string]int{"key": 44, "cert": 46}[mode])
		})
	}
}

type gopayRun struct {
	t  *testing.T
	r  *reporter
	sb *sandboxProc
	a  *app
	c  *gp.Client
}

// newClient makes a gopay client of the app; alipayCert is the Alipay
// certificate it trusts in certificate mode.
func (g *gopayRun) newClient(alipayCert string) *gp.Client {
	t := g.t
	c, err := gp.NewClient(g.a.id, g.a.pkcs8, false)
	if err != nil {
		t.Fatal(err)
	}
	to, err := url.Parse(g.sb.gateway())
	if err != nil {
		t.Fatal(err)
	}
	hc := xhttp.NewClient()
	hc.SetTransport(redirectTransport{to: to}).SetTimeout(callTimeout)
	c.SetHttpClient(hc)
	if g.a.certs != nil {
		if err := c.SetCertSnByContent([]byte(g.a.certs.AppCert), []byte(g.a.certs.AlipayRootCert), []byte(alipayCert)); err != nil {
			t.Fatal(err)
		}
		// Certificate mode: gopay checks every answer's signature itself.
		c.AutoVerifySign([]byte(alipayCert))
	}
	return c
}

// verify checks a gateway answer's signature: gopay verifies answers by
// itself only in certificate mode (AutoVerifySign); in key mode the caller
// calls VerifySyncSign with the answer's SignData.
func (g *gopayRun) verify(signData, sign string) error {
	if g.a.certs != nil {
		ok, err := gp.VerifySyncSignWithCert([]byte(g.a.certs.AlipayCert), signData, sign)
		if !ok || err != nil {
			return fmt.Errorf("VerifySyncSignWithCert: %v", err)
		}
		return nil
	}
	ok, err := gp.VerifySyncSign(g.sb.pub, signData, sign)
	if !ok || err != nil {
		return fmt.Errorf("VerifySyncSign: %v", err)
	}
	return nil
}

// verifyNotify checks a notification with gopay's own parser and verifier.
func (g *gopayRun) verifyNotify(bm gopay.BodyMap) error {
	var ok bool
	var err error
	if g.a.certs != nil {
		ok, err = gp.VerifySignWithCert([]byte(g.a.certs.AlipayCert), bm)
	} else {
		ok, err = gp.VerifySign(g.sb.pub, bm)
	}
	if !ok || err != nil {
		return fmt.Errorf("notification signature: %v", err)
	}
	return nil
}

func (g *gopayRun) query(outTradeNo string) (*gp.TradeQuery, error) {
	q, err := g.c.TradeQuery(ctx(g.t), gopay.BodyMap{"out_trade_no": outTradeNo})
	if err != nil {
		return nil, err
	}
	return q.Response, g.verify(q.SignData, q.Sign)
}

// waitNotify waits for a trade's notification and verifies it as gopay's
// users do: ParseNotifyToBodyMap on the request, then VerifySign.
func (g *gopayRun) waitNotify(notes *notifyReceiver, outTradeNo, status string) (gopay.BodyMap, error) {
	_, req, err := notes.wait(outTradeNo, status)
	if err != nil {
		return nil, err
	}
	bm, err := gp.ParseNotifyToBodyMap(req)
	if err != nil {
		return nil, err
	}
	return bm, g.verifyNotify(bm)
}

func (g *gopayRun) run() {
	t, r, sb, a := g.t, g.r, g.sb, g.a
	alipayCert := ""
	if a.certs != nil {
		alipayCert = a.certs.AlipayCert
	}
	g.c = g.newClient(alipayCert)
	c := g.c
	notes := newNotifyReceiver(t)
	day := sb.today(t)

	if a.certs != nil {
		r.step("certificate SNs equal the sandbox's", func() (string, error) {
			return c.AppCertSN, check(c.AppCertSN == a.certs.AppCertSN && c.AliPayRootCertSN == a.certs.AlipayRootCertSN &&
				c.AliPayPublicCertSN == a.certs.AlipayCertSN, "the sandbox's SNs %s %s %s, gopay has %s %s %s",
				a.certs.AppCertSN, a.certs.AlipayRootCertSN, a.certs.AlipayCertSN, c.AppCertSN, c.AliPayRootCertSN, c.AliPayPublicCertSN)
		})
		r.step("answer under another alipay_cert_sn is refused", func() (string, error) {
			other := g.newClient(a.certs.AppCert)
			_, err := other.TradeCreate(ctx(t), gopay.BodyMap{"out_trade_no": uniq("GPK"), "total_amount": "1.00", "subject": "gopay SN check"})
			if _, biz := gp.IsBizError(err); err == nil || biz {
				return "", fmt.Errorf("want a certificate mismatch, got %v", err)
			}
			return err.Error(), check(errors.Is(err, gopay.CertNotMatchErr), "gopay.CertNotMatchErr")
		})
	} else {
		r.step("answer signed by another key is refused", func() (string, error) {
			q, err := c.TradeCreate(ctx(t), gopay.BodyMap{"out_trade_no": uniq("GPK"), "total_amount": "1.00", "subject": "gopay key check"})
			if err != nil {
				return "", err
			}
			if err := g.verify(q.SignData, q.Sign); err != nil {
				return "", err
			}
			ok, err := gp.VerifySyncSign(otherPublicKey(t), q.SignData, q.Sign)
			if ok || err == nil {
				return "", errors.New("the answer verified under another Alipay public key")
			}
			return err.Error(), nil
		})
	}

	page, wap := uniq("GPP"), uniq("GPW")
	r.step("TradePagePay URL → cashier", func() (string, error) {
		u, err := c.TradePagePay(ctx(t), gopay.BodyMap{"out_trade_no": page, "total_amount": "30.00", "subject": "gopay page",
			"notify_url": notes.url(), "return_url": "http://127.0.0.1:1/return"})
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(u, gopaySandboxGateway+"?") {
			return "", fmt.Errorf("a URL on gopay's sandbox gateway, got %.100s", u)
		}
		return openPayURL(sb.gateway() + strings.TrimPrefix(u, gopaySandboxGateway))
	})
	r.step("TradeWapPay URL → cashier", func() (string, error) {
		u, err := c.TradeWapPay(ctx(t), gopay.BodyMap{"out_trade_no": wap, "total_amount": "5.00", "subject": "gopay wap", "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		return openPayURL(sb.gateway() + strings.TrimPrefix(u, gopaySandboxGateway))
	})
	var returnURL string
	r.step("pay (api/trades/pay) → ParseNotifyToBodyMap, VerifySign", func() (string, error) {
		returnURL = sb.payReturn(t, a.id, page)
		bm, err := g.waitNotify(notes, page, "TRADE_SUCCESS")
		if err != nil {
			return "", err
		}
		if err := check(bm.GetString("total_amount") == "30.00", "total_amount 30.00"); err != nil {
			return "", err
		}
		form, _, _ := notes.wait(page, "TRADE_SUCCESS")
		forged := cloneValues(form)
		forged.Set("total_amount", "0.01")
		fbm, err := gp.ParseNotifyByURLValues(forged)
		if err != nil {
			return "", err
		}
		if g.verifyNotify(fbm) == nil {
			return "", errors.New("a notification with a changed amount verified")
		}
		return "verified " + form.Get("notify_id") + " (a changed amount is refused)", nil
	})
	r.step("return_url redirect → VerifySign", func() (string, error) {
		u, err := url.Parse(returnURL)
		if err != nil {
			return "", err
		}
		bm, err := gp.ParseNotifyByURLValues(u.Query())
		if err != nil {
			return "", err
		}
		if err := g.verifyNotify(bm); err != nil {
			return "", fmt.Errorf("%w (%s)", err, returnURL)
		}
		return "verified, method " + u.Query().Get("method"), check(u.Query().Get("out_trade_no") == page, "out_trade_no in the redirect")
	})
	var tradeNo string
	r.step("TradeQuery (paid)", func() (string, error) {
		q, err := g.query(page)
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
			if err := g.verify(q.SignData, q.Sign); err != nil {
				return "", err
			}
			return "fund_change " + q.Response.FundChange + " refund_fee " + q.Response.RefundFee,
				check(q.Response.FundChange == want && q.Response.RefundFee == "10.00", "fund_change %s refund_fee 10.00", want)
		})
	}
	r.step("TradeFastPayRefundQuery", func() (string, error) {
		q, err := c.TradeFastPayRefundQuery(ctx(t), gopay.BodyMap{"out_trade_no": page, "out_request_no": "R1"})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return q.Response.RefundStatus + " " + q.Response.RefundAmount, check(q.Response.RefundAmount == "10.00" && q.Response.RefundStatus == "REFUND_SUCCESS", "REFUND_SUCCESS 10.00")
	})
	r.step("TradeClose (waiting wap trade)", func() (string, error) {
		q, err := c.TradeClose(ctx(t), gopay.BodyMap{"out_trade_no": wap})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		s, err := g.query(wap)
		if err != nil {
			return "", err
		}
		return "then " + s.TradeStatus, check(s.TradeStatus == "TRADE_CLOSED", "TRADE_CLOSED after close")
	})

	created := uniq("GPC")
	r.step("TradeCreate", func() (string, error) {
		q, err := c.TradeCreate(ctx(t), gopay.BodyMap{"out_trade_no": created, "total_amount": "8.00", "subject": "gopay create"})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return q.Response.TradeNo, check(q.Response.OutTradeNo == created && q.Response.TradeNo != "", "out_trade_no and trade_no")
	})
	r.step("TradeCancel (unpaid create: action close)", func() (string, error) {
		q, err := c.TradeCancel(ctx(t), gopay.BodyMap{"out_trade_no": created})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return "action " + q.Response.Action, check(q.Response.Action == "close", "action close")
	})
	pre, preTradeNo := uniq("GPQ"), ""
	r.step("TradePrecreate → scan and pay → query", func() (string, error) {
		q, err := c.TradePrecreate(ctx(t), gopay.BodyMap{"out_trade_no": pre, "total_amount": "12.34", "subject": "gopay precreate", "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		if !strings.Contains(q.Response.QrCode, "/qr/") {
			return "", fmt.Errorf("qr_code %q", q.Response.QrCode)
		}
		sb.pay(t, a.id, pre)
		s, err := g.query(pre)
		if err != nil {
			return "", err
		}
		preTradeNo = s.TradeNo
		return q.Response.QrCode + " then " + s.TradeStatus, check(s.TradeStatus == "TRADE_SUCCESS", "TRADE_SUCCESS")
	})

	bar := uniq("GPB")
	r.step("TradePay within the no-password limit (10000)", func() (string, error) {
		q, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": bar, "total_amount": "12.00", "subject": "gopay bar code",
			"scene": "bar_code", "auth_code": sb.payCode(t)})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		p := q.Response
		return p.Code + " " + p.TradeNo + " " + p.TotalAmount + " buyer " + p.BuyerUserId,
			check(p.Code == "10000" && p.TotalAmount == "12.00" && p.BuyerUserId != "" && len(p.FundBillList) > 0, "10000, 12.00 paid with buyer_user_id and fund_bill_list")
	})
	big := uniq("GPU")
	r.step("TradePay above the limit (10003 USERPAYING)", func() (string, error) {
		q, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": big, "total_amount": "2500.00", "subject": "gopay bar code, large",
			"scene": "bar_code", "auth_code": sb.payCode(t), "notify_url": notes.url()})
		if err != nil {
			return "", fmt.Errorf("gopay lets 10003 through as no error (bizErrCheckTradePay): %w", err)
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return q.Response.Code + q.Response.Msg, check(q.Response.Code == "10003", "10003")
	})
	r.step("USERPAYING: buyer confirms → query → notification", func() (string, error) {
		sb.pay(t, a.id, big)
		s, err := g.query(big)
		if err != nil {
			return "", err
		}
		if err := check(s.TradeStatus == "TRADE_SUCCESS" && s.TotalAmount == "2500.00", "TRADE_SUCCESS 2500.00, got %s %s", s.TradeStatus, s.TotalAmount); err != nil {
			return "", err
		}
		if _, err := g.waitNotify(notes, big, "TRADE_SUCCESS"); err != nil {
			return "", err
		}
		return s.TradeStatus + ", notification verified", nil
	})

	r.step("unknown outcome (fault: 20000 on trade.pay) → query", func() (string, error) {
		sb.fault(t, `{"kind":"gateway_error","method":"alipay.trade.pay","error":"20000","count":1}`)
		lost := uniq("GPF")
		_, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": lost, "total_amount": "3.00", "subject": "gopay lost answer",
			"scene": "bar_code", "auth_code": sb.payCode(t)})
		be, ok := gp.IsBizError(err)
		if !ok || be.Code != "20000" {
			return "", fmt.Errorf("a *BizErr with code 20000, got %v", err)
		}
		s, err := g.query(lost)
		if err != nil {
			return "", err
		}
		return "BizErr 20000 " + be.SubCode + ", then " + s.TradeStatus, check(s.TradeStatus == "TRADE_SUCCESS", "the committed payment found by query")
	})
	appOrder := uniq("GPA")
	r.step("TradeAppPay order string → Alipay app pays → result verified", func() (string, error) {
		order, err := c.TradeAppPay(ctx(t), gopay.BodyMap{"out_trade_no": appOrder, "total_amount": "6.66", "subject": "gopay app",
			"product_code": "QUICK_MSECURITY_PAY", "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		res := sb.appPay(t, order)
		if res.ResultStatus != "9000" {
			return "", fmt.Errorf("resultStatus 9000, got %+v", res)
		}
		// gopay has no app-result parser; its sync verifier takes the node's bytes and the sign.
		node, sign, err := appPayNode(res.Result)
		if err != nil {
			return "", err
		}
		if err := g.verify(node, sign); err != nil {
			return "", err
		}
		if err := check(strings.Contains(node, `"out_trade_no":"`+appOrder+`"`), "the result to name %s: %s", appOrder, node); err != nil {
			return "", err
		}
		return "resultStatus 9000, result verified", nil
	})
	r.step("app pay notification → VerifySign → query", func() (string, error) {
		if _, err := g.waitNotify(notes, appOrder, "TRADE_SUCCESS"); err != nil {
			return "", err
		}
		s, err := g.query(appOrder)
		if err != nil {
			return "", err
		}
		return s.TradeStatus + " " + s.TotalAmount, check(s.TradeStatus == "TRADE_SUCCESS" && s.TotalAmount == "6.66", "TRADE_SUCCESS 6.66")
	})
	r.step("refund and close notifications → VerifySign", func() (string, error) {
		q, err := c.TradeRefund(ctx(t), gopay.BodyMap{"out_trade_no": appOrder, "refund_amount": "6.66", "out_request_no": "RF"})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		var got []string
		for _, w := range []struct{ out, status, refund string }{{page, "TRADE_SUCCESS", "10.00"}, {appOrder, "TRADE_CLOSED", "6.66"}, {wap, "TRADE_CLOSED", ""}} {
			_, req, err := notes.waitFor(w.status+" notification for "+w.out, func(f url.Values) bool {
				return f.Get("out_trade_no") == w.out && f.Get("trade_status") == w.status && f.Get("refund_fee") == w.refund
			})
			if err != nil {
				return "", err
			}
			bm, err := gp.ParseNotifyToBodyMap(req)
			if err != nil {
				return "", err
			}
			if err := g.verifyNotify(bm); err != nil {
				return "", fmt.Errorf("%s %s: %w", w.out, w.status, err)
			}
			got = append(got, w.status+"/"+bm.GetString("refund_fee"))
		}
		return "partial refund, full refund, close: " + strings.Join(got, ", "), nil
	})
	r.step("TradeCancel (paid bar-code trade: action refund)", func() (string, error) {
		q, err := c.TradeCancel(ctx(t), gopay.BodyMap{"out_trade_no": bar})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return "action " + q.Response.Action, check(q.Response.Action == "refund", "action refund")
	})
	r.step("error answer (refund over the balance) → BizErr", func() (string, error) {
		_, err := c.TradeRefund(ctx(t), gopay.BodyMap{"out_trade_no": page, "refund_amount": "99.00", "out_request_no": "R2"})
		be, ok := gp.IsBizError(err)
		if !ok {
			return "", fmt.Errorf("a *BizErr, got %v", err)
		}
		return be.SubCode + " (gopay returns business errors before checking the signature)", check(be.Code == "40004" && be.SubCode == "ACQ.REASON_TRADE_REFUND_FEE_ERR", "40004 ACQ.REASON_TRADE_REFUND_FEE_ERR")
	})
	if a.certs != nil {
		r.step("PublicCertDownload (alipay.open.app.alipaycert.download)", func() (string, error) {
			q, err := c.PublicCertDownload(ctx(t), gopay.BodyMap{"alipay_cert_sn": a.certs.AlipayCertSN})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d bytes of PEM", len(q.Response.AlipayCertContent)), check(strings.Contains(q.Response.AlipayCertContent, "BEGIN CERTIFICATE"), "a PEM certificate")
		})
	}
	r.lacks("AES (encrypt_type)", "gopay's SetAESKey is documented as unusable (目前不可用): it never sends encrypt_type")
	g.identity(notes)
	g.money(preTradeNo)

	r.step("DataBillDownloadUrlQuery → bill file", func() (string, error) {
		sb.advance(t, "48h")
		q, err := c.DataBillDownloadUrlQuery(ctx(t), gopay.BodyMap{"bill_type": "trade", "bill_date": day})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		bill, err := fetch(q.Response.BillDownloadUrl)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %d lines", day, strings.Count(bill, "\n")), check(strings.Contains(bill, page) && strings.Contains(bill, bar), "the bill to list %s and %s", page, bar)
	})
}

// appPayNode takes the signed node of an app-pay result as its raw bytes,
// and its sign.
func appPayNode(result string) (node, sign string, err error) {
	return signedNode(result, "alipay.trade.app.pay")
}

// rawAnswer keeps an answer's bytes as received.
type rawAnswer []byte

func (r *rawAnswer) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

func jsonUnmarshal(b []byte, out any) error { return json.Unmarshal(b, out) }

// signedNode takes the node "<method with _>_response" of an answer as its
// raw bytes, and the answer's sign.
func signedNode(answer, method string) (node, sign string, err error) {
	key := strings.ReplaceAll(method, ".", "_") + "_response"
	var m map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader([]byte(answer)))
	if err := d.Decode(&m); err != nil {
		return "", "", err
	}
	raw, ok := m[key]
	if !ok {
		return "", "", fmt.Errorf("no %s in %s", key, answer)
	}
	if err := json.Unmarshal(m["sign"], &sign); err != nil {
		return "", "", fmt.Errorf("sign: %v", err)
	}
	return string(raw), sign, nil
}
