package web

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PasswordSetting is the settings key of the admin password hash.
const PasswordSetting = "admin_password_hash"

// AdminUser is the admin's user name.
const AdminUser = "admin"

// PasswordIterations is the PBKDF2-HMAC-SHA256 work factor of the hashes
// alishop makes (OWASP's Password Storage Cheat Sheet, 2023: 600,000).
const PasswordIterations = 600_000

// The iteration counts a stored hash may have. NIST SP 800-132 (5.2) asks
// for at least 1,000; the most bounds the work one login attempt costs.
const (
	MinHashIterations = 1_000
	MaxHashIterations = 10_000_000
)

// HashPassword hashes a password with PBKDF2-HMAC-SHA256 and a random salt,
// as "pbkdf2-sha256$iterations$salt$hash" (base64, no padding).
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, PasswordIterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", PasswordIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// passwordHash is a stored password: "pbkdf2-sha256$iterations$salt$key".
type passwordHash struct {
	iterations int
	salt, key  []byte
}

// parsePasswordHash reads a stored password. The salt and the key are 16
// to 64 bytes (NIST SP 800-132: a salt of at least 128 bits).
func parsePasswordHash(s string) (passwordHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return passwordHash{}, errors.New("unknown password hash format: want pbkdf2-sha256$ITERATIONS$SALT$KEY")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < MinHashIterations || iter > MaxHashIterations {
		return passwordHash{}, fmt.Errorf("password hash iterations %.20q: want %d to %d", parts[1], MinHashIterations, MaxHashIterations)
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 16 || len(salt) > 64 || len(key) < 16 || len(key) > 64 {
		return passwordHash{}, errors.New("password hash salt and key: want 16 to 64 bytes each, in base64 without padding")
	}
	return passwordHash{iterations: iter, salt: salt, key: key}, nil
}

// CheckPasswordHash checks a stored form given by the operator (serve
// --admin-password-hash) and returns its iteration count.
func CheckPasswordHash(hash string) (iterations int, err error) {
	h, err := parsePasswordHash(hash)
	return h.iterations, err
}

// CheckPassword reports whether password matches a stored hash, with the
// hash's own iteration count.
func CheckPassword(hash, password string) (bool, error) {
	h, err := parsePasswordHash(hash)
	if err != nil {
		return false, fmt.Errorf("web: %w", err)
	}
	got, err := pbkdf2.Key(sha256.New, password, h.salt, h.iterations, len(h.key))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// MinPasswordLength is the shortest admin password accepted, in characters.
const MinPasswordLength = 12

// CheckNewPassword refuses a password too short to set.
func CheckNewPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return fmt.Errorf("the admin password must be at least %d characters (got %d)", MinPasswordLength, n)
	}
	return nil
}

// NewPassword returns a random password of 20 characters.
func NewPassword() string {
	return rand.Text()[:20]
}

// NewToken returns a random session token (256 bits).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// PasswordStore keeps the admin password hash.
type PasswordStore interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	AddSettingIfMissing(ctx context.Context, key, value string) (bool, error)
	DeleteAllSessions(ctx context.Context) error
}

// SetAdminPassword sets the admin password and ends every admin session,
// whether or not the password changed: what an operator who suspects a
// stolen session or password asks for (alishop passwd).
func SetAdminPassword(ctx context.Context, st PasswordStore, password string) error {
	if err := CheckNewPassword(password); err != nil {
		return err
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := st.SetSetting(ctx, PasswordSetting, h); err != nil {
		return err
	}
	return st.DeleteAllSessions(ctx)
}

// EnsureAdminPasswordHash sets the admin password at start-up to hash, a
// stored form (CheckPasswordHash), replacing any other stored one and then
// ending every session; a restart with the same hash keeps them.
func EnsureAdminPasswordHash(ctx context.Context, st PasswordStore, hash string) error {
	if _, err := CheckPasswordHash(hash); err != nil {
		return err
	}
	if old, err := st.Setting(ctx, PasswordSetting); err == nil && old == hash {
		return nil
	}
	if err := st.SetSetting(ctx, PasswordSetting, hash); err != nil {
		return err
	}
	return st.DeleteAllSessions(ctx)
}

// EnsureAdminPassword sets the admin password at start-up: to password when
// it is not empty (replacing any stored one, ending sessions if it changed;
// a restart with the same password keeps them), otherwise to a new random
// one if none is stored yet. It returns the generated password, to be shown
// once, or "".
func EnsureAdminPassword(ctx context.Context, st PasswordStore, password string) (generated string, err error) {
	if password != "" {
		if old, err := st.Setting(ctx, PasswordSetting); err == nil {
			if ok, _ := CheckPassword(old, password); ok {
				return "", nil
			}
		}
		return "", SetAdminPassword(ctx, st, password)
	}
	if _, err := st.Setting(ctx, PasswordSetting); err == nil {
		return "", nil
	}
	p := NewPassword()
	h, err := HashPassword(p)
	if err != nil {
		return "", err
	}
	added, err := st.AddSettingIfMissing(ctx, PasswordSetting, h)
	if err != nil || !added {
		return "", err
	}
	return p, nil
}
