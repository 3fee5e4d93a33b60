package ui

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"cartera/store"
)

const langCookie = "cartera_lang"

// setupData feeds the setup form its choices.
type setupData struct {
	Token     string
	Timezones []string
}

func (s *Server) setupAllowed(r *http.Request, token string) bool {
	return s.opts.SetupToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.SetupToken)) == 1
}

// setupForm shows first-run setup, only to whoever holds the console's link.
func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) {
	if s.setUp.Load() {
		redirect(w, r, "/login")
		return
	}
	token := r.URL.Query().Get("token")
	if !s.setupAllowed(r, token) {
		s.render(w, r, http.StatusForbidden, "setup_needed", s.newPage(r, "setup.needed_title"))
		return
	}
	p := s.newPage(r, "setup.title")
	p.Data = setupData{Token: token, Timezones: timezones}
	p.Form.Set("timezone", "Europe/Madrid")
	p.Form.Set("language", p.Tr.Lang())
	p.Form.Set("currency", "EUR")
	s.render(w, r, http.StatusOK, "setup", p)
}

// setupSubmit creates the company and the first administrator, then signs
// the administrator in.
func (s *Server) setupSubmit(w http.ResponseWriter, r *http.Request) {
	if s.setUp.Load() {
		redirect(w, r, "/login")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	token := r.PostForm.Get("token")
	if !s.setupAllowed(r, token) {
		s.render(w, r, http.StatusForbidden, "setup_needed", s.newPage(r, "setup.needed_title"))
		return
	}
	f := r.PostForm
	u, err := s.st.Setup(r.Context(), store.SetupInput{
		Company: store.Company{
			Name: f.Get("name"), Address: f.Get("address"), Phone: f.Get("phone"), Email: f.Get("email"), TaxID: f.Get("tax_id"),
			Timezone: f.Get("timezone"), Language: f.Get("language"), Currency: strings.ToUpper(strings.TrimSpace(f.Get("currency"))),
		},
		AdminName: f.Get("admin_name"), AdminEmail: f.Get("admin_email"), AdminPassword: f.Get("admin_password"),
	})
	if err != nil {
		if store.ErrorCode(err) == store.CodeConflict {
			s.setUp.Store(true)
			redirect(w, r, "/login")
			return
		}
		p := s.newPage(r, "setup.title")
		p.Data = setupData{Token: token, Timezones: timezones}
		p.Form = f
		p.Form.Del("admin_password")
		s.render(w, r, s.formErrors(r, p, err), "setup", p)
		return
	}
	s.setUp.Store(true)
	if err := s.startSession(w, r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/")
}

// startSession issues a brand-new session id for a user (never reusing one
// that existed before login) and sets the cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	rc := reqCtxOf(r)
	if rc.session != nil && !rc.session.IsNew && rc.session.ID != "" {
		s.st.DeleteSession(r.Context(), rc.session.ID)
	}
	sess := sessions.NewSession(s.sessions, sessionCookie)
	sess.Options = s.sessions.options()
	sess.IsNew = true
	sess.Values[userIDKey] = userID
	if err := sess.Save(r, w); err != nil {
		return err
	}
	rc.session = sess
	return nil
}

// loginData carries the login page's extra state.
type loginData struct {
	Next      string
	LoggedOut bool
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if reqCtxOf(r).actor != nil {
		redirect(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	p := s.newPage(r, "login.title")
	p.Data = loginData{Next: safeNext(r.URL.Query().Get("next")), LoggedOut: r.URL.Query().Get("bye") == "1"}
	s.render(w, r, http.StatusOK, "login", p)
}

// loginSubmit checks the password with throttling per account and per
// address; the answer is the same for unknown e-mails and wrong passwords.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	addr := clientAddr(r)
	p := s.newPage(r, "login.title")
	p.Data = loginData{Next: next}
	p.Form.Set("email", email)
	if s.limiter.blocked(email, addr) {
		w.Header().Set("Retry-After", "900")
		p.ErrorMsg = p.T("error.too_many_logins")
		s.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	}
	u, err := s.st.Authenticate(r.Context(), email, password)
	if err != nil {
		if store.ErrorCode(err) == store.CodeUnauthorized {
			s.limiter.fail(email, addr)
		}
		s.render(w, r, s.formErrors(r, p, err), "login", p)
		return
	}
	s.limiter.succeed(email)
	if err := s.startSession(w, r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, next)
}

// logout ends the session in the store, so the old cookie is worthless.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	rc := reqCtxOf(r)
	if rc.session != nil && rc.session.ID != "" {
		rc.session.Options.MaxAge = -1
		if err := rc.session.Save(r, w); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	redirect(w, r, "/login?bye=1")
}

// setLanguage switches the interface language: a signed-in user's setting
// changes; an anonymous visitor gets a cookie.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	lang := r.PostForm.Get("lang")
	next := safeNext(r.PostForm.Get("next"))
	if !store.ValidLanguage(lang) {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "error.language")
		return
	}
	if a := reqCtxOf(r).actor; a != nil {
		if _, err := s.st.UpdateUser(r.Context(), a, a.UserID, store.UserUpdate{Language: &lang}); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.opts.SecureCookies})
	}
	redirect(w, r, next)
}

// safeNext keeps redirects on this site: only local absolute paths pass.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// home is the signed-in start page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "home.title")
	p.Section = "home"
	p.Data = homeData{Checklist: s.homeChecklist(r), Dashboard: s.homeDashboard(r)}
	s.render(w, r, http.StatusOK, "home", p)
}
