package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// timelineOf returns a record's timeline items of one kind, newest first.
func timelineOf(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, id int64, kind string) []store.TimelineItem {
	t.Helper()
	tl, err := s.Timeline(context.Background(), a, e, id, 0)
	if err != nil {
		t.Fatalf("timeline of %s %d: %v", e, id, err)
	}
	var out []store.TimelineItem
	for _, it := range tl {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// mustUpdate updates a record that must accept the change.
func mustUpdate(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, id int64, in store.Input) *store.Record {
	t.Helper()
	r, err := s.UpdateRecord(context.Background(), a, e, id, in)
	if err != nil {
		t.Fatalf("update %s %d: %v", e, id, err)
	}
	return r
}

// msOf reads one integer column of a record straight from the database,
// for the bookkeeping times that are not exposed as fields.
func msOf(t *testing.T, db *sql.DB, table, col string, id int64) int64 {
	t.Helper()
	return queryInt(t, db, "SELECT "+col+" FROM "+table+" WHERE id = ?", id)
}

func TestStore_Opportunities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	db := openRawDB(t, s.Path())

	t.Run("stage drives probability, forecast and close time", func(t *testing.T) {
		opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "Renovació TPV", "stage", "proposal", "amount", "1.200,00")})
		if opp.Int("probability") != 50 || opp.Str("forecast_category") != "pipeline" || opp.Float("amount") != 1200 || opp.Str("currency") != "EUR" {
			t.Errorf("new proposal: %v", opp.Values)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM stage_history WHERE opportunity_id = ? AND from_stage = '' AND to_stage = 'proposal'`, opp.ID); n != 1 {
			t.Errorf("first stage history rows = %d", n)
		}
		if got := timelineOf(t, s, admin, store.EntOpportunities, opp.ID, "stage_change"); len(got) != 0 {
			t.Errorf("creation shows as a stage change: %+v", got)
		}
		if msOf(t, db, "opportunities", "closed_at", opp.ID) != 0 {
			t.Error("open opportunity has a close time")
		}

		clk.Advance(time.Hour)
		t1 := clk.Now()
		up := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("stage", "negotiation")})
		if up.Int("probability") != 75 || up.Str("forecast_category") != "pipeline" {
			t.Errorf("negotiation: %v", up.Values)
		}
		clk.Advance(time.Hour)
		t2 := clk.Now()
		won := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("stage", "won")})
		if won.Int("probability") != 100 || won.Str("forecast_category") != "closed" {
			t.Errorf("won: %v", won.Values)
		}
		if got := msOf(t, db, "opportunities", "closed_at", opp.ID); got != t2.UnixMilli() {
			t.Errorf("closed_at = %d, want %d", got, t2.UnixMilli())
		}
		if got := msOf(t, db, "opportunities", "stage_changed_at", opp.ID); got != t2.UnixMilli() {
			t.Errorf("stage_changed_at = %d, want %d", got, t2.UnixMilli())
		}
		sc := timelineOf(t, s, admin, store.EntOpportunities, opp.ID, "stage_change")
		if len(sc) != 2 ||
			sc[0].Old != "negotiation" || sc[0].New != "won" || !sc[0].At.Equal(t2) || sc[0].UserName != "Anna Puig" ||
			sc[1].Old != "proposal" || sc[1].New != "negotiation" || !sc[1].At.Equal(t1) {
			t.Errorf("stage changes = %+v", sc)
		}
		changes := map[string][]string{}
		for _, it := range timelineOf(t, s, admin, store.EntOpportunities, opp.ID, "field_change") {
			changes[it.Field] = append(changes[it.Field], it.Old+"→"+it.New)
		}
		if !slices.Equal(changes["probability"], []string{"75→100", "50→75"}) || !slices.Equal(changes["forecast_category"], []string{"pipeline→closed"}) || changes["stage"] != nil {
			t.Errorf("field changes = %v", changes)
		}

		// Reopening goes back to the pipeline and clears the close time.
		clk.Advance(time.Hour)
		re := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("stage", "negotiation")})
		if re.Int("probability") != 75 || re.Str("forecast_category") != "pipeline" || msOf(t, db, "opportunities", "closed_at", opp.ID) != 0 {
			t.Errorf("reopened: %v closed_at %d", re.Values, msOf(t, db, "opportunities", "closed_at", opp.ID))
		}
		clk.Advance(time.Hour)
		lost := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("stage", "lost", "lost_reason", "price")})
		if lost.Int("probability") != 0 || lost.Str("forecast_category") != "omitted" || msOf(t, db, "opportunities", "closed_at", opp.ID) != clk.Now().UnixMilli() {
			t.Errorf("lost: %v", lost.Values)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM stage_history WHERE opportunity_id = ?`, opp.ID); n != 5 {
			t.Errorf("stage history rows = %d, want 5", n)
		}
	})

	t.Run("explicit values win over stage defaults", func(t *testing.T) {
		opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "Manteniment", "stage", "qualification", "probability", 35.0)})
		if opp.Int("probability") != 35 {
			t.Errorf("explicit probability on create = %d", opp.Int("probability"))
		}
		up := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("stage", "won", "probability", "90")})
		if up.Int("probability") != 90 || up.Str("forecast_category") != "closed" {
			t.Errorf("won with explicit probability: %v", up.Values)
		}
		up = mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("stage", "negotiation", "forecast_category", "best_case")})
		if up.Int("probability") != 75 || up.Str("forecast_category") != "best_case" {
			t.Errorf("explicit forecast: %v", up.Values)
		}
		// A probability change alone leaves the stage and forecast alone.
		up = mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("probability", 60.0)})
		if up.Int("probability") != 60 || up.Str("stage") != "negotiation" || up.Str("forecast_category") != "best_case" {
			t.Errorf("probability alone: %v", up.Values)
		}
		for _, bad := range []map[string]any{vals("stage", "signed"), vals("probability", 101.0), vals("probability", -1.0), vals("forecast_category", "maybe")} {
			_, err := s.UpdateRecord(ctx, admin, store.EntOpportunities, opp.ID, store.Input{Values: bad})
			wantCode(t, err, store.CodeInvalid)
		}
		if r := mustFind(t, s, admin, store.EntOpportunities, opp.ID); r.Version != up.Version {
			t.Errorf("refused updates changed the opportunity: v%d → v%d", up.Version, r.Version)
		}
	})

	t.Run("contact roles", func(t *testing.T) {
		c1 := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laura", "last_name", "García")})
		c2 := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Joan", "last_name", "Pérez")})
		c3 := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Pau", "last_name", "Núñez")})
		roles := []store.ContactRole{{ContactID: c2.ID, Role: "influencer"}, {ContactID: c1.ID, Role: "decision_maker"}}
		opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "TPV nou"), ContactRoles: &roles})
		want := []store.ContactRole{{ContactID: c1.ID, Role: "decision_maker", ContactName: "Laura García"}, {ContactID: c2.ID, Role: "influencer", ContactName: "Joan Pérez"}}
		if !slices.Equal(opp.ContactRoles, want) {
			t.Errorf("roles = %+v", opp.ContactRoles)
		}
		roles = []store.ContactRole{{ContactID: c2.ID, Role: "user"}}
		opp = mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{ContactRoles: &roles})
		want = []store.ContactRole{{ContactID: c2.ID, Role: "user", ContactName: "Joan Pérez"}}
		if !slices.Equal(opp.ContactRoles, want) {
			t.Errorf("replaced roles = %+v", opp.ContactRoles)
		}
		if err := s.DeleteRecord(ctx, admin, store.EntContacts, c3.ID); err != nil {
			t.Fatal(err)
		}
		for name, bad := range map[string][]store.ContactRole{
			"unknown contact":   {{ContactID: c1.ID, Role: "user"}, {ContactID: 999999, Role: "user"}},
			"no contact":        {{ContactID: 0, Role: "user"}},
			"trashed contact":   {{ContactID: c3.ID, Role: "user"}},
			"duplicate contact": {{ContactID: c1.ID, Role: "user"}, {ContactID: c1.ID, Role: "influencer"}},
			"bad role":          {{ContactID: c1.ID, Role: "boss"}},
			"empty role":        {{ContactID: c1.ID, Role: ""}},
		} {
			_, err := s.UpdateRecord(ctx, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("amount", 10.0), ContactRoles: &bad})
			if store.ErrorCode(err) != store.CodeInvalid || store.AsError(err).Fields["contact_roles"] == "" {
				t.Errorf("%s: %v, want invalid contact_roles", name, err)
			}
			before := mustCount(t, s, admin, store.EntOpportunities, store.Filter{})
			_, err = s.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: vals("name", "Refusada"), ContactRoles: &bad})
			if store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("%s on create: %v", name, err)
			}
			if after := mustCount(t, s, admin, store.EntOpportunities, store.Filter{}); after != before {
				t.Errorf("%s: refused opportunity created", name)
			}
		}
		r := mustFind(t, s, admin, store.EntOpportunities, opp.ID)
		if !slices.Equal(r.ContactRoles, want) || r.Version != opp.Version || r.Float("amount") != 0 {
			t.Errorf("refused role changes changed the opportunity: %+v v%d %v", r.ContactRoles, r.Version, r.Values)
		}
		none := []store.ContactRole{}
		if r := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{ContactRoles: &none}); len(r.ContactRoles) != 0 {
			t.Errorf("cleared roles = %+v", r.ContactRoles)
		}
		// Roles left alone when the input carries none.
		if r := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{ContactRoles: &roles}); len(r.ContactRoles) != 1 {
			t.Fatalf("roles = %+v", r.ContactRoles)
		}
		if r := mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("amount", 20.0)}); len(r.ContactRoles) != 1 {
			t.Errorf("an update without roles dropped them: %+v", r.ContactRoles)
		}
	})
}

