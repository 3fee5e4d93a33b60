package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/store"
	"cartera/ui"
	"cartera/webhook"
)

func TestAPI_Webhooks(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	g, err := webhook.NewGuard([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	e.st.SetURLChecker(g.CheckURL)
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "erp")
	if err != nil {
		t.Fatal(err)
	}
	sp := e.mustUser(admin, "marc@example.com", "salesperson")
	spTok, _, _ := e.st.CreateToken(ctx, sp, sp.UserID, "phone")

	var mu sync.Mutex
	var bodies [][]byte
	var valid []bool
	const secret = "erp-shared-secret-0123456789"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		valid = append(valid, webhook.Verify(secret, r.Header.Get("X-Cartera-Timestamp"), r.Header.Get("X-Cartera-Signature"), b, time.Now(), time.Minute))
		mu.Unlock()
	}))
	defer recv.Close()

	t.Run("a refused target is a 422 naming the reason", func(t *testing.T) {
		code, body := e.api(http.MethodPost, "/api/v1/webhooks", tok, strings.NewReader(`{"url":"http://169.254.169.254/latest/meta-data/","events":["contact.created"]}`))
		fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
		if code != http.StatusUnprocessableEntity || !strings.Contains(fields["url"].(string), "link-local") {
			t.Fatalf("%d %v", code, body)
		}
		code, body = e.api(http.MethodPost, "/api/v1/webhooks", tok, strings.NewReader(`{"url":"http://[::1]:9/","events":["contact.created"]}`))
		if code != http.StatusUnprocessableEntity || !strings.Contains(body["error"].(map[string]any)["fields"].(map[string]any)["url"].(string), "loopback") {
			t.Fatalf("%d %v", code, body)
		}
	})
	t.Run("only administrators manage webhooks", func(t *testing.T) {
		if code, _ := e.api(http.MethodGet, "/api/v1/webhooks", spTok, nil); code != http.StatusForbidden {
			t.Fatalf("salesperson: %d", code)
		}
	})

	code, hook := e.api(http.MethodPost, "/api/v1/webhooks", tok, strings.NewReader(`{"url":"`+recv.URL+`/in","events":["contact.created","contact.deleted"],"secret":"`+secret+`"}`))
	if code != http.StatusCreated || hook["secret"] != secret {
		t.Fatalf("%d %v", code, hook)
	}
	hookID := hook["id"].(string)
	t.Run("the list never shows the secret", func(t *testing.T) {
		_, list := e.api(http.MethodGet, "/api/v1/webhooks", tok, nil)
		data := list["data"].([]any)
		if len(data) != 1 || data[0].(map[string]any)["secret"] != nil {
			t.Fatalf("%v", list)
		}
	})

	t.Run("deliveries carry the record as the API returns it, signed", func(t *testing.T) {
		code, c := e.api(http.MethodPost, "/api/v1/contacts", tok, strings.NewReader(`{"first_name":"Pau","last_name":"Riera","email":"pau@example.com"}`))
		if code != http.StatusCreated {
			t.Fatalf("%d %v", code, c)
		}
		w := webhook.NewWorker(e.st, g)
		w.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if n, err := w.DrainOnce(ctx); n != 1 || err != nil {
			t.Fatalf("delivered %d, %v", n, err)
		}
		_, got := e.api(http.MethodGet, "/api/v1/contacts/"+c["id"].(string), tok, nil)
		var payload struct {
			Type string
			Data struct{ Record map[string]any }
		}
		mu.Lock()
		json.Unmarshal(bodies[0], &payload)
		ok := valid[0]
		mu.Unlock()
		if !ok || payload.Type != "contact.created" || !reflect.DeepEqual(payload.Data.Record, got) {
			t.Fatalf("signature %v, payload %+v\nAPI %v", ok, payload, got)
		}

		_, ds := e.api(http.MethodGet, "/api/v1/webhooks/"+hookID+"/deliveries", tok, nil)
		list := ds["data"].([]any)
		d := list[0].(map[string]any)
		if len(list) != 1 || d["status"] != "delivered" || d["last_status"].(float64) != 200 || len(d["log"].([]any)) != 1 {
			t.Fatalf("deliveries %v", ds)
		}
		code, nd := e.api(http.MethodPost, "/api/v1/webhooks/"+hookID+"/deliveries/"+d["id"].(string)+"/resend", tok, nil)
		if code != http.StatusAccepted || nd["event_id"] != d["event_id"] || nd["status"] != "pending" {
			t.Fatalf("resend %d %v", code, nd)
		}
		if code, _ := e.api(http.MethodPost, "/api/v1/webhooks/"+hookID+"/deliveries/999/resend", tok, nil); code != http.StatusNotFound {
			t.Fatalf("unknown delivery: %d", code)
		}
	})

	t.Run("settings page lists, creates with the secret shown once, and logs deliveries", func(t *testing.T) {
		b := e.newBrowser()
		b.login("anna@example.com", "contrasenya-segura")
		code, body := b.postBody("/settings/webhooks", url.Values{"url": {"http://10.1.1.1/x"}, "events": {"lead.created"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "private network") {
			t.Fatalf("refused URL: %d", code)
		}
		code, body = b.postBody("/settings/webhooks", url.Values{"url": {recv.URL + "/leads"}, "events": {"lead.created", "opportunity.won"}})
		if code != http.StatusOK || !strings.Contains(body, `id="webhook-secret">whsec_`) {
			t.Fatalf("create: %d", code)
		}
		code, body = b.get("/settings/webhooks")
		if code != http.StatusOK || strings.Contains(body, "whsec_") || !strings.Contains(body, recv.URL+"/leads") {
			t.Fatalf("list: %d", code)
		}
		code, body = b.get("/settings/webhooks/" + hookID)
		if code != http.StatusOK || !strings.Contains(body, "contact.created") || !strings.Contains(body, "HTTP 200") {
			t.Fatalf("deliveries page: %d %s", code, body)
		}
	})
}

func TestAPI_RecordSync(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "erp")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ETag on GET, If-Match on PATCH and DELETE", func(t *testing.T) {
		_, c := e.api(http.MethodPost, "/api/v1/accounts", tok, strings.NewReader(`{"name":"Ferreteria Vidal"}`))
		path := "/api/v1/accounts/" + c["id"].(string)
		resp, _ := e.apiHeaders(http.MethodGet, path, tok, nil, nil)
		tag := resp.Header.Get("ETag")
		if tag != `"1"` {
			t.Fatalf("ETag %q", tag)
		}
		if resp, _ := e.apiHeaders(http.MethodGet, path, tok, nil, map[string]string{"If-None-Match": tag}); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", resp.StatusCode)
		}
		resp, _ = e.apiHeaders(http.MethodPatch, path, tok, map[string]any{"city": "Girona"}, map[string]string{"If-Match": tag})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"2"` {
			t.Fatalf("PATCH: %d %q", resp.StatusCode, resp.Header.Get("ETag"))
		}
		resp, body := e.apiHeaders(http.MethodPatch, path, tok, map[string]any{"city": "Reus"}, map[string]string{"If-Match": tag})
		if resp.StatusCode != http.StatusPreconditionFailed || body["error"].(map[string]any)["code"] != "precondition_failed" {
			t.Fatalf("stale PATCH: %d %v", resp.StatusCode, body)
		}
		if resp, _ := e.apiHeaders(http.MethodDelete, path, tok, nil, map[string]string{"If-Match": tag}); resp.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("stale DELETE: %d", resp.StatusCode)
		}
		_, cur := e.api(http.MethodGet, path, tok, nil)
		if cur["city"] != "Girona" {
			t.Fatalf("a stale write changed the record: %v", cur)
		}
		if resp, _ := e.apiHeaders(http.MethodDelete, path, tok, nil, map[string]string{"If-Match": `"2"`}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
	})

	t.Run("PUT by external id creates, then updates, idempotently", func(t *testing.T) {
		path := "/api/v1/contacts/external/erp/CLI-0042"
		resp, c := e.apiHeaders(http.MethodPut, path, tok, map[string]any{"first_name": "Laia", "last_name": "Costa"}, nil)
		if resp.StatusCode != http.StatusCreated || c["external_ids"].(map[string]any)["erp"] != "CLI-0042" {
			t.Fatalf("create: %d %v", resp.StatusCode, c)
		}
		resp, c2 := e.apiHeaders(http.MethodPut, path, tok, map[string]any{"first_name": "Laia", "last_name": "Costa", "title": "Gerent"}, nil)
		if resp.StatusCode != http.StatusOK || c2["id"] != c["id"] || c2["title"] != "Gerent" {
			t.Fatalf("update: %d %v", resp.StatusCode, c2)
		}
		resp, c3 := e.apiHeaders(http.MethodPut, path, tok, map[string]any{"first_name": "Laia", "last_name": "Costa", "title": "Gerent"}, nil)
		if resp.StatusCode != http.StatusOK || c3["version"] != c2["version"] {
			t.Fatalf("repeat: %d %v", resp.StatusCode, c3)
		}
		if resp, _ := e.apiHeaders(http.MethodPut, path, tok, map[string]any{"title": "Cap"}, map[string]string{"If-Match": `"1"`}); resp.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("stale PUT: %d", resp.StatusCode)
		}
		if resp, body := e.apiHeaders(http.MethodPut, "/api/v1/contacts/external/erp/CLI-0043", tok, map[string]any{"email": "not-an-address"}, nil); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("invalid PUT: %d %v", resp.StatusCode, body)
		}
		if resp, _ := e.apiHeaders(http.MethodPut, "/api/v1/tasks/external/erp/T1", tok, map[string]any{"title": "x"}, nil); resp.StatusCode == http.StatusCreated {
			t.Fatal("tasks accepted an external id")
		}
		_, got := e.api(http.MethodGet, "/api/v1/contacts/"+c["id"].(string), tok, nil)
		if got["external_ids"].(map[string]any)["erp"] != "CLI-0042" {
			t.Fatalf("GET shows %v", got["external_ids"])
		}
	})

	t.Run("updated_since and cursors page every entity", func(t *testing.T) {
		acc, _ := e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Base"}})
		since := e.clock.Now().Add(time.Second)
		e.clock.Add(2 * time.Second)
		bodies := map[store.Entity]map[string]any{
			store.EntAccounts:      {"name": "A"},
			store.EntContacts:      {"last_name": "C"},
			store.EntLeads:         {"last_name": "L"},
			store.EntOpportunities: {"name": "O", "account_id": acc.ID},
			store.EntActivities:    {"subject": "S", "type": "call", "account_id": acc.ID, "occurred_at": since},
			store.EntTasks:         {"title": "T"},
			store.EntCases:         {"subject": "K", "account_id": acc.ID},
		}
		for ent, vals := range bodies {
			for range 5 {
				if _, err := e.st.CreateRecord(ctx, admin, ent, store.Input{Values: vals}); err != nil {
					t.Fatalf("%s: %v", ent, err)
				}
			}
			seen := map[string]bool{}
			path := "/api/v1/" + string(ent) + "?sort=updated_at&limit=2&updated_since=" + url.QueryEscape(since.UTC().Format(time.RFC3339))
			for pages := 0; path != ""; pages++ {
				code, page := e.api(http.MethodGet, path, tok, nil)
				if code != http.StatusOK || pages > 5 {
					t.Fatalf("%s: %d %v", ent, code, page)
				}
				for _, r := range page["data"].([]any) {
					seen[r.(map[string]any)["id"].(string)] = true
				}
				path = ""
				if next, ok := page["next_cursor"].(string); ok {
					path = "/api/v1/" + string(ent) + "?sort=updated_at&limit=2&cursor=" + url.QueryEscape(next) + "&updated_since=" + url.QueryEscape(since.UTC().Format(time.RFC3339))
				}
			}
			if len(seen) != 5 {
				t.Errorf("%s: %d records since %v, want 5", ent, len(seen), since)
			}
		}
	})
}

func TestAPI_RateLimit(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t, func(o *ui.Options) { o.APIRatePerMinute = 3 })
	admin := e.mustSetupAdmin()
	tok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "a")
	other, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "b")
	for i := range 3 {
		if code, _ := e.api(http.MethodGet, "/api/v1/me", tok, nil); code != http.StatusOK {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	resp, body := e.apiHeaders(http.MethodGet, "/api/v1/me", tok, nil, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "20" || body["error"].(map[string]any)["code"] != "too_many" {
		t.Fatalf("%d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if code, _ := e.api(http.MethodGet, "/api/v1/me", other, nil); code != http.StatusOK {
		t.Fatalf("another token was limited: %d", code)
	}
	e.clock.Add(20 * time.Second)
	if code, _ := e.api(http.MethodGet, "/api/v1/me", tok, nil); code != http.StatusOK {
		t.Fatalf("after Retry-After: %d", code)
	}
}
