package store_test

import (
	"context"
	"testing"

	"cartera/store"
)

// Shorthands for the expected-permission tables below.
const (
	sN = store.ScopeNone
	sO = store.ScopeOwn
	sT = store.ScopeTeam
	sA = store.ScopeAll
)

// roleScopes is the expected scope of each action, in the order of
// store.Actions: view, create, edit, delete, export.
type roleScopes [5]store.Scope

// expectedRoles is the permission matrix of the built-in roles, written out
// from the product specification (not derived from the store's own table):
//
//   - Administrator: everything.
//   - Salesperson: accounts and contacts view all, create own, edit own;
//     leads, opportunities, activities, tasks view/create/edit own; reports
//     view own; no delete, no export, nothing on cases/segments/campaigns.
//   - Service agent: accounts and contacts view all (read-only); cases,
//     activities, tasks view/create/edit own; reports view own.
//   - Marketing: contacts view all; leads view/create/edit/export all;
//     segments and campaigns view/create/edit/delete all; reports view all.
var expectedRoles = map[string]map[store.Entity]roleScopes{
	"admin": {
		store.EntAccounts:      {sA, sA, sA, sA, sA},
		store.EntContacts:      {sA, sA, sA, sA, sA},
		store.EntLeads:         {sA, sA, sA, sA, sA},
		store.EntOpportunities: {sA, sA, sA, sA, sA},
		store.EntActivities:    {sA, sA, sA, sA, sA},
		store.EntTasks:         {sA, sA, sA, sA, sA},
		store.EntCases:         {sA, sA, sA, sA, sA},
		store.EntSegments:      {sA, sA, sA, sA, sA},
		store.EntCampaigns:     {sA, sA, sA, sA, sA},
		store.EntReports:       {sA, sA, sA, sA, sA},
	},
	"salesperson": {
		store.EntAccounts:      {sA, sO, sO, sN, sN},
		store.EntContacts:      {sA, sO, sO, sN, sN},
		store.EntLeads:         {sO, sO, sO, sN, sN},
		store.EntOpportunities: {sO, sO, sO, sN, sN},
		store.EntActivities:    {sO, sO, sO, sN, sN},
		store.EntTasks:         {sO, sO, sO, sN, sN},
		store.EntCases:         {sN, sN, sN, sN, sN},
		store.EntSegments:      {sN, sN, sN, sN, sN},
		store.EntCampaigns:     {sN, sN, sN, sN, sN},
		store.EntReports:       {sO, sN, sN, sN, sN},
	},
	"service_agent": {
		store.EntAccounts:      {sA, sN, sN, sN, sN},
		store.EntContacts:      {sA, sN, sN, sN, sN},
		store.EntLeads:         {sN, sN, sN, sN, sN},
		store.EntOpportunities: {sN, sN, sN, sN, sN},
		store.EntActivities:    {sO, sO, sO, sN, sN},
		store.EntTasks:         {sO, sO, sO, sN, sN},
		store.EntCases:         {sO, sO, sO, sN, sN},
		store.EntSegments:      {sN, sN, sN, sN, sN},
		store.EntCampaigns:     {sN, sN, sN, sN, sN},
		store.EntReports:       {sO, sN, sN, sN, sN},
	},
	"marketing": {
		store.EntAccounts:      {sN, sN, sN, sN, sN},
		store.EntContacts:      {sA, sN, sN, sN, sN},
		store.EntLeads:         {sA, sA, sA, sN, sA},
		store.EntOpportunities: {sN, sN, sN, sN, sN},
		store.EntActivities:    {sN, sN, sN, sN, sN},
		store.EntTasks:         {sN, sN, sN, sN, sN},
		store.EntCases:         {sN, sN, sN, sN, sN},
		store.EntSegments:      {sA, sA, sA, sA, sN},
		store.EntCampaigns:     {sA, sA, sA, sA, sN},
		store.EntReports:       {sA, sN, sN, sN, sN},
	},
}

// actionIndex is the column of an action in a roleScopes row.
func actionIndex(t *testing.T, a store.Action) int {
	t.Helper()
	switch a {
	case store.ActView:
		return 0
	case store.ActCreate:
		return 1
	case store.ActEdit:
		return 2
	case store.ActDelete:
		return 3
	case store.ActExport:
		return 4
	}
	t.Fatalf("unknown action %q", a)
	return -1
}

// recOwner says whose record a CheckRecord call is about, relative to the actor.
type recOwner int

const (
	ownedBySelf recOwner = iota
	ownedByTeammate
	ownedByOther
)

func (o recOwner) String() string {
	return [...]string{"own", "teammate", "other"}[o]
}

