// Package interop drives third-party Go Alipay clients (smartwalle/alipay
// and go-pay/gopay) against `alishop sandbox`, the real program started on
// port 0. It is a module of its own so that the shop's module never depends
// on those libraries. Each call logs one line: library, mode, call, result.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

// callTimeout bounds each call and each wait for a notification: generous,
// since CI machines can be loaded; nothing asserts on how long a call takes.
const callTimeout = 60 * time.Second

// alishopBin is the alishop program TestMain builds from the parent module.
var alishopBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "alishop-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	alishopBin = filepath.Join(dir, "alishop")
	// Built in the parent module, with its own go.sum: this module requires
	// only the packages the tests import.
	build := exec.Command("go", "build", "-o", alishopBin, "./cmd/alishop")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building alishop:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a child's stderr for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sandboxProc is one `alishop sandbox --addr 127.0.0.1:0` process.
type sandboxProc struct {
	root string // http://127.0.0.1:PORT/
	pub  string // the Alipay public key, one-line base64
}

func startSandbox(t *testing.T) *sandboxProc {
	t.Helper()
	cmd := exec.Command(alishopBin, "sandbox", "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("alishop sandbox did not stop on interrupt")
		}
	})
	sb := &sandboxProc{}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if r, ok := strings.CutPrefix(line, "sandbox listening on "); ok {
				sb.root = r
			}
			if k, ok := strings.CutPrefix(line, "alipay public key (支付宝公钥): "); ok {
				sb.pub = k
			}
			if strings.HasPrefix(line, "buyer ") {
				ready <- nil
			}
		}
		ready <- sc.Err()
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("alishop sandbox did not start; stderr: %s", stderr.String())
	}
	if sb.root == "" || sb.pub == "" {
		t.Fatalf("alishop sandbox did not print its URL and key; stderr: %s", stderr.String())
	}
	return sb
}

// gateway is the sandbox's v2 gateway URL.
func (sb *sandboxProc) gateway() string { return sb.root + "gateway.do" }

// post sends a form to a control route and decodes the JSON answer into out
// (when not nil); any status but 200 fails the test.
func (sb *sandboxProc) post(t *testing.T, path string, form url.Values, out any) {
	t.Helper()
	resp, err := http.PostForm(sb.root+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d %s", path, resp.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("POST %s: %v in %s", path, err, body)
		}
	}
}

// app is an app registered at the sandbox with its key and, in certificate
// mode, the certificates the sandbox issued.
type app struct {
	id     string
	key    *rsa.PrivateKey
	pkcs1  string // the private key as PEM "RSA PRIVATE KEY"
	pkcs8  string // the private key as PEM "PRIVATE KEY"
	aesKey string // base64
	seller string // the merchant's user id (seller_id)
	certs  *sandbox.CertBundle
}

// testAESKey is the AES key of key-mode apps (base64 of 16 bytes).
const testAESKey = "aa4BtZ4tspm2wnXLb1ThQA=="

// registerApp registers a fresh app, in key or certificate mode, with an
// AES key for the calls that ask for encryption.
func (sb *sandboxProc) registerApp(t *testing.T, id string, certMode bool) *app {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{id: id, key: k,
		pkcs1: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
		pkcs8: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}
	form := url.Values{"app_id": {id}, "app_public_key": {alipay.MarshalPublicKey(&k.PublicKey)}}
	form.Set("aes_key", testAESKey)
	a.aesKey = testAESKey
	if certMode {
		form.Set("cert_mode", "1")
	}
	var info sandbox.AppInfo
	sb.post(t, "api/apps", form, &info)
	a.seller = info.SellerID
	if certMode {
		if info.CertBundle == nil {
			t.Fatalf("the certificate-mode app %s has no certificates: %+v", id, info)
		}
		a.certs = info.CertBundle
	}
	return a
}

// pay pays a waiting trade as the buyer (for a trade.pay above the
// no-password limit: the buyer confirming it).
func (sb *sandboxProc) pay(t *testing.T, appID, outTradeNo string) {
	t.Helper()
	sb.post(t, "api/trades/pay", url.Values{"app_id": {appID}, "out_trade_no": {outTradeNo}}, nil)
}

