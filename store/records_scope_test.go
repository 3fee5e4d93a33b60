package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"cartera/store"
)

// scopeUser creates a user with a role on a team and returns them as an actor.
func scopeUser(t *testing.T, s *store.Store, admin *store.Actor, email, role string, team int64) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: email, Password: "password-123", RoleKey: role, TeamID: team})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// listIDs returns the ids of every record of e the actor sees (all pages).
func listIDs(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, f store.Filter) []int64 {
	t.Helper()
	var ids []int64
	f.Limit = 200
	for {
		recs, next, err := s.FindRecords(context.Background(), a, e, f)
		if err != nil {
			t.Fatalf("list %s: %v", e, err)
		}
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if next == "" {
			return ids
		}
		f.Cursor = next
	}
}

// searchIDs returns the ids Search finds for q, by entity.
func searchIDs(t *testing.T, s *store.Store, a *store.Actor, q string, perType int) map[store.Entity][]int64 {
	t.Helper()
	groups, err := s.Search(context.Background(), a, q, perType)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	out := map[store.Entity][]int64{}
	for _, g := range groups {
		for _, r := range g.Records {
			out[g.Entity] = append(out[g.Entity], r.ID)
		}
	}
	return out
}

// mustFind reads a record that must exist for the actor.
func mustFind(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, id int64) *store.Record {
	t.Helper()
	r, err := s.FindRecord(context.Background(), a, e, id)
	if err != nil {
		t.Fatalf("find %s %d: %v", e, id, err)
	}
	return r
}

// mustCount counts the records of e the actor sees.
func mustCount(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, f store.Filter) int64 {
	t.Helper()
	n, err := s.CountRecords(context.Background(), a, e, f)
	if err != nil {
		t.Fatalf("count %s: %v", e, err)
	}
	return n
}

