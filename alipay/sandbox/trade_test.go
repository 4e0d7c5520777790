package sandbox

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
)

var ctx = context.Background()

func TestPagePayCashierFormReturnNotifyQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Before the buyer opens the cashier, the trade does not exist.
	if _, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "o1"}); !alipay.IsTradeNotExist(err) {
		t.Fatalf("query before the cashier: %v, want ACQ.TRADE_NOT_EXIST", err)
	}
	cashier := e.openCashier("o1", alipay.MustAmount("88.88"))
	q, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "o1"})
	if err != nil || q.TradeStatus != alipay.TradeStatusWaitBuyerPay || q.TotalAmount != alipay.MustAmount("88.88") || len(q.TradeNo) != 28 {
		t.Fatalf("query after opening: %+v, %v", q, err)
	}
	// The cashier page: Chinese labels and stable ids.
	resp, err := e.http.Get(cashier)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"收银台", `id="login"`, `id="password"`, `id="pay"`, `id="cancel"`, "确认付款", "取消", "支付密码", "88.88", "测试商品 Go 书"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("cashier page lacks %q", want)
		}
	}
	// A wrong password is refused and changes nothing.
	resp, err = e.http.PostForm(cashier, url.Values{"login": {DefaultBuyer}, "password": {"000000"}, "action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "支付密码错误") {
		t.Fatalf("wrong password: HTTP %d %s", resp.StatusCode, page)
	}
	if v, _ := e.sb.Trade(testAppID, "o1"); v.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
		t.Fatalf("after a wrong password the trade is %s", v.TradeStatus)
	}
	// The poor buyer cannot pay: 余额不足.
	resp, _ = e.http.PostForm(cashier, url.Values{"login": {PoorBuyer}, "password": {BuyerPassword}, "action": {"pay"}})
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "余额不足") {
		t.Fatalf("poor buyer: %s", page)
	}
	// The right password pays and redirects to return_url with signed v1 params.
	resp, err = e.http.PostForm(cashier, url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}, "action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/return" {
		t.Fatalf("pay: HTTP %d Location %v", resp.StatusCode, resp.Header.Get("Location"))
	}
	ret, err := e.client.VerifyNotification([]byte(loc.RawQuery))
	if err != nil {
		t.Fatalf("return does not verify: %v", err)
	}
	if ret.Method != "alipay.trade.page.pay.return" || ret.OutTradeNo != "o1" || ret.SellerID != e.app.SellerID || ret.TotalAmount != alipay.MustAmount("88.88") {
		t.Fatalf("return: %+v", ret)
	}
	for _, k := range []string{"trade_status", "passback_params", "alipay_cert_sn"} {
		if _, ok := ret.Params[k]; ok {
			t.Errorf("return carries %s", k)
		}
	}
	// The notification is delivered and verifies.
	e.deliver()
	got := e.m.notifications()
	if len(got) != 1 {
		t.Fatalf("%d notifications, want 1", len(got))
	}
	n, err := e.verifiedNotification(got[0])
	if err != nil {
		t.Fatalf("notification does not verify: %v\n%s", err, got[0])
	}
	if err := n.Check(alipay.Expect{AppID: testAppID, SellerID: e.app.SellerID, TotalAmount: alipay.MustAmount("88.88")}); err != nil || n.TradeStatus != alipay.TradeStatusSuccess {
		t.Fatalf("notification: %+v %v", n, err)
	}
	if len(n.NotifyID) != 34 || n.BuyerID != defaultBuyerUID || n.BuyerLogonID != "buy***@sandbox.com" {
		t.Fatalf("notification ids: %q %q %q", n.NotifyID, n.BuyerID, n.BuyerLogonID)
	}
	for k, v := range n.Params {
		if strings.TrimSpace(v) == "" {
			t.Errorf("notification has an empty %s", k)
		}
	}
	q, err = e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "o1"})
	if err != nil || q.TradeStatus != alipay.TradeStatusSuccess || q.BuyerUserID != defaultBuyerUID {
		t.Fatalf("query after paying: %+v %v", q, err)
	}
	// Paying again is refused.
	if _, err := e.sb.Pay(testAppID, "o1", ""); err == nil {
		t.Fatal("a paid trade was paid twice")
	}
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("r1", alipay.MustAmount("10.00"))
	ref := "r1"
	r, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("3.00"), OutRequestNo: "rq1"})
	if err != nil || r.FundChange != "Y" || r.RefundFee != alipay.MustAmount("3.00") {
		t.Fatalf("partial refund: %+v %v", r, err)
	}
	r, err = e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("3.00"), OutRequestNo: "rq1"})
	if err != nil || r.FundChange != "N" || r.RefundFee != alipay.MustAmount("3.00") {
		t.Fatalf("repeat: %+v %v", r, err)
	}
	_, err = e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("4.00"), OutRequestNo: "rq1"})
	if !alipay.HasSubCode(err, "ACQ.DISCORDANT_REPEAT_REQUEST") {
		t.Fatalf("discordant repeat: %v", err)
	}
	_, err = e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("7.01"), OutRequestNo: "rq2"})
	if !alipay.HasSubCode(err, "ACQ.REASON_TRADE_REFUND_FEE_ERR") {
		t.Fatalf("over the cap: %v", err)
	}
	rq, err := e.client.TradeFastPayRefundQuery(ctx, alipay.TradeFastPayRefundQueryRequest{OutTradeNo: ref, OutRequestNo: "rq1"})
	if err != nil || !rq.Refunded() || rq.RefundAmount != alipay.MustAmount("3.00") || rq.TotalAmount != alipay.MustAmount("10.00") {
		t.Fatalf("refund query: %+v %v", rq, err)
	}
	rq, err = e.client.TradeFastPayRefundQuery(ctx, alipay.TradeFastPayRefundQueryRequest{OutTradeNo: ref, OutRequestNo: "nope"})
	if err != nil || rq.Refunded() {
		t.Fatalf("refund query of an unknown refund: %+v %v", rq, err)
	}
	r, err = e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("7.00"), OutRequestNo: "rq2"})
	if err != nil || r.FundChange != "Y" || r.RefundFee != alipay.MustAmount("10.00") {
		t.Fatalf("full refund: %+v %v", r, err)
	}
	q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: ref})
	if q.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("after the full refund: %s", q.TradeStatus)
	}
	// Repeating a refund of a closed trade is still idempotent.
	if r, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("7.00"), OutRequestNo: "rq2"}); err != nil || r.FundChange != "N" {
		t.Fatalf("repeat after close: %+v %v", r, err)
	}
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: alipay.MustAmount("1.00"), OutRequestNo: "rq3"}); !alipay.HasSubCode(err, "ACQ.TRADE_HAS_CLOSE") {
		t.Fatalf("refund of a closed trade: %v", err)
	}
	// Notifications: payment, partial refund (TRADE_SUCCESS + refund_fee), full refund (TRADE_CLOSED).
	e.deliver()
	var statuses []string
	for _, b := range e.m.notifications() {
		n, err := e.verifiedNotification(b)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, string(n.TradeStatus)+"/"+n.RefundFee.String()+"/"+n.OutBizNo)
	}
	want := "TRADE_SUCCESS/0.00//TRADE_SUCCESS/3.00/rq1/TRADE_CLOSED/10.00/rq2"
	if strings.Join(statuses, "/") != want {
		t.Fatalf("notifications %v, want %s", statuses, want)
	}
	// Refund rules on unpaid and unknown trades.
	e.openCashier("r2", alipay.MustAmount("5.00"))
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "r2", RefundAmount: alipay.MustAmount("5.00"), OutRequestNo: "x"}); !alipay.HasSubCode(err, "ACQ.TRADE_STATUS_ERROR") {
		t.Fatalf("refund of an unpaid trade: %v", err)
	}
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "none", RefundAmount: alipay.MustAmount("5.00"), OutRequestNo: "x"}); !alipay.IsTradeNotExist(err) {
		t.Fatalf("refund of an unknown trade: %v", err)
	}
}

