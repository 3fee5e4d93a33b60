package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cartera/store"
)

// searchPrefixes is what a person types, one key at a time.
var searchPrefixes = []string{"g", "ga", "gar", "garc", "garci", "garcia"}

var titles = []string{"Director comercial", "Gerent", "Responsable de compres", "Tècnica de sistemes", "Administrativa", "Cap de producció"}

// session is one signed-in browser: its own cookie jar.
type session struct {
	email  string
	userID int64
	client *http.Client
}

// target is the running server and what the workloads need to talk to it.
type target struct {
	base, origin string
	token        string
	transport    *http.Transport
	api          *http.Client
	sales        []*session
	admins       []*session
	fx           *fixtures
	deepCursor   string
	deepPage     int
	runID        string
	seq          atomic.Int64
}

func (t *target) newClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport: t.transport,
		Jar:       jar,
		Timeout:   2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// login signs in over HTTP as a browser would: POST /login with the form,
// same-origin, keeping the session cookie.
func (t *target) login(ctx context.Context, email, password string, userID int64) (*session, error) {
	jar, _ := cookiejar.New(nil)
	c := t.newClient(jar)
	form := url.Values{"email": {email}, "password": {password}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", t.origin)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(t.base)
	if resp.StatusCode != http.StatusSeeOther || len(jar.Cookies(u)) == 0 {
		return nil, fmt.Errorf("login %s: status %d, %d cookies", email, resp.StatusCode, len(jar.Cookies(u)))
	}
	return &session{email: email, userID: userID, client: c}, nil
}

// workload is one thing the benchmark measures.
type workload struct {
	name    string
	desc    string // what it requests, as whom
	clients int
	dur     time.Duration
	raw     string // the raw baseline query it is compared with
	op      func(w *worker)
	note    string
}

// worker is one concurrent client of a workload.
type worker struct {
	t    *target
	i    int
	n    int // requests made, to cycle through inputs
	rng  *rand.Rand
	sale *session
	adm  *session
	aggs map[string]*agg
}

func (w *worker) agg(label string) *agg {
	a := w.aggs[label]
	if a == nil {
		a = newAgg()
		w.aggs[label] = a
	}
	return a
}

// request makes one timed request: the time is until the whole body is
// read. want is the expected status; 0 means any 2xx or 3xx.
func (w *worker) request(label string, s *session, method, path string, form url.Values, hdr map[string]string, want int) (int, string) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, w.t.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", w.t.origin)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := w.t.api
	if s != nil {
		c = s.client
	} else {
		req.Header.Set("Authorization", "Bearer "+w.t.token)
	}
	start := time.Now()
	resp, err := c.Do(req)
	status := 0
	loc := ""
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		loc = resp.Header.Get("Location")
	}
	d := time.Since(start)
	ok := err == nil && status >= 200 && status < 400
	if want != 0 {
		ok = err == nil && status == want
	}
	w.agg(label).add(d, status, ok)
	return status, loc
}

func (w *worker) get(label string, s *session, path string) {
	w.request(label, s, http.MethodGet, path, nil, nil, 0)
}

func (w *worker) getAPI(label, path string) {
	w.request(label, nil, http.MethodGet, path, nil, nil, 0)
}

func (w *worker) search(label string) {
	q := searchPrefixes[w.n%len(searchPrefixes)]
	w.n++
	w.request(label+" q="+q, w.sale, http.MethodGet, "/search?q="+url.QueryEscape(q), nil, map[string]string{"HX-Request": "true"}, 0)
}

// reportKeys are the standard reports the reports workload cycles through.
var reportKeys = func() []string {
	var out []string
	for _, r := range store.StandardReports() {
		if r.Available {
			out = append(out, r.Key)
		}
	}
	return out
}()

// report requests the next standard report, timed under its own label.
func (w *worker) report(label string) {
	k := reportKeys[w.n%len(reportKeys)]
	w.n++
	w.getAPI(label+k, "/api/v1/reports/"+k)
}

func (w *worker) searchAPI(label string) {
	q := searchPrefixes[w.n%len(searchPrefixes)]
	w.n++
	w.getAPI(label+" q="+q, "/api/v1/search?q="+url.QueryEscape(q))
}

func (w *worker) record(label string) {
	id := w.t.fx.recordIDs[w.rng.IntN(len(w.t.fx.recordIDs))]
	w.get(label, w.sale, "/contacts/"+strconv.FormatInt(id, 10))
}

