package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WorkflowRun is one entry of a rule's run log: when it acted on which
// record and what each action did.
type WorkflowRun struct {
	ID          int64     `json:"id,string"`
	WorkflowID  int64     `json:"workflow_id,string"`
	RecordID    int64     `json:"record_id,string"`
	RecordTitle string    `json:"record_title,omitempty"`
	At          time.Time `json:"at"`
	DueAt       time.Time `json:"due_at,omitzero"`
	// Status is ok, skipped (conditions not met, record gone, hourly cap),
	// failed (nothing was changed) or dry_run (a test that changed nothing).
	Status string    `json:"status"`
	Steps  []RunStep `json:"steps"`
	// Error is the message key of what stopped a failed or skipped run.
	Error string `json:"error,omitempty"`
}

// RunStep is what one action did.
type RunStep struct {
	Action string `json:"action"`
	// Status is ok, skipped or failed.
	Status string `json:"status"`
	// Detail is the data the action used: an address, a task id, a tag.
	Detail string `json:"detail,omitempty"`
	// Key is the message key of why the step was skipped or failed.
	Key string `json:"key,omitempty"`
}

// runState is what one run knows while its actions change the record.
type runState struct {
	w     *Workflow
	d     *EntityDef
	rec   *Record
	due   int64
	owner int64
	tags  []string
	label Labeler
	steps []RunStep
	// dry is a test run in a transaction that is rolled back.
	dry bool
}

// stepError stops a run with a translated reason.
type stepError struct {
	key string
	err error
}

func (e *stepError) Error() string {
	if e.err != nil {
		return e.key + ": " + e.err.Error()
	}
	return e.key
}

