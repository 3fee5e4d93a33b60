package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

func mustTemplate(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, subject string) int64 {
	t.Helper()
	tpl := &store.EmailTemplate{Name: "T " + subject, Language: "ca", Entity: e, Subject: subject, BodyText: "Hola {{" + map[store.Entity]string{store.EntContacts: "contact", store.EntLeads: "lead"}[e] + ".first_name}}"}
	if err := s.SaveEmailTemplate(context.Background(), a, tpl); err != nil {
		t.Fatal(err)
	}
	return tpl.ID
}

func mustNewRecord(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, vals map[string]any) *store.Record {
	t.Helper()
	r, err := s.CreateRecord(context.Background(), a, e, store.Input{Values: vals})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustWorkflow(t *testing.T, s *store.Store, a *store.Actor, w *store.Workflow) *store.Workflow {
	t.Helper()
	if err := s.CreateWorkflow(context.Background(), a, w); err != nil {
		t.Fatal(err)
	}
	return w
}

func mustRun(t *testing.T, s *store.Store, now time.Time) int {
	t.Helper()
	n, err := s.RunDueWorkflows(context.Background(), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func outboxTo(t *testing.T, s *store.Store, a *store.Actor) []string {
	t.Helper()
	msgs, err := s.FindOutbox(context.Background(), a, store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.To)
	}
	return out
}

func TestStore_CreateWorkflow(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	tpl := mustTemplate(t, s, admin, store.EntContacts, "Seguiment")
	leadTpl := mustTemplate(t, s, admin, store.EntLeads, "Benvinguda")
	cases := []struct {
		name  string
		w     store.Workflow
		field string
	}{
		{"no name", store.Workflow{Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}, "name"},
		{"unknown trigger", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "sometimes"}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}, "trigger.type"},
		{"bad delay", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "time_after", Event: "created", Delay: "3 fortnights"}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}, "trigger.delay"},
		{"stage trigger on contacts", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "stage_changed"}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}, "trigger.type"},
		{"no actions", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"}}, "actions"},
		{"unknown condition field", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"}, Conditions: []store.Condition{{Field: "shoe_size", Op: "eq", Value: store.FlexStrings{"42"}}}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}, "conditions.0.field"},
		{"template of another type", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"}, Actions: []store.WorkflowAction{{Type: "send_email", To: "record", TemplateID: store.FlexInt(leadTpl)}}}, "actions.0.template_id"},
		{"bad address", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"}, Actions: []store.WorkflowAction{{Type: "send_email", To: "not an address", TemplateID: store.FlexInt(tpl)}}}, "actions.0.to"},
		{"bad field value", store.Workflow{Name: "x", Entity: store.EntLeads, Trigger: store.Trigger{Type: "created"}, Actions: []store.WorkflowAction{{Type: "update_field", Field: "status", Value: "asleep"}}}, "actions.0.value"},
		{"unknown user", store.Workflow{Name: "x", Entity: store.EntLeads, Trigger: store.Trigger{Type: "created"}, Actions: []store.WorkflowAction{{Type: "assign_owner", UserID: 999}}}, "actions.0.user_id"},
		{"before only for dates", store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "time_after", Event: "created", Delay: "-1d"}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}, "trigger.delay"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := c.w
			err := s.CreateWorkflow(ctx, admin, &w)
			wantCode(t, err, store.CodeInvalid)
			wantField(t, err, c.field)
		})
	}
	t.Run("nothing was stored", func(t *testing.T) {
		ws, err := s.FindWorkflows(ctx, admin)
		if err != nil || len(ws) != 0 {
			t.Fatalf("%d rules, %v", len(ws), err)
		}
	})
	t.Run("only automation admins", func(t *testing.T) {
		sales := mustUser(t, s, admin, "joan@example.com", "salesperson")
		w := store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}
		wantCode(t, s.CreateWorkflow(ctx, sales, &w), store.CodeForbidden)
		_, err := s.FindWorkflows(ctx, sales)
		wantCode(t, err, store.CodeForbidden)
	})
	t.Run("delays", func(t *testing.T) {
		for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "15m": 15 * time.Minute, "2h": 2 * time.Hour, "3d": 72 * time.Hour, "-1d": -24 * time.Hour, "1w": 7 * 24 * time.Hour} {
			if got, ok := store.ParseDelay(in); !ok || got != want {
				t.Errorf("ParseDelay(%q) = %v %v", in, got, ok)
			}
		}
		for _, bad := range []string{"", "3", "d", "1y", "99999999d", "1.5h"} {
			if _, ok := store.ParseDelay(bad); ok {
				t.Errorf("ParseDelay(%q) accepted", bad)
			}
		}
	})
}

