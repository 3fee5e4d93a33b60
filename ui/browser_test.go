package ui_test

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Real-browser tests: headless Chromium drives the pages of a real server
// on 127.0.0.1 over a real database file. They need the chromium binary
// (.ci/run installs it); without it they skip, except under CI.

// shotsDir is where TestBrowser_Phone leaves screenshots for people to look at.
const shotsDir = "/tmp/cartera-shots"

var pathID = regexp.MustCompile(`^/[a-z]+/(\d+)$`)

// idOf returns the record id at the end of a record page path.
func idOf(t *testing.T, path string) string {
	t.Helper()
	m := pathID.FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("not a record page: %q", path)
	}
	return m[1]
}

// pickAccount uses the account picker of a record form: it types into the
// picker's search box, waits for htmx to fill the select from
// /lookup/accounts, and selects the account.
func (c *chrome) pickAccount(search, id, title string) {
	c.t.Helper()
	option := `#f-account_id option[value="` + id + `"]`
	c.step("searching the account picker",
		chromedp.SendKeys(chromedp.ID("s-account_id"), search),
		chromedp.WaitReady(chromedp.CSS(option)),
	)
	if got := strings.TrimSpace(run(c, "reading "+option, chromedp.TextContent(chromedp.CSS(option)))); got != title {
		c.t.Errorf("picker option %s = %q, want %q", id, got, title)
	}
	c.step("choosing the account", chromedp.SetValue(chromedp.ID("f-account_id"), id))
}

// newContact fills /contacts/new and saves; it returns the contact's id.
func (c *chrome) newContact(first, last, email, title, accID string) string {
	c.t.Helper()
	c.open("/contacts/new")
	c.step("filling the contact form",
		chromedp.SendKeys(chromedp.ID("f-first_name"), first),
		chromedp.SendKeys(chromedp.ID("f-last_name"), last),
	)
	if email != "" {
		c.step("typing the e-mail", chromedp.SendKeys(chromedp.ID("f-email"), email))
	}
	if title != "" {
		c.step("typing the position", chromedp.SendKeys(chromedp.ID("f-title"), title))
	}
	c.pickAccount("Empresa", accID, "Empresa ABC")
	p := c.navigate("saving contact "+first, chromedp.Click(chromedp.CSS(`form.record-form button[type=submit].primary`)))
	if !strings.HasPrefix(p, "/contacts/") {
		c.t.Fatalf("after saving contact %s the browser is on %s", first, p)
	}
	return idOf(c.t, p)
}

// logActivity uses the "Log an activity" form of a record page.
func (c *chrome) logActivity(typ, when, subject string) {
	c.t.Helper()
	c.step("filling the activity form",
		chromedp.SetValue(chromedp.ID("qa-type"), typ),
		// datetime-local takes typed input in the browser's locale format;
		// its value is always yyyy-mm-ddThh:mm, so set that directly.
		chromedp.SetValue(chromedp.ID("qa-when"), when),
		chromedp.SendKeys(chromedp.ID("qa-subject"), subject),
	)
	if got := eval[string](c, `document.getElementById("qa-when").value`); got != when {
		c.t.Fatalf("qa-when value = %q, want %q", got, when)
	}
	back := eval[string](c, `location.pathname`)
	if p := c.navigate("logging "+subject, chromedp.Click(chromedp.CSS(`form.quick button[type=submit].primary`))); p != back {
		c.t.Fatalf("after logging an activity the browser is on %s, want %s", p, back)
	}
}

