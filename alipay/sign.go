package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// SignType is the signature algorithm of an app: RSA2 (SHA256withRSA, the
// only choice for apps created since 2018) or RSA (SHA1withRSA, old apps).
type SignType string

const (
	SignTypeRSA2 SignType = "RSA2"
	SignTypeRSA  SignType = "RSA"
)

// ErrSignature is returned when a signature does not verify.
var ErrSignature = errors.New("alipay: signature mismatch")

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

// isEmpty is the Java SDK's StringUtils.isEmpty: empty or whitespace only.
// Such values are left out of every string-to-sign, but never trimmed.
func isEmpty(s string) bool { return strings.TrimSpace(s) == "" }

// Rule says which parameters a string to sign leaves out. Every rule
// leaves out sign; it sorts the rest by key and joins them as k=v&k=v over
// the raw (decoded, untrimmed) values.
type Rule uint8

const (
	// RuleV1 is the rule of notifications and return redirects: sign_type
	// is left out too, and so is every key or value that is empty or
	// whitespace only (the Java SDK's StringUtils.isEmpty).
	RuleV1 Rule = iota
	// RuleV2 keeps sign_type: the rule of gateway requests.
	RuleV2
	// RuleV2KeepWhitespace is RuleV2 keeping values made of whitespace
	// only, as some hand-written clients sign them (empty values are still
	// left out). A gateway may accept requests signed so.
	RuleV2KeepWhitespace
	// RuleV2KeepEmpty is RuleV2 keeping empty and whitespace-only values too.
	RuleV2KeepEmpty
)

// SignContent returns the string to sign of params under rule (for
// example RuleV2 for a request, RuleV1 for a notification). It is the one
// sort-and-join builder of this package.
func SignContent(params map[string]string, rule Rule) []byte {
	pairs := make([]formPair, 0, len(params))
	n := 0
	for k, v := range params {
		pairs = append(pairs, formPair{k, v})
		n += len(k) + len(v) + 2
	}
	slices.SortFunc(pairs, func(a, b formPair) int { return strings.Compare(a.k, b.k) })
	return appendSignContent(make([]byte, 0, n), pairs, rule)
}

// ErrMultiValued is returned for a form in which a key appears more than once:
// Alipay never sends one, so such a form is forged or corrupted.
var ErrMultiValued = errors.New("alipay: parameter given more than once")

// ParseForm decodes a form body exactly once ('+' is a space, %2B a plus),
// rejecting malformed escapes, semicolon separators and keys given more than
// once. It accepts what url.ParseQuery accepts, with the same result.
func ParseForm(body string) (map[string]string, error) {
	pairs, err := parseFormPairs(body, nil)
	if err != nil {
		return nil, err
	}
	return pairsMap(pairs), nil
}

// formPair is one decoded key=value of a form.
type formPair struct{ k, v string }

// parseFormPairs decodes body into pairs sorted by key (appended to buf),
// rejecting repeated keys. All decoded keys and values share one string.
func parseFormPairs(body string, buf []formPair) ([]formPair, error) {
	type span struct{ k0, k1, v1 int }
	var spansArr [32]span
	spans := spansArr[:0]
	var out strings.Builder
	out.Grow(len(body))
	rest := body
	for rest != "" {
		seg := rest
		if i := strings.IndexByte(rest, '&'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if seg == "" {
			continue
		}
		if strings.IndexByte(seg, ';') >= 0 {
			return nil, fmt.Errorf("alipay: not a form: invalid semicolon separator in %q", truncate(seg))
		}
		k, v, _ := strings.Cut(seg, "=")
		k0 := out.Len()
		if err := writeUnescaped(&out, k); err != nil {
			return nil, err
		}
		k1 := out.Len()
		if err := writeUnescaped(&out, v); err != nil {
			return nil, err
		}
		spans = append(spans, span{k0, k1, out.Len()})
	}
	all := out.String() // no copy
	pairs := buf[:0]
	for _, sp := range spans {
		pairs = append(pairs, formPair{all[sp.k0:sp.k1], all[sp.k1:sp.v1]})
	}
	slices.SortFunc(pairs, func(a, b formPair) int { return strings.Compare(a.k, b.k) })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].k == pairs[i-1].k {
			return nil, fmt.Errorf("%w: %q", ErrMultiValued, pairs[i].k)
		}
	}
	return pairs, nil
}

// writeUnescaped writes s decoded as url.QueryUnescape does: '+' is a
// space, %XX a byte, and a malformed escape an error.
func writeUnescaped(b *strings.Builder, s string) error {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		b.WriteString(s)
		return nil
	}
	for {
		i := 0
		for i < len(s) && s[i] != '%' && s[i] != '+' {
			i++
		}
		b.WriteString(s[:i])
		if i == len(s) {
			return nil
		}
		if s[i] == '+' {
			b.WriteByte(' ')
			s = s[i+1:]
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return fmt.Errorf("alipay: not a form: invalid URL escape %q", truncate(s[i:min(i+3, len(s))]))
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		s = s[i+3:]
	}
}

func pairsMap(pairs []formPair) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m
}

// truncate shortens s for an error message, copying it so that the
// message does not keep (or make escape) the whole input.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return strings.Clone(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// appendSignContent appends the string to sign of pairs (sorted by key)
// under rule to b.
func appendSignContent(b []byte, pairs []formPair, rule Rule) []byte {
	start := len(b)
	for _, p := range pairs {
		if !signed(p.k, p.v, rule) {
			continue
		}
		if len(b) > start {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}

// signed reports whether the parameter k=v is part of the string to sign
// under rule.
func signed(k, v string, rule Rule) bool {
	keepEmpty := rule == RuleV2KeepEmpty
	keepBlank := keepEmpty || rule == RuleV2KeepWhitespace
	switch {
	case k == "sign", k == "":
		return false
	case isEmpty(k) && !keepBlank:
		return false
	case k == "sign_type" && rule == RuleV1:
		return false
	case v == "" && !keepEmpty:
		return false
	case isEmpty(v) && !keepBlank:
		return false
	}
	return true
}

// contentPool recycles string-to-sign buffers of notification checks.
var contentPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// EncodeForm encodes params as a form, keys sorted, exactly as
// url.Values.Encode does (space as '+').
func EncodeForm(params map[string]string) string {
	return encodeParams(params, "")
}

// encodeParams is EncodeForm leaving out the key skip (if not "").
func encodeParams(params map[string]string, skip string) string {
	var arr [24]string
	keys := arr[:0]
	n := 0
	for k, v := range params {
		if skip != "" && k == skip {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	b := make([]byte, 0, n+n/2)
	for i, k := range keys {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendQueryEscape(b, k)
		b = append(b, '=')
		b = appendQueryEscape(b, params[k])
	}
	return string(b)
}

// appendQueryEscape appends s escaped as url.QueryEscape does: letters,
// digits and -_.~ stay, space becomes '+', every other byte %XX.
func appendQueryEscape(b []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return b
}

// querySep is the separator that appends a query to u: "?" or "&".
func querySep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}
