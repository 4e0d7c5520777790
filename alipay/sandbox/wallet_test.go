package sandbox

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// browser is a client with cookies that follows redirects, as a buyer's
// browser does.
func (e *testEnv) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func getPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postPage(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var (
	paycodeRe = regexp.MustCompile(`<p class="paycode" id="paycode">(\d+)</p>`)
	csrfRe    = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	rectRe    = regexp.MustCompile(`<rect x="(\d+)" width="(\d+)"`)
	svgRe     = regexp.MustCompile(`<svg id="paycode-barcode" class="barcode" viewBox="0 0 (\d+) \d+"`)
)

var qrRectRe = regexp.MustCompile(`<rect x="(\d+)" y="(\d+)" width="1" height="1"/>`)

// qrOf reads the QR code drawn on a wallet page.
func qrOf(t *testing.T, page string) qrCode {
	t.Helper()
	var q qrCode
	for _, m := range qrRectRe.FindAllStringSubmatch(page, -1) {
		c, _ := strconv.Atoi(m[1])
		r, _ := strconv.Atoi(m[2])
		q[r-qrQuiet][c-qrQuiet] = true
	}
	return q
}

// barsOf reads the bar code drawn on a wallet page.
func barsOf(t *testing.T, page string) barcode {
	t.Helper()
	m := svgRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no bar code on the wallet page")
	}
	var b barcode
	b.Width, _ = strconv.Atoi(m[1])
	for _, r := range rectRe.FindAllStringSubmatch(page, -1) {
		x, _ := strconv.Atoi(r[1])
		w, _ := strconv.Atoi(r[2])
		b.Bars = append(b.Bars, bar{x, w})
	}
	return b
}

