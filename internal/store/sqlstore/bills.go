package sqlstore

import (
	"context"
	"fmt"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// SaveBillCheck replaces the result of the check of c.BillDate.
func (db *DB) SaveBillCheck(ctx context.Context, c shop.BillCheck, ms []shop.BillMismatch) error {
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM bill_mismatches WHERE bill_date = $1", c.BillDate); err != nil {
			return err
		}
		for _, m := range ms {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bill_mismatches (bill_date, kind, out_trade_no, out_request_no, bill_fen, local_fen, detail, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.BillDate, m.Kind, m.OutTradeNo, m.OutRequestNo,
				int64(m.BillAmount), int64(m.LocalAmount), m.Detail, c.CheckedAt.UnixMilli()); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO bill_checks (bill_date, checked_at, bill_rows, mismatches, detail) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (bill_date) DO UPDATE SET checked_at = excluded.checked_at, bill_rows = excluded.bill_rows,
			mismatches = excluded.mismatches, detail = excluded.detail`,
			c.BillDate, c.CheckedAt.UnixMilli(), c.Rows, len(ms), c.Detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save bill check: %w", err)
	}
	return nil
}

// BillChecks lists the latest checks, newest day first.
func (db *DB) BillChecks(ctx context.Context, limit int) ([]shop.BillCheck, error) {
	if limit <= 0 || limit > 1000 {
		limit = 60
	}
	rows, err := db.r.QueryContext(ctx, `SELECT bill_date, checked_at, bill_rows, mismatches, detail FROM bill_checks ORDER BY bill_date DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: bill checks: %w", err)
	}
	defer rows.Close()
	var out []shop.BillCheck
	for rows.Next() {
		var c shop.BillCheck
		var at int64
		if err := rows.Scan(&c.BillDate, &at, &c.Rows, &c.Mismatches, &c.Detail); err != nil {
			return nil, fmt.Errorf("store: bill checks: %w", err)
		}
		c.CheckedAt = time.UnixMilli(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// BillMismatches lists the mismatches of a day ("" for every day, newest
// first, at most 1000).
func (db *DB) BillMismatches(ctx context.Context, date string) ([]shop.BillMismatch, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT bill_date, kind, out_trade_no, out_request_no, COALESCE(bill_fen, 0), COALESCE(local_fen, 0), detail, created_at
		FROM bill_mismatches WHERE ($1 = '' OR bill_date = $1) ORDER BY bill_date DESC, id LIMIT 1000`, date)
	if err != nil {
		return nil, fmt.Errorf("store: bill mismatches: %w", err)
	}
	defer rows.Close()
	var out []shop.BillMismatch
	for rows.Next() {
		var m shop.BillMismatch
		var bill, local, at int64
		if err := rows.Scan(&m.BillDate, &m.Kind, &m.OutTradeNo, &m.OutRequestNo, &bill, &local, &m.Detail, &at); err != nil {
			return nil, fmt.Errorf("store: bill mismatches: %w", err)
		}
		m.BillAmount, m.LocalAmount, m.CreatedAt = alipay.Amount(bill), alipay.Amount(local), time.UnixMilli(at)
		out = append(out, m)
	}
	return out, rows.Err()
}
