package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"cartera/store"
)

// This file is the workflow rule builder: the list of rules, the editor
// (when + if + then), enabling with existing records, the dry run and the
// run log, under Settings → Workflow rules.

// condRow is one condition line of the editor.
type condRow struct {
	Index              int
	Field, Op, Value   string
	FieldOpts, OpsOpts []option
}

// actRow is one action line of the editor.
type actRow struct {
	Index, Num int
	// DueN and DueUnits split a task's due_in ("2d") for the inputs.
	DueN     string
	DueUnits []option
	A        store.WorkflowAction
	Types    []option
	// Choices for the row's selects, with the row's value selected.
	To, Templates, Assignees, Users, Teams, Fields, ActivityTypes []option
	ToAddress                                                     string
}

// workflowForm feeds the editor.
type workflowForm struct {
	W            *store.Workflow
	EntityName   string
	Action       string
	TriggerTypes []option
	ChangeFields []option
	DateFields   []option
	Events       []option
	Whats        []option
	Forms        []option
	Stages       []option
	Matches      []option
	DelayN       string
	DelayUnits   []option
	Before       bool
	Conds        []condRow
	Acts         []actRow
	Test         *store.WorkflowRun
	TestID       string
	Pending      int
}

// workflowListRow is one rule in the list.
type workflowListRow struct {
	W       *store.Workflow
	Summary string
}

// workflowList feeds the rules page.
type workflowList struct {
	Rules    []workflowListRow
	Entities []option
	Builtins []option
}

// workflowsList shows the rules and the examples not added yet.
func (s *Server) workflowsList(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	list, err := s.st.FindWorkflows(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "workflows.title")
	p.Section = "settings"
	d := workflowList{}
	have := map[string]bool{}
	for _, wf := range list {
		have[wf.Builtin] = true
		d.Rules = append(d.Rules, workflowListRow{W: wf, Summary: triggerSummary(p, wf)})
	}
	for _, e := range store.WorkflowEntities {
		d.Entities = append(d.Entities, option{Value: string(e), Label: p.T("entity." + string(e))})
	}
	for _, k := range store.BuiltinWorkflows {
		if !have[k] {
			d.Builtins = append(d.Builtins, option{Value: k, Label: p.T("workflows.builtin." + k), Selected: false})
		}
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "workflows", p)
}

// triggerSummary says in words when a rule starts.
func triggerSummary(p *page, wf *store.Workflow) string {
	t := wf.Trigger
	switch t.Type {
	case store.TrigFieldChanged:
		return p.T("workflows.sum.field_changed", "Field", p.FieldName(wf.Entity, t.Field))
	case store.TrigTimeAfter:
		what := p.T("workflows.event." + t.Event)
		if t.Field != "" {
			what = p.FieldName(wf.Entity, t.Field)
		}
		return p.T("workflows.sum.time_after", "Delay", delayText(p, t.Delay), "What", what)
	case store.TrigInactive:
		return p.T("workflows.sum.inactive", "Delay", delayText(p, t.Delay), "What", p.T("workflows.what."+t.What))
	}
	return p.T("workflows.trigger." + t.Type)
}

// delayText writes "3d" as "3 days" ("-1d" as "1 day before").
func delayText(p *page, d string) string {
	n, unit, before := splitDelay(d)
	s := p.T("workflows.unit_n."+unit, "N", n)
	if before {
		s = p.T("workflows.before", "Delay", s)
	}
	return s
}

// splitDelay splits "-3d" into "3", "d" and before.
func splitDelay(d string) (n, unit string, before bool) {
	d = strings.TrimSpace(strings.ToLower(d))
	if d == "" {
		return "", "d", false
	}
	before = strings.HasPrefix(d, "-")
	d = strings.TrimPrefix(d, "-")
	return strings.TrimSpace(d[:len(d)-1]), d[len(d)-1:], before
}

var delayUnits = []string{"s", "m", "h", "d", "w"}

// workflowNew shows an empty rule for a record type.
func (s *Server) workflowNew(w http.ResponseWriter, r *http.Request) {
	e := store.Entity(r.URL.Query().Get("entity"))
	if !slices.Contains(store.WorkflowEntities, e) {
		e = store.EntContacts
	}
	wf := &store.Workflow{Entity: e, Match: "all", Trigger: store.Trigger{Type: store.TrigCreated}}
	s.renderWorkflowForm(w, r, http.StatusOK, wf, nil, nil, 1, 1)
}

