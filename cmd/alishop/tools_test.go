package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"alishop/alipay"
)

// runTool runs the program in-process and returns stdout, stderr and the
// exit code main would use.
func runTool(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"alishop"}, args...), func(string) string { return "" },
		strings.NewReader(stdin), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

type toolVectors struct {
	Keys        map[string]string `json:"keys"`
	RequestSign []struct {
		Params       map[string]string `json:"params"`
		StringToSign string            `json:"string_to_sign"`
		Sign         string            `json:"sign"`
	} `json:"request_sign"`
	NotifyVerify []struct {
		Name, Rule, Body string
		AlipayPublicKey  string `json:"alipay_public_key"`
		StringToSign     string `json:"string_to_sign"`
		Valid            bool
	} `json:"notify_verify"`
	ResponseVerify []struct {
		Name        string
		Body        string
		SignedBytes string `json:"signed_bytes"`
		Valid       bool
	} `json:"response_verify"`
	CertSN []struct{ File, Kind, SN string } `json:"cert_sn"`
}

const vectorDir = "../../alipay/testdata"

func loadToolVectors(t *testing.T) *toolVectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v toolVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeygenSignOpenSSL(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "keys")
	out, errOut, code := runTool(t, "", "keygen", "--dir", dir)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errOut)
	}
	names := []string{"app_private_key.pem", "app_private_key_pkcs8.pem", "app_public_key.pem", "app_public_key.txt"}
	contents := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		contents[n] = string(b)
	}
	for n, prefix := range map[string]string{
		"app_private_key.pem": "-----BEGIN RSA PRIVATE KEY-----", "app_private_key_pkcs8.pem": "-----BEGIN PRIVATE KEY-----",
		"app_public_key.pem": "-----BEGIN PUBLIC KEY-----",
	} {
		if !strings.HasPrefix(contents[n], prefix) {
			t.Errorf("%s starts %.40q", n, contents[n])
		}
	}
	line := strings.TrimSuffix(contents["app_public_key.txt"], "\n")
	if strings.ContainsAny(line, "\n -") || !strings.Contains(out, line) {
		t.Errorf("app_public_key.txt is not one bare base64 line printed by keygen: %q", line)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "app_private_key.pem")); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", fi.Mode().Perm())
	}
	priv, err := alipay.LoadPrivateKeyFile(filepath.Join(dir, "app_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := alipay.ParsePublicKey([]byte(line)); err != nil || !alipay.SameKey(pub, &priv.PublicKey) || priv.N.BitLen() != 2048 {
		t.Fatalf("public key line does not match the private key: %v", err)
	}

	// keygen refuses to overwrite, and changes nothing.
	_, errOut, code = runTool(t, "", "keygen", "--dir", dir)
	if code != 2 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second keygen: exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "app_private_key.pem")); string(b) != contents["app_private_key.pem"] {
		t.Fatal("second keygen changed the private key")
	}

	// Both private key files sign, with the same (deterministic) signature.
	form := "app_id=2021000000000001&biz_content=%7B%22subject%22%3A%22a+b%2Bc+%E5%95%86%E5%93%81%22%7D&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-01-02+15%3A04%3A05&version=1.0"
	var sigs []string
	for _, n := range names[:2] {
		out, errOut, code := runTool(t, form+"\n", "sign", "--private-key", filepath.Join(dir, n))
		if code != 0 {
			t.Fatalf("sign with %s: exit %d: %s", n, code, errOut)
		}
		sigs = append(sigs, lastLine(out))
		wantContent := `app_id=2021000000000001&biz_content={"subject":"a b+c 商品"}&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-01-02 15:04:05&version=1.0`
		if !strings.HasPrefix(out, wantContent+"\n") {
			t.Fatalf("sign output:\n%s\nwant it to start with\n%s", out, wantContent)
		}
	}
	if sigs[0] != sigs[1] {
		t.Fatal("PKCS#1 and PKCS#8 files give different signatures")
	}

	// openssl agrees.
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	out, _, _ = runTool(t, form, "sign", "--private-key", filepath.Join(dir, "app_private_key.pem"))
	content := strings.TrimSuffix(out, "\n"+lastLine(out)+"\n")
	sig, err := base64.StdEncoding.DecodeString(lastLine(out))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	sigFile := writeFile(t, work, "sig.bin", string(sig))
	dataFile := writeFile(t, work, "data.txt", content)
	cmd := exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "app_public_key.pem"), "-signature", sigFile, dataFile)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "Verified OK") {
		t.Fatalf("openssl: %v: %s", err, b)
	}
	// And openssl rejects it for a changed byte (the check can fail).
	dataFile2 := writeFile(t, work, "data2.txt", strings.Replace(content, "a b+c", "a b c", 1))
	cmd = exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "app_public_key.pem"), "-signature", sigFile, dataFile2)
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("openssl verified changed data: %s", b)
	}
}