// TestBrowser_Seed001 runs seed 001's exercises through the pages in a
// real browser, as a user would: typing, the htmx account picker, the top
// bar search, tags and the activity timeline.
func TestBrowser_Seed001(t *testing.T) {
	e := mustServer(t)
	e.mustSetupAdmin()
	c := mustBrowser(t)
	c.base = e.srv.URL

	c.login("anna@example.com", "contrasenya-segura")
	if h := c.text("h1"); !strings.Contains(h, "Anna Puig") {
		t.Errorf("home heading = %q", h)
	}

	// The account.
	c.open("/accounts/new")
	c.step("filling the account form", chromedp.SendKeys(chromedp.ID("f-name"), "Empresa ABC"))
	accPath := c.navigate("saving the account", chromedp.Click(chromedp.CSS(`form.record-form button[type=submit].primary`)))
	acc := idOf(t, accPath)
	if h := c.text("h1"); h != "Empresa ABC" {
		t.Errorf("account page heading = %q", h)
	}

	// Two contacts of that account, the account chosen with the picker.
	laura := c.newContact("Laura", "García", "laura@empresaabc.com", "Compradora", acc)
	if h := c.text("h1"); h != "Laura García" {
		t.Errorf("contact page heading = %q", h)
	}
	if dl := c.text("dl.fields"); !strings.Contains(dl, "Empresa ABC") || !strings.Contains(dl, "laura@empresaabc.com") {
		t.Errorf("contact fields missing account or e-mail: %q", dl)
	}
	c.newContact("Marc", "Ferrer", "", "", acc)

	// Edit Laura's e-mail and position.
	c.open("/contacts/" + laura + "/edit")
	c.step("editing e-mail and position",
		chromedp.Clear(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "laura.garcia@empresaabc.com"),
		chromedp.Clear(chromedp.ID("f-title")),
		chromedp.SendKeys(chromedp.ID("f-title"), "Directora de compres"),
	)
	if p := c.navigate("saving the edit", chromedp.Click(chromedp.CSS(`form.record-form button[type=submit].primary`))); p != "/contacts/"+laura {
		t.Fatalf("after the edit the browser is on %s", p)
	}
	dl := c.text("dl.fields")
	if !strings.Contains(dl, "laura.garcia@empresaabc.com") || !strings.Contains(dl, "Directora de compres") || strings.Contains(dl, "Compradora") {
		t.Errorf("edited values not shown: %q", dl)
	}

	// The top bar search finds both contacts through their account.
	if p := c.navigate("searching from the top bar", chromedp.SendKeys(chromedp.ID("q"), "Empresa ABC\n")); p != "/search" {
		t.Fatalf("top bar search went to %s", p)
	}
	results := c.text("#results")
	for _, want := range []string{"Laura García", "Marc Ferrer", "Empresa ABC"} {
		if !strings.Contains(results, want) {
			t.Errorf("search results lack %q: %q", want, results)
		}
	}

	// Tags through the edit form's tags field.
	c.open("/contacts/" + laura + "/edit")
	c.step("typing tags", chromedp.SendKeys(chromedp.ID("f-tags"), "Compres, Client Potencial"))
	if p := c.navigate("saving the tags", chromedp.Click(chromedp.CSS(`form.record-form button[type=submit].primary`))); p != "/contacts/"+laura {
		t.Fatalf("after tagging the browser is on %s", p)
	}
	tags := eval[[]string](c, `[...document.querySelectorAll("dl.fields a.tag")].map(a => a.textContent.trim())`)
	for _, want := range []string{"Compres", "Client Potencial"} {
		if !slices.Contains(tags, want) {
			t.Errorf("tags on the page = %q, want %q among them", tags, want)
		}
	}

	// The dated history entry from seed 001, then a later one; the timeline
	// lists them newest first.
	const (
		offer    = "Enviament de correu electrònic amb nova oferta"
		followUp = "Trucada de seguiment de l'oferta"
	)
	c.logActivity("email", "2023-02-01T10:00", offer)
	c.logActivity("call", "2024-03-15T09:30", followUp)
	items := eval[[]string](c, `[...document.querySelectorAll("ol.timeline li")].map(li => li.innerText)`)
	iOffer := slices.IndexFunc(items, func(s string) bool { return strings.Contains(s, offer) })
	iFollow := slices.IndexFunc(items, func(s string) bool { return strings.Contains(s, followUp) })
	switch {
	case iOffer < 0 || iFollow < 0:
		t.Errorf("timeline lacks an activity (offer %d, follow-up %d): %q", iOffer, iFollow, items)
	case iFollow > iOffer:
		t.Errorf("timeline is not newest first: the 2024 call is at %d, the 2023 e-mail at %d: %q", iFollow, iOffer, items)
	}
	if iOffer >= 0 && !strings.Contains(items[iOffer], "1 Feb 2023") {
		t.Errorf("2023 entry shows the wrong date: %q", items[iOffer])
	}
	if iFollow >= 0 && !strings.Contains(items[iFollow], "15 Mar 2024") {
		t.Errorf("2024 entry shows the wrong date: %q", items[iFollow])
	}
	c.assertNoConsoleErrors("seed 001 pages")
}

// boardCounts reads, for each stage column of the board, the number of
// cards and the count shown in the column header.
func boardCounts(c *chrome) map[string][2]int {
	c.t.Helper()
	raw := eval[map[string][]int](c, `Object.fromEntries([...document.querySelectorAll(".board-col")].map(col => {
		const ul = col.querySelector("ul.cards");
		return [ul.dataset.stage, [ul.querySelectorAll("li.card-opp").length, parseInt(col.querySelector("header p").textContent, 10)]];
	}))`)
	out := map[string][2]int{}
	for k, v := range raw {
		if len(v) != 2 {
			c.t.Fatalf("board column %s: %v", k, v)
		}
		out[k] = [2]int{v[0], v[1]}
	}
	return out
}

