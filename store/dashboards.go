package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds home dashboards (issue 8): each user's list of report
// widgets, defaulting by role until they change it, and the few list
// widgets that are not reports (today's tasks, open and overdue cases).

// Widget is one panel of a dashboard or of a scheduled e-mail: a standard
// report with its filters, a saved report, or a list.
type Widget struct {
	// Kind is standard, saved or list.
	Kind string `json:"kind"`
	// Ref is the standard report's key, the saved report's id, or the
	// list's key (ListWidgets).
	Ref string `json:"ref"`
	// Params are a standard report's filters as a query string (the
	// report page's URL query), plus period=today|yesterday|this_week|
	// last_week|this_month|last_month for periods relative to the day.
	Params string `json:"params,omitempty"`
}

// ListWidgets are the widgets that list records rather than run a report.
var ListWidgets = []string{"tasks_today", "open_cases", "overdue_cases"}

// RelativePeriods are the periods a widget may name instead of dates.
var RelativePeriods = []string{"today", "yesterday", "this_week", "last_week", "this_month", "last_month"}

// OverdueCaseDays is the age after which an open case counts as overdue
// on the service agent's dashboard.
const OverdueCaseDays = 3

// maxWidgets bounds a dashboard.
const maxWidgets = 12

// DefaultDashboard is a role's dashboard for users who have not changed
// theirs: salespeople see their own pipeline, tasks, goals and stalled
// deals; service agents their cases; marketing lead sources; everyone else
// (administrators, managers) the team's pipeline, forecast, activity by
// user and lead sources.
func DefaultDashboard(a *Actor) []Widget {
	var ws []Widget
	switch a.RoleKey {
	case "salesperson":
		ws = []Widget{{Kind: "standard", Ref: "pipeline"}, {Kind: "list", Ref: "tasks_today"},
			{Kind: "standard", Ref: "goals"}, {Kind: "standard", Ref: "stalled_opportunities"}}
	case "service_agent":
		ws = []Widget{{Kind: "list", Ref: "open_cases"}, {Kind: "list", Ref: "overdue_cases"}, {Kind: "standard", Ref: "cases", Params: "by=status"}}
	case "marketing":
		ws = []Widget{{Kind: "standard", Ref: "lead_sources"}, {Kind: "standard", Ref: "lead_lifecycle"}}
	default:
		ws = []Widget{{Kind: "standard", Ref: "pipeline"}, {Kind: "standard", Ref: "forecast"},
			{Kind: "standard", Ref: "activities", Params: "by=owner"}, {Kind: "standard", Ref: "lead_sources"}}
	}
	// Keep only what the role may open.
	out := ws[:0]
	for _, w := range ws {
		if WidgetAllowed(a, w) {
			out = append(out, w)
		}
	}
	return out
}

// WidgetAllowed says whether an actor may see a widget at all, so editors offer only those.
func WidgetAllowed(a *Actor, w Widget) bool {
	switch w.Kind {
	case "standard":
		def, ok := FindStandardReport(w.Ref)
		return ok && StandardReportVisible(a, def)
	case "saved":
		return a.Can(EntReports, ActView)
	case "list":
		switch w.Ref {
		case "tasks_today":
			return a.Can(EntTasks, ActView)
		case "open_cases", "overdue_cases":
			return a.Can(EntCases, ActView)
		}
	}
	return false
}

// validateWidget checks one widget's kind, reference and parameters.
func validateWidget(w Widget) string {
	switch w.Kind {
	case "standard":
		def, ok := FindStandardReport(w.Ref)
		if !ok || !def.Available {
			return "error.option"
		}
	case "saved":
		if id, err := strconv.ParseInt(w.Ref, 10, 64); err != nil || id <= 0 {
			return "error.invalid"
		}
	case "list":
		if !slices.Contains(ListWidgets, w.Ref) {
			return "error.option"
		}
	default:
		return "error.option"
	}
	if len(w.Params) > 1000 {
		return "error.too_long"
	}
	q, err := url.ParseQuery(w.Params)
	if err != nil {
		return "error.invalid"
	}
	if p := q.Get("period"); p != "" && !slices.Contains(RelativePeriods, p) {
		return "error.option"
	}
	return ""
}