// NextWorkflowDue returns the earliest pending due-time, so the scheduler
// can sleep exactly until then.
func (s *Store) NextWorkflowDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT min(due_at) FROM workflow_jobs WHERE status = 'pending'`).Scan(&due); err != nil {
		return time.Time{}, false, errInternal(err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(due.Int64), true, nil
}

// RunDueWorkflows runs every job due at now, each in its own transaction
// that claims the job, runs its actions and logs the run: a crash rolls
// all of it back and the job runs once after the restart. label names
// options in e-mail templates.
func (s *Store) RunDueWorkflows(ctx context.Context, now time.Time, label Labeler) (int, error) {
	total := 0
	for {
		rows, err := s.r.QueryContext(ctx, `SELECT id FROM workflow_jobs WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT 200`, ms(now))
		if err != nil {
			return total, errInternal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return total, errInternal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, errInternal(err)
		}
		progressed := 0
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			ran, err := s.runJob(ctx, id, now, label)
			if err != nil {
				return total, err
			}
			if ran {
				total++
			}
			progressed++
		}
		if len(ids) < 200 || progressed == 0 {
			return total, nil
		}
	}
}

type jobRow struct {
	id, rule, record, due int64
	event, status         string
}

// runJob runs one job; ran reports that a rule acted (or failed trying).
func (s *Store) runJob(ctx context.Context, id int64, now time.Time, label Labeler) (bool, error) {
	var job jobRow
	var st *runState
	var outcome string
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, workflow_id, record_id, due_at, event, status FROM workflow_jobs WHERE id = ?`, id).
			Scan(&job.id, &job.rule, &job.record, &job.due, &job.event, &job.status)
		if isNoRows(err) || (err == nil && job.status != "pending") {
			// Run already, or its rule was deleted.
			return nil
		}
		if err != nil {
			return err
		}
		if job.due > ms(now) {
			return nil
		}
		w, err := scanWorkflow(tx.QueryRowContext(ctx, `SELECT `+workflowCols+` FROM workflows WHERE id = ?`, job.rule))
		if err != nil {
			return err
		}
		finish := func(status string) error {
			_, err := tx.ExecContext(ctx, `UPDATE workflow_jobs SET status = ?, done_at = ? WHERE id = ?`, status, ms(now), job.id)
			return err
		}
		if !w.Enabled {
			return finish("cancelled")
		}
		d := s.def(w.Entity)
		sys := SystemActor()
		rec, err := s.loadRecord(ctx, tx, sys, d, job.record, false)
		if ErrorCode(err) == CodeNotFound {
			outcome = "skipped"
			if err := finish("skipped"); err != nil {
				return err
			}
			return s.logRun(ctx, tx, w.ID, job, now, "skipped", nil, "workflows.run.record_gone")
		}
		if err != nil {
			return err
		}
		if w.Trigger.Type == TrigInactive {
			anchor, err := s.inactiveAnchor(ctx, tx, w, rec)
			if err != nil {
				return err
			}
			delay, _ := ParseDelay(w.Trigger.Delay)
			if next := anchor.Add(delay); ms(next) > job.due {
				// Something happened since: the clock starts again.
				if _, err := tx.ExecContext(ctx, `DELETE FROM workflow_jobs WHERE id = ?`, job.id); err != nil {
					return err
				}
				return s.scheduleJob(ctx, tx, w.ID, rec.ID, next, job.event)
			}
		}
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM workflow_runs WHERE workflow_id = ? AND record_id = ? AND status = 'ok' AND at > ?`,
			w.ID, rec.ID, ms(now.Add(-time.Hour))).Scan(&recent); err != nil {
			return err
		}
		if recent >= maxRunsPerHour {
			outcome = "skipped"
			if err := finish("skipped"); err != nil {
				return err
			}
			return s.logRun(ctx, tx, w.ID, job, now, "skipped", nil, "workflows.run.cap")
		}
		if !matchConditions(d, rec, w.Match, w.Conditions, s.segmentTest(ctx, tx)) {
			if err := finish("skipped"); err != nil {
				return err
			}
			if w.Trigger.Type == TrigTimeAfter || w.Trigger.Type == TrigInactive {
				// A timer that found its record changed is worth a line in
				// the log; an update that did not match is not.
				outcome = "skipped"
				return s.logRun(ctx, tx, w.ID, job, now, "skipped", nil, "workflows.run.conditions")
			}
			return nil
		}
		st = &runState{w: w, d: d, rec: rec, due: job.due, owner: rec.OwnerID, tags: slices.Clone(rec.Tags), label: label}
		if err := s.runActions(context.WithValue(ctx, runningRuleKey{}, w.ID), tx, st); err != nil {
			return err
		}
		outcome = "ok"
		if err := finish("done"); err != nil {
			return err
		}
		return s.logRun(ctx, tx, w.ID, job, now, "ok", st.steps, "")
	})
	if err == nil {
		return outcome != "", nil
	}
	if st == nil {
		return false, err
	}
	// An action failed: nothing it did was kept. The job is failed and the
	// log says which action and why.
	key := "error.internal"
	var se *stepError
	if errors.As(err, &se) {
		key = se.key
	} else if e, ok := err.(*Error); ok && e.Code != CodeInternal {
		key = e.Key
		for f, k := range e.Fields {
			key = k
			if len(st.steps) > 0 {
				st.steps[len(st.steps)-1].Detail = strings.TrimSpace(st.steps[len(st.steps)-1].Detail + " " + f)
			}
			break
		}
	}
	if key == "error.internal" && s.log != nil {
		s.log.Error("workflow action failed", "workflow", job.rule, "record", job.record, "err", err)
	}
	if len(st.steps) > 0 {
		st.steps[len(st.steps)-1].Status = "failed"
		st.steps[len(st.steps)-1].Key = key
	}
	werr := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE workflow_jobs SET status = 'failed', done_at = ? WHERE id = ? AND status = 'pending'`, ms(now), job.id); err != nil {
			return err
		}
		return s.logRun(ctx, tx, job.rule, job, now, "failed", st.steps, key)
	})
	return true, werr
}

