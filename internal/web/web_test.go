package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/store"
	"alishop/internal/web"
)

var (
	keysOnce          sync.Once
	appKey, alipayKey *rsa.PrivateKey
	keysErr           error
)

// testPasswordHash is the test shops' stored admin password: testPassword
// with 1,000 iterations. CheckPassword takes the count from the stored hash,
// so logins run the same code as with HashPassword's 600,000
// (TestPasswordHash checks those).
var testPasswordHash = shoptest.PasswordHash(testPassword)

func keys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keysOnce.Do(func() {
		if appKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		alipayKey, keysErr = rsa.GenerateKey(rand.Reader, 2048)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return appKey, alipayKey
}

const (
	testAppID    = "2021000000000042"
	testSellerID = "2088000000000042"
	testPassword = "correct horse battery"
)

// harness is the shop's handler on a real SQLite database in a temp dir,
// served on loopback, with the test playing Alipay: it holds Alipay's
// private key and signs notifications and returns.
type harness struct {
	t      testing.TB
	db     *store.DB
	svc    *shop.Service
	srv    *httptest.Server
	client *http.Client // does not follow redirects
	goods  shop.Goods
	gw     *fakeQuery
	// handler serves requests directly (tests that set RemoteAddr).
	handler http.Handler
}

// fakeQuery answers alipay.trade.query from a canned result, so the return
// page can be tested without a gateway; the end-to-end tests in
// cmd/alishop use the real sandbox.
type fakeQuery struct {
	*alipay.Client
	mu     sync.Mutex
	result map[string]*alipay.TradeQueryResult
}

func (f *fakeQuery) TradeQuery(ctx context.Context, ref alipay.TradeQueryRequest) (*alipay.TradeQueryResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.result[ref.OutTradeNo]; ok {
		return r, nil
	}
	return nil, &alipay.Error{Code: "40004", Msg: "Business Failed", SubCode: "ACQ.TRADE_NOT_EXIST"}
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with the handler's Config adjusted by edit.
func newHarnessWith(t testing.TB, edit func(*web.Config)) *harness {
	t.Helper()
	ak, pk := keys(t)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "shop.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	client, err := alipay.New(alipay.Config{AppID: testAppID, PrivateKey: ak, AlipayPublicKey: &pk.PublicKey,
		Gateway: "http://127.0.0.1:9/gateway.do", NotifyURL: "http://127.0.0.1:9/alipay/notify", ReturnURL: "http://127.0.0.1:9/alipay/return"})
	if err != nil {
		t.Fatal(err)
	}
	gw := &fakeQuery{Client: client, result: map[string]*alipay.TradeQueryResult{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := shop.NewService(shop.Config{Store: db, Gateway: gw, Merchant: shop.Merchant{AppID: testAppID, SellerID: testSellerID}, Logger: log})
	if err := db.SetSetting(ctx, web.PasswordSetting, testPasswordHash); err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{Service: svc, Admin: db, Health: db.Ping, Logger: log}
	if edit != nil {
		edit(&cfg)
	}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	g := shop.Goods{Name: "Python全栈开发课程", Price: alipay.MustAmount("369.00")}
	if err := svc.SaveGoods(ctx, &g); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, db: db, svc: svc, srv: srv, goods: g, gw: gw, handler: h,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// buy posts the purchase form like the goods page does and returns the
// order it created.
func (h *harness) buy(goodsID int64) shop.Order {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+"/orders", strings.NewReader(url.Values{"goods_id": {itoa(goodsID)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("POST /orders: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	biz := loc.Query().Get("biz_content")
	i := strings.Index(biz, `"out_trade_no":"`)
	if i < 0 {
		h.t.Fatalf("no out_trade_no in %s", biz)
	}
	no := biz[i+len(`"out_trade_no":"`):]
	no = no[:strings.IndexByte(no, '"')]
	o, err := h.db.Order(context.Background(), no)
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (h *harness) target() *shoptest.Target {
	ak, pk := keys(h.t)
	return &shoptest.Target{AlipayKey: pk, AppKey: ak, AppID: testAppID, SellerID: testSellerID,
		Notify: h.notify, Order: h.order, Notifications: h.notifications}
}

func (h *harness) genuine(o shop.Order, tradeNo string) map[string]string {
	return h.target().Genuine(o, tradeNo)
}

func (h *harness) sign(params map[string]string) string { return shoptest.Sign(h.t, alipayKey, params) }

func (h *harness) notify(method, body string) (int, string) {
	h.t.Helper()
	var rd io.Reader
	target := h.srv.URL + "/alipay/notify"
	if method == "POST" || method == "PUT" {
		rd = strings.NewReader(body)
	} else {
		target += "?" + body
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	req.Header.Set("User-Agent", "Mozilla/4.0")
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) order(no string) shop.Order {
	h.t.Helper()
	o, err := h.db.Order(context.Background(), no)
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func (h *harness) notifications() []store.Notification {
	h.t.Helper()
	ns, err := h.db.Notifications(context.Background(), 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return ns
}

// send adds cookies to req, sends it with the harness's client and
// returns the answer and its body.
func (h *harness) send(req *http.Request, cookies []*http.Cookie) (*http.Response, string) {
	h.t.Helper()
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (h *harness) get(path string, cookies ...*http.Cookie) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
	return h.send(req, cookies)
}
