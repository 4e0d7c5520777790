package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// PruneInbound deletes stored inbound messages: unverified ones received
// before unverifiedBefore, verified ones last seen before verifiedBefore
// (zero times keep them), and the oldest unverified ones beyond the newest
// maxUnverified (0: no cap). It returns how many rows it deleted.
func (db *DB) PruneInbound(ctx context.Context, unverifiedBefore, verifiedBefore time.Time, maxUnverified int) (int64, error) {
	type del struct {
		q   string
		arg any
	}
	var dels []del
	if maxUnverified > 0 {
		dels = append(dels, del{`DELETE FROM notifications WHERE NOT verified AND id <= (SELECT id FROM notifications WHERE NOT verified
			ORDER BY id DESC LIMIT 1 OFFSET $1)`, maxUnverified})
	}
	if !unverifiedBefore.IsZero() {
		dels = append(dels, del{`DELETE FROM notifications WHERE NOT verified AND received_at < $1`, unverifiedBefore.UnixMilli()})
	}
	if !verifiedBefore.IsZero() {
		dels = append(dels, del{`DELETE FROM notifications WHERE verified AND COALESCE(
			(SELECT r.last_seen_at FROM message_repeats r WHERE r.body_hash = notifications.body_hash), last_seen_at, received_at) < $1`,
			verifiedBefore.UnixMilli()})
	}
	var total int64
	err := db.write(ctx, func(ctx context.Context, tx *Tx) error {
		total = 0
		for _, d := range dels {
			res, err := tx.ExecContext(ctx, d.q, d.arg)
			if err != nil {
				return fmt.Errorf("store: prune messages: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		if !verifiedBefore.IsZero() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM message_repeats
				WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.body_hash = message_repeats.body_hash)`); err != nil {
				return fmt.Errorf("store: prune message counts: %w", err)
			}
		}
		return nil
	})
	return total, err
}

// Notification is a stored inbound message, for the admin and tests.
type Notification struct {
	ID          int64
	Source      string
	ReceivedAt  time.Time
	TimesSeen   int64     // how often this (verified) message arrived
	LastSeenAt  time.Time // when it last arrived
	RemoteAddr  string
	Method      string
	Body        []byte
	API         alipay.API  // an answer's protocol, "" for notifications and returns
	StatusCode  int         // an answer's HTTP status, 0 when none is stored
	Header      http.Header // an answer's signature headers (shop.AnswerHeader), nil when none
	Verified    bool
	NotifyID    string
	OutTradeNo  string
	TradeStatus string
	Outcome     shop.Outcome
	Detail      string
	// SettledRefund is the out_request_no of the refund this message
	// settled (Decision.SettleRefund), "" when it settled none.
	SettledRefund string
}

// Notifications lists stored messages, oldest first, after id afterID.
func (db *DB) Notifications(ctx context.Context, afterID int64, limit int) ([]Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, `SELECT n.id, n.source, n.received_at, n.remote_addr, n.method, n.body, n.verified,
		n.notify_id, n.out_trade_no, n.trade_status, n.outcome, n.detail, n.times_seen + COALESCE(r.times_seen, 0),
		COALESCE(r.last_seen_at, n.last_seen_at, n.received_at), n.api, n.http_status, n.headers, n.settled_refund
		FROM notifications n LEFT JOIN message_repeats r ON r.body_hash = n.body_hash
		WHERE n.id > $1 ORDER BY n.id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var at, last int64
		var nid, otn, ts, api, headers, settled sql.NullString
		var status sql.NullInt64
		var outcome string
		if err := rows.Scan(&n.ID, &n.Source, &at, &n.RemoteAddr, &n.Method, &n.Body, &n.Verified, &nid, &otn, &ts, &outcome, &n.Detail,
			&n.TimesSeen, &last, &api, &status, &headers, &settled); err != nil {
			return nil, fmt.Errorf("store: notifications: %w", err)
		}
		h, err := ParseHeaderText(headers.String)
		if err != nil {
			return nil, fmt.Errorf("store: notification %d: %w", n.ID, err)
		}
		n.API, n.StatusCode, n.Header, n.SettledRefund = alipay.API(api.String), int(status.Int64), h, settled.String
		n.LastSeenAt = time.UnixMilli(last)
		n.ReceivedAt, n.NotifyID, n.OutTradeNo, n.TradeStatus, n.Outcome = time.UnixMilli(at), nid.String, otn.String, ts.String, shop.Outcome(outcome)
		out = append(out, n)
	}
	return out, rows.Err()
}

// ParseHeaderText reads headers written by HeaderText; nil for "". A line
// without ": " is an error.
func ParseHeaderText(s string) (http.Header, error) {
	if s == "" {
		return nil, nil
	}
	h := http.Header{}
	for line := range strings.Lines(s) {
		name, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
		if !ok || name == "" {
			return nil, fmt.Errorf("store: header line %q has no \": \"", line)
		}
		h.Add(name, v)
	}
	return h, nil
}
