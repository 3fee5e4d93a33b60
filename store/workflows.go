package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Workflow is an automation rule on one record type: when its Trigger
// happens and its Conditions hold, its Actions run, once per record and
// due-time, as the system actor.
type Workflow struct {
	ID      int64  `json:"id,string"`
	Name    string `json:"name"`
	Entity  Entity `json:"entity"`
	Enabled bool   `json:"enabled"`
	// EnabledAt is when the rule was last enabled: only events after it
	// start the rule, unless the admin chose to include existing records.
	EnabledAt  time.Time        `json:"enabled_at,omitzero"`
	Trigger    Trigger          `json:"trigger"`
	Match      string           `json:"match"`
	Conditions []Condition      `json:"conditions"`
	Actions    []WorkflowAction `json:"actions"`
	// Builtin names a ready-made example ("follow_up", …), empty for the
	// firm's own rules.
	Builtin   string    `json:"builtin,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// The trigger types a rule can start on.
const (
	TrigCreated       = "created"
	TrigUpdated       = "updated"
	TrigFieldChanged  = "field_changed"
	TrigStageChanged  = "stage_changed"
	TrigFormSubmitted = "form_submitted"
	TrigTimeAfter     = "time_after"
	TrigInactive      = "inactive"
)

// TriggerTypes lists the trigger types in the order the editor offers them.
var TriggerTypes = []string{TrigCreated, TrigUpdated, TrigFieldChanged, TrigStageChanged, TrigFormSubmitted, TrigTimeAfter, TrigInactive}

// Trigger is when a rule starts. Which keys matter depends on Type:
// field_changed uses Field and To; stage_changed To; form_submitted
// FormID; time_after Event or Field and Delay; inactive What and Delay.
type Trigger struct {
	Type   string  `json:"type"`
	Field  string  `json:"field,omitempty"`
	To     string  `json:"to,omitempty"`
	Event  string  `json:"event,omitempty"`
	Delay  string  `json:"delay,omitempty"`
	What   string  `json:"what,omitempty"`
	FormID FlexInt `json:"form_id,omitempty"`
}

// Condition is one test on a record, or a group of them: Any holds when
// one of its conditions holds, All when every one does.
type Condition struct {
	Field string      `json:"field,omitempty"`
	Op    string      `json:"op,omitempty"`
	Value FlexStrings `json:"value,omitzero"`
	Any   []Condition `json:"any,omitempty"`
	All   []Condition `json:"all,omitempty"`
}

// ConditionOps lists the comparison operators a condition may use.
var ConditionOps = []string{"eq", "ne", "in", "not_in", "contains", "not_contains", "empty", "not_empty", "gt", "gte", "lt", "lte"}

// WorkflowAction is one thing a rule does. Which keys matter depends on
// Type (see ActionTypes).
type WorkflowAction struct {
	Type string `json:"type"`
	// To is "record", "owner" or an e-mail address (send_email).
	To         string  `json:"to,omitempty"`
	TemplateID FlexInt `json:"template_id,omitempty"`
	// Title, Description and DueIn describe a task (create_task); Title
	// and ActivityType an activity (create_activity).
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	DueIn        string `json:"due_in,omitempty"`
	ActivityType string `json:"activity_type,omitempty"`
	// Assignee is "owner" or a user id (create_task, create_activity).
	Assignee FlexString `json:"assignee,omitempty"`
	// UserID or RoundRobinTeamID choose the new owner (assign_owner).
	UserID           FlexInt `json:"user_id,omitempty"`
	RoundRobinTeamID FlexInt `json:"round_robin_team_id,omitempty"`
	// Field and Value are the change of update_field.
	Field string     `json:"field,omitempty"`
	Value FlexString `json:"value,omitempty"`
	Tag   string     `json:"tag,omitempty"`
	// UserIDs, or Assignee "owner", are who notify tells; Message is what.
	UserIDs []FlexInt `json:"user_ids,omitempty"`
	Message string    `json:"message,omitempty"`
	// URL is where webhook posts the record; Secret, when set, signs the
	// delivery like a subscription's.
	URL    string `json:"url,omitempty"`
	Secret string `json:"secret,omitempty"`
}

// The action types a rule can run.
const (
	ActSendEmail      = "send_email"
	ActCreateTask     = "create_task"
	ActCreateActivity = "create_activity"
	ActAssignOwner    = "assign_owner"
	ActUpdateField    = "update_field"
	ActAddTag         = "add_tag"
	ActRemoveTag      = "remove_tag"
	ActNotify         = "notify"
	ActWebhook        = "webhook"
)

// ActionTypes lists the action types in the order the editor offers them.
// A webhook action queues a delivery of the record to its URL, sent after
// commit through the guarded HTTP client (package webhook).
var ActionTypes = []string{ActSendEmail, ActCreateTask, ActCreateActivity, ActAssignOwner, ActUpdateField, ActAddTag, ActRemoveTag, ActNotify, ActWebhook}

// WorkflowEntities are the record types rules can watch.
var WorkflowEntities = []Entity{EntContacts, EntLeads, EntAccounts, EntOpportunities, EntCases, EntTasks, EntActivities}

// FlexInt is an id that JSON may give as a number or as a string, so that
// `"template_id":"12"` and `"template_id":12` mean the same.
type FlexInt int64

// UnmarshalJSON accepts a number, a numeric string, "" or null.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return &Error{Code: CodeInvalid, Key: "workflows.error.bad_id"}
	}
	*f = FlexInt(n)
	return nil
}

// FlexString is a value JSON may give as a string, number or boolean; it
// keeps its text, so "assignee":"owner" and "assignee":7 both read.
type FlexString string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = FlexString(s)
		return nil
	}
	t := strings.TrimSpace(string(b))
	if t == "null" {
		*f = ""
		return nil
	}
	if t == "" || t[0] == '{' || t[0] == '[' {
		return &Error{Code: CodeInvalid, Key: "workflows.error.bad_value"}
	}
	*f = FlexString(t)
	return nil
}

// MarshalJSON writes the id as a string, as the API writes every id.
func (f FlexInt) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(f), 10) + `"`), nil
}

