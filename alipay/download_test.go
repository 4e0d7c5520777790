package alipay

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDownloadAlipayCert(t *testing.T) {
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
	})
	rotated := pki.leaf(3002, "支付宝(中国)网络技术有限公司-2088 new", 2, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	rotatedSN, _ := CertSN(rotated)
	answer := func(content []byte, sn string) func(gotRequest) (int, string) {
		return func(r gotRequest) (int, string) {
			node := `{"code":"10000","msg":"Success","alipay_cert_content":"` + base64.StdEncoding.EncodeToString(content) + `"}`
			b := signedBody(t, testKey(t, 2), "alipay_open_app_alipaycert_download_response", node)
			return 200, strings.Replace(b, `,"sign"`, `,"alipay_cert_sn":"`+sn+`","sign"`, 1)
		}
	}

	g.setReply(answer(rotated, rotatedSN))
	got, err := c.DownloadAlipayCert(t.Context(), rotatedSN)
	if err != nil {
		t.Fatal(err)
	}
	req := g.last(t)
	if req.Params["method"] != AlipayCertDownloadMethod || req.Biz["alipay_cert_sn"] != rotatedSN {
		t.Fatalf("request %v %v", req.Params["method"], req.Biz)
	}
	// The downloaded certificate then verifies responses naming it.
	cfg := c.cfg
	cfg.Certificates = cfg.Certificates.clone()
	if _, err := cfg.Certificates.AddAlipayCert(got); err != nil {
		t.Fatal(err)
	}
	c2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(signedBody(t, testKey(t, 2), "alipay_trade_close_response", `{"code":"10000","msg":"Success"}`), `,"sign"`, `,"alipay_cert_sn":"`+rotatedSN+`","sign"`, 1)
	if err := c.DecodeResponse(&Response{Method: "alipay.trade.close", StatusCode: 200, Body: []byte(body)}, nil); !errors.Is(err, ErrUnknownCertSN) {
		t.Fatalf("before: %v", err)
	}
	if err := c2.DecodeResponse(&Response{Method: "alipay.trade.close", StatusCode: 200, Body: []byte(body)}, nil); err != nil {
		t.Fatalf("after: %v", err)
	}

	// Refusals: another SN, a certificate outside the root, an expired one,
	// a business error.
	g.setReply(answer(rotated, rotatedSN))
	if _, err := c.DownloadAlipayCert(t.Context(), "00000000000000000000000000000000"); !errors.Is(err, ErrCertificate) {
		t.Fatalf("SN mismatch: %v", err)
	}
	forged := forgedCert(t, pki) // the root's name, another key
	forgedSN, _ := CertSN(forged)
	g.setReply(answer(forged, forgedSN))
	if _, err := c.DownloadAlipayCert(t.Context(), forgedSN); !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "chain") {
		t.Fatalf("foreign root: %v", err)
	}
	expired := pki.leaf(3003, "old", 2, time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	expiredSN, _ := CertSN(expired)
	g.setReply(answer(expired, expiredSN))
	if _, err := c.DownloadAlipayCert(t.Context(), expiredSN); !errors.Is(err, ErrCertificate) {
		t.Fatalf("expired: %v", err)
	}
	g.setReply(func(gotRequest) (int, string) {
		return 200, `{"alipay_open_app_alipaycert_download_response":{"code":"40004","msg":"Business Failed","sub_code":"CERT_NOT_EXIST","sub_msg":"证书不存在"}}`
	})
	var e *Error
	if _, err := c.DownloadAlipayCert(t.Context(), rotatedSN); !errors.As(err, &e) || !e.Unverified {
		t.Fatalf("business error: %v", err)
	}
	// Key mode cannot check a download.
	if _, err := g.client(t).DownloadAlipayCert(t.Context(), rotatedSN); !errors.Is(err, ErrInvalidParam) {
		t.Fatalf("key mode: %v", err)
	}
}

// forgedCert issues a certificate for test key 2 under a CA that copies the
// test root's name but holds test key 0.
func forgedCert(t *testing.T, pki *testPKI) []byte {
	t.Helper()
	var root *x509.Certificate
	for rest := pki.rootBundle; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil && c.Subject.CommonName == "Test Root R1" {
			root = c
		}
	}
	if root == nil {
		t.Fatal("no test root")
	}
	fake := *root
	fake.PublicKey = &testKey(t, 0).PublicKey
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3002), Subject: pkix.Name{CommonName: "forged"},
		NotBefore: root.NotBefore, NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &fake, &testKey(t, 2).PublicKey, testKey(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	return pemCert(der)
}

// TestAlipayCertChainRealCerts checks the chain rule on real Alipay
// certificates: the sandbox CA (whose intermediate lacks CA basic
// constraints, which crypto/x509's Verify would refuse) and production.
func TestAlipayCertChainRealCerts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cert, root string
		ok         bool
	}{
		{"sw_alipayPublicCert.crt", "fz_dc_alipay_root_cert.crt", true}, // sandbox chain, sandbox root
		{"gp_alipayPublicCert.crt", "fz_dc_alipay_root_cert.crt", true},
		{"es_alipayCertPublicKey_RSA2.crt", "es_alipayRootCert.crt", true}, // production
		{"sw_alipayPublicCert.crt", "sw_alipayRootCert.crt", false},        // sandbox chain, production root
		{"node_alipayCertPublicKey_RSA2.crt", "sw_alipayRootCert.crt", false},
	} {
		certPEM, err := os.ReadFile("testdata/certs/" + tc.cert)
		if err != nil {
			t.Fatal(err)
		}
		rootPEM, err := os.ReadFile("testdata/certs/" + tc.root)
		if err != nil {
			t.Fatal(err)
		}
		_, roots, err := rootCerts(rootPEM)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := firstCert(certPEM)
		if err != nil {
			t.Fatal(err)
		}
		at := leaf.NotBefore.Add(24 * time.Hour)
		c := &Client{cfg: Config{PrivateKey: testKey(t, 0), Certificates: &Certificates{roots: roots}, Now: func() time.Time { return at }}, appPub: &testKey(t, 0).PublicKey}
		err = c.checkAlipayCert(certPEM, certSN(leaf))
		if (err == nil) != tc.ok {
			t.Errorf("%s under %s: %v, want ok=%v", tc.cert, tc.root, err, tc.ok)
		}
		if tc.ok {
			at = leaf.NotAfter.Add(time.Hour)
			if err := c.checkAlipayCert(certPEM, certSN(leaf)); err == nil {
				t.Errorf("%s accepted after it expired", tc.cert)
			}
		}
	}
}
