package ui

import (
	"net/http"

	"github.com/gorilla/mux"

	"cartera/store"
)

// homeData is what the home page shows besides its tiles.
type homeData struct {
	// Checklist is the setup checklist card, nil when it is not shown.
	Checklist *store.Checklist
	// Dashboard is the reader's report widgets (ui/dashboards.go).
	Dashboard *dashboardData
}

// checklist computes the setup checklist for the request's actor, adding
// what only the server knows (mail configuration) and keeping a link only
// when its page exists on this server; a step whose page is missing is
// shown as coming later.
func (s *Server) checklist(r *http.Request) (*store.Checklist, error) {
	c, err := s.st.Checklist(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		return nil, err
	}
	c.Set(store.StepEmail, s.opts.MailConfigured)
	for _, st := range c.Steps {
		if st.Href != "" && !s.routeExists(r, st.Href) {
			st.Href, st.Later = "", true
		}
	}
	return c, nil
}

// routeExists reports whether a GET of path reaches a real page.
func (s *Server) routeExists(r *http.Request, path string) bool {
	if s.router == nil {
		return false
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, path, nil)
	if err != nil {
		return false
	}
	var m mux.RouteMatch
	return s.router.Match(req, &m) && m.MatchErr == nil
}

// homeChecklist returns the checklist card for the home page: only for
// administrators, while it is neither dismissed nor complete. A failure
// hides the card rather than the home page.
func (s *Server) homeChecklist(r *http.Request) *store.Checklist {
	if !reqCtxOf(r).actor.Has(store.CapSettings) {
		return nil
	}
	c, err := s.checklist(r)
	if err != nil {
		s.logIfInternal(r, err)
		return nil
	}
	if c.Dismissed || c.Complete() {
		return nil
	}
	return c
}

// checklistPage shows the "Getting started" steps with their state.
func (s *Server) checklistPage(w http.ResponseWriter, r *http.Request) {
	c, err := s.checklist(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "checklist.title")
	p.Section = "settings"
	p.Data = c
	s.render(w, r, http.StatusOK, "checklist", p)
}

// checklistDismiss hides the checklist from the home page (dismiss=1) or
// shows it again (dismiss=0), then returns to the page in next.
func (s *Server) checklistDismiss(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	dismiss := r.PostForm.Get("dismiss") == "1"
	if err := s.st.DismissChecklist(r.Context(), reqCtxOf(r).actor, dismiss); err != nil {
		s.fail(w, r, err)
		return
	}
	if dismiss {
		s.flash(w, r, "success", "checklist.dismissed")
	} else {
		s.flash(w, r, "success", "checklist.shown")
	}
	next := "/settings/getting-started"
	if r.PostForm.Get("next") == "/" {
		next = "/"
	}
	redirect(w, r, next)
}
