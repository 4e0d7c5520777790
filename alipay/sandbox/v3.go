package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"alishop/alipay"
)

// OpenAPI v3 (docs/PROTOCOL.md, "OpenAPI v3"): REST paths under v3/, a JSON
// body, an Authorization header instead of signed form parameters, and
// answers signed in headers. The handlers are the gateway's: a v3 call is
// turned into the same request the gateway builds and answered from the
// same trade state.

// v3AuthWindow is how far a v3 request's timestamp may be from the wall
// clock; a nonce is remembered for as long as a request carrying it could
// still be accepted.
const v3AuthWindow = 10 * time.Minute

// v3NonceMax bounds the remembered nonces. When every slot holds a nonce
// still inside the window, new calls are refused (429) until one expires.
const v3NonceMax = 200_000

// v3Error is a v3 error answer.
type v3Error struct {
	status        int
	code, message string
}

func v3Err(status int, code, message string) *v3Error {
	return &v3Error{status: status, code: code, message: message}
}

// handleV3 serves v3/…: the route, the Authorization header, the body, then
// the gateway method behind the route.
func (s *Sandbox) handleV3(w http.ResponseWriter, r *http.Request) {
	m := methodsByV3Path[r.URL.Path]
	if m == nil {
		s.writeV3Error(w, nil, v3Err(http.StatusNotFound, "NOT_FOUND", "接口不存在: "+r.URL.Path))
		return
	}
	if r.Method != m.v3Verb {
		w.Header().Set("Allow", m.v3Verb)
		s.writeV3Error(w, nil, v3Err(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "请使用 "+m.v3Verb+" 调用 "+r.URL.Path))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGatewayBody+1))
	if err != nil {
		s.writeV3Error(w, nil, v3Err(http.StatusBadRequest, "INVALID_PARAMETER", "读取请求体失败"))
		return
	}
	if len(body) > maxGatewayBody {
		s.writeV3Error(w, nil, v3Err(http.StatusRequestEntityTooLarge, "INVALID_PARAMETER", "请求体过大"))
		return
	}
	a, authErr := s.v3Authenticate(r, body)
	if authErr != nil {
		s.writeV3Error(w, nil, authErr)
		return
	}
	if !s.applyLatency(r.Context(), a.AppID, m.name) {
		return // the client went away while the call was held
	}
	aes := strings.EqualFold(r.Header.Get("alipay-encrypt-type"), "AES")
	req, e := v3Request(r, m, a, body, aes)
	if e != nil {
		s.writeV3Error(w, a, e)
		return
	}
	fault := s.takeGatewayFault(a.AppID, m.name)
	if fault != nil && fault.Effect == "none" {
		s.answerV3Fault(w, r, a, fault)
		return
	}
	n := s.dispatch(req, m)
	if fault != nil {
		s.answerV3Fault(w, r, a, fault)
		return
	}
	s.writeV3(w, a, n, aes)
}

