package alipay

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// Every padding or reordering a signature under rule v1 does not cover
// still verifies, and leaves SignedContent and SignedForm as they were;
// SignedForm verifies again, to the same content.
func TestSignedContentIgnoresPadding(t *testing.T) {
	t.Parallel()
	c := alipayClient(t)
	body := signNotify(t, testKey(t, 1), paymentParams())
	n, err := c.VerifyNotification([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	content, form := n.SignedContent(), n.SignedForm()
	if want := SignContent(paymentParams(), RuleV1); !bytes.Equal(content, want) {
		t.Fatalf("SignedContent\n%s\nwant\n%s", content, want)
	}
	pairs := strings.Split(body, "&")
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	sign := n.Params["sign"]
	variants := map[string]string{
		"empty value":              body + "&x=",
		"whitespace value":         body + "&zz=%20%20",
		"empty key":                body + "&=anything",
		"whitespace key, 60 KB":    body + "&%20=" + strings.Repeat("a", 60<<10),
		"reordered":                strings.Join(pairs, "&"),
		"line breaks in sign":      strings.Replace(body, EncodeForm(map[string]string{"sign": sign}), EncodeForm(map[string]string{"sign": sign[:10] + "\r\n\n" + sign[10:]}), 1),
		"escaped differently":      strings.Replace(body, "out_trade_no=o_1", "out_trade_no=%6F_1", 1),
		"several paddings at once": "=x&" + body + "&a=&b=%09&%0A=y",
	}
	for name, v := range variants {
		if v == body {
			t.Fatalf("%s: the variant is the message itself", name)
		}
		m, err := c.VerifyNotification([]byte(v))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(m.SignedContent(), content) {
			t.Errorf("%s: SignedContent\n%s\nwant\n%s", name, m.SignedContent(), content)
		}
		if got := m.SignedForm(); got != form {
			t.Errorf("%s: SignedForm\n%s\nwant\n%s", name, got, form)
		}
	}
	// sign_type is not covered either: leaving it out is the same message
	// (its SignedForm has no sign_type, as received).
	m, err := c.VerifyNotification([]byte(strings.Replace(body, "sign_type=RSA2&", "", 1)))
	if err != nil || !bytes.Equal(m.SignedContent(), content) || strings.Contains(m.SignedForm(), "sign_type") {
		t.Fatalf("sign_type left out: %v, %s", err, m.SignedForm())
	}
	again, err := c.VerifyNotification([]byte(form))
	if err != nil || !bytes.Equal(again.SignedContent(), content) || again.SignedForm() != form {
		t.Fatalf("SignedForm does not verify to the same content: %v", err)
	}
	// A covered value with spaces around it is another message: it is
	// signed untrimmed, so it does not verify with this signature.
	if _, err := c.VerifyNotification([]byte(strings.Replace(body, "out_trade_no=o_1", "out_trade_no=o_1+", 1))); err == nil {
		t.Fatal("a covered value changed by a trailing space still verifies")
	}
}

// An alipay_cert_sn added without being signed is not part of what
// identifies the message.
func TestSignedContentUnsignedCertSN(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	cfg := Config{AppID: testAppID, PrivateKey: testKey(t, 0)}
	if err := useCerts(&cfg, pki.appCert, pki.alipayCert, pki.rootBundle); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := CertSN(pki.alipayCert)
	body := signNotify(t, testKey(t, 1), paymentParams())
	plain, err := c.VerifyNotification([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	withSN, err := c.VerifyNotification([]byte(body + "&alipay_cert_sn=" + sn))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(withSN.SignedContent(), plain.SignedContent()) || withSN.SignedForm() != plain.SignedForm() {
		t.Fatalf("the unsigned alipay_cert_sn changed the identity:\n%s\n%s", withSN.SignedContent(), plain.SignedContent())
	}
	if strings.Contains(withSN.SignedForm(), "alipay_cert_sn") {
		t.Fatal("SignedForm keeps the unsigned alipay_cert_sn")
	}
}