// Dashboard returns the actor's widgets and whether they are the role's
// default (the user never changed them).
func (s *Store) Dashboard(ctx context.Context, a *Actor) ([]Widget, bool, error) {
	if err := requireUser(a); err != nil {
		return nil, false, err
	}
	var raw string
	none := false
	err := s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT widgets FROM dashboards WHERE user_id = ?`, a.UserID).Scan(&raw)
		if err == sql.ErrNoRows {
			none = true
			return nil
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if none {
		return DefaultDashboard(a), true, nil
	}
	var ws []Widget
	if err := json.Unmarshal([]byte(raw), &ws); err != nil {
		return nil, false, err
	}
	return ws, false, nil
}

// SaveDashboard replaces the actor's widgets (in order); nil goes back to
// the role's default.
func (s *Store) SaveDashboard(ctx context.Context, a *Actor, ws []Widget) error {
	if err := requireUser(a); err != nil {
		return err
	}
	if len(ws) > maxWidgets {
		return errInvalid(map[string]string{"widgets": "error.too_many_widgets"})
	}
	fe := fieldErrors{}
	for i, w := range ws {
		if k := validateWidget(w); k != "" {
			fe.add("widgets."+strconv.Itoa(i), k)
		} else if !WidgetAllowed(a, w) {
			fe.add("widgets."+strconv.Itoa(i), "error.forbidden")
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, w := range ws {
			if w.Kind != "saved" {
				continue
			}
			id, _ := strconv.ParseInt(w.Ref, 10, 64)
			r, err := getSavedReport(ctx, tx, id)
			if err != nil || !savedReportVisible(a, r) {
				return errInvalid(map[string]string{"widgets": "error.not_found"})
			}
		}
		if ws == nil {
			_, err := execTx(ctx, tx, `DELETE FROM dashboards WHERE user_id = ?`, a.UserID)
			return err
		}
		b, _ := json.Marshal(ws)
		_, err := execTx(ctx, tx, `INSERT INTO dashboards (user_id, widgets, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET widgets = excluded.widgets, updated_at = excluded.updated_at`, a.UserID, string(b), s.nowMS())
		return err
	})
}

// WidgetParams turns a widget's query string into a standard report's
// parameters: the report page's filters, and a relative period resolved
// against now in loc (so "yesterday" in an 08:00 e-mail is yesterday).
func WidgetParams(q url.Values, now time.Time, loc *time.Location) (ReportParams, error) {
	if loc == nil {
		loc = time.UTC
	}
	p := ReportParams{Pipeline: q.Get("pipeline"), By: q.Get("by"), Bucket: q.Get("bucket"), Quarter: q.Get("quarter")}
	p.OwnerID, _ = strconv.ParseInt(q.Get("owner_id"), 10, 64)
	p.TeamID, _ = strconv.ParseInt(q.Get("team_id"), 10, 64)
	fe := fieldErrors{}
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fe.add("days", "error.invalid")
		}
		p.Days = n
	}
	day := midnight(now.In(loc))
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	month := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
	switch q.Get("period") {
	case "":
	case "today":
		p.From, p.To = day, day.AddDate(0, 0, 1)
	case "yesterday":
		p.From, p.To = day.AddDate(0, 0, -1), day
	case "this_week":
		p.From, p.To = monday, monday.AddDate(0, 0, 7)
	case "last_week":
		p.From, p.To = monday.AddDate(0, 0, -7), monday
	case "this_month":
		p.From, p.To = month, month.AddDate(0, 1, 0)
	case "last_month":
		p.From, p.To = month.AddDate(0, -1, 0), month
	default:
		fe.add("period", "error.option")
	}
	for _, k := range []string{"from", "to"} {
		v := strings.TrimSpace(q.Get(k))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			fe.add(k, "error.date")
			continue
		}
		if k == "from" {
			p.From = t
		} else {
			p.To = t.AddDate(0, 0, 1)
		}
	}
	return p, fe.err()
}

// ListItem is one line of a list widget: a record and what to say of it.
type ListItem struct {
	Entity Entity
	ID     int64
	Title  string
	// At is the task's due time or the case's creation time.
	At time.Time
	// Status and Priority are option keys (case status, priority).
	Status   string
	Priority string
	Overdue  bool
}

// WidgetList lists the records of a list widget for the actor, at most
// limit, within their scope: tasks_today (their own open tasks due by the
// end of the day, overdue ones first), open_cases (cases assigned to them
// in an open status, urgent first) and overdue_cases (open cases in their
// scope older than OverdueCaseDays days, oldest first).
func (s *Store) WidgetList(ctx context.Context, a *Actor, key string, now time.Time, loc *time.Location, limit int) ([]ListItem, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	if loc == nil {
		loc = time.UTC
	}
	var q string
	var args []any
	var e Entity
	switch key {
	case "tasks_today":
		e = EntTasks
		if !a.Can(e, ActView) {
			return nil, errForbidden()
		}
		end := midnight(now.In(loc)).AddDate(0, 0, 1)
		q = `SELECT id, title, due_at, status, priority FROM tasks t WHERE t.owner_id = ? AND t.status = 'open' AND t.deleted_at = 0
			AND t.due_at > 0 AND t.due_at < ? ORDER BY t.due_at, t.id LIMIT ?`
		args = []any{a.UserID, ms(end), limit}
	case "open_cases", "overdue_cases":
		e = EntCases
		if !a.Can(e, ActView) {
			return nil, errForbidden()
		}
		var open []string
		for _, o := range s.Schema().Options("case_status") {
			if o.StageKind == "open" {
				open = append(open, o.Key)
			}
		}
		if len(open) == 0 {
			return nil, nil
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(open)), ", ")
		cond, cargs := a.scopeSQL(EntCases, ActView, "t.owner_id")
		for _, k := range open {
			args = append(args, k)
		}
		if key == "open_cases" {
			q = `SELECT id, subject, created_at, status, priority FROM cases t WHERE t.owner_id = ? AND t.deleted_at = 0 AND t.status IN (` + ph + `)
				ORDER BY CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, t.created_at, t.id LIMIT ?`
			args = append([]any{a.UserID}, args...)
			args = append(args, limit)
		} else {
			q = `SELECT id, subject, created_at, status, priority FROM cases t WHERE ` + cond + ` AND t.deleted_at = 0 AND t.status IN (` + ph + `)
				AND t.created_at < ? ORDER BY t.created_at, t.id LIMIT ?`
			args = append(cargs, args...)
			args = append(args, ms(now.AddDate(0, 0, -OverdueCaseDays)), limit)
		}
	default:
		return nil, errNotFound()
	}
	startOfDay := midnight(now.In(loc))
	var out []ListItem
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it := ListItem{Entity: e}
			var at int64
			if err := rows.Scan(&it.ID, &it.Title, &at, &it.Status, &it.Priority); err != nil {
				return err
			}
			it.At = fromMS(at)
			it.Overdue = key == "overdue_cases" || (key == "tasks_today" && it.At.Before(startOfDay))
			out = append(out, it)
		}
		return rows.Err()
	})
	return out, err
}
