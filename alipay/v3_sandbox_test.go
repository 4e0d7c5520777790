package alipay_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

const v3AppID = "9021000122689420"

// v3Sandbox runs the offline gateway and returns a v3 client for an app
// registered there (certificate mode when certs is set), and a function
// making the same client for another gateway URL.
func v3Sandbox(t *testing.T, certs bool) (*sandbox.Sandbox, *httptest.Server, func(gateway string) *alipay.Client) {
	t.Helper()
	appKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	if err != nil {
		t.Fatal(err)
	}
	alipayKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{AlipayKey: alipayKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	appID := v3AppID
	if _, err := sb.RegisterAppWith(appID, &appKey.PublicKey, sandbox.AppOptions{CertMode: certs}); err != nil {
		t.Fatal(err)
	}
	cfg := alipay.Config{AppID: appID, PrivateKey: appKey, API: alipay.APIv3,
		NotifyURL: "http://127.0.0.1:9/notify"}
	if certs {
		b, err := sb.Certificates(appID)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Certificates, err = alipay.ParseCertificates([]byte(b.AppCert), []byte(b.AlipayCert), []byte(b.AlipayRootCert)); err != nil {
			t.Fatal(err)
		}
	} else {
		cfg.AlipayPublicKey = sb.PublicKey()
	}
	mk := func(gateway string) *alipay.Client {
		cfg := cfg
		cfg.Gateway = gateway
		c, err := alipay.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return sb, srv, mk
}

// TestV3AgainstSandbox runs a trade's life over OpenAPI v3 against the
// offline gateway, in key and certificate mode.
func TestV3AgainstSandbox(t *testing.T) {
	t.Parallel()
	for _, certs := range []bool{false, true} {
		t.Run(map[bool]string{false: "key", true: "cert"}[certs], func(t *testing.T) {
			_, srv, mk := v3Sandbox(t, certs)
			c := mk(srv.URL + "/gateway.do")
			ctx := t.Context()
			const buyer = "2088102177846880"
			cr, err := c.TradeCreate(ctx, alipay.TradeCreateRequest{OutTradeNo: "v3-1", TotalAmount: 8888, Subject: "v3 测试", BuyerID: buyer})
			if err != nil || cr.TradeNo == "" || cr.Raw.API != alipay.APIv3 || cr.Raw.Header.Get("alipay-signature") == "" {
				t.Fatalf("create: %+v %v", cr, err)
			}
			q, err := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "v3-1"})
			if err != nil || q.TradeStatus != alipay.TradeStatusWaitBuyerPay {
				t.Fatalf("query before paying: %+v %v", q, err)
			}
			// The buyer pays, through the sandbox's control API.
			resp, err := http.PostForm(srv.URL+"/api/trades/pay", url.Values{"app_id": {v3AppID}, "out_trade_no": {"v3-1"}})
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("pay: %v %v", resp, err)
			}
			resp.Body.Close()
			q, err = c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "v3-1"})
			if err != nil || q.TradeStatus != alipay.TradeStatusSuccess || q.TotalAmount != 8888 || q.TradeNo != cr.TradeNo || q.SendPayDate.IsZero() {
				t.Fatalf("query after paying: %+v %v", q, err)
			}
			// A partial refund, sent twice with the same out_request_no: one refund.
			ref := alipay.TradeRefundRequest{TradeNo: q.TradeNo, RefundAmount: 1000, OutRequestNo: "r1"}
			r1, err := c.TradeRefund(ctx, ref)
			if err != nil || r1.FundChange != "Y" || r1.RefundFee != 1000 {
				t.Fatalf("refund: %+v %v", r1, err)
			}
			r2, err := c.TradeRefund(ctx, ref)
			if err != nil || r2.FundChange != "N" || r2.RefundFee != 1000 {
				t.Fatalf("repeated refund: %+v %v", r2, err)
			}
			rq, err := c.TradeFastPayRefundQuery(ctx, alipay.TradeFastPayRefundQueryRequest{OutTradeNo: "v3-1", OutRequestNo: "r1"})
			if err != nil || !rq.Refunded() || rq.RefundAmount != 1000 {
				t.Fatalf("refund query: %+v %v", rq, err)
			}
			// A paid trade cannot be closed; an unpaid one can.
			if _, err := c.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "v3-1"}); !alipay.HasSubCode(err, alipay.SubCodeTradeStatusError) {
				t.Fatalf("closing a paid trade: %v", err)
			}
			if _, err := c.TradeCreate(ctx, alipay.TradeCreateRequest{OutTradeNo: "v3-2", TotalAmount: 100, Subject: "v3", BuyerID: buyer}); err != nil {
				t.Fatal(err)
			}
			if cl, err := c.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "v3-2"}); err != nil || cl.OutTradeNo != "v3-2" {
				t.Fatalf("close: %+v %v", cl, err)
			}
			if q, err := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "v3-2"}); err != nil || q.TradeStatus != alipay.TradeStatusClosed {
				t.Fatalf("query after closing: %+v %v", q, err)
			}
			// An error answer is a typed, verified error.
			_, err = c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "never"})
			var e *alipay.Error
			if !errors.As(err, &e) || !alipay.IsTradeNotExist(err) || e.HTTPStatus != http.StatusBadRequest || e.TraceID == "" || e.Unverified || alipay.IsUnknownOutcome(err) {
				t.Fatalf("unknown trade: %#v %v", e, err)
			}
			if pc, err := c.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "v3-3", TotalAmount: 100, Subject: "v3"}); err != nil || pc.QRCode == "" {
				t.Fatalf("precreate: %+v %v", pc, err)
			}
			if _, err := c.BillDownloadURLQuery(ctx, alipay.BillDownloadURLQueryRequest{BillType: "trade", BillDate: "2026-01-01"}); err != nil && !alipay.HasSubCode(err, alipay.SubCodeBillNotExist) {
				t.Fatalf("bill: %v", err)
			}
		})
	}
}