// TestStore_WorkflowFollowUp is seed 000's follow-up: an e-mail three days
// after a new contact, not for contacts older than the rule, exactly once
// across a restart.
func TestStore_WorkflowFollowUp(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	path := filepath.Join(t.TempDir(), "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: path, Now: clk.Now})
	admin := mustSetup(t, s)
	tpl := mustTemplate(t, s, admin, store.EntContacts, "Com va tot, {{contact.first_name}}?")
	old := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Vell", "email": "vell@example.com"})
	clk.Advance(time.Hour)
	w := mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Seguiment", Entity: store.EntContacts, Enabled: true,
		Trigger: store.Trigger{Type: "time_after", Event: "created", Delay: "3d"},
		Actions: []store.WorkflowAction{{Type: "send_email", To: "record", TemplateID: store.FlexInt(tpl)}},
	})
	clk.Advance(time.Minute)
	laura := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Laura", "email": "laura@example.com"})

	if n := mustRun(t, s, clk.Now().Add(72*time.Hour-time.Second)); n != 0 {
		t.Fatalf("ran %d before the due time", n)
	}
	due := laura.CreatedAt.Add(72 * time.Hour)
	if n := mustRun(t, s, due); n != 1 {
		t.Fatalf("ran %d at the due time, want 1", n)
	}
	if got := outboxTo(t, s, admin); len(got) != 1 || got[0] != "laura@example.com" {
		t.Fatalf("outbox = %v", got)
	}
	msgs, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
	if msgs[0].Subject != "Com va tot, Laura?" || !strings.HasPrefix(msgs[0].Key, "rule:") {
		t.Errorf("message %q key %q", msgs[0].Subject, msgs[0].Key)
	}
	acts, _, err := s.FindRecords(ctx, admin, store.EntActivities, store.Filter{Eq: map[string]string{"contact_id": itoaT(laura.ID)}})
	if err != nil || len(acts) != 1 || acts[0].Str("type") != "email" {
		t.Fatalf("timeline: %v %v", acts, err)
	}
	if n := mustRun(t, s, due.Add(time.Hour)); n != 0 {
		t.Fatalf("ran again: %d", n)
	}
	s.Close()
	s2 := mustOpenStoreOpts(t, store.Options{Path: path, Now: clk.Now})
	if n := mustRun(t, s2, due.Add(24*time.Hour)); n != 0 {
		t.Fatalf("ran again after restart: %d", n)
	}
	if got := outboxTo(t, s2, admin); len(got) != 1 {
		t.Fatalf("outbox after restart = %v", got)
	}
	runs, err := s2.FindWorkflowRuns(ctx, admin, w.ID, 0)
	if err != nil || len(runs) != 1 || runs[0].RecordID != laura.ID || runs[0].Status != "ok" || runs[0].Steps[0].Detail != "laura@example.com" {
		t.Fatalf("runs = %+v %v", runs, err)
	}
	_ = old
}

// TestStore_WorkflowCatchUp: a due-time that passed while Cartera was
// stopped fires once when it starts again.
func TestStore_WorkflowCatchUp(t *testing.T) {
	clk := newFakeClock()
	path := filepath.Join(t.TempDir(), "cartera.db")
	s := mustOpenStoreOpts(t, store.Options{Path: path, Now: clk.Now})
	admin := mustSetup(t, s)
	mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Tag later", Entity: store.EntContacts, Enabled: true,
		Trigger: store.Trigger{Type: "time_after", Event: "created", Delay: "15m"},
		Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "seguit"}},
	})
	c := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Pau"})
	s.Close()
	clk.Advance(48 * time.Hour)
	s2 := mustOpenStoreOpts(t, store.Options{Path: path, Now: clk.Now})
	if n := mustRun(t, s2, clk.Now()); n != 1 {
		t.Fatalf("catch-up ran %d", n)
	}
	if n := mustRun(t, s2, clk.Now()); n != 0 {
		t.Fatalf("catch-up ran twice")
	}
	r, _ := s2.FindRecord(context.Background(), admin, store.EntContacts, c.ID)
	if len(r.Tags) != 1 || r.Tags[0] != "seguit" {
		t.Fatalf("tags = %v", r.Tags)
	}
}