// FlexStrings is a condition's value: one value, or a list for in/not_in.
type FlexStrings []string

// UnmarshalJSON accepts a scalar or a list of scalars.
func (f *FlexStrings) UnmarshalJSON(b []byte) error {
	t := strings.TrimSpace(string(b))
	if strings.HasPrefix(t, "[") {
		var raw []FlexString
		if err := json.Unmarshal(b, &raw); err != nil {
			return &Error{Code: CodeInvalid, Key: "workflows.error.bad_value"}
		}
		out := make(FlexStrings, len(raw))
		for i, r := range raw {
			out[i] = string(r)
		}
		*f = out
		return nil
	}
	var one FlexString
	if err := one.UnmarshalJSON(b); err != nil {
		return err
	}
	if one == "" && t == "null" {
		*f = nil
		return nil
	}
	*f = FlexStrings{string(one)}
	return nil
}

// MarshalJSON writes one value as a scalar and several as a list.
func (f FlexStrings) MarshalJSON() ([]byte, error) {
	if len(f) == 1 {
		return json.Marshal(f[0])
	}
	return json.Marshal([]string(f))
}

// delayRe is a rule delay: an optional minus, a number and a unit.
var delayRe = regexp.MustCompile(`^\s*(-?)\s*(\d{1,6})\s*(s|m|h|d|w)\s*$`)

// maxDelay keeps timers within a sensible horizon.
const maxDelay = 2 * 366 * 24 * time.Hour

// ParseDelay reads a rule delay such as "90s", "15m", "2h", "3d", "1w" or
// "-1d" (before a date); it is how the API and the editor write durations.
func ParseDelay(s string) (time.Duration, bool) {
	m := delayRe.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, false
	}
	n, _ := strconv.ParseInt(m[2], 10, 64)
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[3]]
	d := time.Duration(n) * unit
	if d > maxDelay {
		return 0, false
	}
	if m[1] == "-" {
		d = -d
	}
	return d, true
}

// maxRunsPerHour caps how often one rule acts on one record, so that two
// rules updating each other's fields cannot loop for ever.
const maxRunsPerHour = 10

// ruleSet is the enabled rules by record type, swapped after every change
// so that a record write finds its rules without a query.
type ruleSet struct {
	byEntity map[Entity][]*Workflow
}

