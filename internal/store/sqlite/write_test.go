package sqlite

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"alishop/internal/store/sqlstore"
)

// cancelCaller is called by the SQL function cancel_caller(), which a test
// statement runs while it executes: it ends the context of the job's
// caller in the middle of that job's statement.
var (
	cancelCallerMu sync.Mutex
	cancelCaller   func()
)

func init() {
	sqlite.MustRegisterScalarFunction("cancel_caller", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		cancelCallerMu.Lock()
		f := cancelCaller
		cancelCallerMu.Unlock()
		if f != nil {
			f()
			// Give the driver's watcher of a cancelled context time to
			// interrupt the statement, if it is watching this context.
			time.Sleep(50 * time.Millisecond)
		}
		return int64(1), nil
	})
}

// A batch of [ok, cancelled, ok], run directly: the middle job's caller
// goes away while its statement runs. The other two jobs are committed and
// told so, and the middle job's result matches what was stored.
func TestBatchSurvivesCancelledCaller(t *testing.T) {
	t.Parallel()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "shop.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bg := context.Background()
	caller, cancel := context.WithCancel(bg)
	defer cancel()
	cancelCallerMu.Lock()
	cancelCaller = cancel
	cancelCallerMu.Unlock()
	defer func() { cancelCallerMu.Lock(); cancelCaller = nil; cancelCallerMu.Unlock() }()

	insert := func(name string) func(ctx context.Context, tx *sqlstore.Tx) error {
		return func(ctx context.Context, tx *sqlstore.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO goods (name, price_fen, created_at, updated_at) VALUES ($1, 1, 0, 0)`, name)
			return err
		}
	}
	// The middle job runs its statement on its caller's context instead of
	// the one it is given (as a careless job would). The statement calls
	// cancel_caller() first and then has a few thousand steps left, where
	// the interrupt lands.
	slow := func(_ context.Context, tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(caller, `INSERT INTO goods (name, price_fen, created_at, updated_at)
			SELECT 'b', 1, 0, 0 FROM (WITH RECURSIVE c(x) AS (SELECT cancel_caller() UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
			SELECT max(x) FROM c)`)
		return err
	}
	batch := []*writeJob{
		{fn: insert("a"), done: make(chan error, 1)},
		{fn: slow, done: make(chan error, 1)},
		{fn: insert("c"), done: make(chan error, 1)},
	}
	db.wr.runBatch(batch)
	errs := []error{<-batch[0].done, <-batch[1].done, <-batch[2].done}
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("the jobs around the cancelled one failed: %v", errs)
	}
	stored := map[string]bool{}
	rows, err := db.r.QueryContext(bg, "SELECT name FROM goods")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		rows.Scan(&n)
		stored[n] = true
	}
	if !stored["a"] || !stored["c"] {
		t.Fatalf("stored %v; want a and c (results %v)", stored, errs)
	}
	if stored["b"] != (errs[1] == nil) {
		t.Fatalf("the cancelled job reported %v but stored=%v", errs[1], stored["b"])
	}
}
