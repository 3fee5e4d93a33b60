package ui

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"cartera/importer"
	"cartera/store"
)

// DefaultMaxUpload is the largest import file accepted unless configured.
const DefaultMaxUpload = 100 << 20

// importEntities are the record types the import wizard offers.
var importEntities = []store.Entity{store.EntContacts, store.EntAccounts, store.EntLeads, store.EntOpportunities, store.EntActivities, store.EntTasks, store.EntCases}

// imports holds the files uploaded to the wizard and the imports running
// in the background, so progress survives a page reload.
type imports struct {
	mu     sync.Mutex
	dir    string
	staged map[string]*stagedFile
	jobs   map[int64]*importJob
}

// stagedFile is an uploaded file waiting for its mapping.
type stagedFile struct {
	token, path, name string
	entity            store.Entity
	userID            int64
	header            []string
	preview           [][]string
	total             int // data rows in the file
	opts              importer.ReadOptions
}

// importJob is an import running (or just finished) in the background.
type importJob struct {
	mu       sync.Mutex
	progress importer.Progress
	sum      *importer.Summary
	err      error
	done     bool
	staged   *stagedFile
}

func (j *importJob) snapshot() (importer.Progress, *importer.Summary, error, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.progress, j.sum, j.err, j.done
}

func newImports() (*imports, error) {
	dir, err := os.MkdirTemp("", "cartera-imports-")
	if err != nil {
		return nil, err
	}
	return &imports{dir: dir, staged: map[string]*stagedFile{}, jobs: map[int64]*importJob{}}, nil
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// importIndexData feeds the import page: the upload form and the history.
type importIndexData struct {
	Entities []option
	Imports  []importRow
	MaxMB    int64
}

type importRow struct {
	ID                                int64
	Entity, File, User, Status, When  string
	Created, Updated, Skipped, Failed int
}

func (s *Server) importIndex(w http.ResponseWriter, r *http.Request) {
	s.renderImportIndex(w, r, http.StatusOK, nil)
}

func (s *Server) renderImportIndex(w http.ResponseWriter, r *http.Request, status int, err error) {
	a := reqCtxOf(r).actor
	p := s.newPage(r, "import.title")
	p.Section = "settings"
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	d := importIndexData{MaxMB: s.maxUpload() >> 20}
	for _, e := range importEntities {
		if a.Can(e, store.ActCreate) {
			d.Entities = append(d.Entities, option{Value: string(e), Label: p.T("entity." + string(e)), Selected: r.FormValue("entity") == string(e)})
		}
	}
	list, lerr := s.st.FindImports(r.Context(), a)
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	for _, im := range list {
		d.Imports = append(d.Imports, importRow{ID: im.ID, Entity: p.T("entity." + string(im.Entity)), File: im.FileName, User: im.UserName,
			Status: p.T("import.status." + im.Status), When: p.DateTime(im.StartedAt), Created: im.Created, Updated: im.Updated, Skipped: im.Skipped, Failed: im.Failed})
	}
	p.Data = d
	s.render(w, r, status, "import_index", p)
}

func (s *Server) maxUpload() int64 {
	if s.opts.MaxUpload > 0 {
		return s.opts.MaxUpload
	}
	return DefaultMaxUpload
}

// importUpload receives the file, checks it can be read and shows the
// mapping step; a file over the limit is refused before it is stored.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload()+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.renderImportIndex(w, r, 0, &store.Error{Code: store.CodeInvalid, Key: "import.error.too_big", Fields: map[string]string{"file": "import.error.too_big"}})
			return
		}
		s.renderImportIndex(w, r, 0, &store.Error{Code: store.CodeInvalid, Key: "import.error.no_file", Fields: map[string]string{"file": "import.error.no_file"}})
		return
	}
	defer r.MultipartForm.RemoveAll()
	e := store.Entity(r.FormValue("entity"))
	if !slices.Contains(importEntities, e) || !a.Can(e, store.ActCreate) {
		s.renderImportIndex(w, r, 0, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"entity": "error.option"}})
		return
	}
	file, fh, err := r.FormFile("file")
	if err != nil {
		s.renderImportIndex(w, r, 0, &store.Error{Code: store.CodeInvalid, Key: "import.error.no_file", Fields: map[string]string{"file": "import.error.no_file"}})
		return
	}
	defer file.Close()
	if fh.Size > s.maxUpload() {
		s.renderImportIndex(w, r, 0, &store.Error{Code: store.CodeInvalid, Key: "import.error.too_big", Fields: map[string]string{"file": "import.error.too_big"}})
		return
	}
	opts := importer.ReadOptions{Encoding: r.FormValue("encoding"), Sheet: r.FormValue("sheet")}
	if d := r.FormValue("delimiter"); d != "" {
		opts.Delimiter = []rune(strings.ReplaceAll(d, "tab", "\t"))[0]
	}
	sf, err := s.stageFile(a, e, file, fh.Filename, opts)
	if err != nil {
		if store.ErrorCode(err) == store.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderImportIndex(w, r, 0, err)
		return
	}
	redirect(w, r, "/import/staged/"+sf.token)
}

