package store_test

import (
	"context"
	"testing"

	"cartera/store"
)

func TestStore_MergeRecords(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	acc := mustCreate(t, s, admin, store.EntAccounts, store.Input{Values: vals("name", "Empresa ABC")})
	t1, t2 := []string{"Compres"}, []string{"VIP"}
	keep := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laura", "last_name", "García", "email", "laura@abc.com", "account_id", acc.ID), Tags: &t1})
	dup := mustCreate(t, s, admin, store.EntContacts, store.Input{Values: vals("first_name", "Laura", "last_name", "Garcia", "email", "LAURA@abc.com", "phone", "612345678", "title", "Gerent"), Tags: &t2})
	act := mustCreate(t, s, admin, store.EntActivities, store.Input{Values: vals("type", "call", "subject", "Trucada", "occurred_at", "2026-01-01T10:00:00Z", "contact_id", dup.ID)})
	opp := mustCreate(t, s, admin, store.EntOpportunities, store.Input{Values: vals("name", "TPV", "contact_id", dup.ID), ContactRoles: &[]store.ContactRole{{ContactID: dup.ID, Role: "decision_maker"}}})
	if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, dup.ID, store.Input{Values: vals("notes", "Prefereix correu")}); err != nil {
		t.Fatal(err)
	}
	groups, err := s.FindDuplicateGroups(ctx, admin, store.EntContacts, 0)
	if err != nil || len(groups) == 0 || groups[0].Reason != "email" || len(groups[0].Records) != 2 {
		t.Fatalf("groups = %+v, %v", groups, err)
	}
	mid, err := s.MergeRecords(ctx, admin, store.EntContacts, keep.ID, dup.ID, []string{"phone", "title"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.FindRecord(ctx, admin, store.EntContacts, keep.ID)
	if got.Str("phone") != "612345678" || got.Str("title") != "Gerent" || got.Int("account_id") != acc.ID || len(got.Tags) != 2 {
		t.Errorf("survivor = %v tags %v", got.Values, got.Tags)
	}
	if _, err := s.FindRecord(ctx, admin, store.EntContacts, dup.ID); store.ErrorCode(err) != store.CodeNotFound {
		t.Errorf("loser still live: %v", err)
	}
	a, _ := s.FindRecord(ctx, admin, store.EntActivities, act.ID)
	o, _ := s.FindRecord(ctx, admin, store.EntOpportunities, opp.ID)
	if a.Int("contact_id") != keep.ID || o.Int("contact_id") != keep.ID || o.ContactRoles[0].ContactID != keep.ID {
		t.Errorf("links not moved: activity %d opp %d roles %v", a.Int("contact_id"), o.Int("contact_id"), o.ContactRoles)
	}
	if err := s.UndoMerge(ctx, admin, mid); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FindRecord(ctx, admin, store.EntContacts, keep.ID)
	back, err := s.FindRecord(ctx, admin, store.EntContacts, dup.ID)
	if err != nil {
		t.Fatalf("loser not restored: %v", err)
	}
	if got.Str("phone") != "" || got.Str("title") != "" || len(got.Tags) != 1 || back.Str("notes") != "Prefereix correu" || len(back.Tags) != 1 {
		t.Errorf("after undo: survivor %v %v, loser %v %v", got.Values, got.Tags, back.Values, back.Tags)
	}
	a, _ = s.FindRecord(ctx, admin, store.EntActivities, act.ID)
	o, _ = s.FindRecord(ctx, admin, store.EntOpportunities, opp.ID)
	if a.Int("contact_id") != dup.ID || o.Int("contact_id") != dup.ID || o.ContactRoles[0].ContactID != dup.ID {
		t.Errorf("links not moved back")
	}
	tl, _ := s.Timeline(ctx, admin, store.EntContacts, dup.ID, 0)
	notes := false
	for _, it := range tl {
		if it.Field == "notes" {
			notes = true
		}
	}
	if !notes {
		t.Error("loser's field history not moved back")
	}
	if err := s.UndoMerge(ctx, admin, mid); store.ErrorCode(err) != store.CodeConflict {
		t.Errorf("second undo = %v", err)
	}
	t.Run("salesperson cannot merge", func(t *testing.T) {
		sp := mustUser(t, s, admin, "sp@example.com", "salesperson")
		if _, err := s.MergeRecords(ctx, sp, store.EntContacts, keep.ID, dup.ID, nil); err == nil {
			t.Fatal("salesperson merged")
		}
		if _, err := s.FindRecord(ctx, admin, store.EntContacts, dup.ID); err != nil {
			t.Errorf("refused merge changed data: %v", err)
		}
	})
}
