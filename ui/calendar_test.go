package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"cartera/store"
)

// TestCalendar_Page checks the month, week and agenda views, create-from-a-
// day links, and rescheduling by script (JSON) and by plain form.
func TestCalendar_Page(t *testing.T) {
	env := mustServer(t)
	admin := env.mustSetupAdmin()
	ctx := context.Background()
	loc, _ := time.LoadLocation("Europe/Madrid")
	day := time.Date(2031, 3, 12, 10, 30, 0, 0, loc)
	task, err := env.st.CreateRecord(ctx, admin, store.EntTasks, store.Input{Values: map[string]any{"title": "Trucar a la Marta", "due_at": day}})
	if err != nil {
		t.Fatal(err)
	}
	meet, err := env.st.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: map[string]any{"type": "meeting", "subject": "Visita a Ferreteria Puig", "occurred_at": day.Add(3 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.st.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: map[string]any{"type": "email", "subject": "Correu enviat", "occurred_at": day}}); err != nil {
		t.Fatal(err)
	}
	b := env.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")

	t.Run("views", func(t *testing.T) {
		for _, view := range []string{"month", "week", "agenda"} {
			code, body := b.get("/calendar?view=" + view + "&date=2031-03-12")
			if code != http.StatusOK {
				t.Fatalf("%s: status %d", view, code)
			}
			if !strings.Contains(body, "Trucar a la Marta") || !strings.Contains(body, "Visita a Ferreteria Puig") {
				t.Fatalf("%s view lacks the task or the meeting", view)
			}
			if strings.Contains(body, "Correu enviat") {
				t.Fatalf("%s view shows an e-mail activity", view)
			}
		}
		_, body := b.get("/calendar?view=month&date=2031-03-12")
		if !strings.Contains(body, `/tasks/new?due_at=2031-03-20T09%3A00`) || !strings.Contains(body, `occurred_at=2031-03-20T09%3A00`) {
			t.Fatal("month view lacks create-from-a-day links")
		}
		if !strings.Contains(body, `data-id="`+strconv.FormatInt(task.ID, 10)+`"`) || !strings.Contains(body, "/static/calendar.") {
			t.Fatal("month view lacks draggable items or its script")
		}
		if _, body := b.get("/calendar?view=month&date=2031-05-12"); strings.Contains(body, "Trucar a la Marta") {
			t.Fatal("May shows a March task")
		}
	})

	move := func(form url.Values, accept string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/calendar/move", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	t.Run("drag", func(t *testing.T) {
		code, body := move(url.Values{"entity": {"tasks"}, "id": {strconv.FormatInt(task.ID, 10)}, "version": {strconv.FormatInt(task.Version, 10)}, "date": {"2031-03-14"}}, "application/json")
		if code != http.StatusOK {
			t.Fatalf("move: %d %s", code, body)
		}
		got, _ := env.st.FindRecord(ctx, admin, store.EntTasks, task.ID)
		if want := time.Date(2031, 3, 14, 10, 30, 0, 0, loc); !got.Time("due_at").Equal(want) {
			t.Fatalf("due_at %v, want %v (same time, new day)", got.Time("due_at"), want)
		}
		// The page's version is stale now: the move is refused, nothing changes.
		code, body = move(url.Values{"entity": {"tasks"}, "id": {strconv.FormatInt(task.ID, 10)}, "version": {strconv.FormatInt(task.Version, 10)}, "date": {"2031-03-20"}}, "application/json")
		var res map[string]any
		json.Unmarshal([]byte(body), &res)
		if code != http.StatusConflict || res["ok"] != false || res["message"] == "" {
			t.Fatalf("stale move: %d %s", code, body)
		}
		if again, _ := env.st.FindRecord(ctx, admin, store.EntTasks, task.ID); !again.Time("due_at").Equal(got.Time("due_at")) {
			t.Fatal("a stale move changed the task")
		}
		if code, _ := move(url.Values{"entity": {"cases"}, "id": {"1"}, "date": {"2031-03-20"}}, "application/json"); code != http.StatusUnprocessableEntity {
			t.Fatalf("moving a case: %d", code)
		}
	})
	t.Run("form without script", func(t *testing.T) {
		code, _ := move(url.Values{"entity": {"activities"}, "id": {strconv.FormatInt(meet.ID, 10)}, "version": {strconv.FormatInt(meet.Version, 10)}, "date": {"2031-03-13"}, "time": {"16:00"}, "return_to": {"/calendar?view=agenda"}}, "")
		if code != http.StatusSeeOther {
			t.Fatalf("form move: %d", code)
		}
		got, _ := env.st.FindRecord(ctx, admin, store.EntActivities, meet.ID)
		if want := time.Date(2031, 3, 13, 16, 0, 0, 0, loc); !got.Time("occurred_at").Equal(want) {
			t.Fatalf("occurred_at %v, want %v", got.Time("occurred_at"), want)
		}
	})
}