func TestStore_Cases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	times := func(r *store.Record) (time.Time, time.Time) { return r.Time("resolved_at"), r.Time("closed_at") }

	c := mustCreate(t, s, admin, store.EntCases, store.Input{Values: vals("subject", "La impressora no imprimeix")})
	if res, cl := times(c); c.Str("status") != "new" || c.Str("priority") != "normal" || !res.IsZero() || !cl.IsZero() {
		t.Fatalf("new case: %v", c.Values)
	}
	clk.Advance(time.Hour)
	t1 := clk.Now()
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "resolved")})
	if res, cl := times(c); !res.Equal(t1) || !cl.IsZero() {
		t.Errorf("resolved: resolved_at %v closed_at %v", res, cl)
	}
	clk.Advance(time.Hour)
	t2 := clk.Now()
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "closed")})
	if res, cl := times(c); !res.Equal(t1) || !cl.Equal(t2) {
		t.Errorf("closed after resolved: resolved_at %v closed_at %v", res, cl)
	}
	clk.Advance(time.Hour)
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "in_progress")})
	if res, cl := times(c); !res.IsZero() || !cl.IsZero() {
		t.Errorf("reopened: resolved_at %v closed_at %v", res, cl)
	}
	clk.Advance(time.Hour)
	t4 := clk.Now()
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "closed")})
	if res, cl := times(c); !res.Equal(t4) || !cl.Equal(t4) {
		t.Errorf("closed directly: resolved_at %v closed_at %v", res, cl)
	}
	// Taken back from closed to resolved, the case is no longer closed.
	clk.Advance(time.Hour)
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "resolved")})
	if _, cl := times(c); !cl.IsZero() {
		t.Errorf("resolved again, closed_at %v", cl)
	}
	clk.Advance(time.Hour)
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "waiting")})
	if res, cl := times(c); !res.IsZero() || !cl.IsZero() {
		t.Errorf("waiting: resolved_at %v closed_at %v", res, cl)
	}
	// Other changes leave the times alone.
	clk.Advance(time.Hour)
	t7 := clk.Now()
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "resolved")})
	clk.Advance(time.Hour)
	c = mustUpdate(t, s, admin, store.EntCases, c.ID, store.Input{Values: vals("priority", "urgent")})
	if res, _ := times(c); !res.Equal(t7) {
		t.Errorf("priority change moved resolved_at: %v", res)
	}

	closed := mustCreate(t, s, admin, store.EntCases, store.Input{Values: vals("subject", "Ja resolt per telèfon", "status", "closed")})
	if res, cl := times(closed); !res.Equal(clk.Now()) || !cl.Equal(clk.Now()) {
		t.Errorf("created closed: resolved_at %v closed_at %v", res, cl)
	}
	for _, key := range []string{"resolved_at", "closed_at"} {
		_, err := s.UpdateRecord(ctx, admin, store.EntCases, c.ID, store.Input{Values: vals(key, "2026-01-01T00:00:00Z")})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, key)
	}
	_, err := s.UpdateRecord(ctx, admin, store.EntCases, c.ID, store.Input{Values: vals("status", "solved")})
	wantCode(t, err, store.CodeInvalid)
	wantField(t, err, "status")
}

