package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file holds erasure (the "right to be forgotten"): a contact or lead
// is anonymised everywhere Cartera keeps something about the person, in one
// transaction, while the business facts reports count (opportunities and
// their amounts and stages, activity types, outcomes and dates, owners,
// lead sources and statuses) stay, so every report keeps its totals.
//
// What is erased, for the person's record and every record of the same
// person (the lead a contact was converted from or to, the duplicates
// merged into it):
//   - the record: name → "Erased #ID", e-mail, phones, job title, company
//     (leads), notes and every custom value cleared, with the sort, e-mail
//     and phone keys and the full-text row rebuilt from the placeholder;
//   - activities, tasks and cases linked to it: subject or title →
//     "[erased]", description and custom values cleared (type, outcome,
//     objective, dates, status, owner and links stay);
//   - field history of all these records: the old and new values of every
//     personal field; audit log details and import before-images about
//     them; merge undo values;
//   - outbox messages to the person or about the record (address, name,
//     subject, bodies; unsent ones are cancelled), dropbox messages from,
//     to or about them, notifications about them (deleted), workflow run
//     details about the record;
//   - then, everywhere else (other records' notes, activities, cases,
//     e-mails, history and audit details), every mention of the person's
//     e-mail addresses, full name and phone numbers is replaced by
//     "[erased]".
//
// The erasure itself is written to the audit log with counts only, and the
// person's e-mail addresses go on the suppression list (salted hashes).
// The old bytes must not stay in the file either: SQLite's secure_delete
// (set on the writer connection, see dsn) zeroes deleted and overwritten
// content; the full-text index, a contentless FTS5 table whose deletes only
// leave tombstones, is merged ('optimize') in the same transaction so the
// segments holding the person's terms are rewritten and their pages
// zeroed; and after the commit the WAL is checkpointed and truncated.

// erasedMark replaces erased text that has no better placeholder.
const erasedMark = "[erased]"

// ErasedName is the placeholder name of an erased contact or lead.
func ErasedName(id int64) string { return fmt.Sprintf("Erased #%d", id) }

// EraseResult counts what an erasure changed, for the person doing it and
// the audit log (counts only, never values).
type EraseResult struct {
	Entity Entity `json:"entity"`
	ID     int64  `json:"id,string"`
	// Records are the person's records erased (the one asked for first,
	// then converted or merged ones).
	Records       []PersonRef `json:"records"`
	Activities    int         `json:"activities"`
	Tasks         int         `json:"tasks"`
	Cases         int         `json:"cases"`
	Emails        int         `json:"emails"`
	Inbound       int         `json:"inbound"`
	History       int         `json:"history"`
	Mentions      int         `json:"mentions"`
	Suppressed    int         `json:"suppressed"`
	Notifications int         `json:"notifications"`
}

// PersonRef names one record of a person.
type PersonRef struct {
	Entity Entity `json:"entity"`
	ID     int64  `json:"id,string"`
}

// EraseRecord anonymises a contact or lead and every trace of the person
// (see the top of this file) in one transaction; it needs the privacy
// capability and a record the actor may view (live or in the trash).
func (s *Store) EraseRecord(ctx context.Context, a *Actor, e Entity, id int64) (*EraseResult, error) {
	return s.eraseRecord(ctx, a, e, id, "request", true)
}

