package ui

import (
	"bytes"
	"encoding/gob"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"cartera/store"
)

const sessionCookie = "cartera_session"

// userIDKey is the session value holding the signed-in user's id; it is
// written to its own column so the store can end a user's sessions at once.
const userIDKey = "uid"

// actorKey holds the resolved actor in a loaded session; it is never saved.
type actorKey struct{}

// sessionStore implements gorilla's sessions.Store over store's sessions
// table: the cookie holds only a random id, everything else stays on the
// server, so logging out or disabling a user takes effect at once.
type sessionStore struct {
	st     *store.Store
	secure bool
	maxAge time.Duration
}

func newSessionStore(st *store.Store, secure bool, maxAge time.Duration) *sessionStore {
	return &sessionStore{st: st, secure: secure, maxAge: maxAge}
}

func (ss *sessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: int(ss.maxAge.Seconds()), HttpOnly: true, Secure: ss.secure, SameSite: http.SameSiteLaxMode}
}

// Get returns the request's session, cached for the request by gorilla.
func (ss *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(ss, name)
}

// New loads the session named by the cookie, or returns a new empty one.
func (ss *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(ss, name)
	s.Options = ss.options()
	s.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return s, nil
	}
	actor, sess, err := ss.st.SessionActor(r.Context(), c.Value)
	if err != nil {
		if store.ErrorCode(err) == store.CodeInternal {
			return s, err
		}
		return s, nil
	}
	if len(sess.Data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(sess.Data)).Decode(&s.Values); err != nil {
			s.Values = map[any]any{}
		}
	}
	s.ID = c.Value
	s.IsNew = false
	s.Values[userIDKey] = sess.UserID
	s.Values[actorKey{}] = actor
	return s, nil
}

// Save writes the session: a new one is created in the store (it must carry
// a user id), an existing one has its data replaced, and MaxAge < 0 deletes.
func (ss *sessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	ctx := r.Context()
	if s.Options != nil && s.Options.MaxAge < 0 {
		if s.ID != "" {
			if err := ss.st.DeleteSession(ctx, s.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", s.Options))
		return nil
	}
	data, err := encodeValues(s.Values)
	if err != nil {
		return err
	}
	if s.ID == "" {
		uid, _ := s.Values[userIDKey].(int64)
		if uid == 0 {
			return nil // anonymous sessions are not stored
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		id, err := ss.st.CreateSession(ctx, uid, host, r.UserAgent(), data)
		if err != nil {
			return err
		}
		s.ID = id
		http.SetCookie(w, sessions.NewCookie(s.Name(), s.ID, s.Options))
		return nil
	}
	return ss.st.SaveSessionData(ctx, s.ID, data)
}

// encodeValues gob-encodes the session values except the id and actor,
// which have their own homes.
func encodeValues(v map[any]any) ([]byte, error) {
	keep := map[any]any{}
	for k, val := range v {
		if k == userIDKey {
			continue
		}
		if _, ok := k.(actorKey); ok {
			continue
		}
		keep[k] = val
	}
	if len(keep) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(keep); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
