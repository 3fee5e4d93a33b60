package ui_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cartera/i18n"
	"cartera/store"
)

// TestBrowser_ReportCharts renders a report page and the home dashboard
// in a real Chromium in Catalan, Spanish and English, checks that each
// chart is an SVG whose accessible name is the report's title in that
// language, and saves screenshots as test artefacts: in
// $CARTERA_TEST_ARTEFACTS when set (kept), else in the test's temporary
// folder.
func TestBrowser_ReportCharts(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	for i, stage := range []string{"reception", "qualification", "proposal", "proposal", "negotiation"} {
		if _, err := e.st.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Oportunitat " + stage, "stage": stage, "amount": float64(1000 * (i + 1))}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := os.Getenv("CARTERA_TEST_ARTEFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	c := mustBrowser(t)
	c.base = e.srv.URL
	for _, lang := range []string{"ca", "es", "en"} {
		email := "manager-" + lang + "@example.com"
		if _, err := e.st.CreateUser(ctx, admin, store.UserInput{Email: email, Name: "Gerent " + lang, Password: "password-123", RoleKey: "admin", Language: lang}); err != nil {
			t.Fatal(err)
		}
		tr := bundle.For(lang, nil)
		if lang != "ca" {
			c.navigate("signing out", chromedp.Submit(chromedp.CSS(`form[action="/logout"]`)))
		}
		c.login(email, "password-123")
		c.open("/reports/pipeline")
		want := tr.T("report.pipeline.title")
		label := eval[string](c, `document.querySelector("figure.report-chart svg[role=img]").getAttribute("aria-label")`)
		if label != want {
			t.Errorf("%s: chart aria-label = %q, want %q", lang, label, want)
		}
		if n := eval[int](c, `document.querySelectorAll("figure.report-chart svg rect, figure.report-chart svg polygon, figure.report-chart svg path").length`); n < 4 {
			t.Errorf("%s: the chart draws %d shapes", lang, n)
		}
		if title := eval[string](c, `document.querySelector("figure.report-chart svg title").textContent`); title != want {
			t.Errorf("%s: chart <title> = %q", lang, title)
		}
		// The chart is laid out: it has a real size on the page.
		if w := eval[float64](c, `document.querySelector("figure.report-chart svg").getBoundingClientRect().width`); w < 200 {
			t.Errorf("%s: chart width %v", lang, w)
		}
		t.Logf("screenshot %s", c.screenshot(dir, "report-pipeline-"+lang))
		c.open("/")
		n := eval[int](c, `document.querySelectorAll(".dashboard svg[role=img]").length`)
		if n < 1 {
			t.Errorf("%s: the dashboard shows %d charts", lang, n)
		}
		if h := c.text("#dashboard-title"); !strings.Contains(h, tr.T("dashboard.title")) {
			t.Errorf("%s: dashboard heading %q", lang, h)
		}
		t.Logf("screenshot %s", c.screenshot(dir, "dashboard-"+lang))
		c.assertNoConsoleErrors("reports in " + lang)
	}
}
