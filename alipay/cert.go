package alipay

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"
)

// Certificate ("public key certificate") mode.
//
// An app in certificate mode signs requests with its private key as usual,
// but sends app_cert_sn (the SN of its own certificate, appCertPublicKey_*.crt)
// and alipay_root_cert_sn (the SNs of Alipay's root bundle, alipayRootCert.crt)
// with every request, and Alipay's responses carry alipay_cert_sn, the SN of
// the certificate whose key signed them (alipayCertPublicKey_RSA2.crt).
//
// An SN is the lowercase hex MD5 of the certificate's issuer distinguished
// name (RFC 2253 form, as Java's getIssuerX500Principal().getName()) followed
// by its serial number in decimal. Certificate validity dates are not
// checked: the SN is an identifier, and Alipay computes it the same way.

// ErrCertificate marks certificate data that cannot be used.
var ErrCertificate = errors.New("alipay: bad certificate")

// ErrUnknownCertSN marks a response signed with an Alipay certificate the
// client does not know (alipay_cert_sn); load the new certificate.
var ErrUnknownCertSN = errors.New("alipay: unknown alipay_cert_sn")

// rsaSignatureOID is the arc of the RSA signature algorithms
// (sha1WithRSAEncryption, sha256WithRSAEncryption, …): 1.2.840.113549.1.1.
var rsaSignatureOID = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1}

// CertSN returns the SN of the first certificate in certPEM: the value of
// app_cert_sn for the app certificate, or alipay_cert_sn for Alipay's
// certificate (alipayCertPublicKey_RSA2.crt holds a chain; only its first
// certificate counts).
func CertSN(certPEM []byte) (string, error) {
	c, err := firstCert(certPEM)
	if err != nil {
		return "", err
	}
	return certSN(c), nil
}

// RootCertSN returns alipay_root_cert_sn for a root bundle: the SNs of every
// certificate in the bundle signed with an RSA algorithm, in file order,
// joined with "_". Other certificates (SM2, ECDSA), including those Go cannot
// parse, are skipped as the official SDKs skip them.
func RootCertSN(bundlePEM []byte) (string, error) {
	sn, _, err := rootCerts(bundlePEM)
	return sn, err
}

// rootCerts returns the root SN and the RSA-signed roots of a bundle.
func rootCerts(bundlePEM []byte) (string, []*x509.Certificate, error) {
	var sns []string
	var roots []*x509.Certificate
	rest := bundlePEM
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		if !rsaSigned(block.Bytes) {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		sns = append(sns, certSN(c))
		roots = append(roots, c)
	}
	if n == 0 {
		return "", nil, fmt.Errorf("%w: no PEM CERTIFICATE block in the root bundle", ErrCertificate)
	}
	if len(sns) == 0 {
		return "", nil, fmt.Errorf("%w: none of the %d certificates in the root bundle is RSA-signed", ErrCertificate, n)
	}
	return strings.Join(sns, "_"), roots, nil
}

// rsaSigned reports whether a DER certificate's signature algorithm is in the
// RSA arc. It reads only the outer structure, so it works on certificates Go's
// x509 package rejects (SM2).
func rsaSigned(der []byte) bool {
	var outer struct {
		TBS    asn1.RawValue
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return false
	}
	oid := outer.SigAlg.Algorithm
	return len(oid) > len(rsaSignatureOID) && oid[:len(rsaSignatureOID)].Equal(rsaSignatureOID)
}

func certSN(c *x509.Certificate) string {
	sum := md5.Sum([]byte(issuerName(c) + serialString(c.SerialNumber)))
	return hex.EncodeToString(sum[:])
}

func serialString(n *big.Int) string {
	if n == nil {
		return "0"
	}
	return n.String()
}

// issuerName is the issuer DN in RFC 2253 order (most specific first), built
// from the raw issuer so that the attribute order is the certificate's own.
func issuerName(c *x509.Certificate) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(c.RawIssuer, &seq); err == nil && len(rest) == 0 {
		return seq.String()
	}
	return c.Issuer.String()
}

func firstCert(data []byte) (*x509.Certificate, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCertificate, err)
		}
		return c, nil
	}
	if _, err := parsePrivateKey(data); err == nil {
		return nil, fmt.Errorf("%w: found a private key, not a certificate", ErrCertificate)
	}
	if _, err := parsePublicKey(data); err == nil {
		return nil, fmt.Errorf("%w: found a public key, not a certificate (key mode and certificate mode are separate: use the .crt files)", ErrCertificate)
	}
	return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrCertificate)
}

func certRSAKey(c *x509.Certificate) (*rsa.PublicKey, error) {
	k, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the certificate holds a %T key, not RSA", ErrCertificate, c.PublicKey)
	}
	return k, nil
}