// stageFile keeps an uploaded file for the mapping step, after checking
// it can be read.
func (s *Server) stageFile(a *store.Actor, e store.Entity, file io.Reader, name string, opts importer.ReadOptions) (*stagedFile, error) {
	if s.opts.MaxUnzipped > 0 {
		opts.MaxUnzipped = s.opts.MaxUnzipped
	}
	sf := &stagedFile{token: randomToken(), name: filepath.Base(name), entity: e, userID: a.UserID, opts: opts}
	sf.path = filepath.Join(s.imports.dir, sf.token)
	s.imports.sweep(time.Now().Add(-24 * time.Hour))
	out, err := os.Create(sf.path)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(out, file); err != nil {
		out.Close()
		os.Remove(sf.path)
		return nil, err
	}
	out.Close()
	if err := sf.readPreview(s.opts.MaxImportRows); err != nil {
		os.Remove(sf.path)
		return nil, err
	}
	s.imports.mu.Lock()
	s.imports.staged[sf.token] = sf
	s.imports.mu.Unlock()
	return sf, nil
}

// sweep forgets uploaded files older than a day, and their jobs.
func (im *imports) sweep(before time.Time) {
	im.mu.Lock()
	defer im.mu.Unlock()
	for tok, sf := range im.staged {
		if fi, err := os.Stat(sf.path); err != nil || fi.ModTime().Before(before) {
			os.Remove(sf.path)
			delete(im.staged, tok)
		}
	}
	for id, j := range im.jobs {
		if _, _, _, done := j.snapshot(); done && j.staged != nil {
			if _, ok := im.staged[j.staged.token]; !ok {
				delete(im.jobs, id)
			}
		}
	}
}

// readPreview reads the header and the first rows of a staged file.
func (sf *stagedFile) readPreview(maxRows int) error {
	f, err := os.Open(sf.path)
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := importer.Open(f, sf.name, sf.opts)
	if err != nil {
		return err
	}
	defer src.Close()
	sf.header = src.Header
	// Read the whole file once: a broken row or a file over the row limit
	// is refused now, before anything is stored, and the progress bar
	// knows the total.
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		sf.total++
		if maxRows > 0 && sf.total > maxRows {
			return &store.Error{Code: store.CodeInvalid, Key: "import.error.too_many_rows", Fields: map[string]string{"file": "import.error.too_many_rows"}}
		}
		if len(sf.preview) < 5 {
			sf.preview = append(sf.preview, row)
		}
	}
	if sf.total == 0 {
		return &store.Error{Code: store.CodeInvalid, Key: "import.error.empty", Fields: map[string]string{"file": "import.error.empty"}}
	}
	return nil
}

func (s *Server) stagedFor(r *http.Request) (*stagedFile, bool) {
	s.imports.mu.Lock()
	defer s.imports.mu.Unlock()
	sf, ok := s.imports.staged[mux.Vars(r)["token"]]
	if !ok || sf.userID != reqCtxOf(r).actor.UserID {
		return nil, false
	}
	return sf, true
}

// mapColumn is one column of the mapping step.
type mapColumn struct {
	Index   int
	Header  string
	Sample  []string
	Options []option
}

type importMapData struct {
	Token, File string
	Remembered  string // says whose mapping was reused
	Total       int
	Entity      store.Entity
	Columns     []mapColumn
	Policies    []option
	Matches     []option
}

