package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"cartera/store"
)

// apiAuth authenticates /api/v1 with a bearer token only: the session
// cookie is ignored (so a page cannot be turned against the API), and a
// token in the query string is refused because URLs end up in logs.
func (s *Server) apiAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqCtxOf(r)
		if c, err := s.st.Company(r.Context()); err == nil {
			rc.company = c
		}
		rc.tr = s.translatorFor(r, rc)
		if r.URL.Path != "/api/v1/imports" && !attachmentUploadPath.MatchString(r.URL.Path) {
			// The imports and attachments endpoints take files; they set
			// their own limits.
			r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		}
		q := r.URL.Query()
		for _, k := range []string{"access_token", "token", "api_key", "apikey", "bearer"} {
			if q.Has(k) {
				s.apiErrorKey(w, r, http.StatusUnauthorized, store.CodeUnauthorized, "error.token_in_query")
				return
			}
		}
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cartera"`)
			s.apiErrorKey(w, r, http.StatusUnauthorized, store.CodeUnauthorized, "error.unauthorized")
			return
		}
		a, err := s.st.TokenActor(r.Context(), strings.TrimSpace(token))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cartera", error="invalid_token"`)
			s.apiError(w, r, err)
			return
		}
		rc.actor = a
		rc.userID = a.UserID
		rc.tr = s.translatorFor(r, rc)
		next.ServeHTTP(w, r)
	})
}

// apiErrorBody is the one JSON error shape of the API.
type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// apiError writes a store error as JSON with its translated message;
// internal causes are logged, never sent.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.apiErrorKey(w, r, http.StatusRequestEntityTooLarge, store.CodeInvalid, "error.too_large")
		return
	}
	s.logIfInternal(r, err)
	se := store.AsError(err)
	tr := reqCtxOf(r).tr
	body := apiErrorBody{Error: apiErrorDetail{Code: string(se.Code), Message: tr.T(se.Key)}}
	if len(se.Fields) > 0 {
		body.Error.Fields = map[string]string{}
		for f, k := range se.Fields {
			body.Error.Fields[f] = tr.T(k)
		}
	}
	writeJSON(w, statusFor(se.Code), body)
}

func (s *Server) apiErrorKey(w http.ResponseWriter, r *http.Request, status int, code store.Code, key string) {
	tr := reqCtxOf(r).tr
	msg := key
	if tr != nil {
		msg = tr.T(key)
	}
	writeJSON(w, status, apiErrorBody{Error: apiErrorDetail{Code: string(code), Message: msg}})
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.apiErrorKey(w, r, http.StatusNotFound, store.CodeNotFound, "error.not_found")
}

func (s *Server) apiMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMethodNotAllowed, apiErrorBody{Error: apiErrorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
}

// writeJSON encodes v into a buffer first so an encoding error never sends
// half a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// decodeJSON reads a JSON body strictly: unknown fields and trailing data
// are refused, and the errors are the API's own.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return &store.Error{Code: store.CodeInvalid, Key: "error.bad_json", Err: err}
	}
	if dec.More() {
		return &store.Error{Code: store.CodeInvalid, Key: "error.bad_json"}
	}
	return nil
}

// apiUser is a user as the API shows it; ids are strings.
type apiUser struct {
	ID           string                                        `json:"id"`
	Email        string                                        `json:"email"`
	Name         string                                        `json:"name"`
	Role         string                                        `json:"role"`
	TeamID       string                                        `json:"team_id,omitempty"`
	Language     string                                        `json:"language"`
	Timezone     string                                        `json:"timezone"`
	Permissions  map[store.Entity]map[store.Action]store.Scope `json:"permissions"`
	Capabilities []store.Capability                            `json:"capabilities"`
	Sections     []store.Section                               `json:"sections"`
}

// apiMe returns the token's user and what they may do.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	rc := reqCtxOf(r)
	lang, tz := a.Language, a.Timezone
	if lang == "" && rc.company != nil {
		lang = rc.company.Language
	}
	if tz == "" && rc.company != nil {
		tz = rc.company.Timezone
	}
	out := apiUser{ID: itoa(a.UserID), Email: a.Email, Name: a.Name, Role: a.RoleKey, Language: lang, Timezone: tz,
		Permissions: a.Permissions.Entities, Capabilities: a.Permissions.Capabilities, Sections: a.Sections}
	if out.Capabilities == nil {
		out.Capabilities = []store.Capability{}
	}
	if a.TeamID != 0 {
		out.TeamID = itoa(a.TeamID)
	}
	writeJSON(w, http.StatusOK, out)
}