func (s *Store) logRun(ctx context.Context, tx *sql.Tx, rule int64, job jobRow, now time.Time, status string, steps []RunStep, errKey string) error {
	if steps == nil {
		steps = []RunStep{}
	}
	b, _ := json.Marshal(steps)
	_, err := tx.ExecContext(ctx, `INSERT INTO workflow_runs (workflow_id, job_id, record_id, at, due_at, status, steps, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		rule, job.id, job.record, ms(now), job.due, status, string(b), errKey)
	return err
}

// inactiveAnchor is when the watched thing last happened to a record: its
// last stage change, its last linked activity, or its last status change
// (its creation when there was none).
func (s *Store) inactiveAnchor(ctx context.Context, q querier, w *Workflow, rec *Record) (time.Time, error) {
	var last sql.NullInt64
	var err error
	switch w.Trigger.What {
	case "stage":
		err = q.QueryRowContext(ctx, `SELECT max(at) FROM stage_history WHERE opportunity_id = ?`, rec.ID).Scan(&last)
	case "activity":
		col := linkColumn(w.Entity)
		err = q.QueryRowContext(ctx, `SELECT max(created_at) FROM activities WHERE `+col+` = ? AND deleted_at = 0`, rec.ID).Scan(&last)
	case "status":
		err = q.QueryRowContext(ctx, `SELECT max(at) FROM field_history WHERE entity = ? AND record_id = ? AND field = 'status'`, string(w.Entity), rec.ID).Scan(&last)
	}
	if err != nil {
		return time.Time{}, err
	}
	at := rec.CreatedAt
	if last.Valid && fromMS(last.Int64).After(at) {
		at = fromMS(last.Int64)
	}
	return at, nil
}

// runActions runs a rule's actions in order in the caller's transaction;
// the first error stops the run and rolls everything back.
func (s *Store) runActions(ctx context.Context, tx *sql.Tx, st *runState) error {
	for i, act := range st.w.Actions {
		st.steps = append(st.steps, RunStep{Action: act.Type, Status: "ok"})
		step := &st.steps[len(st.steps)-1]
		if err := s.runAction(ctx, tx, st, i, act, step); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) runAction(ctx context.Context, tx *sql.Tx, st *runState, i int, act WorkflowAction, step *RunStep) error {
	sys := SystemActor()
	d, rec := st.d, st.rec
	link := linkColumn(d.Entity)
	now := s.now()
	switch act.Type {
	case ActSendEmail:
		t, err := s.FindEmailTemplate(ctx, sys, int64(act.TemplateID))
		if err != nil {
			return &stepError{key: "workflows.error.template"}
		}
		label := st.label
		if label == nil {
			label = func(lang, list, key string) string { return key }
		}
		r, err := s.RenderEmailTemplate(ctx, sys, t, rec.ID, label)
		if err != nil {
			return err
		}
		to, toName := r.To, rec.Title
		switch act.To {
		case "record":
		case "owner":
			u, err := s.userBrief(ctx, st.owner)
			if err != nil {
				return err
			}
			toName, to = u[0], u[1]
		default:
			to, toName = act.To, ""
		}
		step.Detail = to
		if to == "" {
			step.Status, step.Key = "skipped", "workflows.step.no_address"
			return nil
		}
		key := fmt.Sprintf("rule:%d:%d:%d", st.w.ID, rec.ID, st.due)
		if i > 0 {
			key += ":" + strconv.Itoa(i)
		}
		if _, _, err := s.enqueueEmail(ctx, tx, sys, OutgoingEmail{
			Key: key, To: to, ToName: toName, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Entity: d.Entity, RecordID: rec.ID,
		}); err != nil {
			return err
		}
		if link != "" {
			if _, err := s.createRecord(ctx, tx, sys, s.def(EntActivities), Input{Values: map[string]any{
				"type": "email", "subject": truncRunes(r.Subject, 300), "description": truncRunes(r.Text, 50000),
				"occurred_at": now, link: rec.ID, "owner_id": st.owner, "outcome": "pending",
			}}); err != nil {
				return prefixFields(err, "activity.")
			}
		}
	case ActCreateTask, ActCreateActivity:
		assignee := st.owner
		if a := string(act.Assignee); a != "" && a != "owner" {
			assignee, _ = strconv.ParseInt(a, 10, 64)
		}
		title := truncRunes(s.fillMerge(ctx, st, act.Title), 300)
		vals := map[string]any{"title": title, "description": s.fillMerge(ctx, st, act.Description)}
		ent := EntTasks
		if act.Type == ActCreateTask {
			vals["assignee_id"] = assignee
			vals["status"] = "open"
			if act.DueIn != "" {
				dl, _ := ParseDelay(act.DueIn)
				vals["due_at"] = now.Add(dl)
			}
		} else {
			ent = EntActivities
			delete(vals, "title")
			vals["subject"] = title
			vals["type"] = act.ActivityType
			vals["occurred_at"] = now
			vals["owner_id"] = assignee
		}
		if link != "" {
			vals[link] = rec.ID
		}
		id, err := s.createRecord(ctx, tx, sys, s.def(ent), Input{Values: vals})
		if err != nil {
			return err
		}
		step.Detail = string(ent) + "/" + strconv.FormatInt(id, 10)
	case ActAssignOwner:
		uid := int64(act.UserID)
		if act.RoundRobinTeamID != 0 {
			var err error
			if uid, err = s.nextInTeam(ctx, tx, st.w.ID, int64(act.RoundRobinTeamID)); err != nil {
				return err
			}
			if uid == 0 {
				step.Status, step.Key = "skipped", "workflows.step.empty_team"
				return nil
			}
		}
		step.Detail = strconv.FormatInt(uid, 10)
		if uid == st.owner {
			return nil
		}
		if err := s.updateRecord(ctx, tx, sys, d, rec.ID, Input{Values: map[string]any{d.OwnerKey: uid}}); err != nil {
			return err
		}
		st.owner = uid
	case ActUpdateField:
		in := Input{}
		if ck, ok := strings.CutPrefix(act.Field, "custom."); ok {
			in.SetCustom(ck, string(act.Value))
		} else {
			in.Values = map[string]any{act.Field: string(act.Value)}
		}
		step.Detail = act.Field + " = " + string(act.Value)
		if err := s.updateRecord(ctx, tx, sys, d, rec.ID, in); err != nil {
			return err
		}
	case ActAddTag, ActRemoveTag:
		step.Detail = act.Tag
		has := slices.IndexFunc(st.tags, func(t string) bool { return strings.EqualFold(t, act.Tag) })
		if act.Type == ActAddTag {
			if has >= 0 {
				return nil
			}
			st.tags = append(st.tags, act.Tag)
		} else {
			if has < 0 {
				return nil
			}
			st.tags = slices.Delete(st.tags, has, has+1)
		}
		tags := slices.Clone(st.tags)
		if err := s.updateRecord(ctx, tx, sys, d, rec.ID, Input{Tags: &tags}); err != nil {
			return err
		}
	case ActNotify:
		ids := make([]int64, 0, len(act.UserIDs)+1)
		for _, u := range act.UserIDs {
			ids = append(ids, int64(u))
		}
		if len(ids) == 0 || string(act.Assignee) == "owner" {
			ids = append(ids, st.owner)
		}
		msg := s.fillMerge(ctx, st, act.Message)
		step.Detail = msg
		if err := s.notifyUsers(ctx, tx, NotifyRule, ids, NotificationContent{Title: st.w.Name, Body: msg, Entity: d.Entity, RecordID: rec.ID, Dedup: fmt.Sprintf("rule:%d:%d:%d:%d", st.w.ID, rec.ID, st.due, i)}); err != nil {
			return err
		}
	case ActWebhook:
		// Queued like every delivery, sent after commit by the webhook
		// worker through the guarded client, retried for 24 h.
		step.Detail = act.URL
		if err := s.queueRuleWebhook(ctx, tx, st, act); err != nil {
			return err
		}
	default:
		return &stepError{key: "error.option"}
	}
	return nil
}

// fillMerge fills {{prefix.key}} merge fields in a rule's own texts (task
// titles, notifications) from the record, like an e-mail template.
func (s *Store) fillMerge(ctx context.Context, st *runState, text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	label := st.label
	if label == nil {
		label = func(lang, list, key string) string { return key }
	}
	lang := "en"
	if c, err := s.Company(ctx); err == nil && c.Language != "" {
		lang = c.Language
	}
	data := map[string]string{}
	s.mergeValues(data, prefixOf(st.rec.Entity), st.rec, lang, label)
	if u, err := s.userBrief(ctx, st.owner); err == nil {
		data["owner.name"], data["owner.email"] = u[0], u[1]
	}
	return strings.Join(strings.Fields(mergeField.ReplaceAllStringFunc(text, func(m string) string {
		p := mergeField.FindStringSubmatch(m)
		return data[p[1]+"."+p[2]]
	})), " ")
}

// nextInTeam is the team's next active member after the rule's last
// choice, in id order, and remembers the choice.
func (s *Store) nextInTeam(ctx context.Context, tx *sql.Tx, rule, team int64) (int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT last_user_id FROM workflow_turns WHERE workflow_id = ? AND team_id = ?`, rule, team).Scan(&last)
	if err != nil && !isNoRows(err) {
		return 0, err
	}
	var next int64
	err = tx.QueryRowContext(ctx, `SELECT coalesce(
		(SELECT min(id) FROM users WHERE team_id = ? AND disabled = 0 AND id > ?),
		(SELECT min(id) FROM users WHERE team_id = ? AND disabled = 0), 0)`, team, last, team).Scan(&next)
	if err != nil || next == 0 {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO workflow_turns (workflow_id, team_id, last_user_id) VALUES (?, ?, ?)
		ON CONFLICT (workflow_id, team_id) DO UPDATE SET last_user_id = excluded.last_user_id`, rule, team, next)
	return next, err
}

// matchAll evaluates a rule's conditions: all of them, or any of them
// when match is "any". No conditions always match.
func matchConditions(d *EntityDef, r *Record, match string, cs []Condition, inSeg segmentTest) bool {
	if len(cs) == 0 {
		return true
	}
	for _, c := range cs {
		ok := matchCondition(d, r, c, inSeg)
		if match == "any" && ok {
			return true
		}
		if match != "any" && !ok {
			return false
		}
	}
	return match != "any"
}

func matchCondition(d *EntityDef, r *Record, c Condition, inSeg segmentTest) bool {
	if len(c.Any) > 0 || len(c.All) > 0 {
		return (len(c.Any) == 0 || matchConditions(d, r, "any", c.Any, inSeg)) && (len(c.All) == 0 || matchConditions(d, r, "all", c.All, inSeg))
	}
	if c.Field == "segment" {
		// Membership of any of the segments named (is / is one of), or of
		// none of them (is not / is none of).
		in := false
		for _, v := range c.Value {
			id, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if inSeg != nil && inSeg(id, r.ID) {
				in = true
				break
			}
		}
		if c.Op == "ne" || c.Op == "not_in" {
			return !in
		}
		return in
	}
	var vals []string
	switch {
	case c.Field == "tags":
		vals = r.Tags
	case c.Field == "owner_id" || c.Field == d.OwnerKey:
		vals = []string{strconv.FormatInt(r.OwnerID, 10)}
	case c.Field == "created_at":
		vals = []string{r.CreatedAt.UTC().Format(time.RFC3339)}
	case c.Field == "updated_at":
		vals = []string{r.UpdatedAt.UTC().Format(time.RFC3339)}
	case strings.HasPrefix(c.Field, "custom."):
		vals = valueTexts(r.Custom[strings.TrimPrefix(c.Field, "custom.")])
	default:
		vals = valueTexts(r.Values[c.Field])
	}
	empty := len(vals) == 0 || (len(vals) == 1 && vals[0] == "")
	anyOf := func(f func(v, want string) bool) bool {
		for _, v := range vals {
			for _, want := range c.Value {
				if f(v, want) {
					return true
				}
			}
		}
		return false
	}
	eq := func(v, want string) bool { return strings.EqualFold(v, strings.TrimSpace(want)) }
	switch c.Op {
	case "empty":
		return empty
	case "not_empty":
		return !empty
	case "eq", "in":
		return anyOf(eq)
	case "ne", "not_in":
		return !anyOf(eq)
	case "contains":
		return anyOf(func(v, want string) bool { return strings.Contains(foldKey(v), foldKey(want)) })
	case "not_contains":
		return !anyOf(func(v, want string) bool { return strings.Contains(foldKey(v), foldKey(want)) })
	case "gt", "gte", "lt", "lte":
		if empty || len(c.Value) == 0 {
			return false
		}
		cmp := compareText(vals[0], strings.TrimSpace(c.Value[0]))
		switch c.Op {
		case "gt":
			return cmp > 0
		case "gte":
			return cmp >= 0
		case "lt":
			return cmp < 0
		default:
			return cmp <= 0
		}
	}
	return false
}

// segmentTest reports whether a record is in a segment; rules evaluate it
// as the system actor, so a segment's own conditions decide, not scope.
type segmentTest func(segmentID, recordID int64) bool

// segmentTest checks segment membership with one indexed query per test,
// in the caller's transaction or reader.
func (s *Store) segmentTest(ctx context.Context, q querier) segmentTest {
	sys := SystemActor()
	return func(segID, recID int64) bool {
		g, err := s.loadSegment(ctx, q, sys, segID, ActView)
		if err != nil {
			return false
		}
		cond, args, err := s.segmentSQL(sys, g)
		if err != nil {
			return false
		}
		var one int
		err = q.QueryRowContext(ctx, "SELECT 1 FROM "+s.def(g.Entity).Table+" t WHERE t.id = ? AND "+cond, append([]any{recID}, args...)...).Scan(&one)
		return err == nil
	}
}

// compareText compares two values as numbers when both are, else as text
// (dates in ISO form compare correctly as text).
func compareText(a, b string) int {
	x, e1 := strconv.ParseFloat(a, 64)
	y, e2 := strconv.ParseFloat(b, 64)
	if e1 == nil && e2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// valueText is a value as the text conditions and triggers compare.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}

func valueTexts(v any) []string {
	if l, ok := v.([]string); ok {
		return l
	}
	if l, ok := v.([]any); ok {
		out := make([]string, len(l))
		for i, x := range l {
			out[i] = valueText(x)
		}
		return out
	}
	return []string{valueText(v)}
}

// FindWorkflowRuns returns a rule's run log, newest first.
func (s *Store) FindWorkflowRuns(ctx context.Context, a *Actor, id int64, limit int) ([]*WorkflowRun, error) {
	w, err := s.FindWorkflow(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	d := s.def(w.Entity)
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.record_id, r.at, r.due_at, r.status, r.steps, r.error, coalesce(`+titleSQL(w.Entity, "t")+`, '')
		FROM workflow_runs r LEFT JOIN `+d.Table+` t ON t.id = r.record_id WHERE r.workflow_id = ? ORDER BY r.id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, errInternal(err)
	}
	defer rows.Close()
	out := []*WorkflowRun{}
	for rows.Next() {
		r := &WorkflowRun{WorkflowID: id}
		var at, due int64
		var steps string
		if err := rows.Scan(&r.ID, &r.RecordID, &at, &due, &r.Status, &steps, &r.Error, &r.RecordTitle); err != nil {
			return nil, errInternal(err)
		}
		r.At, r.DueAt = fromMS(at), fromMS(due)
		json.Unmarshal([]byte(steps), &r.Steps)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// PendingWorkflowJobs counts a rule's scheduled due-times, for the editor.
func (s *Store) PendingWorkflowJobs(ctx context.Context, a *Actor, id int64) (int, error) {
	if err := canAutomate(a); err != nil {
		return 0, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM workflow_jobs WHERE workflow_id = ? AND status = 'pending'`, id).Scan(&n); err != nil {
		return 0, errInternal(err)
	}
	return n, nil
}

