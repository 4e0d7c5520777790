package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"alishop/internal/store"
)

// runCmd runs the program in-process with args and stdin, and returns its
// stdout, stderr and error.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"alishop"}, args...), func(string) string { return "" }, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

// TestBackupWhileOrdersAreCreated: a backup taken while 200 orders are
// being created is a valid database holding every order committed before
// it started; restoring it (stop, copy back, start) gives the shop those
// orders back.
func TestBackupWhileOrdersAreCreated(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startShop(t, data, "--checkout-burst", "1000000") // 200 orders from one address
	const total, workers = 200, 4
	var (
		mu        sync.Mutex
		committed []string // orders whose creation was answered, in order
		wg        sync.WaitGroup
		next      = make(chan int)
		failures  []string
	)
	for range workers {
		wg.Go(func() {
			for range next {
				req, _ := http.NewRequest("POST", p.base+"/orders", strings.NewReader(url.Values{"goods_id": {"2"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := noRedirect.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				u, _ := url.Parse(resp.Header.Get("Location"))
				var biz struct {
					OutTradeNo string `json:"out_trade_no"`
				}
				json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz)
				mu.Lock()
				if resp.StatusCode != http.StatusSeeOther || biz.OutTradeNo == "" {
					failures = append(failures, resp.Status)
				} else {
					committed = append(committed, biz.OutTradeNo)
				}
				mu.Unlock()
			}
		})
	}
	backup := filepath.Join(t.TempDir(), "alishop-backup.db")
	var before []string
	for i := range total {
		if i == total/2 {
			// Everything answered so far was committed before the backup.
			mu.Lock()
			before = append([]string(nil), committed...)
			mu.Unlock()
			out, stderr, err := runCmd(t, "", "backup", "--data", data, backup)
			if err != nil || !strings.Contains(out, "written to "+backup) {
				t.Fatalf("backup: %v\n%s%s", err, out, stderr)
			}
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d order creations failed: %v", len(failures), failures[:min(3, len(failures))])
	}
	if len(before) == 0 || len(committed) != total {
		t.Fatalf("%d orders before the backup, %d in all", len(before), len(committed))
	}
	fi, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}

	// The backup is a valid database with every order committed before it.
	check := filepath.Join(t.TempDir(), "check.db")
	copyFile(t, backup, check)
	raw, err := sql.Open("sqlite", check)
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	raw.Close()
	db, err := store.Open(context.Background(), check, store.Options{})
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	for _, no := range before {
		if _, err := db.Order(context.Background(), no); err != nil {
			t.Fatalf("order %s, committed before the backup, is not in it: %v", no, err)
		}
	}
	db.Close()

	// A second backup to the same file is refused; nothing is overwritten.
	if _, _, err := runCmd(t, "", "backup", "--data", data, backup); err == nil {
		t.Error("a backup over an existing file was not refused")
	}

	// Restore, as docs/OPERATIONS.md says: stop, copy back, start.
	if err := p.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.stderr)
	}
	live := filepath.Join(data, "alishop.db")
	for _, f := range []string{live, live + "-wal", live + "-shm"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	copyFile(t, backup, live)
	p2 := startShop(t, data)
	if o := p2.apiOrder(before[len(before)-1]); o.Status != "unpaid" {
		t.Fatalf("restored order: %+v", o)
	}
	last := committed[len(committed)-1]
	if resp, _ := p2.do("GET", "/api/orders/"+last, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("order %s, made after the backup, is there after the restore: %s", last, resp.Status)
	}
	// The restored shop takes new orders.
	p2.buy("1")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--db", "postgres://shop@127.0.0.1/shop", "x.db"}, "pg_dump"},
		{[]string{"backup", "--data", data, filepath.Join(data, "x.db")}, "no database at"},
		{[]string{"backup", "--data", data}, "want one argument"},
		{[]string{"backup", "--db", "mysql://root:secret@db/shop", "x.db"}, `unsupported database "mysql://"`},
	} {
		_, _, err := runCmd(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}

// TestPasswd: a new admin password read on stdin or generated, set while
// the shop runs; the old one stops working and sessions end.
func TestPasswd(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startShop(t, data)
	cookie := p.login()
	if _, _, err := runCmd(t, "short\n", "passwd", "--data", data); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short password: %v", err)
	}
	if _, _, err := runCmd(t, "", "passwd", "--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("no database: %v", err)
	}
	const pw = "correct horse battery"
	out, stderr, err := runCmd(t, pw+"\n", "passwd", "--data", data)
	if err != nil || !strings.Contains(out, "admin password set") || !strings.Contains(stderr, "new admin password") {
		t.Fatalf("passwd: %v\n%s%s", err, out, stderr)
	}
	loginAs := func(pw string) int {
		resp, _ := p.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {pw}}, nil)
		return resp.StatusCode
	}
	if code := loginAs(p.password); code == http.StatusSeeOther {
		t.Error("the old password still logs in")
	}
	if code := loginAs(pw); code != http.StatusSeeOther {
		t.Errorf("the new password does not log in: %d", code)
	}
	resp, _ := p.do("GET", "/admin/orders", nil, map[string]string{"Cookie": cookie.Name + "=" + cookie.Value})
	if resp.StatusCode == http.StatusOK {
		t.Error("a session from before the password change still works")
	}
	out, _, err = runCmd(t, "", "passwd", "--data", data, "--generate")
	gen, ok := strings.CutPrefix(strings.SplitN(out, "\n", 2)[0], "admin password: ")
	if err != nil || !ok || len(gen) < 12 {
		t.Fatalf("passwd --generate: %v %q", err, out)
	}
	if code := loginAs(gen); code != http.StatusSeeOther {
		t.Errorf("the generated password does not log in: %d", code)
	}
}

