package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// What operators need from the database: counts for metrics and the next
// scheduled job.

// JobCount is the number of background jobs of one kind in one state.
type JobCount struct {
	Kind  string // order, refund, bill
	State string // due, scheduled, running, done
	N     int
}

// JobCounts counts the background jobs by kind and state at now: running
// (leased), due (waiting for a worker), scheduled (due later) or done.
func (db *DB) JobCounts(ctx context.Context, now time.Time) ([]JobCount, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT kind, CASE
			WHEN done_at IS NOT NULL THEN 'done'
			WHEN lease_until IS NOT NULL AND lease_until > $1 THEN 'running'
			WHEN run_at <= $1 THEN 'due'
			ELSE 'scheduled' END AS state, COUNT(*)
		FROM jobs GROUP BY 1, 2`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: job counts: %w", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.N); err != nil {
			return nil, fmt.Errorf("store: job counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GoodsCounts counts the goods listed for sale and the hidden ones.
func (db *DB) GoodsCounts(ctx context.Context) (listed, hidden int, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN hidden THEN 0 ELSE 1 END), 0),
		COALESCE(SUM(CASE WHEN hidden THEN 1 ELSE 0 END), 0) FROM goods WHERE `+notPOSGoods).Scan(&listed, &hidden)
	if err != nil {
		return 0, 0, fmt.Errorf("store: goods counts: %w", err)
	}
	return listed, hidden, nil
}

// NextJob returns the ref and due time of the job of kind that is not done
// and due first; ok is false when there is none.
func (db *DB) NextJob(ctx context.Context, kind string) (ref string, runAt time.Time, ok bool, err error) {
	var at int64
	err = db.r.QueryRowContext(ctx, `SELECT ref, run_at FROM jobs WHERE kind = $1 AND done_at IS NULL
		ORDER BY run_at, id LIMIT 1`, kind).Scan(&ref, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("store: next %s job: %w", kind, err)
	}
	return ref, time.UnixMilli(at), true, nil
}