// TestCalendar_Feed creates, reads (with go-ical's parser), regenerates and
// revokes a private iCalendar feed, and checks it holds only its user's
// items.
func TestCalendar_Feed(t *testing.T) {
	env := mustServer(t)
	admin := env.mustSetupAdmin()
	sales := env.mustUser(admin, "joan@example.com", "salesperson")
	ctx := context.Background()
	soon := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
	task, err := env.st.CreateRecord(ctx, admin, store.EntTasks, store.Input{Values: map[string]any{"title": "Preparar l'oferta", "due_at": soon, "description": "Línia 1\nLínia 2; amb, signes"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.st.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: map[string]any{"type": "visit", "subject": "Visita", "occurred_at": soon.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.st.CreateRecord(ctx, sales, store.EntTasks, store.Input{Values: map[string]any{"title": "Tasca d'en Joan", "due_at": soon}}); err != nil {
		t.Fatal(err)
	}
	b := env.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	feedRe := regexp.MustCompile(`http://[^<"]+/ical/[A-Za-z0-9_-]+\.ics`)
	create := func() string {
		code, body := b.postBody("/profile/feed", url.Values{})
		u := feedRe.FindString(body)
		if code != http.StatusOK || u == "" {
			t.Fatalf("creating the feed: %d, no URL in the page", code)
		}
		return u
	}
	fetch := func(u string) (int, []byte) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	feed := create()

	t.Run("parses", func(t *testing.T) {
		code, body := fetch(feed)
		if code != http.StatusOK {
			t.Fatalf("feed: %d", code)
		}
		cal, err := ical.NewDecoder(strings.NewReader(string(body))).Decode()
		if err != nil {
			t.Fatalf("go-ical cannot parse the feed: %v\n%s", err, body)
		}
		if v, _ := cal.Props.Text(ical.PropVersion); v != "2.0" || cal.Props.Get(ical.PropProductID) == nil {
			t.Fatal("calendar lacks VERSION:2.0 or PRODID")
		}
		events := cal.Events()
		if len(events) != 2 {
			t.Fatalf("%d events, want the admin's task and visit only", len(events))
		}
		uids := map[string]bool{}
		for _, ev := range events {
			uid, _ := ev.Props.Text(ical.PropUID)
			uids[uid] = true
			if ev.Props.Get(ical.PropDateTimeStamp) == nil || !strings.HasSuffix(ev.Props.Get(ical.PropDateTimeStamp).Value, "Z") {
				t.Fatalf("%s: DTSTAMP missing or not UTC", uid)
			}
			start, err := ev.DateTimeStart(nil)
			if err != nil {
				t.Fatal(err)
			}
			if uid == "task-"+strconv.FormatInt(task.ID, 10)+"@127.0.0.1" {
				if !start.Equal(soon) {
					t.Fatalf("task starts %v, want %v", start, soon)
				}
				if d, _ := ev.Props.Text(ical.PropDescription); d != "Línia 1\nLínia 2; amb, signes" {
					t.Fatalf("description %q", d)
				}
			}
		}
		if !uids["task-"+strconv.FormatInt(task.ID, 10)+"@127.0.0.1"] {
			t.Fatalf("no stable task UID among %v", uids)
		}
		_, again := fetch(feed)
		if string(again) != string(body) {
			t.Fatal("fetching twice gave a different feed: UIDs and stamps must be stable")
		}
	})
	t.Run("regenerate and revoke", func(t *testing.T) {
		second := create()
		if code, _ := fetch(feed); code != http.StatusNotFound {
			t.Fatalf("old feed after regenerating: %d", code)
		}
		if code, _ := fetch(second); code != http.StatusOK {
			t.Fatalf("new feed: %d", code)
		}
		if resp := b.post("/profile/feed", url.Values{"action": {"revoke"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if code, _ := fetch(second); code != http.StatusNotFound {
			t.Fatalf("feed after revoking: %d", code)
		}
		if code, body := b.get("/profile/sync"); code != http.StatusOK || !strings.Contains(body, "/dav/") {
			t.Fatalf("sync settings page: %d", code)
		}
	})
}