// checkWorkflow validates a rule against the current schema; errors are
// keyed by path ("trigger.delay", "actions.1.template_id").
func (s *Store) checkWorkflow(ctx context.Context, q querier, w *Workflow) error {
	fe := fieldErrors{}
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		fe.add("name", "error.required")
	} else if len([]rune(w.Name)) > 200 {
		fe.add("name", "error.too_long")
	}
	if !slices.Contains(WorkflowEntities, w.Entity) {
		fe.add("entity", "workflows.error.entity")
		return fe.err()
	}
	d := s.def(w.Entity)
	if w.Match == "" {
		w.Match = "all"
	}
	if w.Match != "all" && w.Match != "any" {
		fe.add("match", "error.option")
	}
	t := &w.Trigger
	switch t.Type {
	case TrigCreated, TrigUpdated:
	case TrigFieldChanged:
		if !workflowField(d, t.Field) {
			fe.add("trigger.field", "workflows.error.field")
		}
	case TrigStageChanged:
		if w.Entity != EntOpportunities {
			fe.add("trigger.type", "workflows.error.stage_only")
		}
	case TrigFormSubmitted:
		if w.Entity != EntLeads && w.Entity != EntContacts {
			fe.add("trigger.type", "workflows.error.form_only")
		}
	case TrigTimeAfter:
		delay, ok := ParseDelay(t.Delay)
		if !ok {
			fe.add("trigger.delay", "workflows.error.delay")
		}
		if t.Field != "" {
			if !dateField(d, t.Field) {
				fe.add("trigger.field", "workflows.error.date_field")
			}
			t.Event = ""
		} else {
			switch t.Event {
			case "":
				t.Event = TrigCreated
			case TrigCreated, TrigUpdated:
			case TrigStageChanged:
				if w.Entity != EntOpportunities {
					fe.add("trigger.event", "workflows.error.stage_only")
				}
			default:
				fe.add("trigger.event", "error.option")
			}
			if ok && delay < 0 {
				fe.add("trigger.delay", "workflows.error.negative_delay")
			}
		}
	case TrigInactive:
		delay, ok := ParseDelay(t.Delay)
		if !ok || delay <= 0 {
			fe.add("trigger.delay", "workflows.error.delay")
		}
		switch t.What {
		case "stage":
			if w.Entity != EntOpportunities {
				fe.add("trigger.what", "workflows.error.stage_only")
			}
		case "activity":
			if linkColumn(w.Entity) == "" {
				fe.add("trigger.what", "workflows.error.activity_link")
			}
		case "status":
			if _, ok := d.Field("status"); !ok {
				fe.add("trigger.what", "workflows.error.no_status")
			}
		default:
			fe.add("trigger.what", "error.option")
		}
	default:
		fe.add("trigger.type", "error.option")
	}
	s.checkConditions(d, "conditions", w.Conditions, fe, 0)
	if len(w.Actions) == 0 {
		fe.add("actions", "workflows.error.no_actions")
	}
	if len(w.Actions) > 20 {
		fe.add("actions", "workflows.error.too_many_actions")
	}
	for i, act := range w.Actions {
		if err := s.checkAction(ctx, q, d, "actions."+strconv.Itoa(i)+".", &w.Actions[i], fe); err != nil {
			return err
		}
		_ = act
	}
	return fe.err()
}

// workflowField reports whether key names a field a rule can read: a
// standard field, "custom.KEY", "tags" or the owner.
func workflowField(d *EntityDef, key string) bool {
	if ck, ok := strings.CutPrefix(key, "custom."); ok {
		_, found := d.CustomField(ck)
		return found
	}
	if key == "tags" {
		return d.Tagged
	}
	if key == d.OwnerKey || key == "owner_id" {
		return true
	}
	_, ok := d.Field(key)
	return ok
}

// dateField reports whether key names a date or date-time field.
func dateField(d *EntityDef, key string) bool {
	if ck, ok := strings.CutPrefix(key, "custom."); ok {
		c, found := d.CustomField(ck)
		return found && (c.Kind == KDate || c.Kind == KDateTime)
	}
	f, ok := d.Field(key)
	return ok && (f.Kind == KDate || f.Kind == KDateTime)
}

