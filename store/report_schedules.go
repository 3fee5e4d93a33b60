package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds scheduled report e-mails (issue 8): a dashboard or a
// list of report widgets e-mailed daily, weekly or monthly to users and
// roles. The store decides which slots are due and queues the e-mails
// (rendered by the caller per recipient, with the recipient's own
// permissions and language) into the outbox in one transaction with the
// slot's bookkeeping; each e-mail's idempotency key
// report:{schedule}:{slot}:{user} makes it exactly one outbox row.

// ScheduleFrequencies are how often a schedule sends.
var ScheduleFrequencies = []string{"daily", "weekly", "monthly"}

// ReportSchedule is one scheduled report e-mail.
type ReportSchedule struct {
	ID   int64
	Name string
	// Builtin names a built-in schedule (daily_sales, weekly_team), "" for
	// one an administrator made.
	Builtin string
	// Dashboard sends each recipient their own dashboard; otherwise
	// Widgets are sent.
	Dashboard bool
	Widgets   []Widget
	Frequency string
	// AtTime is the company-local time of day, "HH:MM".
	AtTime string
	// Weekday (0 = Sunday) for weekly schedules; Monthday (1–31, the
	// month's last day when shorter) for monthly ones.
	Weekday  int
	Monthday int
	ToUsers  []int64
	ToRoles  []string
	Enabled  bool
	// LastSlot is the last slot ("2006-01-02T15:04") whose e-mails were
	// queued.
	LastSlot  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// slotLayout writes a slot: its company-local date and time.
const slotLayout = "2006-01-02T15:04"

// Slot returns the schedule's latest slot at or before now, in loc.
func (sc *ReportSchedule) Slot(now time.Time, loc *time.Location) time.Time {
	n := now.In(loc)
	hh, mm := 8, 0
	if t, err := time.Parse("15:04", sc.AtTime); err == nil {
		hh, mm = t.Hour(), t.Minute()
	}
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, loc) }
	switch sc.Frequency {
	case "weekly":
		back := (int(n.Weekday()) - sc.Weekday + 7) % 7
		s := at(n.Year(), n.Month(), n.Day()-back)
		if s.After(n) {
			s = at(n.Year(), n.Month(), n.Day()-back-7)
		}
		return s
	case "monthly":
		day := func(y int, m time.Month) time.Time {
			last := time.Date(y, m+1, 0, 0, 0, 0, 0, loc).Day()
			return at(y, m, min(max(sc.Monthday, 1), last))
		}
		s := day(n.Year(), n.Month())
		if s.After(n) {
			s = day(n.Year(), n.Month()-1)
		}
		return s
	}
	s := at(n.Year(), n.Month(), n.Day())
	if s.After(n) {
		s = at(n.Year(), n.Month(), n.Day()-1)
	}
	return s
}

// validate checks a schedule's fields.
func (sc *ReportSchedule) validate() error {
	fe := fieldErrors{}
	var k string
	if sc.Name, k = cleanText(sc.Name, true, 200); k != "" {
		fe.add("name", k)
	}
	if !slices.Contains(ScheduleFrequencies, sc.Frequency) {
		fe.add("frequency", "error.option")
	}
	if t, err := time.Parse("15:04", sc.AtTime); err != nil {
		fe.add("at_time", "error.invalid")
	} else {
		sc.AtTime = t.Format("15:04")
	}
	if sc.Weekday < 0 || sc.Weekday > 6 {
		fe.add("weekday", "error.option")
	}
	if sc.Monthday < 1 || sc.Monthday > 31 {
		fe.add("monthday", "error.invalid")
	}
	if !sc.Dashboard {
		if len(sc.Widgets) == 0 {
			fe.add("widgets", "error.required")
		}
		if len(sc.Widgets) > maxWidgets {
			fe.add("widgets", "error.too_many_widgets")
		}
		for i, w := range sc.Widgets {
			if k := validateWidget(w); k != "" {
				fe.add("widgets."+strconv.Itoa(i), k)
			}
		}
	}
	if len(sc.ToUsers) == 0 && len(sc.ToRoles) == 0 {
		fe.add("recipients", "error.required")
	}
	return fe.err()
}

func (sc *ReportSchedule) content() string {
	if sc.Dashboard {
		return `"dashboard"`
	}
	b, _ := json.Marshal(sc.Widgets)
	return string(b)
}

const scheduleCols = `id, name, builtin, content, frequency, at_time, weekday, monthday, to_users, to_roles, enabled, last_slot, created_at, updated_at`

