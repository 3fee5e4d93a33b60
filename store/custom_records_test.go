package store_test

import (
	"context"
	"testing"

	"cartera/store"
)

// TestStore_CustomFieldPaths follows custom values through the paths
// besides a single create: bulk loads (the importer's path), list filters,
// full-text search, merges and their undo, and removal.
func TestStore_CustomFieldPaths(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	ctx := context.Background()
	if _, err := s.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{
		Key: "member_no", Kind: store.KText, Searchable: true, Filterable: true, Unique: true, Labels: store.Labels{"en": "Member number"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCustomField(ctx, admin, store.EntContacts, store.CustomFieldInput{
		Key: "interests", Kind: store.KMulti, Filterable: true, Labels: store.Labels{"en": "Interests"},
		Options: []store.Option{{Key: "wine", Labels: store.Labels{"en": "Wine"}}, {Key: "cheese", Labels: store.Labels{"en": "Cheese"}}},
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("bulk load validates custom values, all or nothing", func(t *testing.T) {
		err := s.Load(ctx, admin, store.LoadOptions{}, func(l *store.Loader) error {
			in := store.Input{Values: map[string]any{"first_name": "Anna"}}
			in.SetCustom("member_no", "SOC-001")
			in.SetCustom("interests", []any{"wine", "cheese"})
			if _, err := l.Create(store.EntContacts, in); err != nil {
				return err
			}
			bad := store.Input{Values: map[string]any{"first_name": "Biel"}}
			bad.SetCustom("interests", []any{"wine", "beer"})
			_, err := l.Create(store.EntContacts, bad)
			return err
		})
		if store.ErrorCode(err) != store.CodeInvalid || store.AsError(err).Fields["custom.interests"] != "error.option" {
			t.Fatalf("err = %v", err)
		}
		if n, _ := s.CountRecords(ctx, admin, store.EntContacts, store.Filter{}); n != 0 {
			t.Fatalf("contacts after a refused load = %d", n)
		}
		err = s.Load(ctx, admin, store.LoadOptions{}, func(l *store.Loader) error {
			in := store.Input{Values: map[string]any{"first_name": "Anna", "last_name": "Vidal"}}
			in.SetCustom("member_no", "SOC-001")
			in.SetCustom("interests", "wine, cheese")
			_, err := l.Create(store.EntContacts, in)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	biel, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Biel", "last_name": "Vidal"}, Custom: map[string]any{"interests": []any{"cheese"}}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("unique value refused", func(t *testing.T) {
		_, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Carla"}, Custom: map[string]any{"member_no": "SOC-001"}})
		if store.AsError(err).Fields["custom.member_no"] != "error.unique" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("filters on text and multi-select values", func(t *testing.T) {
		recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{"custom.member_no": "SOC-001"}})
		if err != nil || len(recs) != 1 || recs[0].Str("first_name") != "Anna" {
			t.Fatalf("member_no filter: %v %d", err, len(recs))
		}
		recs, _, err = s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{"custom.interests": "cheese"}})
		if err != nil || len(recs) != 2 {
			t.Fatalf("interests filter: %v %d", err, len(recs))
		}
		if _, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{"custom.interests": "beer"}}); store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("unknown option filter: %v", err)
		}
	})
	t.Run("searchable value found by search", func(t *testing.T) {
		recs, _, err := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Q: "SOC-001"})
		if err != nil || len(recs) != 1 {
			t.Fatalf("search: %v %d", err, len(recs))
		}
	})
	t.Run("merge carries custom values and undo takes them back", func(t *testing.T) {
		recs, _, _ := s.FindRecords(ctx, admin, store.EntContacts, store.Filter{Eq: map[string]string{"custom.member_no": "SOC-001"}})
		anna := recs[0]
		id, err := s.MergeRecords(ctx, admin, store.EntContacts, biel.ID, anna.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.FindRecord(ctx, admin, store.EntContacts, biel.ID)
		if got.Custom["member_no"] != "SOC-001" {
			t.Errorf("survivor did not gain the loser's member number: %v", got.Custom)
		}
		if l, _ := got.Custom["interests"].([]string); len(l) != 1 || l[0] != "cheese" {
			t.Errorf("survivor's own value changed: %v", got.Custom)
		}
		if err := s.UndoMerge(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		got, _ = s.FindRecord(ctx, admin, store.EntContacts, biel.ID)
		if _, ok := got.Custom["member_no"]; ok {
			t.Errorf("undo left the loser's value: %v", got.Custom)
		}
	})
	t.Run("removed field hidden, value kept through edits, restored", func(t *testing.T) {
		if err := s.RemoveCustomField(ctx, admin, store.EntContacts, "interests"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.FindRecord(ctx, admin, store.EntContacts, biel.ID)
		if _, ok := got.Custom["interests"]; ok {
			t.Error("removed field still shown")
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, biel.ID, store.Input{Values: map[string]any{"first_name": "Gabriel"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, biel.ID, store.Input{Custom: map[string]any{"interests": "wine"}}); store.ErrorCode(err) != store.CodeInvalid {
			t.Errorf("write to a removed field: %v", err)
		}
		if err := s.RestoreCustomField(ctx, admin, store.EntContacts, "interests"); err != nil {
			t.Fatal(err)
		}
		got, _ = s.FindRecord(ctx, admin, store.EntContacts, biel.ID)
		if l, _ := got.Custom["interests"].([]string); len(l) != 1 || l[0] != "cheese" {
			t.Errorf("value lost across removal: %v", got.Custom)
		}
	})
}

// TestStore_RetiredOptions keeps a retired option on the records that have
// it and refuses it on any other, for standard and custom selects.
func TestStore_RetiredOptions(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	ctx := context.Background()
	old, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Antiga SL", "sector": "agriculture"}})
	if err != nil {
		t.Fatal(err)
	}
	var opts []store.Option
	for _, o := range s.Schema().Options("sector") {
		o.Retired = o.Key == "agriculture"
		opts = append(opts, o)
	}
	if err := s.SavePicklist(ctx, admin, "sector", opts); err != nil {
		t.Fatal(err)
	}
	t.Run("standard select", func(t *testing.T) {
		_, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Nova SL", "sector": "agriculture"}})
		if store.AsError(err).Fields["sector"] != "error.option_retired" {
			t.Errorf("create with a retired option: %v", err)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntAccounts, old.ID, store.Input{Values: map[string]any{"name": "Antiga i Fills SL", "sector": "agriculture"}}); err != nil {
			t.Errorf("record keeping its retired option: %v", err)
		}
	})
	t.Run("custom multi-select", func(t *testing.T) {
		if _, err := s.CreateCustomField(ctx, admin, store.EntAccounts, store.CustomFieldInput{Key: "products", Kind: store.KMulti, Labels: store.Labels{"en": "Products"},
			Options: []store.Option{{Key: "wine", Labels: store.Labels{"en": "Wine"}}, {Key: "oil", Labels: store.Labels{"en": "Oil"}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntAccounts, old.ID, store.Input{Custom: map[string]any{"products": []any{"wine"}}}); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Schema().CustomField(store.EntAccounts, "products")
		o := append([]store.Option(nil), c.Options...)
		o[0].Retired = true
		if _, err := s.UpdateCustomField(ctx, admin, store.EntAccounts, "products", store.CustomFieldInput{Labels: c.Labels, Options: o}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntAccounts, old.ID, store.Input{Custom: map[string]any{"products": []any{"wine", "oil"}}}); err != nil {
			t.Errorf("keeping a retired option while adding another: %v", err)
		}
		_, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Tercera SL"}, Custom: map[string]any{"products": []any{"wine"}}})
		if store.AsError(err).Fields["custom.products"] != "error.option_retired" {
			t.Errorf("new record with a retired option: %v", err)
		}
	})
}
