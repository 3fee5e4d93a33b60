// Package i18n translates message keys into Catalan, Spanish and English and
// formats dates and numbers per language, for pages, errors and e-mails.
package i18n

import (
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"cartera/assets"
)

// Languages are the supported languages in menu order.
var Languages = []string{"ca", "es", "en"}

// LanguageNames are each language's own name, for the language switcher.
var LanguageNames = map[string]string{"ca": "Català", "es": "Español", "en": "English"}

// Bundle holds the loaded catalogs; it is safe for concurrent use.
type Bundle struct {
	b    *goi18n.Bundle
	keys map[string]map[string]bool
	locs map[string]*goi18n.Localizer
}

// Load reads the embedded catalogs assets/i18n/{ca,es,en}.toml.
func Load() (*Bundle, error) {
	return LoadFS(assets.FS, "i18n")
}

// LoadFS reads the catalogs from dir in fsys; tests use it on fixtures.
func LoadFS(fsys fs.FS, dir string) (*Bundle, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	bd := &Bundle{b: b, keys: map[string]map[string]bool{}, locs: map[string]*goi18n.Localizer{}}
	for _, lang := range Languages {
		// Each language is LANG.toml plus any AREA.LANG.toml, so an area
		// (web forms, settings…) keeps its strings beside the others.
		paths, err := fs.Glob(fsys, dir+"/*."+lang+".toml")
		if err != nil {
			return nil, err
		}
		paths = append([]string{dir + "/" + lang + ".toml"}, paths...)
		bd.keys[lang] = map[string]bool{}
		for _, path := range paths {
			data, err := fs.ReadFile(fsys, path)
			if err != nil {
				return nil, err
			}
			var flat map[string]any
			if err := toml.Unmarshal(data, &flat); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", path, err)
			}
			for k, v := range flat {
				if _, ok := v.(string); !ok {
					return nil, fmt.Errorf("i18n: %s: key %q must be a quoted dotted key with a string value", path, k)
				}
				if bd.keys[lang][k] {
					return nil, fmt.Errorf("i18n: %s: key %q is defined twice", path, k)
				}
				bd.keys[lang][k] = true
			}
			base := path[strings.LastIndex(path, "/")+1:]
			if _, err := b.ParseMessageFileBytes(data, base); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", path, err)
			}
		}
		bd.locs[lang] = goi18n.NewLocalizer(b, lang, "en")
	}
	return bd, nil
}

// Keys returns the sorted message keys of one language, for the test that
// every key exists in every language.
func (b *Bundle) Keys(lang string) []string {
	var out []string
	for k := range b.keys[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// InEvery returns a key's text in every language that has it, so an
// import can recognise a column named in any of them.
func (b *Bundle) InEvery(key string) []string {
	var out []string
	for _, l := range Languages {
		if b.Has(l, key) {
			out = append(out, b.For(l, nil).T(key))
		}
	}
	return out
}

// Has reports whether a key exists in a language.
func (b *Bundle) Has(lang, key string) bool { return b.keys[lang][key] }

// For returns a translator for a language (falling back to Catalan's
// neighbour English for unknown ones) and a time zone for dates.
func (b *Bundle) For(lang string, loc *time.Location) *Translator {
	l, ok := b.locs[lang]
	if !ok {
		lang = "en"
		l = b.locs["en"]
	}
	if loc == nil {
		loc = time.UTC
	}
	tag := language.MustParse(lang)
	return &Translator{b: b, lang: lang, loc: l, tz: loc, printer: message.NewPrinter(tag)}
}

// Translator renders messages, dates and numbers for one person.
type Translator struct {
	b       *Bundle
	lang    string
	loc     *goi18n.Localizer
	tz      *time.Location
	printer *message.Printer
}

// Lang is the translator's language code.
func (t *Translator) Lang() string { return t.lang }

// Has reports whether the translator's language has a key, so a label the
// firm named itself can fall back to the catalog only when one exists.
func (t *Translator) Has(key string) bool { return t.b.Has(t.lang, key) }

// Location is the time zone dates are shown in.
func (t *Translator) Location() *time.Location { return t.tz }

// T translates key; args are name/value pairs for {{.Name}} placeholders.
// A missing key is logged and shown as the key, never as an empty string.
func (t *Translator) T(key string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := t.loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		slog.Warn("missing translation", "lang", t.lang, "key", key)
		return key
	}
	return s
}

// Date formats a date in the translator's zone: 23/11/2026 in ca/es,
// 23 Nov 2026 in en.
func (t *Translator) Date(v time.Time) string {
	if v.IsZero() {
		return ""
	}
	v = v.In(t.tz)
	if t.lang == "en" {
		return v.Format("2 Jan 2006")
	}
	return v.Format("02/01/2006")
}

// DateTime formats a moment in the translator's zone with hours and minutes.
func (t *Translator) DateTime(v time.Time) string {
	if v.IsZero() {
		return ""
	}
	return t.Date(v) + " " + v.In(t.tz).Format("15:04")
}

// Number formats a number with the language's separators and decimals.
func (t *Translator) Number(v float64, decimals int) string {
	return t.printer.Sprintf("%.*f", decimals, v)
}

// Int formats an integer with the language's thousands separator.
func (t *Translator) Int(v int64) string { return t.printer.Sprintf("%d", v) }

// Money formats an amount with its currency code after it (1.234,50 EUR).
func (t *Translator) Money(v float64, currency string) string {
	return strings.TrimSpace(t.Number(v, 2) + " " + currency)
}
