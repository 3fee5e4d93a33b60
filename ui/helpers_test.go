package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cartera/i18n"
	"cartera/store"
	"cartera/ui"
)

const testSetupToken = "setup-token-for-tests"

// testClock is a clock tests can move forward.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEnv is a running Cartera front end over a real database file.
type testEnv struct {
	t     *testing.T
	st    *store.Store
	srv   *httptest.Server
	clock *testClock
	ui    *ui.Server
}

// mustServer starts the UI on an httptest server over a fresh database.
func mustServer(t *testing.T, mutate ...func(*ui.Options)) *testEnv {
	t.Helper()
	clock := &testClock{t: time.Now()}
	st, err := store.Open(context.Background(), store.Options{
		Path: filepath.Join(t.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	opts := ui.Options{SetupToken: testSetupToken, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mutate {
		m(&opts)
	}
	s, err := ui.New(st, bundle, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &testEnv{t: t, st: st, srv: srv, clock: clock, ui: s}
}

// mustSetupAdmin completes setup through the store and returns the admin.
func (e *testEnv) mustSetupAdmin() *store.Actor {
	e.t.Helper()
	u, err := e.st.Setup(context.Background(), store.SetupInput{
		Company:   store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "en", Currency: "EUR"},
		AdminName: "Anna Puig", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.st.ActorFor(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// mustUser creates a user with a role through the store.
func (e *testEnv) mustUser(admin *store.Actor, email, role string) *store.Actor {
	e.t.Helper()
	u, err := e.st.CreateUser(context.Background(), admin, store.UserInput{Email: email, Name: email, Password: "password-123", RoleKey: role})
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.st.ActorFor(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 303.
type browser struct {
	t   *testing.T
	env *testEnv
	c   *http.Client
}

func (e *testEnv) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, env: e, c: &http.Client{Jar: jar, Transport: englishTransport{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// englishTransport asks for English pages, as a browser set to English
// would, so assertions can quote English text before setup.
type englishTransport struct{}

func (englishTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	return http.DefaultTransport.RoundTrip(r)
}

// get fetches a path and returns status and body.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.env.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post submits a form as a same-origin browser would.
func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.env.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// postBody is post that also returns the body.
func (b *browser) postBody(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.env.srv.URL)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// login signs the browser in and fails the test if it does not work.
func (b *browser) login(email, password string) {
	b.t.Helper()
	resp := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d", email, resp.StatusCode)
	}
}

// sessionCookie returns the browser's current session cookie value.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.env.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "cartera_session" {
			return c.Value
		}
	}
	return ""
}

// api calls the JSON API with a bearer token and decodes the answer.
func (e *testEnv) api(method, path, token string, body io.Reader) (int, map[string]any) {
	e.t.Helper()
	return e.apiContent(method, path, token, "application/json", body)
}

// apiContent is api with a body of another content type (uploads).
func (e *testEnv) apiContent(method, path, token, contentType string, body io.Reader) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	// Downloads (a quote's PDF) answer no JSON to decode.
	if len(data) > 0 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/pdf") {
		if err := json.Unmarshal(data, &out); err != nil {
			e.t.Fatalf("%s %s: not JSON: %q", method, path, data)
		}
	}
	return resp.StatusCode, out
}

func strconvFormat(v int64) string { return strconv.FormatInt(v, 10) }

// apiHeaders is api with request headers (If-Match, If-None-Match), and
// returns the response so its headers can be read.
func (e *testEnv) apiHeaders(method, path, token string, body any, h map[string]string) (*http.Response, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if data, _ := io.ReadAll(resp.Body); len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			e.t.Fatalf("%s %s: not JSON: %q", method, path, data)
		}
	}
	return resp, out
}

// mustVdirsyncer returns the path of Debian's vdirsyncer, the real CardDAV
// client the sync tests drive. Without it the test is skipped, except under
// CI (CI set), where it must run; .ci/run installs it.
func mustVdirsyncer(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("vdirsyncer")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but vdirsyncer is not on PATH (%v); install it with apt-get install -y vdirsyncer", err)
		}
		t.Skipf("skipping CardDAV client test: vdirsyncer is not on PATH (%v); install it with apt-get install -y vdirsyncer", err)
	}
	return path
}

// mustToken makes an API token (a CardDAV app password) for a user.
func (e *testEnv) mustToken(a *store.Actor) string {
	e.t.Helper()
	secret, _, err := e.st.CreateToken(context.Background(), a, a.UserID, "phone")
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// regexpFind returns the first match of a pattern in s, failing the test
// when there is none.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindString(s)
	if m == "" {
		t.Fatalf("no %s in %q", pattern, s)
	}
	return m
}

// multipartFiles builds a multipart body with one "file" part per
// name/content pair, and its content type.
func multipartFiles(files ...[2]string) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		fw, _ := mw.CreateFormFile("file", f[0])
		fw.Write([]byte(f[1]))
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// postRaw sends a body of any content type as a same-origin browser would,
// with extra headers, and returns the response with its body read.
func (b *browser) postRaw(path, contentType string, body io.Reader, headers map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", b.env.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// apiRaw calls the API with a bearer token and returns the raw response,
// for downloads that are not JSON.
func (e *testEnv) apiRaw(method, path, token string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}
