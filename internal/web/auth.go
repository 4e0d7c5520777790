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

// passwordIterations is PBKDF2-HMAC-SHA256's work factor (OWASP 2023: 600,000).
const passwordIterations = 600_000

// HashPassword hashes a password with PBKDF2-HMAC-SHA256 and a random salt,
// as "pbkdf2-sha256$iterations$salt$hash" (base64, no padding).
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, passwordIterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", passwordIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword result.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false, errors.New("web: unknown password hash format")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return false, errors.New("web: bad password hash iterations")
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errors.New("web: bad password hash encoding")
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
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