// Certificates is the certificate-mode ("public key certificate") setup of
// an app, made from its three certificate files by [ParseCertificates] or
// [LoadCertificates]. Set it as Config.Certificates; New then checks that
// the app certificate holds the public key of Config.PrivateKey. It cannot
// be built field by field, so no check is skipped.
type Certificates struct {
	appSN      string
	rootSN     string
	appKey     *rsa.PublicKey
	alipayKeys map[string]*rsa.PublicKey // alipay_cert_sn → key
	roots      []*x509.Certificate       // the RSA roots of the bundle
}

// ParseCertificates reads the app certificate (appCertPublicKey_<appid>.crt),
// Alipay's certificate (alipayCertPublicKey_RSA2.crt) and Alipay's root
// bundle (alipayRootCert.crt).
func ParseCertificates(appCertPEM, alipayCertPEM, rootCertPEM []byte) (*Certificates, error) {
	app, err := firstCert(appCertPEM)
	if err != nil {
		return nil, fmt.Errorf("app certificate: %w", err)
	}
	appKey, err := certRSAKey(app)
	if err != nil {
		return nil, fmt.Errorf("app certificate: %w", err)
	}
	rootSN, roots, err := rootCerts(rootCertPEM)
	if err != nil {
		return nil, fmt.Errorf("alipay root certificate: %w", err)
	}
	sn, k, err := alipayCertKey(alipayCertPEM)
	if err != nil {
		return nil, err
	}
	if SameKey(k, appKey) {
		return nil, fmt.Errorf("alipay certificate: %w", ErrAppKeyAsAlipayKey)
	}
	return &Certificates{appSN: certSN(app), rootSN: rootSN, appKey: appKey,
		alipayKeys: map[string]*rsa.PublicKey{sn: k}, roots: roots}, nil
}

// LoadCertificates is ParseCertificates reading the three files by name;
// errors name the file.
func LoadCertificates(appCertFile, alipayCertFile, rootCertFile string) (*Certificates, error) {
	var data [3][]byte
	names := []string{appCertFile, alipayCertFile, rootCertFile}
	for i, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("alipay: %w", err)
		}
		data[i] = b
	}
	certs, err := ParseCertificates(data[0], data[1], data[2])
	if err != nil {
		for i, name := range names {
			if _, e := checkCertFile(i, data[i]); e != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil, err
	}
	return certs, nil
}

// AppCertSN returns app_cert_sn, sent and signed with every request.
func (c *Certificates) AppCertSN() string { return c.appSN }

// RootCertSN returns alipay_root_cert_sn, sent and signed with every request.
func (c *Certificates) RootCertSN() string { return c.rootSN }

// AddAlipayCert adds one more Alipay certificate, for a rotation: responses
// are verified with the key of the certificate whose SN they name. It
// returns the SN. A Client keeps the set it was created with.
func (c *Certificates) AddAlipayCert(alipayCertPEM []byte) (string, error) {
	sn, k, err := alipayCertKey(alipayCertPEM)
	if err != nil {
		return "", err
	}
	if SameKey(k, c.appKey) {
		return "", fmt.Errorf("alipay certificate: %w", ErrAppKeyAsAlipayKey)
	}
	c.alipayKeys[sn] = k
	return sn, nil
}

// clone returns a copy that later AddAlipayCert calls do not change.
func (c *Certificates) clone() *Certificates {
	d := *c
	d.alipayKeys = maps.Clone(c.alipayKeys)
	d.roots = slices.Clone(c.roots)
	return &d
}

func alipayCertKey(pemData []byte) (string, *rsa.PublicKey, error) {
	c, err := firstCert(pemData)
	if err != nil {
		return "", nil, fmt.Errorf("alipay certificate: %w", err)
	}
	k, err := certRSAKey(c)
	if err != nil {
		return "", nil, fmt.Errorf("alipay certificate: %w", err)
	}
	return certSN(c), k, nil
}

func checkCertFile(i int, data []byte) (string, error) {
	if i == 2 {
		return RootCertSN(data)
	}
	return CertSN(data)
}

// AlipayCertDownloadMethod downloads one of Alipay's certificates by SN.
const AlipayCertDownloadMethod = "alipay.open.app.alipaycert.download"