// workflowEdit shows a saved rule.
func (s *Server) workflowEdit(w http.ResponseWriter, r *http.Request) {
	wf, err := s.st.FindWorkflow(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderWorkflowForm(w, r, http.StatusOK, wf, nil, nil, 0, 0)
}

func (s *Server) renderWorkflowForm(w http.ResponseWriter, r *http.Request, status int, wf *store.Workflow, test *store.WorkflowRun, ferr error, extraConds, extraActs int) {
	ctx := r.Context()
	a := reqCtxOf(r).actor
	p := s.newPage(r, "workflows.edit")
	p.Section = "settings"
	if ferr != nil {
		status = s.formErrors(r, p, ferr)
	}
	d := p.def(wf.Entity)
	fd := workflowForm{W: wf, EntityName: p.T("entity." + string(wf.Entity)), Action: "/settings/workflows", Test: test, TestID: r.FormValue("test_id")}
	if wf.ID != 0 {
		fd.Action = "/settings/workflows/" + itoa(wf.ID)
		fd.Pending, _ = s.st.PendingWorkflowJobs(ctx, a, wf.ID)
	}
	for _, t := range store.TriggerTypes {
		if t == store.TrigStageChanged && wf.Entity != store.EntOpportunities {
			continue
		}
		if t == store.TrigFormSubmitted && wf.Entity != store.EntLeads && wf.Entity != store.EntContacts {
			continue
		}
		fd.TriggerTypes = append(fd.TriggerTypes, option{Value: t, Label: p.T("workflows.trigger." + t), Selected: t == wf.Trigger.Type})
	}
	fields := workflowFields(p, d)
	fd.ChangeFields = selectOpts(fields, wf.Trigger.Field, true)
	var dates []option
	for _, f := range d.Fields {
		if f.Kind == store.KDate || f.Kind == store.KDateTime {
			dates = append(dates, option{Value: f.Key, Label: p.FieldName(wf.Entity, f.Key)})
		}
	}
	for _, c := range d.Custom {
		if c.Kind == store.KDate || c.Kind == store.KDateTime {
			dates = append(dates, option{Value: "custom." + c.Key, Label: p.CustomName(c)})
		}
	}
	fd.DateFields = selectOpts(append([]option{{Value: "", Label: p.T("workflows.after_event")}}, dates...), wf.Trigger.Field, false)
	for _, e := range []string{store.TrigCreated, store.TrigUpdated, store.TrigStageChanged} {
		if e == store.TrigStageChanged && wf.Entity != store.EntOpportunities {
			continue
		}
		fd.Events = append(fd.Events, option{Value: e, Label: p.T("workflows.event." + e), Selected: e == wf.Trigger.Event})
	}
	for _, wh := range []string{"stage", "activity", "status"} {
		if wh == "stage" && wf.Entity != store.EntOpportunities {
			continue
		}
		if _, ok := d.Field("status"); wh == "status" && !ok {
			continue
		}
		if wh == "activity" && (wf.Entity == store.EntTasks || wf.Entity == store.EntActivities) {
			continue
		}
		fd.Whats = append(fd.Whats, option{Value: wh, Label: p.T("workflows.what." + wh), Selected: wh == wf.Trigger.What})
	}
	if forms, err := s.st.FindWebForms(ctx, a); err == nil {
		fd.Forms = append(fd.Forms, option{Value: "", Label: p.T("workflows.any_form")})
		for _, f := range forms {
			if f.Entity == wf.Entity {
				fd.Forms = append(fd.Forms, option{Value: itoa(f.ID), Label: f.Name, Selected: int64(wf.Trigger.FormID) == f.ID})
			}
		}
	}
	if wf.Entity == store.EntOpportunities {
		fd.Stages = append(fd.Stages, option{Value: "", Label: p.T("workflows.any_stage")})
		for _, o := range p.schema().ActiveOptions(store.StageList(store.DefaultPipeline)) {
			fd.Stages = append(fd.Stages, option{Value: o.Key, Label: p.OptName("stage", o.Key), Selected: o.Key == wf.Trigger.To})
		}
	}
	for _, m := range []string{"all", "any"} {
		fd.Matches = append(fd.Matches, option{Value: m, Label: p.T("workflows.match." + m), Selected: wf.Match == m})
	}
	n, unit, before := splitDelay(wf.Trigger.Delay)
	fd.DelayN, fd.Before = n, before
	for _, u := range delayUnits {
		fd.DelayUnits = append(fd.DelayUnits, option{Value: u, Label: p.T("workflows.unit." + u), Selected: u == unit})
	}
	condFields := append([]option{{Value: "", Label: "—"}}, fields...)
	condFields = append(condFields, option{Value: "created_at", Label: p.T("field.created_at")}, option{Value: "updated_at", Label: p.T("field.updated_at")})
	if slices.Contains(store.SegmentEntities, wf.Entity) {
		// "In segment" takes the segment's number as its value.
		condFields = append(condFields, option{Value: "segment", Label: p.T("workflows.segment")})
	}
	conds := slices.Clone(wf.Conditions)
	for range extraConds {
		conds = append(conds, store.Condition{})
	}
	for i, c := range conds {
		row := condRow{Index: i, Field: c.Field, Op: c.Op, Value: strings.Join(c.Value, ", ")}
		row.FieldOpts = selectOpts(condFields, c.Field, false)
		for _, op := range store.ConditionOps {
			row.OpsOpts = append(row.OpsOpts, option{Value: op, Label: p.T("workflows.op." + op), Selected: op == c.Op})
		}
		fd.Conds = append(fd.Conds, row)
	}
	// Choices shared by every action row.
	var templates, users, teams, acTypes []option
	if list, err := s.st.FindEmailTemplates(ctx, a, wf.Entity); err == nil {
		for _, t := range list {
			templates = append(templates, option{Value: itoa(t.ID), Label: t.Name + " (" + t.Language + ")"})
		}
	}
	if list, err := s.st.FindUsers(ctx, a, store.UserFilter{}); err == nil {
		for _, u := range list {
			if !u.Disabled {
				users = append(users, option{Value: itoa(u.ID), Label: u.Name})
			}
		}
	}
	if list, err := s.st.FindTeams(ctx, a); err == nil {
		for _, t := range list {
			teams = append(teams, option{Value: itoa(t.ID), Label: t.Name})
		}
	}
	for _, o := range p.schema().ActiveOptions("activity_type") {
		acTypes = append(acTypes, option{Value: o.Key, Label: p.OptName("activity_type", o.Key)})
	}
	var updatable []option
	for _, f := range d.Fields {
		if f.ReadOnly || f.Kind == store.KRef || f.Key == d.OwnerKey {
			continue
		}
		updatable = append(updatable, option{Value: f.Key, Label: p.FieldName(wf.Entity, f.Key)})
	}
	for _, c := range d.Custom {
		updatable = append(updatable, option{Value: "custom." + c.Key, Label: p.CustomName(c)})
	}
	acts := slices.Clone(wf.Actions)
	for range extraActs {
		acts = append(acts, store.WorkflowAction{})
	}
	for i, act := range acts {
		row := actRow{Index: i, Num: i + 1, A: act}
		dn, du, _ := splitDelay(act.DueIn)
		row.DueN = dn
		for _, u := range []string{"m", "h", "d", "w"} {
			row.DueUnits = append(row.DueUnits, option{Value: u, Label: p.T("workflows.unit." + u), Selected: u == du})
		}
		row.Types = append(row.Types, option{Value: "", Label: "—"})
		for _, t := range store.ActionTypes {
			if t == store.ActSendEmail && !slices.Contains(store.TemplateEntities, wf.Entity) {
				continue
			}
			if (t == store.ActAddTag || t == store.ActRemoveTag) && !d.Tagged {
				continue
			}
			row.Types = append(row.Types, option{Value: t, Label: p.T("workflows.action." + t), Selected: t == act.Type})
		}
		to := act.To
		if to != "" && to != "record" && to != "owner" {
			row.ToAddress, to = to, "address"
		}
		for _, v := range []string{"record", "owner", "address"} {
			row.To = append(row.To, option{Value: v, Label: p.T("workflows.to." + v), Selected: v == to})
		}
		row.Templates = selectOpts(templates, itoa(int64(act.TemplateID)), true)
		row.Assignees = selectOpts(append([]option{{Value: "owner", Label: p.T("workflows.the_owner")}}, users...), string(act.Assignee), false)
		var chosen []string
		for _, u := range act.UserIDs {
			chosen = append(chosen, itoa(int64(u)))
		}
		row.Users = selectMulti(users, itoa(int64(act.UserID)), chosen)
		row.Teams = selectOpts(teams, itoa(int64(act.RoundRobinTeamID)), true)
		row.Fields = selectOpts(updatable, act.Field, true)
		row.ActivityTypes = selectOpts(acTypes, act.ActivityType, false)
		fd.Acts = append(fd.Acts, row)
	}
	p.Data = fd
	s.render(w, r, status, "workflow_form", p)
}

// workflowFields lists what conditions and field triggers can read.
func workflowFields(p *page, d *store.EntityDef) []option {
	var out []option
	for _, f := range d.Fields {
		out = append(out, option{Value: f.Key, Label: p.FieldName(d.Entity, f.Key)})
	}
	for _, c := range d.Custom {
		out = append(out, option{Value: "custom." + c.Key, Label: p.CustomName(c)})
	}
	if d.Tagged {
		out = append(out, option{Value: "tags", Label: p.T("workflows.tags")})
	}
	out = append(out, option{Value: "owner_id", Label: p.FieldName(d.Entity, d.OwnerKey)})
	return out
}

// selectOpts copies choices with value selected, after an empty one when
// withEmpty.
func selectOpts(all []option, value string, withEmpty bool) []option {
	var out []option
	if withEmpty {
		out = append(out, option{Value: "", Label: "—", Selected: value == "" || value == "0"})
	}
	for _, o := range all {
		o.Selected = o.Value == value
		out = append(out, o)
	}
	return out
}

// selectMulti copies choices with one value or several selected.
func selectMulti(all []option, one string, many []string) []option {
	out := make([]option, len(all))
	for i, o := range all {
		o.Selected = o.Value == one || slices.Contains(many, o.Value)
		out[i] = o
	}
	return out
}

// workflowFromForm reads the editor. Empty condition and action lines are
// ignored, so the blank line the editor shows does no harm.
func workflowFromForm(form url.Values, wf *store.Workflow) {
	wf.Name = form.Get("name")
	wf.Match = form.Get("match")
	t := store.Trigger{Type: form.Get("trigger_type")}
	delay := ""
	if n := strings.TrimSpace(form.Get("delay_n")); n != "" {
		delay = n + form.Get("delay_unit")
		if form.Get("delay_before") == "1" {
			delay = "-" + delay
		}
	}
	switch t.Type {
	case store.TrigFieldChanged:
		t.Field, t.To = form.Get("change_field"), strings.TrimSpace(form.Get("change_to"))
	case store.TrigStageChanged:
		t.To = form.Get("stage_to")
	case store.TrigFormSubmitted:
		id, _ := strconv.ParseInt(form.Get("form_id"), 10, 64)
		t.FormID = store.FlexInt(id)
	case store.TrigTimeAfter:
		t.Field, t.Delay = form.Get("date_field"), delay
		if t.Field == "" {
			t.Event = form.Get("event")
		}
	case store.TrigInactive:
		t.What, t.Delay = form.Get("what"), delay
	}
	wf.Trigger = t
	wf.Conditions = []store.Condition{}
	fields, ops, vals := form["cond_field"], form["cond_op"], form["cond_value"]
	for i, f := range fields {
		if f == "" {
			continue
		}
		c := store.Condition{Field: f, Op: at(ops, i)}
		if v := strings.TrimSpace(at(vals, i)); v != "" {
			if c.Op == "in" || c.Op == "not_in" {
				for part := range strings.SplitSeq(v, ",") {
					if part = strings.TrimSpace(part); part != "" {
						c.Value = append(c.Value, part)
					}
				}
			} else {
				c.Value = store.FlexStrings{v}
			}
		}
		wf.Conditions = append(wf.Conditions, c)
	}
	wf.Actions = []store.WorkflowAction{}
	for i, typ := range form["act_type"] {
		if typ == "" {
			continue
		}
		g := func(k string) string { return strings.TrimSpace(at(form["act_"+k], i)) }
		id := func(k string) store.FlexInt { n, _ := strconv.ParseInt(g(k), 10, 64); return store.FlexInt(n) }
		act := store.WorkflowAction{Type: typ}
		switch typ {
		case store.ActSendEmail:
			act.To = g("to")
			if act.To == "address" {
				act.To = g("address")
			}
			act.TemplateID = id("template")
		case store.ActCreateTask, store.ActCreateActivity:
			act.Title, act.Description, act.Assignee = g("title"), g("description"), store.FlexString(g("assignee"))
			if n := g("due_n"); n != "" && typ == store.ActCreateTask {
				act.DueIn = n + g("due_unit")
			}
			if typ == store.ActCreateActivity {
				act.ActivityType = g("activity_type")
			}
		case store.ActAssignOwner:
			if g("owner_mode") == "team" {
				act.RoundRobinTeamID = id("team")
			} else {
				act.UserID = id("user")
			}
		case store.ActUpdateField:
			act.Field, act.Value = g("field"), store.FlexString(g("value"))
		case store.ActAddTag, store.ActRemoveTag:
			act.Tag = g("tag")
		case store.ActWebhook:
			act.URL, act.Secret = g("url"), g("secret")
		case store.ActNotify:
			act.Message = g("message")
			if u := id("notify_user"); u != 0 {
				act.UserIDs = []store.FlexInt{u}
			} else {
				act.Assignee = "owner"
			}
		}
		wf.Actions = append(wf.Actions, act)
	}
}

// at is the i-th value of a repeated form field, or "".
func at(vs []string, i int) string {
	if i < len(vs) {
		return vs[i]
	}
	return ""
}

// workflowSave saves the editor; "more_cond" and "more_act" add a blank
// line and "test" runs the rule against a record without saving.
func (s *Server) workflowSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	ctx := r.Context()
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	wf := &store.Workflow{Entity: store.Entity(r.PostForm.Get("entity"))}
	if id != 0 {
		cur, err := s.st.FindWorkflow(ctx, a, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		wf = cur
	}
	workflowFromForm(r.PostForm, wf)
	switch {
	case r.PostForm.Get("more_cond") != "":
		s.renderWorkflowForm(w, r, http.StatusOK, wf, nil, nil, 1, 0)
		return
	case r.PostForm.Get("more_act") != "":
		s.renderWorkflowForm(w, r, http.StatusOK, wf, nil, nil, 0, 1)
		return
	case r.PostForm.Get("test") != "":
		rid, _ := strconv.ParseInt(r.PostForm.Get("test_id"), 10, 64)
		run, err := s.st.TestWorkflow(ctx, a, wf, rid, s.labeler())
		if store.ErrorCode(err) == store.CodeNotFound {
			err = &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"test_id": "error.unknown_record"}}
		}
		s.renderWorkflowForm(w, r, http.StatusOK, wf, run, err, 0, 0)
		return
	}
	var err error
	if id == 0 {
		err = s.st.CreateWorkflow(ctx, a, wf)
	} else {
		_, err = s.st.UpdateWorkflow(ctx, a, id, store.WorkflowUpdate{Name: &wf.Name, Trigger: &wf.Trigger, Match: &wf.Match, Conditions: &wf.Conditions, Actions: &wf.Actions})
	}
	if err != nil {
		s.renderWorkflowForm(w, r, 0, wf, nil, err, 0, 0)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/workflows/"+itoa(wf.ID))
}

