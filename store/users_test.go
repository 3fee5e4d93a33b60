package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// unicodePassword mixes accents, CJK and an emoji (4-byte UTF-8).
const unicodePassword = "contrasenya-àèòç-密码-🔑"

// mustRole creates a custom role as the given actor.
func mustRole(t *testing.T, s *store.Store, a *store.Actor, in store.RoleInput) *store.Role {
	t.Helper()
	r, err := s.CreateRole(context.Background(), a, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// usersSnapshot returns every user (disabled included) by value, to check
// that a refused call changed nothing.
func usersSnapshot(t *testing.T, s *store.Store) []store.User {
	t.Helper()
	us, err := s.FindUsers(context.Background(), store.SystemActor(), store.UserFilter{IncludeDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.User, len(us))
	for i, u := range us {
		out[i] = *u
	}
	return out
}

// rolesSnapshot returns every role by value.
func rolesSnapshot(t *testing.T, s *store.Store) []store.Role {
	t.Helper()
	rs, err := s.FindRoles(context.Background(), store.SystemActor())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.Role, len(rs))
	for i, r := range rs {
		out[i] = *r
	}
	return out
}

// wantUnchanged fails the test if users or roles differ from a snapshot.
func wantUnchanged(t *testing.T, s *store.Store, users []store.User, roles []store.Role) {
	t.Helper()
	if got := usersSnapshot(t, s); !reflect.DeepEqual(got, users) {
		t.Errorf("users changed:\n got %+v\nwant %+v", got, users)
	}
	if got := rolesSnapshot(t, s); !reflect.DeepEqual(got, roles) {
		t.Errorf("roles changed:\n got %+v\nwant %+v", got, roles)
	}
}

// wantErr fails the test unless err has the given code and message key.
func wantErr(t *testing.T, err error, code store.Code, key string) {
	t.Helper()
	se := store.AsError(err)
	if err == nil || se.Code != code || se.Key != key {
		t.Fatalf("err = %v, want %s %s", err, code, key)
	}
}

// auditActions lists the actions recorded for one record, oldest first.
func auditActions(t *testing.T, s *store.Store, a *store.Actor, entity string, id int64) []string {
	t.Helper()
	es, err := s.FindAudit(context.Background(), a, store.AuditFilter{Entity: entity, RecordID: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

// limitedRoles creates the custom roles the escalation tests use: "hr"
// manages users but holds few permissions, "rolemgr" manages roles but
// holds few permissions, "viewer" is covered by both.
func limitedRoles(t *testing.T, s *store.Store, admin *store.Actor) {
	t.Helper()
	few := map[store.Entity]map[store.Action]store.Scope{store.EntContacts: {store.ActView: store.ScopeOwn}}
	mustRole(t, s, admin, store.RoleInput{Key: "hr", Name: "HR", Sections: []store.Section{"home", "contacts"},
		Permissions: store.Permissions{Entities: few, Capabilities: []store.Capability{store.CapUsers}}})
	mustRole(t, s, admin, store.RoleInput{Key: "rolemgr", Name: "Role manager", Sections: []store.Section{"home", "contacts"},
		Permissions: store.Permissions{Entities: few, Capabilities: []store.Capability{store.CapRoles}}})
	mustRole(t, s, admin, store.RoleInput{Key: "viewer", Name: "Viewer", Sections: []store.Section{"home"},
		Permissions: store.Permissions{Entities: few}})
}

func TestStore_CreateUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	team := mustTeam(t, s, admin, "Vendes")

	t.Run("creates a user", func(t *testing.T) {
		u, err := s.CreateUser(ctx, admin, store.UserInput{Email: "  joan@example.com ", Name: " Joan Vila ", Password: "password-123",
			RoleKey: "salesperson", TeamID: team.ID, Language: "es", Timezone: "Atlantic/Canary"})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Email != "joan@example.com" || u.Name != "Joan Vila" || u.RoleKey != "salesperson" ||
			u.TeamID != team.ID || u.TeamName != "Vendes" || u.Language != "es" || u.Timezone != "Atlantic/Canary" || u.Disabled {
			t.Fatalf("user = %+v", u)
		}
		got, err := s.FindUser(ctx, admin, u.ID)
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Fatalf("FindUser = %+v, %v; want %+v", got, err, u)
		}
		if acts := auditActions(t, s, admin, "users", u.ID); !reflect.DeepEqual(acts, []string{"create"}) {
			t.Fatalf("audit = %v, want [create]", acts)
		}
	})

	t.Run("validation errors name fields and store nothing", func(t *testing.T) {
		valid := store.UserInput{Email: "valid@example.com", Name: "Valid", Password: "password-123", RoleKey: "salesperson"}
		tests := []struct {
			name   string
			edit   func(*store.UserInput)
			fields []string
		}{
			{"empty name", func(in *store.UserInput) { in.Name = "   " }, []string{"name"}},
			{"name too long", func(in *store.UserInput) { in.Name = strings.Repeat("n", 101) }, []string{"name"}},
			{"name with a newline", func(in *store.UserInput) { in.Name = "Joan\nVila" }, []string{"name"}},
			{"empty e-mail", func(in *store.UserInput) { in.Email = "" }, []string{"email"}},
			{"bad e-mail", func(in *store.UserInput) { in.Email = "not-an-email" }, []string{"email"}},
			{"e-mail with a display name", func(in *store.UserInput) { in.Email = "Joan <joan@example.com>" }, []string{"email"}},
			{"e-mail without a domain dot", func(in *store.UserInput) { in.Email = "joan@localhost" }, []string{"email"}},
			{"short password", func(in *store.UserInput) { in.Password = "1234567" }, []string{"password"}},
			{"unknown language", func(in *store.UserInput) { in.Language = "fr" }, []string{"language"}},
			{"unknown time zone", func(in *store.UserInput) { in.Timezone = "Mars/Base" }, []string{"timezone"}},
			{"no role", func(in *store.UserInput) { in.RoleKey = "" }, []string{"role"}},
			{"unknown role", func(in *store.UserInput) { in.RoleKey = "pope" }, []string{"role"}},
			{"unknown team", func(in *store.UserInput) { in.TeamID = 9999 }, []string{"team"}},
			{"everything wrong at once", func(in *store.UserInput) {
				*in = store.UserInput{Email: "x", Password: "x", Language: "xx", Timezone: "Nowhere"}
			}, []string{"name", "email", "password", "language", "timezone", "role"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := countUsers(t, s, admin)
				in := valid
				tt.edit(&in)
				_, err := s.CreateUser(ctx, admin, in)
				wantCode(t, err, store.CodeInvalid)
				for _, f := range tt.fields {
					wantField(t, err, f)
				}
				if n := len(store.AsError(err).Fields); n != len(tt.fields) {
					t.Errorf("fields = %v, want only %v", store.AsError(err).Fields, tt.fields)
				}
				if after := countUsers(t, s, admin); after != before {
					t.Fatalf("users %d → %d after a refused create", before, after)
				}
			})
		}
	})

	t.Run("duplicate e-mail ignoring case is a conflict", func(t *testing.T) {
		for _, email := range []string{"anna@example.com", "Anna@Example.com", "ANNA@EXAMPLE.COM"} {
			before := countUsers(t, s, admin)
			_, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: "Other Anna", Password: "password-123", RoleKey: "salesperson"})
			wantErr(t, err, store.CodeConflict, "error.email_taken")
			wantField(t, err, "email")
			if after := countUsers(t, s, admin); after != before {
				t.Fatalf("users %d → %d after a duplicate %s", before, after, email)
			}
		}
	})

	t.Run("password lengths count characters", func(t *testing.T) {
		tests := []struct {
			name, password string
			wantKey        string
		}{
			{"7 characters", "1234567", "error.password_short"},
			{"8 characters", "12345678", ""},
			{"64 characters", strings.Repeat("p", 64), ""},
			{"256 characters", strings.Repeat("p", 256), ""},
			{"257 characters", strings.Repeat("p", 257), "error.password_long"},
			{"256 two-byte characters", strings.Repeat("ç", 256), ""},
			{"257 two-byte characters", strings.Repeat("ç", 257), "error.password_long"},
			{"7 four-byte characters", strings.Repeat("🔑", 7), "error.password_short"},
			{"unicode", unicodePassword, ""},
			{"invalid UTF-8", "password\xff\xfe", "error.password_invalid"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				email := "pw" + string(rune('a'+i)) + "@example.com"
				before := countUsers(t, s, admin)
				u, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: tt.name, Password: tt.password, RoleKey: "salesperson"})
				if tt.wantKey != "" {
					wantCode(t, err, store.CodeInvalid)
					if k := store.AsError(err).Fields["password"]; k != tt.wantKey {
						t.Fatalf("password error = %q, want %q", k, tt.wantKey)
					}
					if after := countUsers(t, s, admin); after != before {
						t.Fatalf("users %d → %d after a refused password", before, after)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.Authenticate(ctx, email, tt.password)
				if err != nil || got.ID != u.ID {
					t.Fatalf("Authenticate with the new password = %v, %v", got, err)
				}
				if _, err := s.Authenticate(ctx, email, tt.password+"x"); store.ErrorCode(err) != store.CodeUnauthorized {
					t.Fatalf("Authenticate with a longer password = %v, want unauthorized", err)
				}
			})
		}
	})

	t.Run("needs the users capability", func(t *testing.T) {
		sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
		before := countUsers(t, s, admin)
		for _, a := range []*store.Actor{sales, nil} {
			_, err := s.CreateUser(ctx, a, store.UserInput{Email: "new@example.com", Name: "New", Password: "password-123", RoleKey: "salesperson"})
			wantCode(t, err, store.CodeForbidden)
		}
		if after := countUsers(t, s, admin); after != before {
			t.Fatalf("users %d → %d", before, after)
		}
	})
}