// v3Request turns a v3 call into the gateway's request: the JSON body (or,
// for GET, the query parameters) becomes biz_content, notify_url the
// common parameter.
func v3Request(r *http.Request, m *method, a *app, body []byte, aes bool) (*gwReq, *v3Error) {
	req := &gwReq{r: r, raw: map[string]string{"app_id": a.AppID, "method": m.name},
		p: map[string]string{"app_id": a.AppID, "method": m.name}, charset: "utf-8", method: m.name, m: m, app: a,
		biz: map[string]json.RawMessage{}}
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, v3Err(http.StatusBadRequest, "INVALID_PARAMETER", "URL 查询字符串格式错误")
		}
		for k, vs := range q {
			req.biz[k] = jsonString(nil, vs[0])
		}
		return req, nil
	}
	if aes {
		if a.aesKey == nil {
			return nil, v3Err(http.StatusBadRequest, "isv.decryption-error-not-valid-encrypt-key", "解密出错, 未配置AES密钥")
		}
		plain, err := alipay.DecryptContent(a.aesKey, strings.TrimSpace(string(body)))
		if err != nil {
			return nil, v3Err(http.StatusBadRequest, "isv.invalid-encrypt", "解密异常")
		}
		body = plain
	} else if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); len(body) > 0 && ct != "application/json" {
		return nil, v3Err(http.StatusUnsupportedMediaType, "INVALID_PARAMETER", "请求体应为 application/json")
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req.biz); err != nil || req.biz == nil {
			return nil, v3Err(http.StatusBadRequest, "INVALID_PARAMETER", "请求体不是 JSON 对象")
		}
	}
	if raw, ok := req.biz["notify_url"]; ok {
		var u string
		if json.Unmarshal(raw, &u) != nil {
			return nil, v3Err(http.StatusBadRequest, "INVALID_PARAMETER", "notify_url 应为字符串")
		}
		req.raw["notify_url"], req.p["notify_url"] = u, u
	}
	return req, nil
}

// v3Authenticate checks the Authorization header: scheme, app, timestamp
// against the wall clock, certificate serial numbers, the signature over
// the request as sent, and that the nonce is new.
func (s *Sandbox) v3Authenticate(r *http.Request, body []byte) (*app, *v3Error) {
	h := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(h, alipay.V3Scheme+" ")
	if !ok {
		return nil, v3Err(http.StatusUnauthorized, "isv.missing-signature", "缺少 Authorization 请求头或其格式不是 "+alipay.V3Scheme)
	}
	i := strings.LastIndex(rest, ",sign=")
	if i < 0 {
		return nil, v3Err(http.StatusUnauthorized, "isv.missing-signature", "Authorization 缺少 sign")
	}
	authString, sign := rest[:i], rest[i+len(",sign="):]
	fields := map[string]string{}
	for _, kv := range strings.Split(authString, ",") {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := fields[k]; dup {
			return nil, v3Err(http.StatusUnauthorized, "isv.invalid-signature", "Authorization 中 "+k+" 出现多次")
		}
		fields[k] = v
	}
	appID := fields["app_id"]
	if appID == "" {
		return nil, v3Err(http.StatusUnauthorized, "isv.missing-app-id", "缺少AppID参数")
	}
	s.mu.Lock()
	a := s.apps[appID]
	s.mu.Unlock()
	if a == nil {
		return nil, v3Err(http.StatusUnauthorized, "isv.invalid-app-id", "无效的AppID参数")
	}
	nonce := fields["nonce"]
	if nonce == "" || len(nonce) > 128 {
		return nil, v3Err(http.StatusUnauthorized, "isv.invalid-nonce", "nonce 缺失或过长")
	}
	ms, err := strconv.ParseInt(fields["timestamp"], 10, 64)
	if err != nil {
		return nil, v3Err(http.StatusUnauthorized, "isv.invalid-timestamp", "非法的时间戳参数")
	}
	wall := s.wall()
	if d := wall.Sub(time.UnixMilli(ms)); d > v3AuthWindow || d < -v3AuthWindow {
		return nil, v3Err(http.StatusUnauthorized, "isv.invalid-timestamp", "时间戳与当前时间相差超过 10 分钟")
	}
	if a.AppCertSN != "" {
		if e := s.v3CheckCertSN(a, fields["app_cert_sn"], r.Header.Get("alipay-root-cert-sn")); e != nil {
			return nil, e
		}
	}
	token := r.Header.Get("alipay-app-auth-token")
	if !v3SignatureOK(a, authString, r, body, token, sign) {
		return nil, v3Err(http.StatusUnauthorized, "isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配")
	}
	switch s.v3Nonces.add(appID+"\x00"+nonce, wall) {
	case nonceReused:
		return nil, v3Err(http.StatusUnauthorized, "isv.invalid-nonce", "nonce 在 10 分钟内已被使用")
	case nonceFull:
		return nil, v3Err(http.StatusTooManyRequests, "isp.too-many-requests", "请求过于频繁，请稍后重试")
	}
	return a, nil
}

