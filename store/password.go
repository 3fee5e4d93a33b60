package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits in characters (not bytes): any Unicode is allowed.
const (
	PasswordMin = 8
	PasswordMax = 256
)

// validatePassword returns the i18n key of the problem with a password, or "".
func validatePassword(pw string) string {
	if !utf8.ValidString(pw) {
		return "error.password_invalid"
	}
	n := utf8.RuneCountInString(pw)
	if n < PasswordMin {
		return "error.password_short"
	}
	if n > PasswordMax {
		return "error.password_long"
	}
	return ""
}

// hashPassword derives an argon2id hash in PHC string form, so the
// parameters travel with the hash and can be raised later.
func (s *Store) hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	m, t := s.opts.PasswordMemoryKiB, s.opts.PasswordTime
	key := argon2.IDKey([]byte(pw), salt, t, m, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=1$%s$%s", argon2.Version, m, t, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword verifies pw against a PHC argon2id hash in constant time.
func checkPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