func (s *Store) checkConditions(d *EntityDef, path string, cs []Condition, fe fieldErrors, depth int) {
	if depth > 3 {
		fe.add(path, "workflows.error.too_deep")
		return
	}
	if len(cs) > 30 {
		fe.add(path, "workflows.error.too_many_conditions")
		return
	}
	for i, c := range cs {
		p := path + "." + strconv.Itoa(i)
		if len(c.Any) > 0 || len(c.All) > 0 {
			s.checkConditions(d, p+".any", c.Any, fe, depth+1)
			s.checkConditions(d, p+".all", c.All, fe, depth+1)
			continue
		}
		if c.Field == "segment" {
			if !slices.Contains(SegmentEntities, d.Entity) {
				fe.add(p+".field", "workflows.error.field")
			} else if !slices.Contains([]string{"eq", "ne", "in", "not_in"}, c.Op) {
				fe.add(p+".op", "error.option")
			}
			for _, v := range c.Value {
				if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || id <= 0 {
					fe.add(p+".value", "workflows.error.segment")
				}
			}
		} else if !workflowField(d, c.Field) && c.Field != "created_at" && c.Field != "updated_at" {
			fe.add(p+".field", "workflows.error.field")
		}
		if !slices.Contains(ConditionOps, c.Op) {
			fe.add(p+".op", "error.option")
		}
		if c.Op != "empty" && c.Op != "not_empty" && len(c.Value) == 0 {
			fe.add(p+".value", "error.required")
		}
	}
}

func (s *Store) checkAction(ctx context.Context, q querier, d *EntityDef, p string, act *WorkflowAction, fe fieldErrors) error {
	userExists := func(id int64) (bool, error) {
		var n int
		err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ? AND disabled = 0`, id).Scan(&n)
		return n > 0, err
	}
	checkAssignee := func() error {
		switch a := strings.TrimSpace(string(act.Assignee)); a {
		case "", "owner":
			act.Assignee = "owner"
		default:
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				fe.add(p+"assignee", "workflows.error.user")
				return nil
			}
			ok, err := userExists(id)
			if err != nil {
				return err
			}
			if !ok {
				fe.add(p+"assignee", "workflows.error.user")
			}
		}
		return nil
	}
	switch act.Type {
	case ActSendEmail:
		if !slices.Contains(TemplateEntities, d.Entity) {
			fe.add(p+"type", "workflows.error.no_templates")
			return nil
		}
		to := strings.TrimSpace(act.To)
		switch to {
		case "record":
			if _, ok := d.Field("email"); !ok {
				fe.add(p+"to", "workflows.error.no_email_field")
			}
		case "owner":
		default:
			if _, k := coerce(Field{Kind: KEmail}, to); k != "" || to == "" {
				fe.add(p+"to", "workflows.error.to")
			}
		}
		act.To = to
		if act.TemplateID == 0 {
			fe.add(p+"template_id", "error.required")
			return nil
		}
		var ent string
		err := q.QueryRowContext(ctx, `SELECT entity FROM email_templates WHERE id = ?`, int64(act.TemplateID)).Scan(&ent)
		if isNoRows(err) {
			fe.add(p+"template_id", "workflows.error.template")
			return nil
		}
		if err != nil {
			return err
		}
		if Entity(ent) != d.Entity {
			fe.add(p+"template_id", "workflows.error.template_entity")
		}
	case ActCreateTask, ActCreateActivity:
		act.Title = strings.TrimSpace(act.Title)
		if act.Title == "" {
			fe.add(p+"title", "error.required")
		} else if len([]rune(act.Title)) > 300 {
			fe.add(p+"title", "error.too_long")
		}
		if act.Type == ActCreateTask {
			if act.DueIn != "" {
				if dl, ok := ParseDelay(act.DueIn); !ok || dl < 0 {
					fe.add(p+"due_in", "workflows.error.delay")
				}
			}
		} else {
			if act.ActivityType == "" {
				act.ActivityType = "note"
			}
			if _, ok := s.Schema().Option("activity_type", act.ActivityType); !ok {
				fe.add(p+"activity_type", "error.option")
			}
		}
		return checkAssignee()
	case ActAssignOwner:
		switch {
		case act.UserID != 0 && act.RoundRobinTeamID != 0:
			fe.add(p+"user_id", "workflows.error.one_owner")
		case act.UserID != 0:
			ok, err := userExists(int64(act.UserID))
			if err != nil {
				return err
			}
			if !ok {
				fe.add(p+"user_id", "workflows.error.user")
			}
		case act.RoundRobinTeamID != 0:
			var n int
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM teams WHERE id = ?`, int64(act.RoundRobinTeamID)).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				fe.add(p+"round_robin_team_id", "workflows.error.team")
			}
		default:
			fe.add(p+"user_id", "error.required")
		}
	case ActUpdateField:
		if ck, ok := strings.CutPrefix(act.Field, "custom."); ok {
			c, found := d.CustomField(ck)
			if !found {
				fe.add(p+"field", "workflows.error.field")
				return nil
			}
			if string(act.Value) != "" {
				if _, k := coerceCustom(c, string(act.Value)); k != "" {
					fe.add(p+"value", k)
				}
			}
			return nil
		}
		f, ok := d.Field(act.Field)
		if !ok || f.ReadOnly || f.Kind == KRef || act.Field == d.OwnerKey {
			fe.add(p+"field", "workflows.error.field")
			return nil
		}
		if string(act.Value) != "" {
			if _, k := coerce(f, string(act.Value)); k != "" {
				fe.add(p+"value", k)
			}
		}
	case ActAddTag, ActRemoveTag:
		act.Tag = strings.TrimSpace(act.Tag)
		if !d.Tagged {
			fe.add(p+"type", "workflows.error.not_tagged")
		} else if act.Tag == "" {
			fe.add(p+"tag", "error.required")
		} else if k := validTag(act.Tag); k != "" {
			fe.add(p+"tag", k)
		}
	case ActNotify:
		act.Message = strings.TrimSpace(act.Message)
		if act.Message == "" {
			fe.add(p+"message", "error.required")
		} else if len([]rune(act.Message)) > 500 {
			fe.add(p+"message", "error.too_long")
		}
		if len(act.UserIDs) == 0 {
			act.Assignee = "owner"
		}
		for _, id := range act.UserIDs {
			ok, err := userExists(int64(id))
			if err != nil {
				return err
			}
			if !ok {
				fe.add(p+"user_ids", "workflows.error.user")
			}
		}
	case ActWebhook:
		// The guard's check, which resolves the name, runs before the
		// transaction (checkRuleWebhooks); here only what needs no network.
		act.URL = strings.TrimSpace(act.URL)
		if u, err := url.Parse(act.URL); act.URL == "" {
			fe.add(p+"url", "error.required")
		} else if err != nil || len(act.URL) > 2000 || u.Hostname() == "" {
			fe.add(p+"url", "webhooks.error.url")
		} else if u.Scheme != "http" && u.Scheme != "https" {
			fe.add(p+"url", "webhooks.refused.scheme")
		}
		act.Secret = strings.TrimSpace(act.Secret)
		if act.Secret != "" && (len(act.Secret) < 16 || len(act.Secret) > 200 || strings.ContainsFunc(act.Secret, func(r rune) bool { return r <= ' ' || r == 0x7f })) {
			fe.add(p+"secret", "webhooks.error.secret")
		}
	default:
		fe.add(p+"type", "error.option")
	}
	return nil
}

