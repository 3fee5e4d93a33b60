package ui

import (
	"net/http"

	"cartera/store"
)

// statusFor is the one place where a store error code becomes an HTTP status.
func statusFor(code store.Code) int {
	switch code {
	case store.CodeInvalid:
		return http.StatusUnprocessableEntity
	case store.CodeNotFound:
		return http.StatusNotFound
	case store.CodeConflict:
		return http.StatusConflict
	case store.CodeForbidden:
		return http.StatusForbidden
	case store.CodeUnauthorized:
		return http.StatusUnauthorized
	case store.CodeTooMany:
		return http.StatusTooManyRequests
	case "":
		return http.StatusOK
	}
	return http.StatusInternalServerError
}

// logIfInternal logs an error's cause when it is internal; others are the
// user's doing and need no log line.
func (s *Server) logIfInternal(r *http.Request, err error) {
	if store.ErrorCode(err) == store.CodeInternal {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// fail renders an error page for a store error, translated, with the
// status the code maps to; internal text is logged, never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logIfInternal(r, err)
	se := store.AsError(err)
	if se.Code == store.CodeUnauthorized && reqCtxOf(r).actor == nil {
		redirect(w, r, "/login")
		return
	}
	s.errorPage(w, r, statusFor(se.Code), se.Key)
}

// errorPage renders the generic error page with a message key.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := s.newPage(r, "error.title")
	p.ErrorMsg = p.T(key)
	s.render(w, r, status, "error", p)
}

// formErrors translates a store error's message and field errors into the
// page, for re-rendering a form; it returns the status to answer with.
func (s *Server) formErrors(r *http.Request, p *page, err error) int {
	s.logIfInternal(r, err)
	se := store.AsError(err)
	p.ErrorMsg = p.T(se.Key)
	for f, k := range se.Fields {
		p.Errors[f] = p.T(k)
	}
	return statusFor(se.Code)
}