func TestStore_UpdateUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	team := mustTeam(t, s, admin, "Suport")
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	mustUser(t, s, admin, "marta@example.com", "salesperson")

	t.Run("admin changes every field", func(t *testing.T) {
		email, name, role, lang, tz := "joan.vila@example.com", "Joan Vila", "service_agent", "en", "Europe/London"
		u, err := s.UpdateUser(ctx, admin, joan.UserID, store.UserUpdate{Email: &email, Name: &name, RoleKey: &role, TeamID: &team.ID, Language: &lang, Timezone: &tz})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != email || u.Name != name || u.RoleKey != role || u.TeamID != team.ID || u.Language != lang || u.Timezone != tz {
			t.Fatalf("user = %+v", u)
		}
		a, err := s.ActorFor(ctx, joan.UserID)
		if err != nil || a.RoleKey != role || !a.Can(store.EntCases, store.ActCreate) || a.Can(store.EntLeads, store.ActView) {
			t.Fatalf("actor after role change = %+v, %v", a, err)
		}
		es, err := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "users", RecordID: joan.UserID, Limit: 1})
		if err != nil || len(es) != 1 || es[0].Action != "update" || es[0].UserID != admin.UserID {
			t.Fatalf("audit = %+v, %v", es, err)
		}
		for _, f := range []string{`"email"`, `"name"`, `"role"`, `"team_id"`, `"language"`, `"timezone"`, "joan@example.com", "joan.vila@example.com"} {
			if !strings.Contains(es[0].Detail, f) {
				t.Errorf("audit detail %s lacks %s", es[0].Detail, f)
			}
		}
	})

	t.Run("nil fields are left alone", func(t *testing.T) {
		before, err := s.FindUser(ctx, admin, joan.UserID)
		if err != nil {
			t.Fatal(err)
		}
		name := "Joan V."
		u, err := s.UpdateUser(ctx, admin, joan.UserID, store.UserUpdate{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != name || u.Email != before.Email || u.RoleKey != before.RoleKey || u.TeamID != before.TeamID || u.Language != before.Language || u.Timezone != before.Timezone {
			t.Fatalf("user = %+v, was %+v", u, before)
		}
	})

	t.Run("validation errors name fields and change nothing", func(t *testing.T) {
		bad, long, ctl, lang, tz, role, dup := "nope", strings.Repeat("x", 101), "a\x00b", "de", "Local", "pope", "Marta@Example.com"
		var noTeam int64 = 9999
		tests := []struct {
			name  string
			up    store.UserUpdate
			code  store.Code
			field string
		}{
			{"bad e-mail", store.UserUpdate{Email: &bad}, store.CodeInvalid, "email"},
			{"long name", store.UserUpdate{Name: &long}, store.CodeInvalid, "name"},
			{"control character", store.UserUpdate{Name: &ctl}, store.CodeInvalid, "name"},
			{"unknown language", store.UserUpdate{Language: &lang}, store.CodeInvalid, "language"},
			{"Local is no time zone", store.UserUpdate{Timezone: &tz}, store.CodeInvalid, "timezone"},
			{"unknown role", store.UserUpdate{RoleKey: &role}, store.CodeInvalid, "role"},
			{"unknown team", store.UserUpdate{TeamID: &noTeam}, store.CodeInvalid, "team"},
			{"e-mail of another user", store.UserUpdate{Email: &dup}, store.CodeConflict, "email"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				users, roles := usersSnapshot(t, s), rolesSnapshot(t, s)
				_, err := s.UpdateUser(ctx, admin, joan.UserID, tt.up)
				wantCode(t, err, tt.code)
				wantField(t, err, tt.field)
				wantUnchanged(t, s, users, roles)
			})
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		name := "Ghost"
		_, err := s.UpdateUser(ctx, admin, 9999, store.UserUpdate{Name: &name})
		wantCode(t, err, store.CodeNotFound)
	})

	t.Run("salesperson", func(t *testing.T) {
		sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
		gone := mustUser(t, s, admin, "gone@example.com", "salesperson")
		yes := true
		if _, err := s.UpdateUser(ctx, admin, gone.UserID, store.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}

		t.Run("cannot list disabled users", func(t *testing.T) {
			for _, f := range []store.UserFilter{{}, {IncludeDisabled: true}} {
				us, err := s.FindUsers(ctx, sales, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range us {
					if u.Disabled || u.ID == gone.UserID {
						t.Fatalf("salesperson sees disabled user %+v", u)
					}
				}
			}
			us, err := s.FindUsers(ctx, admin, store.UserFilter{IncludeDisabled: true})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, u := range us {
				found = found || (u.ID == gone.UserID && u.Disabled)
			}
			if !found {
				t.Fatal("admin does not see the disabled user")
			}
			if _, err := s.FindUsers(ctx, nil, store.UserFilter{}); store.ErrorCode(err) != store.CodeUnauthorized {
				t.Fatalf("FindUsers without an actor = %v", err)
			}
		})

		t.Run("cannot find another user", func(t *testing.T) {
			_, err := s.FindUser(ctx, sales, joan.UserID)
			wantCode(t, err, store.CodeNotFound)
			_, err = s.FindUser(ctx, sales, 9999)
			wantCode(t, err, store.CodeNotFound)
			_, err = s.FindUserByEmail(ctx, sales, "anna@example.com")
			wantCode(t, err, store.CodeForbidden)
			u, err := s.FindUser(ctx, sales, sales.UserID)
			if err != nil || u.Email != "sales@example.com" {
				t.Fatalf("FindUser self = %+v, %v", u, err)
			}
		})

		t.Run("updates own name, language and time zone", func(t *testing.T) {
			name, lang, tz := "Sílvia Roca", "en", "America/New_York"
			u, err := s.UpdateUser(ctx, sales, sales.UserID, store.UserUpdate{Name: &name, Language: &lang, Timezone: &tz})
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != name || u.Language != lang || u.Timezone != tz || u.RoleKey != "salesperson" {
				t.Fatalf("user = %+v", u)
			}
		})

		t.Run("cannot change own role, e-mail, team or disabled flag", func(t *testing.T) {
			role, email, yes := "admin", "boss@example.com", true
			for name, up := range map[string]store.UserUpdate{
				"role":     {RoleKey: &role},
				"email":    {Email: &email},
				"team":     {TeamID: &team.ID},
				"disabled": {Disabled: &yes},
			} {
				t.Run(name, func(t *testing.T) {
					users, roles := usersSnapshot(t, s), rolesSnapshot(t, s)
					_, err := s.UpdateUser(ctx, sales, sales.UserID, up)
					wantCode(t, err, store.CodeForbidden)
					wantUnchanged(t, s, users, roles)
				})
			}
		})

		t.Run("cannot update another user", func(t *testing.T) {
			users, roles := usersSnapshot(t, s), rolesSnapshot(t, s)
			name := "Hacked"
			_, err := s.UpdateUser(ctx, sales, joan.UserID, store.UserUpdate{Name: &name})
			wantCode(t, err, store.CodeNotFound)
			_, err = s.UpdateUser(ctx, sales, admin.UserID, store.UserUpdate{Name: &name})
			wantCode(t, err, store.CodeNotFound)
			_, err = s.UpdateUser(ctx, nil, joan.UserID, store.UserUpdate{Name: &name})
			wantCode(t, err, store.CodeUnauthorized)
			wantUnchanged(t, s, users, roles)
		})
	})

	t.Run("disabling ends sessions and logins", func(t *testing.T) {
		u := mustUser(t, s, admin, "leaving@example.com", "salesperson")
		sid, err := s.CreateSession(ctx, u.UserID, "192.0.2.1", "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionActor(ctx, sid); err != nil {
			t.Fatal(err)
		}
		yes := true
		got, err := s.UpdateUser(ctx, admin, u.UserID, store.UserUpdate{Disabled: &yes})
		if err != nil || !got.Disabled {
			t.Fatalf("disable = %+v, %v", got, err)
		}
		_, _, err = s.SessionActor(ctx, sid)
		wantCode(t, err, store.CodeUnauthorized)
		_, err = s.Authenticate(ctx, "leaving@example.com", "password-123")
		wantErr(t, err, store.CodeUnauthorized, "error.bad_login")
		_, err = s.ActorFor(ctx, u.UserID)
		wantCode(t, err, store.CodeUnauthorized)
		db := openRawDB(t, s.Path())
		if n := queryInt(t, db, `SELECT count(*) FROM sessions WHERE user_id = ?`, u.UserID); n != 0 {
			t.Fatalf("%d sessions left for a disabled user", n)
		}

		no := false
		if _, err := s.UpdateUser(ctx, admin, u.UserID, store.UserUpdate{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "leaving@example.com", "password-123"); err != nil {
			t.Fatalf("Authenticate after re-enabling: %v", err)
		}
	})

	t.Run("nobody disables themselves", func(t *testing.T) {
		users, roles := usersSnapshot(t, s), rolesSnapshot(t, s)
		yes := true
		_, err := s.UpdateUser(ctx, admin, admin.UserID, store.UserUpdate{Disabled: &yes})
		wantErr(t, err, store.CodeForbidden, "error.disable_self")
		wantUnchanged(t, s, users, roles)
	})

	t.Run("admin changes own name and e-mail", func(t *testing.T) {
		name, email := "Anna Puig i Soler", "anna.puig@example.com"
		u, err := s.UpdateUser(ctx, admin, admin.UserID, store.UserUpdate{Name: &name, Email: &email})
		if err != nil || u.Name != name || u.Email != email || u.RoleKey != "admin" {
			t.Fatalf("user = %+v, %v", u, err)
		}
	})
}

func TestStore_PrivilegeEscalation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	limitedRoles(t, s, admin)
	hr := mustUser(t, s, admin, "hr@example.com", "hr")
	rolemgr := mustUser(t, s, admin, "roles@example.com", "rolemgr")
	viewer := mustUser(t, s, admin, "viewer@example.com", "viewer")
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	roleID := func(t *testing.T, key string) int64 {
		t.Helper()
		for _, r := range rolesSnapshot(t, s) {
			if r.Key == key {
				return r.ID
			}
		}
		t.Fatalf("no role %q", key)
		return 0
	}

	// refused runs a call that must be refused with code and key, and checks
	// that no user and no role changed.
	refused := func(t *testing.T, code store.Code, key string, call func() error) {
		t.Helper()
		users, roles := usersSnapshot(t, s), rolesSnapshot(t, s)
		wantErr(t, call(), code, key)
		wantUnchanged(t, s, users, roles)
	}

	t.Run("user manager", func(t *testing.T) {
		t.Run("cannot create an admin", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.CreateUser(ctx, hr, store.UserInput{Email: "evil@example.com", Name: "Evil", Password: "password-123", RoleKey: "admin"})
				return err
			})
		})
		t.Run("cannot create a user with a role it does not cover", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.CreateUser(ctx, hr, store.UserInput{Email: "evil@example.com", Name: "Evil", Password: "password-123", RoleKey: "salesperson"})
				return err
			})
		})
		t.Run("cannot edit an admin", func(t *testing.T) {
			name, yes, email := "Pwned", true, "hr2@example.com"
			for _, up := range []store.UserUpdate{{Name: &name}, {Disabled: &yes}, {Email: &email}} {
				refused(t, store.CodeForbidden, "error.higher_role", func() error {
					_, err := s.UpdateUser(ctx, hr, admin.UserID, up)
					return err
				})
			}
		})
		t.Run("cannot edit a user of a role it does not cover", func(t *testing.T) {
			name := "Pwned"
			refused(t, store.CodeForbidden, "error.higher_role", func() error {
				_, err := s.UpdateUser(ctx, hr, sales.UserID, store.UserUpdate{Name: &name})
				return err
			})
		})
		t.Run("cannot reset an admin's password", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.higher_role", func() error {
				return s.SetPassword(ctx, hr, admin.UserID, "", "taken-over-123")
			})
			if _, err := s.Authenticate(ctx, "anna@example.com", "contrasenya-segura"); err != nil {
				t.Fatalf("admin's password changed: %v", err)
			}
		})
		t.Run("cannot make an API token for an admin", func(t *testing.T) {
			_, _, err := s.CreateToken(ctx, hr, admin.UserID, "backdoor")
			wantErr(t, err, store.CodeForbidden, "error.higher_role")
			toks, err := s.FindTokens(ctx, admin, admin.UserID)
			if err != nil || len(toks) != 0 {
				t.Fatalf("admin tokens = %v, %v", toks, err)
			}
		})
		t.Run("cannot assign a role with permissions it lacks", func(t *testing.T) {
			for _, role := range []string{"admin", "salesperson", "rolemgr"} {
				refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
					_, err := s.UpdateUser(ctx, hr, viewer.UserID, store.UserUpdate{RoleKey: &role})
					return err
				})
			}
		})
		t.Run("can manage users it covers", func(t *testing.T) {
			u, err := s.CreateUser(ctx, hr, store.UserInput{Email: "intern@example.com", Name: "Intern", Password: "password-123", RoleKey: "viewer"})
			if err != nil {
				t.Fatal(err)
			}
			role := "hr"
			if u, err = s.UpdateUser(ctx, hr, u.ID, store.UserUpdate{RoleKey: &role}); err != nil || u.RoleKey != "hr" {
				t.Fatalf("promote to an equal role = %+v, %v", u, err)
			}
		})
	})

	t.Run("nobody changes their own role", func(t *testing.T) {
		for _, c := range []struct {
			a    *store.Actor
			role string
			key  string
		}{
			{admin, "salesperson", "error.own_role"},
			{hr, "viewer", "error.own_role"},
			{hr, "admin", "error.own_role"},
			{sales, "admin", "error.forbidden"},
		} {
			refused(t, store.CodeForbidden, c.key, func() error {
				_, err := s.UpdateUser(ctx, c.a, c.a.UserID, store.UserUpdate{RoleKey: &c.role})
				return err
			})
		}
	})

	t.Run("role manager", func(t *testing.T) {
		more := store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{store.EntContacts: {store.ActView: store.ScopeAll}}}
		t.Run("cannot create a role granting more scope", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.CreateRole(ctx, rolemgr, store.RoleInput{Key: "wider", Name: "Wider", Permissions: more})
				return err
			})
		})
		t.Run("cannot create a role granting a capability", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.CreateRole(ctx, rolemgr, store.RoleInput{Key: "backup_op", Name: "Backups",
					Permissions: store.Permissions{Capabilities: []store.Capability{store.CapBackups}}})
				return err
			})
		})
		t.Run("cannot create a role showing sections it does not see", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.CreateRole(ctx, rolemgr, store.RoleInput{Key: "nosy", Name: "Nosy", Sections: []store.Section{"settings"}})
				return err
			})
		})
		sub, err := s.CreateRole(ctx, rolemgr, store.RoleInput{Key: "sub", Name: "Sub", Sections: []store.Section{"home"},
			Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{store.EntContacts: {store.ActView: store.ScopeOwn}}}})
		if err != nil {
			t.Fatalf("creating a covered role: %v", err)
		}
		t.Run("cannot widen a role it manages", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.UpdateRole(ctx, rolemgr, sub.ID, store.RoleInput{Name: "Sub", Permissions: more})
				return err
			})
			refused(t, store.CodeForbidden, "error.grant_more_than_held", func() error {
				_, err := s.UpdateRole(ctx, rolemgr, sub.ID, store.RoleInput{Name: "Sub",
					Permissions: store.Permissions{Capabilities: []store.Capability{store.CapUsers}}})
				return err
			})
		})
		t.Run("cannot edit or delete a role holding more", func(t *testing.T) {
			for _, key := range []string{"admin", "salesperson", "hr"} {
				refused(t, store.CodeForbidden, "error.higher_role", func() error {
					_, err := s.UpdateRole(ctx, rolemgr, roleID(t, key), store.RoleInput{Name: "Mine now"})
					return err
				})
			}
			wide := mustRole(t, s, admin, store.RoleInput{Key: "wide", Name: "Wide", Permissions: more})
			refused(t, store.CodeForbidden, "error.higher_role", func() error {
				return s.DeleteRole(ctx, rolemgr, wide.ID)
			})
		})
		t.Run("cannot edit its own role", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.own_role", func() error {
				_, err := s.UpdateRole(ctx, rolemgr, roleID(t, "rolemgr"), store.RoleInput{Name: "Role manager"})
				return err
			})
		})
		t.Run("user manager without the roles capability cannot touch roles", func(t *testing.T) {
			refused(t, store.CodeForbidden, "error.forbidden", func() error {
				_, err := s.CreateRole(ctx, hr, store.RoleInput{Key: "x_role", Name: "X"})
				return err
			})
			refused(t, store.CodeForbidden, "error.forbidden", func() error {
				_, err := s.UpdateRole(ctx, hr, sub.ID, store.RoleInput{Name: "X"})
				return err
			})
		})
	})

	t.Run("the admin role's permissions cannot be reduced", func(t *testing.T) {
		// The admin cannot edit their own role at all …
		refused(t, store.CodeForbidden, "error.own_role", func() error {
			_, err := s.UpdateRole(ctx, admin, roleID(t, "admin"), store.RoleInput{Name: "Administrator"})
			return err
		})
		// … and whoever can (the system, another all-powerful role) may
		// rename it but its permissions stay complete.
		all := store.SystemActor().Permissions
		mustRole(t, s, admin, store.RoleInput{Key: "super", Name: "Super", Permissions: all, Sections: store.Sections})
		super := mustUser(t, s, admin, "super@example.com", "super")
		for _, a := range []*store.Actor{store.SystemActor(), super} {
			r, err := s.UpdateRole(ctx, a, roleID(t, "admin"), store.RoleInput{Name: "Boss",
				Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{store.EntContacts: {store.ActView: store.ScopeOwn}}},
				Sections:    []store.Section{"home"}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != "Boss" || !reflect.DeepEqual(r.Permissions, all) || !reflect.DeepEqual(r.Sections, store.Sections) {
				t.Fatalf("admin role after a reducing update = %+v", r)
			}
			a2, err := s.ActorFor(ctx, admin.UserID)
			if err != nil || !reflect.DeepEqual(a2.Permissions, all) || !reflect.DeepEqual(a2.Sections, store.Sections) {
				t.Fatalf("admin actor after a reducing update = %+v, %v", a2, err)
			}
		}
	})

	t.Run("the last active admin", func(t *testing.T) {
		sys := store.SystemActor()
		yes, demote := true, "salesperson"
		t.Run("cannot be disabled", func(t *testing.T) {
			refused(t, store.CodeConflict, "error.last_admin", func() error {
				_, err := s.UpdateUser(ctx, sys, admin.UserID, store.UserUpdate{Disabled: &yes})
				return err
			})
		})
		t.Run("cannot be demoted", func(t *testing.T) {
			refused(t, store.CodeConflict, "error.last_admin", func() error {
				_, err := s.UpdateUser(ctx, sys, admin.UserID, store.UserUpdate{RoleKey: &demote})
				return err
			})
		})
		t.Run("a disabled admin does not count", func(t *testing.T) {
			second := mustUser(t, s, admin, "second@example.com", "admin")
			if _, err := s.UpdateUser(ctx, admin, second.UserID, store.UserUpdate{Disabled: &yes}); err != nil {
				t.Fatalf("disabling one of two admins: %v", err)
			}
			refused(t, store.CodeConflict, "error.last_admin", func() error {
				_, err := s.UpdateUser(ctx, sys, admin.UserID, store.UserUpdate{RoleKey: &demote})
				return err
			})
			// A disabled admin can still be demoted: it is not the last active one.
			if _, err := s.UpdateUser(ctx, admin, second.UserID, store.UserUpdate{RoleKey: &demote}); err != nil {
				t.Fatalf("demoting a disabled admin: %v", err)
			}
		})
		t.Run("one of two active admins can be demoted", func(t *testing.T) {
			third := mustUser(t, s, admin, "third@example.com", "admin")
			u, err := s.UpdateUser(ctx, third, admin.UserID, store.UserUpdate{RoleKey: &demote})
			if err != nil || u.RoleKey != "salesperson" {
				t.Fatalf("demote = %+v, %v", u, err)
			}
			refused(t, store.CodeConflict, "error.last_admin", func() error {
				_, err := s.UpdateUser(ctx, sys, third.UserID, store.UserUpdate{Disabled: &yes})
				return err
			})
		})
	})
}

