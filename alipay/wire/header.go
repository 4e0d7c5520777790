package wire

import "strings"

// Header holds the HTTP headers of an answer, keyed as net/http keys them
// (canonical form, "Alipay-Signature"). An http.Header converts to it, and
// back, with a plain conversion.
type Header map[string][]string

// Get returns the first value of key, or "". The key is case-insensitive,
// as http.Header.Get's is.
func (h Header) Get(key string) string {
	if v := h[canonicalHeaderKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of key (case-insensitive), or nil.
func (h Header) Values(key string) []string {
	return h[canonicalHeaderKey(key)]
}

// canonicalHeaderKey returns key as net/http and net/textproto write it:
// the first letter and every letter after a hyphen upper case, the others
// lower case ("alipay-sn" → "Alipay-Sn"). A key holding a byte that may
// not appear in a header name (a space, a non-ASCII byte, …) is returned
// unchanged, as they return it.
func canonicalHeaderKey(key string) string {
	upper, canonical := true, true
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !headerNameByte(c) {
			return key
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return key
	}
	b := []byte(key)
	upper = true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

// headerNameByte reports whether c may appear in a header name (an RFC
// 7230 token): a letter, a digit or one of !#$%&'*+-.^_`|~.
func headerNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c < 0x80 && strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
