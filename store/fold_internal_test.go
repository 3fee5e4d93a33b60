package store

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// slowFold is foldKey without the ASCII shortcut.
func slowFold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Join(strings.Fields(strings.ToLower(strings.TrimSpace(out))), " ")
}

// FuzzFoldKey: the ASCII shortcut folds exactly like the full Unicode path.
func FuzzFoldKey(f *testing.F) {
	for _, s := range []string{"García", "  Empresa   ABC ", "laura@example.com", "B12345678", "Núñez Puig", "l·l", "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := foldKey(s), slowFold(s); got != want {
			t.Fatalf("foldKey(%q) = %q, want %q", s, got, want)
		}
	})
}
