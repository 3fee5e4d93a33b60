package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/i18n"
	"cartera/report"
	"cartera/store"
)

// This file serves the standard reports (issue 8): the index, each
// report's page (filters in the query string, so a URL shares it; chart,
// table, totals, export links), their CSV and XLSX files, and the API.

// reportParams reads a report's filters from a query string; to is an
// inclusive local date, so the store gets the next day as its end.
func reportParams(q url.Values, loc *time.Location) (store.ReportParams, error) {
	p := store.ReportParams{OwnerID: parseInt64(q.Get("owner_id")), TeamID: parseInt64(q.Get("team_id")),
		Pipeline: q.Get("pipeline"), By: q.Get("by"), Bucket: q.Get("bucket"), Quarter: q.Get("quarter")}
	fe := map[string]string{}
	date := func(k string) time.Time {
		v := strings.TrimSpace(q.Get(k))
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			fe[k] = "error.date"
		}
		return t
	}
	p.From = date("from")
	if t := date("to"); !t.IsZero() {
		p.To = t.AddDate(0, 0, 1)
	}
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fe["days"] = "error.invalid"
		}
		p.Days = n
	}
	if len(fe) > 0 {
		return p, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: fe}
	}
	return p, nil
}

// reportLoc is the company's time zone, in which report periods are dates.
func reportLoc(r *http.Request) *time.Location {
	if c := reqCtxOf(r).company; c != nil {
		return loadLocation(c.Timezone)
	}
	return time.UTC
}

// reportView is a report's result ready for the page and the files.
type reportView struct {
	Def     store.StandardReport
	Res     *store.ReportResult
	Headers []string
	Rows    [][]reportCell
	Totals  []reportCell
	Chart   template.HTML
	// ChartSpec is what drew Chart, kept for the e-mail's PNG copy, and
	// ChartCID names that copy inside the e-mail.
	ChartSpec *report.Chart
	ChartCID  template.URL
	Query     string // the filters, for export links
	From      string // the period shown in the form (inclusive dates)
	To        string
	Users     []*store.User
	Teams     []*store.Team
	Q         url.Values
	Period    bool
}

// reportCell is one formatted cell; Href links ids to their record.
type reportCell struct {
	Text  string
	Href  string
	Right bool
}

// reportHeader names a column in the reader's language: "LIST:KEY"
// columns are option labels (a lead status, a priority).
func reportHeader(sc *store.Schema, tr *i18n.Translator, col string) string {
	if list, key, ok := strings.Cut(col, ":"); ok {
		return optionName(sc, tr, list, key)
	}
	return tr.T("report.col." + col)
}

// reportHeaders translates every column name.
func reportHeaders(sc *store.Schema, tr *i18n.Translator, res *store.ReportResult) []string {
	out := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		out[i] = reportHeader(sc, tr, c)
	}
	return out
}

// reportText formats a value by its column kind for people.
func reportText(sc *store.Schema, tr *i18n.Translator, currency, kind string, v any) string {
	if v == nil {
		return ""
	}
	switch {
	case kind == "money":
		return tr.Money(report.Num(v), currency)
	case kind == "percent":
		return tr.Number(report.Num(v), 1) + " %"
	case kind == "number":
		return tr.Number(report.Num(v), 2)
	case kind == "int":
		return tr.Int(int64(report.Num(v)))
	case kind == "bool":
		if b, _ := v.(bool); b {
			return tr.T("common.yes")
		}
		return tr.T("common.no")
	case kind == "option:goal_metric":
		return tr.T("goals.metric." + fmt.Sprint(v))
	case kind == "option:contact_role" && v == "primary":
		return tr.T("report.primary_contact")
	case strings.HasPrefix(kind, "option:"):
		return optionName(sc, tr, strings.TrimPrefix(kind, "option:"), fmt.Sprint(v))
	}
	return fmt.Sprint(v)
}

// reportFileCell is a value for CSV and XLSX: numbers stay numbers,
// options and flags become words of the reader's language.
func reportFileCell(sc *store.Schema, tr *i18n.Translator, kinds []string) report.Cell {
	return func(col int, v any) any {
		if v == nil {
			return nil
		}
		k := kinds[col]
		switch {
		case k == "money" || k == "percent" || k == "number" || k == "int" || strings.HasPrefix(k, "id:"):
			return report.Num(v)
		case k == "bool" || strings.HasPrefix(k, "option:"):
			return reportText(sc, tr, "", k, v)
		}
		return fmt.Sprint(v)
	}
}

