package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

// sandboxProc is `alishop sandbox` run in-process through run().
type sandboxProc struct {
	root   string // http://127.0.0.1:PORT/
	pub    *rsa.PublicKey
	stderr *sbLogBuffer
	done   chan error
	cancel context.CancelFunc
	lines  chan string // stdout lines after the public key
}

type sbLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *sbLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *sbLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startSandboxCmd(t *testing.T, args ...string) *sandboxProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &sandboxProc{stderr: &sbLogBuffer{}, done: make(chan error, 1), cancel: cancel}
	go func() {
		err := run(ctx, append([]string{"alishop", "sandbox"}, args...), func(string) string { return "" }, strings.NewReader(""), pw, p.stderr)
		pw.Close()
		p.done <- err
	}()
	lines := make(chan string, 100)
	p.lines = lines
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("alishop sandbox exited with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("alishop sandbox did not stop")
		}
	})
	deadline := time.After(20 * time.Second)
	for p.pub == nil {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("alishop sandbox stopped: %v\nstderr: %s", <-p.done, p.stderr.String())
			}
			if r, ok := strings.CutPrefix(line, "sandbox listening on "); ok {
				p.root = r
			}
			if k, ok := strings.CutPrefix(line, "alipay public key (支付宝公钥): "); ok {
				pub, err := alipay.ParsePublicKey([]byte(k))
				if err != nil {
					t.Fatal(err)
				}
				p.pub = pub
			}
		case <-deadline:
			t.Fatalf("alishop sandbox did not start; stderr: %s", p.stderr.String())
		}
	}
	if !strings.HasPrefix(p.root, "http://127.0.0.1:") {
		t.Fatalf("listening URL %q", p.root)
	}
	return p
}

// shopStub receives notifications and verifies them with our client.
type shopStub struct {
	srv    *httptest.Server
	client func() *alipay.Client
	notes  chan *alipay.Notification
}

func newShopStub(t *testing.T) *shopStub {
	s := &shopStub{notes: make(chan *alipay.Notification, 100)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/notify" {
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, alipay.MaxNotifyBody))
		if err != nil {
			t.Error(err)
			return
		}
		n, err := s.client().VerifyNotification(body)
		if err != nil {
			t.Errorf("notification does not verify: %v", err)
			_, _ = io.WriteString(w, "fail")
			return
		}
		_, _ = io.WriteString(w, "success")
		s.notes <- n
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *shopStub) next(t *testing.T) *alipay.Notification {
	t.Helper()
	select {
	case n := <-s.notes:
		return n
	case <-time.After(15 * time.Second):
		t.Fatal("no notification arrived")
		return nil
	}
}

