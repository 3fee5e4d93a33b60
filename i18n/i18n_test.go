package i18n_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cartera/i18n"
	"cartera/store"
)

func mustBundle(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCatalogs_SameKeys fails when a key exists in one language but not in
// another, so no user ever sees a raw key.
func TestCatalogs_SameKeys(t *testing.T) {
	b := mustBundle(t)
	all := map[string]bool{}
	for _, l := range i18n.Languages {
		for _, k := range b.Keys(l) {
			all[k] = true
		}
	}
	if len(all) < 50 {
		t.Fatalf("only %d keys loaded", len(all))
	}
	for k := range all {
		for _, l := range i18n.Languages {
			if !b.Has(l, k) {
				t.Errorf("key %q missing in %s.toml", k, l)
			}
		}
	}
}

// keyLiteral matches quoted message keys in Go code and templates.
var keyLiteral = regexp.MustCompile(`"((?:action|audit|board|cap|common|company|duplicates|entity|error|field|flash|home|layout|leads|list|login|nav|opt|profile|records|roles|scope|search|section|settings|setup|tags|tasks|teams|timeline|tokens|trash|users|views)\.[a-z0-9_.]+)"`)

// TestCatalogs_UsedKeysExist scans the Go sources and templates for quoted
// message keys and fails for any key that is not in the catalogs.
func TestCatalogs_UsedKeysExist(t *testing.T) {
	b := mustBundle(t)
	root := ".."
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "node_modules" || n == "vendor" || n == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html")) || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyLiteral.FindAllStringSubmatch(string(data), -1) {
			if strings.HasSuffix(m[1], ".js") || strings.HasSuffix(m[1], ".css") || strings.HasSuffix(m[1], ".") {
				continue // asset names and key prefixes, not keys
			}
			found++
			if !b.Has("en", m[1]) {
				t.Errorf("%s uses key %q, missing from the catalogs", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Fatalf("scanned only %d key uses; is the scan broken?", found)
	}
}

func TestTranslator_Formats(t *testing.T) {
	b := mustBundle(t)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	moment := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) // 00:30 next day in Madrid
	cases := []struct {
		lang, date, datetime, number, money string
	}{
		{"ca", "24/11/2026", "24/11/2026 00:30", "1.234.567,89", "1.234,50 EUR"},
		{"es", "24/11/2026", "24/11/2026 00:30", "1.234.567,89", "1.234,50 EUR"},
		{"en", "24 Nov 2026", "24 Nov 2026 00:30", "1,234,567.89", "1,234.50 EUR"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			tr := b.For(c.lang, madrid)
			if got := tr.Date(moment); got != c.date {
				t.Errorf("Date = %q, want %q", got, c.date)
			}
			if got := tr.DateTime(moment); got != c.datetime {
				t.Errorf("DateTime = %q, want %q", got, c.datetime)
			}
			if got := tr.Number(1234567.891, 2); got != c.number {
				t.Errorf("Number = %q, want %q", got, c.number)
			}
			if got := tr.Money(1234.5, "EUR"); got != c.money {
				t.Errorf("Money = %q, want %q", got, c.money)
			}
			if got := tr.T("home.welcome", "Name", "Laura"); !strings.Contains(got, "Laura") {
				t.Errorf("placeholder not filled: %q", got)
			}
			if got := tr.T("no.such.key"); got != "no.such.key" {
				t.Errorf("missing key = %q", got)
			}
		})
	}
}

// TestCatalogs_PolicyKeys checks the keys built at run time from the
// permission policy's names (entity.X, action.X, scope.X, cap.X, section.X).
func TestCatalogs_PolicyKeys(t *testing.T) {
	b := mustBundle(t)
	var keys []string
	for _, e := range store.Entities {
		keys = append(keys, "entity."+string(e))
	}
	for _, a := range store.Actions {
		keys = append(keys, "action."+string(a))
	}
	for _, s := range store.Scopes {
		if s == store.ScopeNone {
			keys = append(keys, "scope.none")
		} else {
			keys = append(keys, "scope."+string(s))
		}
	}
	for _, c := range store.Capabilities {
		keys = append(keys, "cap."+string(c))
	}
	for _, s := range store.Sections {
		keys = append(keys, "section."+string(s))
	}
	for _, e := range store.RecordEntities {
		d := store.Def(e)
		keys = append(keys, "records.new."+string(e), "field."+d.OwnerKey)
		for _, f := range d.Fields {
			keys = append(keys, "field."+f.Key)
		}
	}
	for _, pl := range store.PicklistNames() {
		for _, o := range store.Picklist(pl) {
			keys = append(keys, "opt."+pl+"."+o.Key)
		}
	}
	for _, k := range keys {
		for _, l := range i18n.Languages {
			if !b.Has(l, k) {
				t.Errorf("key %q missing in %s.toml", k, l)
			}
		}
	}
}
