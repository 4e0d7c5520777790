package sandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"alishop/alipay"
)

// The buyer's pages: the cashier (收银台) of page/wap pay and the wallet page
// behind a precreate QR code. Server-rendered, no JavaScript needed. Stable
// element ids for browser tests: input#login, input#password, button#pay,
// button#cancel, #amount, #subject, #error, #result.

const pageHead = `<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>{{.Title}} - 支付宝沙箱</title><link rel="stylesheet" href="{{.CSS}}"></head>
<body><header><span class="logo">支付宝</span><h1 class="what">{{.Title}}</h1><span class="badge">离线沙箱</span></header><main>`

const pageFoot = `</main><footer>alishop 离线支付宝沙箱 · 不涉及真实资金</footer></body></html>`

var pages = template.Must(template.New("pay").Parse(pageHead + `
<section class="order">
<p class="subject" id="subject">{{.Subject}}</p>
<p class="amount">¥<span id="amount">{{.Amount}}</span></p>
<dl><dt>收款方</dt><dd>{{.Merchant}}</dd><dt>商户订单号</dt><dd id="out_trade_no">{{.OutTradeNo}}</dd><dt>交易号</dt><dd>{{.TradeNo}}</dd>{{if .Expire}}<dt>付款截止</dt><dd>{{.Expire}}</dd>{{end}}</dl>
</section>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
{{if .Payable}}
<form method="post" class="pay"{{if .Action}} action="{{.Action}}"{{end}}>
{{if .Buyer}}<h2>确认付款</h2>
<p class="buyer">付款账户 <span id="buyer">{{.Buyer}}</span></p>
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{else}}<h2>登录支付宝账户付款</h2>
<label for="login">账户名</label>
<input id="login" name="login" type="text" placeholder="buyer@sandbox.com" autocomplete="username" required value="{{.Login}}">
{{end}}<label for="password">支付密码</label>
<input id="password" name="password" type="password" inputmode="numeric" placeholder="6 位数字" autocomplete="off">
<div class="buttons">
<button id="pay" name="action" value="pay" type="submit">确认付款</button>
<button id="cancel" name="action" value="cancel" type="submit" class="secondary" formnovalidate>取消</button>
</div>
</form>
{{if not .Buyer}}<p class="hint">沙箱买家：buyer@sandbox.com，支付密码 111111；余额不足测试账户：poor@sandbox.com（余额 1.00 元），支付密码 111111。</p>{{end}}
{{end}}
` + pageFoot))

var resultPage = template.Must(template.New("result").Parse(pageHead + `
<section class="result {{.Class}}" id="result"><h2>{{.Heading}}</h2><p>{{.Text}}</p>
{{if .AppResult}}<p>支付宝 App 交回商户 App 的结果：</p><pre class="result" id="app_result">{{.AppResult}}</pre>{{end}}
{{if .Link}}<p><a id="back" href="{{.Link}}">{{or .LinkText "返回商户"}}</a></p>{{end}}</section>
` + pageFoot))

var indexPage = template.Must(template.New("index").Parse(pageHead + `
<section class="info">
<h2>网关</h2><p><code>{{.Gateway}}</code></p>
<h2>支付宝公钥</h2><p class="key"><code>{{.PublicKey}}</code></p>
<h2>应用</h2>{{if .Merchants}}<table><tr><th>app_id</th><th>seller_id</th><th>商户余额</th></tr>{{range .Merchants}}<tr><td>{{.AppID}}</td><td>{{.SellerID}}</td><td>{{.Balance}}</td></tr>{{end}}</table>{{else}}<p>尚无应用：<code>POST api/apps</code></p>{{end}}
<h2>买家账户</h2><table><tr><th>账户名</th><th>实名</th><th>余额</th></tr>{{range .Accounts}}<tr><td>{{.Login}}</td><td>{{.RealName}}</td><td>{{.Balance}}</td></tr>{{end}}</table><p>支付密码均为 111111</p>
<h2>买家钱包</h2><p><a id="wallet" href="wallet">打开支付宝钱包</a>（付款码、待确认付款）</p>
<h2>App 支付</h2><p><a id="app" href="app">模拟支付宝 App 接收订单字符串</a></p>
<h2>控制接口</h2><p><a href="api/trades">api/trades</a> · <a href="api/notifications">api/notifications</a> · <a href="api/clock">api/clock</a> · <a href="api/faults">api/faults</a> · <a href="api/apps">api/apps</a> · <a href="api/balances">api/balances</a></p>
</section>
` + pageFoot))

