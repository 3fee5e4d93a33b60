package demo_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"cartera/demo"
	"cartera/store"
)

func TestDemo_Generate(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "demo.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := demo.Generate(ctx, st, demo.Options{Contacts: 200, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Users) != 10 {
		t.Errorf("users = %d", len(res.Users))
	}
	sys := store.SystemActor()
	want := map[store.Entity]int64{store.EntAccounts: 20, store.EntContacts: 200, store.EntLeads: 20, store.EntOpportunities: 40, store.EntActivities: 400, store.EntTasks: 20, store.EntCases: 10}
	for e, n := range want {
		got, err := st.CountRecords(ctx, sys, e, store.Filter{})
		if err != nil || got != n {
			t.Errorf("%s = %d, want %d (%v)", e, got, n, err)
		}
	}
	// Accented names are searchable without accents.
	groups, err := st.Search(ctx, sys, "garcia", 5)
	if err != nil || len(groups) == 0 {
		t.Errorf("search garcia: %v %v", groups, err)
	}
	// A salesperson can log in with the printed password and sees only own opportunities.
	u, err := st.Authenticate(ctx, "marc.puig@demo.cartera.cat", demo.StaffPassword)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := st.ActorFor(ctx, u.ID)
	recs, _, err := st.FindRecords(ctx, a, store.EntOpportunities, store.Filter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.OwnerID != u.ID {
			t.Fatalf("salesperson sees opportunity of %d", r.OwnerID)
		}
	}
	// Deterministic: the same seed gives the same first account.
	st2, _ := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "demo2.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer st2.Close()
	if _, err := demo.Generate(ctx, st2, demo.Options{Contacts: 200, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	r1, _ := st.FindRecord(ctx, sys, store.EntAccounts, 1)
	r2, _ := st2.FindRecord(ctx, sys, store.EntAccounts, 1)
	if r1.Title != r2.Title || r1.Str("email") != r2.Str("email") {
		t.Errorf("not deterministic: %q vs %q", r1.Title, r2.Title)
	}
}