const workflowCols = `id, name, entity, enabled, enabled_at, trigger, match, conditions, actions, coalesce(builtin, ''), created_at, updated_at, version`

func scanWorkflow(sc rowScanner) (*Workflow, error) {
	w := &Workflow{}
	var ent, trig, conds, acts string
	var ea, ca, ua int64
	if err := sc.Scan(&w.ID, &w.Name, &ent, &w.Enabled, &ea, &trig, &w.Match, &conds, &acts, &w.Builtin, &ca, &ua, &w.Version); err != nil {
		return nil, err
	}
	w.Entity = Entity(ent)
	w.EnabledAt, w.CreatedAt, w.UpdatedAt = fromMS(ea), fromMS(ca), fromMS(ua)
	json.Unmarshal([]byte(trig), &w.Trigger)
	json.Unmarshal([]byte(conds), &w.Conditions)
	json.Unmarshal([]byte(acts), &w.Actions)
	if w.Conditions == nil {
		w.Conditions = []Condition{}
	}
	return w, nil
}

// reloadRules reads the enabled rules into the snapshot record writes use.
func (s *Store) reloadRules(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, `SELECT `+workflowCols+` FROM workflows WHERE enabled = 1 ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	rs := &ruleSet{byEntity: map[Entity][]*Workflow{}}
	for rows.Next() {
		w, err := scanWorkflow(rows)
		if err != nil {
			return err
		}
		rs.byEntity[w.Entity] = append(rs.byEntity[w.Entity], w)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.rules.Store(rs)
	return nil
}

func canAutomate(a *Actor) error {
	if !a.Has(CapAutomation) {
		return errForbidden()
	}
	return nil
}

// FindWorkflows lists every rule, for the admins who build them.
func (s *Store) FindWorkflows(ctx context.Context, a *Actor) ([]*Workflow, error) {
	if err := canAutomate(a); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+workflowCols+` FROM workflows ORDER BY entity, name, id`)
	if err != nil {
		return nil, errInternal(err)
	}
	defer rows.Close()
	out := []*Workflow{}
	for rows.Next() {
		w, err := scanWorkflow(rows)
		if err != nil {
			return nil, errInternal(err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// FindWorkflow returns one rule.
func (s *Store) FindWorkflow(ctx context.Context, a *Actor, id int64) (*Workflow, error) {
	if err := canAutomate(a); err != nil {
		return nil, err
	}
	w, err := scanWorkflow(s.r.QueryRowContext(ctx, `SELECT `+workflowCols+` FROM workflows WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, errInternal(err)
	}
	return w, nil
}

