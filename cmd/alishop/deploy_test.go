package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
	"alishop/internal/store/pgtest"
)

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDeployFilesValidate checks deploy/ with the tools that read it, where
// they are installed (Debian: systemd, nginx-light, caddy): the units with
// `systemd-analyze verify` (paths and user moved to this machine's), the
// nginx server blocks with `nginx -t` inside an http block (with a
// throw-away certificate), the Caddyfile with `caddy validate`. Any
// complaint fails the test.
func TestDeployFilesValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t.Run("systemd", func(t *testing.T) {
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			skipUnlessCI(t, "systemd-analyze is not installed")
		}
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		grp, err := user.LookupGroupId(me.Gid)
		if err != nil {
			t.Fatal(err)
		}
		env := filepath.Join(dir, "alishop.env")
		if err := os.WriteFile(env, []byte(readDeploy(t, "alishop.env.example")), 0o600); err != nil {
			t.Fatal(err)
		}
		r := strings.NewReplacer("/usr/local/bin/alishop", "/bin/true", "/etc/alishop/alishop.env", env,
			"User=alishop", "User="+me.Username, "Group=alishop", "Group="+grp.Name)
		var units []string
		for _, f := range []string{"alishop.service", "alishop@.service", "alishop-backup.service", "alishop-backup.timer"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(r.Replace(readDeploy(t, f))), 0o644); err != nil {
				t.Fatal(err)
			}
			units = append(units, "./"+strings.Replace(f, "@.", "@8001.", 1))
		}
		cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, units...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(units, " "), err, out)
		}
	})
	t.Run("nginx", func(t *testing.T) {
		if _, err := exec.LookPath("nginx"); err != nil {
			skipUnlessCI(t, "nginx is not installed (apt-get install nginx-light)")
		}
		cert, key := selfSignedPEM(t, dir)
		site := strings.NewReplacer("/etc/letsencrypt/live/shop.example.com/fullchain.pem", cert,
			"/etc/letsencrypt/live/shop.example.com/privkey.pem", key).Replace(readDeploy(t, "nginx.conf"))
		if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
			t.Fatal(err)
		}
		main := fmt.Sprintf("error_log stderr;\npid %s/nginx.pid;\nevents {}\nhttp {\n include %s/site.conf;\n}\n", dir, dir)
		if err := os.WriteFile(filepath.Join(dir, "nginx-main.conf"), []byte(main), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("nginx", "-t", "-p", dir, "-c", filepath.Join(dir, "nginx-main.conf")).CombinedOutput()
		if err != nil || strings.Contains(string(out), "[warn]") || strings.Contains(string(out), "[emerg]") {
			t.Errorf("nginx -t: %v\n%s", err, out)
		}
	})
	t.Run("caddy", func(t *testing.T) {
		if _, err := exec.LookPath("caddy"); err != nil {
			skipUnlessCI(t, "caddy is not installed (apt-get install caddy)")
		}
		cmd := exec.Command("caddy", "validate", "--adapter", "caddyfile", "--config", filepath.Join(repoRoot(t), "deploy", "Caddyfile"))
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), `"level":"warn"`) || !strings.Contains(string(out), "Valid configuration") {
			t.Errorf("caddy validate: %v\n%s", err, out)
		}
	})
}

// selfSignedPEM writes a throw-away certificate and key for nginx -t.
func selfSignedPEM(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k := shopKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"shop.example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func shopKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := alipay.LoadPrivateKeyFile(filepath.Join(repoRoot(t), "alipay", "testdata", "keys", "test_0.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// unitExec returns the command line of key (ExecStart, ExecStartPost) in
// unit, with systemd's escapes undone (%% → %, $$ → $) and the paths
// replaced by r.
func unitExec(t *testing.T, unit, key string, r *strings.Replacer) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("no %s= in the unit", key)
	}
	return r.Replace(strings.NewReplacer("%%", "%", "$$", "$").Replace(m[1]))
}

// seedGoods makes a database at dsn (migrating it) with one goods item
// named name.
func seedGoods(t *testing.T, dsn, name string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := shop.NewService(shop.Config{Store: db})
	if err := svc.SaveGoods(ctx, &shop.Goods{Name: name, Price: alipay.MustAmount("1.00")}); err != nil {
		t.Fatal(err)
	}
}

// hasGoods reports whether the database at dsn lists goods named name.
func hasGoods(t *testing.T, dsn, name string) bool {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gs, err := shop.NewService(shop.Config{Store: db}).ListGoods(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == name {
			return true
		}
	}
	return false
}

