package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds customer service: the working hours and SLA targets,
// team queues with round-robin assignment, the SLA due times of cases and
// their first response. E-mail to case is in case_email.go, the
// satisfaction survey in survey.go.

// CaseQueueList is the picklist of a case's queue: one option per team,
// keyed by the team id, built from the teams table with the schema.
const CaseQueueList = "case_queue"

// The assignment modes of a queue.
const (
	AssignManual     = "manual"
	AssignRoundRobin = "round_robin"
)

// The SLA states a case list can filter on and highlight.
const (
	SLAAtRisk   = "at_risk"
	SLABreached = "breached"
)

// slaWarnShare is the share of an SLA target after which a case is "at
// risk" (80%).
const slaWarnShare = 0.8

// SLATarget is how long cases of one priority may wait for a first
// response and for their resolution, in business time (0: no target).
type SLATarget struct {
	FirstResponse time.Duration
	Resolution    time.Duration
}

// ServiceSettings are the company's customer service settings, kept in one
// row so SLA arithmetic and e-mail to case read them in one query.
type ServiceSettings struct {
	// Hours are the working hours; Loc is the company's time zone.
	Hours WorkingHours
	// Targets are the SLA targets by case priority.
	Targets map[string]SLATarget
	// Queues maps a team id to its assignment mode (manual when absent).
	Queues map[int64]string
	// Survey turns on the satisfaction survey after a case is resolved.
	Survey bool
	// SupportAddress is the address of the support mailbox, given as
	// Reply-To on case e-mails so customers' answers come back to it.
	SupportAddress string
	// MailboxQueue is the queue (a team id as text) of the cases the
	// support mailbox opens.
	MailboxQueue string
	secret       []byte
	surveySince  int64
}

