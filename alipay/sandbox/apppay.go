package sandbox

// App pay (alipay.trade.app.pay): the merchant's server signs an order
// string, its app hands it to the Alipay app, the buyer confirms, and the
// Alipay app hands the app a signed synchronous result. The sandbox plays
// the Alipay app: app/pay receives the order string, checks it as the
// gateway checks a request, creates the trade and shows the buyer a
// confirm page; paying it shows the result the app would receive.

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"alishop/alipay"
)

// The Alipay app's result codes (resultStatus) the sandbox hands back.
const (
	appPaid      = "9000" // 订单支付成功
	appFailed    = "4000" // 订单支付失败
	appCancelled = "6001" // 用户中途取消
	appNetwork   = "6002" // 网络连接出错
	appUnknown   = "6004" // 支付结果未知（有可能已经支付成功）
)

// AppPayResult is what the Alipay app hands back to the merchant's app:
// result is the signed synchronous answer
// ({"alipay_trade_app_pay_response":{…},"sign":"…","sign_type":"RSA2"}),
// "" unless resultStatus is 9000.
type AppPayResult struct {
	ResultStatus string `json:"resultStatus"`
	Memo         string `json:"memo"`
	Result       string `json:"result"`
}

// appPayOrder creates (or reopens) the WAIT_BUYER_PAY trade of an app pay
// order string: 15 days to pay unless the order says otherwise.
func (s *Sandbox) appPayOrder(req *gwReq, now time.Time) (*trade, *node) {
	nt, n := s.readNewTrade(req, now, 15*24*time.Hour)
	if n != nil {
		return nil, n
	}
	const product = "QUICK_MSECURITY_PAY"
	if nt.product != "" && nt.product != product {
		return nil, invalidParam("product_code 应为 " + product)
	}
	nt.product = product
	return s.openTrade(req, nt, now)
}

