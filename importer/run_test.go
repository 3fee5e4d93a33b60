package importer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"cartera/importer"
	"cartera/store"
)

// TestImporter_Run imports seed 000's CSV with automatic mapping, custom
// fields included, then shows a dry run and a failing file changing nothing.
func TestImporter_Run(t *testing.T) {
	ctx := context.Background()
	st := mustStore(t)
	if _, err := st.Setup(ctx, store.SetupInput{Company: store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura"}); err != nil {
		t.Fatal(err)
	}
	u, _ := st.FindUserByEmail(ctx, store.SystemActor(), "anna@example.com")
	admin, err := st.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, text string, plan importer.Plan) *importer.Summary {
		t.Helper()
		src, err := importer.Open(strings.NewReader(text), "clients.csv", importer.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		plan.Entity = store.EntContacts
		sum, err := importer.Run(ctx, st, admin, catalog, src, plan, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	t.Run("dry run", func(t *testing.T) {
		sum := run(t, seed000, importer.Plan{DryRun: true, MatchOn: "email"})
		if sum.Created != 2 || len(sum.Rows) != 2 || sum.Import.Status != "dry_run" {
			t.Fatalf("%+v", sum)
		}
		if n, _ := st.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); n != 0 {
			t.Errorf("contacts after a dry run = %d", n)
		}
	})
	t.Run("seed 000", func(t *testing.T) {
		sum := run(t, seed000, importer.Plan{MatchOn: "email"})
		if sum.Created != 2 || sum.Import.Status != "done" {
			t.Fatalf("%+v", sum)
		}
		recs, _, _ := st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "García"})
		if len(recs) != 1 || recs[0].Custom["birth_date"] != "1990-05-15" || recs[0].Custom["contact_preference"] != "phone" || recs[0].Str("phone") != "987654321" {
			t.Errorf("Maria: %+v", recs)
		}
		sum = run(t, seed000, importer.Plan{MatchOn: "email"})
		if sum.Skipped != 2 || sum.Created != 0 {
			t.Errorf("second run: %+v", sum.Progress)
		}
	})
	t.Run("contacts with their companies", func(t *testing.T) {
		if _, err := st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Bar Pepe"}}); err != nil {
			t.Fatal(err)
		}
		text := "Nom,Correu electrònic,Empresa\nJordi,jordi@example.com,Empresa Nova SL\nLaia,laia@example.com,empresa nova sl\nPau,pau@example.com,BAR PEPE\n"
		sum := run(t, text, importer.Plan{MatchOn: "email"})
		if sum.Created != 3 || sum.Import.Status != "done" {
			t.Fatalf("%+v %+v", sum.Progress, sum.Rows)
		}
		accs, _, _ := st.FindRecords(ctx, admin, store.EntAccounts, store.Filter{Q: "Empresa Nova"})
		if len(accs) != 1 {
			t.Fatalf("accounts named Empresa Nova: %d", len(accs))
		}
		contacts, _, _ := st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{"account_id": strconv.FormatInt(accs[0].ID, 10)}})
		if len(contacts) != 2 {
			t.Errorf("contacts of Empresa Nova: %d", len(contacts))
		}
		if _, err := st.UndoImport(ctx, admin, sum.Import.ID); err != nil {
			t.Fatal(err)
		}
		if accs, _, _ := st.FindRecords(ctx, admin, store.EntAccounts, store.Filter{Q: "Empresa Nova"}); len(accs) != 0 {
			t.Error("undo left the client the import created")
		}
		if accs, _, _ := st.FindRecords(ctx, admin, store.EntAccounts, store.Filter{Q: "Bar Pepe"}); len(accs) != 1 {
			t.Error("undo removed a client the import only linked")
		}
	})
	t.Run("a bad row fails the import and lists every bad row", func(t *testing.T) {
		text := "Nom,Correu electrònic,Data de naixement\nPere,pere@example.com,1985-02-03\nRosa,rosa@,1985-02-03\nLluís,lluis@example.com,31/02/1985\n"
		sum := run(t, text, importer.Plan{MatchOn: "email", Batch: 1})
		if sum.Import.Status != "failed" || sum.Failed != 2 || len(sum.Rows) != 2 || sum.Rows[0].Line != 3 || sum.Rows[1].Errors[0].Field != "custom.birth_date" {
			t.Fatalf("%+v %+v", sum.Import, sum.Rows)
		}
		if n, _ := st.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); n != 2 {
			t.Errorf("contacts = %d, want seed 000's 2: a row of a failed import was kept", n)
		}
	})
}
