package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

// nodeSDKVersion is the official Alipay Node.js SDK the interop test installs.
const nodeSDKVersion = "alipay-sdk@4.14.0"

// needTool fails under CI=true and skips elsewhere when a dependency of a
// test is missing.
func needTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (skipped outside CI)", args...)
}

// installNodeSDK installs the SDK into a temporary directory with the
// interop script beside it and returns the directory.
func installNodeSDK(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			needTool(t, "the Node.js SDK interop test needs %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", "--prefix", dir, nodeSDKVersion)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		needTool(t, "npm install %s: %v\n%s", nodeSDKVersion, err, out)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "nodesdk", "interop.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "interop.cjs"), script, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sandboxChild is `alishop sandbox` run as a separate process: this test
// binary re-executed through TestMain's "serve" mode, i.e. run() as main
// calls it.
type sandboxChild struct {
	root string // http://127.0.0.1:PORT/
	pub  string // the Alipay public key, one-line base64
}

func startSandboxChild(t *testing.T, args ...string) *sandboxChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "ALISHOP_BENCH_CHILD=serve")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr sbLogBuffer
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
	c := &sandboxChild{}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if r, ok := strings.CutPrefix(line, "sandbox listening on "); ok {
				c.root = r
			}
			if k, ok := strings.CutPrefix(line, "alipay public key (支付宝公钥): "); ok {
				c.pub = k
			}
			if strings.HasPrefix(line, "buyer ") {
				ready <- nil
			}
		}
		ready <- sc.Err()
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("alishop sandbox did not start; stderr: %s", stderr.String())
	}
	if c.root == "" || c.pub == "" {
		t.Fatalf("alishop sandbox did not print its URL and key; stderr: %s", stderr.String())
	}
	return c
}

func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func pkcs8PEM(t *testing.T, k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TestSandboxNodeSDK drives `alishop sandbox` with the official Node.js SDK
// over v2 (exec with validateSign, pageExecute, checkNotifySign, sdkExecute
// for app pay with checkResponseSign on the app's result; trade.pay paid at
// once and waiting as USERPAYING; 支付宝登录 and agreements; transfers and
// 分账) and v3 (curl),
// in key mode (PKCS#1 key, also AES-encrypted calls) and
// certificate mode (PKCS#8 key, the SDK computing the SNs from the
// sandbox's certificates). It logs one line per call.
func TestSandboxNodeSDK(t *testing.T) {
	t.Parallel()
	dir := installNodeSDK(t)
	keyApp, keyFile := writeAppKey(t)
	certApp, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const keyAppID, certAppID = "9021000100000031", "9021000100000032"
	sb := startSandboxChild(t, "--app", keyAppID+"="+keyFile)

	resp, err := http.PostForm(sb.root+"api/apps", url.Values{"app_id": {certAppID},
		"app_public_key": {alipay.MarshalPublicKey(&certApp.PublicKey)}, "cert_mode": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	var info sandbox.AppInfo
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.CertBundle == nil {
		t.Fatalf("registering the certificate-mode app: HTTP %d %+v %v", resp.StatusCode, info, err)
	}
	b := info.CertBundle
	// The key-mode app also gets an AES key, for needEncrypt calls.
	const aesKey = "aa4BtZ4tspm2wnXLb1ThQA=="
	resp, err = http.PostForm(sb.root+"api/apps", url.Values{"app_id": {keyAppID},
		"app_public_key": {alipay.MarshalPublicKey(&keyApp.PublicKey)}, "aes_key": {aesKey}})
	if err != nil {
		t.Fatal(err)
	}
	var keyInfo sandbox.AppInfo
	err = json.NewDecoder(resp.Body).Decode(&keyInfo)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("setting the AES key: HTTP %d %v", resp.StatusCode, err)
	}

	for _, mode := range []map[string]string{
		{"mode": "key", "appId": keyAppID, "sellerId": keyInfo.SellerID, "privateKey": pkcs1PEM(keyApp), "keyType": "PKCS1", "alipayPublicKey": sb.pub, "aesKey": aesKey},
		{"mode": "cert", "appId": certAppID, "sellerId": info.SellerID, "privateKey": pkcs8PEM(t, certApp), "keyType": "PKCS8",
			"appCert": b.AppCert, "alipayCert": b.AlipayCert, "alipayRootCert": b.AlipayRootCert,
			"appCertSN": b.AppCertSN, "alipayCertSN": b.AlipayCertSN, "alipayRootCertSN": b.AlipayRootCertSN},
	} {
		mode["root"] = sb.root
		mode["otherPrivateKey"] = pkcs1PEM(other)
		mode["otherPublicKey"] = alipay.MarshalPublicKey(&other.PublicKey)
		runNodeInterop(t, dir, mode)
	}
}

// runNodeInterop runs the script for one mode and checks its lines.
func runNodeInterop(t *testing.T, dir string, cfg map[string]string) {
	t.Helper()
	js, _ := json.Marshal(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "interop.cjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ALISHOP_NODESDK_CONFIG="+string(js))
	var stderr sbLogBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("node interop.cjs (%s mode): %v\nstderr: %s", cfg["mode"], err, stderr.String())
	}
	calls := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Call   string `json:"call"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal([]byte(line), &r) != nil {
			t.Errorf("unexpected output line: %q", line)
			continue
		}
		calls++
		if r.OK {
			t.Logf("ok   %s: %s", r.Call, r.Detail)
		} else {
			t.Errorf("FAIL %s: %s", r.Call, r.Detail)
		}
	}
	// Key mode makes 44 calls (two of them AES), certificate mode 43 (one checks the SNs).
	if want := map[string]int{"key": 44, "cert": 43}[cfg["mode"]]; calls != want {
		t.Errorf("%s mode: %d calls reported, want %d", cfg["mode"], calls, want)
	}
}