// TestWorkflow runs a rule, saved or not, against one record the actor can
// see and reports what each action would do; everything happens in a
// transaction that is rolled back, so nothing changes and nothing is sent.
func (s *Store) TestWorkflow(ctx context.Context, a *Actor, w *Workflow, recordID int64, label Labeler) (*WorkflowRun, error) {
	if err := canAutomate(a); err != nil {
		return nil, err
	}
	if err := s.checkWorkflow(ctx, s.r, w); err != nil {
		return nil, err
	}
	d := s.def(w.Entity)
	if _, err := s.FindRecord(ctx, a, w.Entity, recordID); err != nil {
		return nil, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, errInternal(err)
	}
	defer tx.Rollback()
	rec, err := s.loadRecord(ctx, tx, SystemActor(), d, recordID, false)
	if err != nil {
		return nil, err
	}
	now := s.now()
	run := &WorkflowRun{WorkflowID: w.ID, RecordID: rec.ID, RecordTitle: rec.Title, At: now, Status: "dry_run", Steps: []RunStep{}}
	if !matchConditions(d, rec, w.Match, w.Conditions, s.segmentTest(ctx, tx)) {
		run.Status, run.Error = "skipped", "workflows.run.conditions"
		return run, nil
	}
	st := &runState{w: w, d: d, rec: rec, due: ms(now), owner: rec.OwnerID, tags: slices.Clone(rec.Tags), label: label, dry: true}
	if err := s.runActions(context.WithValue(ctx, runningRuleKey{}, w.ID), tx, st); err != nil {
		key := "error.internal"
		if e, ok := err.(*Error); ok && e.Code != CodeInternal {
			key = e.Key
			for _, k := range e.Fields {
				key = k
				break
			}
		} else if se, ok := err.(*stepError); ok {
			key = se.key
		}
		if len(st.steps) > 0 {
			st.steps[len(st.steps)-1].Status, st.steps[len(st.steps)-1].Key = "failed", key
		}
		run.Status, run.Error = "failed", key
	}
	run.Steps = st.steps
	return run, nil
}

