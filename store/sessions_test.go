package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

const (
	testIdle     = 30 * time.Minute
	testAbsolute = 8 * time.Hour
)

// mustSession starts a session for a user and checks it resolves.
func mustSession(t *testing.T, s *store.Store, userID int64) string {
	t.Helper()
	id, err := s.CreateSession(context.Background(), userID, "192.0.2.10", "Mozilla/5.0 (test)", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := s.SessionActor(context.Background(), id)
	if err != nil || a.UserID != userID {
		t.Fatalf("new session resolves to %+v, %v; want user %d", a, err, userID)
	}
	return id
}

// sessionWorks reports whether a session id still resolves to its user.
func sessionWorks(t *testing.T, s *store.Store, id string) bool {
	t.Helper()
	a, _, err := s.SessionActor(context.Background(), id)
	switch store.ErrorCode(err) {
	case "":
		return a != nil
	case store.CodeUnauthorized:
		return false
	}
	t.Fatalf("SessionActor: %v", err)
	return false
}

// sessionRows counts the stored sessions of a user.
func sessionRows(t *testing.T, s *store.Store, userID int64) int64 {
	t.Helper()
	return queryInt(t, openRawDB(t, s.Path()), `SELECT count(*) FROM sessions WHERE user_id = ?`, userID)
}

// fileContains reports whether the database file or its WAL holds needle.
func fileContains(t *testing.T, path string, needle []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, needle) {
			return true
		}
	}
	return false
}