// catalog names fields and options for the importer from the catalogs.
func (s *Server) catalog() importer.Catalog {
	return importer.Catalog{InEvery: s.i18n.InEvery, Schema: s.st.Schema()}
}

// importMap shows the mapping step: each column with its sample values and
// the field it goes to, proposed automatically.
func (s *Server) importMap(w http.ResponseWriter, r *http.Request) {
	sf, ok := s.stagedFor(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	s.renderImportMap(w, r, http.StatusOK, sf, nil)
}

func (s *Server) renderImportMap(w http.ResponseWriter, r *http.Request, status int, sf *stagedFile, err error) {
	p := s.newPage(r, "import.map_title")
	p.Section = "settings"
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	targets := importer.Targets(s.st.Schema(), sf.entity, s.catalog())
	auto := importer.AutoMap(sf.header, targets)
	d := importMapData{Token: sf.token, File: sf.name, Entity: sf.entity, Total: sf.total}
	if m, im := importer.RememberedMapping(r.Context(), s.st, reqCtxOf(r).actor, sf.entity, sf.header); m != nil {
		auto = m
		d.Remembered = p.T("import.remembered", "File", im.FileName, "When", p.DateTime(im.StartedAt))
	}
	for i, h := range sf.header {
		cur := auto[i]
		if r.Method == http.MethodPost {
			cur = r.PostFormValue("col_" + strconv.Itoa(i))
		}
		col := mapColumn{Index: i, Header: h, Options: []option{{Value: "", Label: p.T("import.skip_column"), Selected: cur == ""}}}
		for _, row := range sf.preview {
			if i < len(row) {
				col.Sample = append(col.Sample, row[i])
			}
		}
		for _, t := range targets {
			col.Options = append(col.Options, option{Value: t.Key, Label: s.targetLabel(p, sf.entity, t.Key), Selected: t.Key == cur})
		}
		if reqCtxOf(r).actor.Has(store.CapCustomize) && slices.Contains(store.CustomEntities, sf.entity) {
			col.Options = append(col.Options, option{Value: newFieldTarget, Label: p.T("import.new_field"), Selected: cur == newFieldTarget})
		}
		d.Columns = append(d.Columns, col)
	}
	policy := r.PostFormValue("on_duplicate")
	if policy == "" {
		policy = string(store.PolicySkip)
	}
	for _, k := range []store.ImportPolicy{store.PolicySkip, store.PolicyFill, store.PolicyOverwrite, store.PolicyCreate} {
		d.Policies = append(d.Policies, option{Value: string(k), Label: p.T("import.policy." + string(k)), Selected: string(k) == policy})
	}
	match := r.PostFormValue("match")
	if r.Method != http.MethodPost {
		match = "email"
	}
	def := s.st.Schema().Def(sf.entity)
	d.Matches = []option{{Value: "", Label: p.T("import.match_none"), Selected: match == ""}}
	for _, f := range store.MatchFields {
		if _, ok := def.Field(f); ok {
			d.Matches = append(d.Matches, option{Value: f, Label: p.FieldName(sf.entity, f), Selected: f == match})
		}
	}
	// Any other column can recognise duplicates too (a member number, a
	// mobile); the import indexes it for its duration when it has no index.
	for _, key := range store.ImportMatchKeys(def) {
		if slices.Contains(store.MatchFields, key) {
			continue
		}
		d.Matches = append(d.Matches, option{Value: key, Label: p.FieldName(sf.entity, key), Selected: key == match})
	}
	p.Data = d
	s.render(w, r, status, "import_map", p)
}

// targetLabel names an import target in the reader's language.
func (s *Server) targetLabel(p *page, e store.Entity, key string) string {
	switch key {
	case "owner_email":
		return p.T("import.owner_email")
	case importer.AccountName:
		return p.T("import.account_name")
	case "tags":
		return p.T("field.tags")
	}
	return p.FieldName(e, key)
}

// importStart runs the import (or its dry run) in the background and
// shows its progress page.
func (s *Server) importStart(w http.ResponseWriter, r *http.Request) {
	sf, ok := s.stagedFor(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	mapping := make([]string, len(sf.header))
	for i := range sf.header {
		mapping[i] = r.PostFormValue("col_" + strconv.Itoa(i))
		if mapping[i] != newFieldTarget {
			continue
		}
		// A column for which the firm has no field yet becomes a custom
		// text field named after its header.
		key := fieldKeyFor(sf.header[i])
		lang := reqCtxOf(r).tr.Lang()
		if _, err := s.st.CreateCustomField(r.Context(), a, sf.entity, store.CustomFieldInput{Key: key, Kind: store.KText, Labels: store.Labels{lang: sf.header[i]}}); err != nil {
			s.renderImportMap(w, r, 0, sf, err)
			return
		}
		mapping[i] = "custom." + key
	}
	plan := importer.Plan{Entity: sf.entity, Mapping: mapping, Policy: store.ImportPolicy(r.PostFormValue("on_duplicate")), MatchOn: r.PostFormValue("match"),
		DryRun: r.PostFormValue("dry_run") != "", SkipBad: r.PostFormValue("skip_invalid") != "", Automation: r.PostFormValue("automation") != "", FileName: sf.name}
	if r.PostFormValue("month_first") != "" {
		plan.Order = importer.MonthFirst
	}
	id, err := s.startImportJob(a, sf, plan)
	if err != nil {
		s.renderImportMap(w, r, 0, sf, err)
		return
	}
	redirect(w, r, "/import/"+itoa(id))
}

// startImportJob opens the staged file and runs the plan in the
// background; it returns once the import is recorded (or refused).
func (s *Server) startImportJob(a *store.Actor, sf *stagedFile, plan importer.Plan) (int64, error) {
	f, err := os.Open(sf.path)
	if err != nil {
		return 0, err
	}
	src, err := importer.Open(f, sf.name, sf.opts)
	if err != nil {
		f.Close()
		return 0, err
	}
	plan.MaxRows = s.opts.MaxImportRows
	job := &importJob{staged: sf}
	started := make(chan int64, 1)
	failed := make(chan error, 1)
	plan.Started = func(imp *store.Import) {
		s.imports.mu.Lock()
		s.imports.jobs[imp.ID] = job
		s.imports.mu.Unlock()
		started <- imp.ID
	}
	go func() {
		defer f.Close()
		defer src.Close()
		// The import outlives the request that started it.
		sum, err := importer.Run(context.Background(), s.st, a, s.catalog(), src, plan, func(pr importer.Progress) {
			job.mu.Lock()
			job.progress = pr
			job.mu.Unlock()
		})
		job.mu.Lock()
		job.sum, job.err, job.done = sum, err, true
		if sum != nil {
			job.progress = sum.Progress
		}
		job.mu.Unlock()
		if err != nil {
			s.log.Warn("import refused or failed", "err", err)
			failed <- err
		}
	}()
	select {
	case id := <-started:
		return id, nil
	case err := <-failed:
		return 0, err
	}
}

// newFieldTarget is the mapping choice that makes a column a new field.
const newFieldTarget = "+new_field"

// fieldKeyFor makes a custom field key from a column header.
func fieldKeyFor(header string) string {
	var words []string
	for _, w := range strings.FieldsFunc(header, func(r rune) bool { return r == ' ' || r == '_' || r == '-' || r == '.' || r == '/' }) {
		if f := importer.Fold(w); f != "" {
			words = append(words, f)
		}
	}
	k := strings.Join(words, "_")
	if k == "" || k[0] < 'a' || k[0] > 'z' {
		k = "f_" + k
	}
	if len(k) > 40 {
		k = strings.TrimRight(k[:40], "_")
	}
	if len(k) < 2 {
		k += "_field"
	}
	return k
}

// importStatusData feeds the progress and report page.
type importStatusData struct {
	Import            *store.Import
	Entity            string
	Running           bool
	Progress          importer.Progress
	Rate              string
	Total             int
	TimeLeft          string
	Failures          []importFailure
	CanUndo, DryRun   bool
	HasFile           bool
	Status, ErrorText string
}

type importFailure struct {
	Line     int
	Messages string
}

// importStatus shows an import: its progress while it runs (the page
// polls a fragment), then its report.
func (s *Server) importStatus(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	imp, err := s.st.FindImport(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "import.status_title")
	p.Section = "settings"
	d := importStatusData{Import: imp, Entity: p.T("entity." + string(imp.Entity)), Status: p.T("import.status." + imp.Status)}
	if imp.ErrorKey != "" {
		d.ErrorText = p.T(imp.ErrorKey)
	}
	s.imports.mu.Lock()
	job := s.imports.jobs[id]
	s.imports.mu.Unlock()
	var rows []store.RowOutcome
	if job != nil {
		pr, sum, _, done := job.snapshot()
		d.Running, d.Progress = !done, pr
		if job.staged != nil {
			d.Total = job.staged.total
		}
		if pr.Elapsed > 0 && pr.Rows > 0 {
			rate := float64(pr.Rows) / pr.Elapsed.Seconds()
			d.Rate = strconv.FormatFloat(rate, 'f', 0, 64)
			if left := d.Total - pr.Rows; left > 0 {
				d.TimeLeft = strconv.Itoa(int(float64(left)/rate) + 1)
			}
		}
		if sum != nil {
			rows = sum.Rows
			d.Import = sum.Import
			d.Status = p.T("import.status." + sum.Import.Status)
		}
		d.HasFile = done && job.staged != nil
	} else {
		for _, e := range imp.Errors {
			rows = append(rows, store.RowOutcome{Line: e.Line, Action: "failed", Errors: []store.RowError{e}})
		}
	}
	for _, ro := range rows {
		if ro.Action != "failed" {
			continue
		}
		d.Failures = append(d.Failures, importFailure{Line: ro.Line, Messages: s.rowMessages(p, imp.Entity, ro.Errors)})
		if len(d.Failures) >= 200 {
			break
		}
	}
	d.CanUndo = d.Import.Status == "done" && a.Can(imp.Entity, store.ActDelete)
	d.DryRun = d.Import.Status == "dry_run"
	p.Data = d
	if r.Header.Get("HX-Request") != "" {
		s.renderPartial(w, r, "import_status", "progress", p)
		return
	}
	s.render(w, r, http.StatusOK, "import_status", p)
}

// rowMessages joins a row's errors as "Field: message".
func (s *Server) rowMessages(p *page, e store.Entity, errs []store.RowError) string {
	var out []string
	for _, fe := range errs {
		m := p.T(fe.Key)
		if fe.Field != "" {
			m = s.targetLabel(p, e, fe.Field) + ": " + m
		}
		out = append(out, m)
	}
	return strings.Join(out, "; ")
}

// importFailures downloads the failing rows of the file as CSV, each with
// its reason in a last column, ready to fix and import again.
func (s *Server) importFailures(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	imp, err := s.st.FindImport(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.imports.mu.Lock()
	job := s.imports.jobs[id]
	s.imports.mu.Unlock()
	if job == nil {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	_, sum, _, done := job.snapshot()
	if !done || sum == nil {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	p := s.newPage(r, "")
	reasons := map[int]string{}
	for _, ro := range sum.Rows {
		if ro.Action == "failed" {
			reasons[ro.Line] = s.rowMessages(p, imp.Entity, ro.Errors)
		}
	}
	f, err := os.Open(job.staged.path)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	src, err := importer.Open(f, job.staged.name, job.staged.opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer src.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="errors-`+strings.TrimSuffix(job.staged.name, filepath.Ext(job.staged.name))+`.csv"`)
	w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Write(append(append([]string(nil), src.Header...), p.T("import.error_column")))
	for {
		row, err := src.Next()
		if err != nil {
			break
		}
		if why, ok := reasons[src.Line()]; ok {
			out := make([]string, 0, len(row)+1)
			for _, c := range row {
				out = append(out, neutralise(c))
			}
			cw.Write(append(out, why))
		}
	}
	cw.Flush()
}

// importUndo takes back a finished import.
func (s *Server) importUndo(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	res, err := s.st.UndoImport(r.Context(), reqCtxOf(r).actor, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if res.Kept > 0 {
		s.flash(w, r, "info", "import.undone_kept")
	} else {
		s.flash(w, r, "success", "import.undone")
	}
	redirect(w, r, "/import/"+itoa(id))
}
