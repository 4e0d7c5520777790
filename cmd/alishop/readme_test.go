package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"alishop/internal/shoptest"
)

// shBlocks returns the fenced ```sh blocks of a Markdown file, in order.
func shBlocks(md string) []string {
	var blocks []string
	var cur *strings.Builder
	for l := range strings.SplitSeq(md, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case cur == nil && t == "```sh":
			cur = &strings.Builder{}
		case cur != nil && t == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	return blocks
}

// The README blocks the test does not run as they stand: the shop, which
// serves until stopped (started in the background and driven over HTTP),
// and the test suite, which runs this test.
const (
	readmeShopBlock  = "go run ./cmd/alishop\n"
	readmeTestsBlock = "scripts/test.sh\n"
)

// TestReadmeFirstHour runs the README's first hour as a new user types it,
// from the README itself: `go run ./cmd/alishop` (on a free port, in a
// fresh data directory, through ALISHOP_ADDR and ALISHOP_DATA), the address
// it prints checked against the one the README says, a purchase paid at the
// embedded sandbox and 我的订单 opened under the other loopback name; then
// every other ```sh block in order in one bash, with the sandbox's port
// 9000 replaced by a free one and GOPATH a temporary directory (so `go
// install` and the PATH line work as written). The blocks must exit 0,
// create and pay ORDER1, and verify what sign made.
func TestReadmeFirstHour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program as the README does")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlocks(string(readme))
	var script []string
	sawShop := false
	for _, b := range blocks {
		switch b {
		case readmeShopBlock:
			sawShop = true
		case readmeTestsBlock:
		default:
			script = append(script, b)
		}
	}
	if !sawShop || len(script) < 3 {
		t.Fatalf("README.md: want a block that is exactly %q and at least 3 more sh blocks; found %d blocks", readmeShopBlock, len(blocks))
	}
	m := regexp.MustCompile(`Open the address the shop prints \((http://[^/;)]+/)`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md does not say which address to open (\"Open the address the shop prints (http://…/\")")
	}
	t.Run("shop", func(t *testing.T) {
		t.Parallel()
		readmeShop(t, root, string(m[1]))
	})
	t.Run("blocks", func(t *testing.T) {
		t.Parallel()
		readmeBlocks(t, root, strings.Join(script, "\n"))
	})
}

// readmeShop runs the README's shop line and buys at the address the README
// names (its port replaced by the one picked).
func readmeShop(t *testing.T, root, readmeURL string) {
	data := t.TempDir()
	cmd := exec.Command("sh", "-c", strings.TrimSpace(readmeShopBlock))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ALISHOP_ADDR=127.0.0.1:0", "ALISHOP_DATA="+data, "ALISHOP_LOG_LEVEL=warn")
	// go run's child is stopped with it: the group gets the signal, as a
	// terminal's Ctrl-C sends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	var base, printed string
	var seen []string
	// The build is the only wait: the program prints these lines at once
	// after it listens.
	for base == "" || printed == "" {
		l, ok := <-lines
		if !ok {
			t.Fatalf("%s exited; stdout %q\nstderr:\n%s", readmeShopBlock, seen, &stderr)
		}
		seen = append(seen, l)
		if m := listenLine.FindStringSubmatch(l); m != nil {
			base = m[1]
		}
		if u, ok := strings.CutPrefix(l, "open the shop at "); ok {
			printed, _, _ = strings.Cut(u, " ")
		}
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	want := strings.Replace(readmeURL, ":8000/", ":"+port+"/", 1)
	if printed != want {
		t.Errorf("the shop prints %s; the README says to open %s (port %s here)", printed, readmeURL, port)
	}

	// A buyer at the printed address: order, cashier, payment, 支付成功.
	p := &shopProcess{t: t, base: base}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	gw := readmeOrder(t, browser, base)
	p.openCashier(gw)
	no := regexp.MustCompile(`"out_trade_no":"(\w+)"`).FindStringSubmatch(gw)
	if gu, err := url.Parse(gw); err == nil {
		no = regexp.MustCompile(`"out_trade_no":"(\w+)"`).FindStringSubmatch(gu.Query().Get("biz_content"))
	}
	if no == nil {
		t.Fatalf("no out_trade_no in the gateway URL %s", gw)
	}
	if resp, _ := p.do("GET", p.pay(no[1]), nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("return page: %s", resp.Status)
	}
	if o := p.waitPaid(no[1]); o.Status != "paid" {
		t.Errorf("order %s is %s after payment", no[1], o.Status)
	}
	// 我的订单 opened under the other name shows the same order.
	other := strings.Replace(base, "127.0.0.1", "localhost", 1)
	if page := readmePage(t, browser, other+"/orders"); !strings.Contains(page, no[1]) {
		t.Errorf("我的订单 at %s does not list %s:\n%s", other, no[1], page)
	}
}

// readmeOrder posts the purchase form as a browser does and returns the
// gateway URL the shop sends it to.
func readmeOrder(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/orders", strings.NewReader(url.Values{"goods_id": {"2"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /orders: %s", resp.Status)
	}
	return resp.Header.Get("Location")
}

// readmePage loads a page as a browser does, following redirects.
func readmePage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return string(b)
}

// readmeBlocks runs the README's other sh blocks in one bash, in order.
func readmeBlocks(t *testing.T, root, script string) {
	if !strings.Contains(script, "127.0.0.1:9000") {
		t.Fatal("README.md: the sandbox blocks no longer use 127.0.0.1:9000; adjust the test's port mapping")
	}
	script = strings.ReplaceAll(script, "127.0.0.1:9000", shoptest.FreeAddr(t))
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// -e: a command that fails stops the script; the trap stops what it
	// left running.
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"+script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOPATH="+filepath.Join(tmp, "gopath"), "GOMODCACHE="+strings.TrimSpace(string(modcache)),
		"TMPDIR="+tmp, "GOFLAGS=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything the script left behind
	text := out.String()
	if err != nil {
		t.Fatalf("the README's sh blocks: %v\n%s", err, text)
	}
	for _, want := range []string{
		"usage: alishop",                  // alishop help, from the PATH the README sets
		`"code":"10000"`,                  // ORDER1 made by the signed precreate
		`"trade_status": "TRADE_SUCCESS"`, // and paid
		"signature OK",                    // sign → verify
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the README's sh blocks do not print %s:\n%s", want, text)
		}
	}
	// The sandbox's control API answers a refused request {"error": "…"}.
	if m := regexp.MustCompile(`\{\s*"error":\s*"[^"]*"\s*\}`).FindString(text); m != "" {
		t.Errorf("a README command was refused: %s\n%s", m, text)
	}
	for _, bad := range []string{"no such trade", "mismatch", "command not found"} {
		if strings.Contains(text, bad) {
			t.Errorf("the README's sh blocks print %s:\n%s", bad, text)
		}
	}
}