func TestStore_SetPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	limitedRoles(t, s, admin)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "salesperson")
	hr := mustUser(t, s, admin, "hr@example.com", "hr")
	login := func(email, pw string) error {
		_, err := s.Authenticate(ctx, email, pw)
		return err
	}

	t.Run("own password needs the current one", func(t *testing.T) {
		err := s.SetPassword(ctx, joan, joan.UserID, "wrong-password", "new-password-1")
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "current_password")
		if err := login("joan@example.com", "password-123"); err != nil {
			t.Fatalf("old password stopped working after a refused change: %v", err)
		}
		if err := s.SetPassword(ctx, joan, joan.UserID, "password-123", unicodePassword); err != nil {
			t.Fatal(err)
		}
		if err := login("joan@example.com", unicodePassword); err != nil {
			t.Fatalf("new password: %v", err)
		}
		wantCode(t, login("joan@example.com", "password-123"), store.CodeUnauthorized)
	})

	t.Run("lengths", func(t *testing.T) {
		current := unicodePassword
		for _, c := range []struct {
			pw  string
			key string
		}{
			{"1234567", "error.password_short"},
			{strings.Repeat("x", 257), "error.password_long"},
			{strings.Repeat("x", 256), ""},
			{strings.Repeat("y", 64), ""},
			{unicodePassword, ""},
		} {
			err := s.SetPassword(ctx, joan, joan.UserID, current, c.pw)
			if c.key != "" {
				wantCode(t, err, store.CodeInvalid)
				if k := store.AsError(err).Fields["password"]; k != c.key {
					t.Fatalf("password %d chars: error %q, want %q", len(c.pw), k, c.key)
				}
				if err := login("joan@example.com", current); err != nil {
					t.Fatalf("password changed by a refused call: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("password of %d bytes: %v", len(c.pw), err)
			}
			if err := login("joan@example.com", c.pw); err != nil {
				t.Fatalf("login with the new %d-byte password: %v", len(c.pw), err)
			}
			current = c.pw
		}
	})

	t.Run("admin resets without the current password", func(t *testing.T) {
		if err := s.SetPassword(ctx, admin, marta.UserID, "", "reset-by-admin"); err != nil {
			t.Fatal(err)
		}
		if err := login("marta@example.com", "reset-by-admin"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a salesperson cannot reset another user", func(t *testing.T) {
		err := s.SetPassword(ctx, joan, marta.UserID, "", "taken-over-123")
		wantCode(t, err, store.CodeNotFound)
		if err := login("marta@example.com", "reset-by-admin"); err != nil {
			t.Fatalf("password changed: %v", err)
		}
		wantCode(t, s.SetPassword(ctx, nil, marta.UserID, "", "taken-over-123"), store.CodeUnauthorized)
	})

	t.Run("a user manager resets users it covers only", func(t *testing.T) {
		wantErr(t, s.SetPassword(ctx, hr, marta.UserID, "", "taken-over-123"), store.CodeForbidden, "error.higher_role")
		viewer := mustUser(t, s, admin, "viewer@example.com", "viewer")
		if err := s.SetPassword(ctx, hr, viewer.UserID, "", "reset-by-hr-1"); err != nil {
			t.Fatal(err)
		}
		if err := login("viewer@example.com", "reset-by-hr-1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		wantCode(t, s.SetPassword(ctx, admin, 9999, "", "password-123"), store.CodeNotFound)
	})
}

func TestStore_Authenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now})
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	gone := mustUser(t, s, admin, "gone@example.com", "salesperson")
	yes := true
	if _, err := s.UpdateUser(ctx, admin, gone.UserID, store.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}

	t.Run("right password", func(t *testing.T) {
		clock.Advance(time.Hour)
		u, err := s.Authenticate(ctx, "joan@example.com", "password-123")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != joan.UserID || !u.LastLoginAt.Equal(clock.Now()) {
			t.Fatalf("user = %+v, want id %d last login %v", u, joan.UserID, clock.Now())
		}
	})

	t.Run("failures are indistinguishable", func(t *testing.T) {
		for _, c := range []struct{ name, email, pw string }{
			{"wrong password", "joan@example.com", "password-124"},
			{"empty password", "joan@example.com", ""},
			{"password with different case", "joan@example.com", "PASSWORD-123"},
			{"unknown e-mail", "nobody@example.com", "password-123"},
			{"empty e-mail", "", "password-123"},
			{"disabled user with the right password", "gone@example.com", "password-123"},
		} {
			t.Run(c.name, func(t *testing.T) {
				u, err := s.Authenticate(ctx, c.email, c.pw)
				if u != nil {
					t.Fatalf("user returned: %+v", u)
				}
				wantErr(t, err, store.CodeUnauthorized, "error.bad_login")
				if f := store.AsError(err).Fields; len(f) != 0 {
					t.Fatalf("fields %v reveal which part was wrong", f)
				}
			})
		}
	})

	t.Run("failures do not record a login", func(t *testing.T) {
		before, err := s.FindUser(ctx, admin, gone.UserID)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		s.Authenticate(ctx, "gone@example.com", "password-123")
		after, err := s.FindUser(ctx, admin, gone.UserID)
		if err != nil || !after.LastLoginAt.Equal(before.LastLoginAt) {
			t.Fatalf("last login %v → %v, %v", before.LastLoginAt, after.LastLoginAt, err)
		}
	})
}