// TestStore_WorkflowStalled is seed 004's stalled opportunity: no stage
// change for N days creates one task for the owner; a stage change starts
// the clock again.
func TestStore_WorkflowStalled(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	sales := mustUser(t, s, admin, "joan@example.com", "salesperson")
	w := mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Encallada", Entity: store.EntOpportunities, Enabled: true,
		Trigger:    store.Trigger{Type: "inactive", What: "stage", Delay: "7d"},
		Conditions: []store.Condition{{Field: "stage", Op: "not_in", Value: store.FlexStrings{"won", "lost"}}},
		Actions:    []store.WorkflowAction{{Type: "create_task", Title: "Revisa {{opportunity.name}}", DueIn: "1d", Assignee: "owner"}},
	})
	opp := mustNewRecord(t, s, sales, store.EntOpportunities, map[string]any{"name": "Web nova", "stage": "qualification"})
	closed := mustNewRecord(t, s, sales, store.EntOpportunities, map[string]any{"name": "Tancada", "stage": "qualification"})
	clk.Advance(3 * 24 * time.Hour)
	if _, err := s.UpdateRecord(ctx, sales, store.EntOpportunities, opp.ID, store.Input{Values: map[string]any{"stage": "proposal"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecord(ctx, sales, store.EntOpportunities, closed.ID, store.Input{Values: map[string]any{"stage": "won"}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * 24 * time.Hour)
	if n := mustRun(t, s, clk.Now()); n != 0 {
		t.Fatalf("ran %d, but the stage changed 5 days ago", n)
	}
	clk.Advance(2*24*time.Hour + time.Minute)
	if n := mustRun(t, s, clk.Now()); n != 2 {
		t.Fatalf("ran %d, want the task and the skipped won deal", n)
	}
	clk.Advance(time.Hour)
	mustRun(t, s, clk.Now())
	tasks, _, err := s.FindRecords(ctx, admin, store.EntTasks, store.Filter{})
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks = %d %v", len(tasks), err)
	}
	task := tasks[0]
	if task.Str("title") != "Revisa Web nova" || task.OwnerID != sales.UserID || task.Int("opportunity_id") != opp.ID || !task.Time("due_at").Equal(clk.Now().Add(-time.Hour).Add(24*time.Hour)) {
		t.Fatalf("task = %+v", task.Values)
	}
	runs, _ := s.FindWorkflowRuns(ctx, admin, w.ID, 0)
	statuses := map[string]int{}
	for _, r := range runs {
		statuses[r.Status]++
	}
	if statuses["ok"] != 1 || statuses["skipped"] != 1 {
		t.Fatalf("runs = %v", statuses)
	}
}

// TestStore_WorkflowActions covers round-robin assignment, tags, field
// updates, loops and the hourly cap.
func TestStore_WorkflowActions(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	team, err := s.SaveTeam(ctx, admin, 0, "Vendes")
	if err != nil {
		t.Fatal(err)
	}
	var members []int64
	for _, e := range []string{"a@example.com", "b@example.com"} {
		u, err := s.CreateUser(ctx, admin, store.UserInput{Email: e, Name: e, Password: "password-123", RoleKey: "salesperson", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, u.ID)
	}
	t.Run("round robin alternates", func(t *testing.T) {
		mustWorkflow(t, s, admin, &store.Workflow{
			Name: "Repartiment", Entity: store.EntLeads, Enabled: true,
			Trigger:    store.Trigger{Type: "created"},
			Conditions: []store.Condition{{Field: "source", Op: "eq", Value: store.FlexStrings{"web_form"}}},
			Actions:    []store.WorkflowAction{{Type: "assign_owner", RoundRobinTeamID: store.FlexInt(team.ID)}},
		})
		var ids []int64
		for _, n := range []string{"Un", "Dos", "Tres"} {
			ids = append(ids, mustNewRecord(t, s, admin, store.EntLeads, map[string]any{"first_name": n, "source": "web_form"}).ID)
		}
		other := mustNewRecord(t, s, admin, store.EntLeads, map[string]any{"first_name": "Fira", "source": "event"})
		if n := mustRun(t, s, clk.Now()); n != 3 {
			t.Fatalf("ran %d, want 3", n)
		}
		want := []int64{members[0], members[1], members[0]}
		for i, id := range ids {
			r, _ := s.FindRecord(ctx, admin, store.EntLeads, id)
			if r.OwnerID != want[i] {
				t.Errorf("lead %d owner %d, want %d", i, r.OwnerID, want[i])
			}
		}
		if r, _ := s.FindRecord(ctx, admin, store.EntLeads, other.ID); r.OwnerID != admin.UserID {
			t.Errorf("the event lead was reassigned")
		}
	})
	t.Run("own updates do not start the rule again", func(t *testing.T) {
		w := mustWorkflow(t, s, admin, &store.Workflow{
			Name: "Marca", Entity: store.EntContacts, Enabled: true,
			Trigger: store.Trigger{Type: "updated"},
			Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "tocat"}, {Type: "update_field", Field: "title", Value: "Revisat"}},
		})
		c := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Ona"})
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, c.ID, store.Input{Values: map[string]any{"last_name": "Vila"}}); err != nil {
			t.Fatal(err)
		}
		mustRun(t, s, clk.Now())
		mustRun(t, s, clk.Now())
		r, _ := s.FindRecord(ctx, admin, store.EntContacts, c.ID)
		if r.Str("title") != "Revisat" || len(r.Tags) != 1 {
			t.Fatalf("record = %v %v", r.Values["title"], r.Tags)
		}
		runs, _ := s.FindWorkflowRuns(ctx, admin, w.ID, 0)
		if len(runs) != 1 {
			t.Fatalf("%d runs, want 1", len(runs))
		}
		if _, err := s.SetWorkflowEnabled(ctx, admin, w.ID, false, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("two rules feeding each other stop at the hourly cap", func(t *testing.T) {
		for _, v := range []string{"A", "B"} {
			mustWorkflow(t, s, admin, &store.Workflow{
				Name: "Ping " + v, Entity: store.EntAccounts, Enabled: true,
				Trigger: store.Trigger{Type: "updated"},
				Actions: []store.WorkflowAction{{Type: "update_field", Field: "notes", Value: store.FlexString(v)}},
			})
		}
		acc := mustNewRecord(t, s, admin, store.EntAccounts, map[string]any{"name": "Bucle SL"})
		if _, err := s.UpdateRecord(ctx, admin, store.EntAccounts, acc.ID, store.Input{Values: map[string]any{"city": "Vic"}}); err != nil {
			t.Fatal(err)
		}
		total := 0
		for range 50 {
			n := mustRun(t, s, clk.Now())
			if n == 0 {
				break
			}
			total += n
		}
		if total == 0 || total > 2*10+2 {
			t.Fatalf("the loop ran %d times", total)
		}
	})
}

// TestStore_WorkflowFailure: an action that fails takes back the actions
// before it and leaves a failed run with the reason.
func TestStore_WorkflowFailure(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	tpl := mustTemplate(t, s, admin, store.EntContacts, "Adeu")
	w := mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Trenca", Entity: store.EntContacts, Enabled: true,
		Trigger: store.Trigger{Type: "created"},
		Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "abans"}, {Type: "send_email", To: "record", TemplateID: store.FlexInt(tpl)}},
	})
	if err := s.DeleteEmailTemplate(ctx, admin, tpl); err != nil {
		t.Fatal(err)
	}
	c := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Pere", "email": "pere@example.com"})
	if n := mustRun(t, s, time.Now()); n != 1 {
		t.Fatalf("ran %d", n)
	}
	r, _ := s.FindRecord(ctx, admin, store.EntContacts, c.ID)
	if len(r.Tags) != 0 {
		t.Fatalf("the first action was kept: %v", r.Tags)
	}
	runs, _ := s.FindWorkflowRuns(ctx, admin, w.ID, 0)
	if len(runs) != 1 || runs[0].Status != "failed" || runs[0].Error != "workflows.error.template" || runs[0].Steps[1].Status != "failed" {
		t.Fatalf("runs = %+v", runs)
	}
	if n := mustRun(t, s, time.Now()); n != 0 {
		t.Fatalf("a failed job ran again")
	}
}