// eraseRecord is EraseRecord with the reason recorded in the audit log
// ("request" or "retention"); optimize false leaves the full-text merge to
// the caller, who erases several records and merges once.
func (s *Store) eraseRecord(ctx context.Context, a *Actor, e Entity, id int64, reason string, optimize bool) (*EraseResult, error) {
	if err := a.requirePrivacy(); err != nil {
		return nil, err
	}
	if !slices.Contains(PrivacyEntities, e) {
		return nil, errNotFound()
	}
	res := &EraseResult{Entity: e, ID: id}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.personRecord(ctx, tx, a, e, id); err != nil {
			return err
		}
		var erasedAt int64
		if err := tx.QueryRowContext(ctx, "SELECT erased_at FROM "+s.def(e).Table+" WHERE id = ?", id).Scan(&erasedAt); err != nil {
			return err
		}
		if erasedAt != 0 && reason == "retention" {
			return errNotFound()
		}
		people, err := personRecords(ctx, tx, e, id)
		if err != nil {
			return err
		}
		res.Records = people
		terms, emails, err := personTerms(ctx, tx, people)
		if err != nil {
			return err
		}
		for _, em := range emails {
			if err := s.suppress(ctx, tx, em, "erased"); err != nil {
				return err
			}
			res.Suppressed++
		}
		for _, p := range people {
			if err := s.erasePerson(ctx, tx, p, emails, res); err != nil {
				return err
			}
		}
		n, err := s.scrubMentions(ctx, tx, terms)
		if err != nil {
			return err
		}
		res.Mentions = n
		if err := eraseAccountContacts(ctx, s, tx, emails, terms); err != nil {
			return err
		}
		if optimize {
			if err := optimizeSearch(ctx, tx); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "erase", string(e), id, map[string]any{
			"reason": reason, "records": len(people), "activities": res.Activities, "tasks": res.Tasks, "cases": res.Cases,
			"emails": res.Emails, "inbound": res.Inbound, "history": res.History, "mentions": res.Mentions,
		})
	})
	if err != nil {
		return nil, err
	}
	s.checkpointAfterErase(ctx)
	return res, nil
}

// checkpointAfterErase copies the WAL into the database file and truncates
// it, so the pages written before the erasure (which still hold the
// person's data) do not stay in the -wal file. Readers in the middle of a
// query can keep it from finishing; the next checkpoint then completes it.
func (s *Store) checkpointAfterErase(ctx context.Context) {
	var busy, logFrames, done int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		s.log.Warn("checkpoint after erasure", "err", err)
		return
	}
	if busy != 0 {
		s.log.Info("checkpoint after erasure incomplete: readers busy; the next checkpoint completes it", "frames", logFrames, "done", done)
	}
}

// personRecord loads a contact or lead the actor may view, live or in the
// trash.
func (s *Store) personRecord(ctx context.Context, q querier, a *Actor, e Entity, id int64) (*Record, error) {
	d := s.def(e)
	r, err := s.loadRecord(ctx, q, a, d, id, false)
	if ErrorCode(err) == CodeNotFound {
		r, err = s.loadRecord(ctx, q, a, d, id, true)
	}
	return r, err
}

// personRecords finds every record of the same person: following lead
// conversion both ways and merges (the duplicates merged into a record).
func personRecords(ctx context.Context, tx *sql.Tx, e Entity, id int64) ([]PersonRef, error) {
	seen := map[PersonRef]bool{}
	queue := []PersonRef{{e, id}}
	var out []PersonRef
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		var more []PersonRef
		add := func(e Entity, q string, args ...any) error {
			ids, err := idsWhereQ(ctx, tx, q, args...)
			for _, id := range ids {
				if id != 0 {
					more = append(more, PersonRef{e, id})
				}
			}
			return err
		}
		if err := add(p.Entity, `SELECT loser_id FROM merges WHERE entity = ? AND survivor_id = ? UNION SELECT survivor_id FROM merges WHERE entity = ? AND loser_id = ?`, string(p.Entity), p.ID, string(p.Entity), p.ID); err != nil {
			return nil, err
		}
		if p.Entity == EntContacts {
			if err := add(EntLeads, `SELECT id FROM leads WHERE converted_contact_id = ?`, p.ID); err != nil {
				return nil, err
			}
		} else {
			if err := add(EntContacts, `SELECT COALESCE(converted_contact_id, 0) FROM leads WHERE id = ?`, p.ID); err != nil {
				return nil, err
			}
		}
		queue = append(queue, more...)
	}
	return out, nil
}