// CreateWorkflow stores a new rule. A rule created enabled applies to
// events from now on; IncludeExisting on SetWorkflowEnabled brings in the
// records that exist already.
func (s *Store) CreateWorkflow(ctx context.Context, a *Actor, w *Workflow) error {
	if err := canAutomate(a); err != nil {
		return err
	}
	if err := s.checkRuleWebhooks(ctx, w.Actions); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkWorkflow(ctx, tx, w); err != nil {
			return err
		}
		return s.insertWorkflow(ctx, tx, a, w)
	})
	if err != nil {
		return err
	}
	return s.reloadRulesAfter(ctx)
}

func (s *Store) insertWorkflow(ctx context.Context, tx *sql.Tx, a *Actor, w *Workflow) error {
	now := s.now()
	w.CreatedAt, w.UpdatedAt, w.Version = now, now, 1
	if w.Enabled {
		w.EnabledAt = now
	}
	trig, conds, acts := workflowJSON(w)
	var builtin any
	if w.Builtin != "" {
		builtin = w.Builtin
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO workflows (name, entity, enabled, enabled_at, trigger, match, conditions, actions, builtin, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.Name, string(w.Entity), w.Enabled, ms(w.EnabledAt), trig, w.Match, conds, acts, builtin, a.auditUser(), ms(now), ms(now))
	if err != nil {
		if isUniqueViolation(err) {
			return errConflict("workflows.error.builtin_exists", nil)
		}
		return err
	}
	w.ID, _ = res.LastInsertId()
	return s.audit(ctx, tx, a, "create", "workflow", w.ID, map[string]any{"name": w.Name, "enabled": w.Enabled})
}

func workflowJSON(w *Workflow) (trig, conds, acts string) {
	if w.Conditions == nil {
		w.Conditions = []Condition{}
	}
	if w.Actions == nil {
		w.Actions = []WorkflowAction{}
	}
	t, _ := json.Marshal(w.Trigger)
	c, _ := json.Marshal(w.Conditions)
	x, _ := json.Marshal(w.Actions)
	return string(t), string(c), string(x)
}

// reloadRulesAfter refreshes the rule snapshot after a committed change.
func (s *Store) reloadRulesAfter(ctx context.Context) error {
	if err := s.reloadRules(ctx); err != nil {
		return errInternal(err)
	}
	return nil
}

// WorkflowUpdate is a partial change to a rule; nil fields stay.
type WorkflowUpdate struct {
	Name       *string
	Trigger    *Trigger
	Match      *string
	Conditions *[]Condition
	Actions    *[]WorkflowAction
	// Version, when set, must be the rule's current version.
	Version int64
}

// UpdateWorkflow changes a rule's definition. Pending due-times made under
// the old trigger are dropped when the trigger changes, so a rule never
// fires on a timer it no longer has.
func (s *Store) UpdateWorkflow(ctx context.Context, a *Actor, id int64, u WorkflowUpdate) (*Workflow, error) {
	if err := canAutomate(a); err != nil {
		return nil, err
	}
	if u.Actions != nil {
		if err := s.checkRuleWebhooks(ctx, *u.Actions); err != nil {
			return nil, err
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := scanWorkflow(tx.QueryRowContext(ctx, `SELECT `+workflowCols+` FROM workflows WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if u.Version != 0 && u.Version != w.Version {
			return &Error{Code: CodeConflict, Key: "error.changed_since"}
		}
		oldTrig, _ := json.Marshal(w.Trigger)
		if u.Name != nil {
			w.Name = *u.Name
		}
		if u.Trigger != nil {
			w.Trigger = *u.Trigger
		}
		if u.Match != nil {
			w.Match = *u.Match
		}
		if u.Conditions != nil {
			w.Conditions = *u.Conditions
		}
		if u.Actions != nil {
			w.Actions = *u.Actions
		}
		if err := s.checkWorkflow(ctx, tx, w); err != nil {
			return err
		}
		trig, conds, acts := workflowJSON(w)
		if trig != string(oldTrig) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM workflow_jobs WHERE workflow_id = ? AND status = 'pending'`, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workflows SET name = ?, trigger = ?, match = ?, conditions = ?, actions = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
			w.Name, trig, w.Match, conds, acts, s.nowMS(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "workflow", id, map[string]any{"name": w.Name})
	})
	if err != nil {
		return nil, err
	}
	if err := s.reloadRulesAfter(ctx); err != nil {
		return nil, err
	}
	return s.FindWorkflow(ctx, a, id)
}

// DeleteWorkflow removes a rule with its pending due-times and run log.
func (s *Store) DeleteWorkflow(ctx context.Context, a *Actor, id int64) error {
	if err := canAutomate(a); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM workflows WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "delete", "workflow", id, nil)
	})
	if err != nil {
		return err
	}
	return s.reloadRulesAfter(ctx)
}

