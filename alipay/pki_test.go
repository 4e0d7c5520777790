package alipay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// testPKI is a throw-away certificate hierarchy over the test keys: a root
// (key 2), the app certificate (key 0), Alipay's certificate (key 1, as a
// chain with the root appended, like alipayCertPublicKey_RSA2.crt) and an
// older Alipay certificate (key 2). The root bundle also holds an ECDSA root,
// which root SNs must skip.
type testPKI struct {
	rootBundle, appCert, alipayCert, oldAlipayCert []byte
	// leaf issues a certificate for test key i under the root.
	leaf func(serial int64, cn string, key int, notAfter time.Time) []byte
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	rootKey := testKey(t, 2)
	name := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{"CN"}, Organization: []string{"Ant Financial test"}, OrganizationalUnit: []string{"Certification Authority test"}, CommonName: cn}
	}
	notBefore := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1001), Subject: name("Test Root R1"), NotBefore: notBefore, NotAfter: notBefore.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecTmpl := &x509.Certificate{SerialNumber: big.NewInt(1002), Subject: name("Test Root E1"), NotBefore: notBefore, NotAfter: notBefore.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true}
	ecDER, err := x509.CreateCertificate(rand.Reader, ecTmpl, ecTmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	leafUntil := func(serial int64, cn string, key int, notAfter time.Time) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: name(cn), NotBefore: notBefore, NotAfter: notAfter}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &testKey(t, key).PublicKey, rootKey)
		if err != nil {
			t.Fatal(err)
		}
		return pemCert(der)
	}
	leaf := func(serial int64, cn string, key int) []byte {
		return leafUntil(serial, cn, key, notBefore.AddDate(1, 0, 0))
	}
	return &testPKI{
		leaf:          leafUntil,
		rootBundle:    append(pemCert(ecDER), pemCert(rootDER)...),
		appCert:       leaf(2001, "app 9021000122689420", 0),
		alipayCert:    append(leaf(3001, "支付宝(中国)网络技术有限公司-2088", 1), pemCert(rootDER)...),
		oldAlipayCert: leaf(3000, "支付宝(中国)网络技术有限公司-2088 old", 2),
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
