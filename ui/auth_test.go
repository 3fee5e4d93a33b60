package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cartera/store"
	"cartera/ui"
)

func TestUI_Setup(t *testing.T) {
	ctx := context.Background()
	valid := url.Values{
		"token": {testSetupToken}, "name": {"Empresa ABC"}, "timezone": {"Europe/Madrid"}, "language": {"ca"}, "currency": {"eur"},
		"admin_name": {"Laura García"}, "admin_email": {"laura@example.com"}, "admin_password": {"una contrasenya llarga"},
	}
	t.Run("every page explains the setup link before setup", func(t *testing.T) {
		e := mustServer(t)
		b := e.newBrowser()
		for _, p := range []string{"/", "/login", "/settings"} {
			code, body := b.get(p)
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "setup link") {
				t.Errorf("GET %s = %d", p, code)
			}
		}
	})
	t.Run("setup without the token is refused", func(t *testing.T) {
		e := mustServer(t)
		b := e.newBrowser()
		if code, _ := b.get("/setup"); code != http.StatusForbidden {
			t.Errorf("GET /setup = %d, want 403", code)
		}
		if code, _ := b.get("/setup?token=wrong"); code != http.StatusForbidden {
			t.Errorf("GET /setup?token=wrong = %d, want 403", code)
		}
		form := url.Values{}
		for k, v := range valid {
			form[k] = v
		}
		form.Set("token", "wrong")
		if resp := b.post("/setup", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /setup wrong token = %d, want 403", resp.StatusCode)
		}
		if ok, _ := e.st.IsSetUp(ctx); ok {
			t.Fatal("setup happened without the token")
		}
	})
	t.Run("setup without a configured token is refused", func(t *testing.T) {
		e := mustServer(t, func(o *ui.Options) { o.SetupToken = "" })
		b := e.newBrowser()
		form := url.Values{}
		for k, v := range valid {
			form[k] = v
		}
		form.Set("token", "")
		if resp := b.post("/setup", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /setup = %d, want 403", resp.StatusCode)
		}
	})
	t.Run("invalid fields are reported and nothing is stored", func(t *testing.T) {
		e := mustServer(t)
		b := e.newBrowser()
		code, body := b.postBody("/setup", url.Values{"token": {testSetupToken}, "name": {""}, "timezone": {"Nowhere/Land"}, "language": {"ca"}, "currency": {"EUR"},
			"admin_name": {"X"}, "admin_email": {"bad"}, "admin_password": {"short"}})
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", code)
		}
		for _, id := range []string{`id="e-name"`, `id="e-timezone"`, `id="e-admin_email"`, `id="e-admin_password"`} {
			if !strings.Contains(body, id) {
				t.Errorf("no field error %s", id)
			}
		}
		if ok, _ := e.st.IsSetUp(ctx); ok {
			t.Fatal("invalid setup was stored")
		}
	})
	t.Run("valid setup signs the admin in", func(t *testing.T) {
		e := mustServer(t)
		b := e.newBrowser()
		if code, body := b.get("/setup?token=" + testSetupToken); code != 200 || !strings.Contains(body, `name="admin_password"`) {
			t.Fatalf("GET /setup = %d", code)
		}
		resp := b.post("/setup", valid)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("POST /setup = %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		code, body := b.get("/")
		if code != 200 || !strings.Contains(body, "Laura García") {
			t.Fatalf("GET / after setup = %d", code)
		}
		c, _ := e.st.Company(ctx)
		if c.Currency != "EUR" || c.Language != "ca" {
			t.Errorf("company = %+v", c)
		}
		// The link is single-use: setup is over.
		other := e.newBrowser()
		if resp := other.post("/setup", valid); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("second setup = %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestUI_Login(t *testing.T) {
	t.Run("wrong password and unknown e-mail answer alike", func(t *testing.T) {
		e := mustServer(t)
		e.mustSetupAdmin()
		b := e.newBrowser()
		c1, body1 := b.postBody("/login", url.Values{"email": {"anna@example.com"}, "password": {"wrong-password"}})
		c2, body2 := b.postBody("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong-password"}})
		if c1 != http.StatusUnauthorized || c2 != http.StatusUnauthorized {
			t.Fatalf("statuses %d %d", c1, c2)
		}
		clean := func(s string) string { return strings.ReplaceAll(s, "nobody@example.com", "anna@example.com") }
		if clean(body1) != clean(body2) {
			t.Error("responses differ between known and unknown e-mail")
		}
		if b.sessionCookie() != "" {
			t.Error("failed login set a session cookie")
		}
	})
	t.Run("cookie flags and a new session id at login", func(t *testing.T) {
		e := mustServer(t)
		e.mustSetupAdmin()
		b := e.newBrowser()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(url.Values{"email": {"anna@example.com"}, "password": {"contrasenya-segura"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var sc *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "cartera_session" {
				sc = c
			}
		}
		if sc == nil {
			t.Fatal("no session cookie")
		}
		if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || sc.Path != "/" {
			t.Errorf("cookie flags: %+v", sc)
		}
		first := b.sessionCookie()
		b.login("anna@example.com", "contrasenya-segura")
		if second := b.sessionCookie(); second == first || second == "" {
			t.Error("login did not issue a new session id")
		}
		// The replaced session no longer works.
		if _, _, err := e.st.SessionActor(context.Background(), first); store.ErrorCode(err) != store.CodeUnauthorized {
			t.Errorf("old session still valid: %v", err)
		}
	})
	t.Run("secure cookie over TLS", func(t *testing.T) {
		e := mustServer(t, func(o *ui.Options) { o.SecureCookies = true })
		e.mustSetupAdmin()
		b := e.newBrowser()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(url.Values{"email": {"anna@example.com"}, "password": {"contrasenya-segura"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "cartera_session" && !c.Secure {
				t.Error("cookie not Secure")
			}
		}
	})
	t.Run("throttling per account and per address", func(t *testing.T) {
		e := mustServer(t)
		admin := e.mustSetupAdmin()
		e.mustUser(admin, "marc@example.com", "salesperson")
		b := e.newBrowser()
		for i := 0; i < 5; i++ {
			if code, _ := b.postBody("/login", url.Values{"email": {"anna@example.com"}, "password": {"nope-nope"}}); code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i, code)
			}
		}
		// Even the right password is refused now, with 429.
		code, body := b.postBody("/login", url.Values{"email": {"anna@example.com"}, "password": {"contrasenya-segura"}})
		if code != http.StatusTooManyRequests || !strings.Contains(body, "15 minutes") {
			t.Fatalf("throttled login = %d", code)
		}
		// Unknown e-mails are throttled the same way.
		for i := 0; i < 5; i++ {
			b.postBody("/login", url.Values{"email": {"ghost@example.com"}, "password": {"nope-nope"}})
		}
		if code, _ := b.postBody("/login", url.Values{"email": {"ghost@example.com"}, "password": {"nope-nope"}}); code != http.StatusTooManyRequests {
			t.Errorf("unknown e-mail not throttled: %d", code)
		}
		// Another account from the same address still works until the
		// address limit is reached.
		b.login("marc@example.com", "password-123")
		// After the window the account may try again.
		e.clock.Add(16 * time.Minute)
		b.login("anna@example.com", "contrasenya-segura")
		// Many accounts from one address: the address limit applies.
		b2 := e.newBrowser()
		for i := 0; i < 20; i++ {
			b2.postBody("/login", url.Values{"email": {"user" + string(rune('a'+i)) + "@example.com"}, "password": {"nope-nope"}})
		}
		if code, _ := b2.postBody("/login", url.Values{"email": {"marc@example.com"}, "password": {"password-123"}}); code != http.StatusTooManyRequests {
			t.Errorf("address limit not applied: %d", code)
		}
	})
	t.Run("logout ends the session on the server", func(t *testing.T) {
		e := mustServer(t)
		e.mustSetupAdmin()
		b := e.newBrowser()
		b.login("anna@example.com", "contrasenya-segura")
		cookie := b.sessionCookie()
		if resp := b.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout = %d", resp.StatusCode)
		}
		// Replaying the old cookie does not work.
		replay := e.newBrowser()
		u, _ := url.Parse(e.srv.URL)
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "cartera_session", Value: cookie}})
		if code, _ := replay.get("/"); code != http.StatusSeeOther {
			t.Errorf("old cookie after logout: %d", code)
		}
	})
	t.Run("logout by GET is not possible", func(t *testing.T) {
		e := mustServer(t)
		e.mustSetupAdmin()
		b := e.newBrowser()
		b.login("anna@example.com", "contrasenya-segura")
		if code, _ := b.get("/logout"); code != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout = %d", code)
		}
		if code, _ := b.get("/"); code != 200 {
			t.Errorf("session lost after GET /logout: %d", code)
		}
	})
	t.Run("password change and disabling end sessions", func(t *testing.T) {
		e := mustServer(t)
		admin := e.mustSetupAdmin()
		sp := e.mustUser(admin, "marc@example.com", "salesperson")
		phone := e.newBrowser()
		phone.login("marc@example.com", "password-123")
		desk := e.newBrowser()
		desk.login("marc@example.com", "password-123")
		resp := desk.post("/profile/password", url.Values{"current_password": {"password-123"}, "new_password": {"una-nova-clau"}, "confirm_password": {"una-nova-clau"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("password change = %d", resp.StatusCode)
		}
		if code, _ := phone.get("/"); code != http.StatusSeeOther {
			t.Errorf("other session survived password change: %d", code)
		}
		if code, _ := desk.get("/profile"); code != 200 {
			t.Errorf("changing browser lost its session: %d", code)
		}
		ab := e.newBrowser()
		ab.login("anna@example.com", "contrasenya-segura")
		if resp := ab.post("/settings/users/"+itoa(sp.UserID)+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable = %d", resp.StatusCode)
		}
		if code, _ := desk.get("/profile"); code != http.StatusSeeOther {
			t.Errorf("disabled user's session survived: %d", code)
		}
		code, _ := desk.postBody("/login", url.Values{"email": {"marc@example.com"}, "password": {"una-nova-clau"}})
		if code != http.StatusUnauthorized {
			t.Errorf("disabled user login = %d", code)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		e := mustServer(t)
		e.mustSetupAdmin()
		b := e.newBrowser()
		b.login("anna@example.com", "contrasenya-segura")
		e.clock.Add(13 * time.Hour)
		if code, _ := b.get("/"); code != http.StatusSeeOther {
			t.Errorf("session survived 13 idle hours: %d", code)
		}
	})
}

func TestUI_CrossOriginPost(t *testing.T) {
	e := mustServer(t)
	e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	form := url.Values{"name": {"Hacked"}, "timezone": {"UTC"}, "language": {"en"}, "currency": {"USD"}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/settings/company", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST = %d, want 403", resp.StatusCode)
	}
	c, _ := e.st.Company(context.Background())
	if c.Name != "Empresa ABC" {
		t.Errorf("company changed by cross-origin post: %q", c.Name)
	}
	// The same post from the same origin works.
	if resp := b.post("/settings/company", form); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST = %d", resp.StatusCode)
	}
	c, _ = e.st.Company(context.Background())
	if c.Name != "Hacked" {
		t.Errorf("same-origin post did not apply")
	}
}

func itoa(v int64) string { return strconvFormat(v) }