// DownloadAlipayCert fetches the Alipay certificate whose SN is sn, as the
// official SDKs do when a response names an alipay_cert_sn the client does
// not know (Alipay rotated its certificate; see ErrUnknownCertSN). That answer
// is signed with the very certificate being fetched, so it cannot be checked
// with a key the client has: the certificate is trusted only if its SN is sn
// and it chains, at the client's current time, to the Alipay root bundle given
// to ParseCertificates. It returns the certificate (with any intermediates it
// came with) as PEM, to be stored and added with Certificates.AddAlipayCert.
func (c *Client) DownloadAlipayCert(ctx context.Context, sn string) (_ []byte, err error) {
	if c.cfg.Certificates == nil {
		return nil, fmt.Errorf("%w: downloading Alipay certificates needs certificate mode (Config.Certificates)", ErrInvalidParam)
	}
	if sn == "" {
		return nil, fmt.Errorf("%w: empty alipay_cert_sn", ErrInvalidParam)
	}
	start := time.Now()
	var resp *Response
	defer func() { c.report(AlipayCertDownloadMethod, APIv2, start, resp, err) }()
	resp, err = c.send(ctx, request{method: AlipayCertDownloadMethod, biz: map[string]string{"alipay_cert_sn": sn}})
	if err != nil {
		return nil, err
	}
	raw, err := ExtractResponse(resp.Body, AlipayCertDownloadMethod)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", AlipayCertDownloadMethod, err)
	}
	var r struct {
		Error
		Content string `json:"alipay_cert_content"`
	}
	if err := json.Unmarshal(raw.Content, &r); err != nil {
		return nil, fmt.Errorf("alipay: %s: %w: %v", AlipayCertDownloadMethod, ErrBadResponse, err)
	}
	if r.Code != "10000" {
		e := r.Error
		e.Method, e.Unverified = AlipayCertDownloadMethod, true
		return nil, &e
	}
	certPEM, err := decodeCertContent(r.Content)
	if err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", AlipayCertDownloadMethod, err)
	}
	if err := c.checkAlipayCert(certPEM, sn); err != nil {
		return nil, fmt.Errorf("alipay: %s: %w", AlipayCertDownloadMethod, err)
	}
	return certPEM, nil
}

// decodeCertContent decodes alipay_cert_content: base64 of the PEM text (or,
// tolerated, of the DER certificate).
func decodeCertContent(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: alipay_cert_content is not base64", ErrCertificate)
	}
	if bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----")) {
		return b, nil
	}
	if _, err := x509.ParseCertificate(b); err != nil {
		return nil, fmt.Errorf("%w: alipay_cert_content holds no certificate", ErrCertificate)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b}), nil
}

// checkAlipayCert checks that the first certificate of certPEM has SN sn,
// holds an RSA key other than the app's, and chains to the configured roots.
func (c *Client) checkAlipayCert(certPEM []byte, sn string) error {
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCertificate, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return fmt.Errorf("%w: no certificate", ErrCertificate)
	}
	leaf := certs[0]
	if got := certSN(leaf); got != sn {
		return fmt.Errorf("%w: asked for SN %s, got a certificate with SN %s", ErrCertificate, sn, got)
	}
	k, err := certRSAKey(leaf)
	if err != nil {
		return err
	}
	if SameKey(k, c.appPub) {
		return ErrAppKeyAsAlipayKey
	}
	if err := verifyChain(leaf, certs[1:], c.cfg.Certificates.roots, c.cfg.Now()); err != nil {
		return fmt.Errorf("%w: the certificate does not chain to the Alipay root bundle: %v", ErrCertificate, err)
	}
	return nil
}

// verifyChain checks that leaf chains to one of roots through intermediates,
// every certificate being valid at now, the way the Java SDK's
// AntCertificationUtil.isTrusted does: by issuer name and signature only.
// (crypto/x509's Verify also demands CA basic constraints, which the
// intermediate of Alipay's sandbox CA lacks.)
func verifyChain(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, now time.Time) error {
	valid := func(c *x509.Certificate) error {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("%q is valid from %s to %s, not at %s", c.Subject.CommonName,
				c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), now.Format(time.DateOnly))
		}
		return nil
	}
	signedBy := func(child, parent *x509.Certificate) bool {
		return bytes.Equal(child.RawIssuer, parent.RawSubject) &&
			parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
	}
	cur := leaf
	for depth := 0; depth < 8; depth++ {
		if err := valid(cur); err != nil {
			return err
		}
		for _, r := range roots {
			if bytes.Equal(cur.Raw, r.Raw) {
				return nil
			}
			if signedBy(cur, r) {
				return valid(r)
			}
		}
		var next *x509.Certificate
		for _, ic := range intermediates {
			if ic != cur && signedBy(cur, ic) {
				next = ic
				break
			}
		}
		if next == nil {
			return fmt.Errorf("no issuer of %q in the chain or the root bundle", cur.Subject.CommonName)
		}
		cur = next
	}
	return errors.New("chain too long")
}
