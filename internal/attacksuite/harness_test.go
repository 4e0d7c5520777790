package attacksuite

import (
	"bufio"
	"crypto/rsa"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"alishop/alipay"
	"alishop/internal/shoptest"
)

// binary is the alishop binary built once for the suite.
var binary string

func TestMain(m *testing.M) {
	os.Exit(shoptest.RunWithAlishop(m, "attacksuite", &binary))
}

const adminPassword = "attack-suite-admin-pw"

// shop is a running alishop serve process with the built-in sandbox.
type shop struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	data   string
	logMu  sync.Mutex
	logBuf strings.Builder
	logLen int64 // bytes the shop wrote to stdout and stderr
}

var listenLine = regexp.MustCompile(`^alishop listening on (http://\S+?)/?$`)

// startShop runs `alishop serve` with the built-in sandbox on a free
// loopback port (or addr) and a fresh data directory, with umask 0 so that
// file modes cannot come from the umask.
func startShop(t *testing.T, addr string, extra ...string) *shop {
	t.Helper()
	s := &shop{t: t, data: filepath.Join(t.TempDir(), "data")}
	args := append([]string{"serve", "--addr", addr, "--data", s.data, "--admin-password", adminPassword, "--log-level", "warn"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "ALISHOP_ADDR=", "ALISHOP_ADMIN_PASSWORD=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = writerFunc(s.logWrite)
	old := syscall.Umask(0)
	err = cmd.Start()
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	t.Cleanup(s.stop)
	sc := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.logWrite([]byte(line + "\n"))
			if m := listenLine.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("the shop exited before listening:\n%s", s.log())
		}
		s.base = base
	case <-time.After(60 * time.Second):
		t.Fatalf("the shop did not start:\n%s", s.log())
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shop does not answer: %v\n%s", err, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (s *shop) logWrite(b []byte) (int, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.logLen += int64(len(b))
	if s.logBuf.Len() < 1<<20 {
		s.logBuf.Write(b)
	}
	return len(b), nil
}

// logSize is how many bytes the shop has written to its log so far.
func (s *shop) logSize() int64 {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logLen
}

func (s *shop) log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logBuf.String()
}

func (s *shop) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// client returns an HTTP client whose connections come from the loopback
// address from (e.g. "127.0.0.2"), so that per-address limits see distinct
// clients. It follows no redirects.
func client(from string) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64, DisableCompression: true}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request and returns the status and body.
func do(t *testing.T, c *http.Client, method, target string, body io.Reader, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func form(kv ...string) io.Reader {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode())
}

// sameOrigin marks a request as a browser's same-origin form post.
var sameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin"}

// snapshot reads what an attack must never change: goods, orders (their
// business columns, not the reconciler's bookkeeping), refunds, settings
// and admin sessions.
func (s *shop) snapshot(t *testing.T) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.data, "alishop.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		"SELECT id, name, price_fen, hidden FROM goods ORDER BY id",
		"SELECT out_trade_no, goods_id, subject, amount_fen, status, COALESCE(trade_no, ''), refunded_fen, needs_review FROM orders ORDER BY id",
		"SELECT out_request_no, amount_fen, status FROM refunds ORDER BY id",
		"SELECT key, value FROM settings ORDER BY key",
		"SELECT token_hash FROM sessions ORDER BY token_hash",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// dataSize is the total size of the files in the data directory.
func (s *shop) dataSize(t *testing.T) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(s.data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// count runs a COUNT query on the shop's database.
func (s *shop) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.data, "alishop.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// attack runs one attack as a subtest: fn returns its one-line result, and
// the shop's database must be the same after it as before.
func (s *shop) attack(t *testing.T, name string, fn func(t *testing.T) string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		before := s.snapshot(t)
		result := fn(t)
		if t.Failed() {
			return
		}
		if after := s.snapshot(t); after != before {
			t.Fatalf("%s: the database changed:\nbefore:\n%s\nafter:\n%s", result, before, after)
		}
		t.Logf("refused: %s; database unchanged", result)
	})
}