// TestStore_TestWorkflow: the dry run reports every action and changes
// nothing.
func TestStore_TestWorkflow(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	tpl := mustTemplate(t, s, admin, store.EntContacts, "Prova")
	c := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Mia", "email": "mia@example.com"})
	w := &store.Workflow{
		Name: "Prova", Entity: store.EntContacts,
		Trigger: store.Trigger{Type: "created"},
		Actions: []store.WorkflowAction{
			{Type: "send_email", To: "record", TemplateID: store.FlexInt(tpl)},
			{Type: "create_task", Title: "Truca {{contact.first_name}}", DueIn: "2h"},
			{Type: "add_tag", Tag: "provat"},
		},
	}
	run, err := s.TestWorkflow(ctx, admin, w, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "dry_run" || len(run.Steps) != 3 || run.Steps[0].Detail != "mia@example.com" || !strings.HasPrefix(run.Steps[1].Detail, "tasks/") {
		t.Fatalf("run = %+v", run)
	}
	if got := outboxTo(t, s, admin); len(got) != 0 {
		t.Fatalf("the test sent %v", got)
	}
	if n := countRecords(t, s, admin, store.EntTasks); n != 0 {
		t.Fatalf("the test made %d tasks", n)
	}
	r, _ := s.FindRecord(ctx, admin, store.EntContacts, c.ID)
	if len(r.Tags) != 0 {
		t.Fatalf("the test tagged the record")
	}
	w.Conditions = []store.Condition{{Field: "email", Op: "contains", Value: store.FlexStrings{"@altres.cat"}}}
	run, err = s.TestWorkflow(ctx, admin, w, c.ID, nil)
	if err != nil || run.Status != "skipped" || run.Error != "workflows.run.conditions" {
		t.Fatalf("run = %+v %v", run, err)
	}
}

// TestStore_SetWorkflowEnabled: a rule applies to events after it was
// enabled; existing records come in only when the admin includes them.
func TestStore_SetWorkflowEnabled(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	for _, n := range []string{"Un", "Dos", "Tres"} {
		mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": n, "title": "CEO"})
	}
	mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Quatre", "title": "Tècnic"})
	clk.Advance(24 * time.Hour)
	w := mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Directius", Entity: store.EntContacts,
		Trigger:    store.Trigger{Type: "time_after", Event: "created", Delay: "3d"},
		Conditions: []store.Condition{{Field: "title", Op: "eq", Value: store.FlexStrings{"ceo"}}},
		Actions:    []store.WorkflowAction{{Type: "add_tag", Tag: "directiu"}},
	})
	n, err := s.CountWorkflowMatches(ctx, admin, w.ID)
	if err != nil || n != 3 {
		t.Fatalf("matches = %d %v", n, err)
	}
	if got, err := s.SetWorkflowEnabled(ctx, admin, w.ID, true, false); err != nil || got != 0 {
		t.Fatalf("enable: %d %v", got, err)
	}
	clk.Advance(3 * 24 * time.Hour)
	if n := mustRun(t, s, clk.Now()); n != 0 {
		t.Fatalf("existing records ran without being included: %d", n)
	}
	if _, err := s.SetWorkflowEnabled(ctx, admin, w.ID, false, false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(-3*24*time.Hour + time.Hour)
	if got, err := s.SetWorkflowEnabled(ctx, admin, w.ID, true, true); err != nil || got != 3 {
		t.Fatalf("enable with existing: %d %v", got, err)
	}
	clk.Advance(3 * 24 * time.Hour)
	if n := mustRun(t, s, clk.Now()); n != 3 {
		t.Fatalf("included records ran %d", n)
	}
}