// TestBrowser_Board moves an opportunity with the keyboard-accessible
// select and Move button of its card, and checks the board's scripts run
// without errors.
func TestBrowser_Board(t *testing.T) {
	e := mustServer(t)
	e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	acc := createByForm(t, b, "accounts", url.Values{"name": {"Empresa ABC"}})
	opp1 := createByForm(t, b, "opportunities", url.Values{"name": {"TPV nou"}, "amount": {"1.234,50"}, "account_id": {acc}, "stage": {"proposal"}})
	createByForm(t, b, "opportunities", url.Values{"name": {"Manteniment anual"}, "amount": {"900"}, "account_id": {acc}, "stage": {"proposal"}})

	c := mustBrowser(t)
	c.base = e.srv.URL
	c.login("anna@example.com", "contrasenya-segura")
	c.open("/opportunities/board")
	for _, lib := range []string{"htmx", "Sortable"} {
		if !eval[bool](c, `typeof `+lib+` !== "undefined"`) {
			t.Errorf("vendor script %s did not load on the board", lib)
		}
	}
	c.assertNoConsoleErrors("loading the board")

	before := boardCounts(c)
	if before["proposal"] != [2]int{2, 2} || before["negotiation"] != [2]int{0, 0} {
		t.Fatalf("board before the move (cards, header count) = %v", before)
	}

	// Choose the new stage in the card's select, then press Enter on the
	// Move button, as a keyboard user would.
	sel := chromedp.ID("mv-" + opp1)
	btn := chromedp.CSS(`li.card-opp[data-id="` + opp1 + `"] form.move button`)
	c.step("choosing the stage", chromedp.Focus(sel), chromedp.SetValue(sel, "negotiation"))
	if p := c.navigate("moving the card", chromedp.Focus(btn), chromedp.KeyEvent("\r")); p != "/opportunities/board" {
		t.Fatalf("after the move the browser is on %s", p)
	}
	after := boardCounts(c)
	if after["proposal"] != [2]int{1, 1} || after["negotiation"] != [2]int{1, 1} {
		t.Errorf("board after the move (cards, header count) = %v", after)
	}
	if n := eval[int](c, `document.querySelectorAll('ul[data-stage="negotiation"] li[data-id="`+opp1+`"]').length`); n != 1 {
		t.Error("the moved card is not in the negotiation column")
	}
	if flash := c.text(".flash"); flash == "" {
		t.Error("no confirmation after the move")
	}
	c.assertNoConsoleErrors("after the move")
}

// TestBrowser_Phone loads pages at a phone's width and checks nothing
// overflows sideways and the menu toggle is there. It also saves
// screenshots of a contact page to shotsDir.
func TestBrowser_Phone(t *testing.T) {
	e := mustServer(t)
	e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	acc := createByForm(t, b, "accounts", url.Values{"name": {"Empresa ABC"}})
	con := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "last_name": {"García"}, "email": {"laura.garcia@empresaabc.com"},
		"title": {"Directora de compres"}, "phone": {"+34 600 000 000"}, "account_id": {acc}, "_present_tags": {"1"}, "tags": {"Compres, Client Potencial"}})
	createByForm(t, b, "activities", url.Values{"type": {"email"}, "subject": {"Enviament de correu electrònic amb nova oferta"}, "occurred_at": {"2023-02-01T10:00"}, "contact_id": {con}})

	if err := os.MkdirAll(shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	c := mustBrowser(t)
	c.base = e.srv.URL

	// Desktop first, for the lead's screenshot.
	c.step("desktop viewport", chromedp.EmulateViewport(1280, 900))
	c.login("anna@example.com", "contrasenya-segura")
	c.open("/contacts/" + con)
	t.Logf("desktop screenshot: %s", c.screenshot(shotsDir, "contact-desktop-1280x900"))

	c.step("phone viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	for _, page := range []struct{ path, name string }{
		{"/", "home"},
		{"/contacts", "contacts"},
		{"/contacts/" + con, "contact"},
	} {
		c.open(page.path)
		if w := eval[int](c, `window.innerWidth`); w != 360 {
			t.Errorf("%s: innerWidth = %d, want 360", page.path, w)
		}
		if sw := eval[int](c, `document.documentElement.scrollWidth`); sw > 360 {
			wide := eval[[]string](c, `[...document.querySelectorAll("body *")].filter(el => el.getBoundingClientRect().right > 360.5).slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(el.getBoundingClientRect().right))`)
			t.Errorf("%s: scrollWidth = %d > 360 (horizontal overflow); widest elements: %q", page.path, sw, wide)
		}
		if !eval[bool](c, `!!document.getElementById("navtoggle") && getComputedStyle(document.querySelector(".navtoggle-label")).display !== "none"`) {
			t.Errorf("%s: no visible nav toggle at 360 px", page.path)
		}
		c.screenshot(tmp, "phone-"+page.name)
	}

	// The contact page, for the lead; then the menu opens from the toggle.
	t.Logf("phone screenshot: %s", c.screenshot(shotsDir, "contact-phone-360x740"))
	if eval[bool](c, `getComputedStyle(document.querySelector("nav.sidenav")).display !== "none"`) {
		t.Error("the side navigation shows at 360 px before the menu is opened")
	}
	c.step("opening the menu", chromedp.Click(chromedp.CSS(".navtoggle-label")), chromedp.WaitVisible(chromedp.CSS("nav.sidenav a[href='/contacts']")))
	c.screenshot(tmp, "phone-menu-open")
	c.assertNoConsoleErrors("phone pages")
}
