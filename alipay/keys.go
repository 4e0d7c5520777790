package alipay

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyError reports a key that could not be loaded: which file (if any), what
// was expected, and what is wrong.
type KeyError struct {
	File string // the file name, or "" for in-memory data
	Want string // what was expected, e.g. "RSA private key (PKCS#1 or PKCS#8)"
	Err  error
}

func (e *KeyError) Error() string {
	where := "key"
	if e.File != "" {
		where = e.File
	}
	return fmt.Sprintf("%s: want %s: %v", where, e.Want, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// ErrAppKeyAsAlipayKey is returned when the key configured as Alipay's public
// key is the app's own public key: the most common Alipay integration mistake
// (the Java SDK calls it "当前配置的支付宝公钥为应用公钥"). Alipay's public key is
// shown on the open platform after the app public key is uploaded.
var ErrAppKeyAsAlipayKey = errors.New("alipay: the configured Alipay public key is the app's own public key (当前配置的支付宝公钥为应用公钥); copy 支付宝公钥 from the open platform instead")

const (
	wantPrivate = "RSA private key (PKCS#1 or PKCS#8, PEM or one-line base64)"
	wantPublic  = "RSA public key (SPKI or PKCS#1, PEM or one-line base64, or a certificate)"
)

// ParsePrivateKey parses an RSA private key given as PEM ("RSA PRIVATE KEY"
// for PKCS#1, "PRIVATE KEY" for PKCS#8) or as the bare one-line base64 that
// Alipay's key tool and console show (either encoding).
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	k, err := parsePrivateKey(data)
	if err != nil {
		return nil, &KeyError{Want: wantPrivate, Err: err}
	}
	return k, nil
}

// ParsePublicKey parses an RSA public key given as PEM ("PUBLIC KEY" for
// SPKI, "RSA PUBLIC KEY" for PKCS#1, or a "CERTIFICATE") or as bare base64.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	k, err := parsePublicKey(data)
	if err != nil {
		return nil, &KeyError{Want: wantPublic, Err: err}
	}
	return k, nil
}

// LoadPrivateKeyFile reads and parses an RSA private key file; errors name the file.
func LoadPrivateKeyFile(name string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &KeyError{File: name, Want: wantPrivate, Err: err}
	}
	k, err := parsePrivateKey(data)
	if err != nil {
		return nil, &KeyError{File: name, Want: wantPrivate, Err: err}
	}
	return k, nil
}

// LoadPublicKeyFile reads and parses an RSA public key file; errors name the file.
func LoadPublicKeyFile(name string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &KeyError{File: name, Want: wantPublic, Err: err}
	}
	k, err := parsePublicKey(data)
	if err != nil {
		return nil, &KeyError{File: name, Want: wantPublic, Err: err}
	}
	return k, nil
}

// MarshalPublicKey returns the bare one-line base64 SPKI form of a public key,
// the form the open platform shows and accepts.
func MarshalPublicKey(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil { // cannot happen for an RSA key
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// PublicKeyPEM returns the PEM "PUBLIC KEY" (SPKI) form of a public key.
func PublicKeyPEM(pub *rsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// SameKey reports whether two public keys are the same key.
func SameKey(a, b *rsa.PublicKey) bool {
	return a != nil && b != nil && a.E == b.E && a.N.Cmp(b.N) == 0
}

func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	der, typ, err := decodeKeyText(data)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(der)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is %T, not RSA", k)
		}
		return rk, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the key is password-protected; export it without a password")
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("found a %s, not a private key", strings.ToLower(typ))
	case "":
		if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
			return k, nil
		}
		if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
			if rk, ok := k.(*rsa.PrivateKey); ok {
				return rk, nil
			}
			return nil, fmt.Errorf("PKCS#8 key is %T, not RSA", k)
		}
		if _, err := parsePublicDER(der); err == nil {
			return nil, errors.New("found a public key, not a private key")
		}
		return nil, errors.New("base64 decodes but is neither PKCS#1 nor PKCS#8")
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", typ)
	}
}

func parsePublicKey(data []byte) (*rsa.PublicKey, error) {
	der, typ, err := decodeKeyText(data)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "PUBLIC KEY", "RSA PUBLIC KEY", "":
		k, err := parsePublicDER(der)
		if err != nil && typ == "" {
			if _, perr := parsePrivateKey(data); perr == nil {
				return nil, errors.New("found a private key, not a public key; never hand out the private key")
			}
			return nil, errors.New("base64 decodes but is neither SPKI nor PKCS#1 public key")
		}
		return k, err
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("certificate key is %T, not RSA", c.PublicKey)
		}
		return k, nil
	case "RSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("found a private key, not a public key")
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", typ)
	}
}

func parsePublicDER(der []byte) (*rsa.PublicKey, error) {
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, not RSA", k)
		}
		return rk, nil
	}
	return x509.ParsePKCS1PublicKey(der)
}

// decodeKeyText returns the DER bytes and PEM type ("" for bare base64).
func decodeKeyText(data []byte) ([]byte, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM from Windows editors
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, "", errors.New("empty")
	}
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		block, _ := pem.Decode(trimmed)
		if block == nil {
			return nil, "", errors.New("malformed PEM")
		}
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, "", errors.New("the key is password-protected; export it without a password")
		}
		return block.Bytes, block.Type, nil
	}
	// Bare base64, possibly wrapped over several lines or with spaces.
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, string(trimmed))
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, "", fmt.Errorf("neither PEM nor base64: %v", err)
	}
	return der, "", nil
}
