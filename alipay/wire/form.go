package wire

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

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
	pairs := make([]Pair, 0, len(params))
	n := 0
	for k, v := range params {
		pairs = append(pairs, Pair{k, v})
		n += len(k) + len(v) + 2
	}
	slices.SortFunc(pairs, func(a, b Pair) int { return strings.Compare(a.Key, b.Key) })
	return AppendSignContent(make([]byte, 0, n), pairs, rule)
}

// ErrMultiValued is returned for a form in which a key appears more than once:
// Alipay never sends one, so such a form is forged or corrupted.
var ErrMultiValued = errors.New("alipay: parameter given more than once")

// ParseForm decodes a form body exactly once ('+' is a space, %2B a plus),
// rejecting malformed escapes, semicolon separators and keys given more than
// once. It accepts what url.ParseQuery accepts, with the same result.
func ParseForm(body string) (map[string]string, error) {
	pairs, err := ParsePairs(body, nil)
	if err != nil {
		return nil, err
	}
	return PairsMap(pairs), nil
}

// Pair is one decoded key=value of a form.
type Pair struct{ Key, Value string }

// ParsePairs decodes body as ParseForm does, into pairs sorted by key
// (appended to buf, so that a caller can keep them on its stack),
// rejecting repeated keys. All decoded keys and values share one string.
func ParsePairs(body string, buf []Pair) ([]Pair, error) {
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
		pairs = append(pairs, Pair{all[sp.k0:sp.k1], all[sp.k1:sp.v1]})
	}
	slices.SortFunc(pairs, func(a, b Pair) int { return strings.Compare(a.Key, b.Key) })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].Key == pairs[i-1].Key {
			return nil, fmt.Errorf("%w: %q", ErrMultiValued, pairs[i].Key)
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

// PairsMap returns pairs as a map.
func PairsMap(pairs []Pair) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.Key] = p.Value
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

// AppendSignContent appends the string to sign of pairs (sorted by key,
// as ParsePairs returns them) under rule to b: SignContent without a map.
func AppendSignContent(b []byte, pairs []Pair, rule Rule) []byte {
	start := len(b)
	for _, p := range pairs {
		if !signed(p.Key, p.Value, rule) {
			continue
		}
		if len(b) > start {
			b = append(b, '&')
		}
		b = append(b, p.Key...)
		b = append(b, '=')
		b = append(b, p.Value...)
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

// EncodeForm encodes params as a form, keys sorted, exactly as
// url.Values.Encode does (space as '+').
func EncodeForm(params map[string]string) string {
	return EncodeFormWithout(params, "")
}

// EncodeFormWithout is EncodeForm leaving out the key skip (if not ""):
// a request's protocol parameters, whose biz_content travels apart.
func EncodeFormWithout(params map[string]string, skip string) string {
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
