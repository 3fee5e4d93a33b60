package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestAPI_Auth(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	sp := e.mustUser(admin, "marc@example.com", "salesperson")
	secret, tok, err := e.st.CreateToken(ctx, sp, sp.UserID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no token is 401 JSON", func(t *testing.T) {
		code, body := e.api(http.MethodGet, "/api/v1/me", "", nil)
		if code != http.StatusUnauthorized || body["error"].(map[string]any)["code"] != "unauthorized" {
			t.Errorf("%d %v", code, body)
		}
	})
	t.Run("bad token is 401", func(t *testing.T) {
		if code, _ := e.api(http.MethodGet, "/api/v1/me", "crt_nope", nil); code != http.StatusUnauthorized {
			t.Errorf("%d", code)
		}
	})
	t.Run("token in the query string is refused", func(t *testing.T) {
		code, body := e.api(http.MethodGet, "/api/v1/me?access_token="+secret, "", nil)
		if code != http.StatusUnauthorized || !strings.Contains(body["error"].(map[string]any)["message"].(string), "Authorization") {
			t.Errorf("%d %v", code, body)
		}
		if code, _ := e.api(http.MethodGet, "/api/v1/me?token="+secret, secret, nil); code != http.StatusUnauthorized {
			t.Errorf("token in query alongside header accepted: %d", code)
		}
	})
	t.Run("session cookie is not accepted", func(t *testing.T) {
		b := e.newBrowser()
		b.login("marc@example.com", "password-123")
		code, _ := b.get("/api/v1/me")
		if code != http.StatusUnauthorized {
			t.Errorf("cookie-authenticated API call = %d", code)
		}
	})
	t.Run("me returns the user and permissions", func(t *testing.T) {
		code, body := e.api(http.MethodGet, "/api/v1/me", secret, nil)
		if code != 200 {
			t.Fatalf("%d %v", code, body)
		}
		if body["id"] != itoa(sp.UserID) || body["email"] != "marc@example.com" || body["role"] != "salesperson" || body["timezone"] != "Europe/Madrid" || body["language"] != "en" {
			t.Errorf("me = %v", body)
		}
		perms := body["permissions"].(map[string]any)
		if perms["opportunities"].(map[string]any)["view"] != "own" || perms["accounts"].(map[string]any)["view"] != "all" {
			t.Errorf("permissions = %v", perms)
		}
		if _, ok := perms["cases"]; ok {
			t.Errorf("salesperson has case permissions: %v", perms["cases"])
		}
	})
	t.Run("unknown route is JSON 404, wrong method 405", func(t *testing.T) {
		if code, body := e.api(http.MethodGet, "/api/v1/nothing", secret, nil); code != 404 || body["error"] == nil {
			t.Errorf("%d %v", code, body)
		}
		if code, _ := e.api(http.MethodDelete, "/api/v1/me", secret, nil); code != http.StatusMethodNotAllowed {
			t.Errorf("DELETE /me = %d", code)
		}
	})
	t.Run("revoked token stops working", func(t *testing.T) {
		if err := e.st.RevokeToken(ctx, sp, tok.ID); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.api(http.MethodGet, "/api/v1/me", secret, nil); code != http.StatusUnauthorized {
			t.Errorf("revoked token = %d", code)
		}
	})
}

func TestUI_Healthz(t *testing.T) {
	e := mustServer(t)
	resp, err := http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("healthz = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