func TestSignVectors(t *testing.T) {
	t.Parallel()
	v := loadToolVectors(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "k.txt", v.Keys["sandbox_app_private_key_pkcs1_base64"]+"\n")
	for _, tc := range v.RequestSign {
		q := url.Values{}
		for k, s := range tc.Params {
			q.Set(k, s)
		}
		out, errOut, code := runTool(t, q.Encode(), "sign", "--private-key", keyFile)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if out != tc.StringToSign+"\n"+tc.Sign+"\n" {
			t.Fatalf("sign output:\n%s\nwant\n%s\n%s", out, tc.StringToSign, tc.Sign)
		}
	}
}

func TestSignBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v := loadToolVectors(t)
	keyFile := writeFile(t, dir, "k.txt", v.Keys["sandbox_app_private_key_pkcs1_base64"])
	pubFile := writeFile(t, dir, "pub.txt", v.Keys["sandbox_app_public_key_spki_base64"])
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no key flag", "a=b", nil, "--private-key FILE is required"},
		{"missing key file", "a=b", []string{"--private-key", filepath.Join(dir, "nope")}, "nope"},
		{"public key as private", "a=b", []string{"--private-key", pubFile}, "public key"},
		{"empty stdin", "\n", []string{"--private-key", keyFile}, "stdin is empty"},
		{"json", `{"a":1}`, []string{"--private-key", keyFile}, "JSON"},
		{"bad escape", "a=%zz&sign_type=RSA2", []string{"--private-key", keyFile}, "not a form"},
		{"repeated key", "a=1&a=2&sign_type=RSA2", []string{"--private-key", keyFile}, "more than once"},
		{"no pair", "hello", []string{"--private-key", keyFile}, "not a form"},
		{"bad sign type", "a=1", []string{"--private-key", keyFile, "--sign-type", "SM2"}, "want RSA2 or RSA"},
		{"conflicting sign type", "a=1&sign_type=RSA2", []string{"--private-key", keyFile, "--sign-type", "RSA"}, "sign_type=RSA2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runTool(t, tc.stdin, append([]string{"sign"}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, tc.want)
			}
		})
	}
	// RSA (SHA1) works when asked for.
	out, _, code := runTool(t, "a=1", "sign", "--private-key", keyFile, "--sign-type", "RSA")
	priv, _ := alipay.ParsePrivateKey([]byte(v.Keys["sandbox_app_private_key_pkcs1_base64"]))
	if code != 0 || alipay.Verify(&priv.PublicKey, alipay.SignTypeRSA, []byte("a=1"), lastLine(out)) != nil {
		t.Fatalf("RSA sign: exit %d %q", code, out)
	}
}