func TestStore_UserAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	name := "Sílvia"
	if _, err := s.UpdateUser(ctx, admin, sales.UserID, store.UserUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, admin, sales.UserID, "", "another-password"); err != nil {
		t.Fatal(err)
	}
	// Refused calls leave no trace.
	bad := "x"
	s.UpdateUser(ctx, admin, sales.UserID, store.UserUpdate{Email: &bad})
	s.SetPassword(ctx, admin, sales.UserID, "", "short")

	es, err := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "users", RecordID: sales.UserID})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range es {
		acts = append(acts, e.Action)
		if e.UserID != admin.UserID || e.UserName != "Anna Puig" || e.At.IsZero() {
			t.Errorf("entry %+v: want by the admin, with a time", e)
		}
		if strings.Contains(e.Detail, "another-password") || strings.Contains(e.Detail, "argon2") {
			t.Errorf("entry %+v holds a password", e)
		}
	}
	if want := []string{"password", "update", "create"}; !reflect.DeepEqual(acts, want) {
		t.Fatalf("audit actions = %v, want %v", acts, want)
	}
	if !strings.Contains(es[2].Detail, "sales@example.com") || !strings.Contains(es[2].Detail, "salesperson") {
		t.Errorf("create detail = %s", es[2].Detail)
	}
	if !strings.Contains(es[1].Detail, "Sílvia") {
		t.Errorf("update detail = %s", es[1].Detail)
	}

	t.Run("salesperson cannot read the audit log", func(t *testing.T) {
		_, err := s.FindAudit(ctx, sales, store.AuditFilter{})
		wantCode(t, err, store.CodeForbidden)
	})
	t.Run("filters and paging", func(t *testing.T) {
		all, err := s.FindAudit(ctx, admin, store.AuditFilter{Limit: 200})
		if err != nil || len(all) < 5 {
			t.Fatalf("all = %d, %v", len(all), err)
		}
		page, err := s.FindAudit(ctx, admin, store.AuditFilter{Limit: 2})
		if err != nil || len(page) != 2 || page[0].ID != all[0].ID {
			t.Fatalf("first page = %+v, %v", page, err)
		}
		next, err := s.FindAudit(ctx, admin, store.AuditFilter{Limit: 2, Before: page[1].ID})
		if err != nil || len(next) != 2 || next[0].ID != all[2].ID {
			t.Fatalf("second page = %+v, %v", next, err)
		}
	})
}

