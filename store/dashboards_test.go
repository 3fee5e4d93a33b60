package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// mustOpp creates an opportunity as a, with a stage and amount (euros).
func mustOpp(t *testing.T, s *store.Store, a *store.Actor, name, stage string, amount float64) {
	t.Helper()
	if _, err := s.CreateRecord(context.Background(), a, store.EntOpportunities, store.Input{Values: map[string]any{"name": name, "stage": stage, "amount": amount}}); err != nil {
		t.Fatal(err)
	}
}

func TestStore_SavedReports(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	marc := mustUser(t, s, admin, "marc@example.com", "salesperson")
	pere := mustUser(t, s, admin, "pere@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "marketing")
	mustOpp(t, s, marc, "A", "proposal", 1000)
	mustOpp(t, s, marc, "B", "proposal", 500)
	mustOpp(t, s, marc, "C", "negotiation", 200)
	mustOpp(t, s, pere, "D", "proposal", 7000)

	rep := &store.SavedReport{Name: "Per etapa", Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "stage"}},
		Measures: []store.Measure{{Op: "count"}, {Op: "sum", Field: "amount"}}, Sort: "-value", Chart: "bar", Roles: []string{"salesperson"}}
	t.Run("a salesperson saves and shares a report", func(t *testing.T) {
		if err := s.SaveReport(ctx, marc, rep); err != nil {
			t.Fatal(err)
		}
		if rep.ID == 0 || rep.OwnerID != marc.UserID {
			t.Fatalf("saved %+v", rep)
		}
	})
	t.Run("each viewer sees numbers from their own records only", func(t *testing.T) {
		for _, c := range []struct {
			who   *store.Actor
			first []any // stage, count, sum of the first row (sorted by count, descending)
			rows  int
		}{
			{marc, []any{"proposal", int64(2), 1500.0}, 2},
			{pere, []any{"proposal", int64(1), 7000.0}, 1},
			{admin, []any{"proposal", int64(3), 8500.0}, 2},
		} {
			got, err := s.GetSavedReport(ctx, c.who, rep.ID)
			if err != nil {
				t.Fatalf("%s: %v", c.who.Email, err)
			}
			res, err := s.RunSavedReport(ctx, c.who, got, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != c.rows {
				t.Fatalf("%s: rows %v", c.who.Email, res.Rows)
			}
			for i, v := range c.first {
				if res.Rows[0][i] != v {
					t.Errorf("%s: row %v, want %v", c.who.Email, res.Rows[0], c.first)
				}
			}
			if strings.Join(res.Kinds, ",") != "option:stage,int,money" || res.Chart == nil || res.Chart.Kind != "bar" || len(res.Chart.Series) != 2 {
				t.Errorf("kinds %v chart %+v", res.Kinds, res.Chart)
			}
		}
	})
	t.Run("a role it is not shared with does not see it", func(t *testing.T) {
		_, err := s.GetSavedReport(ctx, marta, rep.ID)
		wantCode(t, err, store.CodeNotFound)
		list, err := s.FindSavedReports(ctx, marta)
		if err != nil || len(list) != 0 {
			t.Fatalf("marketing lists %v, %v", list, err)
		}
		if list, _ := s.FindSavedReports(ctx, pere); len(list) != 1 {
			t.Fatalf("pere lists %d", len(list))
		}
	})
	t.Run("only the owner or an administrator changes it", func(t *testing.T) {
		cp := *rep
		cp.Name = "Robat"
		wantCode(t, s.SaveReport(ctx, pere, &cp), store.CodeForbidden)
		wantCode(t, s.DeleteSavedReport(ctx, pere, rep.ID), store.CodeForbidden)
		cp.Name = "Per etapa (admin)"
		if err := s.SaveReport(ctx, admin, &cp); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetSavedReport(ctx, marc, rep.ID)
		if got.Name != "Per etapa (admin)" || got.OwnerID != marc.UserID {
			t.Fatalf("after admin edit: %+v", got)
		}
	})
	t.Run("bad input is refused and saves nothing", func(t *testing.T) {
		for name, bad := range map[string]*store.SavedReport{
			"name":      {Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "stage"}}},
			"group.0":   {Name: "x", Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "nonsense"}}},
			"measure.0": {Name: "x", Entity: store.EntOpportunities, Measures: []store.Measure{{Op: "sum", Field: "name"}}},
			"chart":     {Name: "x", Entity: store.EntOpportunities, Chart: "radar"},
			"entity":    {Name: "x", Entity: "planets"},
			"group":     {Name: "x", Entity: store.EntLeads, GroupBy: []store.GroupBy{{Field: "source"}, {Field: "status"}, {Field: "owner"}}},
			"roles":     {Name: "x", Entity: store.EntLeads, Roles: []string{"astronaut"}},
		} {
			t.Run(name, func(t *testing.T) {
				err := s.SaveReport(ctx, admin, bad)
				wantCode(t, err, store.CodeInvalid)
				wantField(t, err, name)
			})
		}
		if list, _ := s.FindSavedReports(ctx, admin); len(list) != 1 {
			t.Fatalf("%d saved reports after refusals", len(list))
		}
	})
	t.Run("marketing cannot build over opportunities", func(t *testing.T) {
		r := &store.SavedReport{Name: "x", Entity: store.EntOpportunities}
		wantCode(t, s.SaveReport(ctx, marta, r), store.CodeForbidden)
	})
	t.Run("date buckets, two groups and sorting by label", func(t *testing.T) {
		r := &store.SavedReport{Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "created_at", Bucket: "year"}, {Field: "stage"}},
			Measures: []store.Measure{{Op: "avg", Field: "amount"}, {Op: "max", Field: "amount"}}, Sort: "-label", Chart: "stacked_bar"}
		res, err := s.RunSavedReport(ctx, admin, r, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		year := time.Now().UTC().Format("2006")
		if len(res.Rows) != 2 || res.Rows[0][0] != year || res.Rows[0][1] != "proposal" || res.Rows[0][2] != 8500.0/3 || res.Rows[0][3] != 7000.0 {
			t.Fatalf("rows %v", res.Rows)
		}
	})
	t.Run("copying a standard report", func(t *testing.T) {
		r, ok := store.CopyStandardReport("pipeline")
		if !ok || r.Entity != store.EntOpportunities || r.Chart != "funnel" {
			t.Fatalf("copy pipeline: %+v %v", r, ok)
		}
		if _, err := s.RunSavedReport(ctx, admin, r, nil); err != nil {
			t.Fatal(err)
		}
		if _, ok := store.CopyStandardReport("adoption"); ok {
			t.Fatal("adoption cannot be expressed by the engine")
		}
	})
}

