package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cartera/store"
)

// TestUI_Notifications covers the bell's count, the notifications page and
// marking read, the preferences on the profile page and the reminder field
// on the task form.
func TestUI_Notifications(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	marc := e.mustUser(admin, "marc@example.com", "salesperson")
	acc, err := e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Ferreteria Puig", "owner_id": marc.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser()
	b.login("marc@example.com", "password-123")

	t.Run("the bell shows the unread count", func(t *testing.T) {
		code, body := b.get("/")
		if code != http.StatusOK || !strings.Contains(body, `id="bell-count" aria-hidden="true">1</span>`) {
			t.Fatalf("status %d, bell missing:\n%s", code, body)
		}
	})
	t.Run("the page lists notifications with links, in the reader's language", func(t *testing.T) {
		code, body := b.get("/notifications")
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		for _, want := range []string{"Anna Puig assigned you “Ferreteria Puig”", `href="/accounts/` + strconvFormat(acc.ID) + `"`, "Mark all read"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	t.Run("mark read empties the bell", func(t *testing.T) {
		ns, _ := e.st.FindNotifications(ctx, marc, store.NotificationFilter{})
		resp := b.post("/notifications/read", url.Values{"id": {strconvFormat(ns[0].ID)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if _, body := b.get("/notifications"); strings.Contains(body, `id="bell-count"`) {
			t.Error("bell still shows a count")
		}
		if _, body := b.get("/notifications?unread=1"); !strings.Contains(body, "No notifications.") {
			t.Error("unread list not empty")
		}
	})
	t.Run("another user's page shows none of them", func(t *testing.T) {
		ab := e.newBrowser()
		ab.login("anna@example.com", "contrasenya-segura")
		if _, body := ab.get("/notifications"); strings.Contains(body, "Ferreteria Puig") {
			t.Error("admin sees marc's notification")
		}
	})
	t.Run("preferences on the profile page", func(t *testing.T) {
		_, body := b.get("/profile")
		for _, want := range []string{"Task reminders", `name="channel.task_due" value="both" checked`, `name="digest"`} {
			if !strings.Contains(body, want) {
				t.Errorf("profile lacks %q", want)
			}
		}
		resp := b.post("/profile/notifications", url.Values{"channel.assigned": {"email"}, "channel.task_due": {"in_app"}, "digest": {"1"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", resp.StatusCode)
		}
		prefs, err := e.st.NotificationPrefs(ctx, marc)
		if err != nil {
			t.Fatal(err)
		}
		if prefs.Channels["assigned"] != store.ChannelEmail || prefs.Channels["task_due"] != store.ChannelInApp || prefs.Channels["mention"] != store.ChannelInApp || !prefs.Digest {
			t.Errorf("saved prefs: %+v", prefs)
		}
		if code, _ := b.postBody("/profile/notifications", url.Values{"channel.assigned": {"pigeon"}}); code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
			t.Errorf("bad channel: status %d", code)
		}
	})
	t.Run("the task form offers a reminder", func(t *testing.T) {
		_, body := b.get("/tasks/new")
		if !strings.Contains(body, `name="remind_before"`) || !strings.Contains(body, "15 minutes before") {
			t.Error("task form lacks the reminder select")
		}
	})
}

// TestAPI_Notifications covers GET /api/v1/notifications (own only,
// ?unread=1) and POST /api/v1/notifications/read.
func TestAPI_Notifications(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	marc := e.mustUser(admin, "marc@example.com", "salesperson")
	for _, name := range []string{"Cal Ros", "Can Pau"} {
		if _, err := e.st.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": name, "owner_id": marc.UserID}}); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := e.st.CreateToken(ctx, marc, marc.UserID, "test")
	if err != nil {
		t.Fatal(err)
	}
	adminTok, _, _ := e.st.CreateToken(ctx, admin, admin.UserID, "test")

	t.Run("list, newest first", func(t *testing.T) {
		code, out := e.api(http.MethodGet, "/api/v1/notifications", tok, nil)
		data, _ := out["data"].([]any)
		if code != http.StatusOK || len(data) != 2 || out["unread"] != float64(2) {
			t.Fatalf("status %d: %v", code, out)
		}
		first := data[0].(map[string]any)
		if first["kind"] != "assigned" || first["entity"] != "accounts" || first["read"] != false || !strings.Contains(first["title"].(string), "Can Pau") {
			t.Errorf("first: %v", first)
		}
	})
	t.Run("read one, then unread only", func(t *testing.T) {
		_, out := e.api(http.MethodGet, "/api/v1/notifications", tok, nil)
		id := out["data"].([]any)[0].(map[string]any)["id"].(string)
		code, res := e.api(http.MethodPost, "/api/v1/notifications/read", tok, strings.NewReader(`{"ids":["`+id+`"]}`))
		if code != http.StatusOK || res["unread"] != float64(1) {
			t.Fatalf("status %d: %v", code, res)
		}
		_, out = e.api(http.MethodGet, "/api/v1/notifications?unread=1", tok, nil)
		if data := out["data"].([]any); len(data) != 1 || !strings.Contains(data[0].(map[string]any)["title"].(string), "Cal Ros") {
			t.Errorf("unread: %v", out)
		}
	})
	t.Run("others see only their own", func(t *testing.T) {
		_, out := e.api(http.MethodGet, "/api/v1/notifications", adminTok, nil)
		if data := out["data"].([]any); len(data) != 0 {
			t.Errorf("admin sees %v", data)
		}
		_, out = e.api(http.MethodGet, "/api/v1/notifications", tok, nil)
		id := out["data"].([]any)[1].(map[string]any)["id"].(string)
		e.api(http.MethodPost, "/api/v1/notifications/read", adminTok, strings.NewReader(`{"ids":["`+id+`"]}`))
		if n, _ := e.st.UnreadNotifications(ctx, marc); n != 1 {
			t.Errorf("admin marked marc's notification: unread %d", n)
		}
	})
	t.Run("read all and refusals", func(t *testing.T) {
		if code, res := e.api(http.MethodPost, "/api/v1/notifications/read", tok, nil); code != http.StatusOK || res["unread"] != float64(0) {
			t.Fatalf("status %d: %v", code, res)
		}
		if code, _ := e.api(http.MethodGet, "/api/v1/notifications", "", nil); code != http.StatusUnauthorized {
			t.Errorf("no token: %d", code)
		}
		if code, _ := e.api(http.MethodPost, "/api/v1/notifications/read", tok, strings.NewReader(`{"ids":["x"]}`)); code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
			t.Errorf("bad id: %d", code)
		}
	})
}