// runReport runs a standard report for a request and builds its view.
func (s *Server) runReport(r *http.Request, key string) (*reportView, error) {
	def, ok := store.FindStandardReport(key)
	if !ok {
		return nil, &store.Error{Code: store.CodeNotFound, Key: "error.not_found"}
	}
	loc := reportLoc(r)
	q := r.URL.Query()
	p, err := reportParams(q, loc)
	if err != nil {
		return nil, err
	}
	a := reqCtxOf(r).actor
	res, err := s.st.RunStandardReport(r.Context(), a, key, p)
	if err != nil {
		return nil, err
	}
	tr := reqCtxOf(r).tr
	sc := s.st.Schema()
	currency := "EUR"
	if c := reqCtxOf(r).company; c != nil && c.Currency != "" {
		currency = c.Currency
	}
	v := &reportView{Def: def, Res: res, Headers: reportHeaders(sc, tr, res), Q: q, Period: def.Period != "none"}
	fq := url.Values{}
	for k, vs := range q {
		if k != "format" {
			fq[k] = vs
		}
	}
	v.Query = fq.Encode()
	if !res.From.IsZero() {
		v.From, v.To = res.From.In(loc).Format("2006-01-02"), res.To.In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	}
	reportFormat{tr: tr, sc: sc, currency: currency}.fill(v, tr.T("report."+key+".title"))
	return v, nil
}

// reportFormat is how one reader sees reports: their words, the firm's
// schema and currency; pages and scheduled e-mails share it.
type reportFormat struct {
	tr       *i18n.Translator
	sc       *store.Schema
	currency string
}

// fill formats a result's cells, totals and chart into a view whose
// Headers are already set.
func (f reportFormat) fill(v *reportView, title string) {
	res, tr, sc, currency := v.Res, f.tr, f.sc, f.currency
	cell := func(i int, val any) reportCell {
		k := res.Kinds[i]
		c := reportCell{Text: reportText(sc, tr, currency, k, val), Right: k == "money" || k == "percent" || k == "number" || k == "int"}
		if e, ok := strings.CutPrefix(k, "id:"); ok && val != nil && e != "goals" {
			c.Href = "/" + e + "/" + fmt.Sprint(val)
		}
		return c
	}
	for _, row := range res.Rows {
		cells := make([]reportCell, len(row))
		for i, val := range row {
			cells[i] = cell(i, val)
		}
		v.Rows = append(v.Rows, cells)
	}
	if res.Totals != nil {
		for i, val := range res.Totals {
			v.Totals = append(v.Totals, cell(i, val))
		}
		if len(v.Totals) > 0 && v.Totals[0].Text == "" {
			v.Totals[0].Text = tr.T("report.total")
		}
	}
	if res.Chart != nil && len(res.Chart.Series) > 0 {
		ch := report.Chart{Title: title}
		for _, sIdx := range res.Chart.Series {
			ch.Series = append(ch.Series, v.Headers[sIdx])
		}
		for _, row := range v.Rows {
			var parts []string
			for _, l := range res.Chart.Labels {
				parts = append(parts, row[l].Text)
			}
			ch.Labels = append(ch.Labels, strings.Join(parts, " · "))
		}
		kind := res.Kinds[res.Chart.Series[0]]
		ch.Format = func(f float64) string {
			if kind == "percent" {
				return tr.Number(f, 0) + " %"
			}
			return tr.Number(f, 0)
		}
		v.Chart = template.HTML(report.SVG(res, ch))
		v.ChartSpec = &ch
	}
}

// writeReportFile answers a report as CSV or XLSX.
func (s *Server) writeReportFile(w http.ResponseWriter, r *http.Request, v *reportView, format string) error {
	tr := reqCtxOf(r).tr
	sc := s.st.Schema()
	name := "report-" + v.Def.Key
	cell := reportFileCell(sc, tr, v.Res.Kinds)
	var buf bytes.Buffer
	switch format {
	case "csv":
		if err := report.CSV(&buf, v.Headers, v.Res, cell); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
	case "xlsx":
		if err := report.XLSX(&buf, tr.T("report."+v.Def.Key+".title"), v.Headers, v.Res, cell); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		name += ".xlsx"
	default:
		return &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"format": "error.option"}}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

// reportGroup is one heading of the reports index.
type reportGroup struct {
	Key     string
	Reports []store.StandardReport
}

