package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"

	"alishop/internal/shop"
)

// bodyHash identifies a verified message (the body_hash column): a SHA-256
// of its source and its Key (what its signature covers), or of its exact
// body when it has no Key. An unverified one gets NULL, so it is never
// merged with another.
func bodyHash(m *shop.Inbound) sql.NullString {
	if !m.Verified {
		return sql.NullString{}
	}
	h := sha256.New()
	h.Write([]byte(m.Source))
	if m.Key != nil {
		h.Write([]byte{1})
		h.Write(m.Key)
	} else {
		h.Write([]byte{0})
		h.Write(m.Body)
	}
	return sql.NullString{String: hex.EncodeToString(h.Sum(nil)), Valid: true}
}

// overCap reports whether the verified message m (body_hash hash) about an
// order, whose decision d changes nothing, is only to be counted: it is not
// stored yet and its order has as many kept messages as shop.KeepMessage
// allows.
func overCap(ctx context.Context, tx *sql.Tx, m *shop.Inbound, hash string, d shop.Decision) (bool, error) {
	var kept int
	var stored bool
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM notifications WHERE out_trade_no = $1 AND verified),
		EXISTS (SELECT 1 FROM notifications WHERE body_hash = $2)`, m.OutTradeNo, hash).Scan(&kept, &stored)
	if err != nil {
		return false, fmt.Errorf("store: count messages of order %s: %w", m.OutTradeNo, err)
	}
	return !stored && !shop.KeepMessage(d, kept), nil
}

// overCapHash is the body_hash of the one row that counts the verified
// messages of m's source and order beyond the cap (times_seen).
func overCapHash(m *shop.Inbound) string { return "over-cap " + m.Source + " " + m.OutTradeNo }

// overCapDetail is the detail of that row, written by the first message
// it counts.
func overCapDetail(m *shop.Inbound, d shop.Decision) string {
	s := fmt.Sprintf("verified %s messages of this order beyond the %d kept are counted here (times seen), not stored; the first was %s",
		m.Source, shop.MaxMessagesPerOrder, d.Outcome)
	if d.Detail != "" {
		s += ": " + clip(d.Detail, maxErrorText)
	}
	return s
}
