package ui

import (
	"strings"
	"sync"
	"time"
)

// Login throttling limits: failures per account and per client address
// within the window before further attempts are refused.
const (
	throttleWindow     = 15 * time.Minute
	throttlePerAccount = 5
	throttlePerAddress = 20
	throttleMaxKeys    = 100_000
)

// loginLimiter counts failed logins per e-mail and per client address, so
// password guessing is slow whether it targets one account or many.
type loginLimiter struct {
	mu   sync.Mutex
	now  func() time.Time
	hits map[string][]time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, hits: map[string][]time.Time{}}
}

func (l *loginLimiter) recent(key string) int {
	cut := l.now().Add(-throttleWindow)
	h := l.hits[key]
	i := 0
	for i < len(h) && h[i].Before(cut) {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(l.hits, key)
	} else {
		l.hits[key] = h
	}
	return len(h)
}

// blocked reports whether a login for email from addr must be refused now.
// Unknown and known e-mails are counted alike.
func (l *loginLimiter) blocked(email, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recent("e:"+strings.ToLower(email)) >= throttlePerAccount || l.recent("a:"+addr) >= throttlePerAddress
}

// fail records a failed login.
func (l *loginLimiter) fail(email, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hits) > throttleMaxKeys {
		l.hits = map[string][]time.Time{} // bound memory under a flood
	}
	now := l.now()
	for _, k := range []string{"e:" + strings.ToLower(email), "a:" + addr} {
		l.hits[k] = append(l.hits[k], now)
	}
}

// succeed clears an account's failures after a correct password.
func (l *loginLimiter) succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, "e:"+strings.ToLower(email))
}