// reportsIndex lists the standard reports the reader may open, by group;
// campaigns is shown as coming with the marketing issue.
func (s *Server) reportsIndex(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	var groups []reportGroup
	for _, g := range store.StandardReportGroups {
		rg := reportGroup{Key: g}
		for _, rep := range store.StandardReports() {
			if rep.Group == g && (!rep.Available || store.StandardReportVisible(a, rep)) {
				rg.Reports = append(rg.Reports, rep)
			}
		}
		if len(rg.Reports) > 0 {
			groups = append(groups, rg)
		}
	}
	p := s.newPage(r, "report.index_title")
	p.Section = "reports"
	p.Data = map[string]any{"Groups": groups, "Goals": true, "Saved": s.savedForIndex(r),
		"Schedules": reqCtxOf(r).actor.Has(store.CapAutomation)}
	s.render(w, r, http.StatusOK, "reports", p)
}

// reportShow shows one standard report with its filters, chart and table,
// or sends it as a file (format=csv|xlsx).
func (s *Server) reportShow(w http.ResponseWriter, r *http.Request) {
	key := mux.Vars(r)["key"]
	v, err := s.runReport(r, key)
	if err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			// Bad filters: show the form again with the problem.
			p := s.newPage(r, "report."+key+".title")
			p.Section = "reports"
			s.formErrors(r, p, err)
			def, _ := store.FindStandardReport(key)
			p.Data = &reportView{Def: def, Q: r.URL.Query(), Period: def.Period != "none", From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
			s.render(w, r, http.StatusBadRequest, "report_show", p)
			return
		}
		s.fail(w, r, err)
		return
	}
	if f := r.URL.Query().Get("format"); f != "" {
		if err := s.writeReportFile(w, r, v, f); err != nil {
			s.fail(w, r, err)
		}
		return
	}
	a := reqCtxOf(r).actor
	v.Users, _ = s.st.FindUsers(r.Context(), a, store.UserFilter{})
	v.Teams, _ = s.st.FindTeams(r.Context(), a)
	p := s.newPage(r, "report."+key+".title")
	p.Section = "reports"
	p.Data = v
	s.render(w, r, http.StatusOK, "report_show", p)
}

// apiReports lists the standard reports (with availability and
// parameters) and the custom report endpoint: GET /api/v1/reports.
func (s *Server) apiReports(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	tr := reqCtxOf(r).tr
	var out []map[string]any
	for _, rep := range store.StandardReports() {
		params := []map[string]any{}
		for _, p := range rep.Params {
			params = append(params, map[string]any{"key": p.Key, "options": p.Options, "default": p.Default})
		}
		out = append(out, map[string]any{"key": rep.Key, "kind": "standard", "group": rep.Group, "title": tr.T("report." + rep.Key + ".title"),
			"available": rep.Available, "allowed": store.StandardReportVisible(a, rep), "period": rep.Period, "params": params,
			"url": "/api/v1/reports/" + rep.Key})
	}
	out = append(out, map[string]any{"key": "custom", "kind": "custom", "available": true, "allowed": true, "url": "/api/v1/reports/custom"})
	for _, rep := range s.savedForIndex(r) {
		out = append(out, apiSavedReport(rep))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// apiReportStandard runs a standard report:
// GET /api/v1/reports/{key}?from=&to=&owner_id=&team_id=&by=&days=…
// answers {"columns":[…],"kinds":[…],"rows":[…],"totals":[…]} or, with
// format=csv|xlsx, the file.
func (s *Server) apiReportStandard(w http.ResponseWriter, r *http.Request) {
	key := mux.Vars(r)["key"]
	v, err := s.runReport(r, key)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if f := r.URL.Query().Get("format"); f != "" && f != "json" {
		if err := s.writeReportFile(w, r, v, f); err != nil {
			s.apiError(w, r, err)
		}
		return
	}
	rows := v.Res.Rows
	if rows == nil {
		rows = [][]any{}
	}
	body := map[string]any{"key": key, "columns": v.Res.Columns, "kinds": v.Res.Kinds, "rows": rows, "truncated": v.Res.Truncated}
	if v.Res.Totals != nil {
		body["totals"] = v.Res.Totals
	}
	if v.From != "" {
		body["from"], body["to"] = v.From, v.To
	}
	if v.Res.Chart != nil {
		body["chart"] = map[string]any{"kind": v.Res.Chart.Kind, "labels": v.Res.Chart.Labels, "series": v.Res.Chart.Series}
	}
	writeJSON(w, http.StatusOK, body)
}