func TestStore_CreateRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")

	t.Run("creates a normalised role", func(t *testing.T) {
		r, err := s.CreateRole(ctx, admin, store.RoleInput{Key: "intern", Name: " Intern ",
			Permissions: store.Permissions{
				Entities: map[store.Entity]map[store.Action]store.Scope{
					store.EntLeads:    {store.ActView: store.ScopeTeam, store.ActEdit: store.ScopeNone},
					store.EntContacts: {},
				},
				Capabilities: []store.Capability{store.CapImport, store.CapAudit, store.CapImport},
			},
			Sections: []store.Section{"home", "leads", "home"}})
		if err != nil {
			t.Fatal(err)
		}
		want := store.Permissions{
			Entities:     map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: store.ScopeTeam}},
			Capabilities: []store.Capability{store.CapAudit, store.CapImport},
		}
		if r.Key != "intern" || r.Name != "Intern" || r.Builtin || !reflect.DeepEqual(r.Permissions, want) ||
			!reflect.DeepEqual(r.Sections, []store.Section{"home", "leads"}) || r.UserCount != 0 {
			t.Fatalf("role = %+v", r)
		}
		u := mustUser(t, s, admin, "intern@example.com", "intern")
		if !u.Can(store.EntLeads, store.ActView) || u.Can(store.EntLeads, store.ActEdit) || !u.Has(store.CapAudit) || !u.Sees("leads") || u.Sees("cases") {
			t.Fatalf("actor of the new role = %+v", u)
		}
		if acts := auditActions(t, s, admin, "roles", r.ID); !reflect.DeepEqual(acts, []string{"create"}) {
			t.Fatalf("audit = %v", acts)
		}
	})

	t.Run("validation errors name fields and store nothing", func(t *testing.T) {
		tests := []struct {
			name  string
			in    store.RoleInput
			field string
		}{
			{"bad key", store.RoleInput{Key: "Bad Key", Name: "X"}, "key"},
			{"key too short", store.RoleInput{Key: "x", Name: "X"}, "key"},
			{"empty name", store.RoleInput{Key: "ok_key", Name: " "}, "name"},
			{"unknown entity", store.RoleInput{Key: "ok_key", Name: "X", Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{"invoices": {store.ActView: store.ScopeAll}}}}, "permissions"},
			{"unknown action", store.RoleInput{Key: "ok_key", Name: "X", Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {"print": store.ScopeAll}}}}, "permissions"},
			{"unknown scope", store.RoleInput{Key: "ok_key", Name: "X", Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{store.EntLeads: {store.ActView: "galaxy"}}}}, "permissions"},
			{"unknown capability", store.RoleInput{Key: "ok_key", Name: "X", Permissions: store.Permissions{Capabilities: []store.Capability{"root"}}}, "permissions"},
			{"unknown section", store.RoleInput{Key: "ok_key", Name: "X", Sections: []store.Section{"casino"}}, "sections"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				roles := rolesSnapshot(t, s)
				_, err := s.CreateRole(ctx, admin, tt.in)
				wantCode(t, err, store.CodeInvalid)
				wantField(t, err, tt.field)
				if got := rolesSnapshot(t, s); !reflect.DeepEqual(got, roles) {
					t.Fatalf("roles changed")
				}
			})
		}
	})

	t.Run("duplicate key is a conflict", func(t *testing.T) {
		for _, key := range []string{"intern", "admin"} {
			roles := rolesSnapshot(t, s)
			_, err := s.CreateRole(ctx, admin, store.RoleInput{Key: key, Name: "Again"})
			wantErr(t, err, store.CodeConflict, "error.role_key_taken")
			wantField(t, err, "key")
			if got := rolesSnapshot(t, s); !reflect.DeepEqual(got, roles) {
				t.Fatalf("roles changed")
			}
		}
	})

	t.Run("needs the roles capability", func(t *testing.T) {
		_, err := s.CreateRole(ctx, sales, store.RoleInput{Key: "mine", Name: "Mine"})
		wantCode(t, err, store.CodeForbidden)
		_, err = s.FindRoles(ctx, sales)
		wantCode(t, err, store.CodeForbidden)
		_, err = s.FindRole(ctx, sales, 1)
		wantCode(t, err, store.CodeForbidden)
	})
}

