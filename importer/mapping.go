package importer

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"cartera/store"
)

// Target is a field a column can fill: a standard field ("email"), a
// custom one ("custom.birth_date"), or one of the import's own columns
// ("owner_email", "tags", "account_name").
type Target struct {
	Key string
	// Names are what a header may say for it: its key and its label in
	// every language; matching ignores case, accents and punctuation.
	Names []string
	Kind  store.Kind
	// List is the picklist of a select, for matching values by label.
	List string
}

// AccountName is the target of a column naming a record's client.
const AccountName = "account_name"

// Namer gives a standard field's and an option's labels in every
// language; the caller (which holds the catalogs) supplies it.
type Namer interface {
	FieldNames(e store.Entity, key string) []string
	OptionNames(list, key string) []string
}

// Catalog is the Namer of the server and the command line: labels from
// the message catalogs (InEvery gives a key's text in every language) and
// the firm's own names for its fields.
type Catalog struct {
	InEvery func(key string) []string
	Schema  *store.Schema
}

// FieldNames returns a field's labels in every language.
func (c Catalog) FieldNames(e store.Entity, key string) []string {
	k := "field." + key
	if e == store.EntTasks && key == "title" {
		k = "field.task_title"
	}
	out := c.InEvery(k)
	for _, l := range c.Schema.Setting(e, key).Labels {
		out = append(out, l)
	}
	return out
}

// OptionNames returns an option's labels in every language.
func (c Catalog) OptionNames(list, key string) []string { return c.InEvery("opt." + list + "." + key) }

// Targets lists the fields of a record type an import may fill.
func Targets(sc *store.Schema, e store.Entity, n Namer) []Target {
	d := sc.Def(e)
	var out []Target
	for _, f := range d.Fields {
		if f.ReadOnly || f.Hidden {
			continue
		}
		if f.Kind == store.KRef && f.Ref == store.EntAccounts {
			// Files name the client, not its id: the import finds the
			// client by name, or creates it ("contacts with their
			// companies").
			out = append(out, Target{Key: AccountName, Kind: store.KText,
				Names: append([]string{f.Key, AccountName, "company", "empresa", "companyia", "compañía", "organization", "organització", "organización"}, n.FieldNames(e, f.Key)...)})
			continue
		}
		out = append(out, Target{Key: f.Key, Kind: f.Kind, List: f.Picklist, Names: append([]string{f.Key}, n.FieldNames(e, f.Key)...)})
	}
	for _, c := range d.Custom {
		names := []string{c.Key}
		for _, l := range c.Labels {
			names = append(names, l)
		}
		out = append(out, Target{Key: "custom." + c.Key, Kind: c.Kind, List: c.OptionList(), Names: names})
	}
	out = append(out, Target{Key: "owner_email", Kind: store.KEmail, Names: append([]string{"owner_email", "owner"}, n.FieldNames(e, d.OwnerKey)...)})
	if d.Tagged {
		out = append(out, Target{Key: "tags", Kind: store.KText, Names: append([]string{"tags"}, n.FieldNames(e, "tags")...)})
	}
	return out
}

// Fold is the form names are compared in: lower case, no accents, only
// letters and digits.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(out) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// AutoMap proposes a target for each column whose header names one (by
// key or by label in any language); a target is used once, by the first
// column that names it. "" means the column is skipped.
func AutoMap(header []string, targets []Target) []string {
	byName := map[string]string{}
	for _, t := range targets {
		for _, n := range t.Names {
			if f := Fold(n); f != "" {
				if _, taken := byName[f]; !taken {
					byName[f] = t.Key
				}
			}
		}
	}
	used := map[string]bool{}
	out := make([]string, len(header))
	for i, h := range header {
		if k, ok := byName[Fold(h)]; ok && !used[k] {
			out[i] = k
			used[k] = true
		}
	}
	return out
}

// DateOrder says how to read an ambiguous date like 03/04/2024.
type DateOrder int

// The orders of day and month in a date.
const (
	DayFirst DateOrder = iota
	MonthFirst
)

// ParseDate reads YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY (or month
// first when asked), two-digit years, and Excel serial dates.
func ParseDate(s string, order DateOrder) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if len(s) >= 19 {
		for _, l := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
		}
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		// An Excel serial date: days since 1899-12-30.
		if n >= 1 && n < 2958466 {
			days := math.Floor(n)
			secs := math.Round((n - days) * 86400)
			return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), true
		}
		return time.Time{}, false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == ' ' })
	if len(parts) < 3 {
		return time.Time{}, false
	}
	nums := make([]int, 3)
	for i := 0; i < 3; i++ {
		v, err := strconv.Atoi(parts[i])
		if err != nil {
			return time.Time{}, false
		}
		nums[i] = v
	}
	d, m, y := nums[0], nums[1], nums[2]
	if len(parts[0]) == 4 { // 2024/03/04
		y, m, d = nums[0], nums[1], nums[2]
	} else if order == MonthFirst {
		d, m = m, d
	}
	if y < 100 {
		if y < 50 {
			y += 2000
		} else {
			y += 1900
		}
	}
	if y > 9999 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m || t.Year() != y {
		return time.Time{}, false
	}
	return t, true
}

// MatchOption finds the option a cell means: its key, or its label in any
// language; "" when none matches.
func MatchOption(cell string, options []store.Option, list string, n Namer) string {
	f := Fold(cell)
	if f == "" {
		return ""
	}
	for _, o := range options {
		if Fold(o.Key) == f {
			return o.Key
		}
		for _, l := range o.Labels {
			if Fold(l) == f {
				return o.Key
			}
		}
		for _, l := range n.OptionNames(list, o.Key) {
			if Fold(l) == f {
				return o.Key
			}
		}
	}
	return ""
}