// TestHelpListsCommands: alishop --help, -h and help list every command with
// a line each; help COMMAND shows that command's flags; version and
// --version print the build's versions.
func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, _, err := runCmd(t, "", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.name+" ") || !strings.Contains(out, c.summary) {
				t.Errorf("%v does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	out, _, err := runCmd(t, "", "help", "backup")
	if err != nil || !strings.Contains(out, "-data") || !strings.Contains(out, "pg_dump") {
		t.Errorf("help backup: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out, _, err := runCmd(t, "", args...)
		if err != nil || !strings.HasPrefix(out, "alishop ") || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, "revision ") {
			t.Errorf("%v: %v %q", args, err, out)
		}
	}
	if _, _, err := runCmd(t, "", "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}

// TestEveryCommandHelp: every command answers -h and --help on stdout with
// its usage line, its one-line summary and, when it has flags, the
// environment rule and the flags; a flag it does not know is a usage error
// (exit 2) that names the flag and says where the list is, without Go's
// bare "Usage of".
func TestEveryCommandHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		if c.name == "help" {
			continue // help -h is the list TestHelpListsCommands checks
		}
		for _, h := range []string{"-h", "--help"} {
			out, errOut, err := runCmd(t, "", c.name, h)
			if err != nil || errOut != "" || !strings.HasPrefix(out, "usage: alishop "+c.name) || !strings.Contains(out, capitalize(c.summary)+".") {
				t.Errorf("alishop %s %s: %v\nstdout:\n%s\nstderr:\n%s", c.name, h, err, out, errOut)
			}
			if strings.Contains(out, "flags:") && !strings.Contains(out, "ALISHOP_") {
				t.Errorf("alishop %s %s does not say how flags map to the environment:\n%s", c.name, h, out)
			}
		}
		out, errOut, code := runTool(t, "", c.name, "--no-such-flag")
		if code != 2 || strings.Contains(out+errOut, "Usage of") || !strings.Contains(errOut, "no-such-flag") || !strings.Contains(errOut, "alishop "+c.name+" -h") {
			t.Errorf("alishop %s --no-such-flag: exit %d\nstdout:\n%s\nstderr:\n%s", c.name, code, out, errOut)
		}
	}
	out, _, _ := runCmd(t, "", "serve", "-h")
	for _, want := range []string{"ALISHOP_ + the flag name", "-public-url", "built-in Alipay sandbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve -h does not say %q:\n%s", want, out)
		}
	}
	out, _, _ = runCmd(t, "", "sandbox", "-h")
	if !strings.Contains(out, "ALISHOP_SANDBOX_") {
		t.Errorf("sandbox -h does not give its environment rule:\n%s", out)
	}
}

