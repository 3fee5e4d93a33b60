package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

func jsonBody(v any) *bytes.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// TestAPI_Seed001 runs seed 001's exercises through the JSON API.
func TestAPI_Seed001(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "test")
	if err != nil {
		t.Fatal(err)
	}
	code, acc := e.api("POST", "/api/v1/accounts", tok, jsonBody(map[string]any{"name": "Empresa ABC", "type": "customer", "tags": []string{"Client"}}))
	if code != 201 {
		t.Fatalf("create account: %d %v", code, acc)
	}
	accID := acc["id"].(string)
	code, laura := e.api("POST", "/api/v1/contacts", tok, jsonBody(map[string]any{"first_name": "Laura", "last_name": "García", "email": "laura@empresaabc.com", "title": "Compradora", "account_id": accID}))
	if code != 201 || laura["account_id"] != accID || laura["owner_id"] == nil {
		t.Fatalf("create contact: %d %v", code, laura)
	}
	id := laura["id"].(string)
	e.api("POST", "/api/v1/contacts", tok, jsonBody(map[string]any{"first_name": "Marta", "last_name": "Núñez", "account_id": accID}))
	code, up := e.api("PATCH", "/api/v1/contacts/"+id, tok, jsonBody(map[string]any{"email": "laura.garcia@empresaabc.com", "title": "Directora de compres"}))
	if code != 200 || up["title"] != "Directora de compres" {
		t.Fatalf("patch: %d %v", code, up)
	}
	code, res := e.api("GET", "/api/v1/search?q="+url.QueryEscape("Empresa ABC"), tok, nil)
	contacts, _ := res["data"].(map[string]any)["contacts"].([]any)
	if code != 200 || len(contacts) != 2 {
		t.Fatalf("search: %d %v", code, res)
	}
	code, up = e.api("PATCH", "/api/v1/contacts/"+id, tok, jsonBody(map[string]any{"tags": []string{"Compres", "Client Potencial"}}))
	if code != 200 || len(up["tags"].([]any)) != 2 {
		t.Fatalf("tags: %d %v", code, up)
	}
	code, _ = e.api("POST", "/api/v1/activities", tok, jsonBody(map[string]any{"type": "email", "subject": "Enviament de correu electrònic amb nova oferta", "occurred_at": "2023-02-01T10:00:00Z", "contact_id": id}))
	if code != 201 {
		t.Fatalf("activity: %d", code)
	}
	code, tl := e.api("GET", "/api/v1/contacts/"+id+"/timeline", tok, nil)
	found := false
	for _, it := range tl["data"].([]any) {
		m := it.(map[string]any)
		if m["kind"] == "activity" && m["at"] == "2023-02-01T10:00:00Z" {
			found = true
		}
	}
	if code != 200 || !found {
		t.Fatalf("timeline: %d %v", code, tl)
	}
	code, list := e.api("GET", "/api/v1/contacts?tag=Compres", tok, nil)
	if code != 200 || len(list["data"].([]any)) != 1 {
		t.Fatalf("list by tag: %d %v", code, list)
	}
	t.Run("bad writes are 422 and change nothing", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"first_name": "X", "id": "99"},
			{"first_name": "X", "favourite_colour": "blue"},
			{"first_name": "X", "email": "not-an-email"},
			{"first_name": "X", "account_id": "999999"},
			{"first_name": "X", "custom": map[string]any{"nope": 1}},
		} {
			code, res := e.api("POST", "/api/v1/contacts", tok, jsonBody(body))
			if code != 422 || res["error"].(map[string]any)["fields"] == nil {
				t.Errorf("%v: %d %v", body, code, res)
			}
		}
		code, list := e.api("GET", "/api/v1/contacts", tok, nil)
		if code != 200 || len(list["data"].([]any)) != 2 {
			t.Errorf("contacts after refused writes = %v", list)
		}
		if code, _ := e.api("GET", "/api/v1/contacts?sort=password_hash", tok, nil); code != 422 {
			t.Errorf("bad sort = %d", code)
		}
		if code, _ := e.api("GET", "/api/v1/contacts?limit=500", tok, nil); code != 422 {
			t.Errorf("limit 500 = %d", code)
		}
	})
}

