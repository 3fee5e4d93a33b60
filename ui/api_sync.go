package ui

import (
	"crypto/sha256"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// etag is a record's entity tag: its version, which every change raises.
func etag(r *store.Record) string { return `"` + strconv.FormatInt(r.Version, 10) + `"` }

// ifMatch reads an If-Match header: present says it was sent, any that it
// was "*", and version the version it names (0 when it names none this
// server could have issued, which then never matches).
func ifMatch(r *http.Request) (version int64, present, any bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, false, false
	}
	if h == "*" {
		return 0, true, true
	}
	// One tag is what clients send; of a list the first decides.
	tag, _, _ := strings.Cut(h, ",")
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	n, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	if err != nil || n < 1 {
		return -1, true, false
	}
	return n, true, false
}

// preconditionFailed answers 412 for an If-Match that no longer matches.
func (s *Server) preconditionFailed(w http.ResponseWriter, r *http.Request) {
	s.apiErrorKey(w, r, http.StatusPreconditionFailed, store.Code("precondition_failed"), "error.precondition_failed")
}

// isStale reports the store's "changed since" conflict, which under an
// If-Match is a failed precondition.
func isStale(err error) bool {
	se := store.AsError(err)
	return se.Code == store.CodeConflict && se.Key == "error.changed_since"
}

// writeRecord answers with a record and its ETag.
func writeRecord(w http.ResponseWriter, status int, rec *store.Record) {
	w.Header().Set("ETag", etag(rec))
	writeJSON(w, status, recordJSON(rec))
}

// apiUpsertExternal is PUT /api/v1/{entity}/external/{system}/{id}: create
// the record that carries this external id, or update it, idempotently.
func (s *Server) apiUpsertExternal(w http.ResponseWriter, r *http.Request) {
	e := apiEntity(r)
	in, present, ok := s.writeInput(w, r, e)
	if !ok {
		return
	}
	vars := mux.Vars(r)
	rec, created, err := s.st.UpsertByExternalID(r.Context(), reqCtxOf(r).actor, e, vars["system"], vars["external_id"], in)
	if err != nil {
		if present && isStale(err) {
			s.preconditionFailed(w, r)
			return
		}
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Location", "/api/v1/"+string(e)+"/"+itoa(rec.ID))
	if created {
		w.Header().Set("Location", "/api/v1/"+string(e)+"/"+itoa(rec.ID))
		writeRecord(w, http.StatusCreated, rec)
		return
	}
	writeRecord(w, http.StatusOK, rec)
}

// tokenLimiter is a token bucket per API token: rate requests a minute,
// with bursts up to a minute's worth.
type tokenLimiter struct {
	mu      sync.Mutex
	perMin  float64
	now     func() time.Time
	buckets map[[16]byte]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newTokenLimiter(perMinute int, now func() time.Time) *tokenLimiter {
	return &tokenLimiter{perMin: float64(perMinute), now: now, buckets: map[[16]byte]*bucket{}}
}

// take spends one request of key; when none is left it returns how long
// until one is.
func (l *tokenLimiter) take(key [16]byte) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	perSec := l.perMin / 60
	if now.Sub(l.swept) > 10*time.Minute {
		// Forget tokens idle long enough to have refilled completely.
		for k, b := range l.buckets {
			if now.Sub(b.last).Seconds()*perSec >= l.perMin {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.perMin, last: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = math.Min(l.perMin, b.tokens+d*perSec)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / perSec * float64(time.Second))
}

// apiRateLimit returns the middleware that answers 429 with Retry-After
// when the request's token has used up its [api] rate_per_minute; it runs
// after apiAuth, so only valid tokens count. The router builds its chain
// per request, so the limiter is made here, once.
func (s *Server) apiRateLimit() mux.MiddlewareFunc {
	if s.opts.APIRatePerMinute <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	l := newTokenLimiter(s.opts.APIRatePerMinute, s.opts.Now)
	return func(next http.Handler) http.Handler {
		return s.rateLimited(l, next)
	}
}

// rateLimited spends one of the token's requests before next.
func (s *Server) rateLimited(l *tokenLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		var key [16]byte
		copy(key[:], sum[:16])
		ok, wait := l.take(key)
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			s.apiErrorKey(w, r, http.StatusTooManyRequests, store.CodeTooMany, "error.rate_limited")
			return
		}
		next.ServeHTTP(w, r)
	})
}
