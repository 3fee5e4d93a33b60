package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

func TestUI_Service(t *testing.T) {
	ctx := context.Background()
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	contact, err := e.st.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Laura", "email": "laura@client.example"}})
	if err != nil {
		t.Fatal(err)
	}
	team, err := e.st.SaveTeam(ctx, admin, 0, "Suport")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("settings page saves hours, targets and queues", func(t *testing.T) {
		if code, body := b.get("/settings/service"); code != http.StatusOK || !strings.Contains(body, "SLA targets") || !strings.Contains(body, "Suport") {
			t.Fatalf("GET = %d", code)
		}
		form := url.Values{"day": {"1", "2", "3", "4", "5"}, "work_start": {"08:00"}, "work_end": {"15:00"},
			"first_response_urgent": {"2"}, "resolution_urgent": {"7,5"}, "queue_" + strconvFormat(team.ID): {"round_robin"},
			"support_address": {"suport@empresa.example"}, "mailbox_queue": {strconvFormat(team.ID)}, "survey": {"1"}}
		if resp := b.post("/settings/service", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST = %d", resp.StatusCode)
		}
		ss, _ := e.st.GetServiceSettings(ctx, admin)
		if ss.Hours.Start != 480 || ss.Hours.End != 900 || ss.Targets["urgent"].Resolution != 450*time.Minute ||
			ss.Queues[team.ID] != store.AssignRoundRobin || !ss.Survey || ss.MailboxQueue != strconvFormat(team.ID) {
			t.Fatalf("settings = %+v", ss)
		}
		form.Set("work_end", "07:00")
		code, body := b.postBody("/settings/service", form)
		if code == http.StatusSeeOther || !strings.Contains(body, "closing time must be after") {
			t.Fatalf("bad hours: %d", code)
		}
		form.Set("work_end", "nine")
		if code, _ := b.postBody("/settings/service", form); code == http.StatusSeeOther {
			t.Fatal("an unreadable time was accepted")
		}
		if ss, _ := e.st.GetServiceSettings(ctx, admin); ss.Hours.End != 900 {
			t.Fatal("a refused form changed the settings")
		}
	})

	c, err := e.st.CreateRecord(ctx, admin, store.EntCases, store.Input{Values: map[string]any{"subject": "No va", "priority": "urgent", "contact_id": contact.ID}})
	if err != nil {
		t.Fatal(err)
	}
	casePath := "/cases/" + strconvFormat(c.ID)

	t.Run("list filter and highlight", func(t *testing.T) {
		e.clock.Add(10 * 24 * time.Hour)
		b.login("anna@example.com", "contrasenya-segura") // the old session has expired
		code, body := b.get("/cases?sla=breached")
		if code != http.StatusOK || !strings.Contains(body, `class="sla-breached"`) || !strings.Contains(body, casePath) {
			t.Fatalf("breached list: %d", code)
		}
		if _, body := b.get("/cases?sla=at_risk"); strings.Contains(body, casePath+`"`) {
			t.Fatal("a breached case is listed as at risk")
		}
	})
	t.Run("API lists breached cases with their SLA fields", func(t *testing.T) {
		tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "test")
		if err != nil {
			t.Fatal(err)
		}
		code, out := e.api("GET", "/api/v1/cases?sla=breached", tok, nil)
		data, _ := out["data"].([]any)
		if code != http.StatusOK || len(data) != 1 {
			t.Fatalf("GET = %d, %v", code, out)
		}
		rec := data[0].(map[string]any)
		if rec["id"] != strconvFormat(c.ID) || rec["first_response_due_at"] == nil || rec["queue"] != "" {
			t.Fatalf("case JSON = %v", rec)
		}
		if code, _ := e.api("GET", "/api/v1/cases?sla=late", tok, nil); code == http.StatusOK {
			t.Fatal("a bad SLA filter was accepted")
		}
		if code, _ := e.api("GET", "/api/v1/contacts?sla=breached", tok, nil); code == http.StatusOK {
			t.Fatal("an SLA filter on contacts was accepted")
		}
	})
	t.Run("reply from the case page", func(t *testing.T) {
		if _, body := b.get(casePath); !strings.Contains(body, `action="`+casePath+`/reply"`) {
			t.Fatal("no reply form on the case page")
		}
		resp := b.post(casePath+"/reply", url.Values{"text": {"Ja ho hem arreglat."}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply = %d", resp.StatusCode)
		}
		msgs, _ := e.st.FindOutbox(ctx, admin, store.OutboxFilter{})
		if len(msgs) != 1 || msgs[0].To != "laura@client.example" || !strings.HasPrefix(msgs[0].Subject, store.CaseRef(c.ID)) {
			t.Fatalf("outbox = %+v", msgs)
		}
		r, _ := e.st.FindRecord(ctx, admin, store.EntCases, c.ID)
		if r.Time("first_response_at").IsZero() {
			t.Fatal("the reply did not set the first response")
		}
	})
	t.Run("survey link works without login and can change", func(t *testing.T) {
		if _, err := e.st.UpdateRecord(ctx, admin, store.EntCases, c.ID, store.Input{Values: map[string]any{"status": "resolved"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.st.SendCaseSurveys(ctx, e.clock.Now(), e.srv.URL); err != nil || n != 1 {
			t.Fatalf("surveys = %d, %v", n, err)
		}
		msgs, _ := e.st.FindOutbox(ctx, admin, store.OutboxFilter{})
		m := regexp.MustCompile(`/survey/[0-9]+\.[A-Za-z0-9_-]+/4`).FindString(msgs[0].Text)
		if m == "" {
			t.Fatalf("no survey link in %q", msgs[0].Text)
		}
		anon := e.newBrowser()
		code, body := anon.get(m)
		if code != http.StatusOK || !strings.Contains(body, "4 out of 5") {
			t.Fatalf("survey click = %d %s", code, body)
		}
		if code, _ := anon.get(strings.TrimSuffix(m, "4") + "5"); code != http.StatusOK {
			t.Fatalf("changing the score = %d", code)
		}
		r, _ := e.st.FindRecord(ctx, admin, store.EntCases, c.ID)
		if r.Int("satisfaction") != 5 {
			t.Fatalf("satisfaction = %d", r.Int("satisfaction"))
		}
		if code, _ := anon.get("/survey/" + strconv.FormatInt(c.ID, 10) + ".forged/3"); code != http.StatusNotFound {
			t.Fatalf("forged token = %d", code)
		}
		if code, body := b.get("/service/satisfaction"); code != http.StatusOK || !strings.Contains(body, "5.00") {
			t.Fatalf("satisfaction report = %d", code)
		}
	})
}
