package store_test

import (
	"context"
	"testing"

	"cartera/store"
)

func TestStore_Setup(t *testing.T) {
	ctx := context.Background()
	t.Run("first setup creates company, roles and admin", func(t *testing.T) {
		s := mustOpenStore(t)
		ok, err := s.IsSetUp(ctx)
		if err != nil || ok {
			t.Fatalf("IsSetUp = %v, %v; want false", ok, err)
		}
		admin := mustSetup(t, s)
		if admin.RoleKey != "admin" || !admin.Has(store.CapUsers) {
			t.Fatalf("admin actor = %+v", admin)
		}
		c, err := s.Company(ctx)
		if err != nil || c.Name != "Empresa ABC" || c.Timezone != "Europe/Madrid" {
			t.Fatalf("Company = %+v, %v", c, err)
		}
		roles, err := s.FindRoles(ctx, admin)
		if err != nil || len(roles) != 4 {
			t.Fatalf("roles = %d, %v", len(roles), err)
		}
	})
	t.Run("second setup is refused", func(t *testing.T) {
		s := mustOpenStore(t)
		mustSetup(t, s)
		_, err := s.Setup(ctx, store.SetupInput{
			Company:   store.Company{Name: "Intrús", Timezone: "UTC", Language: "en", Currency: "EUR"},
			AdminName: "X", AdminEmail: "x@example.com", AdminPassword: "password-123",
		})
		if store.ErrorCode(err) != store.CodeConflict {
			t.Fatalf("err = %v, want conflict", err)
		}
		c, _ := s.Company(ctx)
		if c.Name != "Empresa ABC" {
			t.Fatalf("company changed to %q", c.Name)
		}
	})
	t.Run("invalid input names each field and stores nothing", func(t *testing.T) {
		s := mustOpenStore(t)
		_, err := s.Setup(ctx, store.SetupInput{
			Company:   store.Company{Name: "", Timezone: "Mars/Base", Language: "fr", Currency: "euro"},
			AdminName: "", AdminEmail: "not-an-email", AdminPassword: "short",
		})
		se := store.AsError(err)
		if se.Code != store.CodeInvalid {
			t.Fatalf("err = %v", err)
		}
		for _, f := range []string{"name", "timezone", "language", "currency", "admin_name", "admin_email", "admin_password"} {
			if se.Fields[f] == "" {
				t.Errorf("no error for field %s: %v", f, se.Fields)
			}
		}
		if ok, _ := s.IsSetUp(ctx); ok {
			t.Fatal("setup stored despite errors")
		}
	})
}
