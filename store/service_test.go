package store_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// madridAt is a moment in the test company's time zone.
func madridAt(t *testing.T, y int, m time.Month, d, h, min int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

// mustTeamUser creates a user in a team and returns them as an actor.
func mustTeamUser(t *testing.T, s *store.Store, admin *store.Actor, email, role string, team int64) *store.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, admin, store.UserInput{Email: email, Name: email, Password: "password-123", RoleKey: role, TeamID: team})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.ActorFor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestStore_CaseSLA(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock() // Monday 2 March 2026, 09:00 UTC = 10:00 in Madrid
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	// Default hours: Monday to Friday, 09:00-18:00; urgent: 1h / 8h.
	c := mustNewRecord(t, s, admin, store.EntCases, map[string]any{"subject": "No funciona", "priority": "urgent"})

	t.Run("due times on create", func(t *testing.T) {
		if got, want := c.Time("first_response_due_at"), madridAt(t, 2026, 3, 2, 11, 0); !got.Equal(want) {
			t.Fatalf("first response due %v, want %v", got, want)
		}
		if got, want := c.Time("resolution_due_at"), madridAt(t, 2026, 3, 2, 18, 0); !got.Equal(want) {
			t.Fatalf("resolution due %v, want %v", got, want)
		}
		if got, want := c.Time("sla_warning_at"), madridAt(t, 2026, 3, 2, 10, 48); !got.Equal(want) {
			t.Fatalf("warning at %v, want %v", got, want)
		}
	})
	t.Run("read-only for users", func(t *testing.T) {
		_, err := s.UpdateRecord(ctx, admin, store.EntCases, c.ID, store.Input{Values: map[string]any{"resolution_due_at": "2030-01-01T00:00:00Z"}})
		wantField(t, err, "resolution_due_at")
	})
	t.Run("at risk, then breached", func(t *testing.T) {
		list := func(state string) []int64 {
			recs, _, err := s.FindRecords(ctx, admin, store.EntCases, store.Filter{SLA: state})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			return ids
		}
		if got := list(store.SLAAtRisk); len(got) != 0 {
			t.Fatalf("at risk at once: %v", got)
		}
		clk.Advance(50 * time.Minute) // 10:50, past 80% of an hour
		if got := list(store.SLAAtRisk); len(got) != 1 || got[0] != c.ID {
			t.Fatalf("at risk = %v", got)
		}
		r, _ := s.FindRecord(ctx, admin, store.EntCases, c.ID)
		if st := store.CaseSLAState(r, clk.Now()); st != store.SLAAtRisk {
			t.Fatalf("state %q", st)
		}
		clk.Advance(15 * time.Minute) // 11:05, past the first-response due time
		if got := list(store.SLABreached); len(got) != 1 || got[0] != c.ID {
			t.Fatalf("breached = %v", got)
		}
		if got := list(store.SLAAtRisk); len(got) != 0 {
			t.Fatalf("a breached case is not also at risk: %v", got)
		}
		_, _, err := s.FindRecords(ctx, admin, store.EntCases, store.Filter{SLA: "late"})
		wantField(t, err, "sla")
	})
	t.Run("an agent's activity is the first response", func(t *testing.T) {
		mustNewRecord(t, s, admin, store.EntActivities, map[string]any{"type": "note", "subject": "Intern", "occurred_at": clk.Now().Format(time.RFC3339), "case_id": c.ID})
		r, _ := s.FindRecord(ctx, admin, store.EntCases, c.ID)
		if !r.Time("first_response_at").IsZero() {
			t.Fatal("an internal note counted as the first response")
		}
		mustNewRecord(t, s, admin, store.EntActivities, map[string]any{"type": "call", "subject": "Trucada", "occurred_at": clk.Now().Format(time.RFC3339), "case_id": c.ID})
		r, _ = s.FindRecord(ctx, admin, store.EntCases, c.ID)
		if !r.Time("first_response_at").Equal(clk.Now().Truncate(time.Millisecond)) {
			t.Fatalf("first response at %v", r.Time("first_response_at"))
		}
		if st := store.CaseSLAState(r, clk.Now()); st != store.SLAAtRisk {
			// Answered late, but resolution (due 18:00) is not at risk
			// until 80% of 8h: 16:24.
			if st != "" {
				t.Fatalf("state after the response %q", st)
			}
		}
		if got, want := r.Time("sla_warning_at"), madridAt(t, 2026, 3, 2, 16, 24); !got.Equal(want) {
			t.Fatalf("warning moved to %v, want %v", got, want)
		}
	})
	t.Run("priority change recomputes from when the case was opened", func(t *testing.T) {
		r, err := s.UpdateRecord(ctx, admin, store.EntCases, c.ID, store.Input{Values: map[string]any{"priority": "low"}})
		if err != nil {
			t.Fatal(err)
		}
		// Low: 16h first response: Monday 10-18 (8h) + Tuesday 9-17 (8h).
		if got, want := r.Time("first_response_due_at"), madridAt(t, 2026, 3, 3, 17, 0); !got.Equal(want) {
			t.Fatalf("first response due %v, want %v", got, want)
		}
	})
	t.Run("resolved cases are never at risk", func(t *testing.T) {
		if _, err := s.UpdateRecord(ctx, admin, store.EntCases, c.ID, store.Input{Values: map[string]any{"status": "resolved"}}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(30 * 24 * time.Hour)
		recs, _, _ := s.FindRecords(ctx, admin, store.EntCases, store.Filter{SLA: store.SLABreached})
		if len(recs) != 0 {
			t.Fatalf("resolved case listed as breached")
		}
	})
}

// TestStore_SLABreachEscalation is the issue's "SLA breach triggers the
// escalation rule": a time_after rule on first_response_due_at (delay 0)
// creates an escalation task and notifies the supervisor when a case gets
// no first response in time, and not when it is answered.
func TestStore_SLABreachEscalation(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	agent := mustUser(t, s, admin, "agent@example.com", "admin")
	w := mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Escalate first response", Entity: store.EntCases, Enabled: true,
		Trigger:    store.Trigger{Type: "time_after", Field: "first_response_due_at", Delay: "0m"},
		Conditions: []store.Condition{{Field: "first_response_at", Op: "empty"}},
		Actions: []store.WorkflowAction{
			{Type: "create_task", Title: "SLA breached: {{case.subject}}", DueIn: "1h", Assignee: store.FlexString(strconv.FormatInt(admin.UserID, 10))},
			{Type: "notify", UserIDs: []store.FlexInt{store.FlexInt(admin.UserID)}, Message: "SLA breached"},
		},
	})
	late := mustNewRecord(t, s, agent, store.EntCases, map[string]any{"subject": "Ningú no respon", "priority": "urgent"})
	answered := mustNewRecord(t, s, agent, store.EntCases, map[string]any{"subject": "Resposta ràpida", "priority": "urgent"})
	resolved := mustNewRecord(t, s, agent, store.EntCases, map[string]any{"subject": "Resolt de seguida", "priority": "urgent"})
	clk.Advance(20 * time.Minute)
	mustNewRecord(t, s, agent, store.EntActivities, map[string]any{"type": "email", "subject": "Hola", "occurred_at": clk.Now().Format(time.RFC3339), "case_id": answered.ID})
	if _, err := s.UpdateRecord(ctx, agent, store.EntCases, resolved.ID, store.Input{Values: map[string]any{"status": "resolved"}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute) // 10:50: nothing due yet
	if n := mustRun(t, s, clk.Now()); n != 0 {
		t.Fatalf("ran %d before the due time", n)
	}
	clk.Advance(15 * time.Minute) // 11:05: past 11:00
	if n := mustRun(t, s, clk.Now()); n != 1 {
		t.Fatalf("ran %d rules at the breach, want 1", n)
	}
	if n := mustRun(t, s, clk.Now()); n != 0 {
		t.Fatalf("the escalation ran twice")
	}
	tasks, _, err := s.FindRecords(ctx, admin, store.EntTasks, store.Filter{Eq: map[string]string{"case_id": strconv.FormatInt(late.ID, 10)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || !strings.Contains(tasks[0].Str("title"), "Ningú no respon") || tasks[0].OwnerID != admin.UserID {
		t.Fatalf("escalation tasks = %+v", tasks)
	}
	runs, err := s.FindWorkflowRuns(ctx, admin, w.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].RecordID != late.ID {
		t.Fatalf("runs = %+v", runs)
	}
	for _, id := range []int64{answered.ID, resolved.ID} {
		tasks, _, _ := s.FindRecords(ctx, admin, store.EntTasks, store.Filter{Eq: map[string]string{"case_id": strconv.FormatInt(id, 10)}})
		if len(tasks) != 0 {
			t.Fatalf("case %d was escalated although answered or resolved", id)
		}
	}
}

func TestStore_CaseQueues(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStoreOpts(t, store.Options{Now: newFakeClock().Now})
	admin := mustSetup(t, s)
	team, err := s.SaveTeam(ctx, admin, 0, "Suport")
	if err != nil {
		t.Fatal(err)
	}
	a1 := mustTeamUser(t, s, admin, "a1@example.com", "salesperson", team.ID)
	a2 := mustTeamUser(t, s, admin, "a2@example.com", "salesperson", team.ID)
	queue := strconv.FormatInt(team.ID, 10)

	t.Run("a team is a queue option", func(t *testing.T) {
		if _, ok := s.Schema().Option(store.CaseQueueList, queue); !ok {
			t.Fatal("the new team is not a queue")
		}
		_, err := s.CreateRecord(ctx, admin, store.EntCases, store.Input{Values: map[string]any{"subject": "x", "queue": "999"}})
		wantField(t, err, "queue")
	})
	t.Run("manual queue keeps the creator", func(t *testing.T) {
		c := mustNewRecord(t, s, admin, store.EntCases, map[string]any{"subject": "Manual", "queue": queue})
		if c.OwnerID != admin.UserID {
			t.Fatalf("owner %d", c.OwnerID)
		}
	})
	t.Run("round-robin takes turns", func(t *testing.T) {
		ss, err := s.GetServiceSettings(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		ss.Queues = map[int64]string{team.ID: store.AssignRoundRobin}
		if err := s.SaveServiceSettings(ctx, admin, *ss); err != nil {
			t.Fatal(err)
		}
		if ss2, _ := s.GetServiceSettings(ctx, admin); ss2.Queues[team.ID] != store.AssignRoundRobin {
			t.Fatalf("queues = %v", ss2.Queues)
		}
		var owners []int64
		for i := range 4 {
			c := mustNewRecord(t, s, admin, store.EntCases, map[string]any{"subject": "RR " + strconv.Itoa(i), "queue": queue})
			owners = append(owners, c.OwnerID)
		}
		if owners[0] == owners[1] || owners[0] != owners[2] || owners[1] != owners[3] {
			t.Fatalf("owners %v do not alternate", owners)
		}
		for _, o := range owners {
			if o != a1.UserID && o != a2.UserID {
				t.Fatalf("owner %d is not in the team", o)
			}
		}
		c := mustNewRecord(t, s, admin, store.EntCases, map[string]any{"subject": "Explicit", "queue": queue, "assignee_id": admin.UserID})
		if c.OwnerID != admin.UserID {
			t.Fatal("an explicit assignee was overridden")
		}
	})
	t.Run("bad settings change nothing", func(t *testing.T) {
		ss, _ := s.GetServiceSettings(ctx, admin)
		bad := *ss
		bad.Hours.Start, bad.Hours.End = 600, 500
		wantField(t, s.SaveServiceSettings(ctx, admin, bad), "work_end")
		bad = *ss
		bad.Targets = map[string]store.SLATarget{"urgent": {FirstResponse: -time.Hour}}
		wantField(t, s.SaveServiceSettings(ctx, admin, bad), "first_response_urgent")
		after, _ := s.GetServiceSettings(ctx, admin)
		if after.Hours.Days != ss.Hours.Days || after.Hours.Start != ss.Hours.Start || after.Hours.End != ss.Hours.End || after.Targets["urgent"] != ss.Targets["urgent"] {
			t.Fatal("a refused save changed the settings")
		}
		wantCode(t, s.SaveServiceSettings(ctx, a1, *ss), store.CodeForbidden)
	})
}

// surveyLink finds the link of a score in a survey e-mail.
func surveyLink(t *testing.T, text string, score int) string {
	t.Helper()
	m := regexp.MustCompile(`/survey/([0-9]+\.[A-Za-z0-9_-]+)/` + strconv.Itoa(score)).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no link for %d in %q", score, text)
	}
	return m[1]
}

func TestStore_CaseEmail(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now, MailDomain: "crm.example.com"})
	admin := mustSetup(t, s)
	sys := store.SystemActor()
	ss, _ := s.GetServiceSettings(ctx, admin)
	ss.SupportAddress = "suport@example.com"
	if err := s.SaveServiceSettings(ctx, admin, *ss); err != nil {
		t.Fatal(err)
	}
	in := store.InboundEmail{Mailbox: "imap://suport@mail/INBOX", UIDValidity: 7, UID: 1, MessageID: "m1@client.example",
		From: store.MailAddress{Name: "Marta Soler", Email: "Marta@Client.example"}, Subject: "La impressora no imprimeix",
		Text: "Hola, la impressora no va.", Date: clk.Now()}
	res, created, err := s.CaseFromEmail(ctx, sys, in)
	if err != nil || !created || !res.Opened || res.CaseID == 0 {
		t.Fatalf("CaseFromEmail = %+v, %v, %v", res, created, err)
	}
	ref := store.CaseRef(res.CaseID)

	t.Run("a new message opens a case for a new contact", func(t *testing.T) {
		c, err := s.FindRecord(ctx, admin, store.EntCases, res.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Str("subject") != in.Subject || c.Int("contact_id") != res.ContactID || c.Time("first_response_due_at").IsZero() {
			t.Fatalf("case = %+v", c.Values)
		}
		p, err := s.FindRecord(ctx, admin, store.EntContacts, res.ContactID)
		if err != nil || p.Str("email") != "marta@client.example" || p.Str("first_name") != "Marta" || p.Str("last_name") != "Soler" {
			t.Fatalf("contact = %+v, %v", p, err)
		}
		msgs, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		if len(msgs) != 1 || msgs[0].To != "marta@client.example" || !strings.HasPrefix(msgs[0].Subject, ref) || msgs[0].ReplyTo != "suport@example.com" {
			t.Fatalf("acknowledgment = %+v", msgs)
		}
	})
	t.Run("read twice changes nothing", func(t *testing.T) {
		again, created, err := s.CaseFromEmail(ctx, sys, in)
		if err != nil || created || again.CaseID != res.CaseID {
			t.Fatalf("again = %+v, %v, %v", again, created, err)
		}
		recs, _, _ := s.FindRecords(ctx, admin, store.EntCases, store.Filter{})
		if len(recs) != 1 {
			t.Fatalf("%d cases", len(recs))
		}
	})
	t.Run("a known sender keeps their contact", func(t *testing.T) {
		other := in
		other.MessageID, other.UID, other.Subject = "m2@client.example", 2, "Una altra qüestió"
		r2, _, err := s.CaseFromEmail(ctx, sys, other)
		if err != nil || !r2.Opened || r2.ContactID != res.ContactID || r2.CaseID == res.CaseID {
			t.Fatalf("second case = %+v, %v", r2, err)
		}
	})
	t.Run("an agent's reply goes out with the reference", func(t *testing.T) {
		clk.Advance(10 * time.Minute)
		act, err := s.ReplyToCase(ctx, admin, res.CaseID, "Hi enviem un tècnic.")
		if err != nil {
			t.Fatal(err)
		}
		if act.Str("type") != "email" || act.Int("case_id") != res.CaseID {
			t.Fatalf("activity = %+v", act.Values)
		}
		msgs, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		if msgs[0].To != "marta@client.example" || msgs[0].Subject != ref+" La impressora no imprimeix" || !strings.Contains(msgs[0].Text, "tècnic") {
			t.Fatalf("reply = %+v", msgs[0])
		}
		c, _ := s.FindRecord(ctx, admin, store.EntCases, res.CaseID)
		if !c.Time("first_response_at").Equal(clk.Now().Truncate(time.Millisecond)) {
			t.Fatalf("first response at %v", c.Time("first_response_at"))
		}
		_, err = s.ReplyToCase(ctx, admin, res.CaseID, "  ")
		wantField(t, err, "text")
	})
	t.Run("an answer lands in the same case", func(t *testing.T) {
		byRef := in
		byRef.MessageID, byRef.UID, byRef.Subject, byRef.Text = "m3@client.example", 3, "RE: "+ref+" La impressora no imprimeix", "Gràcies!"
		r3, created, err := s.CaseFromEmail(ctx, sys, byRef)
		if err != nil || !created || r3.Opened || r3.CaseID != res.CaseID {
			t.Fatalf("by reference = %+v, %v", r3, err)
		}
		msgs, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		byHeader := in
		byHeader.MessageID, byHeader.UID, byHeader.Subject = "m4@client.example", 4, "Re: la impressora"
		byHeader.References = []string{"<" + msgs[0].MessageID + ">"}
		r4, _, err := s.CaseFromEmail(ctx, sys, byHeader)
		if err != nil || r4.Opened || r4.CaseID != res.CaseID {
			t.Fatalf("by In-Reply-To = %+v, %v", r4, err)
		}
		acts, _, _ := s.FindRecords(ctx, admin, store.EntActivities, store.Filter{Eq: map[string]string{"case_id": strconv.FormatInt(res.CaseID, 10)}})
		if len(acts) != 4 { // the first message, the reply, two answers
			t.Fatalf("%d activities on the case", len(acts))
		}
		after, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		if len(after) != len(msgs) {
			t.Fatal("an answer was acknowledged as a new case")
		}
	})
	t.Run("our own address never opens a case", func(t *testing.T) {
		loop := in
		loop.MessageID, loop.UID, loop.From = "m5@example.com", 5, store.MailAddress{Email: "suport@example.com"}
		r5, created, err := s.CaseFromEmail(ctx, sys, loop)
		if err != nil || !created || r5.CaseID != 0 {
			t.Fatalf("loop = %+v, %v", r5, err)
		}
	})
	t.Run("only the system reads the mailbox", func(t *testing.T) {
		sales := mustUser(t, s, admin, "venedor@example.com", "salesperson")
		_, _, err := s.CaseFromEmail(ctx, sales, in)
		wantCode(t, err, store.CodeForbidden)
	})

	t.Run("satisfaction survey", func(t *testing.T) {
		if n, err := s.SendCaseSurveys(ctx, clk.Now(), "https://crm.example.com"); err != nil || n != 0 {
			t.Fatalf("survey off sent %d, %v", n, err)
		}
		ss, _ := s.GetServiceSettings(ctx, admin)
		ss.Survey = true
		if err := s.SaveServiceSettings(ctx, admin, *ss); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if _, err := s.UpdateRecord(ctx, admin, store.EntCases, res.CaseID, store.Input{Values: map[string]any{"status": "resolved"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.SendCaseSurveys(ctx, clk.Now(), "https://crm.example.com/"); err != nil || n != 1 {
			t.Fatalf("sent %d surveys, %v", n, err)
		}
		if n, _ := s.SendCaseSurveys(ctx, clk.Now(), "https://crm.example.com"); n != 0 {
			t.Fatal("surveyed twice")
		}
		msgs, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		mail := msgs[0]
		if !strings.HasPrefix(mail.Subject, ref) || !strings.Contains(mail.Text, "https://crm.example.com/survey/") {
			t.Fatalf("survey = %+v", mail)
		}
		tok := surveyLink(t, mail.Text, 4)
		if ans, err := s.RecordSurveyScore(ctx, tok, 4); err != nil || ans.Score != 4 || ans.CaseID != res.CaseID {
			t.Fatalf("score = %+v, %v", ans, err)
		}
		if _, err := s.RecordSurveyScore(ctx, surveyLink(t, mail.Text, 2), 2); err != nil {
			t.Fatal(err)
		}
		c, _ := s.FindRecord(ctx, admin, store.EntCases, res.CaseID)
		if c.Int("satisfaction") != 2 {
			t.Fatalf("satisfaction %d after changing to 2", c.Int("satisfaction"))
		}
		_, err := s.RecordSurveyScore(ctx, strconv.FormatInt(res.CaseID, 10)+".forged", 5)
		wantCode(t, err, store.CodeNotFound)
		_, err = s.RecordSurveyScore(ctx, tok, 9)
		wantCode(t, err, store.CodeInvalid)
		rows, err := s.SatisfactionByAgent(ctx, admin)
		if err != nil || len(rows) != 1 || rows[0].UserID != c.OwnerID || rows[0].Average != 2 || rows[0].Answers != 1 {
			t.Fatalf("report = %+v, %v", rows, err)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntCases, res.CaseID, store.Input{Values: map[string]any{"status": "closed"}}); err != nil {
			t.Fatal(err)
		}
		_, err = s.RecordSurveyScore(ctx, tok, 5)
		wantCode(t, err, store.CodeConflict)
		c, _ = s.FindRecord(ctx, admin, store.EntCases, res.CaseID)
		if c.Int("satisfaction") != 2 {
			t.Fatal("a closed case's score changed")
		}
	})
}