// TestStore_WorkflowImport: imported records start rules only when the
// import asks for it.
func TestStore_WorkflowImport(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Nou", Entity: store.EntContacts, Enabled: true,
		Trigger: store.Trigger{Type: "created"},
		Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "nou"}},
	})
	for _, auto := range []bool{false, true} {
		imp, err := s.StartImport(ctx, admin, store.ImportSpec{Entity: store.EntContacts, FileName: "c.csv", Policy: store.PolicyCreate, Automation: auto})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportBatch(ctx, admin, imp.ID, []store.ImportRow{{Line: 2, Input: store.Input{Values: map[string]any{"first_name": "Imp"}}}}, false, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishImport(ctx, admin, imp.ID, ""); err != nil {
			t.Fatal(err)
		}
		want := 0
		if auto {
			want = 1
		}
		if n := mustRun(t, s, time.Now()); n != want {
			t.Errorf("automation=%v: ran %d, want %d", auto, n, want)
		}
	}
}

// TestStore_WorkflowBuiltins runs the ready-made web-lead and stalled
// opportunity rules end to end: a form submission gets a welcome e-mail
// and a call task for the next salesperson in turn; a stalled deal gets a
// task and an in-app notification for its owner.
func TestStore_WorkflowBuiltins(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clk.Now})
	admin := mustSetup(t, s)
	team, err := s.SaveTeam(ctx, admin, 0, "Vendes")
	if err != nil {
		t.Fatal(err)
	}
	var members []*store.Actor
	for _, e := range []string{"a@example.com", "b@example.com"} {
		u, err := s.CreateUser(ctx, admin, store.UserInput{Email: e, Name: e, Password: "password-123", RoleKey: "salesperson", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := s.ActorFor(ctx, u.ID)
		members = append(members, a)
	}
	form, err := s.CreateWebForm(ctx, admin, leadForm(admin.UserID))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range store.BuiltinWorkflows {
		w, err := s.CreateBuiltinWorkflow(ctx, admin, k, nil)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if w.Enabled {
			t.Fatalf("%s was created switched on", k)
		}
		if _, err := s.SetWorkflowEnabled(ctx, admin, w.ID, true, false); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.CreateBuiltinWorkflow(ctx, admin, "web_lead", nil)
	wantCode(t, err, store.CodeConflict)

	for i, email := range []string{"un@example.com", "dos@example.com"} {
		if _, err := s.SubmitWebForm(ctx, form.Slug, map[string][]string{"first_name": {"Lead"}, "last_name": {itoaT(int64(i))}, "email": {email}}, "192.0.2.1", nil); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, s, clk.Now())
	if got := outboxTo(t, s, admin); len(got) != 2 {
		t.Fatalf("welcome e-mails: %v", got)
	}
	tasks, _, _ := s.FindRecords(ctx, admin, store.EntTasks, store.Filter{})
	owners := map[int64]int{}
	for _, tk := range tasks {
		owners[tk.OwnerID]++
	}
	if len(tasks) != 2 || owners[members[0].UserID] != 1 || owners[members[1].UserID] != 1 {
		t.Fatalf("call tasks by owner: %v", owners)
	}

	opp := mustNewRecord(t, s, members[0], store.EntOpportunities, map[string]any{"name": "Reforma", "stage": "proposal"})
	clk.Advance(15 * 24 * time.Hour)
	mustRun(t, s, clk.Now())
	notes, err := s.FindNotifications(ctx, members[0], store.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range notes {
		if n.RecordID == opp.ID {
			found = true
		}
	}
	if !found {
		t.Fatalf("no notification about the stalled deal: %+v", notes)
	}
	tasks, _, _ = s.FindRecords(ctx, admin, store.EntTasks, store.Filter{Eq: map[string]string{"opportunity_id": itoaT(opp.ID)}})
	if len(tasks) != 1 || tasks[0].OwnerID != members[0].UserID {
		t.Fatalf("stalled tasks: %d", len(tasks))
	}
}

// TestStore_WorkflowSegmentCondition: a rule can require that the record
// is (or is not) in a marketing segment.
func TestStore_WorkflowSegmentCondition(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	g := &store.Segment{Name: "Compradors", Entity: store.EntContacts, Kind: "dynamic", Conditions: []store.SegmentCondition{{Field: "tag", Op: "has", Value: "Compres"}}}
	if err := s.SaveSegment(ctx, admin, g); err != nil {
		t.Fatal(err)
	}
	mustWorkflow(t, s, admin, &store.Workflow{
		Name: "Benvinguda compradors", Entity: store.EntContacts, Enabled: true,
		Trigger:    store.Trigger{Type: "created"},
		Conditions: []store.Condition{{Field: "segment", Op: "in", Value: store.FlexStrings{itoaT(g.ID)}}},
		Actions:    []store.WorkflowAction{{Type: "add_tag", Tag: "benvinguda"}},
	})
	tags := []string{"Compres"}
	in, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"first_name": "Dins"}, Tags: &tags})
	if err != nil {
		t.Fatal(err)
	}
	out := mustNewRecord(t, s, admin, store.EntContacts, map[string]any{"first_name": "Fora"})
	mustRun(t, s, time.Now())
	r, _ := s.FindRecord(ctx, admin, store.EntContacts, in.ID)
	if !slices.Contains(r.Tags, "benvinguda") {
		t.Errorf("the segment member was not tagged: %v", r.Tags)
	}
	r, _ = s.FindRecord(ctx, admin, store.EntContacts, out.ID)
	if len(r.Tags) != 0 {
		t.Errorf("a non-member was tagged: %v", r.Tags)
	}
	bad := &store.Workflow{Name: "x", Entity: store.EntContacts, Trigger: store.Trigger{Type: "created"},
		Conditions: []store.Condition{{Field: "segment", Op: "contains", Value: store.FlexStrings{"abc"}}}, Actions: []store.WorkflowAction{{Type: "add_tag", Tag: "x"}}}
	err = s.CreateWorkflow(ctx, admin, bad)
	wantField(t, err, "conditions.0.value")
	wantField(t, err, "conditions.0.op")
}