func TestStore_Tasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	db := openRawDB(t, s.Path())

	task := mustCreate(t, s, admin, store.EntTasks, store.Input{Values: vals("title", "Enviar pressupost", "due_at", "2026-03-05T09:00:00Z")})
	if task.Str("status") != "open" || task.Str("priority") != "normal" || task.OwnerID != admin.UserID || msOf(t, db, "tasks", "completed_at", task.ID) != 0 {
		t.Fatalf("new task: %v owner %d", task.Values, task.OwnerID)
	}
	if _, ok := task.Values["completed_at"]; ok {
		t.Error("completed_at is exposed as a field")
	}
	clk.Advance(time.Hour)
	task = mustUpdate(t, s, admin, store.EntTasks, task.ID, store.Input{Values: vals("status", "done")})
	if task.Str("status") != "done" || msOf(t, db, "tasks", "completed_at", task.ID) != clk.Now().UnixMilli() {
		t.Errorf("done: %v completed_at %d", task.Values, msOf(t, db, "tasks", "completed_at", task.ID))
	}
	task = mustUpdate(t, s, admin, store.EntTasks, task.ID, store.Input{Values: vals("status", "open")})
	if task.Str("status") != "open" || msOf(t, db, "tasks", "completed_at", task.ID) != 0 {
		t.Errorf("reopened: %v", task.Values)
	}
	task = mustUpdate(t, s, admin, store.EntTasks, task.ID, store.Input{Values: vals("status", "cancelled")})
	if task.Str("status") != "cancelled" || msOf(t, db, "tasks", "completed_at", task.ID) != 0 {
		t.Errorf("cancelled: %v", task.Values)
	}
	done := mustCreate(t, s, admin, store.EntTasks, store.Input{Values: vals("title", "Ja fet", "status", "done")})
	if msOf(t, db, "tasks", "completed_at", done.ID) != clk.Now().UnixMilli() {
		t.Error("task created done has no completion time")
	}
	open, _, err := s.FindRecords(ctx, admin, store.EntTasks, store.Filter{Eq: map[string]string{"status": "done"}})
	if err != nil || len(open) != 1 || open[0].ID != done.ID {
		t.Errorf("done tasks = %v, %v", idsOf(open), err)
	}
	for _, bad := range []map[string]any{vals("status", "finished"), vals("completed_at", "2026-01-01T00:00:00Z"), vals("title", "")} {
		_, err := s.UpdateRecord(ctx, admin, store.EntTasks, task.ID, store.Input{Values: bad})
		wantCode(t, err, store.CodeInvalid)
	}
}

