package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// inboxEntities are the record types a waiting e-mail can be linked to from
// the inbox page: the ones with an e-mail address people know.
var inboxEntities = []store.Entity{store.EntContacts, store.EntLeads}

// inboxItem is one dropbox message with what the page shows of it.
type inboxItem struct {
	*store.InboundMessage
	// Recipients is To and Cc as one line.
	Recipients string
}

// inboxData feeds the inbox page.
type inboxData struct {
	Items    []inboxItem
	Statuses []store.InboundStatus
	Status   store.InboundStatus
	Entities []store.Entity
	// AllUsers is set for administrators, who see everyone's messages.
	AllUsers bool
	Next     int64
}

func joinAddrs(l ...[]store.MailAddress) string {
	var parts []string
	for _, x := range l {
		for _, a := range x {
			parts = append(parts, a.String())
		}
	}
	return strings.Join(parts, ", ")
}

// inbox lists the dropbox messages the user may see, waiting ones first.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := store.InboundStatus(q.Get("status"))
	if !slices.Contains(store.InboundStatuses, st) {
		st = store.InboundUnmatched
	}
	a := reqCtxOf(r).actor
	msgs, err := s.st.FindInbound(r.Context(), a, store.InboundFilter{Status: st, Before: parseInt64(q.Get("before")), Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &inboxData{Statuses: store.InboundStatuses, Status: st, Entities: inboxEntities, AllUsers: a.Has(store.CapSettings)}
	for _, m := range msgs {
		d.Items = append(d.Items, inboxItem{InboundMessage: m, Recipients: joinAddrs(m.To, m.Cc)})
	}
	if len(msgs) == 50 {
		d.Next = msgs[len(msgs)-1].ID
	}
	p := s.newPage(r, "inbox.title")
	p.Section = "inbox"
	p.Data = d
	s.render(w, r, http.StatusOK, "inbox", p)
}

// resolveRecord finds the record a person names on the link form: its
// number, or its exact e-mail address among the records they may see. The
// answer is 0 with an i18n key when there is no single such record.
func (s *Server) resolveRecord(r *http.Request, a *store.Actor, e store.Entity, v string) (int64, string, error) {
	v = strings.TrimSpace(v)
	if id, err := strconv.ParseInt(strings.TrimPrefix(v, "#"), 10, 64); err == nil && id > 0 {
		return id, "", nil
	}
	if !strings.Contains(v, "@") || !a.Can(e, store.ActView) {
		return 0, "inbox.no_record", nil
	}
	recs, _, err := s.st.FindRecords(r.Context(), a, e, store.Filter{Q: v, Limit: 20})
	if err != nil && store.ErrorCode(err) != store.CodeInvalid {
		return 0, "", err
	}
	var found []int64
	for _, rec := range recs {
		if strings.EqualFold(strings.TrimSpace(rec.Str("email")), v) {
			found = append(found, rec.ID)
		}
	}
	switch len(found) {
	case 0:
		return 0, "inbox.no_record", nil
	case 1:
		return found[0], "", nil
	}
	return 0, "inbox.ambiguous", nil
}

// inboxLink logs a waiting message on the record named in the form.
func (s *Server) inboxLink(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	id := parseInt64(mux.Vars(r)["id"])
	e := store.Entity(r.PostForm.Get("entity"))
	if !slices.Contains(inboxEntities, e) {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	// The message must be one the user may see before anything is looked up.
	if _, err := s.st.GetInbound(r.Context(), a, id); err != nil {
		s.fail(w, r, err)
		return
	}
	recID, key, err := s.resolveRecord(r, a, e, r.PostForm.Get("record"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if key == "" {
		_, err = s.st.LinkInbound(r.Context(), a, id, e, recID)
		switch store.ErrorCode(err) {
		case "":
		case store.CodeNotFound:
			key = "inbox.no_record"
		case store.CodeConflict, store.CodeInvalid:
			key = store.AsError(err).Key
		default:
			s.fail(w, r, err)
			return
		}
	}
	if key != "" {
		s.flash(w, r, "error", key)
	} else {
		s.flash(w, r, "success", "inbox.linked")
	}
	redirect(w, r, "/inbox")
}

// inboxDiscard drops a waiting message.
func (s *Server) inboxDiscard(w http.ResponseWriter, r *http.Request) {
	err := s.st.DiscardInbound(r.Context(), reqCtxOf(r).actor, parseInt64(mux.Vars(r)["id"]))
	switch store.ErrorCode(err) {
	case "":
		s.flash(w, r, "success", "inbox.discarded")
	case store.CodeConflict:
		s.flash(w, r, "error", store.AsError(err).Key)
	default:
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/inbox")
}

// apiInbox lists dropbox messages as JSON: waiting ones unless ?status=
// asks for logged or discarded ones.
func (s *Server) apiInbox(w http.ResponseWriter, r *http.Request) {
	st := store.InboundStatus(r.URL.Query().Get("status"))
	if st != "" && !slices.Contains(store.InboundStatuses, st) {
		s.apiErrorKey(w, r, http.StatusUnprocessableEntity, store.CodeInvalid, "error.invalid")
		return
	}
	msgs, err := s.st.FindInbound(r.Context(), reqCtxOf(r).actor, store.InboundFilter{Status: st, Before: parseInt64(r.URL.Query().Get("before")), Limit: 200})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		acts := make([]map[string]any, 0, len(m.Links))
		for _, l := range m.Links {
			acts = append(acts, map[string]any{"id": itoa(l.ActivityID), "entity": l.Entity, "record_id": itoa(l.RecordID)})
		}
		item := map[string]any{"id": itoa(m.ID), "message_id": m.MessageID, "status": m.Status, "direction": m.Direction,
			"from": m.From, "to": nonNil(m.To), "cc": nonNil(m.Cc), "subject": m.Subject, "text": m.Text,
			"created_at": m.CreatedAt.Format(time.RFC3339), "activities": acts}
		if !m.Date.IsZero() {
			item["date"] = m.Date.Format(time.RFC3339)
		}
		if m.UserID != 0 {
			item["user_id"] = itoa(m.UserID)
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func nonNil(v []store.MailAddress) []store.MailAddress {
	if v == nil {
		return []store.MailAddress{}
	}
	return v
}
