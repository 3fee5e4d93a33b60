package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"cartera/i18n"
	"cartera/store"
)

// This file serves home dashboards (issue 8): the widgets on the home
// page, the page that adds, removes and reorders them, and
// GET/PUT /api/v1/dashboard. Widgets are rendered by widgetView, which the
// scheduled report e-mails share.

// widgetView is one rendered widget.
type widgetView struct {
	Widget store.Widget
	Index  int
	Title  string
	// Href opens the full report; empty for lists.
	Href   string
	Report *reportView
	Items  []listItemView
	IsList bool
	// Err is a translated problem (the report was deleted, or the reader
	// may not open it).
	Err string
}

// listItemView is one line of a list widget.
type listItemView struct {
	Href, Title, When, Status string
	Overdue                   bool
}

// reader is who a widget is rendered for, outside a request too (the
// scheduled e-mails).
type reader struct {
	a   *store.Actor
	f   reportFormat
	loc *time.Location // the company's zone: report periods are its dates
	now time.Time
}

// readerOf is the request's reader.
func (s *Server) readerOf(r *http.Request) reader {
	rc := reqCtxOf(r)
	currency := "EUR"
	if rc.company != nil && rc.company.Currency != "" {
		currency = rc.company.Currency
	}
	return reader{a: rc.actor, f: reportFormat{tr: rc.tr, sc: s.st.Schema(), currency: currency}, loc: reportLoc(r), now: s.opts.Now()}
}

// widgetTitle names a widget without running it.
func (s *Server) widgetTitle(ctx context.Context, a *store.Actor, tr *i18n.Translator, w store.Widget) string {
	switch w.Kind {
	case "standard":
		return tr.T("report." + w.Ref + ".title")
	case "list":
		return tr.T("dashboard.list." + w.Ref)
	case "saved":
		id, _ := strconv.ParseInt(w.Ref, 10, 64)
		if r, err := s.st.GetSavedReport(ctx, a, id); err == nil {
			return r.Name
		}
	}
	return tr.T("dashboard.widget_gone")
}

// widgetView runs one widget for a reader.
func (s *Server) widgetView(ctx context.Context, rd reader, i int, w store.Widget) *widgetView {
	tr := rd.f.tr
	v := &widgetView{Widget: w, Index: i}
	fail := func(err error) *widgetView {
		switch store.ErrorCode(err) {
		case store.CodeNotFound:
			v.Err = tr.T("dashboard.widget_gone")
		case store.CodeForbidden:
			v.Err = tr.T("dashboard.widget_forbidden")
		case store.CodeInvalid:
			v.Err = tr.T("dashboard.widget_invalid")
		default:
			s.log.Error("rendering a dashboard widget", "kind", w.Kind, "ref", w.Ref, "err", err)
			v.Err = tr.T("error.internal")
		}
		return v
	}
	switch w.Kind {
	case "standard":
		v.Title = tr.T("report." + w.Ref + ".title")
		def, ok := store.FindStandardReport(w.Ref)
		if !ok {
			return fail(&store.Error{Code: store.CodeNotFound})
		}
		q, _ := url.ParseQuery(w.Params)
		p, err := store.WidgetParams(q, rd.now, rd.loc)
		if err != nil {
			return fail(err)
		}
		res, err := s.st.RunStandardReport(ctx, rd.a, w.Ref, p)
		if err != nil {
			return fail(err)
		}
		link := url.Values{}
		for k, vs := range q {
			if k != "period" {
				link[k] = vs
			}
		}
		if q.Get("period") != "" && !res.From.IsZero() {
			link.Set("from", res.From.In(rd.loc).Format(time.DateOnly))
			link.Set("to", res.To.In(rd.loc).AddDate(0, 0, -1).Format(time.DateOnly))
		}
		v.Href = "/reports/" + w.Ref
		if e := link.Encode(); e != "" {
			v.Href += "?" + e
		}
		rv := &reportView{Def: def, Res: res, Headers: reportHeaders(rd.f.sc, tr, res)}
		if !res.From.IsZero() {
			rv.From, rv.To = res.From.In(rd.loc).Format(time.DateOnly), res.To.In(rd.loc).AddDate(0, 0, -1).Format(time.DateOnly)
		}
		rd.f.fill(rv, v.Title)
		v.Report = rv
	case "saved":
		id, _ := strconv.ParseInt(w.Ref, 10, 64)
		rep, err := s.st.GetSavedReport(ctx, rd.a, id)
		if err != nil {
			return fail(err)
		}
		v.Title = rep.Name
		v.Href = "/reports/saved/" + w.Ref
		res, err := s.st.RunSavedReport(ctx, rd.a, rep, rd.loc)
		if err != nil {
			return fail(err)
		}
		rv := &reportView{Res: res, Headers: savedHeaders(rd.f, rep)}
		rd.f.fill(rv, v.Title)
		v.Report = rv
	case "list":
		v.IsList = true
		v.Title = tr.T("dashboard.list." + w.Ref)
		items, err := s.st.WidgetList(ctx, rd.a, w.Ref, rd.now, rd.loc, 10)
		if err != nil {
			return fail(err)
		}
		for _, it := range items {
			lv := listItemView{Href: "/" + string(it.Entity) + "/" + strconv.FormatInt(it.ID, 10), Title: it.Title, When: tr.DateTime(it.At), Overdue: it.Overdue}
			if it.Entity == store.EntCases {
				lv.Status = optionName(rd.f.sc, tr, "case_status", it.Status) + " · " + optionName(rd.f.sc, tr, "case_priority", it.Priority)
			}
			v.Items = append(v.Items, lv)
		}
	default:
		return fail(&store.Error{Code: store.CodeNotFound})
	}
	return v
}

