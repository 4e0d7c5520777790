package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"math/big"
	"strings"
	"time"

	"alishop/alipay"
)

// randDigits returns n random decimal digits.
func randDigits(n int) string {
	var b strings.Builder
	b.Grow(n)
	max := big.NewInt(10)
	for range n {
		d, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// randIntn returns a uniform random int in [0, n).
func randIntn(n int) int {
	d, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return int(d.Int64())
}

// newUserID returns an Alipay user id / PID: 2088 + 12 digits.
func newUserID() string { return "2088" + randDigits(12) }

// newTradeNo returns a trade_no in the real format (docs/PROTOCOL.md, "Trade timing and formats the sandbox imitates"): 28
// digits, yyyyMMdd (Beijing) + 2 digits + 001 + 15 digits.
func newTradeNo(now time.Time) string {
	return now.In(alipay.Beijing).Format("20060102") + "22" + "001" + randDigits(15)
}

// newNotifyID returns a notify_id: 34 digits, yyyyMMdd + 00222 + 21 digits.
func newNotifyID(now time.Time) string {
	return now.In(alipay.Beijing).Format("20060102") + "00222" + randDigits(21)
}

// newToken returns an unguessable lowercase token (qr codes, bill URLs).
func newToken() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func privateKeyPEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}