// create adds a contact through the form, with a unique e-mail and name so
// no duplicate warning answers instead of the 303; the browser then follows
// the redirect (which also takes the flash message out of the session).
func (w *worker) create(label, follow string) {
	n := w.t.seq.Add(1)
	form := url.Values{
		"first_name": {"Bench"},
		"last_name":  {fmt.Sprintf("Prova %s %d", w.t.runID, n)},
		"email":      {fmt.Sprintf("bench.%s.%d@example.com", w.t.runID, n)},
		"title":      {titles[w.rng.IntN(len(titles))]},
	}
	status, loc := w.request(label, w.sale, http.MethodPost, "/contacts", form, nil, http.StatusSeeOther)
	if status == http.StatusSeeOther && loc != "" && follow != "" {
		w.get(follow, w.sale, loc)
	}
}

// update edits a contact the signed-in salesperson owns.
func (w *worker) update(label, follow string) {
	own := w.t.fx.owned[w.sale.userID]
	if len(own) == 0 {
		w.agg(label).add(0, 0, false)
		return
	}
	id := own[w.rng.IntN(len(own))]
	form := url.Values{"title": {titles[w.rng.IntN(len(titles))]}}
	status, loc := w.request(label, w.sale, http.MethodPost, "/contacts/"+strconv.FormatInt(id, 10), form, nil, http.StatusSeeOther)
	if status == http.StatusSeeOther && loc != "" && follow != "" {
		w.get(follow, w.sale, loc)
	}
}

// mixed is a day at the office: 20% writes, the rest the pages people use.
func (w *worker) mixed() {
	r := w.rng.IntN(100)
	switch {
	case r < 10:
		w.create("create", "record (after write)")
	case r < 20:
		w.update("update", "record (after write)")
	case r < 40:
		w.record("record")
	case r < 55:
		w.get("list", w.sale, "/contacts")
	case r < 63:
		w.search("search")
	case r < 70:
		w.get("list_tag", w.sale, "/contacts?tag=VIP")
	case r < 77:
		w.get("opps_proposal", w.sale, "/opportunities?stage=proposal&sort=amount")
	case r < 82:
		w.get("board", w.sale, "/opportunities/board")
	case r < 88:
		w.getAPI("api_list", "/api/v1/contacts?limit=50")
	case r < 94:
		w.get("deep_page_web", w.sale, "/contacts?cursor="+url.QueryEscape(w.t.deepCursor))
	default:
		w.getAPI("search_api", "/api/v1/search?q="+searchPrefixes[w.rng.IntN(len(searchPrefixes))])
	}
}

// workloadNames lists every workload in run order.
func workloadNames() []string {
	var out []string
	for _, wl := range workloads(&config{clients: 1, mixedClients: 1}, nil) {
		out = append(out, wl.name)
	}
	return append(out, "export", "import")
}