func TestStore_UpdateRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	rs := rolesSnapshot(t, s)
	var salesRole store.Role
	for _, r := range rs {
		if r.Key == "salesperson" {
			salesRole = r
		}
	}

	t.Run("admin edits a built-in role and holders get it at once", func(t *testing.T) {
		perms := salesRole.Permissions
		perms.Entities[store.EntLeads][store.ActExport] = store.ScopeOwn
		r, err := s.UpdateRole(ctx, admin, salesRole.ID, store.RoleInput{Key: "ignored", Name: "Comercial", Permissions: perms, Sections: salesRole.Sections})
		if err != nil {
			t.Fatal(err)
		}
		if r.Key != "salesperson" || r.Name != "Comercial" || r.Permissions.Scope(store.EntLeads, store.ActExport) != store.ScopeOwn || r.UserCount != 1 {
			t.Fatalf("role = %+v", r)
		}
		a, err := s.ActorFor(ctx, sales.UserID)
		if err != nil || !a.Can(store.EntLeads, store.ActExport) {
			t.Fatalf("actor = %+v, %v", a, err)
		}
		es, err := s.FindAudit(ctx, admin, store.AuditFilter{Entity: "roles", RecordID: salesRole.ID})
		if err != nil || len(es) != 1 || es[0].Action != "update" || !strings.Contains(es[0].Detail, "Comercial") {
			t.Fatalf("audit = %+v, %v", es, err)
		}
	})

	t.Run("validation errors change nothing", func(t *testing.T) {
		roles := rolesSnapshot(t, s)
		_, err := s.UpdateRole(ctx, admin, salesRole.ID, store.RoleInput{Name: ""})
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "name")
		_, err = s.UpdateRole(ctx, admin, salesRole.ID, store.RoleInput{Name: "X", Sections: []store.Section{"casino"}})
		wantField(t, err, "sections")
		if got := rolesSnapshot(t, s); !reflect.DeepEqual(got, roles) {
			t.Fatalf("roles changed")
		}
	})

	t.Run("unknown role", func(t *testing.T) {
		_, err := s.UpdateRole(ctx, admin, 9999, store.RoleInput{Name: "X"})
		wantCode(t, err, store.CodeNotFound)
	})

	t.Run("needs the roles capability", func(t *testing.T) {
		_, err := s.UpdateRole(ctx, sales, salesRole.ID, store.RoleInput{Name: "Mine"})
		wantCode(t, err, store.CodeForbidden)
	})
}