// personTerms collects what identifies the person in free text: their
// e-mail addresses, full names (both orders) and phone numbers (as typed
// and as digits). Short values are left out, so erasing "Li Wu" does not
// rewrite every "li" in the database; the records themselves are cleared
// field by field whatever their length.
func personTerms(ctx context.Context, tx *sql.Tx, people []PersonRef) (terms, emails []string, err error) {
	seen := map[string]bool{}
	addTerm := func(v string, minLen int) {
		v = strings.TrimSpace(v)
		k := strings.ToLower(v)
		if utf8.RuneCountInString(v) < minLen || seen[k] {
			return
		}
		seen[k] = true
		terms = append(terms, v)
	}
	for _, p := range people {
		var first, last, email, phone, mobile string
		q := `SELECT first_name, last_name, email, phone, mobile FROM contacts WHERE id = ?`
		if p.Entity == EntLeads {
			q = `SELECT first_name, last_name, email, phone, '' FROM leads WHERE id = ?`
		}
		if err := tx.QueryRowContext(ctx, q, p.ID).Scan(&first, &last, &email, &phone, &mobile); err != nil {
			return nil, nil, err
		}
		if em := suppressKey(email); em != "" && !slices.Contains(emails, em) {
			emails = append(emails, em)
			addTerm(em, 3)
		}
		if first != "" && last != "" {
			addTerm(first+" "+last, 5)
			addTerm(last+" "+first, 5)
			addTerm(last+", "+first, 5)
		} else {
			addTerm(first+last, 6)
		}
		for _, ph := range []string{phone, mobile} {
			if d := digitsOf(ph); len(d) >= 6 {
				addTerm(ph, 6)
				addTerm(d, 6)
			}
		}
	}
	return terms, emails, nil
}

// personalHistoryKeep are the fields whose history stays on an erased
// record: business facts, not the person.
var personalHistoryKeep = []string{"owner_id", "assignee_id", "status", "source", "account_id", "converted_account_id",
	"converted_contact_id", "converted_opportunity_id", "type", "outcome", "objective", "occurred_at", "due_at",
	"priority", "category", "opportunity_id", "case_id", "contact_id", "lead_id", "completed_at", "resolved_at", "closed_at", "remind_before"}

// erasePerson anonymises one record of the person and what hangs off it.
func (s *Store) erasePerson(ctx context.Context, tx *sql.Tx, p PersonRef, emails []string, res *EraseResult) error {
	d := s.def(p.Entity)
	now := s.nowMS()
	name := ErasedName(p.ID)
	vals := map[string]any{"first_name": "", "last_name": name, "email": "", "phone": "", "mobile": "", "company": ""}
	sets := []string{"first_name = ''", "last_name = ?", "email = ''", "phone = ''", "title = ''", "notes = ''", "custom = '{}'",
		"erased_at = ?", "updated_at = ?", "version = version + 1"}
	args := []any{name, now, now}
	if p.Entity == EntContacts {
		sets = append(sets, "mobile = ''")
	} else {
		sets = append(sets, "company = ''")
	}
	for k, v := range d.derived(vals) {
		sets = append(sets, k+" = ?")
		args = append(args, v)
	}
	args = append(args, p.ID)
	if _, err := tx.ExecContext(ctx, "UPDATE "+d.Table+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", args...); err != nil {
		return err
	}
	if err := s.indexRecord(ctx, tx, d, p.ID); err != nil {
		return err
	}
	link := linkColumn(p.Entity)
	acts, err := idsWhereQ(ctx, tx, "SELECT id FROM activities WHERE "+link+" = ?", p.ID)
	if err != nil {
		return err
	}
	tasks, err := idsWhereQ(ctx, tx, "SELECT id FROM tasks WHERE "+link+" = ?", p.ID)
	if err != nil {
		return err
	}
	var cases []int64
	if p.Entity == EntContacts {
		if cases, err = idsWhereQ(ctx, tx, "SELECT id FROM cases WHERE contact_id = ?", p.ID); err != nil {
			return err
		}
	}
	res.Activities += len(acts)
	res.Tasks += len(tasks)
	res.Cases += len(cases)
	markKey := foldKey(erasedMark)
	for _, x := range []struct {
		table, sets string
		ids         []int64
	}{
		{"activities", "subject = ?1, name_key = ?2, description = '', custom = '{}'", acts},
		{"tasks", "title = ?1, name_key = ?2, description = '', custom = '{}'", tasks},
		{"cases", "subject = ?1, name_key = ?2, description = '', custom = '{}'", cases},
	} {
		for _, rid := range x.ids {
			if _, err := tx.ExecContext(ctx, "UPDATE "+x.table+" SET "+x.sets+", updated_at = ?3, version = version + 1 WHERE id = ?4", erasedMark, markKey, now, rid); err != nil {
				return err
			}
		}
	}
	for _, rid := range cases {
		if err := s.indexRecord(ctx, tx, s.def(EntCases), rid); err != nil {
			return err
		}
	}
	// History, audit details, import before-images and notifications of
	// the record and of everything linked to it.
	touched := []struct {
		e   Entity
		ids []int64
	}{{p.Entity, []int64{p.ID}}, {EntActivities, acts}, {EntTasks, tasks}, {EntCases, cases}}
	keep, keepArgs := inStrings(personalHistoryKeep)
	for _, t := range touched {
		for _, rid := range t.ids {
			r, err := tx.ExecContext(ctx, `UPDATE field_history SET old_value = '', new_value = '' WHERE entity = ? AND record_id = ? AND field NOT IN (`+keep+`) AND (old_value <> '' OR new_value <> '')`,
				append([]any{string(t.e), rid}, keepArgs...)...)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			res.History += int(n)
			if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET detail = '{}' WHERE entity = ? AND record_id = ? AND detail <> '{}' AND action NOT IN ('erase', 'privacy.export')`, string(t.e), rid); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE import_changes SET before = '{}' WHERE entity = ? AND record_id = ? AND before <> '{}'`, string(t.e), rid); err != nil {
				return err
			}
			r, err = tx.ExecContext(ctx, `DELETE FROM notifications WHERE entity = ? AND record_id = ?`, string(t.e), rid)
			if err != nil {
				return err
			}
			n, _ = r.RowsAffected()
			res.Notifications += int(n)
			if t.e == p.Entity || t.e == EntActivities {
				// Files on the person's record and on what was logged
				// about them (e-mails with their attachments) are
				// personal; a case's documents stay with the case.
				if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE entity = ? AND record_id = ?`, string(t.e), rid); err != nil {
					return err
				}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE workflow_runs SET steps = '[]', error = '' WHERE record_id = ? AND workflow_id IN (SELECT id FROM workflows WHERE entity = ?)`, p.ID, string(p.Entity)); err != nil {
		return err
	}
	if err := eraseMergeUndo(ctx, tx, p); err != nil {
		return err
	}
	if err := eraseOutbox(ctx, tx, p, emails, res); err != nil {
		return err
	}
	return eraseInbound(ctx, tx, acts, emails, res)
}

// inStrings makes "?,?,?" and its arguments for a list of strings.
func inStrings(vs []string) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(vs)), ","), args
}