// scopeReaches is the scope rule from the specification: "own" reaches only the
// actor's records, "team" also those of teammates, "all" everything.
func scopeReaches(sc store.Scope, o recOwner) bool {
	switch sc {
	case sA:
		return true
	case sT:
		return o != ownedByOther
	case sO:
		return o == ownedBySelf
	}
	return false
}

// wantRecordCode is the record rule: a record the actor cannot view is
// not_found (its existence is not revealed), a visible record the action's
// scope does not reach is forbidden, anything else is allowed.
func wantRecordCode(view, act store.Scope, o recOwner) store.Code {
	if !scopeReaches(view, o) {
		return store.CodeNotFound
	}
	if !scopeReaches(act, o) {
		return store.CodeForbidden
	}
	return ""
}

// mustTeam creates a team as the given actor.
func mustTeam(t *testing.T, s *store.Store, a *store.Actor, name string) *store.Team {
	t.Helper()
	tm, err := s.SaveTeam(context.Background(), a, 0, name)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// mustUserInTeam creates a user with a role in a team and returns them as an
// actor (teamID 0 means no team).
func mustUserInTeam(t *testing.T, s *store.Store, admin *store.Actor, email, role string, teamID int64) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: email, Password: "password-123", RoleKey: role, TeamID: teamID})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.TeamID != teamID {
		t.Fatalf("actor %s team = %d, want %d", email, a.TeamID, teamID)
	}
	return a
}

func TestStore_RoleMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	red := mustTeam(t, s, admin, "Vermell")
	blue := mustTeam(t, s, admin, "Blau")
	// The admin from setup has no team; move them into one so every actor
	// has a teammate and the teammate column is meaningful.
	teamID := red.ID
	if _, err := s.UpdateUser(ctx, admin, admin.UserID, store.UserUpdate{TeamID: &teamID}); err != nil {
		t.Fatal(err)
	}
	admin, err := s.ActorFor(ctx, admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
	actors := map[string]*store.Actor{
		"admin":         admin,
		"salesperson":   mustUserInTeam(t, s, admin, "sales@example.com", "salesperson", red.ID),
		"service_agent": mustUserInTeam(t, s, admin, "service@example.com", "service_agent", red.ID),
		"marketing":     mustUserInTeam(t, s, admin, "marketing@example.com", "marketing", red.ID),
	}
	teammate := mustUserInTeam(t, s, admin, "mate@example.com", "salesperson", red.ID)
	other := mustUserInTeam(t, s, admin, "other@example.com", "salesperson", blue.ID)

	if len(store.BuiltinRoleKeys) != len(expectedRoles) {
		t.Fatalf("built-in roles %v, the test expects %d", store.BuiltinRoleKeys, len(expectedRoles))
	}
	for _, key := range store.BuiltinRoleKeys {
		t.Run(key, func(t *testing.T) {
			a := actors[key]
			want, ok := expectedRoles[key]
			if !ok {
				t.Fatalf("no expected permissions for built-in role %q", key)
			}
			if a.RoleKey != key {
				t.Fatalf("actor role = %q, want %q", a.RoleKey, key)
			}
			if len(want) != len(store.Entities) {
				t.Fatalf("expected table has %d entities, store has %d", len(want), len(store.Entities))
			}
			owners := map[recOwner][2]int64{
				ownedBySelf:     {a.UserID, a.TeamID},
				ownedByTeammate: {teammate.UserID, teammate.TeamID},
				ownedByOther:    {other.UserID, other.TeamID},
			}
			for _, e := range store.Entities {
				row, ok := want[e]
				if !ok {
					t.Errorf("no expected permissions for %s on %s", key, e)
					continue
				}
				for _, act := range store.Actions {
					sc := row[actionIndex(t, act)]
					if got := a.Permissions.Scope(e, act); got != sc {
						t.Errorf("%s %s.%s scope = %q, want %q", key, e, act, got, sc)
					}
					if got := a.Can(e, act); got != (sc != sN) {
						t.Errorf("%s Can(%s, %s) = %v, want %v", key, e, act, got, sc != sN)
					}
					for _, o := range []recOwner{ownedBySelf, ownedByTeammate, ownedByOther} {
						ow := owners[o]
						wantC := wantRecordCode(row[0], sc, o)
						if got := store.ErrorCode(a.CheckRecord(e, act, ow[0], ow[1])); got != wantC {
							t.Errorf("%s CheckRecord(%s, %s, %s record) = %q, want %q", key, e, act, o, got, wantC)
						}
					}
				}
			}
		})
	}

	t.Run("capabilities", func(t *testing.T) {
		for _, c := range store.Capabilities {
			if !actors["admin"].Has(c) {
				t.Errorf("admin lacks capability %s", c)
			}
			for _, key := range []string{"salesperson", "service_agent", "marketing"} {
				if actors[key].Has(c) {
					t.Errorf("%s holds capability %s", key, c)
				}
			}
		}
	})

	t.Run("built-in roles cover each other as expected", func(t *testing.T) {
		for _, k := range []string{"salesperson", "service_agent", "marketing"} {
			if !actors["admin"].Permissions.Covers(actors[k].Permissions) {
				t.Errorf("admin does not cover %s", k)
			}
			if actors[k].Permissions.Covers(actors["admin"].Permissions) {
				t.Errorf("%s covers admin", k)
			}
		}
		// No department role covers another: each grants something the
		// others lack.
		for _, a := range []string{"salesperson", "service_agent", "marketing"} {
			for _, b := range []string{"salesperson", "service_agent", "marketing"} {
				if a != b && actors[a].Permissions.Covers(actors[b].Permissions) {
					t.Errorf("%s covers %s", a, b)
				}
			}
		}
	})

	t.Run("system actor acts through the store", func(t *testing.T) {
		sys := store.SystemActor()
		u, err := s.CreateUser(ctx, sys, store.UserInput{Email: "cron@example.com", Name: "Cron", Password: "password-123", RoleKey: "admin"})
		if err != nil {
			t.Fatalf("system CreateUser admin: %v", err)
		}
		if _, err := s.FindAudit(ctx, sys, store.AuditFilter{}); err != nil {
			t.Fatalf("system FindAudit: %v", err)
		}
		entries, err := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "users", RecordID: u.ID})
		if err != nil || len(entries) != 1 || entries[0].UserID != 0 {
			t.Fatalf("audit of a system action = %+v, %v; want one entry without a user", entries, err)
		}
	})

	t.Run("nil actor can do nothing", func(t *testing.T) {
		var a *store.Actor
		if a.Can(store.EntContacts, store.ActView) || a.Has(store.CapUsers) || a.Sees("home") {
			t.Fatal("nil actor was granted something")
		}
	})
}