func TestStore_Dashboard(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	marc := mustUser(t, s, admin, "marc@example.com", "salesperson")
	agent := mustUser(t, s, admin, "sat@example.com", "service_agent")
	marta := mustUser(t, s, admin, "marta@example.com", "marketing")
	refs := func(ws []store.Widget) string {
		var out []string
		for _, w := range ws {
			out = append(out, w.Ref)
		}
		return strings.Join(out, ",")
	}
	t.Run("defaults by role", func(t *testing.T) {
		for _, c := range []struct {
			a    *store.Actor
			want string
		}{
			{marc, "pipeline,tasks_today,goals,stalled_opportunities"},
			{admin, "pipeline,forecast,activities,lead_sources"},
			{agent, "open_cases,overdue_cases,cases"},
			{marta, "lead_sources,lead_lifecycle"},
		} {
			ws, def, err := s.Dashboard(ctx, c.a)
			if err != nil || !def || refs(ws) != c.want {
				t.Errorf("%s: %s %v %v, want %s", c.a.RoleKey, refs(ws), def, err, c.want)
			}
		}
	})
	t.Run("add, reorder and remove", func(t *testing.T) {
		ws, _, _ := s.Dashboard(ctx, marc)
		ws = append(ws, store.Widget{Kind: "standard", Ref: "activities", Params: "period=yesterday&by=type"})
		ws[0], ws[1] = ws[1], ws[0]
		ws = append(ws[:2], ws[3:]...)
		if err := s.SaveDashboard(ctx, marc, ws); err != nil {
			t.Fatal(err)
		}
		got, def, _ := s.Dashboard(ctx, marc)
		if def || refs(got) != "tasks_today,pipeline,stalled_opportunities,activities" || got[3].Params != "period=yesterday&by=type" {
			t.Fatalf("got %v default %v", got, def)
		}
		if other, _, _ := s.Dashboard(ctx, admin); refs(other) != "pipeline,forecast,activities,lead_sources" {
			t.Fatalf("admin's dashboard changed: %s", refs(other))
		}
	})
	t.Run("refused widgets change nothing", func(t *testing.T) {
		for name, w := range map[string]store.Widget{
			"unknown report":          {Kind: "standard", Ref: "horoscope"},
			"not allowed to the role": {Kind: "list", Ref: "open_cases"},
			"bad period":              {Kind: "standard", Ref: "pipeline", Params: "period=someday"},
			"missing saved report":    {Kind: "saved", Ref: "999"},
			"unknown kind":            {Kind: "iframe", Ref: "x"},
		} {
			err := s.SaveDashboard(ctx, marc, []store.Widget{w})
			if store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		if got, _, _ := s.Dashboard(ctx, marc); len(got) != 4 {
			t.Fatalf("dashboard changed to %v", got)
		}
	})
	t.Run("reset goes back to the role's default", func(t *testing.T) {
		if err := s.SaveDashboard(ctx, marc, nil); err != nil {
			t.Fatal(err)
		}
		if _, def, _ := s.Dashboard(ctx, marc); !def {
			t.Fatal("not back to default")
		}
	})
	t.Run("list widgets", func(t *testing.T) {
		now := time.Now()
		for i, due := range []time.Duration{-48 * time.Hour, 0, 72 * time.Hour} {
			if _, err := s.CreateRecord(ctx, marc, store.EntTasks, store.Input{Values: map[string]any{"title": "T" + string(rune('0'+i)), "due_at": now.Add(due).Format(time.RFC3339)}}); err != nil {
				t.Fatal(err)
			}
		}
		items, err := s.WidgetList(ctx, marc, "tasks_today", now.Add(time.Minute), time.Local, 10)
		if err != nil || len(items) != 2 || !items[0].Overdue || items[1].Overdue {
			t.Fatalf("tasks today: %+v %v", items, err)
		}
		if _, err := s.CreateRecord(ctx, agent, store.EntCases, store.Input{Values: map[string]any{"subject": "Forn", "priority": "urgent"}}); err != nil {
			t.Fatal(err)
		}
		open, _ := s.WidgetList(ctx, agent, "open_cases", now, time.UTC, 10)
		late, _ := s.WidgetList(ctx, agent, "overdue_cases", now, time.UTC, 10)
		later, _ := s.WidgetList(ctx, agent, "overdue_cases", now.AddDate(0, 0, store.OverdueCaseDays+1), time.UTC, 10)
		if len(open) != 1 || len(late) != 0 || len(later) != 1 {
			t.Fatalf("open %d, overdue now %d, overdue later %d", len(open), len(late), len(later))
		}
		_, err = s.WidgetList(ctx, marta, "tasks_today", now, time.UTC, 10)
		wantCode(t, err, store.CodeForbidden)
	})
	t.Run("relative periods", func(t *testing.T) {
		loc, _ := time.LoadLocation("Europe/Madrid")
		now := time.Date(2026, 11, 25, 8, 0, 0, 0, loc) // a Wednesday
		for period, want := range map[string]string{
			"yesterday": "2026-11-24 2026-11-25", "today": "2026-11-25 2026-11-26", "last_week": "2026-11-16 2026-11-23",
			"this_week": "2026-11-23 2026-11-30", "last_month": "2026-10-01 2026-11-01", "this_month": "2026-11-01 2026-12-01",
		} {
			p, err := store.WidgetParams(map[string][]string{"period": {period}}, now, loc)
			if got := p.From.Format(time.DateOnly) + " " + p.To.Format(time.DateOnly); err != nil || got != want {
				t.Errorf("%s: %s %v, want %s", period, got, err, want)
			}
		}
	})
}

func TestStore_ReportSchedules(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	madrid, _ := time.LoadLocation("Europe/Madrid")
	clock.t = time.Date(2026, 11, 23, 7, 0, 0, 0, madrid) // a Monday
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now})
	admin := mustSetup(t, s)
	marc := mustUser(t, s, admin, "marc@example.com", "salesperson")
	mustUser(t, s, admin, "pere@example.com", "salesperson")
	t.Run("slots", func(t *testing.T) {
		at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, madrid) }
		for _, c := range []struct {
			sc   store.ReportSchedule
			now  time.Time
			want string
		}{
			{store.ReportSchedule{Frequency: "daily", AtTime: "08:00"}, at(23, 7), "2026-11-22T08:00"},
			{store.ReportSchedule{Frequency: "daily", AtTime: "08:00"}, at(23, 8), "2026-11-23T08:00"},
			{store.ReportSchedule{Frequency: "weekly", AtTime: "08:00", Weekday: 1}, at(23, 9), "2026-11-23T08:00"},
			{store.ReportSchedule{Frequency: "weekly", AtTime: "08:00", Weekday: 1}, at(23, 7), "2026-11-16T08:00"},
			{store.ReportSchedule{Frequency: "weekly", AtTime: "18:30", Weekday: 5}, at(23, 9), "2026-11-20T18:30"},
			{store.ReportSchedule{Frequency: "monthly", AtTime: "08:00", Monthday: 31}, at(23, 9), "2026-10-31T08:00"},
			{store.ReportSchedule{Frequency: "monthly", AtTime: "08:00", Monthday: 1}, at(23, 9), "2026-11-01T08:00"},
			{store.ReportSchedule{Frequency: "monthly", AtTime: "08:00", Monthday: 31}, time.Date(2026, 12, 1, 9, 0, 0, 0, madrid), "2026-11-30T08:00"},
		} {
			if got := c.sc.Slot(c.now, madrid).Format("2006-01-02T15:04"); got != c.want {
				t.Errorf("%+v at %v: %s, want %s", c.sc, c.now, got, c.want)
			}
		}
	})
	list, err := s.FindReportSchedules(ctx, admin)
	if err != nil || len(list) != 2 || list[0].Builtin != "daily_sales" || list[1].Builtin != "weekly_team" || list[0].Enabled {
		t.Fatalf("built-in schedules: %+v %v", list, err)
	}
	daily := list[0]
	t.Run("only automation admins manage schedules", func(t *testing.T) {
		_, err := s.FindReportSchedules(ctx, marc)
		wantCode(t, err, store.CodeForbidden)
		wantCode(t, s.DeleteReportSchedule(ctx, admin, daily.ID), store.CodeConflict)
	})
	t.Run("bad input is refused", func(t *testing.T) {
		for field, sc := range map[string]*store.ReportSchedule{
			"frequency":  {Name: "x", Frequency: "hourly", AtTime: "08:00", Monthday: 1, Dashboard: true, ToRoles: []string{"admin"}},
			"at_time":    {Name: "x", Frequency: "daily", AtTime: "25:00", Monthday: 1, Dashboard: true, ToRoles: []string{"admin"}},
			"recipients": {Name: "x", Frequency: "daily", AtTime: "08:00", Monthday: 1, Dashboard: true},
			"widgets":    {Name: "x", Frequency: "daily", AtTime: "08:00", Monthday: 1, ToRoles: []string{"admin"}},
			"to_roles":   {Name: "x", Frequency: "daily", AtTime: "08:00", Monthday: 1, Dashboard: true, ToRoles: []string{"astronaut"}},
		} {
			err := s.SaveReportSchedule(ctx, admin, sc)
			wantCode(t, err, store.CodeInvalid)
			wantField(t, err, field)
		}
	})
	t.Run("due once per slot, missed slots only the same day", func(t *testing.T) {
		daily.Enabled = true
		if err := s.SaveReportSchedule(ctx, admin, daily); err != nil {
			t.Fatal(err)
		}
		due := func(now time.Time) []*store.ReportRun {
			runs, err := s.DueReportRuns(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			return runs
		}
		if r := due(clock.Now()); len(r) != 0 {
			t.Fatalf("due before 08:00: %+v", r[0])
		}
		runs := due(clock.Now().Add(time.Hour))
		if len(runs) != 1 || runs[0].Slot != "2026-11-23T08:00" || len(runs[0].Recipients) != 2 {
			t.Fatalf("runs at 08:00: %+v", runs)
		}
		run := runs[0]
		mail := func(u *store.Actor) store.OutgoingEmail {
			return store.OutgoingEmail{Key: store.ReportEmailKey(run.Schedule.ID, run.Slot, u.UserID), To: u.Email, Subject: "Resum", Text: "…"}
		}
		n, err := s.CompleteReportRun(ctx, run, []store.OutgoingEmail{mail(run.Recipients[0]), mail(run.Recipients[1])})
		if err != nil || n != 2 {
			t.Fatalf("queued %d, %v", n, err)
		}
		// Completing the same slot again (a second pass that rendered
		// before the first committed) queues nothing.
		if n, err := s.CompleteReportRun(ctx, run, []store.OutgoingEmail{mail(run.Recipients[0])}); err != nil || n != 0 {
			t.Fatalf("second completion queued %d, %v", n, err)
		}
		if r := due(clock.Now().Add(3 * time.Hour)); len(r) != 0 {
			t.Fatal("the sent slot is due again")
		}
		// Stopped all of the 24th: on the 25th at 07:00 yesterday's slot
		// is not sent late; at 10:00 today's is sent once.
		if r := due(time.Date(2026, 11, 25, 7, 0, 0, 0, madrid)); len(r) != 0 {
			t.Fatalf("a previous day's slot is due: %s", r[0].Slot)
		}
		if r := due(time.Date(2026, 11, 25, 10, 0, 0, 0, madrid)); len(r) != 1 || r[0].Slot != "2026-11-25T08:00" {
			t.Fatalf("missed slot of the day: %+v", r)
		}
		msgs, _ := s.FindOutbox(ctx, admin, store.OutboxFilter{})
		if len(msgs) != 2 {
			t.Fatalf("outbox has %d messages", len(msgs))
		}
	})
	t.Run("a schedule enabled after its time starts with the next slot", func(t *testing.T) {
		sc := &store.ReportSchedule{Name: "Tauler", Dashboard: true, Frequency: "daily", AtTime: "06:00", Monthday: 1, ToUsers: []int64{marc.UserID}, Enabled: true}
		if err := s.SaveReportSchedule(ctx, admin, sc); err != nil {
			t.Fatal(err)
		}
		runs, _ := s.DueReportRuns(ctx, clock.Now().Add(time.Hour))
		for _, r := range runs {
			if r.Schedule.ID == sc.ID {
				t.Fatal("a slot before the schedule existed is due")
			}
		}
	})
}
