package store

import (
	"context"
	"database/sql"
	"sort"
	"time"
)

// CalendarTypes are the activity types the calendar shows: the ones that
// are appointments, not records of a message.
var CalendarTypes = []string{"meeting", "visit", "call"}

// calendarLimit bounds the items one calendar query returns per kind, so a
// busy team's month never costs more than a page.
const calendarLimit = 2000

// CalendarItem is a task (at its due time) or an appointment activity (at
// its time) as the calendar and the iCalendar feed show it.
type CalendarItem struct {
	Entity      Entity // EntTasks or EntActivities
	ID          int64
	Title       string
	Type        string // the activity type; "task" for tasks
	Status      string // a task's status
	Description string
	At          time.Time
	OwnerID     int64
	OwnerName   string
	Version     int64
	UpdatedAt   time.Time
	// Editable says whether the actor may reschedule it.
	Editable bool
}

// CalendarQuery chooses a calendar's period and people.
type CalendarQuery struct {
	From, To time.Time
	// Team widens "my items" to those of everyone in the actor's team
	// (still within the actor's view scope).
	Team bool
}

// Calendar returns the actor's (or their team's) tasks due and appointment
// activities happening in [From, To), in time order, within view scope.
func (s *Store) Calendar(ctx context.Context, a *Actor, q CalendarQuery) ([]CalendarItem, error) {
	if a == nil || a.UserID == 0 {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	if q.From.IsZero() || !q.To.After(q.From) || q.To.Sub(q.From) > 800*24*time.Hour {
		return nil, errInvalid(map[string]string{"from": "error.invalid"})
	}
	who := "t.owner_id = ?"
	whoArgs := []any{a.UserID}
	if q.Team && a.TeamID != 0 {
		who = "(t.owner_id = ? OR t.owner_id IN (SELECT id FROM users WHERE team_id = ?))"
		whoArgs = append(whoArgs, a.TeamID)
	}
	var out []CalendarItem
	err := s.read(ctx, func(tx *sql.Tx) error {
		run := func(e Entity, query string, args ...any) error {
			if !a.Can(e, ActView) {
				return nil
			}
			cond, sargs := a.scopeSQL(e, ActView, "t.owner_id")
			args = append(args, sargs...)
			args = append(args, whoArgs...)
			rows, err := tx.QueryContext(ctx, query+" AND "+cond+" AND "+who+" ORDER BY 3 LIMIT ?", append(args, calendarLimit)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				it := CalendarItem{Entity: e}
				var at, upd, team int64
				if err := rows.Scan(&it.ID, &it.Title, &at, &it.Type, &it.Status, &it.Description, &it.OwnerID, &it.OwnerName, &team, &it.Version, &upd); err != nil {
					return err
				}
				it.At, it.UpdatedAt = fromMS(at), fromMS(upd)
				it.Editable = a.inScope(e, ActEdit, it.OwnerID, team)
				out = append(out, it)
			}
			return rows.Err()
		}
		if err := run(EntTasks, `SELECT t.id, t.title, t.due_at, 'task', t.status, t.description, t.owner_id, COALESCE(u.name, ''), COALESCE(u.team_id, 0), t.version, t.updated_at
			FROM tasks t LEFT JOIN users u ON u.id = t.owner_id WHERE t.deleted_at = 0 AND t.due_at >= ? AND t.due_at < ?`, ms(q.From), ms(q.To)); err != nil {
			return err
		}
		return run(EntActivities, `SELECT t.id, t.subject, t.occurred_at, t.type, '', t.description, t.owner_id, COALESCE(u.name, ''), COALESCE(u.team_id, 0), t.version, t.updated_at
			FROM activities t LEFT JOIN users u ON u.id = t.owner_id WHERE t.deleted_at = 0 AND t.type IN ('meeting', 'visit', 'call') AND t.occurred_at >= ? AND t.occurred_at < ?`, ms(q.From), ms(q.To))
	})
	if err != nil {
		return nil, err
	}
	sortCalendar(out)
	return out, nil
}

// sortCalendar orders items by time, tasks before activities at the same
// time, then by id, so pages and feeds are stable.
func sortCalendar(items []CalendarItem) {
	less := func(x, y CalendarItem) bool {
		if !x.At.Equal(y.At) {
			return x.At.Before(y.At)
		}
		if x.Entity != y.Entity {
			return x.Entity == EntTasks
		}
		return x.ID < y.ID
	}
	sort.SliceStable(items, func(i, j int) bool { return less(items[i], items[j]) })
}