func workloads(c *config, t *target) []*workload {
	deep := func() string {
		if t == nil {
			return ""
		}
		return url.QueryEscape(t.deepCursor)
	}
	n, d := c.clients, c.duration
	return []*workload{
		{name: "list", desc: "GET /contacts (salesperson)", clients: n, dur: d, raw: "list",
			op: func(w *worker) { w.get("GET /contacts", w.sale, "/contacts") }},
		{name: "list_tag", desc: "GET /contacts?tag=VIP (salesperson)", clients: n, dur: d, raw: "list_tag",
			op: func(w *worker) { w.get("GET /contacts?tag=VIP", w.sale, "/contacts?tag=VIP") }},
		{name: "list_custom", desc: "GET /contacts?custom.contact_preference=whatsapp (salesperson; indexed custom field)", clients: n, dur: d, raw: "list_custom",
			op: func(w *worker) {
				w.get("GET /contacts?custom.contact_preference=whatsapp", w.sale, "/contacts?custom.contact_preference=whatsapp")
			}},
		{name: "opps_proposal", desc: "GET /opportunities?stage=proposal&sort=amount (salesperson: own)", clients: n, dur: d, raw: "opps_proposal",
			op: func(w *worker) {
				w.get("GET /opportunities?stage=proposal&sort=amount", w.sale, "/opportunities?stage=proposal&sort=amount")
			}},
		{name: "opps_proposal_admin", desc: "GET /opportunities?stage=proposal&sort=amount (admin: all)", clients: n, dur: d, raw: "opps_proposal",
			op: func(w *worker) {
				w.get("GET /opportunities?stage=proposal&sort=amount", w.adm, "/opportunities?stage=proposal&sort=amount")
			}},
		{name: "api_list", desc: "GET /api/v1/contacts?limit=50 (token, page 1)", clients: n, dur: d, raw: "list",
			op: func(w *worker) { w.getAPI("GET /api/v1/contacts?limit=50", "/api/v1/contacts?limit=50") }},
		{name: "deep_page", desc: "GET /api/v1/contacts?limit=50&cursor=… (token, deep page)", clients: n, dur: d, raw: "deep_page",
			op: func(w *worker) {
				w.getAPI("GET /api/v1/contacts?cursor=…", "/api/v1/contacts?limit=50&cursor="+deep())
			}},
		{name: "deep_page_web", desc: "GET /contacts?cursor=… (salesperson, deep page)", clients: n, dur: d, raw: "deep_page",
			op: func(w *worker) { w.get("GET /contacts?cursor=…", w.sale, "/contacts?cursor="+deep()) }},
		{name: "search", desc: "GET /search?q=g…garcia, HX-Request (salesperson)", clients: n, dur: d, raw: "search_entities",
			op: func(w *worker) { w.search("GET /search") }},
		{name: "search_api", desc: "GET /api/v1/search?q=g…garcia (token)", clients: n, dur: d, raw: "search_entities",
			op: func(w *worker) { w.searchAPI("GET /api/v1/search") }},
		{name: "record", desc: "GET /contacts/{random id} (salesperson)", clients: n, dur: d, raw: "record",
			op: func(w *worker) { w.record("GET /contacts/{id}") }},
		{name: "record_32", desc: "GET /contacts/{random id} at 32 clients", clients: 32, dur: d,
			op: func(w *worker) { w.record("GET /contacts/{id}") }},
		{name: "board", desc: "GET /opportunities/board (salesperson: own)", clients: n, dur: d, raw: "board",
			op: func(w *worker) { w.get("GET /opportunities/board", w.sale, "/opportunities/board") }},
		{name: "board_admin", desc: "GET /opportunities/board (admin: all)", clients: n, dur: d, raw: "board",
			op: func(w *worker) { w.get("GET /opportunities/board", w.adm, "/opportunities/board") }},
		{name: "reports", desc: "GET /api/v1/reports/{key}, each standard report in turn with its default period (token: admin; 1 client, so the figures are each report's own latency)", clients: 1, dur: d,
			op: func(w *worker) { w.report("GET /api/v1/reports/") }},
		{name: "create", desc: "POST /contacts form → 303 (then GET the record, not timed here)", clients: n, dur: d, raw: "create",
			op: func(w *worker) { w.create("POST /contacts", "+follow GET /contacts/{id}") }},
		{name: "update", desc: "POST /contacts/{own id} form → 303 (then GET, not timed here)", clients: n, dur: d, raw: "update",
			op: func(w *worker) { w.update("POST /contacts/{id}", "+follow GET /contacts/{id}") }},
		{name: "mixed", desc: fmt.Sprintf("%d clients, 20%% writes (create/update + follow), 80%% pages/API", c.mixedClients), clients: c.mixedClients, dur: c.mixedDuration,
			op: func(w *worker) { w.mixed() }},
	}
}

// wlResult is the outcome of one workload.
type wlResult struct {
	wl       *workload
	wall     time.Duration
	main     summary
	subs     map[string]summary
	subOrder []string
	busy     int64
	srvErrs  int64
	rssMax   int64 // bytes
	cpu      float64
}