// loadService reads the service settings inside any transaction.
func loadService(ctx context.Context, q querier) (*ServiceSettings, error) {
	ss := &ServiceSettings{Targets: map[string]SLATarget{}, Queues: map[int64]string{}}
	var days, tz string
	err := q.QueryRowContext(ctx, `SELECT work_days, work_start, work_end, survey, survey_since, support_address, mailbox_queue, secret,
		COALESCE((SELECT timezone FROM company WHERE id = 1), '') FROM service_settings WHERE id = 1`).
		Scan(&days, &ss.Hours.Start, &ss.Hours.End, &ss.Survey, &ss.surveySince, &ss.SupportAddress, &ss.MailboxQueue, &ss.secret, &tz)
	if err != nil {
		return nil, err
	}
	for _, d := range strings.Split(days, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(d)); err == nil && n >= 0 && n < 7 {
			ss.Hours.Days[n] = true
		}
	}
	ss.Hours.Loc = time.UTC
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		ss.Hours.Loc = loc
	}
	rows, err := q.QueryContext(ctx, `SELECT priority, first_response_minutes, resolution_minutes FROM sla_targets`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p string
		var fr, res int64
		if err := rows.Scan(&p, &fr, &res); err != nil {
			rows.Close()
			return nil, err
		}
		ss.Targets[p] = SLATarget{FirstResponse: time.Duration(fr) * time.Minute, Resolution: time.Duration(res) * time.Minute}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT team_id, assignment FROM case_queues`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var mode string
		if err := rows.Scan(&id, &mode); err != nil {
			return nil, err
		}
		ss.Queues[id] = mode
	}
	return ss, rows.Err()
}

// GetServiceSettings returns the service settings; every signed-in user
// may read them (lists show SLA states), only administrators change them.
func (s *Store) GetServiceSettings(ctx context.Context, a *Actor) (*ServiceSettings, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	var ss *ServiceSettings
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		ss, err = loadService(ctx, tx)
		return err
	})
	return ss, err
}

// maxSLATarget bounds a target (a year of business time), so a typo cannot
// make the due-time walk the calendar for decades.
const maxSLATarget = 365 * 24 * time.Hour

// SaveServiceSettings validates and stores the service settings in one
// transaction; bad input changes nothing. It needs the settings capability.
func (s *Store) SaveServiceSettings(ctx context.Context, a *Actor, in ServiceSettings) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	fe := fieldErrors{}
	if in.Hours.Start < 0 || in.Hours.End > 24*60 || in.Hours.Start >= in.Hours.End {
		fe.add("work_end", "service.error.hours")
	}
	var days []string
	for d, on := range in.Hours.Days {
		if on {
			days = append(days, strconv.Itoa(d))
		}
	}
	if len(days) == 0 {
		fe.add("work_days", "service.error.no_days")
	}
	for p, t := range in.Targets {
		if _, ok := s.Schema().Option("case_priority", p); !ok {
			fe.add("targets", "error.option")
			continue
		}
		if t.FirstResponse < 0 || t.FirstResponse > maxSLATarget {
			fe.add("first_response_"+p, "service.error.target")
		}
		if t.Resolution < 0 || t.Resolution > maxSLATarget {
			fe.add("resolution_"+p, "service.error.target")
		}
	}
	for _, mode := range in.Queues {
		if mode != AssignManual && mode != AssignRoundRobin {
			fe.add("queues", "error.option")
		}
	}
	addr := strings.TrimSpace(in.SupportAddress)
	if addr != "" {
		var k string
		if addr, k = normEmail(addr); k != "" {
			fe.add("support_address", k)
		}
	}
	if in.MailboxQueue != "" {
		if _, ok := s.Schema().Option(CaseQueueList, in.MailboxQueue); !ok {
			fe.add("mailbox_queue", "error.option")
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		now := s.nowMS()
		var wasOn bool
		if err := tx.QueryRowContext(ctx, `SELECT survey FROM service_settings WHERE id = 1`).Scan(&wasOn); err != nil {
			return err
		}
		since := "survey_since"
		if in.Survey && !wasOn {
			// Only cases resolved from now on are surveyed.
			since = strconv.FormatInt(now, 10)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE service_settings SET work_days = ?, work_start = ?, work_end = ?, survey = ?, survey_since = `+since+`,
			support_address = ?, mailbox_queue = ?, updated_at = ? WHERE id = 1`,
			strings.Join(days, ","), in.Hours.Start, in.Hours.End, in.Survey, addr, in.MailboxQueue, now); err != nil {
			return err
		}
		for p, t := range in.Targets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sla_targets (priority, first_response_minutes, resolution_minutes) VALUES (?, ?, ?)
				ON CONFLICT (priority) DO UPDATE SET first_response_minutes = excluded.first_response_minutes, resolution_minutes = excluded.resolution_minutes`,
				p, int64(t.FirstResponse/time.Minute), int64(t.Resolution/time.Minute)); err != nil {
				return err
			}
		}
		for team, mode := range in.Queues {
			if _, err := tx.ExecContext(ctx, `INSERT INTO case_queues (team_id, assignment) SELECT id, ? FROM teams WHERE id = ?
				ON CONFLICT (team_id) DO UPDATE SET assignment = excluded.assignment`, mode, team); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "service_settings", 1, map[string]any{"work_days": strings.Join(days, ","), "survey": in.Survey})
	})
}

// slaTimes computes a case's SLA due times and warning moment from when
// it was opened and its priority; zero times mean no target.
func (ss *ServiceSettings) slaTimes(priority string, opened time.Time, responded bool) (frDue, resDue, warn time.Time) {
	t := ss.Targets[priority]
	h := ss.Hours
	if t.FirstResponse > 0 {
		frDue = h.AddBusiness(opened, t.FirstResponse)
	}
	if t.Resolution > 0 {
		resDue = h.AddBusiness(opened, t.Resolution)
	}
	switch {
	case !responded && t.FirstResponse > 0:
		warn = h.AddBusiness(opened, time.Duration(float64(t.FirstResponse)*slaWarnShare))
	case t.Resolution > 0:
		warn = h.AddBusiness(opened, time.Duration(float64(t.Resolution)*slaWarnShare))
	}
	return frDue, resDue, warn
}

// applySLA sets a case's SLA due times when it is opened and when its
// priority changes; the clock always counts from when the case was opened.
func (s *Store) applySLA(ctx context.Context, q querier, old, vals map[string]any, opened time.Time) error {
	if old != nil && equalValues(old["priority"], vals["priority"]) {
		return nil
	}
	ss, err := loadService(ctx, q)
	if err != nil {
		return err
	}
	responded := false
	if old != nil {
		t, _ := old["first_response_at"].(time.Time)
		responded = !t.IsZero()
	}
	p, _ := vals["priority"].(string)
	vals["first_response_due_at"], vals["resolution_due_at"], vals["sla_warning_at"] = ss.slaTimes(p, opened, responded)
	return nil
}

// queueAssignee is the next member of a round-robin queue for a new case:
// the team's active member after the assignee of the queue's latest case,
// in id order (so the turn needs no state of its own). It returns 0 for a
// manual queue, no queue, an empty team, or an actor who may only give
// cases to themselves.
func (s *Store) queueAssignee(ctx context.Context, q querier, a *Actor, queue string) (int64, error) {
	team, err := strconv.ParseInt(queue, 10, 64)
	if err != nil || team == 0 {
		return 0, nil
	}
	if !a.System && a.Permissions.Scope(EntCases, ActCreate) == ScopeOwn {
		return 0, nil
	}
	var mode string
	err = q.QueryRowContext(ctx, `SELECT assignment FROM case_queues WHERE team_id = ?`, team).Scan(&mode)
	if isNoRows(err) || mode != AssignRoundRobin {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var next int64
	err = q.QueryRowContext(ctx, `SELECT coalesce(
		(SELECT min(id) FROM users WHERE team_id = ?1 AND disabled = 0
			AND id > coalesce((SELECT owner_id FROM cases WHERE queue = ?2 AND deleted_at = 0 ORDER BY id DESC LIMIT 1), 0)),
		(SELECT min(id) FROM users WHERE team_id = ?1 AND disabled = 0), 0)`, team, queue).Scan(&next)
	return next, err
}

// serviceEvent keeps the service facts of cases up to date after a
// change: an agent's activity on a case is its first response, and a
// resolved case stops its SLA escalation rules.
func (s *Store) serviceEvent(ctx context.Context, tx *sql.Tx, ev *recordEvent) error {
	switch ev.Def.Entity {
	case EntActivities:
		caseID, _ := ev.New["case_id"].(int64)
		if !ev.Created || caseID == 0 || ev.Actor == nil || ev.Actor.System || ev.New["type"] == "note" {
			return nil
		}
		return s.markFirstResponse(ctx, tx, caseID, ev.At)
	case EntCases:
		if ev.Created || !ev.Changed["status"] {
			return nil
		}
		st, _ := ev.New["status"].(string)
		if k := s.Schema().CaseStatusKind(st); k == "resolved" || k == "closed" {
			return s.cancelSLARules(ctx, tx, ev.ID, "first_response_due_at", "resolution_due_at", "sla_warning_at")
		}
	}
	return nil
}

// markFirstResponse records a case's first response (once) and moves its
// warning moment to the resolution target; the rules waiting for the
// first-response due time no longer have anything to escalate.
func (s *Store) markFirstResponse(ctx context.Context, tx *sql.Tx, caseID int64, at time.Time) error {
	var prio string
	var created, first int64
	err := tx.QueryRowContext(ctx, `SELECT priority, created_at, first_response_at FROM cases WHERE id = ? AND deleted_at = 0`, caseID).Scan(&prio, &created, &first)
	if isNoRows(err) || (err == nil && first != 0) {
		return nil
	} else if err != nil {
		return err
	}
	ss, err := loadService(ctx, tx)
	if err != nil {
		return err
	}
	_, _, warn := ss.slaTimes(prio, fromMS(created), true)
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET first_response_at = ?, sla_warning_at = ? WHERE id = ?`, ms(at), ms(warn), caseID); err != nil {
		return err
	}
	if err := s.cancelSLARules(ctx, tx, caseID, "first_response_due_at"); err != nil {
		return err
	}
	rs := s.rules.Load()
	if rs == nil || warn.IsZero() {
		return nil
	}
	for _, w := range rs.byEntity[EntCases] {
		if w.Trigger.Type == TrigTimeAfter && w.Trigger.Field == "sla_warning_at" {
			delay, _ := ParseDelay(w.Trigger.Delay)
			if warn.Add(delay).Before(s.now()) {
				continue
			}
			if err := s.rescheduleJob(ctx, tx, w, caseID, warn.Add(delay), "time_after"); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancelSLARules drops the pending jobs of a case's "time after" rules
// counting from the given SLA fields.
func (s *Store) cancelSLARules(ctx context.Context, tx *sql.Tx, caseID int64, fields ...string) error {
	rs := s.rules.Load()
	if rs == nil {
		return nil
	}
	for _, w := range rs.byEntity[EntCases] {
		if w.Trigger.Type == TrigTimeAfter && slices.Contains(fields, w.Trigger.Field) {
			if err := s.cancelJobs(ctx, tx, w.ID, caseID); err != nil {
				return err
			}
		}
	}
	return nil
}

// slaBreachedSQL is the condition of an open case past one of its SLA
// due times; both placeholders take the current time.
const slaBreachedSQL = `(t.resolved_at = 0 AND ((t.first_response_due_at <> 0 AND t.first_response_at = 0 AND t.first_response_due_at <= ?)
	OR (t.resolution_due_at <> 0 AND t.resolution_due_at <= ?)))`

// slaFilter is the list condition of an SLA state.
func slaFilter(state string, now time.Time) (string, []any, bool) {
	n := ms(now)
	switch state {
	case SLABreached:
		return slaBreachedSQL, []any{n, n}, true
	case SLAAtRisk:
		return `(t.resolved_at = 0 AND t.sla_warning_at <> 0 AND t.sla_warning_at <= ? AND NOT ` + slaBreachedSQL + `)`, []any{n, n, n}, true
	}
	return "", nil, false
}

// CaseSLAState says whether an open case is past an SLA due time
// ("breached"), past 80% of its pending target ("at_risk") or neither
// (""), so lists highlight what the SLA filter finds.
func CaseSLAState(r *Record, now time.Time) string {
	if r == nil || r.Entity != EntCases || !r.Time("resolved_at").IsZero() {
		return ""
	}
	passed := func(t time.Time) bool { return !t.IsZero() && !t.After(now) }
	if (r.Time("first_response_at").IsZero() && passed(r.Time("first_response_due_at"))) || passed(r.Time("resolution_due_at")) {
		return SLABreached
	}
	if passed(r.Time("sla_warning_at")) {
		return SLAAtRisk
	}
	return ""
}

// CaseRef is how a case is named in e-mail subjects, "[#C-123]", so an
// answer finds its case.
func CaseRef(id int64) string { return "[#C-" + strconv.FormatInt(id, 10) + "]" }

// teamQueueOptions lists the teams as case queue options, for the schema.
func teamQueueOptions(ctx context.Context, q querier) ([]Option, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM teams ORDER BY name COLLATE NOCASE, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Option{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out = append(out, Option{Key: strconv.FormatInt(id, 10), Labels: Labels{"ca": name, "es": name, "en": name}})
	}
	return out, rows.Err()
}

// Now returns the store's clock, so pages judge SLA states against the
// same time (a test's fake clock included) the store computed them with.
func (s *Store) Now() time.Time { return s.now() }
