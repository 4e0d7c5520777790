package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"alishop/alipay"
)

// A bad-signature answer quotes the string-to-sign in sub_msg: request text
// comes back with <, > and & escaped, the JSON still decodes to the original
// text, and a signed answer verifies over the bytes sent.
func TestGatewayAnswersEscapeMarkup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	payload := `<img src=x onerror=alert(1)>&`
	q := url.Values{"app_id": {testAppID}, "method": {"alipay.trade.query"}, "charset": {"utf-8"}, "sign_type": {"RSA2"},
		"timestamp": {"2026-03-10 10:00:00"}, "version": {"1.0"}, "biz_content": {`{"out_trade_no":"` + payload + `"}`}, "sign": {"AAAA"}}
	resp, err := http.Get(e.srv.URL + "/gateway.do?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.ContainsAny(string(body), "<>&") {
		t.Fatalf("answer carries raw markup: %s", body)
	}
	raw, err := alipay.ExtractResponse(body, "alipay.trade.query")
	if err != nil {
		t.Fatal(err)
	}
	var n struct {
		SubMsg string `json:"sub_msg"`
	}
	if err := json.Unmarshal(raw.Content, &n); err != nil || !strings.Contains(n.SubMsg, payload) {
		t.Fatalf("sub_msg %q (%v), want it to quote %q", n.SubMsg, err, payload)
	}
	if err := alipay.Verify(e.sb.PublicKey(), alipay.SignTypeRSA2, raw.Content, raw.Sign); err != nil {
		t.Fatalf("signature over the escaped bytes: %v", err)
	}
}

// Every answer, whatever its route, carries nosniff and a CSP that allows
// no script.
func TestSecurityHeadersEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cashier := e.openCashier("h1", alipay.MustAmount("1.00"))
	for _, u := range []string{"/", "/gateway.do?method=alipay.trade.page.pay", "/gateway.do", cashier, "/qr/nope", "/static/sandbox.css", "/api/trades", "/api/nope", "/bill/nope",
		"/wallet", "/wallet/confirm/nope", "/app", "/app/pay/nope"} {
		if !strings.HasPrefix(u, "http") {
			u = e.srv.URL + u
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: nosniff %q, CSP %q", u, resp.Header.Get("X-Content-Type-Options"), csp)
		}
	}
}

// Registering an app again with another key is refused (409), over HTTP and
// through the Go API; the same key again is accepted.
func TestRegisterAppNeverReplacesKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	post := func(key string) int {
		resp, err := http.PostForm(e.srv.URL+"/api/apps", url.Values{"app_id": {testAppID}, "app_public_key": {key}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(alipay.MarshalPublicKey(&otherKey.PublicKey)); got != http.StatusConflict {
		t.Fatalf("another key: HTTP %d, want 409", got)
	}
	if got := post(alipay.MarshalPublicKey(&appKey.PublicKey)); got != http.StatusOK {
		t.Fatalf("the same key again: HTTP %d, want 200", got)
	}
	if _, err := e.sb.RegisterApp(testAppID, &otherKey.PublicKey); !errors.Is(err, ErrKeyConflict) {
		t.Fatalf("RegisterApp with another key: %v, want ErrKeyConflict", err)
	}
	// The app still works with its own key.
	if _, err := e.client.TradePrecreate(t.Context(), alipay.TradePrecreateRequest{OutTradeNo: "k1", TotalAmount: alipay.MustAmount("1.00"), Subject: "k"}); err != nil {
		t.Fatal(err)
	}
}

// With ControlLoopbackOnly the control API refuses a non-loopback client
// (by its connection's address; headers do not make it loopback) and any
// request a proxy forwarded, and serves the rest.
func TestControlLoopbackOnly(t *testing.T) {
	t.Parallel()
	keys(t)
	sb, err := New(Config{AlipayKey: alipayKey, ControlLoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	do := func(method, target, remote string, header ...string) int {
		req := httptest.NewRequest(method, target, strings.NewReader(""))
		req.RemoteAddr = remote
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		return w.Code
	}
	for _, c := range []struct{ method, path string }{{"GET", "/api/trades"}, {"GET", "/api/notifications"}, {"POST", "/api/apps"},
		{"POST", "/api/trades/pay"}, {"POST", "/api/reset"}, {"POST", "/api/clock/advance"}, {"GET", "/api/faults"},
		{"POST", "/api/paycodes"}, {"POST", "/api/accounts"}, {"POST", "/api/apppay"}} {
		if got := do(c.method, c.path, "192.0.2.7:5555", "X-Forwarded-For", "127.0.0.1", "X-Real-Ip", "127.0.0.1"); got != http.StatusForbidden {
			t.Errorf("%s %s from 192.0.2.7: HTTP %d, want 403", c.method, c.path, got)
		}
		for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
			if got := do(c.method, c.path, "127.0.0.1:5555", h, ""); got != http.StatusForbidden {
				t.Errorf("%s %s from 127.0.0.1 with %s: HTTP %d, want 403", c.method, c.path, h, got)
			}
		}
		if got := do(c.method, c.path, "[::1]:5555"); got == http.StatusForbidden {
			t.Errorf("%s %s from ::1: HTTP 403", c.method, c.path)
		}
	}
	if got := do("GET", "/api/clock", "127.0.0.2:1"); got != http.StatusOK {
		t.Errorf("GET api/clock from 127.0.0.2: HTTP %d", got)
	}
	if got := do("GET", "/", "192.0.2.7:5555"); got != http.StatusOK {
		t.Errorf("index from 192.0.2.7: HTTP %d, want 200", got)
	}
}

// The delivery log does not read back what a notify URL answered, beyond
// whether it was success.
func TestNotificationLogDoesNotEchoAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.m.setAnswer(func(int) string { return "internal secret: db-password=hunter2" })
	e.paid("ssrf1", alipay.MustAmount("1.00"))
	e.deliver()
	resp, err := http.Get(e.srv.URL + "/api/notifications?out_trade_no=ssrf1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "hunter2") || !strings.Contains(string(body), `"acked": false`) {
		t.Fatalf("notification log: %s", body)
	}
}
