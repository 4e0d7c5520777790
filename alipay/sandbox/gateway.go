package sandbox

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"alishop/alipay"
)

// maxGatewayBody bounds a gateway request body.
const maxGatewayBody = 1 << 20

// gwReq is one gateway request after parsing.
type gwReq struct {
	r        *http.Request
	raw      map[string]string // values as received: bytes in the request's charset
	p        map[string]string // values decoded to UTF-8
	charset  string            // "utf-8" or "gbk"
	method   string
	m        *method // the method table's entry, once validated
	app      *app
	biz      map[string]json.RawMessage
	parseErr string
}

// gwError is a gateway-level error answer.
type gwError struct {
	code, msg, subCode, subMsg string
}

var (
	codeMsg = map[string]string{
		"10000": "Success",
		"20000": "Service Currently Unavailable",
		"20001": "Insufficient Token Permissions",
		"40001": "Missing Required Arguments",
		"40002": "Invalid Arguments",
		"40003": "Insufficient Conditions",
		"40004": "Business Failed",
	}
)

func gatewayErr(code, sub, subMsg string) *gwError {
	return &gwError{code: code, msg: codeMsg[code], subCode: sub, subMsg: subMsg}
}

// validMethodName reports whether m can name a response node (letters,
// digits, dots and underscores); anything else answers in error_response.
func validMethodName(m string) bool {
	if m == "" || len(m) > 128 {
		return false
	}
	for _, c := range m {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// parseGateway merges the query and the form body (identical duplicates
// collapse, like gopay's charset given twice) and decodes the charset.
func parseGateway(r *http.Request) *gwReq {
	req := &gwReq{r: r, raw: map[string]string{}, p: map[string]string{}, charset: "utf-8"}
	all := url.Values{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		req.parseErr = "URL 查询字符串格式错误: " + err.Error()
	}
	for k, vs := range q {
		all[k] = append(all[k], vs...)
	}
	if r.Method == http.MethodPost && r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "multipart/form-data":
			// Bound the whole body: ParseMultipartForm alone would spool
			// file parts of any size to disk.
			r.Body = http.MaxBytesReader(nil, r.Body, maxGatewayBody)
			if err := r.ParseMultipartForm(maxGatewayBody); err != nil {
				req.parseErr = "请求体格式错误: " + err.Error()
			} else {
				for k, vs := range r.MultipartForm.Value {
					all[k] = append(all[k], vs...)
				}
			}
		default:
			body, err := io.ReadAll(io.LimitReader(r.Body, maxGatewayBody+1))
			switch {
			case err != nil:
				req.parseErr = "读取请求体失败: " + err.Error()
			case len(body) > maxGatewayBody:
				req.parseErr = "请求体过大"
			case ct == "" || ct == "application/x-www-form-urlencoded" || ct == "text/plain":
				bq, err := url.ParseQuery(string(body))
				if err != nil {
					req.parseErr = "请求体格式错误: " + err.Error()
				}
				for k, vs := range bq {
					all[k] = append(all[k], vs...)
				}
			default:
				req.parseErr = "不支持的 Content-Type: " + ct
			}
		}
	}
	req.setParams(all)
	return req
}

// setParams takes the merged parameters: identical duplicates collapse,
// the charset names how the values are decoded.
func (req *gwReq) setParams(all url.Values) {
	for k, vs := range all {
		v := vs[0]
		for _, o := range vs[1:] {
			if o != v && !(k == "charset" && strings.EqualFold(o, v)) {
				if req.parseErr == "" {
					req.parseErr = "参数 " + k + " 出现多次且取值不同"
				}
			}
		}
		req.raw[k] = v
	}
	req.method = req.raw["method"]
	if cs, ok := normCharset(req.raw["charset"]); ok {
		req.charset = cs
	}
	for k, v := range req.raw {
		req.p[k] = decodeCharset(v, req.charset)
	}
}

func normCharset(cs string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(cs)) {
	case "", "utf-8", "utf8":
		return "utf-8", true
	case "gbk":
		return "gbk", true
	}
	return "", false
}

func decodeCharset(s, cs string) string {
	if cs != "gbk" {
		return s
	}
	out, err := simplifiedchinese.GBK.NewDecoder().String(s)
	if err != nil {
		return s
	}
	return out
}

