package shoptest

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
)

// PasswordHash is the stored form of an admin password as the shop keeps
// it ("pbkdf2-sha256$ITERATIONS$SALT$KEY"), made here from the format
// rather than by the code under test, with 1,000 iterations: the fewest
// the shop accepts. Logins against it run the same code as against the
// 600,000 iterations of a real hash, without the seconds each of those
// takes under the race detector.
func PasswordHash(password string) string {
	salt := []byte("alishop-test-salt")
	key, err := pbkdf2.Key(sha256.New, password, salt, 1000, 32)
	if err != nil {
		panic(err)
	}
	enc := base64.RawStdEncoding
	return "pbkdf2-sha256$1000$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
}
