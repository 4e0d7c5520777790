package alipay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
)

// SignType is the signature algorithm of an app: RSA2 (SHA256withRSA, the
// only choice for apps created since 2018) or RSA (SHA1withRSA, old apps).
type SignType string

const (
	SignTypeRSA2 SignType = "RSA2"
	SignTypeRSA  SignType = "RSA"
)

func (t SignType) hash() (crypto.Hash, error) {
	switch t {
	case SignTypeRSA2, "":
		return crypto.SHA256, nil
	case SignTypeRSA:
		return crypto.SHA1, nil
	}
	return 0, fmt.Errorf("alipay: unsupported sign_type %q (want RSA2 or RSA)", string(t))
}

func digest(h crypto.Hash, content []byte) []byte {
	if h == crypto.SHA1 {
		d := sha1.Sum(content)
		return d[:]
	}
	d := sha256.Sum256(content)
	return d[:]
}

// Sign signs content with an RSA key and returns standard base64. key is
// an *rsa.PrivateKey or any crypto.Signer holding an RSA key (a KMS or HSM
// key) that makes PKCS#1 v1.5 signatures when given a crypto.Hash.
func Sign(key crypto.Signer, t SignType, content []byte) (string, error) {
	h, err := t.hash()
	if err != nil {
		return "", err
	}
	var sig []byte
	if k, ok := key.(*rsa.PrivateKey); ok {
		sig, err = rsa.SignPKCS1v15(nil, k, h, digest(h, content))
	} else {
		sig, err = key.Sign(rand.Reader, digest(h, content), h)
	}
	if err != nil {
		return "", fmt.Errorf("alipay: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a base64 signature over content. It returns nil, or an error
// wrapping ErrSignature.
func Verify(pub *rsa.PublicKey, t SignType, content []byte, sign string) error {
	h, err := t.hash()
	if err != nil {
		return err
	}
	var buf [512]byte // a 4096-bit signature; larger ones are allocated
	sig := buf[:0]
	if n := base64.StdEncoding.DecodedLen(len(sign)); n > len(buf) {
		sig = make([]byte, 0, n)
	}
	sig, err = base64.StdEncoding.AppendDecode(sig, []byte(sign))
	if err != nil {
		return fmt.Errorf("%w: sign is not base64", ErrSignature)
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest(h, content), sig); err != nil {
		return ErrSignature
	}
	return nil
}

// contentPool recycles string-to-sign buffers of notification checks.
var contentPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// VerifyResponseContent checks sign over the node bytes; when that fails and
// the bytes contain `\/`, it retries with `\/` replaced by `/` as the Java SDK does.
func VerifyResponseContent(pub *rsa.PublicKey, t SignType, content []byte, sign string) error {
	err := Verify(pub, t, content, sign)
	if err != nil && bytes.Contains(content, []byte(`\/`)) {
		if Verify(pub, t, bytes.ReplaceAll(content, []byte(`\/`), []byte("/")), sign) == nil {
			return nil
		}
	}
	return err
}
