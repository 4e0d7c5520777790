package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docSQL is one `sudo -u postgres psql … <<'SQL'` block of docs/SHOP.md.
type docSQL struct {
	args string   // psql's arguments, e.g. --dbname=EXISTING
	stmt []string // its statements, in order
}

var psqlHeredoc = regexp.MustCompile(`(?m)^sudo -u postgres psql([^<\n]*)<<'SQL'\n((?:.*\n)*?)SQL$`)

// documentedSetup returns the PostgreSQL set-up blocks of docs/SHOP.md.
func documentedSetup(t *testing.T) []docSQL {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "SHOP.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []docSQL
	for _, m := range psqlHeredoc.FindAllStringSubmatch(string(b), -1) {
		d := docSQL{args: strings.TrimSpace(m[1])}
		for _, s := range strings.Split(m[2], ";") {
			if s = strings.TrimSpace(s); s != "" {
				d.stmt = append(d.stmt, s)
			}
		}
		out = append(out, d)
	}
	if len(out) != 2 {
		t.Fatalf("docs/SHOP.md has %d `sudo -u postgres psql … <<'SQL'` blocks, want 2 (a database the role owns; a schema in an existing database)", len(out))
	}
	return out
}

// TestPostgresDocumentedSetup runs docs/SHOP.md's PostgreSQL set-up as
// written, as the superuser (what `sudo -u postgres psql` is), with a role,
// password and database of this run in place of alishop, CHANGE-ME and
// EXISTING: a database the role owns, and a schema of its own in a
// database another role owns. The role is no superuser and cannot create
// databases; `alishop serve` started on it migrates, becomes ready and
// takes an order, with every table owned by the role.
func TestPostgresDocumentedSetup(t *testing.T) {
	t.Parallel()
	super, base := pgSuper(t)
	bin := alishopBinary(t)
	for i, block := range documentedSetup(t) {
		name := map[int]string{0: "own database", 1: "schema in an existing database"}[i]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			role, password := randomName("alishop_ops_"), randomName("pw")
			database := role
			drop := []string{role}
			conn := super
			if strings.Contains(block.args, "--dbname=EXISTING") {
				// A database that already exists, owned by the superuser.
				database = randomName("alishop_ops_existing_")
				if _, err := super.ExecContext(ctx, `CREATE DATABASE "`+database+`"`); err != nil {
					t.Fatal(err)
				}
				drop = []string{database}
				c, err := sql.Open("pgx", withDatabase(base, database))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conn = c
			} else if block.args != "" {
				t.Fatalf("docs/SHOP.md: psql %s: arguments this test does not know", block.args)
			}
			dropLater(t, super, drop, []string{role})
			for _, s := range block.stmt {
				s = regexp.MustCompile(`\balishop\b`).ReplaceAllString(s, role)
				s = strings.ReplaceAll(s, "'CHANGE-ME'", "'"+password+"'")
				s = strings.ReplaceAll(s, "EXISTING", database)
				if _, err := conn.ExecContext(ctx, s); err != nil {
					t.Fatalf("docs/SHOP.md: %s: %v", s, err)
				}
			}
			var rolsuper, createdb bool
			if err := super.QueryRow("SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = $1", role).Scan(&rolsuper, &createdb); err != nil {
				t.Fatal(err)
			}
			if rolsuper || createdb {
				t.Fatalf("the documented role is superuser=%v createdb=%v; want an ordinary role", rolsuper, createdb)
			}

			dsn := pgURL(base, role, password, database)
			shop := startOpsChild(t, bin, []string{"ALISHOP_DB=" + dsn, "ALISHOP_DATA=" + t.TempDir(), "ALISHOP_LOG_LEVEL=warn"})
			shop.waitFor(shop.stdout, regexp.MustCompile(`alishop listening on`), 60*time.Second)
			if code, body := shop.get("/readyz"); code != 200 {
				t.Fatalf("/readyz on the documented role: %d %s\nstderr:\n%s", code, body, shop.stderr)
			}
			if strings.Contains(shop.stdout.String()+shop.stderr.String(), password) {
				t.Error("the role's password was printed or logged")
			}
			if code, _ := shop.get("/"); code != 200 {
				t.Fatalf("goods page: %d\nstderr:\n%s", code, shop.stderr)
			}
			if err := shop.stop(); err != nil {
				t.Fatalf("alishop serve: %v\nstderr:\n%s", err, shop.stderr)
			}

			// Every table the shop made belongs to the role, in the schema the
			// set-up gave it.
			wantSchema := "public"
			if database != role {
				wantSchema = role
			}
			db, err := sql.Open("pgx", pgURL(base, role, password, database))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.QueryContext(ctx, `SELECT schemaname, tablename, tableowner FROM pg_tables
				WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var schema, table, owner string
				if err := rows.Scan(&schema, &table, &owner); err != nil {
					t.Fatal(err)
				}
				n++
				if schema != wantSchema || owner != role {
					t.Errorf("table %s.%s owned by %s; want schema %s, owner %s", schema, table, owner, wantSchema, role)
				}
			}
			if n < 5 {
				t.Errorf("%d tables after the shop started; the migrations did not run", n)
			}
			t.Logf("%s: %d tables in schema %s, owned by the ordinary role", name, n, wantSchema)
		})
	}
}