func TestStore_ConvertLead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sp1 := mustUser(t, s, admin, "sp1@example.com", "salesperson")
	sp2 := mustUser(t, s, admin, "sp2@example.com", "salesperson")
	acc := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Ferreteria Puig")})
	counts := func() [3]int64 {
		t.Helper()
		return [3]int64{mustCount(t, s, admin, store.EntAccounts, store.Filter{}), mustCount(t, s, admin, store.EntContacts, store.Filter{}), mustCount(t, s, admin, store.EntOpportunities, store.Filter{})}
	}
	tags := []string{"Fira"}
	lead := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Marc", "last_name", "Soler", "company", "Soler i Fills", "email", "marc@soler.cat", "phone", "600 11 22 33", "title", "Gerent", "source", "event", "status", "qualified", "notes", "Vol un pressupost"), Tags: &tags})
	act := mustCreate(t, s, admin, store.EntActivities, store.Input{Values: vals("type", "call", "subject", "Trucada inicial", "occurred_at", "2026-01-05T10:00:00Z", "lead_id", lead.ID)})
	task := mustCreate(t, s, admin, store.EntTasks, store.Input{Values: vals("title", "Tornar a trucar", "lead_id", lead.ID)})

	t.Run("with an existing account", func(t *testing.T) {
		before := counts()
		conv, err := s.ConvertLead(ctx, admin, lead.ID, store.ConvertInput{AccountID: acc.ID})
		if err != nil {
			t.Fatal(err)
		}
		if conv.Account.ID != acc.ID || conv.Opportunity != nil {
			t.Errorf("conversion = account %d opportunity %v", conv.Account.ID, conv.Opportunity)
		}
		con := conv.Contact
		if con.Str("first_name") != "Marc" || con.Str("last_name") != "Soler" || con.Str("email") != "marc@soler.cat" || con.Str("phone") != "600 11 22 33" ||
			con.Str("title") != "Gerent" || con.Str("notes") != "Vol un pressupost" || con.Int("account_id") != acc.ID || !slices.Equal(con.Tags, []string{"Fira"}) {
			t.Errorf("contact = %v tags %v", con.Values, con.Tags)
		}
		if after := counts(); after != [3]int64{before[0], before[1] + 1, before[2]} {
			t.Errorf("counts %v → %v", before, after)
		}
		l := mustFind(t, s, admin, store.EntLeads, lead.ID)
		if l.Str("status") != "converted" || l.Int("converted_account_id") != acc.ID || l.Int("converted_contact_id") != con.ID || l.Int("converted_opportunity_id") != 0 {
			t.Errorf("lead after conversion: %v", l.Values)
		}
		if l.Refs["converted_contact_id"] != "Marc Soler" || l.Refs["converted_account_id"] != "Ferreteria Puig" {
			t.Errorf("lead refs: %v", l.Refs)
		}
		for _, r := range []*store.Record{mustFind(t, s, admin, store.EntActivities, act.ID), mustFind(t, s, admin, store.EntTasks, task.ID)} {
			if r.Int("contact_id") != con.ID || r.Int("account_id") != acc.ID || r.Int("lead_id") != lead.ID {
				t.Errorf("%s did not follow the lead: %v", r.Entity, r.Values)
			}
		}
		if got := timelineOf(t, s, admin, store.EntContacts, con.ID, "activity"); len(got) != 1 || got[0].RecordID != act.ID {
			t.Errorf("contact timeline = %+v", got)
		}
		changes := timelineOf(t, s, admin, store.EntLeads, lead.ID, "field_change")
		if len(changes) != 1 || changes[0].Field != "status" || changes[0].Old != "qualified" || changes[0].New != "converted" {
			t.Errorf("lead history = %+v", changes)
		}
	})

	t.Run("a converted lead cannot be converted again", func(t *testing.T) {
		before := counts()
		_, err := s.ConvertLead(ctx, admin, lead.ID, store.ConvertInput{Opportunity: &store.ConvertOpportunity{Name: "Una altra"}})
		wantCode(t, err, store.CodeConflict)
		if after := counts(); after != before {
			t.Errorf("counts %v → %v", before, after)
		}
		// Nor taken back out of converted to convert it twice.
		_, err = s.UpdateRecord(ctx, admin, store.EntLeads, lead.ID, store.Input{Values: vals("status", "qualified")})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "status")
		_, err = s.ConvertLead(ctx, admin, lead.ID, store.ConvertInput{})
		wantCode(t, err, store.CodeConflict)
		if after := counts(); after != before {
			t.Errorf("counts %v → %v", before, after)
		}
		// It may still be edited otherwise.
		if r := mustUpdate(t, s, admin, store.EntLeads, lead.ID, store.Input{Values: vals("notes", "Convertit a la fira", "status", "converted")}); r.Str("status") != "converted" || r.Str("notes") != "Convertit a la fira" {
			t.Errorf("edited converted lead: %v", r.Values)
		}
	})

	t.Run("with a new account from the company", func(t *testing.T) {
		l := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Núria", "last_name", "Costa", "company", "Fleca Nova", "phone", "93 555 66 77", "source", "web_form")})
		before := counts()
		conv, err := s.ConvertLead(ctx, admin, l.ID, store.ConvertInput{})
		if err != nil {
			t.Fatal(err)
		}
		a := conv.Account
		if a.ID == acc.ID || a.Str("name") != "Fleca Nova" || a.Str("type") != "customer" || a.Str("origin") != "web_form" || a.Str("phone") != "93 555 66 77" || a.OwnerID != l.OwnerID {
			t.Errorf("new account = %v owner %d", a.Values, a.OwnerID)
		}
		if conv.Contact.Int("account_id") != a.ID || conv.Contact.Refs["account_id"] != "Fleca Nova" {
			t.Errorf("contact = %v", conv.Contact.Values)
		}
		if after := counts(); after != [3]int64{before[0] + 1, before[1] + 1, before[2]} {
			t.Errorf("counts %v → %v", before, after)
		}
		// Without a company the account is named after the person.
		l2 := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Júlia", "last_name", "Vidal")})
		conv, err = s.ConvertLead(ctx, admin, l2.ID, store.ConvertInput{})
		if err != nil {
			t.Fatal(err)
		}
		if conv.Account.Str("name") != "Júlia Vidal" {
			t.Errorf("account of a lead without company = %q", conv.Account.Str("name"))
		}
	})

	t.Run("with an opportunity", func(t *testing.T) {
		l := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Pere", "last_name", "Mas", "company", "Mas Rural")})
		conv, err := s.ConvertLead(ctx, admin, l.ID, store.ConvertInput{AccountID: acc.ID, Opportunity: &store.ConvertOpportunity{Name: "  Primera comanda ", Amount: "1.500,50"}})
		if err != nil {
			t.Fatal(err)
		}
		o := conv.Opportunity
		if o == nil {
			t.Fatal("no opportunity")
		}
		if o.Str("name") != "Primera comanda" || o.Float("amount") != 1500.5 || o.Str("stage") != "reception" || o.Int("account_id") != acc.ID || o.Int("contact_id") != conv.Contact.ID || o.OwnerID != l.OwnerID {
			t.Errorf("opportunity = %v", o.Values)
		}
		if len(o.ContactRoles) != 1 || o.ContactRoles[0].ContactID != conv.Contact.ID || o.ContactRoles[0].Role != "decision_maker" {
			t.Errorf("roles = %+v", o.ContactRoles)
		}
		if got := mustFind(t, s, admin, store.EntLeads, l.ID); got.Int("converted_opportunity_id") != o.ID {
			t.Errorf("lead = %v", got.Values)
		}
		l2 := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Eva", "last_name", "Roig")})
		conv, err = s.ConvertLead(ctx, admin, l2.ID, store.ConvertInput{Opportunity: &store.ConvertOpportunity{}})
		if err != nil {
			t.Fatal(err)
		}
		if conv.Opportunity.Str("name") != "Eva Roig" {
			t.Errorf("unnamed opportunity = %q", conv.Opportunity.Str("name"))
		}
		// A bad amount refuses the whole conversion.
		l3 := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("last_name", "Pi", "company", "Fusteria Pi")})
		before := counts()
		_, err = s.ConvertLead(ctx, admin, l3.ID, store.ConvertInput{Opportunity: &store.ConvertOpportunity{Amount: "molts"}})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "opportunity.amount")
		if after := counts(); after != before {
			t.Errorf("refused conversion created records: %v → %v", before, after)
		}
		if got := mustFind(t, s, admin, store.EntLeads, l3.ID); got.Str("status") != "new" {
			t.Errorf("refused conversion changed the lead: %v", got.Values)
		}
	})

	t.Run("status converted only by conversion", func(t *testing.T) {
		l := mustCreate(t, s, admin, store.EntLeads, store.Input{Values: vals("first_name", "Oriol", "last_name", "Vila")})
		_, err := s.UpdateRecord(ctx, admin, store.EntLeads, l.ID, store.Input{Values: vals("status", "converted")})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "status")
		if got := mustFind(t, s, admin, store.EntLeads, l.ID); got.Str("status") != "new" || got.Version != l.Version {
			t.Errorf("lead = %v", got.Values)
		}
		_, err = s.CreateRecord(ctx, admin, store.EntLeads, store.Input{Values: vals("first_name", "Oriol", "status", "converted")})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "status")
		_, err = s.UpdateRecord(ctx, admin, store.EntLeads, l.ID, store.Input{Values: vals("converted_account_id", acc.ID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "converted_account_id")
		before := counts()
		_, err = s.ConvertLead(ctx, admin, l.ID, store.ConvertInput{AccountID: 999999})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "account_id")
		if after := counts(); after != before {
			t.Errorf("refused conversion created records: %v → %v", before, after)
		}
		_, err = s.ConvertLead(ctx, admin, 999999, store.ConvertInput{})
		wantCode(t, err, store.CodeNotFound)
	})

	t.Run("salespeople convert only their own leads", func(t *testing.T) {
		other := mustCreate(t, s, sp2, store.EntLeads, store.Input{Values: vals("first_name", "Aina", "last_name", "Ferrer", "company", "Ferrer SL")})
		before := counts()
		_, err := s.ConvertLead(ctx, sp1, other.ID, store.ConvertInput{})
		wantCode(t, err, store.CodeNotFound)
		if after := counts(); after != before {
			t.Errorf("refused conversion created records: %v → %v", before, after)
		}
		if got := mustFind(t, s, admin, store.EntLeads, other.ID); got.Str("status") != "new" {
			t.Errorf("lead = %v", got.Values)
		}
		own := mustCreate(t, s, sp1, store.EntLeads, store.Input{Values: vals("first_name", "Bernat", "last_name", "Riu", "company", "Riu i Mar")})
		conv, err := s.ConvertLead(ctx, sp1, own.ID, store.ConvertInput{Opportunity: &store.ConvertOpportunity{Name: "Comanda", Amount: 300.0}})
		if err != nil {
			t.Fatal(err)
		}
		if conv.Account.OwnerID != sp1.UserID || conv.Contact.OwnerID != sp1.UserID || conv.Opportunity.OwnerID != sp1.UserID {
			t.Errorf("owners: account %d contact %d opportunity %d", conv.Account.OwnerID, conv.Contact.OwnerID, conv.Opportunity.OwnerID)
		}
	})
}