// workflowEnableData feeds the page that switches a rule on.
type workflowEnableData struct {
	W       *store.Workflow
	Summary string
	Matches int
}

// workflowEnableForm asks whether existing records should be included,
// saying how many would match.
func (s *Server) workflowEnableForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := reqCtxOf(r).actor
	wf, err := s.st.FindWorkflow(ctx, a, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.st.CountWorkflowMatches(ctx, a, wf.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "workflows.enable")
	p.Section = "settings"
	p.Data = workflowEnableData{W: wf, Summary: triggerSummary(p, wf), Matches: n}
	s.render(w, r, http.StatusOK, "workflow_enable", p)
}

// workflowSwitch switches a rule on (with or without existing records) or
// off.
func (s *Server) workflowSwitch(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	on := mux.Vars(r)["action"] == "enable"
	_, err := s.st.SetWorkflowEnabled(r.Context(), reqCtxOf(r).actor, id, on, r.FormValue("include_existing") == "1")
	if err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			wf, ferr := s.st.FindWorkflow(r.Context(), reqCtxOf(r).actor, id)
			if ferr == nil {
				s.renderWorkflowForm(w, r, 0, wf, nil, err, 0, 0)
				return
			}
		}
		s.fail(w, r, err)
		return
	}
	if on {
		s.flash(w, r, "success", "workflows.flash.enabled")
	} else {
		s.flash(w, r, "success", "workflows.flash.disabled")
	}
	redirect(w, r, "/settings/workflows/"+itoa(id))
}

// workflowDelete removes a rule.
func (s *Server) workflowDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteWorkflow(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.deleted")
	redirect(w, r, "/settings/workflows")
}

// workflowBuiltin adds a ready-made example, switched off.
func (s *Server) workflowBuiltin(w http.ResponseWriter, r *http.Request) {
	wf, err := s.st.CreateBuiltinWorkflow(r.Context(), reqCtxOf(r).actor, mux.Vars(r)["key"], reqCtxOf(r).tr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "workflows.flash.example_added")
	redirect(w, r, "/settings/workflows/"+itoa(wf.ID))
}

// workflowRunsData feeds the run log.
type workflowRunsData struct {
	W    *store.Workflow
	Runs []*store.WorkflowRun
}

// workflowRuns shows a rule's run log.
func (s *Server) workflowRuns(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := reqCtxOf(r).actor
	wf, err := s.st.FindWorkflow(ctx, a, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.st.FindWorkflowRuns(ctx, a, wf.ID, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "workflows.runs")
	p.Section = "settings"
	p.Data = workflowRunsData{W: wf, Runs: runs}
	s.render(w, r, http.StatusOK, "workflow_runs", p)
}