// eraseMergeUndo drops the field values a merge keeps to undo itself when
// the merge involves the person; the undo still moves linked records back.
func eraseMergeUndo(ctx context.Context, tx *sql.Tx, p PersonRef) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, undo FROM merges WHERE entity = ? AND (survivor_id = ? OR loser_id = ?)`, string(p.Entity), p.ID, p.ID)
	if err != nil {
		return err
	}
	type mu struct {
		id   int64
		undo string
	}
	var list []mu
	for rows.Next() {
		var m mu
		if err := rows.Scan(&m.id, &m.undo); err != nil {
			rows.Close()
			return err
		}
		list = append(list, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range list {
		var undo map[string]any
		if json.Unmarshal([]byte(m.undo), &undo) != nil {
			undo = map[string]any{}
		}
		undo["Fields"] = map[string]any{}
		undo["Custom"] = map[string]any{}
		b, _ := json.Marshal(undo)
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET undo = ? WHERE id = ?`, string(b), m.id); err != nil {
			return err
		}
	}
	return nil
}

// eraseOutbox clears the outbox copies of e-mails to the person or about
// the record; messages not sent yet are cancelled.
func eraseOutbox(ctx context.Context, tx *sql.Tx, p PersonRef, emails []string, res *EraseResult) error {
	cond := "(entity = ? AND record_id = ?)"
	args := []any{string(p.Entity), p.ID}
	if len(emails) > 0 {
		ph, eargs := inStrings(emails)
		cond += " OR lower(to_addr) IN (" + ph + ")"
		args = append(args, eargs...)
	}
	r, err := tx.ExecContext(ctx, `UPDATE outbox SET to_addr = '', to_name = '', subject = '`+erasedMark+`', body_text = '', body_html = '', last_error = '',
		status = CASE WHEN status IN ('pending', 'sending') THEN 'cancelled' ELSE status END WHERE `+cond, args...)
	if err != nil {
		return err
	}
	n, _ := r.RowsAffected()
	res.Emails += int(n)
	return nil
}