func TestStore_Trash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sp := mustUser(t, s, admin, "sp@example.com", "salesperson")
	acc := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Purga SL")})
	tags := []string{"VIP", "Fira"}
	con := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laia", "last_name", "Bosch", "account_id", acc.ID), Tags: &tags})
	opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "Obra nova", "account_id", acc.ID, "contact_id", con.ID)})
	act := mustCreate(t, s, admin, store.EntActivities, store.Input{Values: vals("type", "note", "subject", "Nota", "occurred_at", "2026-01-05T10:00:00Z", "account_id", acc.ID)})

	t.Run("delete and restore", func(t *testing.T) {
		if err := s.DeleteRecord(ctx, admin, store.EntContacts, con.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindRecord(ctx, admin, store.EntContacts, con.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("deleted contact readable: %v", err)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{}); slices.Contains(got, con.ID) {
			t.Errorf("deleted contact listed: %v", got)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Trash: true}); !slices.Equal(got, []int64{con.ID}) {
			t.Errorf("trash = %v", got)
		}
		if n := mustCount(t, s, admin, store.EntContacts, store.Filter{Trash: true}); n != 1 {
			t.Errorf("trash count = %d", n)
		}
		trashed := findInTrash(t, s, admin, store.EntContacts, con.ID)
		if trashed.DeletedAt.IsZero() || !slices.Equal(trashed.Tags, []string{"Fira", "VIP"}) {
			t.Errorf("trashed contact: deleted %v tags %v", trashed.DeletedAt, trashed.Tags)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, con.ID, store.Input{Values: vals("title", "x")}); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("update of a deleted contact: %v", err)
		}
		if err := s.DeleteRecord(ctx, admin, store.EntContacts, con.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("second delete: %v", err)
		}
		// Linked records keep their link while it is in the trash.
		if o := mustFind(t, s, admin, store.EntOpportunities, opp.ID); o.Int("contact_id") != con.ID {
			t.Errorf("opportunity lost its contact: %v", o.Values)
		}
		if err := s.RestoreRecord(ctx, sp, store.EntContacts, con.ID); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("salesperson restores: %v", err)
		}
		if err := s.RestoreRecord(ctx, admin, store.EntContacts, con.ID); err != nil {
			t.Fatal(err)
		}
		back := mustFind(t, s, admin, store.EntContacts, con.ID)
		if !slices.Equal(back.Tags, []string{"Fira", "VIP"}) || back.Int("account_id") != acc.ID || !back.DeletedAt.IsZero() {
			t.Errorf("restored contact: %v tags %v", back.Values, back.Tags)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Tags: []string{"VIP"}}); !slices.Equal(got, []int64{con.ID}) {
			t.Errorf("restored contact by tag = %v", got)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Trash: true}); len(got) != 0 {
			t.Errorf("trash after restore = %v", got)
		}
		if err := s.RestoreRecord(ctx, admin, store.EntContacts, con.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("restore of a live contact: %v", err)
		}
	})

	t.Run("purge", func(t *testing.T) {
		if err := s.PurgeRecord(ctx, admin, store.EntAccounts, acc.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("purge of a live account: %v", err)
		}
		if err := s.DeleteRecord(ctx, admin, store.EntAccounts, acc.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.PurgeRecord(ctx, sp, store.EntAccounts, acc.ID); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("salesperson purges: %v", err)
		}
		if got := listIDs(t, s, admin, store.EntAccounts, store.Filter{Trash: true}); !slices.Equal(got, []int64{acc.ID}) {
			t.Fatalf("refused purge: trash = %v", got)
		}
		if err := s.PurgeRecord(ctx, admin, store.EntAccounts, acc.ID); err != nil {
			t.Fatal(err)
		}
		if got := listIDs(t, s, admin, store.EntAccounts, store.Filter{Trash: true}); len(got) != 0 {
			t.Errorf("trash after purge = %v", got)
		}
		if err := s.RestoreRecord(ctx, admin, store.EntAccounts, acc.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("restore of a purged account: %v", err)
		}
		if err := s.PurgeRecord(ctx, admin, store.EntAccounts, acc.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("second purge: %v", err)
		}
		c := mustFind(t, s, admin, store.EntContacts, con.ID)
		if c.Int("account_id") != 0 || c.Refs["account_id"] != "" || !slices.Equal(c.Tags, []string{"Fira", "VIP"}) {
			t.Errorf("contact of the purged account: %v refs %v tags %v", c.Values, c.Refs, c.Tags)
		}
		if o := mustFind(t, s, admin, store.EntOpportunities, opp.ID); o.Int("account_id") != 0 || o.Int("contact_id") != con.ID {
			t.Errorf("opportunity of the purged account: %v", o.Values)
		}
		if a := mustFind(t, s, admin, store.EntActivities, act.ID); a.Int("account_id") != 0 {
			t.Errorf("activity of the purged account: %v", a.Values)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Eq: map[string]string{"account_id": "0"}}); !slices.Contains(got, con.ID) {
			t.Errorf("contacts without account = %v", got)
		}
	})

	t.Run("salespeople cannot delete or purge", func(t *testing.T) {
		own := mustCreate(t, s, sp, store.EntContacts, store.Input{Values: vals("first_name", "Propi")})
		if err := s.DeleteRecord(ctx, sp, store.EntContacts, own.ID); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("salesperson deletes own contact: %v", err)
		}
		if err := s.DeleteRecord(ctx, admin, store.EntContacts, own.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.PurgeRecord(ctx, sp, store.EntContacts, own.ID); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("salesperson purges own contact: %v", err)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Trash: true}); !slices.Equal(got, []int64{own.ID}) {
			t.Errorf("trash = %v", got)
		}
	})
}

