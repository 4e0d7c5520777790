package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"alishop/internal/store/pgtest"
)

// Helpers of the operator tests (deploy/, docs/OPERATIONS.md, the
// PostgreSQL set-up and start-up): they run the real binary, built as the
// README says, as an operator or systemd would.

// repoRoot is the repository's top directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// opsBinary is cmd/alishop built once for the operator tests, in a
// directory TestMain removes.
var opsBinary struct {
	once     sync.Once
	dir, bin string
	err      error
	out      []byte
}

// alishopBinary builds cmd/alishop (once for all the tests) and returns the
// binary's path; its directory can go first on PATH.
func alishopBinary(t testing.TB) string {
	t.Helper()
	b := &opsBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "alishop-ops-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "alishop")
		build := exec.Command("go", "build", "-o", b.bin, "./cmd/alishop")
		build.Dir = repoRoot(t)
		b.out, b.err = build.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build -o alishop ./cmd/alishop: %v\n%s", b.err, b.out)
	}
	return b.bin
}

// removeOpsBinary removes the operator tests' binary (TestMain calls it).
func removeOpsBinary() {
	if opsBinary.dir != "" {
		os.RemoveAll(opsBinary.dir)
	}
}

// randomName returns prefix and 12 random hex digits: a name of its own for
// a role, database or file of one test run.
func randomName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// pgSuper opens the PostgreSQL of ALISHOP_TEST_POSTGRES as the superuser it
// names (CI's is one), skipping the test without it as pgtest does, and
// returns it with its URL.
func pgSuper(t testing.TB) (*sql.DB, *url.URL) {
	t.Helper()
	base := os.Getenv(pgtest.Env)
	if base == "" {
		t.Skip("set " + pgtest.Env + "=postgres://USER@HOST:PORT/DATABASE?sslmode=disable (a superuser) to run this test on PostgreSQL")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", pgtest.Env, err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var super bool
	if err := db.QueryRow("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatalf("%s: %v", pgtest.Env, err)
	}
	if !super {
		t.Fatalf("%s must name a superuser to create roles and databases for this test", pgtest.Env)
	}
	return db, u
}

// withDatabase is base (its user and password) with another database.
func withDatabase(base *url.URL, database string) string {
	u := *base
	u.Path = "/" + database
	return u.String()
}

// dropLater drops the databases and then the roles when the test ends,
// ending their sessions first.
func dropLater(t testing.TB, super *sql.DB, databases, roles []string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, d := range databases {
			if _, err := super.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+d+`" WITH (FORCE)`); err != nil {
				t.Errorf("drop database %s: %v", d, err)
			}
		}
		for _, r := range roles {
			if _, err := super.ExecContext(ctx, `DROP ROLE IF EXISTS "`+r+`"`); err != nil {
				t.Errorf("drop role %s: %v", r, err)
			}
		}
	})
}