// payReturn pays a waiting trade as the buyer and returns the signed
// return_url redirect the cashier sends the browser to.
func (sb *sandboxProc) payReturn(t *testing.T, appID, outTradeNo string) string {
	t.Helper()
	var r struct {
		RedirectURL string `json:"redirect_url"`
	}
	sb.post(t, "api/trades/pay", url.Values{"app_id": {appID}, "out_trade_no": {outTradeNo}}, &r)
	return r.RedirectURL
}

// fault adds one rule to the sandbox's fault plan.
func (sb *sandboxProc) fault(t *testing.T, rule string) {
	t.Helper()
	resp, err := http.Post(sb.root+"api/faults", "application/json", strings.NewReader(rule))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("api/faults %s: HTTP %d %s", rule, resp.StatusCode, body)
	}
}

// payCode issues a live payment code of the default buyer.
func (sb *sandboxProc) payCode(t *testing.T) string {
	t.Helper()
	var pc struct {
		AuthCode string `json:"auth_code"`
	}
	sb.post(t, "api/paycodes", url.Values{"buyer": {sandbox.DefaultBuyer}}, &pc)
	if pc.AuthCode == "" {
		t.Fatal("api/paycodes answered no auth_code")
	}
	return pc.AuthCode
}

// appPayResult is what the Alipay app hands back to the merchant app.
type appPayResult struct {
	ResultStatus string `json:"resultStatus"`
	Memo         string `json:"memo"`
	Result       string `json:"result"`
}

// appPay hands an order string to the sandbox playing the Alipay app.
func (sb *sandboxProc) appPay(t *testing.T, order string) appPayResult {
	t.Helper()
	var r appPayResult
	sb.post(t, "api/apppay", url.Values{"order": {order}}, &r)
	return r
}