func TestStore_DeleteRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	temp := mustRole(t, s, admin, store.RoleInput{Key: "temp", Name: "Temporary"})
	used := mustRole(t, s, admin, store.RoleInput{Key: "used", Name: "Used"})
	u := mustUser(t, s, admin, "used@example.com", "used")
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")

	t.Run("deletes an unused custom role", func(t *testing.T) {
		if err := s.DeleteRole(ctx, admin, temp.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindRole(ctx, admin, temp.ID)
		wantCode(t, err, store.CodeNotFound)
		if acts := auditActions(t, s, admin, "roles", temp.ID); !reflect.DeepEqual(acts, []string{"create", "delete"}) {
			t.Fatalf("audit = %v", acts)
		}
		wantCode(t, s.DeleteRole(ctx, admin, temp.ID), store.CodeNotFound)
	})

	t.Run("refuses built-in roles", func(t *testing.T) {
		for _, r := range rolesSnapshot(t, s) {
			if r.Builtin {
				wantErr(t, s.DeleteRole(ctx, admin, r.ID), store.CodeConflict, "error.builtin_role")
			}
		}
		if got := len(rolesSnapshot(t, s)); got != len(store.BuiltinRoleKeys)+1 {
			t.Fatalf("%d roles left", got)
		}
	})

	t.Run("refuses a role in use, even by disabled users only", func(t *testing.T) {
		wantErr(t, s.DeleteRole(ctx, admin, used.ID), store.CodeConflict, "error.role_in_use")
		yes := true
		if _, err := s.UpdateUser(ctx, admin, u.UserID, store.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeleteRole(ctx, admin, used.ID), store.CodeConflict, "error.role_in_use")
		if _, err := s.FindRole(ctx, admin, used.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("needs the roles capability", func(t *testing.T) {
		wantCode(t, s.DeleteRole(ctx, sales, used.ID), store.CodeForbidden)
	})
}

func TestStore_Teams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")

	north, err := s.SaveTeam(ctx, admin, 0, " Nord ")
	if err != nil || north.ID == 0 || north.Name != "Nord" {
		t.Fatalf("SaveTeam = %+v, %v", north, err)
	}
	south := mustTeam(t, s, admin, "Sud")
	for _, email := range []string{"n1@example.com", "n2@example.com"} {
		mustUserInTeam(t, s, admin, email, "salesperson", north.ID)
	}
	off := mustUserInTeam(t, s, admin, "n3@example.com", "salesperson", north.ID)
	yes := true
	if _, err := s.UpdateUser(ctx, admin, off.UserID, store.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}

	t.Run("lists teams with active member counts", func(t *testing.T) {
		ts, err := s.FindTeams(ctx, sales)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, tm := range ts {
			got[tm.Name] = tm.Members
		}
		if want := map[string]int{"Nord": 2, "Sud": 0}; !reflect.DeepEqual(got, want) || ts[0].Name != "Nord" {
			t.Fatalf("teams = %v, want %v in name order", got, want)
		}
		_, err = s.FindTeams(ctx, nil)
		wantCode(t, err, store.CodeUnauthorized)
	})

	t.Run("renames", func(t *testing.T) {
		tm, err := s.SaveTeam(ctx, admin, south.ID, "Sud-oest")
		if err != nil || tm.ID != south.ID || tm.Name != "Sud-oest" {
			t.Fatalf("rename = %+v, %v", tm, err)
		}
		if acts := auditActions(t, s, admin, "teams", south.ID); !reflect.DeepEqual(acts, []string{"create", "update"}) {
			t.Fatalf("audit = %v", acts)
		}
	})

	t.Run("names are unique ignoring case", func(t *testing.T) {
		_, err := s.SaveTeam(ctx, admin, 0, "NORD")
		wantErr(t, err, store.CodeConflict, "error.team_taken")
		_, err = s.SaveTeam(ctx, admin, south.ID, "nord")
		wantErr(t, err, store.CodeConflict, "error.team_taken")
	})

	t.Run("invalid names", func(t *testing.T) {
		for _, name := range []string{"", "   ", strings.Repeat("t", 101), "a\tb"} {
			_, err := s.SaveTeam(ctx, admin, 0, name)
			wantCode(t, err, store.CodeInvalid)
			wantField(t, err, "name")
		}
	})

	t.Run("unknown team", func(t *testing.T) {
		_, err := s.SaveTeam(ctx, admin, 9999, "Ghost")
		wantCode(t, err, store.CodeNotFound)
		wantCode(t, s.DeleteTeam(ctx, admin, 9999), store.CodeNotFound)
	})

	t.Run("needs the users capability", func(t *testing.T) {
		_, err := s.SaveTeam(ctx, sales, 0, "Mine")
		wantCode(t, err, store.CodeForbidden)
		wantCode(t, s.DeleteTeam(ctx, sales, north.ID), store.CodeForbidden)
	})

	t.Run("deleting keeps the members without a team", func(t *testing.T) {
		if err := s.DeleteTeam(ctx, admin, north.ID); err != nil {
			t.Fatal(err)
		}
		for _, u := range usersSnapshot(t, s) {
			if u.TeamID == north.ID || u.TeamName == "Nord" {
				t.Fatalf("user %s still in the deleted team", u.Email)
			}
		}
		ts, err := s.FindTeams(ctx, admin)
		if err != nil || len(ts) != 1 {
			t.Fatalf("teams = %+v, %v", ts, err)
		}
		if _, err := s.Authenticate(ctx, "n1@example.com", "password-123"); err != nil {
			t.Fatalf("member of a deleted team cannot sign in: %v", err)
		}
	})
}
