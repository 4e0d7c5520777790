package alipay

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vectors mirrors testdata/vectors.json (copied from the shared protocol
// reference; every entry was checked with an independent implementation).
type vectors struct {
	Keys        map[string]string `json:"keys"`
	RequestSign []struct {
		Name                string            `json:"name"`
		PrivateKey          string            `json:"private_key"`
		Params              map[string]string `json:"params"`
		StringToSign        string            `json:"string_to_sign"`
		Sign                string            `json:"sign"`
		SortedQueryWithSign string            `json:"sorted_query_with_sign"`
	} `json:"request_sign"`
	NotifyVerify []struct {
		Name            string `json:"name"`
		Rule            string `json:"rule"`
		AlipayPublicKey string `json:"alipay_public_key"`
		Body            string `json:"body"`
		StringToSign    string `json:"string_to_sign"`
		Valid           bool   `json:"valid"`
	} `json:"notify_verify"`
	ContentVerify []struct {
		Name         string `json:"name"`
		PublicKey    string `json:"public_key"`
		SignType     string `json:"sign_type"`
		StringToSign string `json:"string_to_sign"`
		Sign         string `json:"sign"`
		Valid        bool   `json:"valid"`
	} `json:"content_verify"`
	CertSN []struct {
		File string `json:"file"`
		Kind string `json:"kind"`
		SN   string `json:"sn"`
	} `json:"cert_sn"`
	AES []struct {
		Key        string `json:"key"`
		Plaintext  string `json:"plaintext"`
		Ciphertext string `json:"ciphertext"`
	} `json:"aes"`
	V3 struct {
		PrivateKey   string `json:"private_key"`
		AuthString   string `json:"auth_string"`
		Method       string `json:"method"`
		URI          string `json:"uri"`
		Body         string `json:"body"`
		StringToSign string `json:"string_to_sign"`
		Sign         string `json:"sign"`
		Header       string `json:"header"`
	} `json:"v3_authorization"`
	ResponseVerify []struct {
		Name            string `json:"name"`
		AlipayPublicKey string `json:"alipay_public_key"`
		Body            string `json:"body"`
		SignedBytes     string `json:"signed_bytes"`
		Valid           bool   `json:"valid"`
	} `json:"response_verify"`
}

func loadVectors(t testing.TB) *vectors {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func (v *vectors) priv(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := ParsePrivateKey([]byte(v.Keys[name]))
	if err != nil {
		t.Fatalf("key %s: %v", name, err)
	}
	return k
}

func (v *vectors) pub(t testing.TB, name string) *rsa.PublicKey {
	t.Helper()
	k, err := ParsePublicKey([]byte(v.Keys[name]))
	if err != nil {
		t.Fatalf("key %s: %v", name, err)
	}
	return k
}

func TestVectorsCoverEverySection(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{"about": true, "cert_sn_note": true, "aes_note": true,
		"keys": true, "request_sign": true, "notify_verify": true, "content_verify": true,
		"cert_sn": true, "aes": true, "v3_authorization": true, "response_verify": true}
	for k := range top {
		if !tested[k] {
			t.Errorf("vectors.json section %q has no test", k)
		}
	}
	v := loadVectors(t)
	if len(v.RequestSign) != 3 || len(v.NotifyVerify) != 5 || len(v.ContentVerify) != 3 || len(v.CertSN) != 13 ||
		len(v.AES) != 2 || len(v.ResponseVerify) != 6 || len(v.Keys) != 4 {
		t.Errorf("unexpected vector counts; update the tests when vectors.json changes")
	}
}

func TestVectorKeys(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	priv := v.priv(t, "sandbox_app_private_key_pkcs1_base64")
	pub := v.pub(t, "sandbox_app_public_key_spki_base64")
	if !SameKey(&priv.PublicKey, pub) {
		t.Fatal("sandbox app private and public keys do not match")
	}
	if got := MarshalPublicKey(pub); got != v.Keys["sandbox_app_public_key_spki_base64"] {
		t.Errorf("MarshalPublicKey round trip differs")
	}
	for name, s := range v.Keys {
		if strings.Contains(name, "public") {
			if _, err := ParsePublicKey([]byte(s)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := ParsePrivateKey([]byte(s)); err == nil || !strings.Contains(err.Error(), "public key") {
				t.Errorf("%s as private key: err = %v, want a 'public key' complaint", name, err)
			}
		}
	}
}

func TestVectorRequestSign(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, tc := range v.RequestSign {
		t.Run(tc.Name, func(t *testing.T) {
			key := v.priv(t, tc.PrivateKey)
			if got := string(SignContent(tc.Params, RuleV2)); got != tc.StringToSign {
				t.Fatalf("string to sign:\n got %s\nwant %s", got, tc.StringToSign)
			}
			sig, err := Sign(key, SignType(tc.Params["sign_type"]), []byte(tc.StringToSign))
			if err != nil {
				t.Fatal(err)
			}
			if sig != tc.Sign {
				t.Fatalf("sign:\n got %s\nwant %s", sig, tc.Sign)
			}
			p := make(map[string]string)
			for k, s := range tc.Params {
				p[k] = s
			}
			s, err := Sign(key, SignType(p["sign_type"]), SignContent(p, RuleV2))
			if err != nil || s != tc.Sign {
				t.Fatalf("Sign(SignContent(RuleV2)) differs: %v", err)
			}
			p["sign"] = s
			if err := Verify(&key.PublicKey, SignTypeRSA2, SignContent(p, RuleV2), p["sign"]); err != nil {
				t.Fatalf("own signature does not verify: %v", err)
			}
			if tc.SortedQueryWithSign != "" {
				if got := EncodeForm(p); got != tc.SortedQueryWithSign {
					t.Fatalf("sorted query:\n got %s\nwant %s", got, tc.SortedQueryWithSign)
				}
				// And the parsed query gives the same string to sign back.
				back, err := ParseForm(tc.SortedQueryWithSign)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(SignContent(back, RuleV2)); got != tc.StringToSign {
					t.Fatalf("string to sign after a round trip differs")
				}
			}
		})
	}
}

func TestVectorPagePayURL(t *testing.T) {
	t.Parallel()
	// The client, given the vector's inputs, produces exactly the vector's URL.
	v := loadVectors(t)
	tc := v.RequestSign[0]
	c, err := New(Config{
		AppID:           tc.Params["app_id"],
		PrivateKey:      v.priv(t, tc.PrivateKey),
		AlipayPublicKey: v.pub(t, "servicemarket_alipay_public_key_spki_base64"),
		Gateway:         "https://openapi.alipay.com/gateway.do",
		NotifyURL:       tc.Params["notify_url"],
		ReturnURL:       tc.Params["return_url"],
		Now:             func() time.Time { return time.Date(2024, 1, 2, 7, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.TradePagePayURL(TradePagePayRequest{OutTradeNo: "ORDER20240102150405", TotalAmount: 8888, Subject: "测试商品 iPhone"})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://openapi.alipay.com/gateway.do?" + tc.SortedQueryWithSign
	if u != want {
		t.Fatalf("PagePayURL:\n got %s\nwant %s", u, want)
	}
}

func TestVectorNotifyVerify(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, tc := range v.NotifyVerify {
		t.Run(tc.Name, func(t *testing.T) {
			pub := v.pub(t, tc.AlipayPublicKey)
			params, err := ParseForm(tc.Body)
			if err != nil {
				t.Fatal(err)
			}
			var content []byte
			switch tc.Rule {
			case "v1":
				content = SignContent(params, RuleV1)
			case "v2":
				content = SignContent(params, RuleV2)
			default:
				t.Fatalf("unknown rule %q", tc.Rule)
			}
			if tc.StringToSign != "" && string(content) != tc.StringToSign {
				t.Fatalf("string to sign:\n got %s\nwant %s", content, tc.StringToSign)
			}
			st := SignType(params["sign_type"])
			err = Verify(pub, st, content, params["sign"])
			if tc.Valid && err != nil {
				t.Fatalf("valid vector rejected: %v", err)
			}
			if !tc.Valid && !errors.Is(err, ErrSignature) {
				t.Fatalf("invalid vector: err = %v, want ErrSignature", err)
			}
			if tc.Rule != "v1" {
				return
			}
			// Through the client: key mode, with a different (generated)
			// app key so the test key may serve as "Alipay's".
			c := newTestClientWithAlipayKey(t, pub, params["app_id"])
			n, err := c.VerifyNotification([]byte(tc.Body))
			if tc.Valid {
				if err != nil {
					t.Fatalf("VerifyNotification: %v", err)
				}
				if n.Subject != params["subject"] || n.TotalAmount != MustAmount(params["total_amount"]) {
					t.Fatalf("parsed notification differs: %+v", n)
				}
			} else if !errors.Is(err, ErrSignature) {
				t.Fatalf("VerifyNotification: err = %v, want ErrSignature", err)
			}
		})
	}
}

func TestVectorContentVerify(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, tc := range v.ContentVerify {
		t.Run(tc.Name, func(t *testing.T) {
			pub := v.pub(t, tc.PublicKey)
			err := Verify(pub, SignType(tc.SignType), []byte(tc.StringToSign), tc.Sign)
			if (err == nil) != tc.Valid {
				t.Fatalf("Verify = %v, want valid=%v", err, tc.Valid)
			}
			// One changed byte breaks it; the other hash breaks it.
			if Verify(pub, SignType(tc.SignType), []byte(tc.StringToSign+" "), tc.Sign) == nil {
				t.Fatal("tampered content verifies")
			}
			other := SignTypeRSA
			if tc.SignType == "RSA" {
				other = SignTypeRSA2
			}
			if Verify(pub, other, []byte(tc.StringToSign), tc.Sign) == nil {
				t.Fatal("verifies with the wrong sign_type")
			}
		})
	}
}

func TestVectorCertSN(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, tc := range v.CertSN {
		t.Run(tc.File, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.File))
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch tc.Kind {
			case "root":
				got, err = RootCertSN(data)
			case "cert":
				got, err = CertSN(data)
			default:
				t.Fatalf("kind %q", tc.Kind)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.SN {
				t.Fatalf("SN = %s, want %s", got, tc.SN)
			}
		})
	}
}

func TestVectorAES(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, tc := range v.AES {
		key, err := DecodeAESKey(tc.Key)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := EncryptContent(key, []byte(tc.Plaintext))
		if err != nil {
			t.Fatal(err)
		}
		if ct != tc.Ciphertext {
			t.Errorf("EncryptContent(%q) = %s, want %s", tc.Plaintext, ct, tc.Ciphertext)
		}
		pt, err := DecryptContent(key, tc.Ciphertext)
		if err != nil || string(pt) != tc.Plaintext {
			t.Errorf("DecryptContent = %q, %v; want %q", pt, err, tc.Plaintext)
		}
		// A wrong key fails cleanly (padding check) or yields other bytes.
		wrong := append([]byte(nil), key...)
		wrong[0] ^= 1
		if pt, err := DecryptContent(wrong, tc.Ciphertext); err == nil && string(pt) == tc.Plaintext {
			t.Errorf("wrong key decrypts")
		}
	}
}

func TestVectorV3Authorization(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	tc := v.V3
	key := v.priv(t, tc.PrivateKey)
	// Parse the auth string back into a request.
	fields := map[string]string{}
	for _, kv := range strings.Split(tc.AuthString, ",") {
		k, val, _ := strings.Cut(kv, "=")
		fields[k] = val
	}
	var ms int64
	if err := json.Unmarshal([]byte(fields["timestamp"]), &ms); err != nil {
		t.Fatal(err)
	}
	r := V3Request{AppID: fields["app_id"], Nonce: fields["nonce"], Timestamp: time.UnixMilli(ms),
		Method: tc.Method, URI: tc.URI, Body: []byte(tc.Body)}
	if got := r.AuthString(); got != tc.AuthString {
		t.Fatalf("auth string %q, want %q", got, tc.AuthString)
	}
	if got := string(r.SignContent()); got != tc.StringToSign {
		t.Fatalf("string to sign %q, want %q", got, tc.StringToSign)
	}
	h, err := V3Authorization(key, r)
	if err != nil {
		t.Fatal(err)
	}
	if h != tc.Header {
		t.Fatalf("header:\n got %s\nwant %s", h, tc.Header)
	}
	if !strings.HasSuffix(h, ",sign="+tc.Sign) {
		t.Fatal("header does not end with the vector's sign")
	}
	// A random nonce is filled in when none is given.
	r.Nonce = ""
	h2, err := V3Authorization(key, r)
	if err != nil || h2 == h || !strings.Contains(h2, ",nonce=") {
		t.Fatalf("random nonce: %q, %v", h2, err)
	}
}

func TestVectorResponseVerify(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, tc := range v.ResponseVerify {
		t.Run(tc.Name, func(t *testing.T) {
			pub := v.pub(t, tc.AlipayPublicKey)
			raw, err := ExtractResponse([]byte(tc.Body), "alipay.trade.query")
			if err != nil {
				t.Fatal(err)
			}
			if tc.SignedBytes != "" && string(raw.Content) != tc.SignedBytes {
				t.Fatalf("extracted:\n got %s\nwant %s", raw.Content, tc.SignedBytes)
			}
			var verr error
			if raw.Sign == "" {
				verr = ErrUnsigned
			} else {
				verr = VerifyResponseContent(pub, SignTypeRSA2, raw.Content, raw.Sign)
			}
			if (verr == nil) != tc.Valid {
				t.Fatalf("verify = %v, want valid=%v", verr, tc.Valid)
			}
			// Through the client.
			c := newTestClientWithAlipayKey(t, pub, "9021000122689420")
			if raw.CertSN != "" {
				c.cfg.Certificates = &Certificates{alipayKeys: map[string]*rsa.PublicKey{raw.CertSN: pub}}
				c.cfg.AlipayPublicKey = nil
			}
			var out TradeQueryResult
			err = c.DecodeResponse(&Response{Method: "alipay.trade.query", StatusCode: 200, Body: []byte(tc.Body)}, &out)
			var ae *Error
			switch {
			case tc.Valid && strings.Contains(tc.SignedBytes, `"10000"`):
				if err != nil || out.TotalAmount != 2000 || out.TradeStatus != TradeStatusSuccess {
					t.Fatalf("DecodeResponse = %v, %+v", err, out)
				}
			case tc.Valid:
				if !errors.As(err, &ae) || ae.Unverified || !IsTradeNotExist(err) {
					t.Fatalf("DecodeResponse = %v, want verified ACQ.TRADE_NOT_EXIST", err)
				}
			case raw.Sign == "":
				if !errors.As(err, &ae) || !ae.Unverified || !errors.Is(err, ErrUnsigned) || HasSubCode(err, "isv.invalid-app-id") {
					t.Fatalf("DecodeResponse = %v, want an unverified *Error", err)
				}
				if ae.SubCode != "isv.invalid-app-id" {
					t.Fatalf("sub_code %q", ae.SubCode)
				}
			default:
				if !errors.Is(err, ErrSignature) || !IsUnknownOutcome(err) {
					t.Fatalf("DecodeResponse = %v, want ErrSignature", err)
				}
			}
		})
	}
}

// newTestClientWithAlipayKey returns a key-mode client whose Alipay key is
// pub and whose app key is a fresh test key.
func newTestClientWithAlipayKey(t testing.TB, pub *rsa.PublicKey, appID string) *Client {
	t.Helper()
	c, err := New(Config{AppID: appID, PrivateKey: testKey(t, 0), AlipayPublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
