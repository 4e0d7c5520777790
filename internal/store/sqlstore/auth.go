package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"alishop/internal/shop"
)

// ErrNoSetting is returned by Setting for a key that was never set; it is
// shop.ErrNoSetting, so callers above storage can recognise it.
var ErrNoSetting = shop.ErrNoSetting

// Setting returns a stored setting.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = $1", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNoSetting
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a setting, replacing any value.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := db.exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// AddSettingIfMissing stores a setting unless it exists, and reports
// whether it stored it.
func (db *DB) AddSettingIfMissing(ctx context.Context, key, value string) (bool, error) {
	n, err := db.exec(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, value)
	if err != nil {
		return false, fmt.Errorf("store: add setting %s: %w", key, err)
	}
	return n == 1, nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateSession stores a session for token (only its hash is kept) and
// deletes expired ones.
func (db *DB) CreateSession(ctx context.Context, token string, ttl time.Duration) error {
	now := db.now()
	return db.write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < $1", now.UnixMilli()); err != nil {
			return fmt.Errorf("store: expire sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO sessions (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
			tokenHash(token), now.UnixMilli(), now.Add(ttl).UnixMilli()); err != nil {
			return fmt.Errorf("store: create session: %w", err)
		}
		return nil
	})
}

// ValidSession reports whether token names a live session.
func (db *DB) ValidSession(ctx context.Context, token string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM sessions WHERE token_hash = $1 AND expires_at >= $2",
		tokenHash(token), db.now().UnixMilli()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: session: %w", err)
	}
	return n > 0, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := db.exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", tokenHash(token))
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteAllSessions ends every session (after a password change).
func (db *DB) DeleteAllSessions(ctx context.Context) error {
	_, err := db.exec(ctx, "DELETE FROM sessions")
	if err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}