const css = `*{box-sizing:border-box}body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f5f5;color:#333}
header{background:#0958d9;color:#fff;padding:12px 20px;display:flex;gap:12px;align-items:center}
.logo{font-weight:bold;font-size:20px}.what{font-size:16px;font-weight:normal;margin:0}.badge{margin-left:auto;border:1px solid #fff;border-radius:4px;padding:1px 8px;font-size:12px}
main{max-width:560px;margin:24px auto;padding:0 16px}footer{text-align:center;color:#595959;font-size:12px;margin:24px}
section,form.pay{background:#fff;border-radius:8px;padding:20px;margin-bottom:16px;box-shadow:0 1px 3px #0001}
form.pay h2,.result h2{font-size:18px;margin:0 0 8px}.subject{font-size:16px;margin:0}.amount{font-size:32px;color:#cf1322;margin:8px 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;font-size:13px;color:#595959;margin:0}dd{margin:0;word-break:break-all}
textarea{width:100%;padding:10px;border:1px solid #8c8c8c;border-radius:4px;font-size:13px;font-family:ui-monospace,Menlo,Consolas,monospace}
label{display:block;margin:12px 0 4px;font-size:14px}input{width:100%;min-height:44px;padding:10px;border:1px solid #8c8c8c;border-radius:4px;font-size:16px}
.buttons{display:flex;gap:12px;margin-top:20px}button{flex:1;min-height:44px;padding:12px;border:0;border-radius:4px;font-size:16px;background:#0958d9;color:#fff;cursor:pointer}
button.secondary{background:#eee;color:#333}.error{background:#fff1f0;border:1px solid #ffa39e;color:#cf1322;padding:10px;border-radius:4px}
.hint{font-size:12px;color:#595959}.result.ok h2{color:#237804}.result.fail h2{color:#cf1322}
section>h2:first-child,form.pay>h2:first-child{margin-top:0}
.account p{margin:4px 0}.paycode-card{text-align:center}.paycode-card h2{margin:0 0 4px}
svg.barcode{display:block;width:100%;height:96px;margin:16px 0 8px;background:#fff}
svg.qr{display:block;width:168px;height:168px;margin:12px auto 4px;background:#fff}
.paycode{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:20px;letter-spacing:2px;margin:4px 0;word-break:break-all}
.pending-list{list-style:none;padding:0;margin:0}.pending-list a{display:block;padding:10px 0;border-bottom:1px solid #eee;color:#333;text-decoration:none}
.pending-list .amt{color:#cf1322;font-weight:bold}.pending-list .merchant{display:block;font-size:12px;color:#595959}
form.logout{text-align:center}form.logout button{flex:none;width:auto;padding:8px 24px}
pre.result{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#f5f5f5;padding:8px;border-radius:4px}
a{color:#0958d9}#back{display:inline-block;padding:10px 0}
code{word-break:break-all;font-size:12px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #eee;padding:4px 8px;text-align:left}
`

func handleCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write([]byte(css))
}

type payPage struct {
	Title, CSS                                     string
	Subject, Amount, Merchant, OutTradeNo, TradeNo string
	Expire, Error, Login                           string
	Payable                                        bool
	// Action is where the form posts ("" = the page's own URL).
	Action string
	// Buyer is the signed-in wallet's login: the form then asks for the pay
	// password only, and carries the session's CSRF token.
	Buyer, CSRF string
}

type resultData struct {
	Title, CSS, Class, Heading, Text, Link string
	LinkText                               string // "" = 返回商户
	AppResult                              string // app pay: the JSON the Alipay app hands back
}

func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

func (s *Sandbox) payPageData(t *trade, title string) payPage {
	p := payPage{Title: title, CSS: "../static/sandbox.css", Subject: t.Subject, Amount: t.TotalAmount.String(),
		OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo, Payable: t.Status == alipay.TradeStatusWaitBuyerPay}
	if a := s.apps[t.AppID]; a != nil {
		p.Merchant = sellerEmail(a) + " (" + a.SellerID + ")"
	}
	if !t.Expire.IsZero() {
		p.Expire = alipay.FormatTime(t.Expire)
	}
	switch t.Status {
	case alipay.TradeStatusSuccess, alipay.TradeStatusFinished:
		p.Error = "该交易已付款。"
	case alipay.TradeStatusClosed:
		p.Error = "该交易已关闭，无法付款。"
	}
	return p
}

func notFound(w http.ResponseWriter, what string) {
	render(w, http.StatusNotFound, resultPage, resultData{Title: "收银台", CSS: "../static/sandbox.css", Class: "fail", Heading: "找不到" + what, Text: "链接无效或沙箱已重置。"})
}

