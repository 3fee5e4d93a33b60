package ui

import (
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"cartera/i18n"
	"cartera/store"
)

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one structured line per request and turns a panic into
// a logged 500 instead of a dropped connection.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		rc := &reqCtx{}
		r = withReqCtx(r, rc)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if rec.status == 0 {
					http.Error(rec, "internal error", http.StatusInternalServerError)
				}
			}
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration", time.Since(start).Round(time.Microsecond), "bytes", rec.bytes, "user_id", rc.userID)
		}()
		next.ServeHTTP(rec, r)
	})
}

// securityHeaders sets the headers every response carries: no framing, no
// sniffing, and a Content-Security-Policy that allows only our own scripts.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds every request body so a huge post cannot exhaust memory.
func limitBody(n int64, next http.Handler, uploads ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && !slices.ContainsFunc(uploads, func(u string) bool {
			return u == r.URL.Path || strings.HasSuffix(u, "/") && strings.HasPrefix(r.URL.Path, u)
		}) {
			// Upload endpoints (and trees given with a trailing "/", like
			// CardDAV's) set their own, larger limit.
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the client's IP address as seen by this server; Cartera
// serves the LAN directly and trusts no forwarding headers.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// pageContext resolves the company, the session, the acting user and the
// translator for a browser request; before setup it sends everyone to the
// page explaining the setup link.
func (s *Server) pageContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqCtxOf(r)
		ctx := r.Context()
		setUp := s.setUp.Load()
		if !setUp {
			ok, err := s.st.IsSetUp(ctx)
			if err != nil {
				s.log.Error("checking setup", "err", err)
				http.Error(w, "database unavailable", http.StatusServiceUnavailable)
				return
			}
			if ok {
				s.setUp.Store(true)
				setUp = true
			}
		}
		if setUp {
			c, err := s.st.Company(ctx)
			if err != nil {
				s.log.Error("loading company", "err", err)
				http.Error(w, "database unavailable", http.StatusServiceUnavailable)
				return
			}
			rc.company = c
			sess, err := s.sessions.Get(r, sessionCookie)
			if err != nil {
				s.log.Error("loading session", "err", err)
			}
			rc.session = sess
			if a, ok := sess.Values[actorKey{}].(*store.Actor); ok {
				rc.actor = a
				rc.userID = a.UserID
			}
		}
		rc.tr = s.translatorFor(r, rc)
		if !setUp && r.URL.Path != "/setup" {
			s.render(w, r, http.StatusServiceUnavailable, "setup_needed", s.newPage(r, "setup.needed_title"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// translatorFor picks the language: the user's setting, else the language
// cookie an anonymous visitor chose, else the company default, else Catalan.
func (s *Server) translatorFor(r *http.Request, rc *reqCtx) *i18n.Translator {
	lang, tz := "", ""
	if rc.actor != nil {
		lang, tz = rc.actor.Language, rc.actor.Timezone
	}
	if lang == "" {
		if c, err := r.Cookie(langCookie); err == nil && store.ValidLanguage(c.Value) {
			lang = c.Value
		}
	}
	if rc.company != nil {
		if lang == "" {
			lang = rc.company.Language
		}
		if tz == "" {
			tz = rc.company.Timezone
		}
	}
	if lang == "" {
		lang = acceptLanguage(r)
	}
	return s.i18n.For(lang, loadLocation(tz))
}

// acceptLanguage picks the first supported language the browser asks for.
func acceptLanguage(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if store.ValidLanguage(base) {
			return base
		}
	}
	return "ca"
}

func loadLocation(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// authed sends anonymous visitors to the login page, then back.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqCtxOf(r).actor == nil {
			if r.Method == http.MethodGet {
				redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			redirect(w, r, "/login")
			return
		}
		h(w, r)
	})
}

// requireCap wraps authed and answers 403 when the actor lacks a
// capability; the store checks again, this only gives a clean page early.
func (s *Server) requireCap(c store.Capability, h http.HandlerFunc) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request) {
		if !reqCtxOf(r).actor.Has(c) {
			s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		h(w, r)
	})
}