// v3SignatureOK verifies sign over the string-to-sign of each form the
// request URI may have been signed in: as received, and as seen below the
// prefix the sandbox is mounted under (the Node.js SDK signs the path it is
// given, without the endpoint's own path).
func v3SignatureOK(a *app, authString string, r *http.Request, body []byte, token, sign string) bool {
	uris := []string{r.RequestURI}
	local := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		local += "?" + r.URL.RawQuery
	}
	if local != r.RequestURI {
		uris = append(uris, local)
	}
	for _, uri := range uris {
		content := make([]byte, 0, len(authString)+len(uri)+len(body)+len(token)+16)
		content = append(content, authString...)
		content = append(content, '\n')
		content = append(content, r.Method...)
		content = append(content, '\n')
		content = append(content, uri...)
		content = append(content, '\n')
		content = append(content, body...)
		content = append(content, '\n')
		if token != "" {
			content = append(content, token...)
			content = append(content, '\n')
		}
		if alipay.Verify(a.pub, alipay.SignTypeRSA2, content, sign) == nil {
			return true
		}
	}
	return false
}

// v3CheckCertSN checks the certificate serial numbers of a certificate-mode
// app's call: app_cert_sn in the Authorization header, the root's in the
// alipay-root-cert-sn header.
func (s *Sandbox) v3CheckCertSN(a *app, appSN, rootSN string) *v3Error {
	if appSN == "" {
		return v3Err(http.StatusUnauthorized, "isv.missing-app-cert-sn", "缺少应用公钥证书序列号")
	}
	if appSN != a.AppCertSN {
		return v3Err(http.StatusUnauthorized, "isv.app-cert-not-exist", "应用公钥证书不存在")
	}
	if rootSN == "" {
		return v3Err(http.StatusUnauthorized, "isv.missing-alipay-root-cert-sn", "缺少支付宝根证书序列号")
	}
	s.mu.Lock()
	ca, err := s.ca()
	s.mu.Unlock()
	if err != nil || rootSN != ca.rootSN {
		return v3Err(http.StatusUnauthorized, "isv.invalid-alipay-root-cert-sn", "无效的支付宝根证书序列号")
	}
	return nil
}