func writeAppKey(t *testing.T) (*rsa.PrivateKey, string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "app_public_key.pem")
	if err := os.WriteFile(file, alipay.PublicKeyPEM(&k.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	return k, file
}

// TestSandboxCommandRoundTrip drives our client against
// `alishop sandbox` on port 0, through every API.
func TestSandboxCommandRoundTrip(t *testing.T) {
	t.Parallel()
	const appID = "9021000100000001"
	key, keyFile := writeAppKey(t)
	p := startSandboxCmd(t, "--addr", "127.0.0.1:0", "--app", appID+"="+keyFile)
	if !strings.Contains(p.stderr.String(), "loopback") {
		t.Errorf("stderr does not say it is bound to loopback: %s", p.stderr.String())
	}
	shop := newShopStub(t)
	c, err := alipay.New(alipay.Config{AppID: appID, PrivateKey: key, AlipayPublicKey: p.pub, Gateway: p.root + "gateway.do",
		NotifyURL: shop.srv.URL + "/notify", ReturnURL: shop.srv.URL + "/return"})
	if err != nil {
		t.Fatal(err)
	}
	shop.client = func() *alipay.Client { return c }
	ctx := context.Background()
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var seller string

	openCashier := func(out string, amount alipay.Amount) string {
		t.Helper()
		u, err := c.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: out, TotalAmount: amount, Subject: "Go 语言圣经"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noFollow.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("page pay: HTTP %d", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	checkReturn := func(loc string, out string) {
		t.Helper()
		u, err := url.Parse(loc)
		if err != nil || !strings.HasPrefix(loc, shop.srv.URL+"/return?") {
			t.Fatalf("return redirect %q", loc)
		}
		r, err := c.VerifyNotification([]byte(u.RawQuery))
		if err != nil || r.OutTradeNo != out {
			t.Fatalf("return: %+v %v", r, err)
		}
		seller = r.SellerID
	}
	checkPaid := func(out string, amount alipay.Amount) {
		t.Helper()
		n := shop.next(t)
		if err := n.Check(alipay.Expect{AppID: appID, SellerID: seller, TotalAmount: amount}); err != nil || n.OutTradeNo != out || !n.TradeStatus.Paid() {
			t.Fatalf("notification %+v: %v", n, err)
		}
		q, err := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: out})
		if err != nil || q.TradeStatus != alipay.TradeStatusSuccess {
			t.Fatalf("query %s: %+v %v", out, q, err)
		}
	}

	// 1. Page pay, paid by posting the cashier form.
	cashier := openCashier("rt1", alipay.MustAmount("99.00"))
	resp, err := noFollow.PostForm(cashier, url.Values{"login": {sandbox.DefaultBuyer}, "password": {sandbox.BuyerPassword}, "action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checkReturn(resp.Header.Get("Location"), "rt1")
	checkPaid("rt1", alipay.MustAmount("99.00"))

	// 2. Page pay, paid through the control API.
	openCashier("rt2", alipay.MustAmount("30.00"))
	resp, err = http.PostForm(p.root+"api/trades/pay", url.Values{"app_id": {appID}, "out_trade_no": {"rt2"}})
	if err != nil {
		t.Fatal(err)
	}
	var paid struct {
		RedirectURL string `json:"redirect_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&paid)
	resp.Body.Close()
	checkReturn(paid.RedirectURL, "rt2")
	checkPaid("rt2", alipay.MustAmount("30.00"))

	// 3. Refunds: partial, repeated (fund_change N), then the rest.
	ref := "rt1"
	for i, step := range []struct {
		amount, reqNo, fundChange, total string
	}{{"9.00", "rf1", "Y", "9.00"}, {"9.00", "rf1", "N", "9.00"}, {"90.00", "rf2", "Y", "99.00"}} {
		r, err := c.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount(step.amount), OutRequestNo: step.reqNo})
		if err != nil || r.FundChange != step.fundChange || r.RefundFee != alipay.MustAmount(step.total) {
			t.Fatalf("refund step %d: %+v %v", i+1, r, err)
		}
	}
	if n := shop.next(t); n.TradeStatus != alipay.TradeStatusSuccess || n.RefundFee != alipay.MustAmount("9.00") || n.OutBizNo != "rf1" {
		t.Fatalf("partial refund notification %+v", n)
	}
	if n := shop.next(t); n.TradeStatus != alipay.TradeStatusClosed || n.RefundFee != alipay.MustAmount("99.00") {
		t.Fatalf("full refund notification %+v", n)
	}
	if q, _ := c.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: ref}); q.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("after the full refund: %s", q.TradeStatus)
	}

	// 4. Close and cancel.
	openCashier("rt3", alipay.MustAmount("5.00"))
	if _, err := c.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "rt3"}); err != nil {
		t.Fatal(err)
	}
	if n := shop.next(t); n.OutTradeNo != "rt3" || n.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("close notification %+v", n)
	}
	if _, err := c.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "rt2"}); !alipay.HasSubCode(err, "ACQ.TRADE_STATUS_ERROR") {
		t.Fatalf("close of a paid trade: %v", err)
	}
	if r, err := c.TradeCancel(ctx, alipay.TradeCancelRequest{OutTradeNo: "rt2"}); err != nil || r.Action != "refund" {
		t.Fatalf("cancel of a paid trade: %+v %v", r, err)
	}
	if n := shop.next(t); n.OutTradeNo != "rt2" || n.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("cancel notification %+v", n)
	}

	// 5. Precreate, then the buyer pays in the wallet page behind the QR code.
	pre, err := c.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "rt4", TotalAmount: alipay.MustAmount("12.50"), Subject: "扫码购"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(pre.QRCode)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.PostForm(pre.QRCode, url.Values{"login": {sandbox.DefaultBuyer}, "password": {sandbox.BuyerPassword}, "action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checkPaid("rt4", alipay.MustAmount("12.50"))

	// 6. The next day, the bill of the day(s) holds every payment and refund.
	days := map[string]bool{}
	for _, out := range []string{"rt1", "rt2", "rt4"} {
		var tv sandbox.TradeView
		resp, _ := http.Get(p.root + "api/trades?app_id=" + appID + "&out_trade_no=" + out)
		_ = json.NewDecoder(resp.Body).Decode(&tv)
		resp.Body.Close()
		days[tv.GmtPayment[:10]] = true
	}
	resp, _ = http.PostForm(p.root+"api/clock/advance", url.Values{"d": {"48h"}})
	resp.Body.Close()
	var bill string
	for day := range days {
		b, err := c.BillDownloadURLQuery(ctx, alipay.BillDownloadURLQueryRequest{BillType: "trade", BillDate: day})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(b.BillDownloadURL)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bill += string(data)
	}
	for _, want := range []string{",rt1,交易,", ",rt1,退款,", ",-9.00,", ",-90.00,", ",rt2,交易,", ",rt2,退款,", ",rt4,交易,", ",12.50,"} {
		if !strings.Contains(bill, want) {
			t.Errorf("the bill lacks %q:\n%s", want, bill)
		}
	}
}

func TestSandboxCommandFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	runCmd := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"alishop", "sandbox"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errb)
		return errb.String(), err
	}
	var ee *exitError
	if _, err := runCmd("--app", "noequals"); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("--app without =: %v", err)
	}
	if _, err := runCmd("--app", "9021000100000001=/no/such/file.pem"); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, "/no/such/file.pem") {
		t.Errorf("missing key file: %v", err)
	}
	if _, err := runCmd("--addr", "192.0.2.1:0"); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, "--listen-any") {
		t.Errorf("non-loopback without --listen-any: %v", err)
	}
	if _, err := runCmd("extra"); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("extra argument: %v", err)
	}
	var out, errb bytes.Buffer
	env := map[string]string{"ALISHOP_SANDBOX_ADDR": "192.0.2.1:0", "ALISHOP_ADDR": "127.0.0.1:0"}
	err := run(ctx, []string{"alishop", "sandbox"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, "192.0.2.1") {
		t.Errorf("ALISHOP_SANDBOX_ADDR is not used: %v", err)
	}
	env = map[string]string{"ALISHOP_SANDBOX_APP": "9021000100000001=/no/such.pem"}
	err = run(ctx, []string{"alishop", "sandbox"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, "/no/such.pem") {
		t.Errorf("ALISHOP_SANDBOX_APP is not used: %v", err)
	}
	for _, c := range []struct {
		addr string
		any  bool
		want string
	}{
		{":9000", false, "127.0.0.1:9000"},
		{"0.0.0.0:0", false, "127.0.0.1:0"},
		{"[::]:80", false, "127.0.0.1:80"},
		{"localhost:1", false, "127.0.0.1:1"},
		{"127.0.0.2:5", false, "127.0.0.2:5"},
		{":9000", true, ":9000"},
		{"192.0.2.1:9", true, "192.0.2.1:9"},
	} {
		got, err := bindAddress(c.addr, c.any)
		if err != nil || got != c.want {
			t.Errorf("bindAddress(%q, %v) = %q, %v; want %q", c.addr, c.any, got, err, c.want)
		}
	}
}

func TestSandboxCommandCertificateApp(t *testing.T) {
	t.Parallel()
	key, _ := writeAppKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(20260310), Subject: pkix.Name{CommonName: "9021000100000002"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	file := filepath.Join(t.TempDir(), "appCertPublicKey_9021000100000002.crt")
	if err := os.WriteFile(file, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	p := startSandboxCmd(t, "--addr", "127.0.0.1:0", "--app", "9021000100000002="+file)
	sn, _ := alipay.CertSN(certPEM)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line := <-p.lines:
			if strings.HasPrefix(line, "app 9021000100000002 ") {
				if !strings.Contains(line, "certificate mode: app_cert_sn "+sn) {
					t.Fatalf("app line %q, want app_cert_sn %s", line, sn)
				}
				return
			}
		case <-timeout:
			t.Fatal("no app line")
		}
	}
}

func TestSandboxCommandDataDirKeepsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p1 := startSandboxCmd(t, "--addr", "127.0.0.1:0", "--data", dir)
	p1.cancel()
	if err := <-p1.done; err != nil {
		t.Fatal(err)
	}
	p1.done <- nil // for the cleanup
	p2 := startSandboxCmd(t, "--addr", "127.0.0.1:0", "--data", dir)
	if !alipay.SameKey(p1.pub, p2.pub) {
		t.Fatal("the Alipay key changed across restarts with --data")
	}
	if _, err := os.Stat(filepath.Join(dir, "sandbox.db")); err != nil {
		t.Fatal(err)
	}
}
