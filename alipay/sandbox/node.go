package sandbox

// Response nodes: how the gateway writes and signs an answer.

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"alishop/alipay"
)

func (e *gwError) node() *node {
	return &node{code: e.code, msg: e.msg, subCode: e.subCode, subMsg: e.subMsg}
}

// node is a response node: code, msg, sub_code, sub_msg first, then the other
// fields in alphabetical order, as Alipay writes them.
type node struct {
	code, msg, subCode, subMsg string
	fields                     map[string][]byte // raw JSON values
}

func okNode() *node { return &node{code: "10000", msg: "Success"} }

func bizErr(sub, subMsg string) *node {
	return &node{code: "40004", msg: "Business Failed", subCode: sub, subMsg: subMsg}
}

// str sets a string field; empty values are left out.
func (n *node) str(k, v string) *node {
	if v == "" {
		return n
	}
	return n.raw(k, jsonString(nil, v))
}

func (n *node) amt(k string, a alipay.Amount) *node { return n.raw(k, jsonString(nil, a.String())) }

func (n *node) raw(k string, v []byte) *node {
	if n.fields == nil {
		n.fields = map[string][]byte{}
	}
	n.fields[k] = v
	return n
}

func (n *node) encode() []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"code":`...)
	b = jsonString(b, n.code)
	b = append(b, `,"msg":`...)
	b = jsonString(b, n.msg)
	if n.subCode != "" {
		b = append(b, `,"sub_code":`...)
		b = jsonString(b, n.subCode)
		b = append(b, `,"sub_msg":`...)
		b = jsonString(b, n.subMsg)
	}
	keys := make([]string, 0, len(n.fields))
	for k := range n.fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = append(b, ',')
		b = jsonString(b, k)
		b = append(b, ':')
		b = append(b, n.fields[k]...)
	}
	return append(b, '}')
}

// jsonString appends s as a JSON string the way Alipay's fastjson writes it,
// "/" escaped as "\/", plus HTML-safe escapes: "<", ">" and "&" are written as
// \u003c, \u003e and \u0026, so that no request text echoed in an answer
// (sub_msg quotes the string-to-sign) is markup a browser would run. The
// bytes are still valid JSON and are what the signature covers.
func jsonString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '/':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// writeNode writes {"<node>":{…},"sign":"…"}, signed over the node's exact
// bytes (in the request's charset) with the app's sign_type; a = nil leaves
// it unsigned, as Alipay does for an unknown app_id.
func (s *Sandbox) writeNode(w http.ResponseWriter, req *gwReq, a *app, n *node) {
	name := "error_response"
	if validMethodName(req.method) {
		name = alipay.ResponseNode(req.method)
	}
	content := encodeCharset(n.encode(), req.charset)
	if a != nil && a.aesKey != nil && req.raw["encrypt_type"] == "AES" && n.code == "10000" {
		enc, err := alipay.EncryptContent(a.aesKey, content)
		if err == nil {
			// Base64 needs no JSON escape, and Alipay writes its "/" raw:
			// clients that decode the bytes between the quotes (smartwalle)
			// fail on "\/".
			content = []byte(`"` + enc + `"`)
		}
	}
	var b bytes.Buffer
	b.Grow(len(content) + len(name) + 400)
	b.WriteString(`{"`)
	b.WriteString(name)
	b.WriteString(`":`)
	b.Write(content)
	if sn := s.responseCertSN(a); sn != "" {
		b.WriteString(`,"alipay_cert_sn":"`)
		b.WriteString(sn)
		b.WriteByte('"')
	}
	if a != nil {
		b.WriteString(`,"sign":"`)
		b.WriteString(s.signCached(a.SignType, content))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	cs := "utf-8"
	if req.charset == "gbk" {
		cs = "GBK"
	}
	w.Header().Set("Content-Type", "text/html;charset="+cs)
	w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
	_, _ = w.Write(b.Bytes())
}

// sigCache caches response signatures: PKCS#1 v1.5 signatures are
// deterministic, so the same node bytes always get the same signature, and a
// repeated query (a reconciler polling a trade) costs no RSA operation.
type sigCache struct {
	mu sync.Mutex
	m  map[[32]byte]string
}

const sigCacheMax = 8192

func (s *Sandbox) signCached(t alipay.SignType, content []byte) string {
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write(content)
	var k [32]byte
	h.Sum(k[:0])
	s.sigs.mu.Lock()
	sig, ok := s.sigs.m[k]
	s.sigs.mu.Unlock()
	if ok && !s.noSigCache {
		return sig
	}
	sig, err := alipay.Sign(s.key, t, content)
	if err != nil { // cannot happen: t is RSA2 or RSA
		s.log.Error("sandbox: signing", "err", err)
		return ""
	}
	s.sigs.mu.Lock()
	if s.sigs.m == nil || len(s.sigs.m) >= sigCacheMax {
		s.sigs.m = make(map[[32]byte]string, 1024)
	}
	s.sigs.m[k] = sig
	s.sigs.mu.Unlock()
	return sig
}