// orderStatus reads GET /api/orders/{no}.
func (s *shop) orderStatus(t *testing.T, c *http.Client, no string) string {
	t.Helper()
	resp, body := do(t, c, "GET", s.base+"/api/orders/"+no, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("order %s: HTTP %d %s", no, resp.StatusCode, body)
	}
	var o struct{ Status string }
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	return o.Status
}

// login logs the admin in from c and returns the session cookie.
func (s *shop) login(t *testing.T, c *http.Client) *http.Cookie {
	t.Helper()
	resp, body := do(t, c, "POST", s.base+"/admin/login", form("username", "admin", "password", adminPassword, "next", "/admin/orders"), sameOrigin)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin login: HTTP %d %s", resp.StatusCode, body)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "alishop_session" {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// addGoods adds a goods item as the admin (more form fields in kv) and
// returns its id (the newest).
func (s *shop) addGoods(t *testing.T, c *http.Client, admin *http.Cookie, name, price string, kv ...string) int64 {
	t.Helper()
	resp, body := do(t, c, "POST", s.base+"/admin/goods", form(append([]string{"name", name, "price", price}, kv...)...), sameOrigin, admin)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding goods %q: HTTP %d %s", name, resp.StatusCode, body)
	}
	return int64(s.count(t, "SELECT MAX(id) FROM goods"))
}

// checkout posts the purchase form and returns the order number and the
// signed gateway URL.
func (s *shop) checkout(t *testing.T, c *http.Client, goodsID int64) (string, string) {
	t.Helper()
	resp, body := do(t, c, "POST", s.base+"/orders", orderForm(goodsID), sameOrigin)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /orders: HTTP %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	var biz struct {
		OutTradeNo string `json:"out_trade_no"`
	}
	if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil || biz.OutTradeNo == "" {
		t.Fatalf("gateway URL without out_trade_no: %s", loc)
	}
	return biz.OutTradeNo, loc
}

// openCashier opens the gateway URL as the buyer's browser does and returns
// the cashier URL it redirects to.
func openCashier(t *testing.T, c *http.Client, gatewayURL string) string {
	t.Helper()
	resp, body := do(t, c, "GET", gatewayURL, nil, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("gateway: HTTP %d %s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// sandboxKey is the built-in sandbox's Alipay private key, from the data
// directory: what signs genuine notifications.
func (s *shop) sandboxKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := alipay.LoadPrivateKeyFile(filepath.Join(s.data, "sandbox", "sandbox-alipay-private-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// appKey is the shop's app private key for the built-in sandbox.
func (s *shop) appKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := alipay.LoadPrivateKeyFile(filepath.Join(s.data, "keys", "app_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// notify posts a notification body from c.
func (s *shop) notify(t *testing.T, c *http.Client, body string) (int, string) {
	t.Helper()
	resp, answer := do(t, c, "POST", s.base+"/alipay/notify", strings.NewReader(body), map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
	return resp.StatusCode, answer
}

// signNotification signs params as Alipay signs a notification.
func signNotification(t *testing.T, key *rsa.PrivateKey, params map[string]string) string {
	t.Helper()
	p := map[string]string{}
	for k, v := range params {
		p[k] = v
	}
	p["sign_type"] = "RSA2"
	sig, err := alipay.Sign(key, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV1))
	if err != nil {
		t.Fatal(err)
	}
	p["sign"] = sig
	return alipay.EncodeForm(p)
}

// runUntil runs fn on workers goroutines until n calls are done.
func runConcurrently(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// nonLoopbackIPv4 returns an address of this machine that is not loopback,
// or "".
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// orderForm is the 确认订单 form for one of the goods: a receiver is sent
// too, which shipped goods need and virtual goods ignore.
func orderForm[ID int | int64](goodsID ID) io.Reader {
	return form("goods_id", fmt.Sprint(goodsID), "quantity", "1",
		"name", "张三", "phone", "13800138000", "address", "浙江省杭州市西湖区文三路 1 号")
}
