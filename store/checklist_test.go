package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"cartera/store"
)

// TestStore_Checklist follows seed 000's initial configuration: each step of
// the "Getting started" checklist ticks itself as the data appears.
func TestStore_Checklist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: path})
	admin := mustSetup(t, s)
	db := openRawDB(t, path)

	check := func(t *testing.T) *store.Checklist {
		t.Helper()
		c, err := s.Checklist(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wantDone := func(t *testing.T, c *store.Checklist, want ...string) {
		t.Helper()
		done := map[string]bool{}
		for _, k := range want {
			done[k] = true
		}
		for _, st := range c.Steps {
			if st.Done != done[st.Key] {
				t.Errorf("step %s done = %v, want %v", st.Key, st.Done, done[st.Key])
			}
		}
		if c.Done() != len(want) {
			t.Errorf("Done() = %d, want %d", c.Done(), len(want))
		}
	}

	t.Run("fresh install: only time zone and language are done", func(t *testing.T) {
		c := check(t)
		var keys []string
		for _, st := range c.Steps {
			keys = append(keys, st.Key)
		}
		want := []string{store.StepCompany, store.StepLocale, store.StepRoles, store.StepFields, store.StepForms,
			store.StepImport, store.StepWorkflows, store.StepEmail, store.StepContact, store.StepUsers}
		if fmt.Sprint(keys) != fmt.Sprint(want) {
			t.Fatalf("steps = %v, want seed 000's order %v", keys, want)
		}
		if c.Total() != 10 || c.Dismissed || c.Complete() {
			t.Errorf("total %d dismissed %v complete %v", c.Total(), c.Dismissed, c.Complete())
		}
		wantDone(t, c, store.StepLocale)
		if st := c.Step(store.StepCompany); st.Href != "/settings/company" || st.Title() != "checklist.step.company" || st.Help() != "checklist.step.company_help" {
			t.Errorf("company step = %+v", st)
		}
		if st := c.Step(store.StepWorkflows); !st.Later || st.Href != "" {
			t.Errorf("workflows step = %+v, want later without a link", st)
		}
	})

	t.Run("company address ticks company information", func(t *testing.T) {
		co, _ := s.Company(ctx)
		co.Address, co.Phone = "Carrer de l'Exemple, 123, Barcelona", "123 456 789"
		if _, err := s.UpdateCompany(ctx, admin, *co); err != nil {
			t.Fatal(err)
		}
		wantDone(t, check(t), store.StepCompany, store.StepLocale)
	})

	t.Run("a test contact ticks the contact step", func(t *testing.T) {
		if _, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "last_name": "García"}}); err != nil {
			t.Fatal(err)
		}
		wantDone(t, check(t), store.StepCompany, store.StepLocale, store.StepContact)
	})

	var marc *store.Actor
	t.Run("a second user ticks roles and invite users", func(t *testing.T) {
		marc = mustUser(t, s, admin, "marc@example.com", "salesperson")
		wantDone(t, check(t), store.StepCompany, store.StepLocale, store.StepContact, store.StepRoles, store.StepUsers)
	})

	t.Run("a disabled second user keeps roles but not invite users", func(t *testing.T) {
		disabled := true
		if _, err := s.UpdateUser(ctx, admin, marc.UserID, store.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		wantDone(t, check(t), store.StepCompany, store.StepLocale, store.StepContact, store.StepRoles)
		disabled = false
		if _, err := s.UpdateUser(ctx, admin, marc.UserID, store.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a custom field ticks custom fields, removing it unticks", func(t *testing.T) {
		if _, err := s.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{Key: "birth_date", Kind: store.KDate, Labels: store.Labels{"ca": "Data de naixement"}}); err != nil {
			t.Fatal(err)
		}
		if !check(t).Step(store.StepFields).Done {
			t.Fatal("custom fields not done after creating one")
		}
		if err := s.RemoveCustomField(ctx, admin, store.EntContacts, "birth_date"); err != nil {
			t.Fatal(err)
		}
		if check(t).Step(store.StepFields).Done {
			t.Error("custom fields still done when every field is removed")
		}
		if err := s.RestoreCustomField(ctx, admin, store.EntContacts, "birth_date"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a web form ticks forms", func(t *testing.T) {
		// No store method creates web forms yet (the forms page is built
		// in parallel), so the row goes in through SQL.
		if _, err := db.Exec(`INSERT INTO web_forms (slug, name, entity, created_at, updated_at) VALUES ('registre', 'Registre de clients', 'leads', 1, 1)`); err != nil {
			t.Fatal(err)
		}
		wantDone(t, check(t), store.StepCompany, store.StepLocale, store.StepContact, store.StepRoles, store.StepUsers, store.StepFields, store.StepForms)
	})

	t.Run("50 records by someone other than the first admin tick data import", func(t *testing.T) {
		for i := 0; i < 49; i++ {
			if _, err := s.CreateRecord(ctx, marc, store.EntContacts, store.Input{Values: map[string]any{"first_name": fmt.Sprintf("Client %d", i)}}); err != nil {
				t.Fatal(err)
			}
		}
		if check(t).Step(store.StepImport).Done {
			t.Fatal("data import done after 49 records")
		}
		if _, err := s.CreateRecord(ctx, marc, store.EntLeads, store.Input{Values: map[string]any{"last_name": "Pérez", "company": "Empresa XYZ"}}); err != nil {
			t.Fatal(err)
		}
		c := check(t)
		if !c.Step(store.StepImport).Done {
			t.Fatal("data import not done after 50 records by another user")
		}
		// What the store cannot know, the server tells: mail configuration.
		c.Set(store.StepEmail, true)
		wantDone(t, c, store.StepCompany, store.StepLocale, store.StepContact, store.StepRoles, store.StepUsers,
			store.StepFields, store.StepForms, store.StepImport, store.StepEmail)
		if c.Complete() {
			t.Error("complete although workflows are not available")
		}
	})

	t.Run("an import entry in the audit log ticks data import", func(t *testing.T) {
		path2 := filepath.Join(t.TempDir(), "other.db")
		s2 := mustOpenStoreOpts(t, store.Options{Path: path2})
		admin2 := mustSetup(t, s2)
		db2 := openRawDB(t, path2)
		c, err := s2.Checklist(ctx, admin2)
		if err != nil {
			t.Fatal(err)
		}
		if c.Step(store.StepImport).Done {
			t.Fatal("data import done on a fresh install")
		}
		// The importer of a later issue logs "import"; stand in for it.
		if _, err := db2.Exec(`INSERT INTO audit_log (at, user_id, action, entity) VALUES (1, ?, 'import', 'contacts')`, admin2.UserID); err != nil {
			t.Fatal(err)
		}
		if c, _ = s2.Checklist(ctx, admin2); !c.Step(store.StepImport).Done {
			t.Error("data import not done after an import entry")
		}
		if _, err := db2.Exec(`DELETE FROM audit_log WHERE action = 'import'`); err != nil {
			t.Fatal(err)
		}
		err = s2.Load(ctx, admin2, store.LoadOptions{}, func(l *store.Loader) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if c, _ = s2.Checklist(ctx, admin2); !c.Step(store.StepImport).Done {
			t.Error("data import not done after a bulk load")
		}
	})

	t.Run("a salesperson is refused", func(t *testing.T) {
		_, err := s.Checklist(ctx, marc)
		wantCode(t, err, store.CodeForbidden)
		wantCode(t, s.DismissChecklist(ctx, marc, true), store.CodeForbidden)
	})

	t.Run("dismiss and show again", func(t *testing.T) {
		if err := s.DismissChecklist(ctx, admin, true); err != nil {
			t.Fatal(err)
		}
		if !check(t).Dismissed {
			t.Fatal("not dismissed")
		}
		if n := queryInt(t, db, `SELECT count(*) FROM audit_log WHERE action = 'checklist.dismiss'`); n != 1 {
			t.Errorf("audit entries = %d", n)
		}
		if err := s.DismissChecklist(ctx, admin, false); err != nil {
			t.Fatal(err)
		}
		if check(t).Dismissed {
			t.Fatal("still dismissed after show again")
		}
	})
}