// v3Status is the HTTP status of a gateway answer given over v3.
func v3Status(n *node) int {
	switch {
	case n.code == "10000" || n.code == codeUserPaying:
		// A payment waiting for its buyer is no failure: its fields, without
		// gmt_payment, and the client queries (docs/PROTOCOL.md).
		return http.StatusOK
	case n.code == "20000" || n.subCode == "ACQ.SYSTEM_ERROR" || n.subCode == "SYSTEM_ERROR":
		return http.StatusInternalServerError
	case n.code == "40003":
		return http.StatusForbidden
	case n.code == "20001": // the user's access token (alipay.user.info.share)
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

// writeV3 answers a call with the node's fields as a JSON object (2xx) or,
// for a failure, a v3 error whose code is the gateway's sub_code.
func (s *Sandbox) writeV3(w http.ResponseWriter, a *app, n *node, aes bool) {
	status := v3Status(n)
	if status != http.StatusOK {
		// v3 names the token errors without their "aop." prefix.
		s.writeV3Error(w, a, v3Err(status, strings.TrimPrefix(n.subCode, "aop."), n.subMsg))
		return
	}
	body := n.encodeFields()
	ct := "application/json; charset=utf-8"
	if aes && a.aesKey != nil {
		enc, err := alipay.EncryptContent(a.aesKey, body)
		if err != nil {
			s.writeV3Error(w, a, v3Err(http.StatusInternalServerError, "ACQ.SYSTEM_ERROR", "系统错误"))
			return
		}
		body, ct = []byte(enc), "text/plain; charset=utf-8"
	}
	s.writeV3Body(w, a, status, ct, body)
}

func (s *Sandbox) writeV3Error(w http.ResponseWriter, a *app, e *v3Error) {
	b := make([]byte, 0, 128)
	b = append(b, `{"code":`...)
	b = jsonString(b, e.code)
	b = append(b, `,"message":`...)
	b = jsonString(b, e.message)
	b = append(b, '}')
	s.writeV3Body(w, a, e.status, "application/json; charset=utf-8", b)
}

// writeV3Body writes a v3 answer signed in its headers: alipay-signature
// over "timestamp\nnonce\nbody\n", and alipay-sn naming the Alipay
// certificate when the app is in certificate mode.
func (s *Sandbox) writeV3Body(w http.ResponseWriter, a *app, status int, contentType string, body []byte) {
	ts := strconv.FormatInt(s.wall().UnixMilli(), 10)
	nonce := randHex(16)
	sig, err := alipay.Sign(s.key, alipay.SignTypeRSA2, alipay.V3ResponseSignContent(ts, nonce, body))
	if err != nil { // cannot happen: RSA2 with the sandbox's own key
		s.log.Error("sandbox: signing a v3 answer", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("alipay-timestamp", ts)
	h.Set("alipay-nonce", nonce)
	h.Set("alipay-signature", sig)
	h.Set("alipay-trace-id", randHex(16))
	if sn := s.responseCertSN(a); sn != "" {
		h.Set("alipay-sn", sn)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// answerV3Fault is answerFault for a v3 call: a held then dropped
// connection, or a 5xx error.
func (s *Sandbox) answerV3Fault(w http.ResponseWriter, r *http.Request, a *app, f *Fault) {
	switch f.Error {
	case "timeout":
		holdAndDrop(r, f)
	case "ACQ.SYSTEM_ERROR":
		s.writeV3Error(w, a, v3Err(http.StatusInternalServerError, "ACQ.SYSTEM_ERROR", "系统错误"))
	default:
		s.writeV3Error(w, a, v3Err(http.StatusServiceUnavailable, "isp.unknow-error", "系统繁忙"))
	}
}

// encodeFields writes the node's fields, without code and msg, as a JSON
// object with sorted keys.
func (n *node) encodeFields() []byte {
	keys := make([]string, 0, len(n.fields))
	for k := range n.fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonString(b, k)
		b = append(b, ':')
		b = append(b, n.fields[k]...)
	}
	return append(b, '}')
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// nonceSet remembers the nonces of accepted v3 calls until they leave the
// window, in a map plus a queue in arrival order (expiries are monotonic,
// so the oldest entry expires first).
type nonceSet struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	queue []nonceEntry
	head  int
}

type nonceEntry struct {
	key    string
	expire time.Time
}

const (
	nonceNew = iota
	nonceReused
	nonceFull
)

// add records key at wall time now. A call's timestamp is at most one
// window ahead of now, so the nonce is kept two windows.
func (ns *nonceSet) add(key string, now time.Time) int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for ns.head < len(ns.queue) && !now.Before(ns.queue[ns.head].expire) {
		delete(ns.seen, ns.queue[ns.head].key)
		ns.queue[ns.head] = nonceEntry{}
		ns.head++
	}
	if ns.head > 1024 && ns.head*2 > len(ns.queue) {
		ns.queue = append([]nonceEntry(nil), ns.queue[ns.head:]...)
		ns.head = 0
	}
	if exp, ok := ns.seen[key]; ok && now.Before(exp) {
		return nonceReused
	}
	if len(ns.seen) >= v3NonceMax {
		return nonceFull
	}
	if ns.seen == nil {
		ns.seen = map[string]time.Time{}
	}
	exp := now.Add(2 * v3AuthWindow)
	ns.seen[key] = exp
	ns.queue = append(ns.queue, nonceEntry{key, exp})
	return nonceNew
}
