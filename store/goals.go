package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds goals (issue 8): a target per user or per team for a
// month, a quarter or a year on one metric. Administrators and managers
// (team or firm scope) set them; everyone sees their own, and with scope
// their team's. Attainment is computed by the goals, forecast and sales
// performance reports (standard_reports.go).

// GoalMetrics are what a goal can measure, in menu order.
var GoalMetrics = []string{"won_amount", "new_clients", "opportunities_created", "activities_logged"}

// GoalPeriods are the lengths a goal can cover, in menu order.
var GoalPeriods = []string{"month", "quarter", "year"}

// Goal is one target with its subject's name, ready to show.
type Goal struct {
	ID       int64
	UserID   int64 // the salesperson, or 0 for a team goal
	UserName string
	TeamID   int64 // the team, or 0 for a user goal
	TeamName string
	Metric   string
	Period   string
	// StartsOn is the first local day of the period, "2026-10-01".
	StartsOn string
	// Label names the period: "2026-11", "2026-Q4" or "2026".
	Label string
	// Target is in the firm's currency for won_amount, a count otherwise.
	Target    float64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Subject names whom the goal is for.
func (g *Goal) Subject() string {
	if g.TeamID != 0 {
		return g.TeamName
	}
	return g.UserName
}

// GoalInput is what a goal form or API call sends; Start is any date or
// label inside the period ("2026-11", "2026-Q4", "2026", "2026-11-15").
type GoalInput struct {
	UserID int64
	TeamID int64
	Metric string
	Period string
	Start  string
	Target float64
}

// GoalFilter narrows a goal list: by subject, and to the goals whose
// period overlaps [From, To) (local dates "YYYY-MM-DD", empty = open).
type GoalFilter struct {
	UserID int64
	TeamID int64
	From   string
	To     string
}

// goalScope is how far an actor sees goals: every goal for the system and
// user administrators, otherwise the wider of their view scopes on
// opportunities and activities (the records goals are measured on).
func goalScope(a *Actor) Scope {
	if a.System || a.Has(CapUsers) {
		return ScopeAll
	}
	sc := a.Permissions.Scope(EntOpportunities, ActView)
	if o := a.Permissions.Scope(EntActivities, ActView); o.rank() > sc.rank() {
		sc = o
	}
	return sc
}

// CanSetGoals reports whether the actor may set goals: administrators of
// users, and managers (team or firm scope on opportunities or activities,
// with the right to edit them at that scope); the UI shows the editor only
// to them.
func CanSetGoals(a *Actor) bool {
	if a == nil {
		return false
	}
	if a.System || a.Has(CapUsers) {
		return true
	}
	for _, e := range []Entity{EntOpportunities, EntActivities} {
		if a.Permissions.Scope(e, ActView).rank() >= ScopeTeam.rank() && a.Permissions.Scope(e, ActEdit).rank() >= ScopeTeam.rank() {
			return true
		}
	}
	return false
}

// goalVisibleSQL restricts goals (alias g) to those the actor may see.
func goalVisibleSQL(a *Actor) (string, []any) {
	switch goalScope(a) {
	case ScopeAll:
		return "1=1", nil
	case ScopeTeam:
		if a.TeamID != 0 {
			return "(g.user_id = ? OR g.user_id IN (SELECT id FROM users WHERE team_id = ?) OR g.team_id = ?)", []any{a.UserID, a.TeamID, a.TeamID}
		}
		return "g.user_id = ?", []any{a.UserID}
	case ScopeOwn:
		return "g.user_id = ?", []any{a.UserID}
	}
	return "0=1", nil
}

// mayManageGoal reports whether the actor may set a goal for this subject
// (userTeam is the team of the user the goal is for).
func mayManageGoal(a *Actor, userID, userTeam, teamID int64) bool {
	if !CanSetGoals(a) {
		return false
	}
	if a.System || a.Has(CapUsers) || goalScope(a) == ScopeAll {
		return true
	}
	if teamID != 0 {
		return a.TeamID != 0 && teamID == a.TeamID
	}
	return userID == a.UserID || (a.TeamID != 0 && userTeam == a.TeamID)
}

// goalPeriod resolves a period kind and any date or label inside it to
// the period's first day, its label, and the first day after it.
func goalPeriod(period, start string) (first, label, next string, ok bool) {
	start = strings.TrimSpace(start)
	var y, m int
	switch {
	case len(start) == 4:
		v, err := strconv.Atoi(start)
		if err != nil {
			return
		}
		y, m = v, 1
	case len(start) == 7 && (start[5] == 'Q' || start[5] == 'q'):
		v, err := strconv.Atoi(start[:4])
		q, err2 := strconv.Atoi(start[6:])
		if err != nil || err2 != nil || q < 1 || q > 4 || start[4] != '-' {
			return
		}
		y, m = v, (q-1)*3+1
	case len(start) == 7 || len(start) == 10:
		layout := "2006-01-02"
		if len(start) == 7 {
			layout = "2006-01"
		}
		t, err := time.Parse(layout, start)
		if err != nil {
			return
		}
		y, m = t.Year(), int(t.Month())
	default:
		return
	}
	if y < 2000 || y > 2200 {
		return
	}
	var f, n time.Time
	switch period {
	case "month":
		f = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		n = f.AddDate(0, 1, 0)
		label = f.Format("2006-01")
	case "quarter":
		q := (m-1)/3 + 1
		f = time.Date(y, time.Month((q-1)*3+1), 1, 0, 0, 0, 0, time.UTC)
		n = f.AddDate(0, 3, 0)
		label = fmt.Sprintf("%d-Q%d", y, q)
	case "year":
		f = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		n = f.AddDate(1, 0, 0)
		label = strconv.Itoa(y)
	default:
		return
	}
	return f.Format("2006-01-02"), label, n.Format("2006-01-02"), true
}

// goalEnd returns the first day after a goal's period.
func goalEnd(period, startsOn string) string {
	_, _, n, _ := goalPeriod(period, startsOn)
	return n
}

const goalSelect = `SELECT g.id, COALESCE(g.user_id, 0), COALESCE(u.name, ''), COALESCE(g.team_id, 0), COALESCE(tm.name, ''),
	g.metric, g.period, g.starts_on, g.target, g.created_at, g.updated_at
	FROM goals g LEFT JOIN users u ON u.id = g.user_id LEFT JOIN teams tm ON tm.id = g.team_id`

func scanGoal(rows interface{ Scan(...any) error }) (*Goal, error) {
	g := &Goal{}
	var target, ca, ua int64
	if err := rows.Scan(&g.ID, &g.UserID, &g.UserName, &g.TeamID, &g.TeamName, &g.Metric, &g.Period, &g.StartsOn, &target, &ca, &ua); err != nil {
		return nil, err
	}
	g.Target = float64(target)
	if g.Metric == "won_amount" {
		g.Target /= 100
	}
	_, g.Label, _, _ = goalPeriod(g.Period, g.StartsOn)
	g.CreatedAt, g.UpdatedAt = fromMS(ca), fromMS(ua)
	return g, nil
}

// findGoals lists the visible goals matching f inside the caller's
// transaction, ordered by period then subject.
func findGoals(ctx context.Context, q querier, a *Actor, f GoalFilter) ([]*Goal, error) {
	cond, args := goalVisibleSQL(a)
	w := []string{cond}
	if f.UserID != 0 {
		w = append(w, "g.user_id = ?")
		args = append(args, f.UserID)
	}
	if f.TeamID != 0 {
		w = append(w, "(g.team_id = ? OR g.user_id IN (SELECT id FROM users WHERE team_id = ?))")
		args = append(args, f.TeamID, f.TeamID)
	}
	if f.To != "" {
		w = append(w, "g.starts_on < ?")
		args = append(args, f.To)
	}
	if f.From != "" {
		// A period overlaps [From, To) when it ends after From; a year
		// starts at most a year before From.
		from, _ := time.Parse("2006-01-02", f.From)
		w = append(w, "g.starts_on >= ?")
		args = append(args, from.AddDate(-1, 0, 1).Format("2006-01-02"))
	}
	rows, err := q.QueryContext(ctx, goalSelect+" WHERE "+strings.Join(w, " AND ")+" ORDER BY g.starts_on, g.period, COALESCE(u.name, tm.name), g.metric LIMIT 2000", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Goal
	for rows.Next() {
		g, err := scanGoal(rows)
		if err != nil {
			return nil, err
		}
		if f.From != "" && goalEnd(g.Period, g.StartsOn) <= f.From {
			continue
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// FindGoals lists the goals the actor may see, so people follow their own
// targets and managers their team's.
func (s *Store) FindGoals(ctx context.Context, a *Actor, f GoalFilter) ([]*Goal, error) {
	var out []*Goal
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = findGoals(ctx, tx, a, f)
		return err
	})
	return out, err
}

// FindGoal returns one visible goal, for its edit form.
func (s *Store) FindGoal(ctx context.Context, a *Actor, id int64) (*Goal, error) {
	var g *Goal
	err := s.read(ctx, func(tx *sql.Tx) error {
		cond, args := goalVisibleSQL(a)
		var err error
		g, err = scanGoal(tx.QueryRowContext(ctx, goalSelect+" WHERE g.id = ? AND "+cond, append([]any{id}, args...)...))
		return err
	})
	return g, err
}

// SaveGoal creates (id 0) or changes a goal; only administrators and
// managers may, and managers only for their team and its members.
func (s *Store) SaveGoal(ctx context.Context, a *Actor, id int64, in GoalInput) (*Goal, error) {
	if !CanSetGoals(a) {
		return nil, errForbidden()
	}
	fe := fieldErrors{}
	if (in.UserID == 0) == (in.TeamID == 0) {
		fe.add("subject", "error.required")
	}
	if !slices.Contains(GoalMetrics, in.Metric) {
		fe.add("metric", "error.option")
	}
	first, _, _, ok := goalPeriod(in.Period, in.Start)
	if !slices.Contains(GoalPeriods, in.Period) {
		fe.add("period", "error.option")
	} else if !ok {
		fe.add("start", "error.invalid")
	}
	if in.Target < 0 || in.Target > 1e13 || math.IsNaN(in.Target) {
		fe.add("target", "error.invalid")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	target := int64(math.Round(in.Target))
	if in.Metric == "won_amount" {
		target = int64(math.Round(in.Target * 100))
	}
	now := s.nowMS()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var userTeam int64
		if in.UserID != 0 {
			var team sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT team_id FROM users WHERE id = ?`, in.UserID).Scan(&team); err != nil {
				if err == sql.ErrNoRows {
					return errInvalid(map[string]string{"user_id": "error.not_found"})
				}
				return err
			}
			userTeam = team.Int64
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM teams WHERE id = ?`, in.TeamID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errInvalid(map[string]string{"team_id": "error.not_found"})
			}
		}
		if !mayManageGoal(a, in.UserID, userTeam, in.TeamID) {
			return errForbidden()
		}
		user, team := sql.NullInt64{Int64: in.UserID, Valid: in.UserID != 0}, sql.NullInt64{Int64: in.TeamID, Valid: in.TeamID != 0}
		action := "goal.create"
		if id == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO goals (user_id, team_id, metric, period, starts_on, target, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				user, team, in.Metric, in.Period, first, target, a.auditUser(), now, now)
			if err != nil {
				if isUniqueViolation(err) {
					return errConflict("error.goal_exists", map[string]string{"start": "error.goal_exists"})
				}
				return err
			}
			id, _ = res.LastInsertId()
		} else {
			action = "goal.update"
			cur, err := scanGoal(tx.QueryRowContext(ctx, goalSelect+" WHERE g.id = ?", id))
			if err != nil {
				return err
			}
			var curTeam sql.NullInt64
			if cur.UserID != 0 {
				tx.QueryRowContext(ctx, `SELECT team_id FROM users WHERE id = ?`, cur.UserID).Scan(&curTeam)
			}
			if !mayManageGoal(a, cur.UserID, curTeam.Int64, cur.TeamID) {
				return errNotFound()
			}
			if _, err := tx.ExecContext(ctx, `UPDATE goals SET user_id = ?, team_id = ?, metric = ?, period = ?, starts_on = ?, target = ?, updated_at = ? WHERE id = ?`,
				user, team, in.Metric, in.Period, first, target, now, id); err != nil {
				if isUniqueViolation(err) {
					return errConflict("error.goal_exists", map[string]string{"start": "error.goal_exists"})
				}
				return err
			}
		}
		return s.audit(ctx, tx, a, action, "goals", id, map[string]any{"user_id": in.UserID, "team_id": in.TeamID, "metric": in.Metric, "period": in.Period, "starts_on": first, "target": target})
	})
	if err != nil {
		return nil, err
	}
	return s.FindGoal(ctx, a, id)
}

// DeleteGoal removes a goal the actor may manage.
func (s *Store) DeleteGoal(ctx context.Context, a *Actor, id int64) error {
	if !CanSetGoals(a) {
		return errForbidden()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanGoal(tx.QueryRowContext(ctx, goalSelect+" WHERE g.id = ?", id))
		if err != nil {
			return err
		}
		var curTeam sql.NullInt64
		if cur.UserID != 0 {
			tx.QueryRowContext(ctx, `SELECT team_id FROM users WHERE id = ?`, cur.UserID).Scan(&curTeam)
		}
		if !mayManageGoal(a, cur.UserID, curTeam.Int64, cur.TeamID) {
			return errNotFound()
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM goals WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "goal.delete", "goals", id, map[string]any{"metric": cur.Metric, "starts_on": cur.StartsOn})
	})
}