// today is the sandbox clock's date (Beijing); advanceDays moves the clock.
func (sb *sandboxProc) today(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(sb.root + "api/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct {
		Beijing string `json:"beijing"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || len(c.Beijing) < 10 {
		t.Fatalf("api/clock: %v %q", err, c.Beijing)
	}
	return c.Beijing[:10]
}

func (sb *sandboxProc) advance(t *testing.T, d string) {
	t.Helper()
	sb.post(t, "api/clock/advance", url.Values{"d": {d}}, nil)
}

// openPayURL follows a page or wap pay URL as the buyer's browser: the
// sandbox answers 303 to its cashier, where the trade now waits.
func openPayURL(u string) (string, error) {
	c := &http.Client{Timeout: callTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/cashier/") {
		body, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("want a 303 to the cashier, got HTTP %d %q %.300s", resp.StatusCode, loc, body)
	}
	return loc, nil
}

// fetch GETs a URL and returns its body (a bill file).
func fetch(u string) (string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: HTTP %d %.200s", u, resp.StatusCode, b)
	}
	return string(b), err
}

// notifyReceiver is the merchant's notify_url: it keeps every form the
// sandbox posts and acknowledges it with "success".
type notifyReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	forms []url.Values
	raw   []*http.Request // the requests, for libraries that parse them
	woken chan struct{}
}

func newNotifyReceiver(t *testing.T) *notifyReceiver {
	n := &notifyReceiver{woken: make(chan struct{}, 1)}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := httptest.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		n.mu.Lock()
		n.forms = append(n.forms, form)
		n.raw = append(n.raw, req)
		n.mu.Unlock()
		select {
		case n.woken <- struct{}{}:
		default:
		}
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *notifyReceiver) url() string { return n.srv.URL + "/notify" }

// wait returns the first notification of a trade with the status, waiting
// up to callTimeout for it (with the request as received).
func (n *notifyReceiver) wait(outTradeNo, status string) (url.Values, *http.Request, error) {
	return n.waitFor(status+" notification for "+outTradeNo, func(f url.Values) bool {
		return f.Get("out_trade_no") == outTradeNo && f.Get("trade_status") == status
	})
}

// waitAgreement returns the agreement's notification of the type
// (dut_user_sign, dut_user_unsign).
func (n *notifyReceiver) waitAgreement(agreementNo, notifyType string) (url.Values, *http.Request, error) {
	return n.waitFor(notifyType+" notification for "+agreementNo, func(f url.Values) bool {
		return f.Get("agreement_no") == agreementNo && f.Get("notify_type") == notifyType
	})
}

// waitFor returns the first notification match accepts, waiting up to callTimeout.
func (n *notifyReceiver) waitFor(what string, match func(url.Values) bool) (url.Values, *http.Request, error) {
	deadline := time.After(callTimeout)
	for {
		n.mu.Lock()
		for i, f := range n.forms {
			if match(f) {
				n.mu.Unlock()
				return f, n.raw[i], nil
			}
		}
		n.mu.Unlock()
		select {
		case <-n.woken:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return nil, nil, fmt.Errorf("no %s within %s", what, callTimeout)
		}
	}
}

// reporter prints one line per call: library, mode, call, result. A
// failing call fails the test; a call the library lacks is a line too.
type reporter struct {
	t         *testing.T
	lib, mode string
	n         atomic.Int32
}

func (r *reporter) line(status, call, detail string) {
	r.t.Helper()
	r.n.Add(1)
	r.t.Logf("%-10s %-4s %-4s %-50s %s", r.lib, r.mode, status, call, detail)
}

// step runs one call; fn's error fails the test, its string is the result.
func (r *reporter) step(call string, fn func() (string, error)) bool {
	r.t.Helper()
	detail, err := fn()
	if err != nil {
		r.n.Add(1)
		r.t.Errorf("%-10s %-4s FAIL %-50s %v", r.lib, r.mode, call, err)
		return false
	}
	r.line("ok", call, detail)
	return true
}

// lacks records a call the library does not offer.
func (r *reporter) lacks(call, why string) {
	r.t.Helper()
	r.line("n/a", call, why)
}

// expectLines fails unless exactly want lines were printed, so that a step
// that silently stopped reporting is noticed.
func (r *reporter) expectLines(want int) {
	r.t.Helper()
	if got := int(r.n.Load()); got != want {
		r.t.Errorf("%s %s: %d lines, want %d", r.lib, r.mode, got, want)
	}
}

// check is a small helper for expected values.
func check(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf("expected "+format, args...)
}

// uniq makes merchant numbers unique per run.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e12)
}

// ctx gives each call callTimeout.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return c
}

// cloneValues copies a form.
func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// otherPublicKey is the base64 public key of a key pair the sandbox never saw.
func otherPublicKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return alipay.MarshalPublicKey(&k.PublicKey)
}

// oauthCode issues a 支付宝登录 auth code of the default buyer for the app
// (api/oauth/codes) and returns it with the buyer's user id.
func (sb *sandboxProc) oauthCode(t *testing.T, appID, scope string) (code, userID string) {
	t.Helper()
	var c sandbox.OAuthCode
	sb.post(t, "api/oauth/codes", url.Values{"app_id": {appID}, "buyer": {sandbox.DefaultBuyer}, "scope": {scope}}, &c)
	if c.AuthCode == "" || c.UserID == "" {
		t.Fatalf("api/oauth/codes answered %+v", c)
	}
	return c.AuthCode, c.UserID
}

// openAuthorize opens the sandbox's authorize page at the path and query of
// a library's publicAppAuthorize.htm URL (the library names Alipay's host).
func (sb *sandboxProc) openAuthorize(libURL string) (string, error) {
	u, err := url.Parse(libURL)
	if err != nil {
		return "", err
	}
	if u.Path != "/oauth2/publicAppAuthorize.htm" {
		return "", fmt.Errorf("an authorize URL on /oauth2/publicAppAuthorize.htm, got %s", libURL)
	}
	resp, err := http.Get(sb.root + "oauth2/publicAppAuthorize.htm?" + u.RawQuery)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`id="pay"`)) || bytes.Contains(body, []byte(`id="error"`)) {
		return "", fmt.Errorf("the authorize page with its consent button, got HTTP %d %.300s", resp.StatusCode, body)
	}
	return u.Host + u.Path + " → the sandbox's consent page", nil
}

// signAgreement follows a page.sign URL to the sign page and signs there
// as the default buyer with the pay password.
func signAgreement(signURL string) error {
	c := &http.Client{Timeout: callTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(signURL)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(page, "/agreement/") {
		return fmt.Errorf("a 303 to the sign page, got HTTP %d %q %.300s", resp.StatusCode, page, body)
	}
	resp, err = c.PostForm(page, url.Values{"login": {sandbox.DefaultBuyer}, "password": {sandbox.BuyerPassword}, "action": {"sign"}})
	if err != nil {
		return err
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && (resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("签约成功"))) {
		return fmt.Errorf("signing: HTTP %d %.300s", resp.StatusCode, body)
	}
	return nil
}
