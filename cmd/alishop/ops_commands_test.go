package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"alishop/internal/store/pgtest"
)

// operatorCommand is `sudo -u alishop sh -c '…'` in docs/OPERATIONS.md: an
// operator command run as the service's user with its environment file.
var operatorCommand = regexp.MustCompile(`(?m)^sudo -u alishop (sh -c '[^'\n]*')$`)

// TestOperationsCommands runs every `sudo -u alishop sh -c '…'` command of
// docs/OPERATIONS.md as written, with an environment file like
// deploy/alishop.env.example's in place of /etc/alishop/alishop.env, once
// naming a SQLite database (ALISHOP_DATA) and once a PostgreSQL one
// (ALISHOP_DB): each works on both, except `alishop backup` on PostgreSQL,
// which the document sends to pg_dump and which says so.
func TestOperationsCommands(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "OPERATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, m := range operatorCommand.FindAllStringSubmatch(string(b), -1) {
		cmds = append(cmds, m[1])
	}
	if len(cmds) < 2 || !strings.Contains(strings.Join(cmds, "\n"), "alishop passwd") {
		t.Fatalf("docs/OPERATIONS.md has %d `sudo -u alishop sh -c '…'` commands (%q); want passwd and backup among them", len(cmds), cmds)
	}
	bin := alishopBinary(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			env := "ALISHOP_DATA=" + data + "\n"
			dsn := filepath.Join(data, "alishop.db")
			if backend == "postgres" {
				dsn = pgtest.URL(t)
				env += "ALISHOP_DB='" + dsn + "'\n"
			}
			seedGoods(t, dsn, "运维测试商品") // the database the shop made
			envFile := filepath.Join(dir, "alishop.env")
			if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
				t.Fatal(err)
			}
			backups := filepath.Join(dir, "backups")
			if err := os.Mkdir(backups, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, c := range cmds {
				line := strings.NewReplacer("/etc/alishop/alishop.env", envFile, "/var/backups/alishop", backups).Replace(c)
				cmd := exec.Command("sh", "-c", line)
				cmd.Env = []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir}
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				switch {
				case backend == "postgres" && strings.Contains(c, "alishop backup"):
					if err == nil || !strings.Contains(string(out), "pg_dump") {
						t.Errorf("%s on PostgreSQL: %v, %s; want a refusal pointing to pg_dump", c, err, out)
					}
				case err != nil:
					t.Errorf("%s on %s: %v\n%s", c, backend, err, out)
				case strings.Contains(c, "alishop passwd") && !strings.Contains(string(out), "admin password set"):
					t.Errorf("%s on %s: %s", c, backend, out)
				case strings.Contains(c, "alishop backup"):
					if made, _ := filepath.Glob(filepath.Join(backups, "*.db")); len(made) != 1 || !hasGoods(t, made[0], "运维测试商品") {
						t.Errorf("%s on %s: backups %v, want one holding the goods", c, backend, made)
					}
				}
				t.Logf("%s on %s: ok", c, backend)
			}
		})
	}
}