// existingDue is when a rule would act on a record that existed before it
// was enabled; ok is false when the record's moment has passed for good
// (a time_after whose due-time is in the past).
func (s *Store) existingDue(ctx context.Context, q querier, w *Workflow, rec *Record, now time.Time) (time.Time, bool, error) {
	delay, _ := ParseDelay(w.Trigger.Delay)
	switch w.Trigger.Type {
	case TrigTimeAfter:
		var at time.Time
		switch {
		case w.Trigger.Field != "":
			var v any
			if ck, ok := strings.CutPrefix(w.Trigger.Field, "custom."); ok {
				v = rec.Custom[ck]
			} else {
				v = rec.Values[w.Trigger.Field]
			}
			var ok bool
			if at, ok = s.dateAnchor(ctx, v); !ok {
				return time.Time{}, false, nil
			}
		case w.Trigger.Event == TrigCreated:
			at = rec.CreatedAt
		default:
			at = rec.UpdatedAt
		}
		due := at.Add(delay)
		return due, !due.Before(now), nil
	case TrigInactive:
		at, err := s.inactiveAnchor(ctx, q, w, rec)
		if err != nil {
			return time.Time{}, false, err
		}
		due := at.Add(delay)
		if due.Before(now) {
			due = now
		}
		return due, true, nil
	}
	return now, true, nil
}

