package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"alishop/alipay/sandbox"
	"alishop/internal/shop"
)

var posKey = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)

// TestAdminPOS: the 当面付收款 form behind the admin login; ¥12.00 paid at
// once (收款成功); the same form posted again charges nothing and shows the
// first result; ¥2,500 waits on a page that refreshes itself, with 撤销;
// a refused code says why in Chinese; bad input is refused with nothing
// stored; the order list labels counter orders 当面付.
func TestAdminPOS(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	if _, err := e.sb.AddFaults([]sandbox.Fault{{Kind: sandbox.KindDrop}}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/admin/pos"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Fatalf("/admin/pos without login: %s", resp.Status)
	}
	c := e.login()
	form := func() string {
		resp, body := e.get("/admin/pos", c)
		m := posKey.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, `id="auth_code"`) || !strings.Contains(body, "autofocus") {
			t.Fatalf("/admin/pos: %s\n%s", resp.Status, body)
		}
		return m[1]
	}
	code := func() string {
		pc, err := e.sb.IssuePayCode("")
		if err != nil {
			t.Fatal(err)
		}
		return pc.AuthCode
	}
	charge := func(key, amount, authCode string, header map[string]string) (*http.Response, string) {
		return e.post("/admin/pos", url.Values{"key": {key}, "amount": {amount}, "subject": {"柜台"}, "auth_code": {authCode}}, header, c)
	}
	follow := func(resp *http.Response) string {
		t.Helper()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/pos/") {
			t.Fatalf("charge: %s %s", resp.Status, resp.Header.Get("Location"))
		}
		_, body := e.get(resp.Header.Get("Location"), c)
		return body
	}

	// Cross-site: refused, nothing stored.
	if resp, _ := charge(form(), "12.00", code(), map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site charge: %s", resp.Status)
	}
	for _, bad := range [][2]string{{"0", "281234567890123456"}, {"12.001", "281234567890123456"}, {"abc", "281234567890123456"}, {"12.00", "12ab"}, {"12.00", ""}} {
		if resp, body := charge(form(), bad[0], bad[1], nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("charge %q: %s", bad, resp.Status)
		}
	}
	if resp, _ := charge("forged", "12.00", code(), nil); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("forged key: %s", resp.Status)
	}
	if n := e.countOrders(); n != 0 {
		t.Fatalf("bad input stored %d orders", n)
	}

	key := form()
	resp, _ := charge(key, "12.00", code(), nil)
	loc := resp.Header.Get("Location")
	body := follow(resp)
	if !strings.Contains(body, "收款成功") || !strings.Contains(body, "¥12.00") || strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("¥12.00:\n%s", body)
	}
	no := strings.TrimPrefix(loc, "/admin/pos/")
	if o := e.order(no); o.Status != shop.StatusPaid || o.Channel != shop.OrderChannelPOS {
		t.Fatalf("order %s %s", o.Status, o.Channel)
	}
	// Posted again with the same key (and a new code): the same order, no charge.
	resp, _ = charge(key, "12.00", code(), nil)
	if resp.Header.Get("Location") != loc+"?repeat=1" {
		t.Fatalf("repeat: %s", resp.Header.Get("Location"))
	}
	if body := follow(resp); !strings.Contains(body, `id="repeat"`) || !strings.Contains(body, "收款成功") {
		t.Fatalf("repeat page:\n%s", body)
	}
	if n := e.countOrders(); n != 1 {
		t.Fatalf("orders after a double submit: %d", n)
	}

	// ¥2,500: waits for the buyer, refreshing itself; 撤销 closes it.
	resp, _ = charge(form(), "2500.00", code(), nil)
	wait := resp.Header.Get("Location")
	body = follow(resp)
	if !strings.Contains(body, "等待顾客在支付宝中确认") || !strings.Contains(body, `<meta http-equiv="refresh" content="3">`) || !strings.Contains(body, `id="cancel"`) {
		t.Fatalf("¥2,500:\n%s", body)
	}
	if resp, _ := e.post(wait+"/cancel", nil, nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("撤销: %s", resp.Status)
	}
	if _, body := e.get(wait, c); !strings.Contains(body, "收款未成功") || !strings.Contains(body, "撤销") {
		t.Fatalf("after 撤销:\n%s", body)
	}
	tv, _ := e.sb.Trade(e.app.AppID, strings.TrimPrefix(wait, "/admin/pos/"))
	if tv.TradeStatus != "TRADE_CLOSED" {
		t.Fatalf("trade after 撤销: %s", tv.TradeStatus)
	}

	// ¥2,500 again: the buyer confirms; the next refresh says 收款成功.
	resp, _ = charge(form(), "2500.00", code(), nil)
	wait = resp.Header.Get("Location")
	follow(resp)
	if _, err := e.sb.Pay(e.app.AppID, strings.TrimPrefix(wait, "/admin/pos/"), ""); err != nil {
		t.Fatal(err)
	}
	if _, body := e.get(wait, c); !strings.Contains(body, "收款成功") || !strings.Contains(body, "¥2500.00") {
		t.Fatalf("after the buyer confirmed:\n%s", body)
	}

	// A used code: refused, in Chinese.
	used := code()
	charge(form(), "1.00", used, nil)
	body = follow(func() *http.Response { r, _ := charge(form(), "1.00", used, nil); return r }())
	if !strings.Contains(body, "收款未成功") || !strings.Contains(body, "付款码无效") {
		t.Fatalf("used code:\n%s", body)
	}

	_, body = e.get("/admin/orders", c)
	if strings.Count(body, `data-channel="pos"`) != 5 {
		t.Fatalf("order list: %d orders labelled 当面付, want 5", strings.Count(body, `data-channel="pos"`))
	}
	// The export names each counter order's channel.
	if _, csv := e.get("/admin/orders.csv", c); strings.Count(csv, ",当面付\r\n") != 5 {
		t.Fatalf("export: %d rows 当面付, want 5:\n%s", strings.Count(csv, ",当面付\r\n"), csv)
	}
}