// TestBackupUnitCommand runs deploy/alishop-backup.service's ExecStart and
// ExecStartPost as systemd would (escapes undone; /var/backups/alishop, the
// binary and the data directory moved to this test's) on SQLite and on
// PostgreSQL (a database of its own, as docs/SHOP.md sets one up), then
// restores what it wrote as docs/OPERATIONS.md says and finds the goods; a
// backup 40 days old is deleted, a new one kept.
func TestBackupUnitCommand(t *testing.T) {
	t.Parallel()
	unit := readDeploy(t, "alishop-backup.service")
	bin := alishopBinary(t)
	run := func(t *testing.T, env []string) string {
		t.Helper()
		backups := t.TempDir()
		old := filepath.Join(backups, "alishop-20200101-033000.db")
		if err := os.WriteFile(old, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		long := time.Now().Add(-40 * 24 * time.Hour)
		if err := os.Chtimes(old, long, long); err != nil {
			t.Fatal(err)
		}
		r := strings.NewReplacer("/var/backups/alishop", backups, "/usr/local/bin/alishop", bin)
		umask := regexp.MustCompile(`(?m)^UMask=(\d+)$`).FindStringSubmatch(unit)
		if umask == nil {
			t.Fatal("the backup unit sets no UMask: pg_dump would write a backup others can read")
		}
		for _, key := range []string{"ExecStart", "ExecStartPost"} {
			line := unitExec(t, unit, key, r)
			// As systemd runs it: with the unit's UMask.
			args := append([]string{"/bin/sh", "-c", `umask "$0" && exec "$@"`, umask[1]}, shellWords(t, line)...)
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s=%s: %v\n%s", key, line, err, out)
			}
		}
		if _, err := os.Stat(old); err == nil {
			t.Error("a backup 40 days old was not deleted")
		}
		made, _ := filepath.Glob(filepath.Join(backups, "alishop-*"))
		if len(made) != 1 {
			t.Fatalf("backups after one run: %v", made)
		}
		if fi, err := os.Stat(made[0]); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("backup %s: %v, mode %v; want readable by its owner only", made[0], err, fi.Mode())
		}
		return made[0]
	}

	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		seedGoods(t, filepath.Join(data, "alishop.db"), "备份的商品")
		file := run(t, []string{"ALISHOP_DATA=" + data})
		if !strings.HasSuffix(file, ".db") || !hasGoods(t, file, "备份的商品") {
			t.Errorf("SQLite backup %s does not hold the goods", file)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		super, base := pgSuper(t)
		for _, tool := range []string{"pg_dump", "pg_restore"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("%s is set but %s is not installed (apt-get install postgresql-client)", pgtest.Env, tool)
			}
		}
		src, dst := randomName("alishop_ops_backup_"), randomName("alishop_ops_restore_")
		for _, d := range []string{src, dst} {
			if _, err := super.Exec(`CREATE DATABASE "` + d + `"`); err != nil {
				t.Fatal(err)
			}
		}
		dropLater(t, super, []string{src, dst}, nil)
		seedGoods(t, withDatabase(base, src), "备份的商品")
		file := run(t, []string{"ALISHOP_DATA=" + t.TempDir(), "ALISHOP_DB=" + withDatabase(base, src)})
		if !strings.HasSuffix(file, ".dump") {
			t.Fatalf("PostgreSQL backup %s: want a pg_dump custom-format .dump", file)
		}
		// docs/OPERATIONS.md: pg_restore --no-owner --dbname=URL FILE into an empty database.
		if out, err := exec.Command("pg_restore", "--no-owner", "--dbname="+withDatabase(base, dst), file).CombinedOutput(); err != nil {
			t.Fatalf("pg_restore: %v\n%s", err, out)
		}
		if !hasGoods(t, withDatabase(base, dst), "备份的商品") {
			t.Error("the restored PostgreSQL database does not hold the goods")
		}
	})
}

// shellWords splits a systemd command line: words, and single-quoted
// strings as one word.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	for _, m := range regexp.MustCompile(`'([^']*)'|(\S+)`).FindAllStringSubmatch(line, -1) {
		if m[2] != "" {
			words = append(words, m[2])
		} else {
			words = append(words, m[1])
		}
	}
	if len(words) == 0 {
		t.Fatalf("empty command line %q", line)
	}
	return words
}

// skipUnlessCI skips the test for a missing tool, except in CI
// (CI=true), where scripts/test.sh installs the tool and its absence fails.
func skipUnlessCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}