// TestV3SandboxTamperedAnswer puts a relay that changes the answer's body
// between the sandbox and the client: the signature check refuses it, and
// the outcome is unknown.
func TestV3SandboxTamperedAnswer(t *testing.T) {
	t.Parallel()
	sb, srv, mk := v3Sandbox(t, false)
	c := mk(srv.URL + "/gateway.do")
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := bytes.Replace(rec.Body.Bytes(), []byte(`"1.00"`), []byte(`"0.01"`), 1)
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(relay.Close)
	ctx := t.Context()
	if _, err := c.TradeCreate(ctx, alipay.TradeCreateRequest{OutTradeNo: "t-1", TotalAmount: 100, Subject: "v3", BuyerID: "2088102177846880"}); err != nil {
		t.Fatal(err)
	}
	_, err := mk(relay.URL+"/gateway.do").TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "t-1"})
	if !errors.Is(err, alipay.ErrSignature) || !alipay.IsUnknownOutcome(err) || alipay.ResponseOf(err) == nil ||
		!strings.Contains(string(alipay.ResponseOf(err).Body), `"0.01"`) {
		t.Fatalf("tampered answer: %v", err)
	}
}

// The sandbox serves the v3 route of every method the client calls over
// v3: the one table of routes is the client's.
func TestSandboxServesEveryV3Route(t *testing.T) {
	t.Parallel()
	_, srv, _ := v3Sandbox(t, false)
	for _, m := range alipay.V3Methods() {
		verb, path, ok := alipay.V3Route(m)
		if !ok || !strings.HasPrefix(path, "/v3/") {
			t.Fatalf("%s: route %s %s %v", m, verb, path, ok)
		}
		req, _ := http.NewRequestWithContext(t.Context(), verb, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// Unsigned: the route exists, so the answer is about the missing
		// Authorization, not a 404 or 405.
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s (%s): HTTP %d, want 401", verb, path, m, resp.StatusCode)
		}
	}
	if _, _, ok := alipay.V3Route("alipay.trade.page.pay"); ok {
		t.Error("page pay has a v3 route")
	}
}