func encodeCharset(b []byte, cs string) []byte {
	if cs != "gbk" {
		return b
	}
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

// checkSignature verifies the request's signature under each signing rule
// that real clients use; it returns "" when valid, else the sub_msg.
func (req *gwReq) checkSignature() (subCode, subMsg string) {
	st := alipay.SignType(req.raw["sign_type"])
	sign := req.raw["sign"]
	pub := req.app.pub
	javaRule := alipay.SignContent(req.raw, alipay.RuleV2)
	if alipay.Verify(pub, st, javaRule, sign) == nil {
		return "", ""
	}
	// Hand-written clients sign whitespace-only or even empty values.
	for _, rule := range []alipay.Rule{alipay.RuleV2KeepWhitespace, alipay.RuleV2KeepEmpty} {
		c := alipay.SignContent(req.raw, rule)
		if !bytes.Equal(c, javaRule) && alipay.Verify(pub, st, c, sign) == nil {
			return "", ""
		}
	}
	other := alipay.SignTypeRSA
	if st == alipay.SignTypeRSA {
		other = alipay.SignTypeRSA2
	}
	if alipay.Verify(pub, other, javaRule, sign) == nil {
		return "isv.invalid-signature", "验签出错，sign值与sign_type参数指定的签名类型不一致：sign_type参数值为" + string(st) + "，您实际用的签名类型可能是" + string(other)
	}
	gw := decodeCharset(string(javaRule), req.charset)
	return "isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：" + strings.ReplaceAll(gw, "&", "&amp;")
}

// validate runs the real gateway's checks in its order (docs/PROTOCOL.md,
// "Trade timing and formats the sandbox imitates").
// It returns the error and whether it must be signed.
func (s *Sandbox) validate(req *gwReq) (*gwError, bool) {
	appID := req.raw["app_id"]
	if appID == "" {
		return gatewayErr("40001", "isv.missing-app-id", "缺少AppID参数"), false
	}
	s.mu.Lock()
	req.app = s.apps[appID]
	s.mu.Unlock()
	if req.app == nil {
		return gatewayErr("40002", "isv.invalid-app-id", "无效的AppID参数"), false
	}
	if req.parseErr != "" {
		return gatewayErr("40002", "isv.invalid-parameter", "参数无效: "+req.parseErr), true
	}
	for _, m := range []struct{ key, sub, msg string }{
		{"method", "isv.missing-method", "缺少方法名参数"},
		{"sign", "isv.missing-signature", "缺少签名参数"},
		{"sign_type", "isv.missing-signature-type", "缺少签名类型参数"},
		{"timestamp", "isv.missing-timestamp", "缺少时间戳参数"},
		{"version", "isv.missing-version", "缺少版本参数"},
	} {
		if strings.TrimSpace(req.raw[m.key]) == "" {
			return gatewayErr("40001", m.sub, m.msg), true
		}
	}
	if _, err := time.Parse(alipay.TimeLayout, req.raw["timestamp"]); err != nil {
		return gatewayErr("40002", "isv.invalid-timestamp", "非法的时间戳参数"), true
	}
	if _, ok := normCharset(req.raw["charset"]); !ok {
		return gatewayErr("40002", "isv.invalid-charset", "字符集错误"), true
	}
	if f := req.raw["format"]; f != "" && !strings.EqualFold(f, "json") {
		return gatewayErr("40002", "isv.invalid-format", "无效的数据格式"), true
	}
	st := alipay.SignType(req.raw["sign_type"])
	if st != alipay.SignTypeRSA2 && st != alipay.SignTypeRSA {
		return gatewayErr("40002", "isv.invalid-signature-type", "无效签名类型"), true
	}
	if st != req.app.SignType {
		return gatewayErr("40003", "isv.missing-signature-config", "验签出错, 未配置对应签名算法的公钥或者证书"), true
	}
	if req.app.AppCertSN != "" {
		if e := s.checkCertParams(req); e != nil {
			return e, true
		}
	}
	if sub, msg := req.checkSignature(); sub != "" {
		return gatewayErr("40002", sub, msg), true
	}
	if req.m = methodsByName[req.method]; req.m == nil {
		return gatewayErr("40002", "isv.invalid-method", "不存在的方法名"), true
	}
	bizText := req.p["biz_content"]
	switch et := req.raw["encrypt_type"]; et {
	case "":
	case "AES":
		if req.app.aesKey == nil {
			return gatewayErr("40002", "isv.decryption-error-not-valid-encrypt-key", "解密出错, 未配置AES密钥"), true
		}
		plain, err := alipay.DecryptContent(req.app.aesKey, bizText)
		if err != nil {
			return gatewayErr("40002", "isv.invalid-encrypt", "解密异常"), true
		}
		bizText = string(plain)
	default:
		return gatewayErr("40002", "isv.invalid-encrypt-type", "无效的加密类型"), true
	}
	req.biz = map[string]json.RawMessage{}
	if strings.TrimSpace(bizText) != "" {
		if err := json.Unmarshal([]byte(bizText), &req.biz); err != nil {
			return gatewayErr("40002", "isv.invalid-parameter", "参数无效: biz_content 不是 JSON 对象"), true
		}
	}
	return nil, false
}

// handleGateway serves gateway.do.
func (s *Sandbox) handleGateway(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "gateway.do accepts GET and POST", http.StatusMethodNotAllowed)
		return
	}
	req := parseGateway(r)
	if !s.applyLatency(r.Context(), req.raw["app_id"], req.method) {
		return // the client went away while the call was held
	}
	if e, signed := s.validate(req); e != nil {
		if isPageMethod(req.method) {
			s.errorPage(w, e)
			return
		}
		var a *app
		if signed {
			a = req.app
		}
		s.writeNode(w, req, a, e.node())
		return
	}
	if req.m.page != nil {
		req.m.page(s, w, req)
		return
	}
	if req.m.order != nil {
		s.writeNode(w, req, req.app, gatewayErr("40002", "isv.invalid-method",
			req.method+" 是 App 支付的订单字符串，由支付宝 App 提交，不能直接请求网关").node())
		return
	}
	fault := s.takeGatewayFault(req.app.AppID, req.method)
	if fault != nil && fault.Effect == "none" {
		s.answerFault(w, r, req, fault)
		return
	}
	n := s.dispatch(req, req.m)
	if fault != nil {
		s.answerFault(w, r, req, fault)
		return
	}
	s.writeNode(w, req, req.app, n)
}

