package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"alishop/internal/jobs"
)

var _ jobs.Queue = (*DB)(nil)

// EnqueueJob schedules job (kind, ref) at runAt unless it already exists
// (done or not): a job is created once.
func (db *DB) EnqueueJob(ctx context.Context, kind, ref string, runAt, now time.Time) error {
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (kind, ref) DO NOTHING`, kind, ref, runAt.UnixMilli(), now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: enqueue %s job %s: %w", kind, ref, err)
	}
	return nil
}

// ScheduleOrderChecks gives every unpaid order that has no job one, due
// after its creation, or at its expiry plus grace if that is sooner. It
// returns how many it created.
func (db *DB) ScheduleOrderChecks(ctx context.Context, after, grace time.Duration, now time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at)
			SELECT 'order', o.out_trade_no, CASE WHEN o.time_expire IS NOT NULL AND o.time_expire + $3 < o.created_at + $1
				THEN o.time_expire + $3 ELSE o.created_at + $1 END, $2, $2 FROM orders o
			WHERE o.status = 'unpaid' AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'order' AND j.ref = o.out_trade_no)
			ON CONFLICT (kind, ref) DO NOTHING`, after.Milliseconds(), now.UnixMilli(), grace.Milliseconds())
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: schedule order checks: %w", err)
	}
	return int(n), nil
}

// CheckUnpaidNow makes the job of every order made before madeBefore, still
// unpaid and not expired, due now, whatever its age: what a shop does at
// start-up, since buyers may have paid while it was down. Orders without a
// job get one. It returns the number of orders made due.
func (db *DB) CheckUnpaidNow(ctx context.Context, now, madeBefore time.Time) (int, error) {
	t, before := now.UnixMilli(), madeBefore.UnixMilli()
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, ref, run_at, created_at, updated_at)
			SELECT 'order', out_trade_no, $1, $1, $1 FROM orders
			WHERE status = 'unpaid' AND created_at < $2 ON CONFLICT (kind, ref) DO NOTHING`, t, before); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET run_at = $1, done_at = NULL, updated_at = $1
			WHERE kind = 'order' AND run_at > $1 AND ref IN (SELECT out_trade_no FROM orders
				WHERE status = 'unpaid' AND created_at < $2 AND (time_expire IS NULL OR time_expire > $1))`, t, before)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: check unpaid now: %w", err)
	}
	return int(n), nil
}

// ClaimJob implements jobs.Queue: one UPDATE takes the lease of the most
// overdue job of kind ("" for any) that is due and not leased, so of two
// workers racing for it exactly one gets it (SQLite serialises writers; on
// PostgreSQL the WHERE is re-checked on the locked row, and the subquery
// skips rows another process is claiming, so it picks the next due job
// instead of waiting for them).
func (db *DB) ClaimJob(ctx context.Context, kind, token string, now time.Time, lease time.Duration) (*jobs.Job, error) {
	t := now.UnixMilli()
	var j jobs.Job
	var runAt int64
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
		WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
			AND ($4 = '' OR kind = $4) ORDER BY run_at, id LIMIT 1`+db.d.SkipLocked+`)
		AND done_at IS NULL AND run_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
		RETURNING id, kind, ref, run_at, attempts, last_error`, token, now.Add(lease).UnixMilli(), t, kind).
			Scan(&j.ID, &j.Kind, &j.Ref, &runAt, &j.Attempts, &j.LastErr)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim job: %w", err)
	}
	j.RunAt, j.Token = time.UnixMilli(runAt), token
	return &j, nil
}

// DueKinds implements jobs.Queue: a read on the readers' pool, never the
// writer's.
func (db *DB) DueKinds(ctx context.Context, now time.Time) ([]string, error) {
	return column[string](ctx, db, "due jobs", `SELECT DISTINCT kind FROM jobs
		WHERE done_at IS NULL AND run_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)`, now.UnixMilli())
}

// RenewJob implements jobs.Queue.
func (db *DB) RenewJob(ctx context.Context, id int64, token string, now time.Time, lease time.Duration) (bool, error) {
	n, err := db.exec(ctx, `UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND done_at IS NULL`,
		now.Add(lease).UnixMilli(), now.UnixMilli(), id, token)
	if err != nil {
		return false, fmt.Errorf("store: renew job %d: %w", id, err)
	}
	return n == 1, nil
}

// FinishJob implements jobs.Queue.
func (db *DB) FinishJob(ctx context.Context, id int64, token string, now time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE jobs SET done_at = $1, lease_owner = NULL, lease_until = NULL, last_error = '', updated_at = $1
		WHERE id = $2 AND lease_owner = $3`, now.UnixMilli(), id, token)
	if err != nil {
		return false, fmt.Errorf("store: finish job %d: %w", id, err)
	}
	return n == 1, nil
}

// RetryJob implements jobs.Queue.
func (db *DB) RetryJob(ctx context.Context, id int64, token string, runAt time.Time, lastErr string, now time.Time) (bool, error) {
	lastErr = clip(lastErr, maxErrorText)
	n, err := db.exec(ctx, `UPDATE jobs SET run_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2, updated_at = $3
		WHERE id = $4 AND lease_owner = $5`, runAt.UnixMilli(), lastErr, now.UnixMilli(), id, token)
	if err != nil {
		return false, fmt.Errorf("store: retry job %d: %w", id, err)
	}
	return n == 1, nil
}

// JobInfo is a job as stored, for the admin and tests.
type JobInfo struct {
	ID       int64
	Kind     string
	Ref      string
	RunAt    time.Time
	Attempts int
	LastErr  string
	Done     bool
}

// Jobs lists the jobs of a kind ("" for all) that are not done (or all
// with includeDone), soonest first.
func (db *DB) Jobs(ctx context.Context, kind string, includeDone bool) ([]JobInfo, error) {
	q := `SELECT id, kind, ref, run_at, attempts, last_error, done_at IS NOT NULL FROM jobs WHERE ($1 = '' OR kind = $1)`
	if !includeDone {
		q += " AND done_at IS NULL"
	}
	rows, err := db.r.QueryContext(ctx, q+" ORDER BY run_at, id", kind)
	if err != nil {
		return nil, fmt.Errorf("store: jobs: %w", err)
	}
	defer rows.Close()
	var out []JobInfo
	for rows.Next() {
		var j JobInfo
		var at int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.Ref, &at, &j.Attempts, &j.LastErr, &j.Done); err != nil {
			return nil, fmt.Errorf("store: jobs: %w", err)
		}
		j.RunAt = time.UnixMilli(at)
		out = append(out, j)
	}
	return out, rows.Err()
}

// PruneJobs deletes jobs finished before before; it returns how many. A
// finished job is never needed again: its order or refund is final, and a
// day's bill job is only scheduled while the day is recent.
func (db *DB) PruneJobs(ctx context.Context, before time.Time) (int, error) {
	n, err := db.exec(ctx, `DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < $1`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune jobs: %w", err)
	}
	return int(n), nil
}
