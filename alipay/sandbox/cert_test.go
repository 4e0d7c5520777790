package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"alishop/alipay"
)

const certAppID = "2021000000000777"

func (e *testEnv) certClient(t *testing.T, b CertBundle) *alipay.Client {
	cfg := alipay.Config{AppID: certAppID, PrivateKey: otherKey, Gateway: e.srv.URL + "/gateway.do",
		NotifyURL: e.m.srv.URL + "/notify", Now: e.clock.Now}
	certs, err := alipay.ParseCertificates([]byte(b.AppCert), []byte(b.AlipayCert), []byte(b.AlipayRootCert))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = certs
	c, err := alipay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertificateMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.PostForm(e.srv.URL+"/api/apps", url.Values{"app_id": {certAppID},
		"app_public_key": {alipay.MarshalPublicKey(&otherKey.PublicKey)}, "cert_mode": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	var info AppInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.CertBundle == nil {
		t.Fatalf("cert-mode app info: %+v %v", info, err)
	}
	resp.Body.Close()
	b := *info.CertBundle
	for _, sn := range []string{b.AppCertSN, b.AlipayCertSN, b.AlipayRootCertSN} {
		if len(sn) != 32 {
			t.Fatalf("SN %q", sn)
		}
	}
	c := e.certClient(t, b)
	if _, err := c.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "cert1", TotalAmount: 100, Subject: "证书"}); err != nil {
		t.Fatalf("cert-mode precreate: %v", err)
	}
	// The raw response carries alipay_cert_sn before sign.
	req := e.javaRequest(t, "alipay.trade.query", `{"out_trade_no":"cert1"}`, otherKey, func(p map[string]string) {
		p["app_id"] = certAppID
		p["app_cert_sn"], p["alipay_root_cert_sn"] = b.AppCertSN, b.AlipayRootCertSN
	})
	// (javaRequest signs before tamper: re-sign with the certificate parameters included)
	q := req.URL.Query()
	all := map[string]string{"biz_content": `{"out_trade_no":"cert1"}`}
	for k := range q {
		if k != "sign" {
			all[k] = q.Get(k)
		}
	}
	q.Set("sign", javaSign(t, otherKey, alipay.SignTypeRSA2, all))
	req.URL.RawQuery = q.Encode()
	_, body, _ := e.rawCall("alipay.trade.query", req)
	if !strings.Contains(body, `},"alipay_cert_sn":"`+b.AlipayCertSN+`","sign":"`) {
		t.Fatalf("cert-mode response layout: %s", body)
	}
	if _, err := e.sb.Pay(certAppID, "cert1", ""); err != nil {
		t.Fatal(err)
	}
	if q, err := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "cert1"}); err != nil || q.TradeStatus != alipay.TradeStatusSuccess {
		t.Fatalf("cert-mode query: %+v %v", q, err)
	}
	// Notifications carry no alipay_cert_sn and verify with the certificate's key.
	e.deliver()
	got := e.m.notifications()
	if len(got) != 1 || strings.Contains(got[0], "alipay_cert_sn") {
		t.Fatalf("notifications %q", got)
	}
	if _, err := c.VerifyNotification([]byte(got[0])); err != nil {
		t.Fatalf("cert-mode notification: %v", err)
	}
	// The Alipay certificate can be downloaded by SN, and chains to the root.
	pemData, err := c.DownloadAlipayCert(ctx, b.AlipayCertSN)
	if err != nil || string(pemData) != b.AlipayCert {
		t.Fatalf("download: %v", err)
	}
	if _, err := c.DownloadAlipayCert(ctx, strings.Repeat("0", 32)); err == nil || !strings.Contains(err.Error(), "isv.alipay-cert-not-exist") {
		t.Fatalf("download of an unknown SN: %v", err)
	}
	// Requests without or with wrong certificate SNs are refused.
	for _, c := range []struct {
		name, appSN, rootSN, sub string
	}{
		{"no app_cert_sn", "", b.AlipayRootCertSN, "isv.missing-app-cert-sn"},
		{"no root SN", b.AppCertSN, "", "isv.missing-alipay-root-cert-sn"},
		{"wrong app SN", strings.Repeat("a", 32), b.AlipayRootCertSN, "isv.app-cert-not-exist"},
		{"wrong root SN", b.AppCertSN, "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6", "isv.invalid-alipay-root-cert-sn"},
	} {
		p := protocolParams("alipay.trade.query")
		p["app_id"] = certAppID
		p["biz_content"] = `{"out_trade_no":"cert1"}`
		if c.appSN != "" {
			p["app_cert_sn"] = c.appSN
		}
		if c.rootSN != "" {
			p["alipay_root_cert_sn"] = c.rootSN
		}
		p["sign"] = javaSign(t, otherKey, alipay.SignTypeRSA2, p)
		v := url.Values{}
		for k, s := range p {
			v.Set(k, s)
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/gateway.do", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		n, body, _ := e.rawCall("alipay.trade.query", req)
		if n["sub_code"] != c.sub {
			t.Errorf("%s: %s", c.name, body)
		}
	}
}

func TestCertificateModePersists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvDir(t, dir)
	if _, err := e.sb.RegisterAppWith(certAppID, &otherKey.PublicKey, AppOptions{CertMode: true}); err != nil {
		t.Fatal(err)
	}
	b1, err := e.sb.Certificates(certAppID)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Close()
	e.sb.Close()
	sb, err := New(Config{DataDir: dir, Store: openStore(t, dir), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.RegisterApp(certAppID, &otherKey.PublicKey); err != nil { // as the shop does on every start
		t.Fatal(err)
	}
	b2, err := sb.Certificates(certAppID)
	if err != nil || b2 != b1 {
		t.Fatalf("certificates changed across a restart:\n%+v\n%+v\n%v", b1, b2, err)
	}
}