func TestStore_SystemActor(t *testing.T) {
	t.Parallel()
	a := store.SystemActor()
	if !a.System {
		t.Fatal("SystemActor is not marked System")
	}
	for _, c := range store.Capabilities {
		if !a.Has(c) {
			t.Errorf("system actor lacks capability %s", c)
		}
	}
	for _, sec := range store.Sections {
		if !a.Sees(sec) {
			t.Errorf("system actor does not see section %s", sec)
		}
	}
	for _, e := range store.Entities {
		for _, act := range store.Actions {
			if a.Permissions.Scope(e, act) != store.ScopeAll || !a.Can(e, act) {
				t.Errorf("system actor cannot %s %s", act, e)
			}
			for _, ow := range [][2]int64{{0, 0}, {1, 0}, {42, 7}} {
				if err := a.CheckRecord(e, act, ow[0], ow[1]); err != nil {
					t.Errorf("system CheckRecord(%s, %s, %v) = %v", e, act, ow, err)
				}
			}
		}
	}
}

func TestStore_PermissionsCovers(t *testing.T) {
	t.Parallel()
	perms := func(caps []store.Capability, ents map[store.Entity]map[store.Action]store.Scope) store.Permissions {
		return store.Permissions{Entities: ents, Capabilities: caps}
	}
	all := store.SystemActor().Permissions
	tests := []struct {
		name string
		p, q store.Permissions
		want bool
	}{
		{"empty covers empty", store.Permissions{}, store.Permissions{}, true},
		{"anything covers empty", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sO}}), store.Permissions{}, true},
		{"empty does not cover own", store.Permissions{}, perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sO}}), false},
		{"explicit none is covered by empty", store.Permissions{}, perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sN}}), true},
		{"own covers own", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sO}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sO}}), true},
		{"own does not cover team", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sO}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sT}}), false},
		{"team covers own", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sT}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sO}}), true},
		{"team does not cover all", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sT}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sA}}), false},
		{"all covers all", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sA}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sA}}), true},
		{"other action is not covered", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sA}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActEdit: sO}}), false},
		{"other entity is not covered", perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: sA}}), perms(nil, map[store.Entity]map[store.Action]store.Scope{store.EntCases: {store.ActView: sO}}), false},
		{"missing capability", perms([]store.Capability{store.CapUsers}, nil), perms([]store.Capability{store.CapUsers, store.CapRoles}, nil), false},
		{"held capabilities", perms([]store.Capability{store.CapUsers, store.CapRoles}, nil), perms([]store.Capability{store.CapRoles}, nil), true},
		{"all permissions cover everything", all, all, true},
		{"nothing else covers all permissions", perms(store.Capabilities[:len(store.Capabilities)-1], all.Entities), all, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Covers(tt.q); got != tt.want {
				t.Fatalf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}
