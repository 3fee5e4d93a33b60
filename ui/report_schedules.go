package ui

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cartera/report"
	"cartera/store"
)

// This file serves scheduled report e-mails (issue 8): the administrators'
// list and form (/reports/schedules), and SendScheduledReports, the
// automation job that renders each due slot for every recipient with
// their own permissions and language and queues the e-mails (HTML with
// the tables and charts as SVG, a text part, and each report's CSV and
// XLSX attached) through the store's outbox.

// schedulesPage lists the schedules, built-in ones first.
func (s *Server) schedulesPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.FindReportSchedules(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "schedule.title")
	p.Section = "reports"
	p.Data = list
	s.render(w, r, http.StatusOK, "report_schedules", p)
}

// scheduleForm shows a new schedule's form or an existing one's.
func (s *Server) scheduleForm(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	sc := &store.ReportSchedule{Frequency: "daily", AtTime: "08:00", Weekday: 1, Monthday: 1}
	if id := pathID(r, "id"); id != 0 {
		var err error
		if sc, err = s.st.GetReportSchedule(r.Context(), a, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := s.newPage(r, "schedule.title")
	p.Section = "reports"
	s.renderScheduleForm(w, r, p, sc, http.StatusOK)
}

// renderScheduleForm renders the form with its choices.
func (s *Server) renderScheduleForm(w http.ResponseWriter, r *http.Request, p *page, sc *store.ReportSchedule, status int) {
	a := reqCtxOf(r).actor
	users, _ := s.st.FindUsers(r.Context(), a, store.UserFilter{})
	roles, _ := s.st.ShareableRoles(r.Context(), a)
	content := "dashboard"
	if !sc.Dashboard && len(sc.Widgets) == 1 {
		content = sc.Widgets[0].Kind + ":" + sc.Widgets[0].Ref
	} else if !sc.Dashboard && len(sc.Widgets) > 1 {
		content = "keep"
	}
	userIDs := []string{}
	for _, id := range sc.ToUsers {
		userIDs = append(userIDs, itoa(id))
	}
	p.Data = map[string]any{"S": sc, "Users": users, "Roles": roles, "Choices": s.widgetChoices(r), "Content": content,
		"UserIDs": userIDs, "Weekdays": []int{1, 2, 3, 4, 5, 6, 0}, "Frequencies": store.ScheduleFrequencies}
	s.render(w, r, status, "report_schedule_form", p)
}

// scheduleSave creates or updates a schedule from the form.
func (s *Server) scheduleSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	f := r.PostForm
	sc := &store.ReportSchedule{ID: pathID(r, "id")}
	if sc.ID != 0 {
		old, err := s.st.GetReportSchedule(r.Context(), a, sc.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sc.Dashboard, sc.Widgets = old.Dashboard, old.Widgets
	}
	sc.Name, sc.Frequency, sc.AtTime = f.Get("name"), f.Get("frequency"), f.Get("at_time")
	sc.Weekday, _ = strconv.Atoi(f.Get("weekday"))
	sc.Monthday, _ = strconv.Atoi(f.Get("monthday"))
	sc.Enabled = f.Get("enabled") == "1"
	sc.ToRoles = f["to_roles"]
	for _, v := range f["to_users"] {
		if id := parseInt64(v); id != 0 {
			sc.ToUsers = append(sc.ToUsers, id)
		}
	}
	switch c := f.Get("content"); c {
	case "keep", "":
	case "dashboard":
		sc.Dashboard, sc.Widgets = true, nil
	default:
		kind, ref, _ := cutColon(c)
		sc.Dashboard, sc.Widgets = false, []store.Widget{{Kind: kind, Ref: ref, Params: url.Values{"period": {f.Get("period")}}.Encode()}}
		if f.Get("period") == "" {
			sc.Widgets[0].Params = ""
		}
	}
	if err := s.st.SaveReportSchedule(r.Context(), a, sc); err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			p := s.newPage(r, "schedule.title")
			p.Section = "reports"
			p.Form = f
			st := s.formErrors(r, p, err)
			s.renderScheduleForm(w, r, p, sc, st)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "schedule.saved")
	redirect(w, r, "/reports/schedules")
}

// scheduleDelete removes a schedule (built-in ones can only be disabled).
func (s *Server) scheduleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteReportSchedule(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "schedule.deleted")
	redirect(w, r, "/reports/schedules")
}