// handleCashier shows the cashier of a page/wap pay trade.
func (s *Sandbox) handleCashier(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.byNo[r.PathValue("trade_no")]
	if t == nil || !isPageMethod(t.Method) {
		s.mu.Unlock()
		notFound(w, "交易")
		return
	}
	s.expireDue(t, s.now())
	data := s.payPageData(t, "收银台")
	s.mu.Unlock()
	render(w, http.StatusOK, pages, data)
}

// handleCashierPost pays (action=pay) or leaves (action=cancel).
func (s *Sandbox) handleCashierPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	t := s.byNo[r.PathValue("trade_no")]
	if t == nil || !isPageMethod(t.Method) {
		s.mu.Unlock()
		notFound(w, "交易")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		quit, ret := t.QuitURL, t.ReturnURL
		s.mu.Unlock()
		if validHTTPURL(quit) {
			http.Redirect(w, r, quit, http.StatusSeeOther)
			return
		}
		render(w, http.StatusOK, resultPage, resultData{Title: "收银台", CSS: "../static/sandbox.css", Class: "fail",
			Heading: "已取消付款", Text: "交易仍在等待付款，可稍后重新发起。", Link: merchantHome(ret)})
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("login"))
	ret, err := s.payTrade(t, login, r.PostForm.Get("password"), true, s.now())
	data := s.payPageData(t, "收银台")
	s.mu.Unlock()
	if err != nil {
		data.Error, data.Login = err.Error(), login
		render(w, http.StatusOK, pages, data)
		return
	}
	if ret != "" {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, resultPage, resultData{Title: "收银台", CSS: "../static/sandbox.css", Class: "ok",
		Heading: "支付成功", Text: "¥" + data.Amount + " 已付款给 " + data.Merchant + "。"})
}

// merchantHome is the site root of a return_url, for the "back" link.
func merchantHome(ret string) string {
	if !validHTTPURL(ret) {
		return ""
	}
	u, _ := url.Parse(ret)
	return u.Scheme + "://" + u.Host + "/"
}

// handleWallet is what the buyer's wallet shows after scanning a precreate
// QR code: scanning creates the trade (WAIT_BUYER_PAY).
func (s *Sandbox) handleWallet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.byQR[r.PathValue("code")]
	if t == nil {
		s.mu.Unlock()
		notFound(w, "二维码")
		return
	}
	now := s.now()
	if t.Status == "" {
		if !now.Before(t.qrDeadline()) {
			s.mu.Unlock()
			render(w, http.StatusOK, resultPage, resultData{Title: "支付宝钱包", CSS: "../static/sandbox.css", Class: "fail", Heading: "二维码已过期", Text: "请让商户重新生成二维码。"})
			return
		}
		t.Status, t.Created = alipay.TradeStatusWaitBuyerPay, now
		s.indexTrade(t)
		s.persistTrade(t)
	}
	s.expireDue(t, now)
	data := s.payPageData(t, "支付宝钱包 · 扫码付款")
	s.mu.Unlock()
	render(w, http.StatusOK, pages, data)
}

func (s *Sandbox) handleWalletPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	t := s.byQR[r.PathValue("code")]
	if t == nil {
		s.mu.Unlock()
		notFound(w, "二维码")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		s.mu.Unlock()
		render(w, http.StatusOK, resultPage, resultData{Title: "支付宝钱包", CSS: "../static/sandbox.css", Class: "fail", Heading: "已取消付款", Text: "交易仍在等待付款。"})
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("login"))
	_, err := s.payTrade(t, login, r.PostForm.Get("password"), true, s.now())
	data := s.payPageData(t, "支付宝钱包 · 扫码付款")
	s.mu.Unlock()
	if err != nil {
		data.Error, data.Login = err.Error(), login
		render(w, http.StatusOK, pages, data)
		return
	}
	render(w, http.StatusOK, resultPage, resultData{Title: "支付宝钱包", CSS: "../static/sandbox.css", Class: "ok",
		Heading: "支付成功", Text: "¥" + data.Amount + " 已付款给 " + data.Merchant + "。"})
}

func (s *Sandbox) handleIndex(w http.ResponseWriter, r *http.Request) {
	merchants := s.Balances().Merchants // sorted by app_id
	s.mu.Lock()
	var accts []account
	for _, a := range s.accounts {
		accts = append(accts, *a)
	}
	s.mu.Unlock()
	slices.SortFunc(accts, func(a, b account) int { return strings.Compare(a.Login, b.Login) })
	render(w, http.StatusOK, indexPage, struct {
		Title, CSS, Gateway, PublicKey string
		Merchants                      []MerchantBalance
		Accounts                       []account
	}{"沙箱", "static/sandbox.css", s.baseURL(r) + "gateway.do", s.pubB64, merchants, accts})
}
