package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// TestOperatorQueries: readiness, the counts metrics read, the next job of
// a kind, and backups of a SQLite file.
func TestOperatorQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("fresh database not ready: %v", err)
	}

	for i, hidden := range []bool{false, false, true} {
		g := shop.Goods{Name: "商品" + string(rune('A'+i)), Price: alipay.MustAmount("1.00"), Hidden: hidden, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateGoods(ctx, &g); err != nil {
			t.Fatal(err)
		}
	}
	if listed, hidden, err := db.GoodsCounts(ctx); err != nil || listed != 2 || hidden != 1 {
		t.Errorf("goods counts %d listed, %d hidden, %v", listed, hidden, err)
	}

	now := time.UnixMilli(time.Now().UnixMilli())
	if _, _, ok, err := db.NextJob(ctx, "bill"); ok || err != nil {
		t.Fatalf("next bill job on an empty table: %v %v", ok, err)
	}
	for ref, at := range map[string]time.Time{"2026-11-25": now.Add(-time.Hour), "2026-11-26": now.Add(time.Hour)} {
		if err := db.EnqueueJob(ctx, "bill", ref, at, now); err != nil {
			t.Fatal(err)
		}
	}
	if ref, at, ok, err := db.NextJob(ctx, "bill"); !ok || err != nil || ref != "2026-11-25" || !at.Equal(now.Add(-time.Hour)) {
		t.Errorf("next bill job: %s %v %v %v", ref, at, ok, err)
	}
	if _, err := db.ClaimJob(ctx, "bill", "tok", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	counts, err := db.JobCounts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range counts {
		got[c.Kind+"/"+c.State] = c.N
	}
	if got["bill/running"] != 1 || got["bill/scheduled"] != 1 || len(got) != 2 {
		t.Errorf("job counts %v", got)
	}

	// Backups: a copy that opens, never over an existing file, and not of PostgreSQL.
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := store.BackupSQLite(ctx, path, dest); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	if err := store.BackupSQLite(ctx, path, dest); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if err := store.BackupSQLite(ctx, "postgres://u@h/db", filepath.Join(t.TempDir(), "x")); err != store.ErrPostgresBackup {
		t.Errorf("backup of PostgreSQL: %v", err)
	}
	if err := store.BackupSQLite(ctx, filepath.Join(t.TempDir(), "none.db"), filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("backup of a database that does not exist")
	}
	copyDB, err := store.Open(ctx, dest, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if listed, _, err := copyDB.GoodsCounts(ctx); err != nil || listed != 2 {
		t.Errorf("backup holds %d goods: %v", listed, err)
	}
	copyDB.Close()

	// The file replaced under the running shop: not ready.
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("database file replaced: %v", err)
	}
}