// widgetViews runs a dashboard's widgets, two at a time (the reader
// pool serves them in parallel on a two-core machine), in order.
func (s *Server) widgetViews(ctx context.Context, rd reader, ws []store.Widget) []*widgetView {
	out := make([]*widgetView, len(ws))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, w := range ws {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = s.widgetView(ctx, rd, i, w)
		})
	}
	wg.Wait()
	return out
}

// dashboardData is the dashboard part of the home page.
type dashboardData struct {
	Widgets []*widgetView
	Default bool
}

// homeDashboard renders the reader's dashboard for the home page; nil
// when they have no widget.
func (s *Server) homeDashboard(r *http.Request) *dashboardData {
	a := reqCtxOf(r).actor
	ws, def, err := s.st.Dashboard(r.Context(), a)
	if err != nil {
		s.logIfInternal(r, err)
		return nil
	}
	return &dashboardData{Widgets: s.widgetViews(r.Context(), s.readerOf(r), ws), Default: def}
}

// widgetChoice is one report or list the dashboard editor offers.
type widgetChoice struct {
	Value string // kind:ref
	Label string
}

// widgetChoices lists what the reader may add to their dashboard.
func (s *Server) widgetChoices(r *http.Request) []widgetChoice {
	a := reqCtxOf(r).actor
	tr := reqCtxOf(r).tr
	var out []widgetChoice
	for _, k := range store.ListWidgets {
		w := store.Widget{Kind: "list", Ref: k}
		if store.WidgetAllowed(a, w) {
			out = append(out, widgetChoice{Value: "list:" + k, Label: tr.T("dashboard.list." + k)})
		}
	}
	for _, rep := range store.StandardReports() {
		if store.StandardReportVisible(a, rep) {
			out = append(out, widgetChoice{Value: "standard:" + rep.Key, Label: tr.T("report." + rep.Key + ".title")})
		}
	}
	saved, _ := s.st.FindSavedReports(r.Context(), a)
	for _, rep := range saved {
		out = append(out, widgetChoice{Value: "saved:" + strconv.FormatInt(rep.ID, 10), Label: rep.Name})
	}
	return out
}

// dashboardEdit shows the reader's widgets with controls to reorder and
// remove them, and a form to add one.
func (s *Server) dashboardEdit(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	ws, def, err := s.st.Dashboard(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type item struct {
		Index int
		Title string
		W     store.Widget
	}
	var items []item
	for i, wd := range ws {
		items = append(items, item{Index: i, Title: s.widgetTitle(r.Context(), a, reqCtxOf(r).tr, wd), W: wd})
	}
	p := s.newPage(r, "dashboard.edit_title")
	p.Section = "home"
	p.Data = map[string]any{"Items": items, "Default": def, "Choices": s.widgetChoices(r), "Last": len(items) - 1, "Periods": store.RelativePeriods}
	s.render(w, r, http.StatusOK, "dashboard_edit", p)
}

// dashboardPost changes the reader's dashboard: action add (widget =
// kind:ref, params, period), remove, up or down (index), or reset.
func (s *Server) dashboardPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	ws, _, err := s.st.Dashboard(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ws = slices.Clone(ws)
	f := r.PostForm
	i, _ := strconv.Atoi(f.Get("index"))
	inRange := i >= 0 && i < len(ws)
	switch f.Get("action") {
	case "add":
		kind, ref, _ := cutColon(f.Get("widget"))
		params := url.Values{}
		if p := f.Get("period"); p != "" {
			params.Set("period", p)
		}
		if b := f.Get("by"); b != "" {
			params.Set("by", b)
		}
		ws = append(ws, store.Widget{Kind: kind, Ref: ref, Params: params.Encode()})
	case "remove":
		if inRange {
			ws = slices.Delete(ws, i, i+1)
		}
		if ws == nil {
			ws = []store.Widget{}
		}
	case "up":
		if inRange && i > 0 {
			ws[i-1], ws[i] = ws[i], ws[i-1]
		}
	case "down":
		if inRange && i+1 < len(ws) {
			ws[i+1], ws[i] = ws[i], ws[i+1]
		}
	case "reset":
		ws = nil
	default:
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.st.SaveDashboard(r.Context(), a, ws); err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			s.flash(w, r, "error", "dashboard.widget_invalid")
			redirect(w, r, "/dashboard")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "dashboard.saved")
	redirect(w, r, "/dashboard")
}

// cutColon splits "kind:ref".
func cutColon(v string) (string, string, bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == ':' {
			return v[:i], v[i+1:], true
		}
	}
	return v, "", false
}

// apiDashboard returns the caller's widgets: GET /api/v1/dashboard
// answers {"default":bool,"widgets":[{"kind","ref","params"}]}.
func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) {
	ws, def, err := s.st.Dashboard(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if ws == nil {
		ws = []store.Widget{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"default": def, "widgets": ws})
}

// apiDashboardPut replaces the caller's widgets: PUT /api/v1/dashboard
// with {"widgets":[…]}; {"widgets":null} goes back to the role's default.
func (s *Server) apiDashboardPut(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Widgets []store.Widget `json:"widgets"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.st.SaveDashboard(r.Context(), reqCtxOf(r).actor, body.Widgets); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiDashboard(w, r)
}