// runHTTP signs in, prepares the deep-page cursor and runs every workload.
func runHTTP(ctx context.Context, c *config, srv *server, fx *fixtures, token string, rep *report) error {
	t := &target{base: srv.base, origin: srv.base, token: token, fx: fx, runID: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	t.transport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute, DisableCompression: true}
	defer t.transport.CloseIdleConnections()
	t.api = t.newClient(nil)

	// Sign in: one session per client, cycling through the salespeople, and
	// a few admin sessions. Logins are deliberately slow (argon2id).
	nSales := max(c.clients, c.mixedClients, 32)
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 1) // one at a time, as people arrive: argon2id takes 19 MiB per login
	t.sales = make([]*session, nSales)
	t.admins = make([]*session, c.clients)
	for i := range nSales + c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			email, pw := adminEmail, adminPassword
			if i < nSales {
				email, pw = salespeople[i%len(salespeople)], staffPassword
			}
			s, err := t.login(ctx, email, pw, fx.userIDs[email])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			if i < nSales {
				t.sales[i] = s
			} else {
				t.admins[i-nSales] = s
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	logf("signed in %d salesperson and %d admin sessions in %s", nSales, c.clients, time.Since(start).Round(time.Millisecond))
	rep.sessions = nSales + c.clients
	rss, _ := procStatus(srv.pid())
	rep.rssAfterLogin = rss * 1024

	// The deep page: follow the API's next_cursor 999 pages of 50 in
	// (fetched 200 at a time), or as far as the dataset goes.
	start = time.Now()
	calls, err := t.findDeepCursor(ctx, 999*50)
	if err != nil {
		return err
	}
	rep.deepPage, rep.deepCursor = t.deepPage, t.deepCursor
	rep.deepChain = fmt.Sprintf("%d API calls in %s", calls, time.Since(start).Round(time.Millisecond))
	logf("deep page %d: cursor found with %s", t.deepPage, rep.deepChain)

	for _, wl := range workloads(c, t) {
		if !c.want(wl.name) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logf("workload %s: %d clients for %s", wl.name, wl.clients, wl.dur)
		prof := t.profile(ctx, c.pprofDir, wl)
		res := runWorkload(ctx, t, srv, wl)
		<-prof
		rep.http = append(rep.http, res)
		logf("  %d requests, %.0f req/s, p50 %s p95 %s p99 %s, %d errors, %d busy",
			res.main.N, res.main.RPS, ms(res.main.P50), ms(res.main.P95), ms(res.main.P99), res.main.Errs, res.busy)
	}
	if c.want("export") && ctx.Err() == nil {
		if err := t.export(ctx, srv, rep); err != nil {
			return err
		}
	}
	if c.want("import") && ctx.Err() == nil {
		return t.importContacts(ctx, srv, rep, c.importRows)
	}
	return nil
}

// importContacts posts a contacts CSV of n new rows (seed 000's headers,
// so the mapping is automatic; e-mail matching on) to the imports API and
// waits for it, noting rows per second and the server's memory.
func (t *target) importContacts(ctx context.Context, srv *server, rep *report, n int) error {
	logf("import: %d contacts over the API (automatic mapping, e-mail matching)", n)
	var csv bytes.Buffer
	csv.WriteString("Nom,Cognoms,Correu electrònic,Telèfon,Data de naixement,Preferències de contacte\n")
	prefs := []string{"Correu electrònic", "Telèfon", "WhatsApp", "Visita"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "Nom%d,Cognom %s %d,bench.%s.%d@import.example.com,6%08d,19%02d-%02d-%02d,%s\n", i, t.runID, i, t.runID, i, i, 50+i%50, 1+i%12, 1+i%28, prefs[i%len(prefs)])
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("entity", "contacts")
	mw.WriteField("match_on", "email")
	fw, _ := mw.CreateFormFile("file", "bench.csv")
	fw.Write(csv.Bytes())
	mw.Close()
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/api/v1/imports", &body)
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var got map[string]any
	resp, err := t.api.Do(req)
	if err != nil {
		return err
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("import: status %d %v", resp.StatusCode, got)
	}
	id, _ := got["id"].(string)
	for got["status"] == "running" {
		time.Sleep(100 * time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/api/v1/imports/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+t.token)
		resp, err := t.api.Do(req)
		if err != nil {
			return err
		}
		got = nil
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
	}
	rep.importTime = time.Since(start)
	created, _ := got["created"].(float64)
	rep.importRows, rep.importRSS = int64(created), srv.peakRSS()
	if got["status"] != "done" || int(created) != n {
		return fmt.Errorf("import ended %v", got)
	}
	logf("  %d rows in %s (%.0f rows/s)", n, rep.importTime.Round(time.Millisecond), float64(n)/rep.importTime.Seconds())
	return nil
}

