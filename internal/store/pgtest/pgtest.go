// Package pgtest gives a test a PostgreSQL schema of its own in the
// database named by ALISHOP_TEST_POSTGRES (scripts/test.sh sets it when
// PostgreSQL answers at 127.0.0.1:5432).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Env is the environment variable naming the test database.
const Env = "ALISHOP_TEST_POSTGRES"

// URL creates a fresh, empty schema in the test database, drops it (with
// everything in it) when the test ends, and returns the database URL with
// search_path set to it, ready for store.Open or alishop --db.
//
// Without ALISHOP_TEST_POSTGRES the test is skipped, with a log line. When
// the variable is set but the database cannot be used the test fails: a
// run that was meant to check PostgreSQL must not pass without doing so.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Log(Env + " is not set in CI: PostgreSQL is not checked")
		}
		t.Skip("set " + Env + "=postgres://USER@HOST:PORT/DATABASE?sslmode=disable to run this test on PostgreSQL")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s is not a postgres:// URL", Env)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "alishop_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("%s: cannot create a test schema: %v", Env, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