func TestWalletShowsPayCodeAndConfirms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.browser()
	status, page := getPage(t, c, e.srv.URL+"/wallet")
	if status != 200 || !strings.Contains(page, `id="signin"`) || strings.Contains(page, `http-equiv="refresh"`) {
		t.Fatalf("signed out: HTTP %d %s", status, page)
	}
	_, page = postPage(t, c, e.srv.URL+"/wallet/login", url.Values{"login": {DefaultBuyer}, "password": {"000000"}})
	if !strings.Contains(page, `id="error"`) || strings.Contains(page, `id="paycode"`) {
		t.Fatalf("wrong password: %s", page)
	}
	status, page = postPage(t, c, e.srv.URL+"/wallet/login", url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}})
	if status != 200 || !strings.Contains(page, `<meta http-equiv="refresh" content="60">`) {
		t.Fatalf("signed in: HTTP %d %s", status, page)
	}
	u, _ := url.Parse(e.srv.URL)
	if cs := c.Jar.Cookies(u); len(cs) != 1 || cs[0].Name != walletCookie {
		t.Fatalf("cookies %v", cs)
	}
	m := paycodeRe.FindStringSubmatch(page)
	if m == nil || len(m[1]) != 18 {
		t.Fatalf("no payment code digits: %s", page)
	}
	// The bar code and the QR code drawn are the code shown.
	if got := decode128C(t, barsOf(t, page)); got != m[1] {
		t.Fatalf("bar code reads %s, digits say %s", got, m[1])
	}
	if got := readQR(t, qrOf(t, page)); got != m[1] {
		t.Fatalf("QR code reads %s, digits say %s", got, m[1])
	}
	// Each view shows a new code; the earlier one still pays until it expires.
	_, page2 := getPage(t, c, e.srv.URL+"/wallet")
	m2 := paycodeRe.FindStringSubmatch(page2)
	if m2 == nil || m2[1] == m[1] {
		t.Fatal("the refreshed wallet shows the same code")
	}
	n, body := e.pay(t, "w1", m[1], "2888.00")
	wantCode(t, n, body, "10003", "")
	tradeNo := n["trade_no"].(string)

	// The waiting payment is on the wallet page, with a link to confirm it.
	_, page = getPage(t, c, e.srv.URL+"/wallet")
	if !strings.Contains(page, `id="confirm-`+tradeNo+`" href="wallet/confirm/`+tradeNo+`"`) || !strings.Contains(page, "¥2888.00") {
		t.Fatalf("pending payment not listed: %s", page)
	}
	status, page = getPage(t, c, e.srv.URL+"/wallet/confirm/"+tradeNo)
	cm := csrfRe.FindStringSubmatch(page)
	if status != 200 || cm == nil || !strings.Contains(page, `id="password"`) || !strings.Contains(page, `id="pay"`) ||
		!strings.Contains(page, `<span id="amount">2888.00</span>`) {
		t.Fatalf("confirm page: HTTP %d %s", status, page)
	}
	confirm := e.srv.URL + "/wallet/confirm/" + tradeNo
	if status, _ = postPage(t, c, confirm, url.Values{"password": {BuyerPassword}, "action": {"pay"}}); status != http.StatusForbidden {
		t.Fatalf("confirm without the CSRF token: HTTP %d", status)
	}
	_, page = postPage(t, c, confirm, url.Values{"csrf": {cm[1]}, "password": {"123456"}, "action": {"pay"}})
	if !strings.Contains(page, `id="error"`) {
		t.Fatalf("wrong pay password: %s", page)
	}
	// Another browser, signed in as another buyer, cannot see or pay it.
	other := e.browser()
	postPage(t, other, e.srv.URL+"/wallet/login", url.Values{"login": {PoorBuyer}, "password": {BuyerPassword}})
	if status, _ = getPage(t, other, confirm); status != http.StatusNotFound {
		t.Fatalf("another buyer's confirm page: HTTP %d", status)
	}
	status, page = postPage(t, c, confirm, url.Values{"csrf": {cm[1]}, "password": {BuyerPassword}, "action": {"pay"}})
	if status != 200 || !strings.Contains(page, `id="result"`) || !strings.Contains(page, "支付成功") {
		t.Fatalf("confirmed: HTTP %d %s", status, page)
	}
	if q := e.query(t, "w1"); q["trade_status"] != "TRADE_SUCCESS" {
		t.Fatalf("after confirming in the wallet: %v", q)
	}
	_, page = getPage(t, c, e.srv.URL+"/wallet")
	if !strings.Contains(page, `id="no_pending"`) {
		t.Fatalf("paid payment still listed: %s", page)
	}
	// A cross-site form cannot sign in, confirm or sign out.
	req, _ := http.NewRequest("POST", e.srv.URL+"/wallet/logout", strings.NewReader("csrf="+cm[1]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-out: HTTP %d", resp.StatusCode)
	}
	// Signing out.
	csrf := csrfRe.FindStringSubmatch(page)[1]
	_, page = postPage(t, c, e.srv.URL+"/wallet/logout", url.Values{"csrf": {csrf}})
	if !strings.Contains(page, `id="signin"`) {
		t.Fatalf("signed out: %s", page)
	}
}

func TestWalletEscapesWhatItShows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pc := e.payCode(DefaultBuyer)
	n, body := e.pay(t, "esc1", pc.AuthCode, "2001.00", "subject", `<img src=x onerror=alert(1)>"&`)
	wantCode(t, n, body, "10003", "")
	c := e.browser()
	_, page := postPage(t, c, e.srv.URL+"/wallet/login", url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}})
	if strings.Contains(page, "<img src=x") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;&#34;&amp;") {
		t.Fatalf("subject not escaped: %s", page)
	}
	_, page = getPage(t, c, e.srv.URL+"/wallet/confirm/"+n["trade_no"].(string))
	if strings.Contains(page, "<img src=x") {
		t.Fatalf("confirm page not escaped: %s", page)
	}
	// A typed login is echoed escaped.
	_, page = postPage(t, e.browser(), e.srv.URL+"/wallet/login", url.Values{"login": {`"><script>x</script>`}, "password": {"1"}})
	if strings.Contains(page, "<script>x") {
		t.Fatalf("typed login not escaped: %s", page)
	}
}
