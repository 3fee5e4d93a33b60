package ui_test

import (
	"context"
	"net/http"
	"testing"

	"cartera/store"
)

// TestAPI_RoleMatrix checks each built-in role against each record type and
// action through the JSON API, against an expected table written out here
// (not derived from the code under test). Letters: v view (list), c create,
// e edit own record, d delete own record.
func TestAPI_RoleMatrix(t *testing.T) {
	expected := map[string]map[store.Entity]string{
		"admin":         {"accounts": "vced", "contacts": "vced", "leads": "vced", "opportunities": "vced", "activities": "vced", "tasks": "vced", "cases": "vced"},
		"salesperson":   {"accounts": "vce", "contacts": "vce", "leads": "vce", "opportunities": "vce", "activities": "vce", "tasks": "vce", "cases": ""},
		"service_agent": {"accounts": "v", "contacts": "v", "leads": "", "opportunities": "", "activities": "vce", "tasks": "vce", "cases": "vce"},
		"marketing":     {"accounts": "", "contacts": "v", "leads": "vce", "opportunities": "", "activities": "", "tasks": "", "cases": ""},
	}
	bodies := map[store.Entity]map[string]any{
		"accounts":      {"name": "Empresa ABC"},
		"contacts":      {"first_name": "Laura", "last_name": "García"},
		"leads":         {"first_name": "Jordi", "company": "Fusteria"},
		"opportunities": {"name": "TPV"},
		"activities":    {"type": "call", "subject": "Trucada", "occurred_at": "2026-11-01T10:00:00Z"},
		"tasks":         {"title": "Trucar"},
		"cases":         {"subject": "Factura"},
	}
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	for role, ents := range expected {
		t.Run(role, func(t *testing.T) {
			var actor *store.Actor
			if role == "admin" {
				actor = admin
			} else {
				actor = e.mustUser(admin, role+"@example.com", role)
			}
			tok, _, err := e.st.CreateToken(ctx, actor, actor.UserID, "matrix")
			if err != nil {
				t.Fatal(err)
			}
			for ent, allowed := range ents {
				has := func(c byte) bool {
					for i := 0; i < len(allowed); i++ {
						if allowed[i] == c {
							return true
						}
					}
					return false
				}
				// A record owned by this user, created by the admin.
				d := store.Def(ent)
				body := map[string]any{d.OwnerKey: itoa(actor.UserID)}
				for k, v := range bodies[ent] {
					body[k] = v
				}
				code, rec := e.api("POST", "/api/v1/"+string(ent), adminToken(t, e, admin), jsonBody(body))
				if code != 201 {
					t.Fatalf("admin create %s: %d %v", ent, code, rec)
				}
				id := rec["id"].(string)
				check := func(action string, allow bool, code int, okCode int) {
					t.Helper()
					if allow && code != okCode {
						t.Errorf("%s %s %s: %d, want %d", role, action, ent, code, okCode)
					}
					if !allow && code != http.StatusForbidden {
						t.Errorf("%s %s %s: %d, want 403", role, action, ent, code)
					}
				}
				code, _ = e.api("GET", "/api/v1/"+string(ent), tok, nil)
				check("view", has('v'), code, 200)
				code, _ = e.api("POST", "/api/v1/"+string(ent), tok, jsonBody(bodies[ent]))
				check("create", has('c'), code, 201)
				code, _ = e.api("PATCH", "/api/v1/"+string(ent)+"/"+id, tok, jsonBody(map[string]any{}))
				check("edit", has('e'), code, 200)
				code, _ = e.api("DELETE", "/api/v1/"+string(ent)+"/"+id, tok, nil)
				check("delete", has('d'), code, 204)
				// A refused delete changed nothing.
				if !has('d') {
					if _, err := e.st.FindRecord(ctx, admin, ent, parseID(id)); err != nil {
						t.Errorf("%s: refused delete of %s removed it: %v", role, ent, err)
					}
				}
			}
		})
	}
}

var adminTokens = map[*testEnv]string{}

// adminToken returns (and caches) an API token for the admin.
func adminToken(t *testing.T, e *testEnv, admin *store.Actor) string {
	t.Helper()
	if tok, ok := adminTokens[e]; ok {
		return tok
	}
	tok, _, err := e.st.CreateToken(context.Background(), admin, admin.UserID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	adminTokens[e] = tok
	return tok
}
