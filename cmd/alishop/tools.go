package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"alishop/alipay"
)

// The key and signature tools: keygen, sign, verify, certsn.
// Exit codes: 0 success, 1 a negative answer (verify: signature mismatch),
// 2 bad input or usage, with a one-line reason.

// maxToolInput bounds what sign and verify read from stdin.
const maxToolInput = 4 << 20

// runKeygen writes a new RSA-2048 app key pair in every format Alipay's key
// tool writes, refusing to overwrite any existing file.
func runKeygen(ctx context.Context, args []string, e *env) error {
	fset := newFlags("keygen")
	dir := fset.String("dir", ".", "directory to write the key files into (created if missing)")
	pos, err := fset.parse(args, e)
	if err != nil {
		return err
	}
	if err := fset.noArgs(pos); err != nil {
		return err
	}
	files := []struct {
		name    string
		private bool
		data    func(k *rsa.PrivateKey) ([]byte, error)
		what    string
	}{
		{"app_private_key.pem", true, func(k *rsa.PrivateKey) ([]byte, error) {
			return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
		}, "app private key, PKCS#1 PEM (non-Java SDKs, alishop)"},
		{"app_private_key_pkcs8.pem", true, func(k *rsa.PrivateKey) ([]byte, error) {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), err
		}, "app private key, PKCS#8 PEM (Java SDKs)"},
		{"app_public_key.pem", false, func(k *rsa.PrivateKey) ([]byte, error) {
			return alipay.PublicKeyPEM(&k.PublicKey), nil
		}, "app public key, PEM"},
		{"app_public_key.txt", false, func(k *rsa.PrivateKey) ([]byte, error) {
			return []byte(alipay.MarshalPublicKey(&k.PublicKey) + "\n"), nil
		}, "app public key, one line: paste it into the open platform"},
	}
	for _, f := range files {
		p := filepath.Join(*dir, f.name)
		if _, err := os.Lstat(p); err == nil {
			return usageError("keygen: %s already exists; refusing to overwrite a key (choose another --dir)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usageError("keygen: %v", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return usageError("keygen: %v", err)
	}
	var written []string
	for _, f := range files {
		data, err := f.data(key)
		if err == nil {
			mode := os.FileMode(0o644)
			if f.private {
				mode = 0o600
			}
			err = writeNewFile(filepath.Join(*dir, f.name), data, mode)
		}
		if err != nil {
			for _, w := range written { // leave no half key pair behind
				os.Remove(w)
			}
			return usageError("keygen: %v", err)
		}
		written = append(written, filepath.Join(*dir, f.name))
	}
	for i, f := range files {
		fmt.Fprintf(e.stdout, "%-40s %s\n", written[i], f.what)
	}
	fmt.Fprintf(e.stdout, "\napp public key (应用公钥) to upload:\n%s\n", alipay.MarshalPublicKey(&key.PublicKey))
	return nil
}

// writeNewFile creates name exclusively (never overwriting) and writes data.
func writeNewFile(name string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// readStdin reads at most maxToolInput bytes of stdin, trimmed of the
// surrounding white space a terminal or echo adds.
func readStdin(cmd string, e *env) ([]byte, error) {
	if e.stdin == nil {
		return nil, usageError("%s: nothing on stdin", cmd)
	}
	b, err := io.ReadAll(io.LimitReader(e.stdin, maxToolInput+1))
	if err != nil {
		return nil, usageError("%s: reading stdin: %v", cmd, err)
	}
	if len(b) > maxToolInput {
		return nil, usageError("%s: stdin is larger than %d bytes", cmd, maxToolInput)
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 {
		return nil, usageError("%s: stdin is empty; pipe the form-encoded parameters in", cmd)
	}
	return b, nil
}

// parseToolForm reads a form (k=v&k=v, as sent on the wire), or the query of
// a pasted URL, decoding it exactly once.
func parseToolForm(cmd string, in []byte) (map[string]string, error) {
	s := string(in)
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil {
			return nil, usageError("%s: not a URL: %v", cmd, err)
		}
		s = u.RawQuery
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, usageError("%s: not a form: it spans several lines (give k=v&k=v on one line, URL-encoded)", cmd)
	}
	if !strings.Contains(s, "=") {
		return nil, usageError("%s: not a form: no k=v pair", cmd)
	}
	params, err := alipay.ParseForm(s)
	if err != nil {
		return nil, usageError("%s: not a form: %v", cmd, err)
	}
	return params, nil
}

// runSign signs form-encoded parameters with the request rule and prints the
// string to sign, then the base64 signature as the last line; with --form,
// the signed form, URL-encoded, on one line.
func runSign(ctx context.Context, args []string, e *env) error {
	fset := newFlags("sign")
	keyFile := fset.String("private-key", "", "the app private key (PKCS#1 or PKCS#8, PEM or one-line base64)")
	signType := fset.String("sign-type", "", "RSA2 (SHA256withRSA, the default) or RSA (SHA1withRSA); default: the form's sign_type")
	asForm := fset.Bool("form", false, "print the signed request as one URL-encoded form (the parameters with sign added), ready to send or to pipe into verify, instead of the string to sign and the signature")
	pos, err := fset.parse(args, e)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("sign: unexpected argument %q (the parameters go on stdin)", pos[0])
	}
	if *keyFile == "" {
		return usageError("sign: --private-key FILE is required")
	}
	if err := checkKeyFiles("sign", [][2]string{{"private-key", *keyFile}}); err != nil {
		return err
	}
	key, err := alipay.LoadPrivateKeyFile(*keyFile)
	if err != nil {
		return usageError("sign: %v", err)
	}
	in, err := readStdin("sign", e)
	if err != nil {
		return err
	}
	if in[0] == '{' {
		return usageError("sign: stdin is JSON; sign takes the form-encoded request parameters (k=v&k=v)")
	}
	params, err := parseToolForm("sign", in)
	if err != nil {
		return err
	}
	st := alipay.SignType(*signType)
	if formType := params["sign_type"]; formType != "" {
		if st != "" && st != alipay.SignType(formType) {
			return usageError("sign: --sign-type %s but the form says sign_type=%s", st, formType)
		}
		st = alipay.SignType(formType)
	} else {
		fmt.Fprintln(e.stderr, "alishop sign: note: the form has no sign_type; Alipay's string to sign includes it, so add sign_type to the request")
	}
	if st == "" {
		st = alipay.SignTypeRSA2
	}
	if st != alipay.SignTypeRSA2 && st != alipay.SignTypeRSA {
		return usageError("sign: sign type %q: want RSA2 or RSA", st)
	}
	if _, ok := params["sign"]; ok {
		fmt.Fprintln(e.stderr, "alishop sign: note: the form already has a sign parameter; it is left out of the string to sign")
	}
	content := alipay.SignContent(params, alipay.RuleV2)
	sig, err := alipay.Sign(key, st, content)
	if err != nil {
		return usageError("sign: %v", err)
	}
	if *asForm {
		signed := url.Values{}
		for k, v := range params {
			signed.Set(k, v)
		}
		signed.Set("sign", sig)
		fmt.Fprintln(e.stdout, signed.Encode())
		return nil
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n", content, sig)
	return nil
}

// runVerify checks the signature of a notification or return query (a form)
// or of an OpenAPI response (JSON) with Alipay's public key, printing exactly
// what it checked.
func runVerify(ctx context.Context, args []string, e *env) error {
	fset := newFlags("verify")
	keyFile := fset.String("alipay-public-key", "", "Alipay's public key (支付宝公钥) or certificate (PEM or one-line base64)")
	keepSignType := fset.Bool("keep-sign-type", false, "rule v2 for forms: keep sign_type in the string to sign (gateway messages, not payment notifications)")
	pos, err := fset.parse(args, e)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("verify: unexpected argument %q (the message goes on stdin)", pos[0])
	}
	if *keyFile == "" {
		return usageError("verify: --alipay-public-key FILE is required")
	}
	if err := checkKeyFiles("verify", [][2]string{{"alipay-public-key", *keyFile}}); err != nil {
		return err
	}
	pub, err := alipay.LoadPublicKeyFile(*keyFile)
	if err != nil {
		return usageError("verify: %v", err)
	}
	in, err := readStdin("verify", e)
	if err != nil {
		return err
	}
	if in[0] == '{' {
		return verifyResponse(e, pub, in)
	}
	return verifyForm(e, pub, in, *keepSignType)
}

var errMismatch = &exitError{code: 1, msg: "signature mismatch"}

func verifyForm(e *env, pub *rsa.PublicKey, in []byte, keepSignType bool) error {
	params, err := parseToolForm("verify", in)
	if err != nil {
		return err
	}
	sign, ok := params["sign"]
	if !ok {
		return usageError("verify: no sign field in the form")
	}
	if sign == "" {
		return usageError("verify: the sign field is empty")
	}
	st := alipay.SignType(params["sign_type"])
	if st == "" {
		st = alipay.SignTypeRSA2
	}
	if st != alipay.SignTypeRSA2 && st != alipay.SignTypeRSA {
		return usageError("verify: sign_type %q: want RSA2 or RSA", st)
	}
	rule, content, other := "v1 (sign and sign_type left out)", alipay.SignContent(params, alipay.RuleV1), alipay.SignContent(params, alipay.RuleV2)
	if keepSignType {
		rule, content, other = "v2 (sign left out, sign_type kept)", other, content
	}
	fmt.Fprintf(e.stdout, "string to sign, rule %s, %s:\n%s\n", rule, st, content)
	if err := alipay.Verify(pub, st, content, sign); err == nil {
		fmt.Fprintln(e.stdout, "signature OK")
		return nil
	} else if !errors.Is(err, alipay.ErrSignature) {
		return usageError("verify: %v", err)
	}
	fmt.Fprintln(e.stdout, "signature mismatch")
	if alipay.Verify(pub, st, other, sign) == nil {
		if keepSignType {
			fmt.Fprintln(e.stdout, "hint: it verifies WITHOUT --keep-sign-type (rule v1: a payment notification or return)")
		} else {
			fmt.Fprintln(e.stdout, "hint: it verifies with --keep-sign-type (rule v2: a gateway message, not a payment notification)")
		}
	} else {
		fmt.Fprintln(e.stdout, "hint: check that the key is Alipay's public key (支付宝公钥), not the app's own public key, and that the form was not decoded twice or changed")
	}
	return errMismatch
}

func verifyResponse(e *env, pub *rsa.PublicKey, in []byte) error {
	node, err := responseNodeName(in)
	if err != nil {
		return usageError("verify: %v", err)
	}
	raw, err := alipay.ExtractResponse(in, strings.TrimSuffix(node, "_response"))
	if err != nil {
		return usageError("verify: %v", err)
	}
	if raw.Sign == "" {
		return usageError("verify: no sign field in the response (Alipay leaves some gateway errors, such as isv.invalid-app-id, unsigned; such a body proves nothing)")
	}
	if raw.CertSN != "" {
		fmt.Fprintf(e.stdout, "alipay_cert_sn: %s\n", raw.CertSN)
	}
	fmt.Fprintf(e.stdout, "signed bytes, the value of %q as received (RSA2):\n%s\n", raw.Node, raw.Content)
	err = alipay.Verify(pub, alipay.SignTypeRSA2, raw.Content, raw.Sign)
	if err == nil {
		fmt.Fprintln(e.stdout, "signature OK")
		return nil
	}
	if alipay.VerifyResponseContent(pub, alipay.SignTypeRSA2, raw.Content, raw.Sign) == nil {
		fmt.Fprintf(e.stdout, "verified after replacing \\/ with / (the Java SDK's fallback):\n%s\nsignature OK\n", bytes.ReplaceAll(raw.Content, []byte(`\/`), []byte("/")))
		return nil
	}
	if alipay.Verify(pub, alipay.SignTypeRSA, raw.Content, raw.Sign) == nil {
		fmt.Fprintln(e.stdout, "signature OK (RSA, SHA1withRSA: an old app)")
		return nil
	}
	fmt.Fprintln(e.stdout, "signature mismatch")
	fmt.Fprintln(e.stdout, "hint: check that the key is Alipay's public key (支付宝公钥) of this app and environment (sandbox and production differ), and that the body is exactly as received")
	return errMismatch
}

// responseNodeName finds the top-level "<method>_response" key of a gateway
// response (or error_response).
func responseNodeName(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", errors.New("not a JSON object")
	}
	found := ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("not valid JSON: %v", err)
		}
		key, _ := tok.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", fmt.Errorf("not valid JSON: %v", err)
		}
		if strings.HasSuffix(key, "_response") && key != "error_response" && found == "" {
			found = key
		}
	}
	if found == "" {
		if bytes.Contains(body, []byte(`"error_response"`)) {
			return "error_response", nil
		}
		return "", errors.New("no \"<method>_response\" node: not an OpenAPI gateway response")
	}
	return found, nil
}

// runCertSN prints the SN of a certificate (app_cert_sn, alipay_cert_sn) or,
// with --root, of a root bundle (alipay_root_cert_sn).
func runCertSN(ctx context.Context, args []string, e *env) error {
	fset := newFlags("certsn")
	root := fset.Bool("root", false, "FILE is Alipay's root bundle (alipayRootCert.crt): print alipay_root_cert_sn")
	pos, err := fset.parse(args, e)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("certsn: want exactly one FILE, got %d arguments", len(pos))
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return usageError("certsn: %v", err)
	}
	var sn string
	if *root {
		sn, err = alipay.RootCertSN(data)
	} else {
		sn, err = alipay.CertSN(data)
	}
	if err != nil {
		hint := ""
		if !*root && bytes.Count(data, []byte("-----BEGIN CERTIFICATE-----")) > 2 {
			hint = " (is it a root bundle? use --root)"
		}
		return usageError("certsn: %s: %v%s", pos[0], err, hint)
	}
	fmt.Fprintln(e.stdout, sn)
	return nil
}