func scanSchedule(r rowScanner) (*ReportSchedule, error) {
	sc := &ReportSchedule{}
	var content, users, roles string
	var ca, ua int64
	if err := r.Scan(&sc.ID, &sc.Name, &sc.Builtin, &content, &sc.Frequency, &sc.AtTime, &sc.Weekday, &sc.Monthday, &users, &roles,
		&sc.Enabled, &sc.LastSlot, &ca, &ua); err != nil {
		return nil, err
	}
	if content == `"dashboard"` {
		sc.Dashboard = true
	} else if err := json.Unmarshal([]byte(content), &sc.Widgets); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(users), &sc.ToUsers); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &sc.ToRoles); err != nil {
		return nil, err
	}
	sc.CreatedAt, sc.UpdatedAt = fromMS(ca), fromMS(ua)
	return sc, nil
}

// companyLoc is the company's time zone inside a transaction; ok is false
// before setup.
func companyLoc(ctx context.Context, q querier) (*time.Location, bool, error) {
	var tz string
	err := q.QueryRowContext(ctx, `SELECT timezone FROM company WHERE id = 1`).Scan(&tz)
	if err == sql.ErrNoRows {
		return time.UTC, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	return loc, true, nil
}

// FindReportSchedules lists every schedule (built-in ones first); it needs
// the automation capability.
func (s *Store) FindReportSchedules(ctx context.Context, a *Actor) ([]*ReportSchedule, error) {
	if err := a.require(CapAutomation); err != nil {
		return nil, err
	}
	var out []*ReportSchedule
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+scheduleCols+` FROM report_schedules ORDER BY builtin = '', id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sc, err := scanSchedule(rows)
			if err != nil {
				return err
			}
			out = append(out, sc)
		}
		return rows.Err()
	})
	return out, err
}

// GetReportSchedule returns one schedule; it needs the automation
// capability.
func (s *Store) GetReportSchedule(ctx context.Context, a *Actor, id int64) (*ReportSchedule, error) {
	if err := a.require(CapAutomation); err != nil {
		return nil, err
	}
	var sc *ReportSchedule
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		sc, err = scanSchedule(tx.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM report_schedules WHERE id = ?`, id))
		return err
	})
	return sc, err
}

// SaveReportSchedule creates (ID 0) or updates a schedule; it needs the
// automation capability. A schedule enabled now starts with the next slot:
// a slot already past today is not sent late because of the change.
func (s *Store) SaveReportSchedule(ctx context.Context, a *Actor, sc *ReportSchedule) error {
	if err := a.require(CapAutomation); err != nil {
		return err
	}
	if err := sc.validate(); err != nil {
		return err
	}
	users, _ := json.Marshal(nonNil(sc.ToUsers))
	roles, _ := json.Marshal(nonNil(sc.ToRoles))
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, k := range sc.ToRoles {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM roles WHERE key = ?`, k).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errInvalid(map[string]string{"to_roles": "error.option"})
			}
		}
		for _, id := range sc.ToUsers {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errInvalid(map[string]string{"to_users": "error.option"})
			}
		}
		loc, _, err := companyLoc(ctx, tx)
		if err != nil {
			return err
		}
		current := sc.Slot(s.now(), loc).Format(slotLayout)
		now := s.nowMS()
		if sc.ID == 0 {
			sc.LastSlot = current
			res, err := execTx(ctx, tx, `INSERT INTO report_schedules (name, content, frequency, at_time, weekday, monthday, to_users, to_roles, enabled, last_slot, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				sc.Name, sc.content(), sc.Frequency, sc.AtTime, sc.Weekday, sc.Monthday, string(users), string(roles), sc.Enabled, sc.LastSlot, a.auditUser(), now, now)
			if err != nil {
				return err
			}
			sc.ID, _ = res.LastInsertId()
			return s.audit(ctx, tx, a, "report_schedule.create", "report_schedules", sc.ID, map[string]string{"name": sc.Name})
		}
		old, err := scanSchedule(tx.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM report_schedules WHERE id = ?`, sc.ID))
		if err != nil {
			return err
		}
		sc.Builtin, sc.LastSlot = old.Builtin, old.LastSlot
		if (sc.Enabled && !old.Enabled) || sc.Frequency != old.Frequency || sc.AtTime != old.AtTime || sc.Weekday != old.Weekday || sc.Monthday != old.Monthday {
			sc.LastSlot = max(old.LastSlot, current)
		}
		if _, err := execTx(ctx, tx, `UPDATE report_schedules SET name = ?, content = ?, frequency = ?, at_time = ?, weekday = ?, monthday = ?,
				to_users = ?, to_roles = ?, enabled = ?, last_slot = ?, updated_at = ? WHERE id = ?`,
			sc.Name, sc.content(), sc.Frequency, sc.AtTime, sc.Weekday, sc.Monthday, string(users), string(roles), sc.Enabled, sc.LastSlot, now, sc.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "report_schedule.update", "report_schedules", sc.ID, map[string]any{"name": sc.Name, "enabled": sc.Enabled})
	})
}

// DeleteReportSchedule removes a schedule; built-in ones can only be
// disabled.
func (s *Store) DeleteReportSchedule(ctx context.Context, a *Actor, id int64) error {
	if err := a.require(CapAutomation); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var builtin string
		if err := tx.QueryRowContext(ctx, `SELECT builtin FROM report_schedules WHERE id = ?`, id).Scan(&builtin); err != nil {
			return err
		}
		if builtin != "" {
			return errConflict("schedule.builtin_locked", nil)
		}
		if _, err := execTx(ctx, tx, `DELETE FROM report_schedules WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "report_schedule.delete", "report_schedules", id, nil)
	})
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// ReportRun is one due slot of a schedule: what to send and to whom.
type ReportRun struct {
	Schedule *ReportSchedule
	// Slot is the slot's key ("2006-01-02T15:04", company-local) and At
	// its moment.
	Slot string
	At   time.Time
	// Location is the company's time zone.
	Location   *time.Location
	Recipients []*Actor
}