func TestRefundWithoutOutRequestNoMustBeFull(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("f1", alipay.MustAmount("20.00"))
	call := func(amount string) (map[string]any, error) {
		var out map[string]any
		_, err := e.client.Call(ctx, alipay.CallRequest{Method: "alipay.trade.refund", Biz: map[string]string{"out_trade_no": "f1", "refund_amount": amount}}, &out)
		return out, err
	}
	if _, err := call("2.00"); !alipay.HasSubCode(err, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL") {
		t.Fatalf("partial refund without out_request_no: %v", err)
	}
	if out, err := call("20.00"); err != nil || out["fund_change"] != "Y" {
		t.Fatalf("full refund without out_request_no: %v %v", out, err)
	}
	// Known by out_trade_no in refund query.
	if rq, err := e.client.TradeFastPayRefundQuery(ctx, alipay.TradeFastPayRefundQueryRequest{OutTradeNo: "f1", OutRequestNo: "f1"}); err != nil || !rq.Refunded() {
		t.Fatalf("refund query by out_trade_no: %+v %v", rq, err)
	}
}

func TestCloseCancelExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// close: WAIT_BUYER_PAY only.
	e.openCashier("c1", alipay.MustAmount("1.00"))
	if r, err := e.client.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "c1"}); err != nil || r.OutTradeNo != "c1" {
		t.Fatalf("close: %+v %v", r, err)
	}
	if _, err := e.sb.Pay(testAppID, "c1", ""); err == nil {
		t.Fatal("a closed trade was paid")
	}
	if _, err := e.client.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "c1"}); !alipay.HasSubCode(err, "ACQ.TRADE_STATUS_ERROR") {
		t.Fatalf("close twice: %v", err)
	}
	if _, err := e.client.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "never-opened"}); !alipay.IsTradeNotExist(err) {
		t.Fatalf("close of a trade never opened: %v", err)
	}
	e.paid("c2", alipay.MustAmount("1.00"))
	if _, err := e.client.TradeClose(ctx, alipay.TradeCloseRequest{OutTradeNo: "c2"}); !alipay.HasSubCode(err, "ACQ.TRADE_STATUS_ERROR") {
		t.Fatalf("close of a paid trade: %v", err)
	}
	// A reopened cashier of a closed trade shows the error page.
	u, _ := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: "c1", TotalAmount: alipay.MustAmount("1.00"), Subject: "x"})
	resp, _ := e.http.Get(u)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(decodeGBK(body), "TRADE_HAS_CLOSE") {
		t.Fatalf("page pay of a closed trade: %d %s", resp.StatusCode, decodeGBK(body))
	}
	// cancel: unpaid → close; paid → refund; repeat → same answer.
	e.openCashier("k1", alipay.MustAmount("2.00"))
	if r, err := e.client.TradeCancel(ctx, alipay.TradeCancelRequest{OutTradeNo: "k1"}); err != nil || r.Action != "close" || r.RetryFlag != "N" {
		t.Fatalf("cancel unpaid: %+v %v", r, err)
	}
	e.paid("k2", alipay.MustAmount("2.00"))
	if r, err := e.client.TradeCancel(ctx, alipay.TradeCancelRequest{OutTradeNo: "k2"}); err != nil || r.Action != "refund" {
		t.Fatalf("cancel paid: %+v %v", r, err)
	}
	if r, err := e.client.TradeCancel(ctx, alipay.TradeCancelRequest{OutTradeNo: "k2"}); err != nil || r.Action != "refund" {
		t.Fatalf("cancel repeated: %+v %v", r, err)
	}
	if v, _ := e.sb.Trade(testAppID, "k2"); v.TradeStatus != string(alipay.TradeStatusClosed) || v.RefundFee != alipay.MustAmount("2.00") {
		t.Fatalf("after cancel: %+v", v)
	}
	// Expiry on the sandbox clock: timeout_express 30m.
	u, _ = e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: "x1", TotalAmount: alipay.MustAmount("1.00"), Subject: "x", TimeoutExpress: "30m"})
	resp, _ = e.http.Get(u)
	resp.Body.Close()
	e.advance(29 * time.Minute)
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "x1"}); q.TradeStatus != alipay.TradeStatusWaitBuyerPay {
		t.Fatalf("before expiry: %s", q.TradeStatus)
	}
	e.advance(time.Minute)
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "x1"}); q == nil || q.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("after expiry: %+v", q)
	}
	v, _ := e.sb.Trade(testAppID, "x1")
	if v.GmtClose != alipay.FormatTime(t0.Add(30*time.Minute)) {
		t.Fatalf("gmt_close %s", v.GmtClose)
	}
	// The close notification went out (default triggers include close).
	var closed int
	for _, b := range e.m.notifications() {
		if n, err := e.verifiedNotification(b); err == nil && n.OutTradeNo == "x1" && n.TradeStatus == alipay.TradeStatusClosed {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d close notifications for x1, want 1", closed)
	}
}

