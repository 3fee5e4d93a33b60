package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"cartera/store"
)

// mustOpenStore opens a fresh database file in a temporary folder with cheap
// password hashing so the suite stays fast.
func mustOpenStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		Path:              filepath.Join(t.TempDir(), "cartera.db"),
		PasswordMemoryKiB: 64,
		PasswordTime:      1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustSetup runs first-run setup and returns the admin as an actor.
func mustSetup(t *testing.T, s *store.Store) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.Setup(ctx, store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mustUser creates a user with a role and returns them as an actor.
func mustUser(t *testing.T, s *store.Store, admin *store.Actor, email, role string) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: email, Password: "password-123", RoleKey: role})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