// readOrder checks an order string like a gateway request and creates its
// trade; the error is what the Alipay app would report.
func (s *Sandbox) readOrder(r *http.Request, order string) (*trade, *gwError) {
	req := &gwReq{r: r, raw: map[string]string{}, p: map[string]string{}, charset: "utf-8"}
	all, err := url.ParseQuery(strings.TrimSpace(order))
	if err != nil {
		req.parseErr = "订单字符串格式错误: " + err.Error()
	}
	req.setParams(all)
	if e, _ := s.validate(req); e != nil {
		return nil, e
	}
	if req.m.order == nil {
		return nil, gatewayErr("40002", "isv.invalid-method", "订单字符串的 method 应为 alipay.trade.app.pay，而不是 "+req.method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, n := req.m.order(s, req, s.now())
	if n != nil {
		return nil, &gwError{code: n.code, msg: n.msg, subCode: n.subCode, subMsg: n.subMsg}
	}
	return t, nil
}

// appPayResult is the signed synchronous result of a paid app pay trade:
// the response node in the field order of Alipay's documented example,
// signed over its bytes with the app's sign type. Callers hold s.mu.
func (s *Sandbox) appPayResult(t *trade, a *app) string {
	var node bytes.Buffer
	field := func(k, v string) {
		node.WriteByte(',')
		node.Write(jsonString(nil, k))
		node.WriteByte(':')
		node.Write(jsonString(nil, v))
	}
	node.WriteString(`{"code":"10000","msg":"Success"`)
	field("app_id", a.AppID)
	field("auth_app_id", a.AppID)
	field("charset", orDefault(t.Charset, "utf-8"))
	field("timestamp", alipay.FormatTime(t.Paid))
	field("out_trade_no", t.OutTradeNo)
	field("total_amount", t.TotalAmount.String())
	field("trade_no", t.TradeNo)
	field("seller_id", a.SellerID)
	node.WriteByte('}')
	content := encodeCharset(node.Bytes(), t.Charset)
	var b bytes.Buffer
	b.WriteString(`{"alipay_trade_app_pay_response":`)
	b.Write(node.Bytes())
	b.WriteString(`,"sign":"`)
	b.WriteString(s.signCached(a.SignType, content))
	b.WriteString(`","sign_type":"`)
	b.WriteString(string(a.SignType))
	b.WriteString(`"}`)
	return b.String()
}

// payApp pays an app pay trade as buyer at sandbox time now, applying the
// fault plan's gateway_error for alipay.trade.app.pay: the payment is made
// (effect committed) or not (none), and the app hears only that the
// result is unknown or that the network failed. A timeout drops the
// connection. Callers hold no lock.
func (s *Sandbox) payApp(w http.ResponseWriter, r *http.Request, t *trade, login, password string, checkPassword bool) (AppPayResult, error) {
	fault := s.takeGatewayFault(t.AppID, "alipay.trade.app.pay")
	if fault != nil && fault.Effect == "none" {
		if fault.Error == "timeout" {
			holdAndDrop(r, fault)
		}
		return AppPayResult{ResultStatus: appNetwork, Memo: "网络连接出错"}, nil
	}
	s.mu.Lock()
	_, err := s.payTrade(t, login, password, checkPassword, s.now())
	res := AppPayResult{ResultStatus: appPaid}
	if err == nil {
		if a := s.apps[t.AppID]; a != nil {
			res.Result = s.appPayResult(t, a)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return AppPayResult{}, err
	}
	if fault != nil {
		if fault.Error == "timeout" {
			holdAndDrop(r, fault)
		}
		return AppPayResult{ResultStatus: appUnknown, Memo: "支付结果未知（有可能已经支付成功），请查询商户订单列表中订单的支付状态"}, nil
	}
	return res, nil
}

var appFormPage = template.Must(template.New("app").Parse(pageHead + `
<form method="post" action="app/pay" class="pay">
<h2>支付宝 App · 收到订单</h2>
<p class="hint">粘贴商户 App 交给支付宝 App 的订单字符串（alipay.trade.app.pay，已签名），即模拟支付宝 App 调起收银台。</p>
<label for="order">订单字符串</label>
<textarea id="order" name="order" rows="8" required></textarea>
<div class="buttons"><button id="open" type="submit">打开收银台</button></div>
</form>
` + pageFoot))

// handleAppForm shows where to paste an order string.
func (s *Sandbox) handleAppForm(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, appFormPage, struct{ Title, CSS string }{"支付宝 App", "static/sandbox.css"})
}

func appResultJSON(res AppPayResult) string {
	b, _ := json.Marshal(res)
	return string(b)
}

// handleAppOrder receives an order string: a bad one gets the app's
// failure (resultStatus 4000); a good one creates the trade and shows the
// buyer its confirm page.
func (s *Sandbox) handleAppOrder(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxGatewayBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	t, e := s.readOrder(r, r.PostForm.Get("order"))
	if e != nil {
		res := AppPayResult{ResultStatus: appFailed, Memo: e.subCode + " " + e.subMsg}
		render(w, http.StatusOK, resultPage, resultData{Title: "支付宝 App", CSS: "../static/sandbox.css", Class: "fail",
			Heading: "订单无法支付", Text: e.subMsg, AppResult: appResultJSON(res)})
		return
	}
	s.mu.Lock()
	page := s.payPageData(t, "支付宝 App · 确认付款")
	s.mu.Unlock()
	page.CSS, page.Action = "../static/sandbox.css", "pay/"+t.TradeNo
	render(w, http.StatusOK, pages, page)
}

// appTrade finds an app pay trade by trade_no. Callers hold s.mu.
func (s *Sandbox) appTrade(no string) *trade {
	t := s.byNo[no]
	if t == nil || methodsByName[t.Method] == nil || methodsByName[t.Method].order == nil {
		return nil
	}
	s.expireDue(t, s.now())
	return t
}

const appConfirmCSS = "../../static/sandbox.css"

// handleAppConfirm shows an app pay trade's confirm page again.
func (s *Sandbox) handleAppConfirm(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.appTrade(r.PathValue("trade_no"))
	var page payPage
	if t != nil {
		page = s.payPageData(t, "支付宝 App · 确认付款")
	}
	s.mu.Unlock()
	if t == nil {
		render(w, http.StatusNotFound, resultPage, resultData{Title: "支付宝 App", CSS: appConfirmCSS, Class: "fail", Heading: "找不到交易", Text: "链接无效或沙箱已重置。"})
		return
	}
	page.CSS = appConfirmCSS
	render(w, http.StatusOK, pages, page)
}

// handleAppPay pays (action=pay, with login and pay password) or leaves
// (action=cancel) and shows the result the Alipay app hands back.
func (s *Sandbox) handleAppPay(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	t := s.appTrade(r.PathValue("trade_no"))
	s.mu.Unlock()
	if t == nil {
		render(w, http.StatusNotFound, resultPage, resultData{Title: "支付宝 App", CSS: appConfirmCSS, Class: "fail", Heading: "找不到交易", Text: "链接无效或沙箱已重置。"})
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		res := AppPayResult{ResultStatus: appCancelled, Memo: "用户中途取消"}
		render(w, http.StatusOK, resultPage, resultData{Title: "支付宝 App", CSS: appConfirmCSS, Class: "fail",
			Heading: "已取消付款", Text: "交易仍在等待付款。", AppResult: appResultJSON(res)})
		return
	}
	if !s.applyLatency(r.Context(), t.AppID, "alipay.trade.app.pay") {
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("login"))
	res, err := s.payApp(w, r, t, login, r.PostForm.Get("password"), true)
	if err != nil {
		s.mu.Lock()
		page := s.payPageData(t, "支付宝 App · 确认付款")
		s.mu.Unlock()
		page.CSS, page.Error, page.Login = appConfirmCSS, err.Error(), login
		render(w, http.StatusOK, pages, page)
		return
	}
	data := resultData{Title: "支付宝 App", CSS: appConfirmCSS, Class: "ok", Heading: "支付成功", AppResult: appResultJSON(res)}
	if res.ResultStatus != appPaid {
		data.Class, data.Heading, data.Text = "fail", "支付结果未知", res.Memo
	} else {
		data.Text = "¥" + t.TotalAmount.String() + " 已付款。支付宝 App 把下面的结果交回商户 App。"
	}
	render(w, http.StatusOK, resultPage, data)
}

// apiAppPay plays the Alipay app for tests: form order (the order string)
// and optional buyer; the trade is paid without the pay password and the
// answer is what the app hands back.
func (s *Sandbox) apiAppPay(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	buyer := r.PostForm.Get("buyer")
	if buyer == "" {
		buyer = DefaultBuyer
	}
	s.mu.Lock()
	known := s.accounts[buyer] != nil
	s.mu.Unlock()
	if !known {
		writeErr(w, http.StatusBadRequest, "unknown buyer "+buyer)
		return
	}
	t, e := s.readOrder(r, r.PostForm.Get("order"))
	if e != nil {
		writeJSON(w, http.StatusOK, AppPayResult{ResultStatus: appFailed, Memo: e.subCode + " " + e.subMsg})
		return
	}
	if !s.applyLatency(r.Context(), t.AppID, "alipay.trade.app.pay") {
		return
	}
	res, err := s.payApp(w, r, t, buyer, "", false)
	if err != nil {
		res = AppPayResult{ResultStatus: appFailed, Memo: err.Error()}
	}
	writeJSON(w, http.StatusOK, res)
}