// findInTrash returns a trashed record as the trash list shows it.
func findInTrash(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, id int64) *store.Record {
	t.Helper()
	recs, _, err := s.FindRecords(context.Background(), a, e, store.Filter{Trash: true, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("%s %d not in the trash", e, id)
	return nil
}

func TestStore_FieldHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	acc := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Empresa ABC")})
	con := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laura", "last_name", "Garcia", "email", "laura@abc.com", "notes", "Primera nota")})
	history := func(e store.Entity, id int64) []store.TimelineItem {
		t.Helper()
		return timelineOf(t, s, admin, e, id, "field_change")
	}
	if got := history(store.EntContacts, con.ID); len(got) != 0 {
		t.Fatalf("history of a new contact = %+v", got)
	}

	clk.Advance(time.Minute)
	t1 := clk.Now()
	up := mustUpdate(t, s, admin, store.EntContacts, con.ID, store.Input{Values: vals(
		"first_name", "Laura", // unchanged
		"notes", "Primera nota", // unchanged
		"last_name", "García",
		"email", "laura@empresaabc.cat",
		"phone", "+34 600 11 22 33",
		"title", "Gerent",
		"account_id", strconv.FormatInt(acc.ID, 10),
	)})
	if up.Version != con.Version+1 {
		t.Errorf("version %d → %d", con.Version, up.Version)
	}
	want := map[string][2]string{
		"last_name":  {"Garcia", "García"},
		"email":      {"laura@abc.com", "laura@empresaabc.cat"},
		"phone":      {"", "+34 600 11 22 33"},
		"title":      {"", "Gerent"},
		"account_id": {"", strconv.FormatInt(acc.ID, 10)},
	}
	items := history(store.EntContacts, con.ID)
	if len(items) != len(want) {
		t.Errorf("history has %d items, want %d: %+v", len(items), len(want), items)
	}
	for _, it := range items {
		w, ok := want[it.Field]
		if !ok {
			t.Errorf("unexpected history item %+v", it)
			continue
		}
		if it.Old != w[0] || it.New != w[1] || !it.At.Equal(t1) || it.UserName != "Anna Puig" {
			t.Errorf("history of %s = %q → %q at %v by %q", it.Field, it.Old, it.New, it.At, it.UserName)
		}
		delete(want, it.Field)
	}

	t.Run("no change, no history", func(t *testing.T) {
		clk.Advance(time.Minute)
		same := mustUpdate(t, s, admin, store.EntContacts, con.ID, store.Input{Values: vals("last_name", " García ", "email", "laura@empresaabc.cat", "account_id", float64(acc.ID))})
		if same.Version != up.Version || !same.UpdatedAt.Equal(up.UpdatedAt) {
			t.Errorf("a no-op update bumped version %d → %d", up.Version, same.Version)
		}
		if got := history(store.EntContacts, con.ID); len(got) != 5 {
			t.Errorf("history after a no-op = %d items", len(got))
		}
	})

	t.Run("version mismatch is a conflict", func(t *testing.T) {
		clk.Advance(time.Minute)
		_, err := s.UpdateRecord(ctx, admin, store.EntContacts, con.ID, store.Input{Values: vals("title", "Directora"), Version: con.Version})
		wantCode(t, err, store.CodeConflict)
		if se := store.AsError(err); se.Key != "error.changed_since" {
			t.Errorf("key = %q", se.Key)
		}
		got := mustFind(t, s, admin, store.EntContacts, con.ID)
		if got.Str("title") != "Gerent" || got.Version != up.Version {
			t.Errorf("conflicting update changed the contact: %v v%d", got.Values, got.Version)
		}
		if got := history(store.EntContacts, con.ID); len(got) != 5 {
			t.Errorf("history after a conflict = %d items", len(got))
		}
		ok := mustUpdate(t, s, admin, store.EntContacts, con.ID, store.Input{Values: vals("title", "Directora"), Version: up.Version})
		if ok.Str("title") != "Directora" || ok.Version != up.Version+1 {
			t.Errorf("update at the current version: %v v%d", ok.Values, ok.Version)
		}
		items := history(store.EntContacts, con.ID)
		if len(items) != 6 || items[0].Field != "title" || items[0].Old != "Gerent" || items[0].New != "Directora" || !items[0].At.Equal(clk.Now()) {
			t.Errorf("latest history item = %+v", items[0])
		}
	})

	t.Run("money, tags and owner", func(t *testing.T) {
		sp := mustUser(t, s, admin, "sp@example.com", "salesperson")
		opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "TPV", "amount", 1000.0)})
		clk.Advance(time.Minute)
		tags := []string{"VIP"}
		mustUpdate(t, s, admin, store.EntOpportunities, opp.ID, store.Input{Values: vals("amount", "1.250,50", "owner_id", sp.UserID), Tags: &tags})
		got := map[string]string{}
		for _, it := range history(store.EntOpportunities, opp.ID) {
			got[it.Field] = it.Old + "→" + it.New
		}
		want := map[string]string{
			"amount":   "1000.00→1250.50",
			"tags":     "→VIP",
			"owner_id": strconv.FormatInt(admin.UserID, 10) + "→" + strconv.FormatInt(sp.UserID, 10),
		}
		if len(got) != len(want) {
			t.Errorf("history = %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("history of %s = %q, want %q", k, got[k], v)
			}
		}
	})
}

