package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// person is the distinctive person the privacy tests erase.
var person = struct {
	First, Last, Email, Phone, NewPhone, Nick string
}{"Zoltan", "Quixbury", "zoltan.quixbury@example.net", "+34 611 222 333", "+34 699 888 777", "Quixolotl"}

// personTraces are the strings that must not be left anywhere once the
// person is erased (compared lower-cased).
func personTraces() []string {
	return []string{"zoltan", "quixbury", person.Email, "611222333", "611 222 333", "699888777", "699 888 777", "quixolotl"}
}

// reportTotals runs every available standard report and keeps what a
// report's reader counts on: its number of rows and its totals.
func reportTotals(t *testing.T, s *store.Store, a *store.Actor) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range store.StandardReports() {
		if !r.Available {
			continue
		}
		res, err := s.RunStandardReport(context.Background(), a, r.Key, store.ReportParams{})
		if err != nil {
			t.Fatalf("report %s: %v", r.Key, err)
		}
		b, _ := json.Marshal(res.Totals)
		out[r.Key] = fmt.Sprintf("rows=%d totals=%s", len(res.Rows), b)
	}
	return out
}

// personFixture fills a store with the person everywhere Cartera keeps
// personal data: a lead converted to a contact (with a won deal), field
// history, a searchable custom field, activities and a task, a case, an
// e-mail in the outbox, a dropbox message, a web form note, an import's
// before-image, a mention notification and a mention in another record.
func personFixture(t *testing.T, s *store.Store, admin *store.Actor) (contactID, leadID int64, form *store.WebForm) {
	t.Helper()
	ctx := context.Background()
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	if _, err := s.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{Key: "nickname", Kind: store.KText, Labels: store.Labels{"en": "Nickname"}, Searchable: true}); err != nil {
		t.Fatal(err)
	}
	lead, err := s.CreateRecord(ctx, admin, store.EntLeads, store.Input{Values: map[string]any{
		"first_name": person.First, "last_name": person.Last, "email": person.Email, "phone": person.Phone, "company": "Acme Robotics", "source": "web_form",
	}})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := s.ConvertLead(ctx, admin, lead.ID, store.ConvertInput{Opportunity: &store.ConvertOpportunity{Name: "Website redesign", Amount: "1234.50"}})
	if err != nil {
		t.Fatal(err)
	}
	cid := conv.Contact.ID
	if _, err := s.UpdateRecord(ctx, admin, store.EntOpportunities, conv.Opportunity.ID, store.Input{Values: map[string]any{"stage": "won"}}); err != nil {
		t.Fatal(err)
	}
	in := store.Input{Values: map[string]any{"phone": person.NewPhone, "notes": "Prefers calls. Ask @sales."}}
	in.SetCustom("nickname", person.Nick)
	if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, cid, in); err != nil {
		t.Fatal(err)
	}
	for _, v := range []map[string]any{
		{"type": "call", "subject": "Call with Zoltan Quixbury", "description": "Zoltan asked for a quote; mobile 611 222 333", "contact_id": cid, "outcome": "positive"},
		{"type": "meeting", "subject": "Visit Quixbury at home", "description": "Calle Mayor 1", "contact_id": cid, "opportunity_id": conv.Opportunity.ID},
	} {
		v["occurred_at"] = time.Now().UTC().Format(time.RFC3339)
		if _, err := s.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: v}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateRecord(ctx, admin, store.EntTasks, store.Input{Values: map[string]any{"title": "Send Zoltan the brochure", "contact_id": cid}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRecord(ctx, admin, store.EntCases, store.Input{Values: map[string]any{"subject": "Quixbury cannot log in", "description": "Reported by zoltan.quixbury@example.net", "contact_id": cid}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRecord(ctx, sales, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Other", "last_name": "Person", "notes": "Friend of Zoltan Quixbury (zoltan.quixbury@example.net)"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendRecordEmail(ctx, admin, store.EntContacts, cid, store.RecordEmail{Subject: "Your quote, Zoltan", Text: "Dear Mr Quixbury, here is your quote."}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LogInboundEmail(ctx, store.SystemActor(), store.InboundEmail{Mailbox: "INBOX", UIDValidity: 1, UID: 1, MessageID: "q1@mail.example",
		From: store.MailAddress{Email: person.Email, Name: "Zoltan Quixbury"}, To: []store.MailAddress{{Email: "anna@example.com", Name: "Anna Puig"}},
		Subject: "Question from Zoltan", Text: "Call me on 699 888 777. Zoltan", Date: time.Now()}); err != nil {
		t.Fatal(err)
	}
	form, err = s.CreateWebForm(ctx, admin, store.WebFormInput{Name: "Contact us", Entity: store.EntLeads, Active: true,
		Fields:    []store.WebFormField{{Key: "first_name"}, {Key: "last_name"}, {Key: "email", Required: true}, {Key: "phone"}, {Key: "notes"}},
		OwnerMode: store.WebFormOwnerUser, OwnerUserID: admin.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitWebForm(ctx, form.Slug, map[string][]string{"first_name": {person.First}, "last_name": {person.Last}, "email": {person.Email}, "phone": {person.Phone}, "notes": {"Quixolotl wants a call"}}, "192.0.2.7", nil); err != nil {
		t.Fatal(err)
	}
	imp, err := s.StartImport(ctx, admin, store.ImportSpec{Entity: store.EntContacts, FileName: "people.csv", Policy: store.PolicyOverwrite, MatchOn: "email"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{{Line: 2, Match: person.Email, Input: store.Input{Values: map[string]any{"title": "Chief Quixbury Officer", "email": person.Email}}}}, false, false); err != nil || res.Updated != 1 {
		t.Fatalf("import: %v %+v", err, res)
	}
	if _, err := s.FinishImport(ctx, admin, imp.ID, ""); err != nil {
		t.Fatal(err)
	}
	return cid, lead.ID, form
}

// scanFile reports which traces a file holds, ignoring case.
func scanFile(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ToLower(b)
	var found []string
	for _, tr := range personTraces() {
		if bytes.Contains(b, []byte(strings.ToLower(tr))) {
			found = append(found, tr)
		}
	}
	return found
}

// TestStore_EraseRecord erases a person kept everywhere and then checks the
// raw database file, the reports, search, the suppression list and the
// audit log.
func TestStore_EraseRecord(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: path})
	admin := mustSetup(t, s)
	cid, leadID, form := personFixture(t, s, admin)

	// The scan does find the person before the erasure.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if found := scanFile(t, path); len(found) != len(personTraces()) {
		t.Fatalf("fixture traces = %v, want all of %v", found, personTraces())
	}
	s = mustOpenStoreOpts(t, store.Options{Path: path})
	admin, err := s.ActorFor(ctx, admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
	before := reportTotals(t, s, admin)
	var res *store.EraseResult

	t.Run("only the privacy capability erases", func(t *testing.T) {
		sales, err := s.ActorFor(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.EraseRecord(ctx, sales, store.EntContacts, cid)
		wantCode(t, err, store.CodeForbidden)
		_, err = s.EraseRecord(ctx, admin, store.EntOpportunities, 1)
		wantCode(t, err, store.CodeNotFound)
		_, err = s.EraseRecord(ctx, admin, store.EntContacts, 99999)
		wantCode(t, err, store.CodeNotFound)
	})

	res, err = s.EraseRecord(ctx, admin, store.EntContacts, cid)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("erases the contact and the lead it came from", func(t *testing.T) {
		if len(res.Records) != 2 || res.Suppressed != 1 || res.Activities < 3 || res.Emails != 1 || res.Inbound != 1 {
			t.Errorf("result = %+v", res)
		}
		c, err := s.FindRecord(ctx, admin, store.EntContacts, cid)
		if err != nil {
			t.Fatal(err)
		}
		if c.Title != store.ErasedName(cid) || c.Str("email") != "" || c.Str("phone") != "" || c.Str("notes") != "" || len(c.Custom) != 0 {
			t.Errorf("contact after erase: %q %v %v", c.Title, c.Values, c.Custom)
		}
		l, err := s.FindRecord(ctx, admin, store.EntLeads, leadID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Title != store.ErasedName(leadID) || l.Str("company") != "" || l.Str("status") != "converted" || l.Str("source") != "web_form" {
			t.Errorf("lead after erase: %q %v", l.Title, l.Values)
		}
	})
	t.Run("reports keep their totals", func(t *testing.T) {
		after := reportTotals(t, s, admin)
		for k, v := range before {
			if after[k] != v {
				t.Errorf("report %s: before %s, after %s", k, v, after[k])
			}
		}
	})
	t.Run("search forgets the person", func(t *testing.T) {
		for _, q := range []string{"Quixbury", "zoltan", "611222333", "Quixolotl", person.Email} {
			groups, err := s.Search(ctx, admin, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 0 {
				t.Errorf("search %q still finds %v", q, groups[0].Records[0].Title)
			}
		}
	})
	t.Run("the audit log has the erasure without the data", func(t *testing.T) {
		entries, err := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "contacts", RecordID: cid})
		if err != nil {
			t.Fatal(err)
		}
		var erase *store.AuditEntry
		for _, e := range entries {
			if e.Action == "erase" {
				erase = e
			} else if e.Detail != "{}" {
				t.Errorf("audit %s keeps %s", e.Action, e.Detail)
			}
		}
		if erase == nil || strings.Contains(strings.ToLower(erase.Detail), "quixbury") || !strings.Contains(erase.Detail, `"reason":"request"`) {
			t.Errorf("erase entry = %+v", erase)
		}
	})
	t.Run("a re-import of the address is refused", func(t *testing.T) {
		imp, err := s.StartImport(ctx, admin, store.ImportSpec{Entity: store.EntContacts, FileName: "again.csv", Policy: store.PolicySkip, MatchOn: "email"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{contactRow(2, person.First, person.Last, strings.ToUpper(person.Email))}, false, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != 1 || res.Rows[0].Errors[0].Key != "privacy.error.suppressed" || res.Rows[0].Errors[0].Field != "email" {
			t.Errorf("re-import: %+v", res)
		}
		if ok, _ := s.IsSuppressed(ctx, admin, " Zoltan.Quixbury@example.NET "); !ok {
			t.Error("address not on the suppression list")
		}
	})
	t.Run("a web form with the address is refused and stores nothing", func(t *testing.T) {
		n := countRecords(t, s, admin, store.EntLeads)
		_, err := s.SubmitWebForm(ctx, form.Slug, map[string][]string{"first_name": {person.First}, "email": {person.Email}}, "192.0.2.7", nil)
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "email")
		if countRecords(t, s, admin, store.EntLeads) != n {
			t.Error("a lead was created")
		}
	})
	t.Run("erasing again is harmless", func(t *testing.T) {
		if _, err := s.EraseRecord(ctx, admin, store.EntLeads, leadID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no trace is left in the database file", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{path, path + "-wal"} {
			if found := scanFile(t, f); len(found) > 0 {
				t.Errorf("%s still holds %v", filepath.Base(f), found)
			}
		}
	})
}

// TestStore_ExportPersonalData checks the export gathers the person's data
// from everywhere and that it needs the privacy capability.
func TestStore_ExportPersonalData(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	cid, leadID, _ := personFixture(t, s, admin)

	t.Run("everything about the person", func(t *testing.T) {
		pd, err := s.ExportPersonalData(ctx, admin, store.EntContacts, cid)
		if err != nil {
			t.Fatal(err)
		}
		if len(pd.Records) != 2 || pd.Records[0].Fields["email"] != person.Email || pd.Records[0].Custom["nickname"] != person.Nick || pd.Records[1].ID != leadID {
			t.Errorf("records = %+v", pd.Records)
		}
		if len(pd.Activities) < 4 || len(pd.Tasks) != 1 || len(pd.Cases) != 1 || len(pd.Opportunities) != 1 || pd.Opportunities[0].Amount != 1234.5 {
			t.Errorf("linked: %d activities, %d tasks, %d cases, %+v", len(pd.Activities), len(pd.Tasks), len(pd.Cases), pd.Opportunities)
		}
		if len(pd.EmailsSent) != 1 || pd.EmailsSent[0].To != person.Email || len(pd.EmailsIn) != 1 || !strings.Contains(pd.EmailsIn[0].From, person.Email) {
			t.Errorf("e-mails: %+v / %+v", pd.EmailsSent, pd.EmailsIn)
		}
		if len(pd.WebForms) != 1 || pd.WebForms[0].Form == "" {
			t.Errorf("web forms = %+v", pd.WebForms)
		}
		var phoneChange bool
		for _, h := range pd.History {
			phoneChange = phoneChange || (h.Field == "phone" && h.Old == person.Phone && h.New == person.NewPhone)
		}
		if !phoneChange || pd.Erased || pd.Suppressed {
			t.Errorf("history has the phone change: %v; erased %v, suppressed %v", phoneChange, pd.Erased, pd.Suppressed)
		}
		b, err := json.Marshal(pd)
		if err != nil || !strings.Contains(string(b), `"id":"`+fmt.Sprint(cid)+`"`) {
			t.Errorf("json: %v %.200s", err, b)
		}
	})
	t.Run("needs the privacy capability", func(t *testing.T) {
		sales, err := s.ActorFor(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.ExportPersonalData(ctx, sales, store.EntContacts, cid)
		wantCode(t, err, store.CodeForbidden)
	})
	t.Run("after erasure only placeholders are left", func(t *testing.T) {
		if _, err := s.EraseRecord(ctx, admin, store.EntLeads, leadID); err != nil {
			t.Fatal(err)
		}
		pd, err := s.ExportPersonalData(ctx, admin, store.EntContacts, cid)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(pd)
		low := strings.ToLower(string(b))
		for _, tr := range personTraces() {
			if strings.Contains(low, strings.ToLower(tr)) {
				t.Errorf("export after erasure holds %q", tr)
			}
		}
		if !pd.Erased {
			t.Error("export does not say the person was erased")
		}
	})
}

// TestStore_Retention runs the retention rule with a fake clock.
func TestStore_Retention(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now})
	admin := mustSetup(t, s)
	mk := func(first string) int64 {
		r, err := s.CreateRecord(ctx, admin, store.EntLeads, store.Input{Values: map[string]any{"first_name": first, "last_name": "Old", "email": strings.ToLower(first) + "@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	stale := mk("Stale")
	busy := mk("Busy")
	converted := mk("Converted")
	if _, err := s.ConvertLead(ctx, admin, converted, store.ConvertInput{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * 30 * 24 * time.Hour)
	if _, err := s.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: map[string]any{"type": "call", "subject": "Follow-up", "lead_id": busy, "occurred_at": clock.Now().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * 30 * 24 * time.Hour)
	fresh := mk("Fresh")

	t.Run("no rule, nothing due", func(t *testing.T) {
		due, err := s.RetentionDue(ctx, admin, 0)
		if err != nil || len(due) != 0 {
			t.Fatalf("%v %v", due, err)
		}
	})
	t.Run("bad settings are refused", func(t *testing.T) {
		_, err := s.UpdatePrivacySettings(ctx, admin, store.PrivacySettings{RetentionMonths: -1, RetentionAction: "burn"})
		wantField(t, err, "retention_months")
		wantField(t, err, "retention_action")
		sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
		_, err = s.UpdatePrivacySettings(ctx, sales, store.PrivacySettings{RetentionMonths: 6})
		wantCode(t, err, store.CodeForbidden)
	})
	t.Run("review lists the stale lead and changes nothing", func(t *testing.T) {
		if _, err := s.UpdatePrivacySettings(ctx, admin, store.PrivacySettings{RetentionMonths: 6, RetentionAction: store.RetentionReview}); err != nil {
			t.Fatal(err)
		}
		due, err := s.RetentionDue(ctx, admin, 0)
		if err != nil || len(due) != 1 || due[0].ID != stale || due[0].Title != "Stale Old" {
			t.Fatalf("due = %+v, %v", due, err)
		}
		if n, err := s.ApplyRetention(ctx, store.SystemActor(), clock.Now()); err != nil || n != 0 {
			t.Fatalf("review pass erased %d, %v", n, err)
		}
	})
	t.Run("erase erases the stale lead once", func(t *testing.T) {
		if _, err := s.UpdatePrivacySettings(ctx, admin, store.PrivacySettings{RetentionMonths: 6, RetentionAction: store.RetentionErase}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ApplyRetention(ctx, store.SystemActor(), clock.Now()); err != nil || n != 1 {
			t.Fatalf("erase pass erased %d, %v", n, err)
		}
		l, err := s.FindRecord(ctx, admin, store.EntLeads, stale)
		if err != nil || l.Title != store.ErasedName(stale) || l.Str("email") != "" {
			t.Fatalf("stale lead = %v, %v", l, err)
		}
		if n, err := s.ApplyRetention(ctx, store.SystemActor(), clock.Now()); err != nil || n != 0 {
			t.Fatalf("second pass erased %d, %v", n, err)
		}
		for _, id := range []int64{busy, converted, fresh} {
			if r, _ := s.FindRecord(ctx, admin, store.EntLeads, id); r == nil || strings.HasPrefix(r.Title, "Erased") {
				t.Errorf("lead %d erased", id)
			}
		}
	})
	t.Run("time passing makes the busy lead due", func(t *testing.T) {
		clock.Advance(5 * 30 * 24 * time.Hour)
		if n, err := s.ApplyRetention(ctx, store.SystemActor(), clock.Now()); err != nil || n != 1 {
			t.Fatalf("erased %d, %v", n, err)
		}
	})
}

// TestStore_EraseRecordFiles: the files on a person's record and on the
// activities about them go with the erasure; a case's documents stay.
func TestStore_EraseRecordFiles(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	c, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Ferran", "last_name": "Quintana", "email": "ferran@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	act, err := s.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: map[string]any{"type": "email", "subject": "DNI", "occurred_at": time.Now(), "contact_id": c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.CreateRecord(ctx, admin, store.EntCases, store.Input{Values: map[string]any{"subject": "Garantia", "contact_id": c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		e  store.Entity
		id int64
	}{{store.EntContacts, c.ID}, {store.EntActivities, act.ID}, {store.EntCases, cs.ID}} {
		if _, err := s.AddAttachments(ctx, admin, p.e, p.id, []store.Upload{{Name: "dni.txt", Body: strings.NewReader("DNI de Ferran Quintana")}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.EraseRecord(ctx, admin, store.EntContacts, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		e    store.Entity
		id   int64
		want int
	}{{store.EntContacts, c.ID, 0}, {store.EntActivities, act.ID, 0}, {store.EntCases, cs.ID, 1}} {
		files, err := s.Attachments(ctx, admin, p.e, p.id)
		if err != nil || len(files) != p.want {
			t.Errorf("%s files after erasure: %d (%v), want %d", p.e, len(files), err, p.want)
		}
	}
}
