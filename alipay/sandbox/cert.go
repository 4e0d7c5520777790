package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"alishop/alipay"
)

// Public-key certificate mode (docs/PROTOCOL.md, "Certificate mode"). The sandbox has its own CA:
// a root certificate (what alipayRootCert.crt is to Alipay) and an Alipay
// certificate holding the sandbox's Alipay public key, issued by that root
// (alipayCertPublicKey_RSA2.crt). It issues app certificates
// (appCertPublicKey_<app_id>.crt) for the app public keys registered in
// certificate mode. Requests of such apps must carry app_cert_sn and
// alipay_root_cert_sn, and every signed response carries alipay_cert_sn.

// Files in DataDir.
const (
	caKeyFile      = "sandbox-root-ca-private-key.pem"
	rootCertFile   = "sandbox-alipayRootCert.crt"
	alipayCertFile = "sandbox-alipayCertPublicKey_RSA2.crt"
)

// certAuthority is the sandbox CA, created on first use.
type certAuthority struct {
	key       *rsa.PrivateKey
	root      *x509.Certificate
	rootPEM   []byte
	alipayPEM []byte
	rootSN    string
	alipaySN  string
}

// CertBundle is what the open platform hands a certificate-mode app: its
// certificate, Alipay's certificate and the root bundle (PEM), and their SNs.
type CertBundle struct {
	AppCert          string `json:"app_cert"`
	AlipayCert       string `json:"alipay_cert"`
	AlipayRootCert   string `json:"alipay_root_cert"`
	AppCertSN        string `json:"app_cert_sn"`
	AlipayCertSN     string `json:"alipay_cert_sn"`
	AlipayRootCertSN string `json:"alipay_root_cert_sn"`
}

// ca returns the sandbox CA, loading it from DataDir or creating it. Callers
// hold s.mu.
func (s *Sandbox) ca() (*certAuthority, error) {
	if s.certs != nil {
		return s.certs, nil
	}
	ca := &certAuthority{}
	dir := s.cfg.DataDir
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, caKeyFile)); err == nil {
			k, err := alipay.LoadPrivateKeyFile(filepath.Join(dir, caKeyFile))
			if err != nil {
				return nil, err
			}
			rootPEM, err := os.ReadFile(filepath.Join(dir, rootCertFile))
			if err != nil {
				return nil, err
			}
			alipayPEM, err := os.ReadFile(filepath.Join(dir, alipayCertFile))
			if err != nil {
				return nil, err
			}
			block, _ := pem.Decode(rootPEM)
			if block == nil {
				return nil, fmt.Errorf("sandbox: %s holds no certificate", rootCertFile)
			}
			root, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			ca.key, ca.root, ca.rootPEM, ca.alipayPEM = k, root, rootPEM, alipayPEM
			return s.finishCA(ca)
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: "Alipay Sandbox Root CA (alishop)", OrganizationalUnit: []string{"Certification Authority"}, Organization: []string{"alishop sandbox"}, Country: []string{"CN"}},
		NotBefore:             now.AddDate(0, 0, -1),
		NotAfter:              now.AddDate(30, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	root, _ := x509.ParseCertificate(der)
	ca.key, ca.root = k, root
	ca.rootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ca.alipayPEM, err = ca.issue(&s.key.PublicKey, "Alipay Sandbox (alishop)", now)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		for _, f := range []struct {
			name string
			data []byte
			perm os.FileMode
		}{{caKeyFile, privateKeyPEM(k), 0o600}, {rootCertFile, ca.rootPEM, 0o600}, {alipayCertFile, ca.alipayPEM, 0o600}} {
			if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
				return nil, err
			}
		}
	}
	return s.finishCA(ca)
}

func (s *Sandbox) finishCA(ca *certAuthority) (*certAuthority, error) {
	var err error
	if ca.rootSN, err = alipay.RootCertSN(ca.rootPEM); err != nil {
		return nil, err
	}
	if ca.alipaySN, err = alipay.CertSN(ca.alipayPEM); err != nil {
		return nil, err
	}
	s.certs = ca
	return ca, nil
}

func randSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 96))
	if err != nil {
		panic(err)
	}
	return n
}

// issue returns a PEM certificate for pub, issued by the root.
func (ca *certAuthority) issue(pub *rsa.PublicKey, cn string, now time.Time) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:       randSerial(),
		Subject:            pkix.Name{CommonName: cn, OrganizationalUnit: []string{"Alipay"}, Organization: []string{"alishop sandbox"}, Country: []string{"CN"}},
		NotBefore:          now.AddDate(0, 0, -1),
		NotAfter:           now.AddDate(10, 0, 0),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, pub, ca.key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// useCertMode gives app a (new) app certificate. Callers hold s.mu.
func (s *Sandbox) useCertMode(a *app, appCertPEM []byte) error {
	ca, err := s.ca()
	if err != nil {
		return fmt.Errorf("sandbox: certificate authority: %w", err)
	}
	if appCertPEM == nil {
		if appCertPEM, err = ca.issue(a.pub, a.AppID, s.cfg.Now()); err != nil {
			return err
		}
	}
	sn, err := alipay.CertSN(appCertPEM)
	if err != nil {
		return err
	}
	a.AppCert, a.AppCertSN = string(appCertPEM), sn
	return nil
}

// Certificates returns the certificate bundle of a certificate-mode app.
func (s *Sandbox) Certificates(appID string) (CertBundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || a.AppCertSN == "" {
		return CertBundle{}, errors.New("sandbox: no certificate-mode app " + appID)
	}
	ca, err := s.ca()
	if err != nil {
		return CertBundle{}, err
	}
	return CertBundle{AppCert: a.AppCert, AlipayCert: string(ca.alipayPEM), AlipayRootCert: string(ca.rootPEM),
		AppCertSN: a.AppCertSN, AlipayCertSN: ca.alipaySN, AlipayRootCertSN: ca.rootSN}, nil
}

// checkCertParams checks app_cert_sn and alipay_root_cert_sn of a request of
// a certificate-mode app.
func (s *Sandbox) checkCertParams(req *gwReq) *gwError {
	appSN, rootSN := req.raw["app_cert_sn"], req.raw["alipay_root_cert_sn"]
	if appSN == "" {
		return gatewayErr("40001", "isv.missing-app-cert-sn", "缺少应用公钥证书序列号")
	}
	if rootSN == "" {
		return gatewayErr("40001", "isv.missing-alipay-root-cert-sn", "缺少支付宝根证书序列号")
	}
	if appSN != req.app.AppCertSN {
		return gatewayErr("40002", "isv.app-cert-not-exist", "应用公钥证书不存在")
	}
	s.mu.Lock()
	ca, err := s.ca()
	s.mu.Unlock()
	if err != nil || rootSN != ca.rootSN {
		return gatewayErr("40002", "isv.invalid-alipay-root-cert-sn", "无效的支付宝根证书序列号")
	}
	return nil
}

// certDownload handles alipay.open.app.alipaycert.download.
func (s *Sandbox) certDownload(req *gwReq, _ time.Time) *node {
	sn, _ := req.bizString("alipay_cert_sn")
	ca, err := s.ca()
	if err != nil {
		return bizErr("ACQ.SYSTEM_ERROR", "系统错误")
	}
	if sn != ca.alipaySN {
		return &node{code: "40004", msg: codeMsg["40004"], subCode: "isv.alipay-cert-not-exist", subMsg: "支付宝公钥证书不存在"}
	}
	return okNode().str("alipay_cert_content", base64.StdEncoding.EncodeToString(ca.alipayPEM))
}

// responseCertSN is the alipay_cert_sn a response to app carries ("" in key mode).
func (s *Sandbox) responseCertSN(a *app) string {
	if a == nil || a.AppCertSN == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ca, err := s.ca()
	if err != nil {
		return ""
	}
	return ca.alipaySN
}