// export downloads every contact as CSV, as the admin, once, and notes
// the rows per second and the server's memory afterwards.
func (t *target) export(ctx context.Context, srv *server, rep *report) error {
	logf("export: all contacts as CSV (admin)")
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/contacts/export?format=csv", nil)
	resp, err := t.admins[0].client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("export: status %d", resp.StatusCode)
	}
	var lines, size int64
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		size += int64(n)
		lines += int64(bytes.Count(buf[:n], []byte("\n")))
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	rep.exportRows, rep.exportTime, rep.exportBytes = lines-1, time.Since(start), size
	rep.exportRSS = srv.peakRSS()
	logf("  %d rows in %s (%.0f rows/s), %s", rep.exportRows, rep.exportTime.Round(time.Millisecond), float64(rep.exportRows)/rep.exportTime.Seconds(), mib(size))
	return nil
}

// profile fetches a CPU profile of the server while a workload runs, as
// the admin, into dir/NAME.prof; the channel closes when it is written.
func (t *target) profile(ctx context.Context, dir string, wl *workload) chan struct{} {
	done := make(chan struct{})
	if dir == "" {
		close(done)
		return done
	}
	secs := max(1, int(wl.dur.Seconds())-1)
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
		resp, err := t.admins[0].client.Do(req)
		if err != nil {
			logf("pprof: %v", err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			logf("pprof: status %d", resp.StatusCode)
			return
		}
		f, err := os.Create(filepath.Join(dir, wl.name+".prof"))
		if err != nil {
			logf("pprof: %v", err)
			return
		}
		io.Copy(f, resp.Body)
		f.Close()
	}()
	return done
}

// findDeepCursor follows next_cursor until skip rows are behind it.
func (t *target) findDeepCursor(ctx context.Context, skip int) (int, error) {
	cursor, skipped, calls := "", 0, 0
	for skipped < skip {
		lim := min(200, skip-skipped)
		path := "/api/v1/contacts?limit=" + strconv.Itoa(lim)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+t.token)
		resp, err := t.api.Do(req)
		if err != nil {
			return calls, err
		}
		var page struct {
			Data       []json.RawMessage `json:"data"`
			NextCursor *string           `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		calls++
		if resp.StatusCode != http.StatusOK || err != nil {
			return calls, fmt.Errorf("deep cursor: %s: status %d: %v", path, resp.StatusCode, err)
		}
		if page.NextCursor == nil {
			break // the end: keep the last cursor, the deepest full page
		}
		skipped += len(page.Data)
		cursor = *page.NextCursor
	}
	t.deepCursor = cursor
	t.deepPage = skipped/50 + 1
	return calls, nil
}

func runWorkload(ctx context.Context, t *target, srv *server, wl *workload) *wlResult {
	busy0, errs0 := srv.busy.Load(), srv.errorLines.Load()
	srv.resetRSS()
	cpu0 := procCPU(srv.pid())
	workers := make([]*worker, wl.clients)
	for i := range workers {
		workers[i] = &worker{t: t, i: i, n: i, rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano()))),
			sale: t.sales[i%len(t.sales)], adm: t.admins[i%len(t.admins)], aggs: map[string]*agg{}}
	}
	start := time.Now()
	deadline := start.Add(wl.dur)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				wl.op(w)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	time.Sleep(50 * time.Millisecond) // let the stderr scanner catch up
	res := &wlResult{wl: wl, wall: wall, busy: srv.busy.Load() - busy0, srvErrs: srv.errorLines.Load() - errs0,
		rssMax: srv.rssMax.Load() * 1024, cpu: (procCPU(srv.pid()) - cpu0).Seconds() / wall.Seconds(), subs: map[string]summary{}}
	main := newAgg()
	byLabel := map[string]*agg{}
	for _, w := range workers {
		for label, a := range w.aggs {
			if byLabel[label] == nil {
				byLabel[label] = newAgg()
				res.subOrder = append(res.subOrder, label)
			}
			byLabel[label].merge(a)
			if !strings.HasPrefix(label, "+") {
				main.merge(a)
			}
		}
	}
	res.main = main.summary(wall)
	sortLabels(res.subOrder)
	if len(byLabel) > 1 {
		for label, a := range byLabel {
			res.subs[label] = a.summary(wall)
		}
	}
	return res
}

// sortLabels orders sub-rows: search prefixes by length, others by name.
func sortLabels(l []string) {
	less := func(a, b string) bool {
		qa, qb := strings.LastIndex(a, "q="), strings.LastIndex(b, "q=")
		if qa >= 0 && qb >= 0 && a[:qa] == b[:qb] {
			return len(a) < len(b)
		}
		return a < b
	}
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && less(l[j], l[j-1]); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
}
