// Package shoptest holds test helpers shared by the shop's package tests
// and the end-to-end tests of cmd/alishop: it plays Alipay, signing
// notifications with Alipay's private key, and runs the table of bad
// notifications against any running shop.
package shoptest

import (
	"bytes"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// Target is a running shop and the keys to talk to it as Alipay.
type Target struct {
	AlipayKey *rsa.PrivateKey // signs notifications as Alipay does
	AppKey    *rsa.PrivateKey // the shop's own app key: a signature by it must be refused
	AppID     string
	SellerID  string

	Notify        func(method, body string) (status int, answer string)
	Order         func(outTradeNo string) shop.Order
	Notifications func() []store.Notification
}

// Genuine returns the parameters of a payment notification for o as
// Alipay sends it, unsigned.
func (tg *Target) Genuine(o shop.Order, tradeNo string) map[string]string {
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, alipay.Beijing)
	return map[string]string{
		"gmt_create": alipay.FormatTime(now), "charset": "utf-8", "seller_email": "merchant@sandbox.com",
		"subject": o.Subject, "buyer_id": "2088102177846875", "invoice_amount": o.Amount.String(),
		"notify_id": "2026112500222200000" + tradeNo[len(tradeNo)-6:], "fund_bill_list": `[{"amount":"` + o.Amount.String() + `","fundChannel":"ALIPAYACCOUNT"}]`,
		"notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS", "receipt_amount": o.Amount.String(),
		"app_id": tg.AppID, "buyer_pay_amount": o.Amount.String(), "seller_id": tg.SellerID,
		"gmt_payment": alipay.FormatTime(now.Add(5 * time.Second)), "notify_time": alipay.FormatTime(now.Add(10 * time.Second)),
		"version": "1.0", "out_trade_no": o.OutTradeNo, "total_amount": o.Amount.String(), "trade_no": tradeNo,
		"auth_app_id": tg.AppID, "buyer_logon_id": "buy***@sandbox.com", "point_amount": "0.00",
	}
}

func (tg *Target) sign(params map[string]string) string { return Sign(nil, tg.AlipayKey, params) }

// Sign signs params with key as Alipay signs a notification (rule v1,
// RSA2) and returns the form body.
func Sign(t testing.TB, key *rsa.PrivateKey, params map[string]string) string {
	p := map[string]string{}
	for k, v := range params {
		p[k] = v
	}
	p["sign_type"] = "RSA2"
	s, err := alipay.Sign(key, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV1))
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		panic(err)
	}
	p["sign"] = s
	return alipay.EncodeForm(p)
}

