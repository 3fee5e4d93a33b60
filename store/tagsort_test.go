package store_test

import (
	"context"
	"fmt"
	"testing"

	"cartera/store"
)

// TestStore_FindRecords_TagSorted checks that a list filtered by a common
// tag and sorted by name gives the same pages whether it probes tags or
// reads record_tags in name order, also after renames and retagging.
func TestStore_FindRecords_TagSorted(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	vip := []string{"VIP"}
	for i := 0; i < 60; i++ {
		in := store.Input{Values: vals("first_name", fmt.Sprintf("Nom%02d", (i*37)%60), "last_name", []string{"García", "Puig", "Àlvarez", "Martí"}[i%4])}
		if i%3 != 0 {
			in.Tags = &vip
		}
		mustCreate(t, s, admin, store.EntContacts, in)
	}
	list := func(desc bool) []int64 {
		t.Helper()
		var ids []int64
		cursor := ""
		sort := "name"
		if desc {
			sort = "-name"
		}
		for {
			recs, next, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Tags: []string{"VIP"}, Sort: sort, Limit: 7, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	check := func(step string) {
		t.Helper()
		for _, desc := range []bool{false, true} {
			probe := list(desc)
			restore := store.SetCommonTagThreshold(0)
			sorted := list(desc)
			restore()
			if fmt.Sprint(probe) != fmt.Sprint(sorted) {
				t.Fatalf("%s (desc=%v): probing %v, tag-sorted %v", step, desc, probe, sorted)
			}
			if len(probe) == 0 {
				t.Fatalf("%s: no records", step)
			}
		}
	}
	check("initial")
	// Rename a tagged contact so it sorts first, untag one, tag another.
	recs, _, _ := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Tags: []string{"VIP"}, Limit: 3})
	if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, recs[2].ID, store.Input{Values: vals("last_name", "Aaron")}); err != nil {
		t.Fatal(err)
	}
	none := []string{}
	if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, recs[0].ID, store.Input{Tags: &none}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, 1, store.Input{Tags: &vip}); err != nil {
		t.Fatal(err)
	}
	check("after changes")
	restore := store.SetCommonTagThreshold(0)
	defer restore()
	first, _, _ := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Tags: []string{"VIP"}, Sort: "name", Limit: 1})
	if first[0].ID != recs[2].ID {
		t.Errorf("renamed contact not first: %d", first[0].ID)
	}
}
