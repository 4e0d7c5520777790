package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"alishop/alipay"
	"alishop/internal/shoptest"
)

func TestDBDisplayHidesThePassword(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"./data/alishop.db": "./data/alishop.db",
		"postgres://shop:hunter2@db.internal:5432/shop?sslmode=verify-full":        "postgres://shop@db.internal:5432/shop?sslmode=verify-full",
		"postgresql://shop@127.0.0.1/shop?password=hunter2&sslmode=disable":        "postgresql://shop@127.0.0.1/shop?sslmode=disable",
		"postgres://shop@127.0.0.1/shop?sslpassword=hunter2&search_path=alishop_x": "postgres://shop@127.0.0.1/shop?search_path=alishop_x",
	} {
		if got := dbDisplay(in); got != want || strings.Contains(got, "hunter2") {
			t.Errorf("dbDisplay(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnreachableFromAlipay(t *testing.T) {
	t.Parallel()
	for u, bad := range map[string]bool{
		"https://shop.example.com/alipay/notify":  false,
		"http://203.0.113.7:8000/alipay/notify":   false,
		"http://localhost:8000/alipay/notify":     true,
		"http://shop.localhost/alipay/notify":     true,
		"http://127.0.0.1:8000/alipay/notify":     true,
		"http://[::1]:8000/alipay/notify":         true,
		"http://10.1.2.3/alipay/notify":           true,
		"http://192.168.1.20:8000/alipay/notify":  true,
		"http://172.20.0.5/alipay/notify":         true,
		"http://100.100.1.1/alipay/notify":        true,
		"http://169.254.10.1/alipay/notify":       true,
		"http://[fd00::1]/alipay/notify":          true,
		"http://[::ffff:127.0.0.1]/alipay/notify": true,
		"http://0.0.0.0:8000/alipay/notify":       true,
	} {
		if why := unreachableFromAlipay(u); (why != "") != bad {
			t.Errorf("unreachableFromAlipay(%s) = %q; want unreachable %v", u, why, bad)
		}
	}
}

func TestStartingHandler(t *testing.T) {
	t.Parallel()
	h := startingHandler()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/": 503, "/alipay/notify": 503, "/admin/orders": 503} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != want {
			t.Errorf("GET %s while starting: %d, want %d", path, w.Code, want)
		}
		if want == 503 && path != "/readyz" && (w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "请稍后再试")) {
			t.Errorf("GET %s while starting: no Retry-After or page: %q", path, w.Body.String())
		}
	}
}

// TestStartLineAndNotifyWarning: with a real app the start-up line names
// the database and the notify URL given to Alipay; without --public-url
// that URL is the loopback listener's and the shop warns that Alipay
// cannot reach it. With a public https URL it does not warn, and neither
// does the built-in sandbox, which notifies on this machine.
func TestStartLineAndNotifyWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appKey, alipayKey := filepath.Join(dir, "app_private_key.pem"), filepath.Join(dir, "alipay_public_key.pem")
	if err := os.WriteFile(appKey, x509PEM(shoptest.TestKey(t, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alipayKey, alipay.PublicKeyPEM(&shoptest.TestKey(t, 1).PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	realApp := []string{"--alipay-app-id", "2021000000000044", "--alipay-private-key", appKey, "--alipay-public-key", alipayKey,
		"--alipay-gateway", "http://127.0.0.1:1/gateway.do", "--alipay-seller-id", "2088000000000044"}
	warning := "notify URL is not reachable from Alipay"
	for _, c := range []struct {
		name   string
		args   []string
		notify string // the notify URL on the start-up line ("" for the listener's)
		warn   bool
	}{
		{"real app, no public URL", realApp, "", true},
		{"real app, public URL", append(realApp, "--public-url", "https://shop.example.com"), "https://shop.example.com/alipay/notify", false},
		{"built-in sandbox", nil, "", false},
	} {
		data := t.TempDir()
		p := startShop(t, data, c.args...)
		first := p.stdout[0]
		notify := c.notify
		if notify == "" {
			notify = p.base + "/alipay/notify"
		}
		if want := "alishop starting on " + p.base + "/: database " + filepath.Join(data, "alishop.db") + "; Alipay notifications to " + notify; first != want {
			t.Errorf("%s: start-up line\n%q, want\n%q", c.name, first, want)
		}
		if got := strings.Contains(p.stderr.String(), warning); got != c.warn {
			t.Errorf("%s: warning %q logged: %v, want %v\n%s", c.name, warning, got, c.warn, p.stderr)
		}
		if err := p.stop(); err != nil {
			t.Fatal(err)
		}
	}
}

func x509PEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}