func TestStore_Tags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sp := mustUser(t, s, admin, "sp@example.com", "salesperson")
	tagNames := func(prefix string) []string {
		t.Helper()
		tags, err := s.FindTags(ctx, admin, prefix, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tg := range tags {
			out = append(out, tg.Name)
		}
		return out
	}
	tagID := func(name string) int64 {
		t.Helper()
		tags, err := s.FindTags(ctx, admin, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			if tg.Name == name {
				return tg.ID
			}
		}
		t.Fatalf("no tag %q", name)
		return 0
	}
	withTags := func(name string, tags ...string) *store.Record {
		t.Helper()
		return mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", name), Tags: &tags})
	}

	t.Run("de-duplicated case-insensitively", func(t *testing.T) {
		c := withTags("Anna", "VIP", "vip", " Vip ", "Client  Potencial", "", "  ")
		if !slices.Equal(c.Tags, []string{"Client Potencial", "VIP"}) {
			t.Errorf("tags = %q", c.Tags)
		}
		c2 := withTags("Bet", "client potencial", "ÈPOCA")
		if !slices.Equal(c2.Tags, []string{"Client Potencial", "ÈPOCA"}) {
			t.Errorf("tags reuse the existing name: %q", c2.Tags)
		}
		c3 := withTags("Carla", "època", "Època")
		if !slices.Equal(c3.Tags, []string{"ÈPOCA"}) {
			t.Errorf("non-ASCII case: %q", c3.Tags)
		}
		if got := tagNames(""); !slices.Equal(got, []string{"Client Potencial", "ÈPOCA", "VIP"}) {
			t.Errorf("all tags = %q", got)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Tags: []string{"client potencial"}}); !slices.Equal(got, []int64{c.ID, c2.ID}) {
			t.Errorf("by tag = %v", got)
		}
		// Re-sending the same tags in another case changes nothing.
		same := []string{"vip", "CLIENT POTENCIAL"}
		if r := mustUpdate(t, s, admin, store.EntContacts, c.ID, store.Input{Tags: &same}); r.Version != c.Version {
			t.Errorf("same tags bumped the version")
		}
	})

	t.Run("commas refused", func(t *testing.T) {
		c := withTags("Dídac", "Fira")
		for _, bad := range [][]string{{"a,b"}, {"Fira", "x;y"}, {"control\x01"}, {strings.Repeat("llarg", 11)}} {
			_, err := s.UpdateRecord(ctx, admin, store.EntContacts, c.ID, store.Input{Tags: &bad})
			wantCode(t, err, store.CodeInvalid)
			wantField(t, err, "tags")
			_, err = s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: vals("first_name", "Refusat"), Tags: &bad})
			wantCode(t, err, store.CodeInvalid)
		}
		if r := mustFind(t, s, admin, store.EntContacts, c.ID); !slices.Equal(r.Tags, []string{"Fira"}) || r.Version != c.Version {
			t.Errorf("refused tags changed the contact: %q", r.Tags)
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Q: "refusat"}); len(got) != 0 {
			t.Errorf("refused contacts created: %v", got)
		}
		if err := s.RenameTag(ctx, admin, tagID("Fira"), "Fira, 2026"); store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("rename with a comma: %v", err)
		}
	})

	t.Run("rename and merge", func(t *testing.T) {
		a := withTags("Elna", "Prioritat", "Nord")
		b := withTags("Ferran", "Nord")
		if err := s.RenameTag(ctx, sp, tagID("Nord"), "Zona Nord"); store.ErrorCode(err) != store.CodeForbidden {
			t.Errorf("salesperson renames: %v", err)
		}
		if err := s.RenameTag(ctx, admin, tagID("Nord"), "  Zona   Nord "); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{a.ID, b.ID} {
			if r := mustFind(t, s, admin, store.EntContacts, id); !slices.Contains(r.Tags, "Zona Nord") || slices.Contains(r.Tags, "Nord") {
				t.Errorf("after rename %d has %q", id, r.Tags)
			}
		}
		if got := listIDs(t, s, admin, store.EntContacts, store.Filter{Tags: []string{"Zona Nord"}}); !slices.Equal(got, []int64{a.ID, b.ID}) {
			t.Errorf("by renamed tag = %v", got)
		}
		// Renaming onto an existing name (in another case) merges: records
		// that had both keep one.
		old := tagID("Prioritat")
		if err := s.RenameTag(ctx, admin, old, "zona nord"); err != nil {
			t.Fatal(err)
		}
		if r := mustFind(t, s, admin, store.EntContacts, a.ID); !slices.Equal(r.Tags, []string{"Zona Nord"}) {
			t.Errorf("after merge a has %q", r.Tags)
		}
		if r := mustFind(t, s, admin, store.EntContacts, b.ID); !slices.Equal(r.Tags, []string{"Zona Nord"}) {
			t.Errorf("after merge b has %q", r.Tags)
		}
		tags, err := s.FindTags(ctx, admin, "zona", 0)
		if err != nil || len(tags) != 1 || tags[0].Name != "Zona Nord" || tags[0].Count != 2 {
			t.Errorf("merged tag = %+v, %v", tags, err)
		}
		if got := tagNames("prior"); len(got) != 0 {
			t.Errorf("merged tag still listed: %q", got)
		}
		if err := s.RenameTag(ctx, admin, old, "Una altra"); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("rename of a merged tag: %v", err)
		}
		// Changing only the case renames in place.
		if err := s.RenameTag(ctx, admin, tagID("Zona Nord"), "ZONA NORD"); err != nil {
			t.Fatal(err)
		}
		if r := mustFind(t, s, admin, store.EntContacts, b.ID); !slices.Equal(r.Tags, []string{"ZONA NORD"}) {
			t.Errorf("after case rename b has %q", r.Tags)
		}
		// Merging into a name that differs in the case of an accented letter.
		withTags("Gina", "Àrea Sud")
		h := withTags("Hug", "àrea sud")
		if r := mustFind(t, s, admin, store.EntContacts, h.ID); !slices.Equal(r.Tags, []string{"Àrea Sud"}) {
			t.Errorf("accented tag in another case = %q", r.Tags)
		}
	})

	t.Run("FindTags prefix is accent-insensitive", func(t *testing.T) {
		withTags("Irene", "Àrea Nord", "Arenys", "Barcelona", "Ànec")
		for prefix, want := range map[string][]string{
			"area": {"Àrea Nord", "Àrea Sud"},
			"ÀREA": {"Àrea Nord", "Àrea Sud"},
			"are":  {"Àrea Nord", "Àrea Sud", "Arenys"},
			"an":   {"Ànec"},
			"bar":  {"Barcelona"},
			"xyz":  nil,
		} {
			if got := tagNames(prefix); !slices.Equal(got, want) {
				t.Errorf("prefix %q = %q, want %q", prefix, got, want)
			}
		}
	})
}