// TestServeReadableErrors: an unsupported --db scheme, a missing directory
// and a key file that cannot be read each get an error that says so.
func TestServeReadableErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "mysql://root:secret@127.0.0.1/shop"}, `unsupported database "mysql://"`},
		{[]string{"--db", filepath.Join(dir, "missing", "shop.db")}, "does not exist"},
		{[]string{"--alipay-app-id", "2021000000000001", "--alipay-private-key", filepath.Join(dir, "nope.pem"), "--alipay-public-key", bad}, "--alipay-private-key " + filepath.Join(dir, "nope.pem") + ": no such file"},
		{[]string{"--alipay-app-id", "2021000000000001", "--alipay-private-key", dir, "--alipay-public-key", bad}, "is a directory"},
		{[]string{"--alipay-app-id", "2021000000000001", "--alipay-private-key", bad, "--alipay-public-key", bad}, "want RSA private key"},
	} {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data")}, c.args...)
		_, _, err := runCmd(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	for _, c := range [][]string{{"sign", "--private-key", filepath.Join(dir, "nope.pem")}, {"verify", "--alipay-public-key", filepath.Join(dir, "nope.pem")}} {
		if _, _, err := runCmd(t, "a=b", c...); err == nil || !strings.Contains(err.Error(), "nope.pem: no such file") {
			t.Errorf("%v: %v", c, err)
		}
	}
	if os.Getuid() != 0 {
		locked := filepath.Join(dir, "locked.pem")
		os.WriteFile(locked, []byte("x"), 0o000)
		_, _, err := runCmd(t, "", "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--alipay-app-id", "2021000000000001",
			"--alipay-private-key", locked, "--alipay-public-key", bad)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable key file: %v", err)
		}
	}
}

// TestAdminPasswordHash: passwd --hash prints a password's stored form
// without opening a database; serve --admin-password-hash stores it, and
// the password logs in; a restart with the same hash keeps the sessions, a
// new hash ends them (with a warning when it has fewer iterations than
// alishop's own); a malformed hash, or both password flags, exit 2.
func TestAdminPasswordHash(t *testing.T) {
	t.Parallel()
	const pw = "a password kept by the operator"
	nowhere := filepath.Join(t.TempDir(), "none")
	out, _, err := runCmd(t, pw+"\n", "passwd", "--hash", "--data", nowhere)
	hash := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(hash, "pbkdf2-sha256$600000$") || strings.Count(out, "\n") != 1 {
		t.Fatalf("passwd --hash: %v %q", err, out)
	}
	if _, err := os.Stat(nowhere); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("passwd --hash touched the data directory: %v", err)
	}
	if _, _, err := runCmd(t, "short\n", "passwd", "--hash"); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("passwd --hash with a short password: %v", err)
	}

	data := t.TempDir()
	p := launchShop(t, data, hash)
	p.password = pw
	if strings.Contains(strings.Join(p.stdout, "\n"), "admin password") {
		t.Errorf("a password was generated although a hash was given: %q", p.stdout)
	}
	cookie := p.login()
	if resp, _ := p.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {pw + "x"}}, nil); resp.StatusCode == http.StatusSeeOther {
		t.Error("a wrong password logs in")
	}
	if strings.Contains(p.stderr.String(), hash) || strings.Contains(p.stderr.String(), "fewer PBKDF2 iterations") {
		t.Errorf("stderr names the hash or warns about it:\n%s", p.stderr)
	}
	session := map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}

	q := launchShop(t, data, hash)
	if resp, _ := q.do("GET", "/admin/orders", nil, session); resp.StatusCode != http.StatusOK {
		t.Errorf("a restart with the same hash ended the session: %d", resp.StatusCode)
	}
	if err := q.stop(); err != nil {
		t.Fatal(err)
	}

	r := launchShop(t, data, testAdminPasswordHash)
	if resp, _ := r.do("GET", "/admin/orders", nil, session); resp.StatusCode == http.StatusOK {
		t.Error("a session from before the new hash still works")
	}
	r.password = testAdminPassword
	r.login()
	if !strings.Contains(r.stderr.String(), "fewer PBKDF2 iterations") || !strings.Contains(r.stderr.String(), "iterations=1000") {
		t.Errorf("no warning about a 1,000-iteration hash:\n%s", r.stderr)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--admin-password-hash", "pbkdf2-sha256$999$" + strings.SplitN(hash, "$", 3)[2]}, "want 1000 to 10000000"},
		{[]string{"--admin-password-hash", "sha1$1000$c2FsdA$a2V5"}, "unknown password hash format"},
		{[]string{"--admin-password-hash", "pbkdf2-sha256$1000$c2FsdA$a2V5"}, "16 to 64 bytes"},
		{[]string{"--admin-password-hash", hash, "--admin-password", pw}, "give one of them"},
	} {
		_, _, err := runCmd(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, c.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), pw) {
			t.Errorf("%.60q: %v, want exit 2 with %q", c.args, err, c.want)
		}
	}
}