// eraseInbound clears dropbox messages that became the person's activities
// or that come from or go to their addresses: subject and body go, their
// address and name leave the sender and recipient lists.
func eraseInbound(ctx context.Context, tx *sql.Tx, acts []int64, emails []string, res *EraseResult) error {
	ids := map[int64]bool{}
	for _, aid := range acts {
		got, err := idsWhereQ(ctx, tx, `SELECT inbound_id FROM inbound_email_activities WHERE activity_id = ?`, aid)
		if err != nil {
			return err
		}
		for _, id := range got {
			ids[id] = true
		}
	}
	for _, em := range emails {
		got, err := idsWhereQ(ctx, tx, `SELECT id FROM inbound_emails WHERE lower(from_addr) = ? OR instr(lower(to_addrs), ?) > 0 OR instr(lower(cc_addrs), ?) > 0`, em, em, em)
		if err != nil {
			return err
		}
		for _, id := range got {
			ids[id] = true
		}
	}
	for id := range ids {
		var from, fromName, to, cc string
		if err := tx.QueryRowContext(ctx, `SELECT from_addr, from_name, to_addrs, cc_addrs FROM inbound_emails WHERE id = ?`, id).Scan(&from, &fromName, &to, &cc); err != nil {
			return err
		}
		if slices.Contains(emails, suppressKey(from)) {
			from, fromName = "", ""
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inbound_emails SET subject = ?, body_text = '', from_addr = ?, from_name = ?, to_addrs = ?, cc_addrs = ?, updated_at = updated_at WHERE id = ?`,
			erasedMark, from, fromName, dropAddrs(to, emails), dropAddrs(cc, emails), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_files WHERE inbound_id = ?`, id); err != nil {
			return err
		}
		res.Inbound++
	}
	return nil
}