func TestStore_Sessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now, IdleTimeout: testIdle, AbsoluteTimeout: testAbsolute})
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "salesperson")

	t.Run("create and resolve", func(t *testing.T) {
		created := clock.Now()
		id, err := s.CreateSession(ctx, joan.UserID, "192.0.2.10", "Mozilla/5.0", []byte(`{"flash":"hola"}`))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) < 40 {
			t.Fatalf("session id %q is too short to be unguessable", id)
		}
		a, ss, err := s.SessionActor(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.UserID != joan.UserID || a.RoleKey != "salesperson" || ss.UserID != joan.UserID ||
			string(ss.Data) != `{"flash":"hola"}` || !ss.CreatedAt.Equal(created) || !ss.LastSeenAt.Equal(created) {
			t.Fatalf("actor %+v, session %+v", a, ss)
		}
		if err := s.SaveSessionData(ctx, id, []byte("adéu")); err != nil {
			t.Fatal(err)
		}
		if _, ss, err = s.SessionActor(ctx, id); err != nil || string(ss.Data) != "adéu" {
			t.Fatalf("data after save = %q, %v", ss.Data, err)
		}
		other := mustSession(t, s, joan.UserID)
		if other == id {
			t.Fatal("two sessions got the same id")
		}
	})

	t.Run("unknown and malformed ids", func(t *testing.T) {
		for _, id := range []string{"", "nope", strings.Repeat("a", 101), "' OR 1=1 --"} {
			a, ss, err := s.SessionActor(ctx, id)
			if a != nil || ss != nil {
				t.Fatalf("%q resolved to %+v %+v", id, a, ss)
			}
			wantErr(t, err, store.CodeUnauthorized, "error.unauthorized")
		}
	})

	t.Run("activity is recorded at most once a minute", func(t *testing.T) {
		created := clock.Now()
		id := mustSession(t, s, marta.UserID)
		db := openRawDB(t, s.Path())
		lastSeen := func() time.Time {
			return time.UnixMilli(queryInt(t, db, `SELECT last_seen_at FROM sessions WHERE id_hash = ?`, sha256Of(id))).UTC()
		}
		clock.Advance(50 * time.Second)
		if !sessionWorks(t, s, id) {
			t.Fatal("session ended after 50 s")
		}
		if got := lastSeen(); !got.Equal(created) {
			t.Fatalf("last seen moved to %v after 50 s; want %v", got, created)
		}
		clock.Advance(20 * time.Second)
		if !sessionWorks(t, s, id) {
			t.Fatal("session ended after 70 s")
		}
		if got, want := lastSeen(), created.Add(70*time.Second); !got.Equal(want) {
			t.Fatalf("last seen = %v after 70 s; want %v", got, want)
		}
	})

	t.Run("idle timeout", func(t *testing.T) {
		id := mustSession(t, s, joan.UserID)
		// Active for three hours, a request every five minutes: never idle.
		for elapsed := time.Duration(0); elapsed < 3*time.Hour; elapsed += 5 * time.Minute {
			clock.Advance(5 * time.Minute)
			if !sessionWorks(t, s, id) {
				t.Fatalf("active session ended after %v", elapsed+5*time.Minute)
			}
		}
		clock.Advance(testIdle - time.Minute)
		if !sessionWorks(t, s, id) {
			t.Fatal("session ended before the idle timeout")
		}
		clock.Advance(testIdle)
		if sessionWorks(t, s, id) {
			t.Fatal("session survived the idle timeout")
		}
		if n := queryInt(t, openRawDB(t, s.Path()), `SELECT count(*) FROM sessions WHERE id_hash = ?`, sha256Of(id)); n != 0 {
			t.Fatal("expired session was not deleted")
		}
	})

	t.Run("absolute timeout ends even an active session", func(t *testing.T) {
		id := mustSession(t, s, joan.UserID)
		for elapsed := 10 * time.Minute; elapsed <= testAbsolute+10*time.Minute; elapsed += 10 * time.Minute {
			clock.Advance(10 * time.Minute)
			works := sessionWorks(t, s, id)
			if elapsed < testAbsolute && !works {
				t.Fatalf("session ended after %v, before the absolute timeout", elapsed)
			}
			if elapsed >= testAbsolute && works {
				t.Fatalf("session still works after %v", elapsed)
			}
		}
	})

	t.Run("logout", func(t *testing.T) {
		id := mustSession(t, s, joan.UserID)
		keep := mustSession(t, s, joan.UserID)
		if err := s.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if sessionWorks(t, s, id) {
			t.Fatal("session works after DeleteSession")
		}
		if !sessionWorks(t, s, keep) {
			t.Fatal("DeleteSession ended another session")
		}
		if err := s.DeleteSession(ctx, "never-existed"); err != nil {
			t.Fatalf("DeleteSession of an unknown id: %v", err)
		}
	})

	t.Run("a password change ends that user's sessions only", func(t *testing.T) {
		j1, j2 := mustSession(t, s, joan.UserID), mustSession(t, s, joan.UserID)
		m := mustSession(t, s, marta.UserID)
		secret, _, err := s.CreateToken(ctx, joan, joan.UserID, "script")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetPassword(ctx, joan, joan.UserID, "password-123", "a-new-password"); err != nil {
			t.Fatal(err)
		}
		if sessionWorks(t, s, j1) || sessionWorks(t, s, j2) {
			t.Fatal("a session survived the password change")
		}
		if n := sessionRows(t, s, joan.UserID); n != 0 {
			t.Fatalf("%d sessions left after a password change", n)
		}
		if !sessionWorks(t, s, m) {
			t.Fatal("another user's session ended")
		}
		if a, err := s.TokenActor(ctx, secret); err != nil || a.UserID != joan.UserID {
			t.Fatalf("API token after a password change = %+v, %v; tokens must keep working", a, err)
		}
		// An admin's reset does the same.
		j3 := mustSession(t, s, joan.UserID)
		if err := s.SetPassword(ctx, admin, joan.UserID, "", "reset-by-admin"); err != nil {
			t.Fatal(err)
		}
		if sessionWorks(t, s, j3) {
			t.Fatal("a session survived the admin's reset")
		}
	})

	t.Run("purge removes expired sessions", func(t *testing.T) {
		// Let every session from earlier subtests expire and clear them.
		clock.Advance(testAbsolute + testIdle)
		if _, err := s.PurgeSessions(ctx); err != nil {
			t.Fatal(err)
		}
		db := openRawDB(t, s.Path())
		if n := queryInt(t, db, `SELECT count(*) FROM sessions`); n != 0 {
			t.Fatalf("%d sessions left after purging everything", n)
		}
		idle := mustSession(t, s, joan.UserID)
		old := mustSession(t, s, marta.UserID)
		// Keep old active until just before its absolute timeout.
		for elapsed := 10 * time.Minute; elapsed < testAbsolute; elapsed += 10 * time.Minute {
			clock.Advance(10 * time.Minute)
			if !sessionWorks(t, s, old) {
				t.Fatalf("session ended after %v", elapsed)
			}
		}
		fresh := mustSession(t, s, marta.UserID)
		clock.Advance(10 * time.Minute) // old reaches its absolute timeout
		n, err := s.PurgeSessions(ctx)
		if err != nil || n != 2 {
			t.Fatalf("PurgeSessions = %d, %v; want 2 (idle and old)", n, err)
		}
		if left := queryInt(t, db, `SELECT count(*) FROM sessions`); left != 1 {
			t.Fatalf("%d sessions left, want 1", left)
		}
		if !sessionWorks(t, s, fresh) {
			t.Fatal("purge ended a live session")
		}
		if sessionWorks(t, s, idle) || sessionWorks(t, s, old) {
			t.Fatal("purged session works")
		}
		if n, err := s.PurgeSessions(ctx); err != nil || n != 0 {
			t.Fatalf("second purge = %d, %v", n, err)
		}
	})

	t.Run("only a hash of the id is stored", func(t *testing.T) {
		id := mustSession(t, s, joan.UserID)
		db := openRawDB(t, s.Path())
		rows, err := db.Query(`SELECT id_hash, user_id, COALESCE(data, ''), ip, user_agent FROM sessions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		found := false
		for rows.Next() {
			var hash, data []byte
			var userID int64
			var ip, ua string
			if err := rows.Scan(&hash, &userID, &data, &ip, &ua); err != nil {
				t.Fatal(err)
			}
			for _, col := range [][]byte{hash, data, []byte(ip), []byte(ua)} {
				if bytes.Contains(col, []byte(id)) {
					t.Fatalf("the cookie value is stored in plain text: %q", col)
				}
			}
			found = found || bytes.Equal(hash, sha256Of(id))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Fatal("no session row holds the SHA-256 of the cookie value")
		}
		if !fileContains(t, s.Path(), []byte("Mozilla/5.0 (test)")) {
			t.Fatal("control: the stored user agent is not found in the database files")
		}
		if fileContains(t, s.Path(), []byte(id)) {
			t.Fatal("the cookie value appears in the database files")
		}
	})
}

// sha256Of is how the store derives the stored key of a secret.
func sha256Of(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

func TestStore_Tokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenStoreOpts(t, store.Options{Now: clock.Now})
	admin := mustSetup(t, s)
	joan := mustUser(t, s, admin, "joan@example.com", "salesperson")
	marta := mustUser(t, s, admin, "marta@example.com", "salesperson")

	secret, tok, err := s.CreateToken(ctx, joan, joan.UserID, "Sincronització")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("create and use", func(t *testing.T) {
		if !strings.HasPrefix(secret, "crt_") || len(secret) < 40 {
			t.Fatalf("secret = %q", secret)
		}
		if tok.ID == 0 || tok.UserID != joan.UserID || tok.Label != "Sincronització" || tok.Prefix != secret[:10] || !tok.RevokedAt.IsZero() {
			t.Fatalf("token = %+v", tok)
		}
		clock.Advance(time.Hour)
		a, err := s.TokenActor(ctx, secret)
		if err != nil || a.UserID != joan.UserID || a.RoleKey != "salesperson" {
			t.Fatalf("TokenActor = %+v, %v", a, err)
		}
		toks, err := s.FindTokens(ctx, joan, joan.UserID)
		if err != nil || len(toks) != 1 || toks[0].ID != tok.ID || !toks[0].LastUsedAt.Equal(clock.Now()) {
			t.Fatalf("FindTokens = %+v, %v; want last used %v", toks, err, clock.Now())
		}
		if acts := auditActions(t, s, admin, "api_tokens", tok.ID); len(acts) != 1 || acts[0] != "create" {
			t.Fatalf("audit = %v", acts)
		}
	})

	t.Run("bad secrets", func(t *testing.T) {
		for _, v := range []string{"", "crt_", "crt_nope", secret[4:], "Bearer " + secret, secret + "x", "crt_" + strings.Repeat("a", 100)} {
			a, err := s.TokenActor(ctx, v)
			if a != nil {
				t.Fatalf("%q resolved to %+v", v, a)
			}
			wantErr(t, err, store.CodeUnauthorized, "error.unauthorized")
		}
	})

	t.Run("the secret is not stored", func(t *testing.T) {
		db := openRawDB(t, s.Path())
		rows, err := db.Query(`SELECT label, token_hash, prefix FROM api_tokens`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var label, prefix string
			var hash []byte
			if err := rows.Scan(&label, &hash, &prefix); err != nil {
				t.Fatal(err)
			}
			for _, col := range [][]byte{[]byte(label), hash, []byte(prefix)} {
				if bytes.Contains(col, []byte(secret[4:])) || bytes.Contains(col, []byte(secret)) {
					t.Fatalf("the secret is stored in plain text: %q", col)
				}
			}
			if len(prefix) > 10 {
				t.Fatalf("stored prefix %q gives away too much", prefix)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !fileContains(t, s.Path(), []byte("Sincronització")) {
			t.Fatal("control: the stored label is not found in the database files")
		}
		if fileContains(t, s.Path(), []byte(secret[10:])) {
			t.Fatal("the secret appears in the database files")
		}
	})

	t.Run("another salesperson cannot see or touch them", func(t *testing.T) {
		_, _, err := s.CreateToken(ctx, marta, joan.UserID, "mine now")
		wantCode(t, err, store.CodeNotFound)
		_, err = s.FindTokens(ctx, marta, joan.UserID)
		wantCode(t, err, store.CodeNotFound)
		wantCode(t, s.RevokeToken(ctx, marta, tok.ID), store.CodeNotFound)
		wantCode(t, s.RevokeToken(ctx, marta, 9999), store.CodeNotFound)
		_, _, err = s.CreateToken(ctx, nil, joan.UserID, "x")
		wantCode(t, err, store.CodeUnauthorized)
		if a, err := s.TokenActor(ctx, secret); err != nil || a.UserID != joan.UserID {
			t.Fatalf("token stopped working: %v", err)
		}
		toks, err := s.FindTokens(ctx, joan, joan.UserID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("joan's tokens = %+v, %v", toks, err)
		}
	})

	t.Run("invalid label", func(t *testing.T) {
		_, _, err := s.CreateToken(ctx, joan, joan.UserID, "line\nbreak")
		wantCode(t, err, store.CodeInvalid)
		wantField(t, err, "label")
	})

	t.Run("revoke", func(t *testing.T) {
		other, otherTok, err := s.CreateToken(ctx, joan, joan.UserID, "")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if err := s.RevokeToken(ctx, joan, otherTok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.TokenActor(ctx, other)
		wantCode(t, err, store.CodeUnauthorized)
		if _, err := s.TokenActor(ctx, secret); err != nil {
			t.Fatalf("revoking one token broke another: %v", err)
		}
		toks, err := s.FindTokens(ctx, joan, joan.UserID)
		if err != nil || len(toks) != 2 || toks[0].ID != otherTok.ID || !toks[0].RevokedAt.Equal(clock.Now()) || !toks[1].RevokedAt.IsZero() {
			t.Fatalf("tokens = %+v, %v", toks, err)
		}
	})

	t.Run("admin lists and revokes a salesperson's tokens", func(t *testing.T) {
		toks, err := s.FindTokens(ctx, admin, joan.UserID)
		if err != nil || len(toks) != 2 {
			t.Fatalf("admin FindTokens = %+v, %v", toks, err)
		}
		mSecret, _, err := s.CreateToken(ctx, admin, marta.UserID, "made by admin")
		if err != nil {
			t.Fatal(err)
		}
		if a, err := s.TokenActor(ctx, mSecret); err != nil || a.UserID != marta.UserID {
			t.Fatalf("token made by admin = %+v, %v", a, err)
		}
		if err := s.RevokeToken(ctx, admin, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.TokenActor(ctx, secret)
		wantCode(t, err, store.CodeUnauthorized)
		if acts := auditActions(t, s, admin, "api_tokens", tok.ID); len(acts) != 2 || acts[1] != "revoke" {
			t.Fatalf("audit = %v", acts)
		}
	})

	t.Run("a disabled user's token stops working", func(t *testing.T) {
		mSecret, _, err := s.CreateToken(ctx, marta, marta.UserID, "cli")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenActor(ctx, mSecret); err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, err := s.UpdateUser(ctx, admin, marta.UserID, store.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		a, err := s.TokenActor(ctx, mSecret)
		if a != nil {
			t.Fatalf("disabled user's token resolved to %+v", a)
		}
		wantErr(t, err, store.CodeUnauthorized, "error.unauthorized")
	})
}
