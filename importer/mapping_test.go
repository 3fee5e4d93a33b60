package importer_test

import (
	"testing"
	"time"

	"cartera/importer"
	"cartera/store"
)

// namer gives catalog names as the ui's catalogs would.
type namer map[string][]string

func (n namer) FieldNames(e store.Entity, key string) []string { return n[key] }
func (n namer) OptionNames(list, key string) []string          { return n[list+"."+key] }

var catalog = namer{
	"first_name": {"Nom", "Nombre", "First name"},
	"last_name":  {"Cognoms", "Apellidos", "Last name"},
	"email":      {"Correu electrònic", "Correo electrónico", "E-mail"},
	"phone":      {"Telèfon", "Teléfono", "Phone"},
}

// TestImporter_AutoMap maps seed 000's headers without help, custom
// fields included.
func TestImporter_AutoMap(t *testing.T) {
	s := mustSchema(t)
	targets := importer.Targets(s, store.EntContacts, catalog)
	header := []string{"Nom", "Cognoms", "Correu electrònic", "Telèfon", "Data de naixement", "Preferències de contacte", "Color preferit", "EMAIL"}
	got := importer.AutoMap(header, targets)
	want := []string{"first_name", "last_name", "email", "phone", "custom.birth_date", "custom.contact_preference", "", ""}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %q → %q, want %q", header[i], got[i], want[i])
		}
	}
	t.Run("options by label in any language", func(t *testing.T) {
		c, _ := s.CustomField(store.EntContacts, "contact_preference")
		for cell, want := range map[string]string{"Correu electrònic": "email", "TELEFONO": "phone", "phone": "phone", "carta": ""} {
			if got := importer.MatchOption(cell, c.Options, c.OptionList(), catalog); got != want {
				t.Errorf("%q → %q, want %q", cell, got, want)
			}
		}
	})
}

// TestImporter_ParseDate reads the date forms of spreadsheets.
func TestImporter_ParseDate(t *testing.T) {
	for _, c := range []struct {
		in    string
		order importer.DateOrder
		want  string
	}{
		{"1980-01-01", importer.DayFirst, "1980-01-01"},
		{"15/05/1990", importer.DayFirst, "1990-05-15"},
		{"05/15/1990", importer.MonthFirst, "1990-05-15"},
		{"03-04-2024", importer.DayFirst, "2024-04-03"},
		{"3.4.24", importer.DayFirst, "2024-04-03"},
		{"29221", importer.DayFirst, "1980-01-01"},
		{"31/02/2024", importer.DayFirst, ""},
		{"demà", importer.DayFirst, ""},
	} {
		got, ok := importer.ParseDate(c.in, c.order)
		s := ""
		if ok {
			s = got.Format(time.DateOnly)
		}
		if s != c.want {
			t.Errorf("%q → %q, want %q", c.in, s, c.want)
		}
	}
}
