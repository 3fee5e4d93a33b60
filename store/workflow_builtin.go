package store

import (
	"context"
	"database/sql"
	"slices"
)

// BuiltinWorkflows are the ready-made rules from the course, in the order
// the rules page offers them: seed 000's follow-up e-mail, seed 004's
// stalled opportunity task, and a welcome with a round-robin call task
// for web leads, and issue 12's quote follow-up (a task for the owner when
// a quote sent 7 days ago is still not accepted).
var BuiltinWorkflows = []string{"follow_up", "stalled_opportunity", "web_lead", "quote_follow_up"}

// CreateBuiltinWorkflow adds a ready-made rule, switched off so the admin
// can read and adjust it first, with its e-mail templates written in w's
// language. Each example exists at most once.
func (s *Store) CreateBuiltinWorkflow(ctx context.Context, a *Actor, key string, w Words) (*Workflow, error) {
	if err := canAutomate(a); err != nil {
		return nil, err
	}
	if !slices.Contains(BuiltinWorkflows, key) {
		return nil, errNotFound()
	}
	if w == nil {
		w = plainWords{}
	}
	wf := &Workflow{Builtin: key, Name: w.T("workflows.builtin." + key), Match: "all"}
	err := s.write(ctx, func(tx *sql.Tx) error {
		template := func(e Entity, name string) (FlexInt, error) {
			t := &EmailTemplate{
				Name: w.T("workflows.builtin." + name + ".template"), Language: w.Lang(), Entity: e,
				Subject: w.T("workflows.builtin." + name + ".subject"), BodyText: w.T("workflows.builtin." + name + ".body"),
			}
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM email_templates WHERE name = ? AND language = ?`, t.Name, t.Language).Scan(&id)
			if err == nil {
				return FlexInt(id), nil
			}
			if !isNoRows(err) {
				return 0, err
			}
			if err := s.checkTemplate(t); err != nil {
				return 0, err
			}
			now := s.nowMS()
			res, err := tx.ExecContext(ctx, `INSERT INTO email_templates (name, language, entity, subject, body_text, body_html, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?)`,
				t.Name, t.Language, string(e), t.Subject, t.BodyText, a.auditUser(), now, now)
			if err != nil {
				return 0, err
			}
			id, _ = res.LastInsertId()
			return FlexInt(id), nil
		}
		switch key {
		case "follow_up":
			tpl, err := template(EntContacts, "follow_up")
			if err != nil {
				return err
			}
			wf.Entity = EntContacts
			wf.Trigger = Trigger{Type: TrigTimeAfter, Event: TrigCreated, Delay: "3d"}
			wf.Conditions = []Condition{{Field: "email", Op: "not_empty"}}
			wf.Actions = []WorkflowAction{{Type: ActSendEmail, To: "record", TemplateID: tpl}}
		case "stalled_opportunity":
			wf.Entity = EntOpportunities
			wf.Trigger = Trigger{Type: TrigInactive, What: "stage", Delay: "14d"}
			wf.Conditions = []Condition{{Field: "stage", Op: "not_in", Value: FlexStrings{"won", "lost"}}}
			wf.Actions = []WorkflowAction{
				{Type: ActCreateTask, Title: w.T("workflows.builtin.stalled_opportunity.task"), DueIn: "1d", Assignee: "owner"},
				{Type: ActNotify, Assignee: "owner", Message: w.T("workflows.builtin.stalled_opportunity.notify")},
			}
		case "quote_follow_up":
			// Quotes mirror their state onto the opportunity (quote_status,
			// quote_sent_at: store/quotes.go), so the rule lives there: the
			// timer counts from the last sending and the condition drops
			// quotes accepted, rejected or expired in the meantime.
			wf.Entity = EntOpportunities
			wf.Trigger = Trigger{Type: TrigTimeAfter, Field: "quote_sent_at", Delay: "7d"}
			wf.Conditions = []Condition{{Field: "quote_status", Op: "eq", Value: FlexStrings{QuoteSent}}}
			wf.Actions = []WorkflowAction{
				{Type: ActCreateTask, Title: w.T("workflows.builtin.quote_follow_up.task"), DueIn: "1d", Assignee: "owner"},
			}
		case "web_lead":
			tpl, err := template(EntLeads, "web_lead")
			if err != nil {
				return err
			}
			wf.Entity = EntLeads
			wf.Trigger = Trigger{Type: TrigFormSubmitted}
			var team int64
			err = tx.QueryRowContext(ctx, `SELECT coalesce(min(team_id), 0) FROM users WHERE team_id IS NOT NULL AND disabled = 0`).Scan(&team)
			if err != nil {
				return err
			}
			if team != 0 {
				wf.Actions = append(wf.Actions, WorkflowAction{Type: ActAssignOwner, RoundRobinTeamID: FlexInt(team)})
			}
			wf.Actions = append(wf.Actions,
				WorkflowAction{Type: ActSendEmail, To: "record", TemplateID: tpl},
				WorkflowAction{Type: ActCreateTask, Title: w.T("workflows.builtin.web_lead.task"), DueIn: "2h", Assignee: "owner"},
			)
		}
		if err := s.checkWorkflow(ctx, tx, wf); err != nil {
			return err
		}
		return s.insertWorkflow(ctx, tx, a, wf)
	})
	if err != nil {
		return nil, err
	}
	return wf, nil
}