// BadNotifications is the table of bad notifications. a is an unpaid order;
// b a paid one, paid by the genuine notification bBody. Each case must
// leave both orders as they were (an amount mismatch raises only a's review
// flag), be stored (a verified message whole and once: an identical one
// again is counted in times_seen; one that fails verification cut to
// shop.MaxUnverifiedKept bytes), and a notification whose signature does
// not verify is never answered "success". At the end a's own genuine notification must
// pay it, proving the table could see a change.
func BadNotifications(t *testing.T, tg *Target, a, b shop.Order, bBody string) {
	with := func(p map[string]string, kv ...string) map[string]string {
		q := map[string]string{}
		for k, v := range p {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(q, kv[i])
			} else {
				q[kv[i]] = kv[i+1]
			}
		}
		return q
	}
	aGenuine := tg.Genuine(a, "2026112522001400000000000003")
	aBody := tg.sign(aGenuine)
	tamperedSign := strings.Replace(aBody, "sign=", "sign=A", 1)
	bAsA := strings.Replace(bBody, "out_trade_no="+b.OutTradeNo, "out_trade_no="+a.OutTradeNo, 1)
	if bAsA == bBody {
		t.Fatal("could not rewrite b's notification")
	}
	big := tg.sign(with(aGenuine, "body", strings.Repeat("x", alipay.MaxNotifyBody)))

	type tc struct {
		name    string
		method  string
		body    string
		times   int
		status  int
		answer  string
		outcome shop.Outcome
		review  bool // a's review flag is raised
	}
	cases := []tc{
		{"bad signature", "POST", tamperedSign, 1, 400, "fail", shop.OutcomeBadSignature, false},
		{"amount tampered after signing", "POST", strings.Replace(aBody, "total_amount=369.00", "total_amount=0.01", 1), 1, 400, "fail", shop.OutcomeBadSignature, false},
		{"no signature", "POST", alipay.EncodeForm(aGenuine), 1, 400, "fail", shop.OutcomeBadSignature, false},
		{"signed by the app key, not Alipay's", "POST", Sign(t, tg.AppKey, aGenuine), 1, 400, "fail", shop.OutcomeBadSignature, false},
		{"wrong app_id", "POST", tg.sign(with(aGenuine, "app_id", "2021000000009999", "auth_app_id", "2021000000009999")), 1, 403, "fail", shop.OutcomeWrongApp, false},
		{"wrong seller_id", "POST", tg.sign(with(aGenuine, "seller_id", "2088999999999999")), 1, 403, "fail", shop.OutcomeWrongSeller, false},
		{"unknown out_trade_no", "POST", tg.sign(with(aGenuine, "out_trade_no", "20261125000000ffffffffffffffffffffffff")), 1, 404, "fail", shop.OutcomeUnknownOrder, false},
		{"amount mismatch", "POST", tg.sign(with(aGenuine, "total_amount", "0.01", "receipt_amount", "0.01", "buyer_pay_amount", "0.01", "invoice_amount", "0.01")), 1, 409, "fail", shop.OutcomeAmountMismatch, true},
		{"another order's genuine notification replayed", "POST", bBody, 1, 200, "success", shop.OutcomeDuplicate, false},
		{"another order's notification pointed at this order", "POST", bAsA, 1, 400, "fail", shop.OutcomeBadSignature, false},
		{"five duplicates", "POST", bBody, 5, 200, "success", shop.OutcomeDuplicate, false},
		{"malformed form", "POST", "app_id=%zz&sign=%%", 1, 400, "fail", shop.OutcomeMalformed, false},
		{"key given twice", "POST", aBody + "&total_amount=0.01", 1, 400, "fail", shop.OutcomeMalformed, false},
		{"empty body", "POST", "", 1, 400, "fail", shop.OutcomeBadSignature, false},
		{"oversized body", "POST", big, 1, 413, "fail", shop.OutcomeTooLarge, false},
		{"wrong method GET", "GET", aBody, 1, 405, "fail", shop.OutcomeBadMethod, false},
		{"wrong method PUT", "PUT", aBody, 1, 405, "fail", shop.OutcomeBadMethod, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := func(ns []store.Notification) (n int64) {
				for _, x := range ns {
					n += x.TimesSeen
				}
				return n
			}
			all := tg.Notifications()
			before, seenBefore := len(all), seen(all)
			for i := 0; i < c.times; i++ {
				code, resp := tg.Notify(c.method, c.body)
				if code != c.status || resp != c.answer {
					t.Fatalf("answer %d %q, want %d %q", code, resp, c.status, c.answer)
				}
			}
			ns := tg.Notifications()
			if got := seen(ns) - seenBefore; got != int64(c.times) {
				t.Fatalf("%d notifications recorded, want %d", got, c.times)
			}
			for _, n := range ns[before:] {
				want := []byte(c.body)
				if len(want) > alipay.MaxNotifyBody {
					want = want[:alipay.MaxNotifyBody]
				}
				if !n.Verified && len(want) > shop.MaxUnverifiedKept {
					want = want[:shop.MaxUnverifiedKept]
				}
				if !bytes.Equal(n.Body, want) {
					t.Errorf("stored body differs from the one sent (%d vs %d bytes)", len(n.Body), len(want))
				}
				if n.Outcome != c.outcome || n.Method != c.method {
					t.Errorf("stored outcome %s method %s, want %s %s", n.Outcome, n.Method, c.outcome, c.method)
				}
			}
			gotA, gotB := tg.Order(a.OutTradeNo), tg.Order(b.OutTradeNo)
			if c.review {
				if !gotA.NeedsReview || gotA.ReviewReason == "" {
					t.Errorf("a not flagged for review: %+v", gotA)
				}
				flagged := gotA
				gotA.NeedsReview, gotA.ReviewReason, gotA.UpdatedAt = a.NeedsReview, a.ReviewReason, a.UpdatedAt
				defer func() { a = flagged }()
			}
			if gotA != a {
				t.Errorf("order a changed:\n got %+v\nwant %+v", gotA, a)
			}
			if gotB != b {
				t.Errorf("order b changed:\n got %+v\nwant %+v", gotB, b)
			}
		})
	}

	if code, resp := tg.Notify("POST", aBody); code != 200 || resp != "success" {
		t.Fatalf("a's genuine notification: %d %q", code, resp)
	}
	if got := tg.Order(a.OutTradeNo); got.Status != shop.StatusPaid {
		t.Fatalf("a not paid by its genuine notification: %+v", got)
	}
}