// SendScheduledReports is the automation job of scheduled report e-mails:
// for each due slot it renders the e-mail of every recipient (their
// permissions, language and time zone) and queues them with the slot's
// bookkeeping in one store transaction; it returns how many e-mails it
// queued. Rendering happens outside any write transaction.
func (s *Server) SendScheduledReports(ctx context.Context, now time.Time) (int, error) {
	runs, err := s.st.DueReportRuns(ctx, now)
	if err != nil || len(runs) == 0 {
		return 0, err
	}
	company, err := s.st.Company(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, run := range runs {
		var emails []store.OutgoingEmail
		for _, a := range run.Recipients {
			e, err := s.reportEmail(ctx, run, a, company, now)
			if err != nil {
				return total, err
			}
			if e != nil {
				emails = append(emails, *e)
			}
		}
		n, err := s.st.CompleteReportRun(ctx, run, emails)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// reportEmailData is what the e-mail template receives.
type reportEmailData struct {
	Tr       interface{ T(string, ...any) string }
	Title    string
	Intro    string
	Widgets  []*widgetView
	BaseURL  string
	Footer   string
	Schedule *store.ReportSchedule
}

// reportEmail renders one recipient's e-mail of a slot; nil when there is
// nothing they may see.
func (s *Server) reportEmail(ctx context.Context, run *store.ReportRun, a *store.Actor, company *store.Company, now time.Time) (*store.OutgoingEmail, error) {
	lang := a.Language
	if lang == "" {
		lang = company.Language
	}
	tz := a.Timezone
	if tz == "" {
		tz = company.Timezone
	}
	tr := s.i18n.For(lang, loadLocation(tz))
	currency := company.Currency
	if currency == "" {
		currency = "EUR"
	}
	rd := reader{a: a, f: reportFormat{tr: tr, sc: s.st.Schema(), currency: currency}, loc: run.Location, now: now}
	ws := run.Schedule.Widgets
	if run.Schedule.Dashboard {
		var err error
		if ws, _, err = s.st.Dashboard(ctx, a); err != nil {
			return nil, err
		}
	}
	var views []*widgetView
	for i, w := range ws {
		if !store.WidgetAllowed(a, w) {
			continue
		}
		views = append(views, s.widgetView(ctx, rd, i, w))
	}
	if len(views) == 0 {
		return nil, nil
	}
	title := run.Schedule.Name
	if run.Schedule.Builtin != "" {
		title = tr.T("schedule.builtin." + run.Schedule.Builtin)
	}
	day := tr.Date(run.At)
	data := reportEmailData{Tr: tr, Title: title, Intro: tr.T("schedule.email.intro", "Name", a.Name, "Date", day),
		Widgets: views, Footer: tr.T("schedule.email.footer"), Schedule: run.Schedule}
	// Charts travel as PNG images inside the e-mail: most mail programs
	// show no SVG. The table under each one carries the same numbers.
	var atts []store.MailAttachment
	for i, v := range views {
		if v.Report == nil || v.Report.ChartSpec == nil {
			continue
		}
		img, err := report.PNG(v.Report.Res, *v.Report.ChartSpec)
		if err != nil {
			return nil, err
		}
		if img == nil {
			continue
		}
		name := "chart-" + strconv.Itoa(i+1) + ".png"
		atts = append(atts, store.MailAttachment{Name: name, Type: "image/png", Data: img, Inline: true})
		v.Report.ChartCID = template.URL("cid:" + name)
	}
	var html bytes.Buffer
	t := s.pages["report_email"]
	if t == nil {
		return nil, fmt.Errorf("ui: no report_email template")
	}
	if err := t.ExecuteTemplate(&html, "report_email", data); err != nil {
		return nil, err
	}
	// The text part: each widget's table as lines.
	var text strings.Builder
	text.WriteString(data.Intro + "\n\n")
	for _, v := range views {
		text.WriteString("== " + v.Title + " ==\n")
		switch {
		case v.Err != "":
			text.WriteString(v.Err + "\n")
		case v.IsList:
			if len(v.Items) == 0 {
				text.WriteString(tr.T("dashboard.list_empty") + "\n")
			}
			for _, it := range v.Items {
				text.WriteString("- " + it.Title + " (" + it.When + ")\n")
			}
		case v.Report != nil:
			text.WriteString(strings.Join(v.Report.Headers, " | ") + "\n")
			for _, row := range v.Report.Rows {
				cells := make([]string, len(row))
				for i, c := range row {
					cells[i] = c.Text
				}
				text.WriteString(strings.Join(cells, " | ") + "\n")
			}
			if len(v.Report.Rows) == 0 {
				text.WriteString(tr.T("report.no_rows") + "\n")
			}
			name := fileName(v.Title)
			cell := reportFileCell(rd.f.sc, tr, v.Report.Res.Kinds)
			var csvBuf, xlsxBuf bytes.Buffer
			if err := report.CSV(&csvBuf, v.Report.Headers, v.Report.Res, cell); err != nil {
				return nil, err
			}
			if err := report.XLSX(&xlsxBuf, v.Title, v.Report.Headers, v.Report.Res, cell); err != nil {
				return nil, err
			}
			atts = append(atts, store.MailAttachment{Name: name + ".csv", Type: "text/csv; charset=utf-8", Data: csvBuf.Bytes()},
				store.MailAttachment{Name: name + ".xlsx", Type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: xlsxBuf.Bytes()})
		}
		text.WriteString("\n")
	}
	text.WriteString("-- \n" + data.Footer + "\n")
	return &store.OutgoingEmail{
		Key: store.ReportEmailKey(run.Schedule.ID, run.Slot, a.UserID), To: a.Email, ToName: a.Name,
		Subject: title + " · " + day, Text: text.String(), HTML: html.String(), Attachments: atts,
	}, nil
}

// fileName makes a report title a safe attachment name.
func fileName(title string) string {
	var b strings.Builder
	for _, r := range title {
		switch {
		case r == '/' || r == '\\' || r == '"' || r < ' ' || r == ':' || r == '*' || r == '?' || r == '<' || r == '>' || r == '|':
			b.WriteRune('-')
		default:
			b.WriteRune(r)
		}
	}
	n := strings.TrimSpace(b.String())
	if n == "" {
		n = "report"
	}
	if len(n) > 100 {
		n = n[:100]
	}
	return n
}
