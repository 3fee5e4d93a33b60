package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"cartera/store"
)

// countRecords returns how many live records of a type the admin sees.
func countRecords(t *testing.T, s *store.Store, a *store.Actor, e store.Entity) int {
	t.Helper()
	recs, _, err := s.FindRecords(context.Background(), a, e, store.Filter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// leadForm is a lead form with the usual fields, owned by one user.
func leadForm(owner int64) store.WebFormInput {
	return store.WebFormInput{
		Name: "Alta de client", Entity: store.EntLeads, Active: true,
		Fields:    []store.WebFormField{{Key: "first_name"}, {Key: "last_name"}, {Key: "email", Required: true}, {Key: "company"}, {Key: "notes"}},
		OwnerMode: store.WebFormOwnerUser, OwnerUserID: owner, Tags: []string{"Web", "Alta"},
	}
}

// TestStore_WebFormSettings covers creating, validating, editing and
// deleting forms, and who may do it.
func TestStore_WebFormSettings(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")

	t.Run("only customizers manage forms", func(t *testing.T) {
		_, err := s.CreateWebForm(ctx, sales, leadForm(sales.UserID))
		wantCode(t, err, store.CodeForbidden)
		_, err = s.FindWebForms(ctx, sales)
		wantCode(t, err, store.CodeForbidden)
	})
	t.Run("slug derived from the name", func(t *testing.T) {
		f, err := s.CreateWebForm(ctx, admin, leadForm(admin.UserID))
		wantCode(t, err, "")
		if f.Slug != "alta-de-client" || f.Entity != store.EntLeads || len(f.Fields) != 5 || !slices.Equal(f.Tags, []string{"Web", "Alta"}) {
			t.Fatalf("form = %+v", f)
		}
		_, err = s.CreateWebForm(ctx, admin, leadForm(admin.UserID))
		wantField(t, err, "slug")
	})
	t.Run("invalid settings refused", func(t *testing.T) {
		in := leadForm(admin.UserID)
		in.Slug = "Bad Slug!"
		in.RedirectURL = "javascript:alert(1)"
		in.Fields = append(in.Fields, store.WebFormField{Key: "status"}, store.WebFormField{Key: "owner_id"})
		in.Language = "fr"
		_, err := s.CreateWebForm(ctx, admin, in)
		wantCode(t, err, store.CodeInvalid)
		for _, f := range []string{"slug", "redirect_url", "fields", "language"} {
			wantField(t, err, f)
		}
		in = leadForm(0)
		in.Slug = "team-form"
		in.OwnerMode = store.WebFormOwnerTeam
		in.OwnerTeamID = 999
		_, err = s.CreateWebForm(ctx, admin, in)
		wantField(t, err, "owner_team_id")
		in = leadForm(admin.UserID)
		in.Slug = "no-name"
		in.Fields = []store.WebFormField{{Key: "notes"}}
		_, err = s.CreateWebForm(ctx, admin, in)
		wantField(t, err, "fields")
	})
	t.Run("edit and delete", func(t *testing.T) {
		in := leadForm(admin.UserID)
		in.Slug = "to-edit"
		f, err := s.CreateWebForm(ctx, admin, in)
		wantCode(t, err, "")
		in.Entity = store.EntContacts // ignored: the type is fixed
		in.Active = false
		in.Title = "Nou títol"
		f, err = s.UpdateWebForm(ctx, admin, f.ID, in)
		wantCode(t, err, "")
		if f.Entity != store.EntLeads || f.Active || f.Title != "Nou títol" {
			t.Fatalf("updated form = %+v", f)
		}
		_, err = s.PublicWebForm(ctx, "to-edit")
		wantCode(t, err, store.CodeNotFound)
		wantCode(t, s.DeleteWebForm(ctx, admin, f.ID), "")
		_, err = s.FindWebForm(ctx, admin, f.ID)
		wantCode(t, err, store.CodeNotFound)
	})
}

// TestStore_SubmitWebForm covers public submissions: the allow-list,
// validation, owner assignment, duplicates, consent and custom fields.
func TestStore_SubmitWebForm(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	if _, err := s.CreateCustomField(ctx, admin, store.EntLeads, store.CustomFieldInput{Key: "budget", Kind: store.KNumber, Labels: store.Labels{"en": "Budget", "ca": "Pressupost"}}); err != nil {
		t.Fatal(err)
	}
	in := leadForm(sales.UserID)
	in.Fields = append(in.Fields, store.WebFormField{Key: "custom.budget"})
	in.ConsentText = "Accepto la política de privadesa."
	form, err := s.CreateWebForm(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	submit := func(vals map[string][]string) (*store.WebFormSubmission, error) {
		return s.SubmitWebForm(ctx, form.Slug, vals, "192.0.2.7", nil)
	}

	t.Run("creates a lead with source web_form", func(t *testing.T) {
		res, err := submit(map[string][]string{
			"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura@example.com"}, "custom.budget": {"1500"},
			"consent": {"1"},
			// Injected keys a visitor must not set.
			"owner_id": {itoaT(admin.UserID)}, "status": {"qualified"}, "source": {"event"}, "tags": {"VIP"}, "phone": {"600000000"},
		})
		wantCode(t, err, "")
		if !res.Created {
			t.Fatal("not created")
		}
		r, err := s.FindRecord(ctx, admin, store.EntLeads, res.RecordID)
		wantCode(t, err, "")
		if r.Str("source") != "web_form" || r.Str("status") != "new" || r.OwnerID != sales.UserID || r.Str("phone") != "" {
			t.Errorf("lead = source %q status %q owner %d phone %q", r.Str("source"), r.Str("status"), r.OwnerID, r.Str("phone"))
		}
		if !slices.Equal(r.Tags, []string{"Alta", "Web"}) && !slices.Equal(r.Tags, []string{"Web", "Alta"}) {
			t.Errorf("tags = %q", r.Tags)
		}
		if r.Custom["budget"] != 1500.0 {
			t.Errorf("custom = %v", r.Custom)
		}
		act, err := s.FindRecord(ctx, admin, store.EntActivities, res.ActivityID)
		wantCode(t, err, "")
		desc := act.Str("description")
		if act.Str("type") != "note" || act.Str("subject") != "Web form: Alta de client" || act.Int("lead_id") != res.RecordID ||
			!strings.Contains(desc, "Laura") || !strings.Contains(desc, "Budget: 1500") || !strings.Contains(desc, "192.0.2.7") || !strings.Contains(desc, in.ConsentText) {
			t.Errorf("note = %q / %q", act.Str("subject"), desc)
		}
	})
	t.Run("existing e-mail gets a note, not a twin", func(t *testing.T) {
		before := countRecords(t, s, admin, store.EntLeads)
		res, err := submit(map[string][]string{"first_name": {"Laura"}, "email": {"LAURA@example.com"}, "notes": {"Torno a escriure"}, "consent": {"1"}})
		wantCode(t, err, "")
		if res.Created || countRecords(t, s, admin, store.EntLeads) != before {
			t.Fatal("a twin lead was created")
		}
		act, _ := s.FindRecord(ctx, admin, store.EntActivities, res.ActivityID)
		if act.Int("lead_id") != res.RecordID || !strings.Contains(act.Str("description"), "Torno a escriure") {
			t.Errorf("note = %v", act.Values)
		}
		// A contact with the e-mail takes precedence over leads.
		c, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Pere", "email": "pere@example.com"}})
		wantCode(t, err, "")
		res, err = submit(map[string][]string{"email": {"pere@example.com"}, "first_name": {"Pere"}, "consent": {"1"}})
		wantCode(t, err, "")
		if res.Created || res.RecordID != c.ID {
			t.Fatalf("submission went to %d (created %v), want contact %d", res.RecordID, res.Created, c.ID)
		}
		c, _ = s.FindRecord(ctx, admin, store.EntContacts, c.ID)
		if !slices.Contains(c.Tags, "Web") {
			t.Errorf("contact tags = %q", c.Tags)
		}
	})
	t.Run("invalid values store nothing", func(t *testing.T) {
		before := countRecords(t, s, admin, store.EntLeads)
		acts := countRecords(t, s, admin, store.EntActivities)
		_, err := submit(map[string][]string{"first_name": {"Jordi"}, "email": {"not-an-email"}, "custom.budget": {"molt"}, "consent": {"1"}})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "email")
		wantField(t, err, "custom.budget")
		_, err = submit(map[string][]string{"first_name": {"Jordi"}, "consent": {"1"}})
		wantField(t, err, "email")
		_, err = submit(map[string][]string{"first_name": {"Jordi"}, "email": {"jordi@example.com"}})
		wantField(t, err, "consent")
		if countRecords(t, s, admin, store.EntLeads) != before || countRecords(t, s, admin, store.EntActivities) != acts {
			t.Fatal("a refused submission stored something")
		}
	})
	t.Run("inactive and unknown forms are not found", func(t *testing.T) {
		_, err := s.SubmitWebForm(ctx, "nope", map[string][]string{"email": {"x@example.com"}}, "192.0.2.7", nil)
		wantCode(t, err, store.CodeNotFound)
		in2 := leadForm(sales.UserID)
		in2.Slug, in2.Active = "closed", false
		if _, err := s.CreateWebForm(ctx, admin, in2); err != nil {
			t.Fatal(err)
		}
		_, err = s.SubmitWebForm(ctx, "closed", map[string][]string{"email": {"x@example.com"}}, "192.0.2.7", nil)
		wantCode(t, err, store.CodeNotFound)
	})
	t.Run("round-robin among the team's active members", func(t *testing.T) {
		team, err := s.SaveTeam(ctx, admin, 0, "Comercial")
		wantCode(t, err, "")
		var ids []int64
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			u := mustUser(t, s, admin, email, "salesperson")
			tid := team.ID
			if _, err := s.UpdateUser(ctx, admin, u.UserID, store.UserUpdate{TeamID: &tid}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.UserID)
		}
		disabled := true
		if _, err := s.UpdateUser(ctx, admin, ids[1], store.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		in := leadForm(0)
		in.Slug, in.OwnerMode, in.OwnerTeamID = "rr", store.WebFormOwnerTeam, team.ID
		if _, err := s.CreateWebForm(ctx, admin, in); err != nil {
			t.Fatal(err)
		}
		var owners []int64
		for i := range 3 {
			res, err := s.SubmitWebForm(ctx, "rr", map[string][]string{"email": {"rr" + itoaT(int64(i)) + "@example.com"}}, "192.0.2.7", nil)
			wantCode(t, err, "")
			r, _ := s.FindRecord(ctx, admin, store.EntLeads, res.RecordID)
			owners = append(owners, r.OwnerID)
		}
		if want := []int64{ids[0], ids[2], ids[0]}; !slices.Equal(owners, want) {
			t.Errorf("owners = %v, want %v", owners, want)
		}
	})
	t.Run("contact form", func(t *testing.T) {
		in := store.WebFormInput{Name: "Contacte", Entity: store.EntContacts, Active: true, OwnerMode: store.WebFormOwnerUser, OwnerUserID: sales.UserID,
			Fields: []store.WebFormField{{Key: "first_name", Required: true}, {Key: "email"}, {Key: "mobile"}}}
		if _, err := s.CreateWebForm(ctx, admin, in); err != nil {
			t.Fatal(err)
		}
		res, err := s.SubmitWebForm(ctx, "contacte", map[string][]string{"first_name": {"Núria"}, "mobile": {"+34 611 22 33 44"}, "account_id": {"1"}}, "192.0.2.8", nil)
		wantCode(t, err, "")
		c, _ := s.FindRecord(ctx, admin, store.EntContacts, res.RecordID)
		if !res.Created || c.Str("first_name") != "Núria" || c.Int("account_id") != 0 || c.OwnerID != sales.UserID {
			t.Errorf("contact = %v owner %d", c.Values, c.OwnerID)
		}
	})
}

func itoaT(v int64) string {
	var b []byte
	if v == 0 {
		return "0"
	}
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}