// runningRuleKey marks the context of a rule's actions, so that the
// changes a rule makes never start that same rule again.
type runningRuleKey struct{}

func runningRule(ctx context.Context) int64 { id, _ := ctx.Value(runningRuleKey{}).(int64); return id }

// automationEvent schedules the workflow rules a change starts: a due-time
// now for the immediate triggers, later for time triggers, and a moved
// due-time for inactivity rules whose clock the change resets.
func (s *Store) automationEvent(ctx context.Context, tx *sql.Tx, ev *recordEvent) error {
	rs := s.rules.Load()
	if rs == nil || len(rs.byEntity) == 0 {
		return nil
	}
	self := runningRule(ctx)
	now := s.now()
	if ev.Def.Entity == EntActivities && ev.Created {
		// A logged activity resets "no activity for N days" on the
		// records it is linked to.
		for _, lf := range linkFields {
			rid, _ := ev.New[lf.Key].(int64)
			if rid == 0 {
				continue
			}
			for _, w := range rs.byEntity[lf.Ref] {
				if w.ID == self || w.Trigger.Type != TrigInactive || w.Trigger.What != "activity" {
					continue
				}
				delay, _ := ParseDelay(w.Trigger.Delay)
				if err := s.rescheduleJob(ctx, tx, w, rid, now.Add(delay), "inactive"); err != nil {
					return err
				}
			}
		}
	}
	for _, w := range rs.byEntity[ev.Def.Entity] {
		if w.ID == self {
			continue
		}
		t := w.Trigger
		delay, _ := ParseDelay(t.Delay)
		switch t.Type {
		case TrigCreated:
			if ev.Created {
				if err := s.scheduleJob(ctx, tx, w.ID, ev.ID, now, TrigCreated); err != nil {
					return err
				}
			}
		case TrigUpdated:
			if !ev.Created && len(ev.Changed) > 0 {
				if err := s.scheduleJob(ctx, tx, w.ID, ev.ID, now, TrigUpdated); err != nil {
					return err
				}
			}
		case TrigFieldChanged:
			if !ev.Created && ev.Changed[fieldChangeKey(ev.Def, t.Field)] && (t.To == "" || strings.EqualFold(valueText(eventValue(ev, t.Field)), t.To)) {
				if err := s.scheduleJob(ctx, tx, w.ID, ev.ID, now, TrigFieldChanged); err != nil {
					return err
				}
			}
		case TrigStageChanged:
			if !ev.Created && ev.Changed["stage"] && (t.To == "" || ev.New["stage"] == t.To) {
				if err := s.scheduleJob(ctx, tx, w.ID, ev.ID, now, TrigStageChanged); err != nil {
					return err
				}
			}
		case TrigTimeAfter:
			switch {
			case t.Field != "":
				if !ev.Created && !ev.Changed[fieldChangeKey(ev.Def, t.Field)] {
					continue
				}
				at, ok := s.dateAnchor(ctx, eventValue(ev, t.Field))
				if !ok || at.Add(delay).Before(now.Add(-time.Minute)) {
					// Cleared, or its moment passed before it was set.
					if err := s.cancelJobs(ctx, tx, w.ID, ev.ID); err != nil {
						return err
					}
					continue
				}
				if err := s.rescheduleJob(ctx, tx, w, ev.ID, at.Add(delay), "time_after"); err != nil {
					return err
				}
			case t.Event == TrigCreated:
				if ev.Created {
					if err := s.scheduleJob(ctx, tx, w.ID, ev.ID, ev.At.Add(delay), "time_after"); err != nil {
						return err
					}
				}
			case t.Event == TrigUpdated:
				if !ev.Created && len(ev.Changed) > 0 {
					if err := s.rescheduleJob(ctx, tx, w, ev.ID, now.Add(delay), "time_after"); err != nil {
						return err
					}
				}
			case t.Event == TrigStageChanged:
				if !ev.Created && ev.Changed["stage"] {
					if err := s.rescheduleJob(ctx, tx, w, ev.ID, now.Add(delay), "time_after"); err != nil {
						return err
					}
				}
			}
		case TrigInactive:
			reset := ev.Created
			switch t.What {
			case "stage":
				reset = reset || ev.Changed["stage"]
			case "status":
				reset = reset || ev.Changed["status"]
			}
			if reset {
				if err := s.rescheduleJob(ctx, tx, w, ev.ID, now.Add(delay), "inactive"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// formSubmitted starts the form_submitted rules of a web form's record.
func (s *Store) formSubmitted(ctx context.Context, tx *sql.Tx, e Entity, id, formID int64) error {
	if err := s.webhookForm(ctx, tx, e, id, formID); err != nil {
		return err
	}
	rs := s.rules.Load()
	if rs == nil {
		return nil
	}
	for _, w := range rs.byEntity[e] {
		if w.Trigger.Type == TrigFormSubmitted && (w.Trigger.FormID == 0 || int64(w.Trigger.FormID) == formID) {
			if err := s.scheduleJob(ctx, tx, w.ID, id, s.now(), TrigFormSubmitted); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldChangeKey is how a field appears in an event's Changed set.
func fieldChangeKey(d *EntityDef, key string) string {
	if key == "owner_id" {
		return d.OwnerKey
	}
	return key
}

// eventValue is a field's new value in an event.
func eventValue(ev *recordEvent, key string) any {
	if ck, ok := strings.CutPrefix(key, "custom."); ok {
		return ev.NewCustom[ck]
	}
	if key == "owner_id" || key == ev.Def.OwnerKey {
		return ev.Owner
	}
	return ev.New[key]
}

// dateAnchor turns a date (midnight in the company's time zone) or a
// date-time value into the moment a time trigger counts from.
func (s *Store) dateAnchor(ctx context.Context, v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case string:
		if x == "" {
			return time.Time{}, false
		}
		loc := time.UTC
		if c, err := s.Company(ctx); err == nil {
			if l, err := time.LoadLocation(c.Timezone); err == nil {
				loc = l
			}
		}
		if t, err := time.ParseInLocation("2006-01-02", x, loc); err == nil {
			return t, true
		}
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// scheduleJob adds a due-time for a rule and record; the same due-time
// twice is one job.
func (s *Store) scheduleJob(ctx context.Context, tx *sql.Tx, rule, record int64, due time.Time, event string) error {
	if _, err := execTx(ctx, tx, `INSERT OR IGNORE INTO workflow_jobs (workflow_id, record_id, due_at, event) VALUES (?, ?, ?, ?)`, rule, record, ms(due), event); err != nil {
		return err
	}
	// The scheduler looks again after the commit: the job may be due now
	// or before the moment it planned to wake.
	s.wakePending.Store(true)
	return nil
}

// rescheduleJob replaces a rule's pending due-time for a record: the last
// event decides when a delay or an inactivity clock ends.
func (s *Store) rescheduleJob(ctx context.Context, tx *sql.Tx, w *Workflow, record int64, due time.Time, event string) error {
	if err := s.cancelJobs(ctx, tx, w.ID, record); err != nil {
		return err
	}
	return s.scheduleJob(ctx, tx, w.ID, record, due, event)
}

func (s *Store) cancelJobs(ctx context.Context, tx *sql.Tx, rule, record int64) error {
	_, err := execTx(ctx, tx, `DELETE FROM workflow_jobs WHERE workflow_id = ? AND record_id = ? AND status = 'pending'`, rule, record)
	return err
}

// wakeScheduler tells the scheduler that a job may be due now; it never
// blocks, and a scheduler that is busy finds the job on its next pass.
func (s *Store) wakeScheduler() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wake is signalled after a write that scheduled a job, so that the
// scheduler runs it, or plans its sleep, without waiting for its tick.
func (s *Store) Wake() <-chan struct{} { return s.wake }
