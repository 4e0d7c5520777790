package sandbox

// The parameters and signatures of notifications and return_url redirects.

import (
	"net/url"
	"strings"
	"time"

	"alishop/alipay"
)

// baseNotifyParams are the parameters every notification of t carries
// (empty values are never sent).
func (s *Sandbox) baseNotifyParams(t *trade, a *app) map[string]string {
	p := map[string]string{
		"notify_type":     "trade_status_sync",
		"app_id":          a.AppID,
		"auth_app_id":     a.AppID,
		"charset":         orDefault(t.Charset, "utf-8"),
		"version":         "1.0",
		"trade_no":        t.TradeNo,
		"out_trade_no":    t.OutTradeNo,
		"total_amount":    t.TotalAmount.String(),
		"subject":         t.Subject,
		"body":            t.Body,
		"seller_id":       a.SellerID,
		"seller_email":    sellerEmail(a),
		"passback_params": t.Passback,
	}
	if !t.Created.IsZero() {
		p["gmt_create"] = alipay.FormatTime(t.Created)
	}
	if !t.Paid.IsZero() {
		p["gmt_payment"] = alipay.FormatTime(t.Paid)
		p["buyer_id"] = t.BuyerID
		p["buyer_logon_id"] = maskLogin(t.BuyerLogin)
	}
	for k, v := range p {
		// Empty and whitespace-only values are both left out: SDKs
		// disagree on whether a blank value is signed (docs/PROTOCOL.md).
		if strings.TrimSpace(v) == "" {
			delete(p, k)
		}
	}
	return p
}

func sellerEmail(a *app) string { return "merchant" + a.SellerID[len(a.SellerID)-6:] + "@sandbox.com" }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// validHTTPURL reports whether u is an absolute http(s) URL Alipay could
// redirect to or notify (the tutorial's " " placeholder is not).
func validHTTPURL(u string) bool {
	if strings.TrimSpace(u) != u || u == "" {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// returnURL builds the signed return_url redirect of a paid page/wap trade
// (v1 signature, no trade_status, no passback_params: docs/PROTOCOL.md,
// "Notifications and returns").
func (s *Sandbox) returnURL(t *trade, a *app, now time.Time) string {
	if !isPageMethod(t.Method) || !validHTTPURL(t.ReturnURL) {
		return ""
	}
	p := map[string]string{
		"charset":      orDefault(t.Charset, "utf-8"),
		"out_trade_no": t.OutTradeNo,
		"method":       t.Method + ".return",
		"total_amount": t.TotalAmount.String(),
		"trade_no":     t.TradeNo,
		"auth_app_id":  a.AppID,
		"version":      "1.0",
		"app_id":       a.AppID,
		"sign_type":    string(a.SignType),
		"seller_id":    a.SellerID,
		"timestamp":    alipay.FormatTime(now),
	}
	p["sign"] = s.signV1(p, a.SignType, p["charset"])
	sep := "?"
	if strings.Contains(t.ReturnURL, "?") {
		sep = "&"
	}
	return t.ReturnURL + sep + encodeForm(p, p["charset"])
}

// signV1 signs notification/return parameters: sign and sign_type excluded.
func (s *Sandbox) signV1(p map[string]string, st alipay.SignType, charset string) string {
	content := encodeCharset(alipay.SignContent(p, alipay.RuleV1), charset)
	sig, err := alipay.Sign(s.key, st, content)
	if err != nil {
		s.log.Error("sandbox: signing", "err", err)
	}
	return sig
}

// encodeForm encodes params (sorted) with values in charset.
func encodeForm(p map[string]string, charset string) string {
	v := url.Values{}
	for k, s := range p {
		v.Set(k, string(encodeCharset([]byte(s), charset)))
	}
	return v.Encode()
}
