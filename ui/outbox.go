package ui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"cartera/store"
)

// MailSender sends one queued e-mail at once and returns the SMTP server's
// refusal, if any; *mail.Drainer implements it.
type MailSender interface {
	SendNow(ctx context.Context, id int64) error
}

// outboxData feeds the outbox page.
type outboxData struct {
	Messages   []*store.OutboxMessage
	Statuses   []store.OutboxStatus
	Status     store.OutboxStatus
	Next       int64
	Configured bool
	// Result is the answer to a test e-mail sent just now.
	Result *testResult
}

// testResult is the outcome of the test e-mail: sent, or the server's error.
type testResult struct {
	OK    bool
	To    string
	Error string
}

// outboxPage builds the outbox page for the current filter.
func (s *Server) outboxPage(r *http.Request) (*page, error) {
	q := r.URL.Query()
	st := store.OutboxStatus(q.Get("status"))
	if !slices.Contains(store.OutboxStatuses, st) {
		st = ""
	}
	msgs, err := s.st.FindOutbox(r.Context(), reqCtxOf(r).actor, store.OutboxFilter{Status: st, Before: parseInt64(q.Get("before")), Limit: 50})
	if err != nil {
		return nil, err
	}
	d := &outboxData{Messages: msgs, Statuses: store.OutboxStatuses, Status: st, Configured: s.opts.Mail != nil}
	if len(msgs) == 50 {
		d.Next = msgs[len(msgs)-1].ID
	}
	p := s.newPage(r, "mail.outbox")
	p.Section = "settings"
	p.Data = d
	return p, nil
}

func (s *Server) outboxList(w http.ResponseWriter, r *http.Request) {
	p, err := s.outboxPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "outbox", p)
}

// outboxTest queues a test e-mail and, when an SMTP server is configured,
// sends it at once so the page can show the server's answer.
func (s *Server) outboxTest(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	rc := reqCtxOf(r)
	a := rc.actor
	to := strings.TrimSpace(r.PostForm.Get("to"))
	company := ""
	if rc.company != nil {
		company = rc.company.Name
	}
	m, err := s.st.QueueEmail(r.Context(), a, store.OutgoingEmail{
		To: to, ReplyTo: a.Email,
		Subject: rc.tr.T("mail.test_subject"),
		Text:    rc.tr.T("mail.test_body", "Company", company, "Name", a.Name),
	})
	if err != nil {
		p, perr := s.outboxPage(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		p.Form = r.PostForm
		s.render(w, r, s.formErrors(r, p, err), "outbox", p)
		return
	}
	if s.opts.Mail == nil {
		s.flash(w, r, "info", "mail.test_queued")
		redirect(w, r, "/settings/outbox")
		return
	}
	res := &testResult{OK: true, To: m.To}
	if err := s.opts.Mail.SendNow(r.Context(), m.ID); err != nil {
		var se *store.Error
		if errors.As(err, &se) {
			s.fail(w, r, err)
			return
		}
		res = &testResult{To: m.To, Error: err.Error()}
	}
	p, err := s.outboxPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data.(*outboxData).Result = res
	s.render(w, r, http.StatusOK, "outbox", p)
}

// outboxAction runs Retry or Cancel on one message and returns to the list.
func (s *Server) outboxAction(w http.ResponseWriter, r *http.Request) {
	id := parseInt64(mux.Vars(r)["id"])
	a := reqCtxOf(r).actor
	var err error
	done := "mail.retried"
	if mux.Vars(r)["action"] == "cancel" {
		err, done = s.st.CancelOutbox(r.Context(), a, id), "mail.cancelled"
	} else {
		err = s.st.RetryOutbox(r.Context(), a, id)
	}
	if store.ErrorCode(err) == store.CodeConflict {
		s.flash(w, r, "error", store.AsError(err).Key)
	} else if err != nil {
		s.fail(w, r, err)
		return
	} else {
		s.flash(w, r, "success", done)
	}
	redirect(w, r, "/settings/outbox")
}