func TestPrecreateWalletPay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, err := e.client.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "q1", TotalAmount: alipay.MustAmount("6.60"), Subject: "扫码"})
	if err != nil || !strings.HasPrefix(r.QRCode, e.srv.URL+"/qr/") {
		t.Fatalf("precreate: %+v %v", r, err)
	}
	// Same request again: same code. A different amount: refused.
	r2, err := e.client.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "q1", TotalAmount: alipay.MustAmount("6.60"), Subject: "扫码"})
	if err != nil || r2.QRCode != r.QRCode {
		t.Fatalf("precreate again: %+v %v", r2, err)
	}
	if _, err := e.client.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "q1", TotalAmount: alipay.MustAmount("7.00"), Subject: "扫码"}); !alipay.HasSubCode(err, "ACQ.CONTEXT_INCONSISTENT") {
		t.Fatalf("precreate with another amount: %v", err)
	}
	if _, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "q1"}); !alipay.IsTradeNotExist(err) {
		t.Fatalf("query before the scan: %v", err)
	}
	resp, err := e.http.Get(r.QRCode) // the buyer scans
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `id="pay"`) || !strings.Contains(string(page), "6.60") {
		t.Fatalf("wallet page: %s", page)
	}
	if q, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "q1"}); err != nil || q.TradeStatus != alipay.TradeStatusWaitBuyerPay {
		t.Fatalf("query after the scan: %+v %v", q, err)
	}
	resp, _ = e.http.PostForm(r.QRCode, url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}, "action": {"pay"}})
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "支付成功") {
		t.Fatalf("wallet pay: %s", page)
	}
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "q1"}); q.TradeStatus != alipay.TradeStatusSuccess {
		t.Fatalf("after the wallet pay: %s", q.TradeStatus)
	}
	e.deliver()
	if got := e.m.notifications(); len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
}

func TestBillDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.paid("b1", alipay.MustAmount("12.34"))
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "b1", RefundAmount: alipay.MustAmount("2.34"), OutRequestNo: "br1"}); err != nil {
		t.Fatal(err)
	}
	today := t0.Format("2006-01-02")
	if _, err := e.client.BillDownloadURLQuery(ctx, alipay.BillDownloadURLQueryRequest{BillType: "trade", BillDate: today}); !alipay.HasSubCode(err, "isp.bill_not_exist") {
		t.Fatalf("today's bill: %v", err)
	}
	e.advance(24 * time.Hour)
	r, err := e.client.BillDownloadURLQuery(ctx, alipay.BillDownloadURLQueryRequest{BillType: "trade", BillDate: today})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(r.BillDownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rows [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, rec)
	}
	if len(rows) != 3 || rows[1][1] != "b1" || rows[1][2] != "交易" || rows[1][11] != "12.34" || rows[2][2] != "退款" || rows[2][11] != "-2.34" || rows[2][21] != "br1" {
		t.Fatalf("bill rows: %q", rows)
	}
	// The URL expires after 30 s of sandbox time.
	e.advance(31 * time.Second)
	resp, _ = http.Get(r.BillDownloadURL)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("expired bill URL: HTTP %d", resp.StatusCode)
	}
}

func TestControlAPIPayAndTrades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, _ := http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"p1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("pay of an unknown trade: HTTP %d", resp.StatusCode)
	}
	e.openCashier("p1", alipay.MustAmount("50.00"))
	resp, _ = http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"p1"}, "buyer": {PoorBuyer}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("poor buyer: HTTP %d", resp.StatusCode)
	}
	var v struct {
		TradeView
		RedirectURL string `json:"redirect_url"`
	}
	resp, _ = http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"p1"}})
	if err := jsonDecode(resp, &v); err != nil || resp.StatusCode != 200 || v.TradeStatus != string(alipay.TradeStatusSuccess) {
		t.Fatalf("pay: %d %+v %v", resp.StatusCode, v, err)
	}
	u, _ := url.Parse(v.RedirectURL)
	if _, err := e.client.VerifyNotification([]byte(u.RawQuery)); err != nil {
		t.Fatalf("redirect_url: %v", err)
	}
	var tv TradeView
	if code := e.getJSON("/api/trades?app_id="+testAppID+"&out_trade_no=p1", &tv); code != 200 || tv.TotalAmount != alipay.MustAmount("50.00") || tv.BuyerID != defaultBuyerUID {
		t.Fatalf("api/trades: %d %+v", code, tv)
	}
	var none map[string]any
	if code := e.getJSON("/api/trades?app_id="+testAppID+"&out_trade_no=zz", &none); code != 404 {
		t.Fatalf("api/trades of an unknown trade: %d", code)
	}
	// Reset forgets trades but keeps the app.
	resp, _ = http.Post(e.srv.URL+"/api/reset", "", nil)
	resp.Body.Close()
	if code := e.getJSON("/api/trades?app_id="+testAppID+"&out_trade_no=p1", &none); code != 404 {
		t.Fatalf("after reset: %d", code)
	}
	if _, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "p1"}); !alipay.IsTradeNotExist(err) {
		t.Fatalf("query after reset: %v", err)
	}
}

func TestRegisterAppAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := url.Values{"app_id": {"2021000000000001"}, "app_public_key": {alipay.MarshalPublicKey(&otherKey.PublicKey)}}
	var info AppInfo
	resp, _ := http.PostForm(e.srv.URL+"/api/apps", form)
	if err := jsonDecode(resp, &info); err != nil || resp.StatusCode != 200 {
		t.Fatalf("register: %d %v", resp.StatusCode, err)
	}
	if len(info.SellerID) != 16 || !strings.HasPrefix(info.SellerID, "2088") || info.AlipayPublicKey != e.sb.PublicKeyBase64() {
		t.Fatalf("app info %+v", info)
	}
	// Idempotent: same seller id again (PEM this time).
	form.Set("app_public_key", string(alipay.PublicKeyPEM(&otherKey.PublicKey)))
	var again AppInfo
	resp, _ = http.PostForm(e.srv.URL+"/api/apps", form)
	_ = jsonDecode(resp, &again)
	if again.SellerID != info.SellerID {
		t.Fatalf("seller id changed: %s → %s", info.SellerID, again.SellerID)
	}
	for _, bad := range []url.Values{
		{"app_id": {"x"}},
		{"app_id": {"bad id!"}, "app_public_key": {alipay.MarshalPublicKey(&otherKey.PublicKey)}},
		{"app_id": {"2021000000000002"}, "app_public_key": {"not a key"}},
		{"app_id": {"2021000000000002"}, "app_public_key": {e.sb.PublicKeyBase64()}},
	} {
		resp, _ := http.PostForm(e.srv.URL+"/api/apps", bad)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("register %v: HTTP %d, want 400", bad, resp.StatusCode)
		}
	}
	if len(e.sb.Apps()) != 2 {
		t.Fatalf("apps: %v", e.sb.Apps())
	}
}

func TestNotificationTriggers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sb.RegisterAppWith(testAppID, &appKey.PublicKey, AppOptions{NotifyOn: []string{"success"}}); err != nil {
		t.Fatal(err)
	}
	e.paid("t1", alipay.MustAmount("3.00"))
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "t1", RefundAmount: alipay.MustAmount("1.00"), OutRequestNo: "a"}); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if got := e.m.notifications(); len(got) != 1 {
		t.Fatalf("%d notifications with only the success trigger, want 1", len(got))
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvDir(t, dir)
	e.m.setAnswer(func(int) string { return "fail" })
	e.paid("s1", alipay.MustAmount("9.99"))
	e.deliver() // attempt 1 fails
	e.advance(time.Minute)
	e.openCashier("s2", alipay.MustAmount("1.00"))
	seller := e.app.SellerID
	// Restart without giving the key: it is read back from the data dir.
	sb := e.restart(dir)
	if !alipay.SameKey(sb.PublicKey(), e.sb.PublicKey()) {
		t.Fatal("the Alipay key changed across the restart")
	}
	if got := sb.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("sandbox clock after restart: %v", got)
	}
	a, err := sb.RegisterApp(testAppID, &appKey.PublicKey)
	if err != nil || a.SellerID != seller {
		t.Fatalf("app after restart: %+v %v", a, err)
	}
	if v, ok := sb.Trade(testAppID, "s1"); !ok || v.TradeStatus != string(alipay.TradeStatusSuccess) {
		t.Fatalf("s1 after restart: %+v", v)
	}
	if v, ok := sb.Trade(testAppID, "s2"); !ok || v.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
		t.Fatalf("s2 after restart: %+v", v)
	}
	// The pending notification continues: attempt 2 at +4m.
	e.m.setAnswer(func(int) string { return "success" })
	sb.Advance(ctx, 3*time.Minute)
	atts := sb.Notifications()
	if len(atts) != 2 || atts[1].Attempt != 2 || !atts[1].Acked || !atts[1].At.Equal(t0.Add(4*time.Minute)) || atts[0].NotifyID != atts[1].NotifyID {
		t.Fatalf("attempts after restart: %+v", atts)
	}
	if _, err := sb.Pay(testAppID, "s2", ""); err != nil {
		t.Fatalf("paying s2 after restart: %v", err)
	}
}