func TestStore_RecordScopes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	north, err := s.SaveTeam(ctx, admin, 0, "Equip Nord")
	if err != nil {
		t.Fatal(err)
	}
	south, err := s.SaveTeam(ctx, admin, 0, "Equip Sud")
	if err != nil {
		t.Fatal(err)
	}
	team := map[store.Action]store.Scope{store.ActView: store.ScopeTeam, store.ActCreate: store.ScopeTeam, store.ActEdit: store.ScopeTeam}
	own := map[store.Action]store.Scope{store.ActView: store.ScopeOwn, store.ActCreate: store.ScopeOwn, store.ActEdit: store.ScopeOwn}
	if _, err := s.CreateRole(ctx, admin, store.RoleInput{Key: "sales_manager", Name: "Sales manager", Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{
		store.EntAccounts:      {store.ActView: store.ScopeAll, store.ActCreate: store.ScopeOwn, store.ActEdit: store.ScopeOwn},
		store.EntContacts:      team,
		store.EntLeads:         team,
		store.EntOpportunities: team,
		store.EntActivities:    own,
		store.EntTasks:         own,
	}}, Sections: []store.Section{"home", "accounts", "contacts", "leads", "opportunities"}}); err != nil {
		t.Fatal(err)
	}
	a := scopeUser(t, s, admin, "a@example.com", "salesperson", north.ID)
	c := scopeUser(t, s, admin, "c@example.com", "salesperson", north.ID)
	b := scopeUser(t, s, admin, "b@example.com", "salesperson", south.ID)
	m := scopeUser(t, s, admin, "m@example.com", "sales_manager", north.ID)

	shared := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Compartida SA")})
	accA := mustCreate(t, s, a, store.EntAccounts, store.Input{Values: vals("name", "Botiga Alfa")})
	accB := mustCreate(t, s, b, store.EntAccounts, store.Input{Values: vals("name", "Taller Beta")})
	conB := mustCreate(t, s, b, store.EntContacts, store.Input{Values: vals("first_name", "Berta", "last_name", "Bosch", "email", "berta@bosch.cat")})
	oppA := mustCreate(t, s, a, store.EntOpportunities, store.Input{Values: vals("name", "Projecte Alfa", "stage", "proposal", "amount", 1000.0, "account_id", shared.ID)})
	oppB := mustCreate(t, s, b, store.EntOpportunities, store.Input{Values: vals("name", "Projecte Beta", "stage", "proposal", "amount", 5000.0, "account_id", shared.ID)})
	oppC := mustCreate(t, s, c, store.EntOpportunities, store.Input{Values: vals("name", "Projecte Gamma", "stage", "qualification")})
	leadA := mustCreate(t, s, a, store.EntLeads, store.Input{Values: vals("first_name", "Lluc", "last_name", "Alfa", "email", "duplicat@lead.cat")})
	leadB := mustCreate(t, s, b, store.EntLeads, store.Input{Values: vals("first_name", "Bernat", "last_name", "Beta", "email", "duplicat@lead.cat")})
	actA := mustCreate(t, s, a, store.EntActivities, store.Input{Values: vals("type", "visit", "subject", "Visita Alfa", "occurred_at", "2026-01-10T10:00:00Z", "account_id", shared.ID)})
	actB := mustCreate(t, s, b, store.EntActivities, store.Input{Values: vals("type", "visit", "subject", "Visita Beta", "occurred_at", "2026-01-11T10:00:00Z", "opportunity_id", oppB.ID)})
	taskA := mustCreate(t, s, a, store.EntTasks, store.Input{Values: vals("title", "Tasca Alfa", "account_id", shared.ID)})
	taskB := mustCreate(t, s, b, store.EntTasks, store.Input{Values: vals("title", "Tasca Beta", "account_id", shared.ID)})
	if actB.Int("account_id") != shared.ID {
		t.Fatalf("B's activity did not inherit the shared account: %v", actB.Values)
	}

	t.Run("FindRecord hides the other salesperson's records", func(t *testing.T) {
		for _, r := range []*store.Record{oppB, leadB, actB, taskB} {
			_, err := s.FindRecord(ctx, a, r.Entity, r.ID)
			if store.ErrorCode(err) != store.CodeNotFound {
				t.Errorf("A reads B's %s %d: %v, want not_found", r.Entity, r.ID, err)
			}
		}
		for _, r := range []*store.Record{oppA, leadA, actA, taskA, accB, conB} {
			mustFind(t, s, a, r.Entity, r.ID)
		}
	})

	t.Run("FindRecords and CountRecords list only visible records", func(t *testing.T) {
		want := map[store.Entity][]int64{
			store.EntOpportunities: {oppA.ID},
			store.EntLeads:         {leadA.ID},
			store.EntActivities:    {actA.ID},
			store.EntTasks:         {taskA.ID},
		}
		for e, ids := range want {
			if got := listIDs(t, s, a, e, store.Filter{}); !slices.Equal(got, ids) {
				t.Errorf("A lists %s %v, want %v", e, got, ids)
			}
			if n := mustCount(t, s, a, e, store.Filter{}); n != int64(len(ids)) {
				t.Errorf("A counts %d %s, want %d", n, e, len(ids))
			}
			// Asking for B's records by owner does not widen the scope.
			if got := listIDs(t, s, a, e, store.Filter{OwnerID: b.UserID}); len(got) != 0 {
				t.Errorf("A lists B's %s: %v", e, got)
			}
			if n := mustCount(t, s, a, e, store.Filter{OwnerID: b.UserID}); n != 0 {
				t.Errorf("A counts %d of B's %s", n, e)
			}
		}
		if got := listIDs(t, s, a, store.EntActivities, store.Filter{Q: "visita"}); !slices.Equal(got, []int64{actA.ID}) {
			t.Errorf("A's activity search = %v", got)
		}
	})

	t.Run("Search", func(t *testing.T) {
		for _, q := range []string{"Projecte", "Beta", "Bernat", "duplicat"} {
			got := searchIDs(t, s, a, q, 10)
			for _, id := range got[store.EntOpportunities] {
				if id != oppA.ID {
					t.Errorf("A's search %q found opportunity %d", q, id)
				}
			}
			for _, id := range got[store.EntLeads] {
				if id != leadA.ID {
					t.Errorf("A's search %q found lead %d", q, id)
				}
			}
		}
		if got := searchIDs(t, s, a, "Projecte", 10); !slices.Equal(got[store.EntOpportunities], []int64{oppA.ID}) {
			t.Errorf("A's search Projecte = %v", got)
		}
		if got := searchIDs(t, s, admin, "Projecte", 10); len(got[store.EntOpportunities]) != 3 {
			t.Errorf("admin's search Projecte = %v", got)
		}
	})

	t.Run("Timeline", func(t *testing.T) {
		if _, err := s.Timeline(ctx, a, store.EntOpportunities, oppB.ID, 0); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("A's timeline of B's opportunity: %v, want not_found", err)
		}
		if _, err := s.Timeline(ctx, a, store.EntLeads, leadB.ID, 0); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("A's timeline of B's lead: %v, want not_found", err)
		}
		tl, err := s.Timeline(ctx, a, store.EntAccounts, shared.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, it := range tl {
			if it.Kind == "activity" || it.Kind == "task" {
				got[it.Kind+strconv.FormatInt(it.RecordID, 10)] = it.Subject
			}
		}
		if len(got) != 2 || got["activity"+strconv.FormatInt(actA.ID, 10)] != "Visita Alfa" || got["task"+strconv.FormatInt(taskA.ID, 10)] != "Tasca Alfa" {
			t.Errorf("A's timeline of the shared account = %v", got)
		}
		atl, err := s.Timeline(ctx, admin, store.EntAccounts, shared.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range atl {
			if it.Kind == "activity" || it.Kind == "task" {
				n++
			}
		}
		if n != 4 {
			t.Errorf("admin's timeline of the shared account has %d activities and tasks, want 4", n)
		}
	})

	t.Run("Board", func(t *testing.T) {
		cols, err := s.Board(ctx, a, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, col := range cols {
			total += col.Count
			for _, r := range col.Records {
				if r.ID != oppA.ID {
					t.Errorf("A's board shows opportunity %d in %s", r.ID, col.Stage)
				}
			}
			if col.Stage == "proposal" && (col.Count != 1 || col.Amount != 1000 || len(col.Records) != 1) {
				t.Errorf("A's proposal column = count %d amount %v cards %d", col.Count, col.Amount, len(col.Records))
			}
		}
		if total != 1 {
			t.Errorf("A's board counts %d opportunities", total)
		}
		cols, err = s.Board(ctx, a, b.UserID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range cols {
			if col.Count != 0 || len(col.Records) != 0 || col.Amount != 0 {
				t.Errorf("A's board filtered on B shows %s: %+v", col.Stage, col)
			}
		}
	})

	t.Run("BulkUpdate is all or nothing", func(t *testing.T) {
		_, err := s.BulkUpdate(ctx, a, store.EntOpportunities, []int64{oppA.ID, oppB.ID}, store.BulkAction{AddTag: "Prioritat"})
		wantCode(t, err, store.CodeNotFound)
		if r := mustFind(t, s, a, store.EntOpportunities, oppA.ID); len(r.Tags) != 0 || r.Version != oppA.Version {
			t.Errorf("refused bulk tag changed A's opportunity: tags %v version %d", r.Tags, r.Version)
		}
		if r := mustFind(t, s, admin, store.EntOpportunities, oppB.ID); len(r.Tags) != 0 {
			t.Errorf("refused bulk tag changed B's opportunity: %v", r.Tags)
		}
		_, err = s.BulkUpdate(ctx, a, store.EntOpportunities, []int64{oppA.ID, oppB.ID}, store.BulkAction{OwnerID: a.UserID})
		wantCode(t, err, store.CodeNotFound)
		if r := mustFind(t, s, admin, store.EntOpportunities, oppB.ID); r.OwnerID != b.UserID {
			t.Errorf("A took B's opportunity: owner %d", r.OwnerID)
		}
		// The manager may reassign A's opportunity, but not with B's in the list.
		_, err = s.BulkUpdate(ctx, m, store.EntOpportunities, []int64{oppA.ID, oppB.ID}, store.BulkAction{OwnerID: c.UserID})
		wantCode(t, err, store.CodeNotFound)
		if r := mustFind(t, s, admin, store.EntOpportunities, oppA.ID); r.OwnerID != a.UserID || r.Version != oppA.Version {
			t.Errorf("refused bulk assign changed A's opportunity: owner %d version %d", r.OwnerID, r.Version)
		}
		// Visible but not editable: B's account.
		_, err = s.BulkUpdate(ctx, a, store.EntAccounts, []int64{accA.ID, accB.ID}, store.BulkAction{AddTag: "Visitat"})
		wantCode(t, err, store.CodeForbidden)
		if r := mustFind(t, s, a, store.EntAccounts, accA.ID); len(r.Tags) != 0 {
			t.Errorf("refused bulk tag changed A's account: %v", r.Tags)
		}
		_, err = s.BulkUpdate(ctx, a, store.EntOpportunities, []int64{oppA.ID}, store.BulkAction{Delete: true})
		wantCode(t, err, store.CodeForbidden)
		mustFind(t, s, a, store.EntOpportunities, oppA.ID)
		// A list of only A's own records works.
		if n, err := s.BulkUpdate(ctx, a, store.EntAccounts, []int64{accA.ID}, store.BulkAction{AddTag: "Visitat"}); err != nil || n != 1 {
			t.Fatalf("bulk tag own account = %d, %v", n, err)
		}
		if r := mustFind(t, s, a, store.EntAccounts, accA.ID); !slices.Equal(r.Tags, []string{"Visitat"}) {
			t.Errorf("own bulk tag: %v", r.Tags)
		}
	})

	t.Run("UpdateRecord and DeleteRecord", func(t *testing.T) {
		_, err := s.UpdateRecord(ctx, a, store.EntOpportunities, oppB.ID, store.Input{Values: vals("name", "Robat")})
		wantCode(t, err, store.CodeNotFound)
		_, err = s.UpdateRecord(ctx, a, store.EntLeads, leadB.ID, store.Input{Values: vals("status", "contacted")})
		wantCode(t, err, store.CodeNotFound)
		_, err = s.UpdateRecord(ctx, a, store.EntTasks, taskB.ID, store.Input{Values: vals("status", "done")})
		wantCode(t, err, store.CodeNotFound)
		_, err = s.UpdateRecord(ctx, a, store.EntAccounts, accB.ID, store.Input{Values: vals("city", "Vic")})
		wantCode(t, err, store.CodeForbidden)
		_, err = s.UpdateRecord(ctx, a, store.EntContacts, conB.ID, store.Input{Values: vals("title", "Gerent")})
		wantCode(t, err, store.CodeForbidden)
		if r := mustFind(t, s, admin, store.EntAccounts, accB.ID); r.Str("city") != "" || r.Version != accB.Version {
			t.Errorf("refused update changed B's account: %v", r.Values)
		}
		for _, r := range []*store.Record{oppA, oppB, accA, accB, actA, taskB} {
			if err := s.DeleteRecord(ctx, a, r.Entity, r.ID); store.ErrorCode(err) != store.CodeForbidden {
				t.Errorf("A deletes %s %d: %v, want forbidden", r.Entity, r.ID, err)
			}
		}
		mustFind(t, s, admin, store.EntOpportunities, oppB.ID)
		mustFind(t, s, a, store.EntAccounts, accA.ID)
	})

	t.Run("links", func(t *testing.T) {
		con := mustCreate(t, s, a, store.EntContacts, store.Input{Values: vals("first_name", "Anna", "last_name", "Alsina", "account_id", accB.ID)})
		if con.Int("account_id") != accB.ID || con.Refs["account_id"] != "Taller Beta" {
			t.Errorf("A's contact of B's account: %v %v", con.Values, con.Refs)
		}
		before := mustCount(t, s, admin, store.EntActivities, store.Filter{})
		_, err := s.CreateRecord(ctx, a, store.EntActivities, store.Input{Values: vals("type", "call", "subject", "Trucada", "occurred_at", "2026-02-01T09:00:00Z", "opportunity_id", oppB.ID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "opportunity_id")
		_, err = s.CreateRecord(ctx, a, store.EntTasks, store.Input{Values: vals("title", "Seguiment", "lead_id", leadB.ID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "lead_id")
		if after := mustCount(t, s, admin, store.EntActivities, store.Filter{}); after != before {
			t.Errorf("refused activity was created: %d → %d", before, after)
		}
		// Relinking A's own activity to B's opportunity is refused too.
		_, err = s.UpdateRecord(ctx, a, store.EntActivities, actA.ID, store.Input{Values: vals("opportunity_id", oppB.ID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "opportunity_id")
		if r := mustFind(t, s, a, store.EntActivities, actA.ID); r.Int("opportunity_id") != 0 {
			t.Errorf("refused relink stored: %v", r.Values)
		}
	})

	t.Run("FindDuplicates", func(t *testing.T) {
		for _, tc := range []struct {
			actor *store.Actor
			want  []int64
		}{{a, []int64{leadA.ID}}, {b, []int64{leadB.ID}}, {m, []int64{leadA.ID}}, {c, nil}, {admin, []int64{leadA.ID, leadB.ID}}} {
			dups, err := s.FindDuplicates(ctx, tc.actor, store.EntLeads, vals("email", "DUPLICAT@lead.cat"), 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range dups {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s's duplicates = %v, want %v", tc.actor.Email, got, tc.want)
			}
		}
	})

	t.Run("Refs of invisible records are absent", func(t *testing.T) {
		task := mustCreate(t, s, admin, store.EntTasks, store.Input{Values: vals("title", "Revisar oferta", "assignee_id", a.UserID, "opportunity_id", oppB.ID, "lead_id", leadB.ID)})
		for _, r := range []*store.Record{mustFind(t, s, a, store.EntTasks, task.ID), findIn(t, s, a, store.EntTasks, task.ID)} {
			if _, ok := r.Refs["opportunity_id"]; ok {
				t.Errorf("A sees the title of B's opportunity: %v", r.Refs)
			}
			if _, ok := r.Refs["lead_id"]; ok {
				t.Errorf("A sees the title of B's lead: %v", r.Refs)
			}
			if r.Refs["account_id"] != "Compartida SA" {
				t.Errorf("A's task account title = %q", r.Refs["account_id"])
			}
		}
		if r := mustFind(t, s, admin, store.EntTasks, task.ID); r.Refs["opportunity_id"] != "Projecte Beta" {
			t.Errorf("admin's refs = %v", r.Refs)
		}
		// A links B's contact (contacts are visible to salespeople); the
		// team manager, who cannot see B's contact, gets no name for it.
		roles := []store.ContactRole{{ContactID: conB.ID, Role: "influencer"}}
		if _, err := s.UpdateRecord(ctx, a, store.EntOpportunities, oppA.ID, store.Input{Values: vals("contact_id", conB.ID), ContactRoles: &roles}); err != nil {
			t.Fatal(err)
		}
		if r := mustFind(t, s, a, store.EntOpportunities, oppA.ID); r.Refs["contact_id"] != "Berta Bosch" || len(r.ContactRoles) != 1 || r.ContactRoles[0].ContactName != "Berta Bosch" {
			t.Errorf("A's view: refs %v roles %+v", r.Refs, r.ContactRoles)
		}
		for _, r := range []*store.Record{mustFind(t, s, m, store.EntOpportunities, oppA.ID), findIn(t, s, m, store.EntOpportunities, oppA.ID)} {
			if _, ok := r.Refs["contact_id"]; ok {
				t.Errorf("manager sees the title of B's contact: %v", r.Refs)
			}
			if len(r.ContactRoles) != 1 || r.ContactRoles[0].ContactName != "" {
				t.Errorf("manager sees B's contact in roles: %+v", r.ContactRoles)
			}
		}
		// Nor can the manager set a role for a contact they cannot see.
		_, err := s.UpdateRecord(ctx, m, store.EntOpportunities, oppC.ID, store.Input{ContactRoles: &roles})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "contact_roles")
	})

	t.Run("team manager", func(t *testing.T) {
		mustFind(t, s, m, store.EntOpportunities, oppA.ID)
		mustFind(t, s, m, store.EntOpportunities, oppC.ID)
		mustFind(t, s, m, store.EntLeads, leadA.ID)
		if _, err := s.FindRecord(ctx, m, store.EntOpportunities, oppB.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("manager reads B's opportunity: %v", err)
		}
		if _, err := s.FindRecord(ctx, m, store.EntLeads, leadB.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("manager reads B's lead: %v", err)
		}
		if got := listIDs(t, s, m, store.EntOpportunities, store.Filter{}); !slices.Equal(sorted(got), sorted([]int64{oppA.ID, oppC.ID})) {
			t.Errorf("manager lists %v", got)
		}
		if n := mustCount(t, s, m, store.EntOpportunities, store.Filter{}); n != 2 {
			t.Errorf("manager counts %d", n)
		}
		if got := searchIDs(t, s, m, "Projecte", 10); !slices.Equal(sorted(got[store.EntOpportunities]), sorted([]int64{oppA.ID, oppC.ID})) {
			t.Errorf("manager's search = %v", got)
		}
		if _, err := s.Timeline(ctx, m, store.EntOpportunities, oppB.ID, 0); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("manager's timeline of B's opportunity: %v", err)
		}
	})

	t.Run("owner assignment", func(t *testing.T) {
		before := mustCount(t, s, admin, store.EntOpportunities, store.Filter{})
		_, err := s.CreateRecord(ctx, a, store.EntOpportunities, store.Input{Values: vals("name", "Regal", "owner_id", b.UserID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "owner_id")
		_, err = s.CreateRecord(ctx, a, store.EntTasks, store.Input{Values: vals("title", "Regal", "assignee_id", b.UserID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "assignee_id")
		if after := mustCount(t, s, admin, store.EntOpportunities, store.Filter{}); after != before {
			t.Errorf("refused opportunity created")
		}
		_, err = s.UpdateRecord(ctx, a, store.EntOpportunities, oppA.ID, store.Input{Values: vals("owner_id", b.UserID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "owner_id")
		if r := mustFind(t, s, a, store.EntOpportunities, oppA.ID); r.OwnerID != a.UserID {
			t.Errorf("A gave away the opportunity: owner %d", r.OwnerID)
		}
		// The manager may not give a teammate's opportunity to another team.
		_, err = s.UpdateRecord(ctx, m, store.EntOpportunities, oppA.ID, store.Input{Values: vals("owner_id", b.UserID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "owner_id")
		_, err = s.CreateRecord(ctx, m, store.EntOpportunities, store.Input{Values: vals("name", "Regal", "owner_id", b.UserID)})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "owner_id")
		// ... but may move it within the team.
		r, err := s.UpdateRecord(ctx, m, store.EntOpportunities, oppA.ID, store.Input{Values: vals("owner_id", c.UserID)})
		if err != nil {
			t.Fatal(err)
		}
		if r.OwnerID != c.UserID {
			t.Errorf("owner = %d, want %d", r.OwnerID, c.UserID)
		}
		mustFind(t, s, c, store.EntOpportunities, oppA.ID)
		if _, err := s.FindRecord(ctx, a, store.EntOpportunities, oppA.ID); store.ErrorCode(err) != store.CodeNotFound {
			t.Errorf("A still sees the reassigned opportunity: %v", err)
		}
		created, err := s.CreateRecord(ctx, m, store.EntOpportunities, store.Input{Values: vals("name", "Per a la Carla", "owner_id", c.UserID)})
		if err != nil || created.OwnerID != c.UserID {
			t.Fatalf("manager creates for a teammate: %v", err)
		}
	})
}

// findIn returns record id as FindRecords lists it for the actor.
func findIn(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, id int64) *store.Record {
	t.Helper()
	f := store.Filter{Limit: 200}
	for {
		recs, next, err := s.FindRecords(context.Background(), a, e, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.ID == id {
				return r
			}
		}
		if next == "" {
			t.Fatalf("%s %d not listed", e, id)
		}
		f.Cursor = next
	}
}

func sorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
