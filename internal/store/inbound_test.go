package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

func receive(t *testing.T, db *store.DB, m shop.Inbound) {
	t.Helper()
	if _, err := db.Receive(context.Background(), &m, func(*shop.Order, *shop.Refund) shop.Decision {
		return shop.Decision{Outcome: shop.OutcomeIgnored, Ack: m.Verified}
	}); err != nil {
		t.Fatal(err)
	}
}

// An identical verified message is stored once and counted; unverified
// messages are never merged; pruning removes old unverified rows, verified
// rows past their retention, and unverified rows beyond the cap.
func TestInboundStoredOnceAndPruned(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		genuine := shop.Inbound{Source: shop.SourceNotify, ReceivedAt: t0, Method: "POST", Body: []byte("notify_id=1&sign=x"), Verified: true, NotifyID: "1"}
		for i := range 5 {
			m := genuine
			m.ReceivedAt = t0.Add(time.Duration(i) * time.Minute)
			receive(t, db, m)
		}
		// The same bytes as a return are another message.
		ret := genuine
		ret.Source = shop.SourceReturn
		receive(t, db, ret)
		forged := shop.Inbound{Source: shop.SourceNotify, ReceivedAt: t0, Method: "POST", Body: []byte("notify_id=1&sign=x")}
		receive(t, db, forged)
		receive(t, db, forged)

		ns, err := db.Notifications(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 4 {
			t.Fatalf("%d rows, want 4 (one genuine notify counted 5 times, one return, two forged): %+v", len(ns), ns)
		}
		if ns[0].TimesSeen != 5 || !ns[0].LastSeenAt.Equal(t0.Add(4*time.Minute)) || !ns[0].ReceivedAt.Equal(t0) {
			t.Fatalf("genuine row: seen %d, first %v, last %v", ns[0].TimesSeen, ns[0].ReceivedAt, ns[0].LastSeenAt)
		}
		if ns[2].TimesSeen != 1 || ns[3].TimesSeen != 1 || ns[2].Verified {
			t.Fatalf("forged rows: %+v", ns[2:])
		}

		// Retention: unverified received before the cut go; verified rows
		// go by when they were last seen.
		n, err := db.PruneInbound(ctx, t0.Add(time.Second), t0.Add(2*time.Minute), 0)
		if err != nil {
			t.Fatal(err)
		}
		if ns, _ = db.Notifications(ctx, 0, 100); n != 3 || len(ns) != 1 || ns[0].TimesSeen != 5 {
			t.Fatalf("pruned %d, left %+v; want the genuine notification (last seen after the cut) only", n, ns)
		}
		if n, err := db.PruneInbound(ctx, time.Time{}, t0.Add(time.Hour), 0); err != nil || n != 1 {
			t.Fatalf("verified past retention: pruned %d, %v", n, err)
		}
	})
}

func TestInboundUnverifiedCap(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		for i := range 25 {
			receive(t, db, shop.Inbound{Source: shop.SourceNotify, ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond), Method: "POST", Body: []byte("x")})
		}
		receive(t, db, shop.Inbound{Source: shop.SourceNotify, ReceivedAt: t0, Method: "POST", Body: []byte("ok"), Verified: true})
		n, err := db.PruneInbound(ctx, time.Time{}, time.Time{}, 20)
		if err != nil || n != 5 {
			t.Fatalf("pruned %d (%v), want the 5 oldest unverified rows", n, err)
		}
		ns, err := db.Notifications(ctx, 0, 1)
		if err != nil || len(ns) != 1 || !ns[0].ReceivedAt.Equal(t0.Add(5*time.Millisecond)) {
			t.Fatalf("oldest row left: %+v %v", ns, err)
		}
	})
}

// The SQLite files are 0600 whatever the umask, and an existing file is
// made 0600.
func TestSQLiteFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	goods(t, db, "x", 1, false) // a write: the WAL exists
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(name), fi.Mode().Perm())
		}
	}
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("reopened 0644 file: mode %v %v, want 0600", fi.Mode().Perm(), err)
	}
}