// dropAddrs removes the person's addresses from a stored JSON address list.
func dropAddrs(list string, emails []string) string {
	var addrs []MailAddress
	if json.Unmarshal([]byte(list), &addrs) != nil {
		return "[]"
	}
	out := []MailAddress{}
	for _, x := range addrs {
		if !slices.Contains(emails, suppressKey(x.Email)) {
			out = append(out, x)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// mentionColumns are the free-text columns where a person may be mentioned
// outside their own records: table, key columns, text columns.
var mentionColumns = []struct {
	table string
	key   []string
	cols  []string
}{
	{"audit_log", []string{"id"}, []string{"detail"}},
	{"field_history", []string{"id"}, []string{"old_value", "new_value"}},
	{"activities", []string{"id"}, []string{"subject", "description"}},
	{"tasks", []string{"id"}, []string{"title", "description"}},
	{"cases", []string{"id"}, []string{"subject", "description"}},
	{"accounts", []string{"id"}, []string{"notes"}},
	{"contacts", []string{"id"}, []string{"notes"}},
	{"leads", []string{"id"}, []string{"notes"}},
	{"opportunities", []string{"id"}, []string{"name"}},
	{"outbox", []string{"id"}, []string{"to_addr", "to_name", "subject", "body_text", "body_html"}},
	{"inbound_emails", []string{"id"}, []string{"from_addr", "from_name", "to_addrs", "cc_addrs", "subject", "body_text"}},
	{"notifications", []string{"id"}, []string{"title", "body", "args"}},
	{"import_changes", []string{"import_id", "seq"}, []string{"before"}},
	{"merges", []string{"id"}, []string{"undo"}},
	{"workflow_runs", []string{"id"}, []string{"steps", "error"}},
}

// scrubMentions replaces every mention of the terms in mentionColumns by
// the erased mark, ignoring case; it returns how many rows changed. Cases
// and opportunities changed are written to the search index again.
func (s *Store) scrubMentions(ctx context.Context, tx *sql.Tx, terms []string) (int, error) {
	if len(terms) == 0 {
		return 0, nil
	}
	quoted := make([]string, len(terms))
	// Longest first, so "Ada Zyx Lovelace" goes before "Ada Zyx".
	sorted := slices.Clone(terms)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for i, t := range sorted {
		quoted[i] = regexp.QuoteMeta(t)
	}
	re := regexp.MustCompile(`(?i)` + strings.Join(quoted, "|"))
	total := 0
	for _, mc := range mentionColumns {
		var conds []string
		var args []any
		for _, c := range mc.cols {
			for _, t := range terms {
				conds = append(conds, "instr(lower("+c+"), ?) > 0")
				args = append(args, strings.ToLower(t))
			}
		}
		sel := strings.Join(append(slices.Clone(mc.key), mc.cols...), ", ")
		rows, err := tx.QueryContext(ctx, "SELECT "+sel+" FROM "+mc.table+" WHERE "+strings.Join(conds, " OR "), args...)
		if err != nil {
			return 0, err
		}
		type hit struct {
			key  []any
			vals []string
		}
		var hits []hit
		for rows.Next() {
			h := hit{key: make([]any, len(mc.key)), vals: make([]string, len(mc.cols))}
			dest := make([]any, 0, len(mc.key)+len(mc.cols))
			keys := make([]int64, len(mc.key))
			for i := range keys {
				dest = append(dest, &keys[i])
			}
			for i := range h.vals {
				dest = append(dest, &h.vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return 0, err
			}
			for i, k := range keys {
				h.key[i] = k
			}
			hits = append(hits, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		for _, h := range hits {
			var sets []string
			var uargs []any
			for i, c := range mc.cols {
				nv := re.ReplaceAllLiteralString(h.vals[i], erasedMark)
				if nv != h.vals[i] {
					sets = append(sets, c+" = ?")
					uargs = append(uargs, nv)
				}
			}
			if len(sets) == 0 {
				continue // matched only through lower()'s folding; nothing to replace
			}
			where := make([]string, len(mc.key))
			for i, k := range mc.key {
				where[i] = k + " = ?"
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+mc.table+" SET "+strings.Join(sets, ", ")+" WHERE "+strings.Join(where, " AND "), append(uargs, h.key...)...); err != nil {
				return 0, err
			}
			total++
			switch mc.table {
			case "cases":
				err = s.indexRecord(ctx, tx, s.def(EntCases), h.key[0].(int64))
			case "opportunities":
				if _, err = tx.ExecContext(ctx, `UPDATE opportunities SET name_key = ? WHERE id = ?`, foldKey(re.ReplaceAllLiteralString(h.vals[0], erasedMark)), h.key[0]); err == nil {
					err = s.indexRecord(ctx, tx, s.def(EntOpportunities), h.key[0].(int64))
				}
			}
			if err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

// optimizeSearch merges the full-text index into one segment, which drops
// the entries deleted rows left behind (contentless FTS5 keeps them until a
// merge); with secure_delete the pages of the old segments are zeroed. Its
// cost grows with the index: a fraction of a second for a small firm,
// seconds with a million records.
func optimizeSearch(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO search_index (search_index) VALUES ('optimize')`)
	return err
}

// optimizeSearchNow merges the full-text index after erasures made without
// it (the retention job's batch), then checkpoints the WAL.
func (s *Store) optimizeSearchNow(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return optimizeSearch(ctx, tx) })
	if err == nil {
		s.checkpointAfterErase(ctx)
	}
	return err
}

// eraseAccountContacts clears a client's e-mail or phone that is the
// person's own (a lead's details copied to the client at conversion), and
// writes those clients to the search index again.
func eraseAccountContacts(ctx context.Context, s *Store, tx *sql.Tx, emails, terms []string) error {
	var digits []string
	for _, t := range terms {
		if d := digitsOf(t); len(d) >= 6 && d == strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, t) {
			digits = append(digits, d)
		}
	}
	var ids []int64
	if len(emails) > 0 {
		ph, args := inStrings(emails)
		got, err := idsWhereQ(ctx, tx, `SELECT id FROM accounts WHERE email_key IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET email = '', email_key = '', version = version + 1 WHERE email_key IN (`+ph+`)`, args...); err != nil {
			return err
		}
		ids = append(ids, got...)
	}
	if len(digits) > 0 {
		ph, args := inStrings(digits)
		got, err := idsWhereQ(ctx, tx, `SELECT id FROM accounts WHERE phone_digits IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET phone = '', phone_digits = '', version = version + 1 WHERE phone_digits IN (`+ph+`)`, args...); err != nil {
			return err
		}
		ids = append(ids, got...)
	}
	for _, id := range ids {
		if err := s.indexRecord(ctx, tx, s.def(EntAccounts), id); err != nil {
			return err
		}
	}
	return nil
}
