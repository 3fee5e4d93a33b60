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
	t.Run("duplicates recognised by a unique custom field", func(t *testing.T) {
		if _, err := st.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{Key: "member_no", Kind: store.KText, Unique: true, Labels: store.Labels{"ca": "Número de soci"}}); err != nil {
			t.Fatal(err)
		}
		text := "Nom,Número de soci\nRoser,S-001\nBiel,S-002\n"
		first := run(t, text, importer.Plan{MatchOn: "custom.member_no"})
		again := run(t, "Nom,Número de soci\nRoser Puig,S-001\nNina,S-003\n", importer.Plan{MatchOn: "custom.member_no", Policy: store.PolicyOverwrite})
		if first.Created != 2 || again.Updated != 1 || again.Created != 1 {
			t.Fatalf("first %+v, again %+v", first.Progress, again.Progress)
		}
		if _, err := st.StartImport(ctx, admin, store.ImportSpec{Entity: store.EntContacts, Policy: store.PolicySkip, MatchOn: "custom.contact_preference_multi"}); store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("matching on an unknown field: %v", err)
		}
	})
	t.Run("a twin in the file updates the record the file just created, found once by search", func(t *testing.T) {
		text := "Nom,Cognoms,Correu electrònic\nXènia,Vilaró,xenia@example.com\nXènia,Vilaró-Puig,xenia@example.com\n"
		sum := run(t, text, importer.Plan{MatchOn: "email", Policy: store.PolicyOverwrite})
		if sum.Created != 1 || sum.Updated != 1 {
			t.Fatalf("%+v", sum.Progress)
		}
		recs, _, err := st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "Vilaró-Puig"})
		if err != nil || len(recs) != 1 {
			t.Fatalf("search after the update: %v %d", err, len(recs))
		}
		if recs, _, _ := st.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "xenia@example.com"}); len(recs) != 1 {
			t.Errorf("search by e-mail: %d", len(recs))
		}
	})
	t.Run("a bad row fails the import and lists every bad row", func(t *testing.T) {
		before, _ := st.CountRecords(ctx, admin, store.EntContacts, store.Filter{})
		text := "Nom,Correu electrònic,Data de naixement\nPere,pere@example.com,1985-02-03\nRosa,rosa@,1985-02-03\nLluís,lluis@example.com,31/02/1985\n"
		sum := run(t, text, importer.Plan{MatchOn: "email", Batch: 1})
		if sum.Import.Status != "failed" || sum.Failed != 2 || len(sum.Rows) != 2 || sum.Rows[0].Line != 3 || sum.Rows[1].Errors[0].Field != "custom.birth_date" {
			t.Fatalf("%+v %+v", sum.Import, sum.Rows)
		}
		if n, _ := st.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); n != before {
			t.Errorf("contacts = %d, want %d: a row of a failed import was kept", n, before)
		}
	})
}

// TestImporter_CustomFieldKinds imports a column of every custom field
// kind: valid cells are stored typed, and a row with an invalid cell in
// each kind fails naming that field.
func TestImporter_CustomFieldKinds(t *testing.T) {
	ctx := context.Background()
	st := mustStore(t)
	if _, err := st.Setup(ctx, store.SetupInput{Company: store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura"}); err != nil {
		t.Fatal(err)
	}
	u, _ := st.FindUserByEmail(ctx, store.SystemActor(), "anna@example.com")
	admin, _ := st.ActorFor(ctx, u.ID)
	acc, err := st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Empresa ABC"}})
	if err != nil {
		t.Fatal(err)
	}
	opts := []store.Option{{Key: "op_a", Labels: store.Labels{"ca": "Opció A"}}, {Key: "op_b", Labels: store.Labels{"ca": "Opció B"}}}
	kinds := []struct {
		kind      store.Kind
		good, bad string
		want      any
	}{
		{store.KText, "Hola", "", "Hola"},
		{store.KLongText, "Llarg", "", "Llarg"},
		{store.KNumber, "12,5", "dotze", 12.5},
		{store.KMoney, "1.234,50", "molts", 1234.5},
		{store.KDate, "29/02/2024", "31/02/2024", "2024-02-29"},
		{store.KDateTime, "2024-03-01T09:30:00Z", "ahir", "2024-03-01T09:30:00Z"},
		{store.KBool, "sí", "potser", true},
		{store.KEmail, "laura@example.com", "laura@", "laura@example.com"},
		{store.KPhone, "+34 600 000 000", "", "+34 600 000 000"},
		{store.KURL, "empresa.cat", "javascript:alert(1)", "https://empresa.cat"},
		{store.KSelect, "Opció B", "Opció Z", "op_b"},
		{store.KMulti, "Opció A; op_b", "Opció Z", []string{"op_a", "op_b"}},
		{store.KRef, strconv.FormatInt(acc.ID, 10), "999999", acc.ID},
	}
	var header, good, bad []string
	for _, k := range kinds {
		in := store.CustomFieldInput{Key: "f_" + string(k.kind), Kind: k.kind, Labels: store.Labels{"ca": "F " + string(k.kind)}}
		if k.kind == store.KSelect || k.kind == store.KMulti {
			in.Options = opts
		}
		if k.kind == store.KRef {
			in.Ref = store.EntAccounts
		}
		if _, err := st.CreateCustomField(ctx, admin, store.EntLeads, in); err != nil {
			t.Fatalf("%s: %v", k.kind, err)
		}
		header = append(header, "F "+string(k.kind))
		good = append(good, `"`+k.good+`"`)
	}
	text := "Cognoms," + strings.Join(header, ",") + "\nBo," + strings.Join(good, ",") + "\n"
	for i, k := range kinds {
		if k.bad == "" {
			continue
		}
		bad = make([]string, len(kinds))
		bad[i] = `"` + k.bad + `"`
		text += "Dolent " + string(k.kind) + "," + strings.Join(bad, ",") + "\n"
	}
	src, err := importer.Open(strings.NewReader(text), "kinds.csv", importer.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.Run(ctx, st, admin, catalog, src, importer.Plan{Entity: store.EntLeads, SkipBad: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != 1 {
		t.Fatalf("created %d: %+v", sum.Created, sum.Rows)
	}
	failedFields := map[string]bool{}
	for _, r := range sum.Rows {
		for _, e := range r.Errors {
			failedFields[e.Field] = true
		}
	}
	recs, _, _ := st.FindRecords(ctx, admin, store.EntLeads, store.Filter{})
	var rec *store.Record
	for _, r := range recs {
		if r.Str("last_name") == "Bo" {
			rec = r
		}
	}
	if rec == nil {
		t.Fatal("the valid row was not imported")
	}
	for _, k := range kinds {
		key := "f_" + string(k.kind)
		got := rec.Custom[key]
		if w, ok := k.want.([]string); ok {
			g, _ := got.([]string)
			if strings.Join(g, ",") != strings.Join(w, ",") {
				t.Errorf("%s: %v, want %v", k.kind, got, w)
			}
		} else if got != k.want {
			t.Errorf("%s: %#v, want %#v", k.kind, got, k.want)
		}
		if k.bad != "" && !failedFields["custom."+key] {
			t.Errorf("%s: the invalid cell %q was not refused", k.kind, k.bad)
		}
	}
}
