package store

import (
	"database/sql/driver"
	"strings"
	"unicode"

	"modernc.org/sqlite"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldKey lowercases and strips accents ("García" → "garcia"), for sort keys
// and accent-insensitive prefix lookups that must agree with FTS5's
// remove_diacritics folding.
func foldKey(s string) string {
	out := s
	if !isASCII(s) {
		// ASCII has no accents to strip: most names, e-mails and codes
		// skip the Unicode normalisation, the costly part of a bulk load.
		t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		var err error
		if out, _, err = transform.String(t, s); err != nil {
			out = s
		}
	}
	out = strings.ToLower(strings.TrimSpace(out))
	// Collapse inner whitespace so "Empresa  ABC" and "Empresa ABC" match.
	return strings.Join(strings.Fields(out), " ")
}

// isASCII reports whether s holds only 7-bit characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// digitsOf keeps only the digits of a phone number; a Spanish +34 prefix
// is dropped so "+34 612 34 56 78" and "612345678" match.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && strings.HasPrefix(d, "34") {
		d = d[2:]
	} else if len(d) == 13 && strings.HasPrefix(d, "0034") {
		d = d[4:]
	}
	return d
}

// init registers cartera_fold(text) with SQLite so that migrations can fold
// keys exactly as foldKey does in Go. It is one of the few SQLite-specific
// pieces of the store.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("cartera_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return foldKey(v), nil
		case []byte:
			return foldKey(string(v)), nil
		case nil:
			return "", nil
		}
		return "", nil
	})
}
