package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox/sqlitestore"
)

// Keys are generated once per test binary: RSA-2048 generation is slow.
var (
	keysOnce           sync.Once
	appKey, otherKey   *rsa.PrivateKey
	alipayKey, rsa1Key *rsa.PrivateKey
)

func keys(t testing.TB) {
	keysOnce.Do(func() {
		gen := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			return k
		}
		appKey, otherKey, alipayKey, rsa1Key = gen(2048), gen(2048), gen(2048), gen(2048)
	})
}

// t0 is the base time of the fake clock: 2026-03-10 10:00:00 Beijing.
var t0 = time.Date(2026, 3, 10, 10, 0, 0, 0, alipay.Beijing)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// merchant is a notify_url / return_url receiver.
type merchant struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string                        // notification bodies, in arrival order
	answer func(n int, body string) string // the answer to the n-th notification (1-based)
	got    chan struct{}
}

func newMerchant(t *testing.T) *merchant {
	m := &merchant{answer: func(int, string) string { return "success" }, got: make(chan struct{}, 1000)}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/notify" {
			w.WriteHeader(http.StatusOK)
			return
		}
		b, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		m.bodies = append(m.bodies, string(b))
		n := len(m.bodies)
		answer := m.answer
		m.mu.Unlock()
		_, _ = io.WriteString(w, answer(n, string(b)))
		m.got <- struct{}{}
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchant) notifications() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.bodies...)
}

func (m *merchant) setAnswer(f func(n int) string) {
	m.setAnswerBody(func(n int, _ string) string { return f(n) })
}

func (m *merchant) setAnswerBody(f func(n int, body string) string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answer = f
}

type testEnv struct {
	t      *testing.T
	clock  *fakeClock
	sb     *Sandbox
	srv    *httptest.Server
	app    App
	client *alipay.Client
	m      *merchant
	http   *http.Client // does not follow redirects
}

const testAppID = "9021000123456789"

func newEnv(t *testing.T) *testEnv {
	return newEnvDir(t, "")
}

func newEnvDir(t *testing.T, dir string) *testEnv {
	t.Helper()
	keys(t)
	e := &testEnv{t: t, clock: &fakeClock{t: t0}}
	sb, err := New(Config{DataDir: dir, Store: openStore(t, dir), Now: e.clock.Now, AlipayKey: alipayKey})
	if err != nil {
		t.Fatal(err)
	}
	e.sb = sb
	e.srv = httptest.NewServer(sb)
	t.Cleanup(func() { e.srv.Close(); sb.Close() })
	e.app, err = sb.RegisterApp(testAppID, &appKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	e.m = newMerchant(t)
	e.client = e.newClient(testAppID, appKey, alipay.SignTypeRSA2)
	e.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	return e
}

// restart stops the sandbox of an env made by newEnvDir(t, dir) and starts
// another on the same data dir and clock, as a restart of the process does
// (the key is read back from dir). It is closed when the test ends.
func (e *testEnv) restart(dir string) *Sandbox {
	e.t.Helper()
	e.srv.Close()
	if err := e.sb.Close(); err != nil {
		e.t.Fatal(err)
	}
	sb, err := New(Config{DataDir: dir, Store: openStore(e.t, dir), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { sb.Close() })
	return sb
}

// openStore opens the SQLite store of a data dir; "" is no store (memory).
func openStore(t *testing.T, dir string) Store {
	t.Helper()
	if dir == "" {
		return nil
	}
	st, err := sqlitestore.Open(filepath.Join(dir, "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *testEnv) newClient(appID string, key *rsa.PrivateKey, st alipay.SignType) *alipay.Client {
	c, err := alipay.New(alipay.Config{
		AppID: appID, PrivateKey: key, AlipayPublicKey: e.sb.PublicKey(), SignType: st,
		Gateway: e.srv.URL + "/gateway.do", NotifyURL: e.m.srv.URL + "/notify", ReturnURL: e.m.srv.URL + "/return",
		Now: e.clock.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// openCashier signs a page pay URL, opens it (creating the trade) and
// returns the cashier URL.
func (e *testEnv) openCashier(outTradeNo string, amount alipay.Amount) string {
	e.t.Helper()
	u, err := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: outTradeNo, TotalAmount: amount, Subject: "测试商品 Go 书"})
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.http.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("page pay: HTTP %d, want 303; body %s", resp.StatusCode, decodeGBK(body))
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/cashier/") {
		e.t.Fatalf("page pay redirects to %q, want the cashier", loc)
	}
	return loc
}

// paid creates a trade and pays it through the control API.
func (e *testEnv) paid(outTradeNo string, amount alipay.Amount) {
	e.t.Helper()
	e.openCashier(outTradeNo, amount)
	if _, err := e.sb.Pay(testAppID, outTradeNo, ""); err != nil {
		e.t.Fatal(err)
	}
}

// deliver runs the due events without moving the clock.
func (e *testEnv) deliver() { e.sb.Advance(context.Background(), 0) }

func (e *testEnv) advance(d time.Duration) {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/api/clock/advance", url.Values{"d": {d.String()}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("advance: HTTP %d", resp.StatusCode)
	}
}

func (e *testEnv) postJSON(path, body string) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (e *testEnv) getJSON(path string, v any) int {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode
}

func (e *testEnv) attempts(outTradeNo string) []Attempt {
	var out struct{ Attempts []Attempt }
	e.getJSON("/api/notifications?out_trade_no="+outTradeNo, &out)
	return out.Attempts
}

// verifiedNotification parses and verifies a notification body with our client.
func (e *testEnv) verifiedNotification(body string) (*alipay.Notification, error) {
	return e.client.VerifyNotification([]byte(body))
}

func decodeGBK(b []byte) string { return decodeCharset(string(b), "gbk") }

// gatewayCall posts raw params (already signed) as the body and returns the
// decoded node and whether the signature over it verified.
func (e *testEnv) rawCall(method string, req *http.Request) (map[string]any, string, bool) {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	raw, err := alipay.ExtractResponse(body, method)
	if err != nil {
		e.t.Fatalf("%s: %v in %s", method, err, body)
	}
	var n map[string]any
	if err := json.Unmarshal(raw.Content, &n); err != nil {
		e.t.Fatal(err)
	}
	signed := raw.Sign != "" && alipay.Verify(e.sb.PublicKey(), alipay.SignTypeRSA2, raw.Content, raw.Sign) == nil
	return n, string(body), signed
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
