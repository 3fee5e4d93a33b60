package store_test

import (
	"context"
	"testing"
	"time"

	"cartera/store"
)

func vals(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func mustCreate(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, in store.Input) *store.Record {
	t.Helper()
	r, err := s.CreateRecord(context.Background(), a, e, in)
	if err != nil {
		t.Fatalf("create %s: %v", e, err)
	}
	return r
}

// TestStore_Seed001 follows the contact-management exercises of seed 001.
func TestStore_Seed001(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	abc := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Empresa ABC", "type", "customer")})
	other := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Altra SL")})
	laura := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laura", "last_name", "García", "email", "laura.garcia@empresaabc.com", "phone", "+34 612 34 56 78", "title", "Directora de compres", "account_id", abc.ID)})
	mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Pere", "last_name", "Puig", "account_id", abc.ID)})
	mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Joan", "last_name", "Pérez", "account_id", other.ID)})
	if laura.Refs["account_id"] != "Empresa ABC" {
		t.Errorf("account title = %q", laura.Refs["account_id"])
	}
	// Exercise 2: change her e-mail and position.
	up, err := s.UpdateRecord(ctx, admin, store.EntContacts, laura.ID, store.Input{Values: vals("email", "laura@empresaabc.cat", "title", "Gerent")})
	if err != nil {
		t.Fatal(err)
	}
	if up.Str("email") != "laura@empresaabc.cat" || up.Str("title") != "Gerent" || up.Version != 2 {
		t.Errorf("after update: %v v%d", up.Values, up.Version)
	}
	// Exercise 3: search "Empresa ABC" lists her and the other contacts of that company.
	groups, err := s.Search(ctx, admin, "Empresa ABC", 10)
	if err != nil {
		t.Fatal(err)
	}
	var contacts []string
	for _, g := range groups {
		if g.Entity == store.EntContacts {
			for _, r := range g.Records {
				contacts = append(contacts, r.Title)
			}
		}
	}
	if len(contacts) != 2 {
		t.Errorf("contacts of Empresa ABC = %v", contacts)
	}
	for _, q := range []string{"garcia", "GARC", "laura garc", "612345678", "612 34", "empresaabc"} {
		recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: q})
		if err != nil || len(recs) != 1 || recs[0].ID != laura.ID {
			t.Errorf("search %q = %d records, %v", q, len(recs), err)
		}
	}
	if recs, _, _ := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "perez"}); len(recs) != 1 {
		t.Errorf("perez found %d", len(recs))
	}
	// Exercise 4: tags.
	tags := []string{"Compres", "Client Potencial"}
	if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, laura.ID, store.Input{Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Tags: []string{"Compres"}})
	if err != nil || len(recs) != 1 || len(recs[0].Tags) != 2 {
		t.Fatalf("by tag: %v %v", recs, err)
	}
	// Exercise 5: a dated history entry in the past.
	when := time.Date(2023, 2, 1, 10, 0, 0, 0, time.UTC)
	mustCreate(t, s, admin, store.EntActivities, store.Input{Values: vals("type", "email", "subject", "Enviament de correu electrònic amb nova oferta", "occurred_at", when.Format(time.RFC3339), "contact_id", laura.ID)})
	mustCreate(t, s, admin, store.EntActivities, store.Input{Values: vals("type", "call", "subject", "Trucada de seguiment", "occurred_at", time.Date(2023, 3, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339), "contact_id", laura.ID)})
	tl, err := s.Timeline(ctx, admin, store.EntContacts, laura.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var acts []store.TimelineItem
	for _, it := range tl {
		if it.Kind == "activity" {
			acts = append(acts, it)
		}
	}
	if len(acts) != 2 || acts[0].Subject != "Trucada de seguiment" || !acts[1].At.Equal(when) {
		t.Errorf("timeline activities = %+v", acts)
	}
	fields := map[string]bool{}
	for _, it := range tl {
		if it.Kind == "field_change" {
			fields[it.Field] = true
		}
	}
	if !fields["email"] || !fields["title"] || !fields["tags"] {
		t.Errorf("field history = %v", fields)
	}
	// The activity inherited the account, so the account's timeline shows it.
	atl, _ := s.Timeline(ctx, admin, store.EntAccounts, abc.ID, 0)
	n := 0
	for _, it := range atl {
		if it.Kind == "activity" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("account timeline activities = %d", n)
	}
}