func TestStore_SavedViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	a := mustUser(t, s, admin, "a@example.com", "salesperson")
	b := mustUser(t, s, admin, "b@example.com", "salesperson")
	names := func(who *store.Actor, e store.Entity) []string {
		t.Helper()
		vs, err := s.FindSavedViews(ctx, who, e)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.Name+"?"+v.Query)
		}
		return out
	}

	v1, err := s.SaveView(ctx, a, store.EntTasks, "Obertes", "status=open")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := s.SaveView(ctx, a, store.EntTasks, " Obertes ", "status=open&priority=high")
	if err != nil {
		t.Fatal(err)
	}
	if v2.ID != v1.ID {
		t.Errorf("replacing by name made a new view: %d → %d", v1.ID, v2.ID)
	}
	if _, err := s.SaveView(ctx, a, store.EntTasks, "Acabades", "status=done"); err != nil {
		t.Fatal(err)
	}
	bv, err := s.SaveView(ctx, b, store.EntTasks, "Obertes", "status=open")
	if err != nil {
		t.Fatal(err)
	}
	if bv.ID == v1.ID {
		t.Error("B's view of the same name replaced A's")
	}
	if got := names(a, store.EntTasks); !slices.Equal(got, []string{"Acabades?status=done", "Obertes?status=open&priority=high"}) {
		t.Errorf("A's views = %q", got)
	}
	if got := names(b, store.EntTasks); !slices.Equal(got, []string{"Obertes?status=open"}) {
		t.Errorf("B's views = %q", got)
	}
	if got := names(a, store.EntLeads); len(got) != 0 {
		t.Errorf("A's lead views = %q", got)
	}
	for _, bad := range []struct{ name, query string }{{"", "a=1"}, {"  ", "a=1"}, {"Dolenta", "a=%zz"}, {"Llarga", "q=" + strings.Repeat("x", 2001)}} {
		if _, err := s.SaveView(ctx, a, store.EntTasks, bad.name, bad.query); store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("save %q %q: %v", bad.name, bad.query, err)
		}
	}
	if _, err := s.SaveView(ctx, a, store.Entity("users"), "X", "a=1"); err == nil {
		t.Error("saved a view of an unknown record type")
	}

	if err := s.DeleteView(ctx, b, v1.ID); store.ErrorCode(err) != store.CodeNotFound {
		t.Errorf("B deletes A's view: %v", err)
	}
	if got := names(a, store.EntTasks); len(got) != 2 {
		t.Errorf("A's views after B's attempt = %q", got)
	}
	if err := s.DeleteView(ctx, a, v1.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(a, store.EntTasks); !slices.Equal(got, []string{"Acabades?status=done"}) {
		t.Errorf("A's views after delete = %q", got)
	}
	if err := s.DeleteView(ctx, a, v1.ID); store.ErrorCode(err) != store.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}
	if got := names(b, store.EntTasks); len(got) != 1 {
		t.Errorf("B's views = %q", got)
	}
}