// DueReportRuns returns the enabled schedules whose latest slot has come
// and was not sent yet, provided the slot is today (company-local): a slot
// missed while Cartera was stopped is sent once on start the same day,
// never on a later day. Recipients are the enabled users named or holding
// a named role, each as the actor whose permissions the report runs with.
func (s *Store) DueReportRuns(ctx context.Context, now time.Time) ([]*ReportRun, error) {
	var runs []*ReportRun
	err := s.read(ctx, func(tx *sql.Tx) error {
		loc, ok, err := companyLoc(ctx, tx)
		if err != nil || !ok {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+scheduleCols+` FROM report_schedules WHERE enabled = 1 ORDER BY id`)
		if err != nil {
			return err
		}
		var due []*ReportSchedule
		for rows.Next() {
			sc, err := scanSchedule(rows)
			if err != nil {
				rows.Close()
				return err
			}
			slot := sc.Slot(now, loc)
			key := slot.Format(slotLayout)
			if key > sc.LastSlot && slot.Format(time.DateOnly) == now.In(loc).Format(time.DateOnly) {
				due = append(due, sc)
				runs = append(runs, &ReportRun{Schedule: sc, Slot: key, At: slot, Location: loc})
			}
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		ids, err := s.scheduleRecipients(ctx, run.Schedule)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			a, err := s.ActorFor(ctx, id)
			if err != nil {
				continue // disabled or gone since
			}
			run.Recipients = append(run.Recipients, a)
		}
	}
	return runs, nil
}

// scheduleRecipients lists the enabled users a schedule goes to.
func (s *Store) scheduleRecipients(ctx context.Context, sc *ReportSchedule) ([]int64, error) {
	var ids []int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		q := `SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id WHERE u.disabled = 0 AND (u.id IN (SELECT value FROM json_each(?)) OR r.key IN (SELECT value FROM json_each(?))) ORDER BY u.id`
		users, _ := json.Marshal(nonNil(sc.ToUsers))
		roles, _ := json.Marshal(nonNil(sc.ToRoles))
		rows, err := tx.QueryContext(ctx, q, string(users), string(roles))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, err
}

// ReportEmailKey is the idempotency key of a slot's e-mail to one user.
func ReportEmailKey(scheduleID int64, slot string, userID int64) string {
	return fmt.Sprintf("report:%d:%s:%d", scheduleID, slot, userID)
}

// CompleteReportRun queues a slot's e-mails (keys from ReportEmailKey, so
// queueing twice queues once) and records the slot as sent, in one
// transaction; a slot already recorded queues nothing. It returns how many
// e-mails were newly queued.
func (s *Store) CompleteReportRun(ctx context.Context, run *ReportRun, emails []OutgoingEmail) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		var last string
		if err := tx.QueryRowContext(ctx, `SELECT last_slot FROM report_schedules WHERE id = ?`, run.Schedule.ID).Scan(&last); err != nil {
			return err
		}
		if last >= run.Slot {
			return nil
		}
		for _, e := range emails {
			if !strings.HasPrefix(e.Key, fmt.Sprintf("report:%d:%s:", run.Schedule.ID, run.Slot)) {
				return errInvalid(map[string]string{"key": "error.invalid"})
			}
			_, created, err := s.enqueueEmail(ctx, tx, SystemActor(), e)
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		_, err := execTx(ctx, tx, `UPDATE report_schedules SET last_slot = ? WHERE id = ?`, run.Slot, run.Schedule.ID)
		return err
	})
	return n, err
}