func TestVerifyExitCodes(t *testing.T) {
	t.Parallel()
	v := loadToolVectors(t)
	dir := t.TempDir()
	sandboxPub := writeFile(t, dir, "alipay_public_key.txt", v.Keys["sandbox_app_public_key_spki_base64"])
	smPub := writeFile(t, dir, "sm.txt", v.Keys["servicemarket_alipay_public_key_spki_base64"])
	keyFor := map[string]string{"sandbox_app_public_key_spki_base64": sandboxPub, "servicemarket_alipay_public_key_spki_base64": smPub}

	for _, tc := range v.NotifyVerify {
		t.Run("notify/"+tc.Name, func(t *testing.T) {
			args := []string{"verify", "--alipay-public-key", keyFor[tc.AlipayPublicKey]}
			if tc.Rule == "v2" {
				args = append(args, "--keep-sign-type")
			}
			out, errOut, code := runTool(t, tc.Body+"\n", args...)
			want := 1
			if tc.Valid {
				want = 0
			}
			if code != want {
				t.Fatalf("exit %d, want %d\n%s%s", code, want, out, errOut)
			}
			if tc.Valid && lastLine(out) != "signature OK" || !tc.Valid && !strings.Contains(out, "signature mismatch") {
				t.Fatalf("output:\n%s", out)
			}
			if tc.StringToSign != "" && !strings.Contains(out, "\n"+tc.StringToSign+"\n") {
				t.Fatalf("output does not show the string to sign:\n%s", out)
			}
		})
	}
	// The v2 gateway message checked as v1 hints at --keep-sign-type.
	out, _, code := runTool(t, v.NotifyVerify[2].Body, "verify", "--alipay-public-key", smPub)
	if code != 1 || !strings.Contains(out, "--keep-sign-type") {
		t.Fatalf("v1 check of a v2 message: exit %d\n%s", code, out)
	}
	// A pasted return URL works.
	out, _, code = runTool(t, "https://shop.example/alipay/return?"+v.NotifyVerify[0].Body, "verify", "--alipay-public-key", sandboxPub)
	if code != 0 {
		t.Fatalf("return URL: exit %d\n%s", code, out)
	}

	for _, tc := range v.ResponseVerify {
		t.Run("response/"+tc.Name, func(t *testing.T) {
			out, errOut, code := runTool(t, tc.Body, "verify", "--alipay-public-key", sandboxPub)
			want := 1
			switch {
			case tc.Valid:
				want = 0
			case !strings.Contains(tc.Body, `"sign"`):
				want = 2 // unsigned: nothing to verify
			}
			if code != want {
				t.Fatalf("exit %d, want %d\n%s%s", code, want, out, errOut)
			}
			if tc.SignedBytes != "" && !strings.Contains(out, "\n"+tc.SignedBytes+"\n") {
				t.Fatalf("output does not show the signed bytes:\n%s", out)
			}
			if want == 2 && !strings.Contains(errOut, "no sign field") {
				t.Fatalf("stderr %q", errOut)
			}
		})
	}

	for _, tc := range []struct{ name, stdin, key, want string }{
		{"garbage", "\x00\x01garbage%%%", sandboxPub, "not a form"},
		{"not a form", "hello world", sandboxPub, "not a form"},
		{"no sign", "a=1&b=2", sandboxPub, "no sign field"},
		{"bad json", `{"alipay_trade_query_response":`, sandboxPub, "not valid JSON"},
		{"json without node", `{"a":1}`, sandboxPub, "not an OpenAPI gateway response"},
		{"missing key", "a=1&sign=x", filepath.Join(dir, "missing.pem"), "missing.pem"},
		{"unreadable key", "a=1&sign=x", writeFile(t, dir, "junk.pem", "not a key"), "junk.pem"},
		{"empty", "", sandboxPub, "stdin is empty"},
	} {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			out, errOut, code := runTool(t, tc.stdin, "verify", "--alipay-public-key", tc.key)
			if code != 2 || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, out, errOut, tc.want)
			}
		})
	}
}

func TestToolFlagsFromEnvironment(t *testing.T) {
	t.Parallel()
	v := loadToolVectors(t)
	dir := t.TempDir()
	pub := writeFile(t, dir, "alipay_public_key.txt", v.Keys["sandbox_app_public_key_spki_base64"])
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "ALISHOP_ALIPAY_PUBLIC_KEY" {
			return pub
		}
		return ""
	}
	err := run(context.Background(), []string{"alishop", "verify"}, getenv, strings.NewReader(v.NotifyVerify[0].Body), &out, &errb)
	if err != nil || lastLine(out.String()) != "signature OK" {
		t.Fatalf("verify with ALISHOP_ALIPAY_PUBLIC_KEY: %v\n%s%s", err, out.String(), errb.String())
	}
	// A flag on the command line wins over the environment.
	err = run(context.Background(), []string{"alishop", "verify", "--alipay-public-key", filepath.Join(dir, "none")}, getenv, strings.NewReader(v.NotifyVerify[0].Body), &out, &errb)
	if exitCode(err, io.Discard) != 2 {
		t.Fatalf("flag did not win: %v", err)
	}
}

func TestCertSNTool(t *testing.T) {
	t.Parallel()
	v := loadToolVectors(t)
	for _, tc := range v.CertSN {
		args := []string{"certsn", filepath.Join(vectorDir, tc.File)}
		if tc.Kind == "root" {
			args = append(args, "--root") // flags after the file work too
		}
		out, errOut, code := runTool(t, "", args...)
		if code != 0 || out != tc.SN+"\n" {
			t.Errorf("%s: exit %d, %q %q; want %s", tc.File, code, out, errOut, tc.SN)
		}
	}
	_, errOut, code := runTool(t, "", "certsn", filepath.Join(vectorDir, "vectors.json"))
	if code != 2 || !strings.Contains(errOut, "vectors.json") {
		t.Errorf("certsn of a non-certificate: exit %d %q", code, errOut)
	}
	_, _, code = runTool(t, "", "certsn")
	if code != 2 {
		t.Errorf("certsn without FILE: exit %d", code)
	}
}

func TestToolsHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"keygen", "sign", "verify", "certsn"} {
		out, _, code := runTool(t, "", cmd, "-h")
		if code != 0 || !strings.Contains(out, "usage: alishop "+cmd) {
			t.Errorf("%s -h: exit %d %q", cmd, code, out)
		}
	}
}