// answerFault replaces the answer of a call whose effect (if any) is
// committed: 20000, ACQ.SYSTEM_ERROR, or a timeout (the connection is held,
// then dropped without an answer).
func (s *Sandbox) answerFault(w http.ResponseWriter, r *http.Request, req *gwReq, f *Fault) {
	switch f.Error {
	case "timeout":
		holdAndDrop(r, f)
	case "ACQ.SYSTEM_ERROR":
		s.writeNode(w, req, req.app, systemError(req.method))
	default:
		n := &node{code: "20000", msg: codeMsg["20000"], subCode: "isp.unknow-error", subMsg: "系统繁忙"}
		s.writeNode(w, req, req.app, n)
	}
}

// holdAndDrop holds the connection for the fault's delay (30 s by default)
// or until the client gives up, then drops it without an answer.
func holdAndDrop(r *http.Request, f *Fault) {
	d := time.Duration(f.Delay)
	if d <= 0 {
		d = 30 * time.Second
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
	}
	panic(http.ErrAbortHandler) // close the connection without an answer
}

var errorPageTmpl = template.Must(template.New("e").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="GBK"><title>支付宝 - 网上支付 安全快速！</title></head>
<body><div style="margin:40px auto;max-width:640px;font-family:sans-serif">
<h1 style="font-size:1.5em">调试错误，请回到请求来源地，重新发起请求。</h1>
<p>错误代码 <b>{{.Code}}</b></p>
<p>错误原因: {{.Msg}}</p>
</div></body></html>
`))

// errorPage answers a bad page-pay request the way Alipay does: HTTP 200 and
// an HTML page in GBK naming the error code without its "isv." prefix.
func (s *Sandbox) errorPage(w http.ResponseWriter, e *gwError) {
	var b bytes.Buffer
	_ = errorPageTmpl.Execute(&b, struct{ Code, Msg string }{strings.TrimPrefix(e.subCode, "isv."), strings.ReplaceAll(e.subMsg, "&amp;", "&")})
	w.Header().Set("Content-Type", "text/html;charset=GBK")
	_, _ = w.Write(encodeCharset(b.Bytes(), "gbk"))
}
