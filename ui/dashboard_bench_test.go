package ui_test

// Benchmark of the home page with a six-widget dashboard (issue 8 asks
// for under 1 s on the large dataset, 2 cores):
//
//	go test -run '^$' -bench Dashboard ./ui/
//	CARTERA_REPORTS_DB=/tmp/large-copy.db go test -run '^$' -bench Dashboard -benchtime 5x ./ui/
//
// Without CARTERA_REPORTS_DB the dataset is a small demo (2,000 contacts)
// made in the benchmark's temporary folder. With it, the given file is
// opened and migrated in place: point it at a copy.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cartera/demo"
	"cartera/i18n"
	"cartera/store"
	"cartera/ui"
)

// BenchmarkDashboard_SixWidgets requests the home page of the demo
// administrator, whose dashboard holds six standard reports (every record
// in scope), through HTTP with a session.
func BenchmarkDashboard_SixWidgets(b *testing.B) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	path := os.Getenv("CARTERA_REPORTS_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "cartera.db")
		st, err := store.Open(ctx, store.Options{Path: path, PasswordMemoryKiB: 64, PasswordTime: 1, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := demo.Generate(ctx, st, demo.Options{Contacts: 2000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	st, err := store.Open(ctx, store.Options{Path: path, Logger: quiet, BackupDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	bundle, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	s, err := ui.New(st, bundle, ui.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	b.Cleanup(srv.Close)
	users, err := st.FindUsers(ctx, store.SystemActor(), store.UserFilter{})
	if err != nil {
		b.Fatal(err)
	}
	var admin *store.Actor
	for _, u := range users {
		if strings.EqualFold(u.Email, demo.Admin.Email) {
			admin, _ = st.ActorFor(ctx, u.ID)
		}
	}
	if admin == nil {
		b.Fatal("no demo administrator")
	}
	six := []store.Widget{{Kind: "standard", Ref: "pipeline"}, {Kind: "standard", Ref: "forecast"},
		{Kind: "standard", Ref: "activities", Params: "by=owner"}, {Kind: "standard", Ref: "lead_sources"},
		{Kind: "standard", Ref: "stalled_opportunities"}, {Kind: "standard", Ref: "sales_performance"}}
	if err := st.SaveDashboard(ctx, admin, six); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.SaveDashboard(ctx, admin, nil) })
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"email": {demo.Admin.Email}, "password": {demo.Admin.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: %v %v", resp, err)
	}
	resp.Body.Close()
	for b.Loop() {
		resp, err := c.Get(srv.URL + "/")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Count(string(body), `class="card widget"`) != 6 {
			b.Fatalf("home: %d, %d widgets", resp.StatusCode, strings.Count(string(body), `class="card widget"`))
		}
	}
}