// TestAPI_Scopes checks that a salesperson never reaches another's records.
func TestAPI_Scopes(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	a := e.mustUser(admin, "a@example.com", "salesperson")
	b := e.mustUser(admin, "b@example.com", "salesperson")
	ta, _, _ := e.st.CreateToken(ctx, a, a.UserID, "")
	tb, _, _ := e.st.CreateToken(ctx, b, b.UserID, "")
	code, opp := e.api("POST", "/api/v1/opportunities", tb, jsonBody(map[string]any{"name": "Secret deal Zeta", "amount": 5000}))
	if code != 201 {
		t.Fatalf("%d %v", code, opp)
	}
	oid := opp["id"].(string)
	if code, _ := e.api("GET", "/api/v1/opportunities/"+oid, ta, nil); code != 404 {
		t.Errorf("A reads B's opportunity: %d", code)
	}
	if code, _ := e.api("PATCH", "/api/v1/opportunities/"+oid, ta, jsonBody(map[string]any{"name": "mine"})); code != 404 {
		t.Errorf("A edits B's opportunity: %d", code)
	}
	// Salespeople may not delete at all: forbidden whatever the record.
	if code, _ := e.api("DELETE", "/api/v1/opportunities/"+oid, ta, nil); code != 403 {
		t.Errorf("A deletes B's opportunity: %d", code)
	}
	if code, _ := e.api("GET", "/api/v1/opportunities/"+oid+"/timeline", ta, nil); code != 404 {
		t.Errorf("A reads B's timeline: %d", code)
	}
	_, list := e.api("GET", "/api/v1/opportunities", ta, nil)
	if len(list["data"].([]any)) != 0 {
		t.Errorf("A lists B's opportunities: %v", list)
	}
	_, res := e.api("GET", "/api/v1/search?q=zeta", ta, nil)
	if len(res["data"].(map[string]any)) != 0 {
		t.Errorf("A finds B's opportunity: %v", res)
	}
	// A cannot hand a record to B (own scope), nor create one for B.
	code, res = e.api("POST", "/api/v1/opportunities", ta, jsonBody(map[string]any{"name": "Gift", "owner_id": itoa(b.UserID)}))
	if code != 422 {
		t.Errorf("A creates for B: %d %v", code, res)
	}
	// Accounts are visible to all salespeople but editable only by the owner.
	code, acc := e.api("POST", "/api/v1/accounts", tb, jsonBody(map[string]any{"name": "Client de B"}))
	if code != 201 {
		t.Fatal(code)
	}
	if code, _ := e.api("GET", "/api/v1/accounts/"+acc["id"].(string), ta, nil); code != 200 {
		t.Errorf("A reads B's account: %d", code)
	}
	if code, _ := e.api("PATCH", "/api/v1/accounts/"+acc["id"].(string), ta, jsonBody(map[string]any{"name": "x"})); code != 403 {
		t.Errorf("A edits B's account: %d", code)
	}
	// Salespeople have no cases: forbidden.
	if code, _ := e.api("GET", "/api/v1/cases", ta, nil); code != 403 {
		t.Errorf("salesperson lists cases: %d", code)
	}
}

// TestAPI_ConvertLead converts a lead and checks what it became.
func TestAPI_ConvertLead(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "")
	code, lead := e.api("POST", "/api/v1/leads", tok, jsonBody(map[string]any{"first_name": "Jordi", "last_name": "Martí", "company": "Ferreteria Martí", "email": "jordi@ferreteriamarti.cat", "source": "web_form", "tags": []string{"Fira 2026"}}))
	if code != 201 {
		t.Fatalf("%d %v", code, lead)
	}
	lid := lead["id"].(string)
	e.api("POST", "/api/v1/activities", tok, jsonBody(map[string]any{"type": "call", "subject": "Primera trucada", "occurred_at": "2026-11-01T09:00:00Z", "lead_id": lid}))
	code, conv := e.api("POST", "/api/v1/leads/"+lid+"/convert", tok, jsonBody(map[string]any{"create_opportunity": map[string]any{"name": "Ferreteria Martí – TPV", "amount": 1200.5}}))
	if code != 200 {
		t.Fatalf("convert: %d %v", code, conv)
	}
	acc := conv["account"].(map[string]any)
	con := conv["contact"].(map[string]any)
	opp := conv["opportunity"].(map[string]any)
	if acc["name"] != "Ferreteria Martí" || con["account_id"] != acc["id"] || opp["amount"] != 1200.5 || opp["stage"] != "reception" {
		t.Errorf("conversion = %v", conv)
	}
	if tags := con["tags"].([]any); len(tags) != 1 || tags[0] != "Fira 2026" {
		t.Errorf("tags did not follow: %v", con["tags"])
	}
	_, l := e.api("GET", "/api/v1/leads/"+lid, tok, nil)
	if l["status"] != "converted" || l["converted_contact_id"] != con["id"] {
		t.Errorf("lead after convert = %v", l)
	}
	_, tl := e.api("GET", "/api/v1/contacts/"+con["id"].(string)+"/timeline", tok, nil)
	found := false
	for _, it := range tl["data"].([]any) {
		if it.(map[string]any)["subject"] == "Primera trucada" {
			found = true
		}
	}
	if !found {
		t.Error("lead's activity did not follow to the contact")
	}
	if code, _ := e.api("POST", "/api/v1/leads/"+lid+"/convert", tok, nil); code != http.StatusConflict {
		t.Errorf("second conversion = %d", code)
	}
}