// eachExisting calls fn for every live record of the rule's type that
// matches its conditions, in id order, a batch at a time.
func (s *Store) eachExisting(ctx context.Context, q querier, w *Workflow, fn func(*Record) error) error {
	d := s.def(w.Entity)
	sys := SystemActor()
	var after int64
	for {
		rows, err := q.QueryContext(ctx, d.selectSQL()+` WHERE t.deleted_at = 0 AND t.id > ? ORDER BY t.id LIMIT 1000`, after)
		if err != nil {
			return err
		}
		var recs []*Record
		sc := d.newScanner()
		for rows.Next() {
			r, err := sc.scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		after = recs[len(recs)-1].ID
		if err := s.decorate(ctx, q, sys, d, recs); err != nil {
			return err
		}
		for _, r := range recs {
			if matchConditions(d, r, w.Match, w.Conditions, s.segmentTest(ctx, q)) {
				if err := fn(r); err != nil {
					return err
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// CountWorkflowMatches counts the existing records a rule would act on if
// the admin includes them when enabling it.
func (s *Store) CountWorkflowMatches(ctx context.Context, a *Actor, id int64) (int, error) {
	w, err := s.FindWorkflow(ctx, a, id)
	if err != nil {
		return 0, err
	}
	if w.Trigger.Type == TrigFormSubmitted {
		return 0, nil
	}
	now := s.now()
	n := 0
	err = s.eachExisting(ctx, s.r, w, func(r *Record) error {
		_, ok, err := s.existingDue(ctx, s.r, w, r, now)
		if ok {
			n++
		}
		return err
	})
	if err != nil {
		return 0, errInternal(err)
	}
	return n, nil
}

// SetWorkflowEnabled switches a rule on or off. Switching on applies it to
// events from now on and, with includeExisting, schedules it for the
// existing records that match (time triggers whose moment has passed are
// left out); switching off drops its pending due-times. It returns how
// many existing records were scheduled.
func (s *Store) SetWorkflowEnabled(ctx context.Context, a *Actor, id int64, enabled, includeExisting bool) (int, error) {
	if err := canAutomate(a); err != nil {
		return 0, err
	}
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := scanWorkflow(tx.QueryRowContext(ctx, `SELECT `+workflowCols+` FROM workflows WHERE id = ?`, id))
		if err != nil {
			return err
		}
		now := s.now()
		if !enabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM workflow_jobs WHERE workflow_id = ? AND status = 'pending'`, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE workflows SET enabled = 0, updated_at = ?, version = version + 1 WHERE id = ?`, ms(now), id); err != nil {
				return err
			}
			return s.audit(ctx, tx, a, "disable", "workflow", id, nil)
		}
		if err := s.checkWorkflow(ctx, tx, w); err != nil {
			return err
		}
		if !w.Enabled {
			if _, err := tx.ExecContext(ctx, `UPDATE workflows SET enabled = 1, enabled_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`, ms(now), ms(now), id); err != nil {
				return err
			}
		}
		if includeExisting && w.Trigger.Type != TrigFormSubmitted {
			err := s.eachExisting(ctx, tx, w, func(r *Record) error {
				due, ok, err := s.existingDue(ctx, tx, w, r, now)
				if err != nil || !ok {
					return err
				}
				n++
				return s.rescheduleJob(ctx, tx, w, r.ID, due, "existing")
			})
			if err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "enable", "workflow", id, map[string]any{"include_existing": includeExisting, "scheduled": n})
	})
	if err != nil {
		return 0, err
	}
	return n, s.reloadRulesAfter(ctx)
}