func TestWorkerDeliversPromptly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.sb.Start(wctx)
	e.openCashier("w1", alipay.MustAmount("1.00"))
	resp, err := http.PostForm(e.srv.URL+"/api/trades/pay", url.Values{"app_id": {testAppID}, "out_trade_no": {"w1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-e.m.got:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not deliver the notification")
	}
	n, err := e.verifiedNotification(e.m.notifications()[0])
	if err != nil || n.OutTradeNo != "w1" {
		t.Fatalf("%+v %v", n, err)
	}
}

func TestTimeExpireAndBadBiz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// time_expire in the past: an error page, no trade.
	u, _ := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: "e1", TotalAmount: alipay.MustAmount("1.00"), Subject: "x", TimeExpire: t0.Add(-time.Minute)})
	resp, _ := e.http.Get(u)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(decodeGBK(body), "ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR") {
		t.Fatalf("expired time_expire: %s", decodeGBK(body))
	}
	if _, ok := e.sb.Trade(testAppID, "e1"); ok {
		t.Fatal("a trade was created from a bad request")
	}
	// An amount with three decimals is rejected.
	var out map[string]any
	_, err := e.client.Call(ctx, alipay.CallRequest{Method: "alipay.trade.precreate", Biz: map[string]any{"out_trade_no": "e2", "total_amount": "1.001", "subject": "x"}}, &out)
	if !alipay.HasSubCode(err, "ACQ.INVALID_PARAMETER") {
		t.Fatalf("three decimals: %v", err)
	}
	// A JSON number amount is accepted (fzlee/alipay sends them).
	if _, err := e.client.Call(ctx, alipay.CallRequest{Method: "alipay.trade.precreate", Biz: map[string]any{"out_trade_no": "e3", "total_amount": 100, "subject": "x"}}, &out); err != nil {
		t.Fatalf("number amount: %v", err)
	}
	var ae *alipay.Error
	_, err = e.client.Call(ctx, alipay.CallRequest{Method: "alipay.trade.query"}, &out)
	if !errors.As(err, &ae) || ae.SubCode != "ACQ.INVALID_PARAMETER" {
		t.Fatalf("query without a trade: %v", err)
	}
}

func TestCashierCancelAndQuitURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cashier := e.openCashier("cc1", alipay.MustAmount("1.00"))
	resp, err := e.http.PostForm(cashier, url.Values{"action": {"cancel"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "已取消付款") || !strings.Contains(string(page), `id="back" href="`+e.m.srv.URL+`/"`) {
		t.Fatalf("cancel page: %s", page)
	}
	if v, _ := e.sb.Trade(testAppID, "cc1"); v.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
		t.Fatalf("cancel changed the trade: %s", v.TradeStatus)
	}
	// wap pay: cancel goes to quit_url.
	u, _ := e.client.TradeWapPayURL(alipay.TradePagePayRequest{OutTradeNo: "cc2", TotalAmount: 100, Subject: "x", QuitURL: e.m.srv.URL + "/quit"})
	resp, _ = e.http.Get(u)
	resp.Body.Close()
	resp, _ = e.http.PostForm(resp.Header.Get("Location"), url.Values{"action": {"cancel"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != e.m.srv.URL+"/quit" {
		t.Fatalf("wap cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The wap return carries the wap method.
	ret, err := e.sb.Pay(testAppID, "cc2", "")
	if err != nil || !strings.Contains(ret, "method=alipay.trade.wap.pay.return") {
		t.Fatalf("wap return %q %v", ret, err)
	}
}

func TestAESContentEncryption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const aesKey = "aYA0GP8JEW+D7/UFaskCWA=="
	if _, err := e.sb.RegisterAppWith("2021000000000009", &otherKey.PublicKey, AppOptions{AESKey: aesKey}); err != nil {
		t.Fatal(err)
	}
	k, _ := alipay.DecodeAESKey(aesKey)
	c, err := alipay.New(alipay.Config{AppID: "2021000000000009", PrivateKey: otherKey, AlipayPublicKey: e.sb.PublicKey(),
		Gateway: e.srv.URL + "/gateway.do", EncryptKey: k, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "aes1", TotalAmount: 100, Subject: "加密"})
	if err != nil || r.OutTradeNo != "aes1" {
		t.Fatalf("encrypted precreate: %+v %v", r, err)
	}
	if v, ok := e.sb.Trade("2021000000000009", "aes1"); !ok || v.Subject != "加密" {
		t.Fatalf("trade %+v", v)
	}
	// Without the key configured, encrypt_type=AES is refused.
	c2, _ := alipay.New(alipay.Config{AppID: testAppID, PrivateKey: appKey, AlipayPublicKey: e.sb.PublicKey(),
		Gateway: e.srv.URL + "/gateway.do", EncryptKey: k, Now: e.clock.Now})
	if _, err := c2.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "aes2", TotalAmount: 100, Subject: "x"}); !alipay.HasSubCode(err, "isv.decryption-error-not-valid-encrypt-key") {
		t.Fatalf("AES without a key: %v", err)
	}
}

func TestReRegisterKeepsOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sb.RegisterAppWith("2016000000000002", &rsa1Key.PublicKey, AppOptions{SignType: alipay.SignTypeRSA, NotifyOn: []string{"none"}}); err != nil {
		t.Fatal(err)
	}
	a, err := e.sb.RegisterApp("2016000000000002", &rsa1Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	e.sb.mu.Lock()
	got := *e.sb.apps[a.AppID]
	e.sb.mu.Unlock()
	if got.SignType != alipay.SignTypeRSA || len(got.NotifyOn) != 0 {
		t.Fatalf("re-registration reset the options: %+v", got)
	}
}

func TestExpiriesInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	open := func(out, timeout string) {
		u, _ := e.client.TradePagePayURL(alipay.TradePagePayRequest{OutTradeNo: out, TotalAmount: 100, Subject: "x", TimeoutExpress: timeout})
		resp, err := e.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	open("e3", "3h")
	open("e1", "1h")
	open("e2", "2h")
	open("e2", "90m") // reopened with a new expiry: the old one is stale
	e.paid("p1", 100) // paid trades never expire
	e.advance(4 * time.Hour)
	want := map[string]time.Duration{"e1": time.Hour, "e2": 90 * time.Minute, "e3": 3 * time.Hour}
	for out, d := range want {
		v, _ := e.sb.Trade(testAppID, out)
		if v.TradeStatus != string(alipay.TradeStatusClosed) || v.GmtClose != alipay.FormatTime(t0.Add(d)) {
			t.Errorf("%s: %s closed at %s, want %s", out, v.TradeStatus, v.GmtClose, alipay.FormatTime(t0.Add(d)))
		}
	}
	if v, _ := e.sb.Trade(testAppID, "p1"); v.TradeStatus != string(alipay.TradeStatusSuccess) {
		t.Errorf("paid trade: %s", v.TradeStatus)
	}
	// The close notifications went out at the expiry times, in order.
	var closes []string
	for _, a := range e.sb.Notifications() {
		if a.TradeStatus == string(alipay.TradeStatusClosed) {
			closes = append(closes, a.OutTradeNo+"@"+a.At.Sub(t0).String())
		}
	}
	if strings.Join(closes, " ") != "e1@1h0m0s e2@1h30m0s e3@3h0m0s" {
		t.Fatalf("close notifications: %v", closes)
	}
}

func TestControlAPIRefusesCrossSiteBrowsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.openCashier("x1", 100)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/trades/pay", strings.NewReader("app_id="+testAppID+"&out_trade_no=x1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site pay: HTTP %d", resp.StatusCode)
	}
	if v, _ := e.sb.Trade(testAppID, "x1"); v.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
		t.Fatalf("a cross-site request paid the trade")
	}
}

func TestTradeFinishedAfterRefundPeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.sb.RegisterAppWith(testAppID, &appKey.PublicKey, AppOptions{NotifyOn: []string{"success", "finished"}}); err != nil {
		t.Fatal(err)
	}
	e.paid("fin1", alipay.MustAmount("5.00"))
	e.deliver()
	e.advance(RefundPeriod - time.Minute)
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "fin1"}); q.TradeStatus != alipay.TradeStatusSuccess {
		t.Fatalf("before the end of the refund period: %s", q.TradeStatus)
	}
	e.advance(time.Minute)
	if q, _ := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "fin1"}); q.TradeStatus != alipay.TradeStatusFinished {
		t.Fatalf("after the refund period: %s", q.TradeStatus)
	}
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "fin1", RefundAmount: 100, OutRequestNo: "late"}); !alipay.HasSubCode(err, "ACQ.TRADE_HAS_FINISHED") {
		t.Fatalf("refund after the period: %v", err)
	}
	got := e.m.notifications()
	if len(got) != 2 {
		t.Fatalf("%d notifications, want success and finished", len(got))
	}
	n, err := e.verifiedNotification(got[1])
	if err != nil || n.TradeStatus != alipay.TradeStatusFinished {
		t.Fatalf("finished notification: %+v %v", n, err)
	}
	if atts := e.attempts("fin1"); !atts[1].At.Equal(t0.Add(RefundPeriod)) {
		t.Fatalf("finished notification at %v", atts[1].At)
	}
}

func TestSandboxRefundRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.PostForm(e.srv.URL+"/api/apps", url.Values{"app_id": {testAppID},
		"app_public_key": {alipay.MarshalPublicKey(&appKey.PublicKey)}, "sandbox_rules": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	var info AppInfo
	if err := jsonDecode(resp, &info); err != nil || !info.SandboxRules {
		t.Fatalf("app info %+v %v", info, err)
	}
	e.paid("sr1", alipay.MustAmount("10.00"))
	ref := "sr1"
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: 100, OutRequestNo: "a"}); !alipay.HasSubCode(err, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL") {
		t.Fatalf("partial refund under sandbox rules: %v", err)
	}
	if _, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: ref, RefundAmount: 1000, OutRequestNo: "b"}); !alipay.HasSubCode(err, "ACQ.TRADE_NOT_ALLOW_REFUND") {
		t.Fatalf("second refund call under sandbox rules: %v", err)
	}
	e.paid("sr2", alipay.MustAmount("10.00"))
	if r, err := e.client.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: "sr2", RefundAmount: 1000, OutRequestNo: "c"}); err != nil || r.FundChange != "Y" {
		t.Fatalf("full refund under sandbox rules: %+v %v", r, err)
	}
	// sandbox_rules=0 turns them off; omitted keeps them.
	resp, _ = http.PostForm(e.srv.URL+"/api/apps", url.Values{"app_id": {testAppID}, "app_public_key": {alipay.MarshalPublicKey(&appKey.PublicKey)}})
	_ = jsonDecode(resp, &info)
	if !info.SandboxRules {
		t.Fatal("re-registering without sandbox_rules turned them off")
	}
	resp, _ = http.PostForm(e.srv.URL+"/api/apps", url.Values{"app_id": {testAppID}, "app_public_key": {alipay.MarshalPublicKey(&appKey.PublicKey)}, "sandbox_rules": {"0"}})
	_ = jsonDecode(resp, &info)
	if info.SandboxRules {
		t.Fatal("sandbox_rules=0 did not turn them off")
	}
}

// A face-to-face (precreate) trade waits 3h by default;
// only its QR code is valid for 2h. A code scanned in time leaves a trade
// the buyer can still pay until the 3h are over.
func TestPrecreateDefaultTimeoutIsThreeHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res, err := e.client.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "f2f1", TotalAmount: 100, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)
	resp, err := e.http.Get(res.QRCode) // the buyer scans: WAIT_BUYER_PAY
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.advance(90 * time.Minute) // +2h30m
	q, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "f2f1"})
	if err != nil || q.TradeStatus != alipay.TradeStatusWaitBuyerPay {
		t.Fatalf("at +2h30m: %+v %v; want WAIT_BUYER_PAY (default timeout 3h)", q, err)
	}
	e.advance(30 * time.Minute) // +3h
	if q, err := e.client.TradeQuery(ctx, alipay.TradeQueryRequest{OutTradeNo: "f2f1"}); err != nil || q.TradeStatus != alipay.TradeStatusClosed {
		t.Fatalf("at +3h: %+v %v; want TRADE_CLOSED", q, err)
	}

	// An unscanned code expires after 2h.
	_, err = e.client.TradePrecreate(ctx, alipay.TradePrecreateRequest{OutTradeNo: "f2f2", TotalAmount: 100, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Hour)
	if _, err := e.sb.Pay(testAppID, "f2f2", ""); err == nil || !strings.Contains(err.Error(), "二维码已过期") {
		t.Fatalf("paying a 2h-old unscanned code: %v", err)
	}
}
