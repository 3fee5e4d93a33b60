package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// serviceDay is one weekday checkbox of the working-hours form.
type serviceDay struct {
	Value   int
	Label   string
	Checked bool
}

// serviceTarget is one priority's row of the SLA targets form, in hours.
type serviceTarget struct {
	Priority, Label             string
	FirstResponse, Resolution   string
	FirstResponseErr, ResoluErr string
}

// serviceQueue is one team's row of the queues form.
type serviceQueue struct {
	TeamID   int64
	Name     string
	Options  []option
	Selected string
}

// serviceData feeds the service settings page.
type serviceData struct {
	Days                []serviceDay
	Start, End          string
	Zone                string
	Targets             []serviceTarget
	Queues              []serviceQueue
	SupportAddress      string
	MailboxQueues       []option
	Survey              bool
	SatisfactionEnabled bool
}

// weekdayOrder lists the weekdays Monday first, as Catalan and Spanish
// calendars do.
var weekdayOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// clock formats minutes after midnight as HH:MM.
func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseClock reads HH:MM (24:00 allowed) into minutes after midnight.
func parseClock(v string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(v), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, false
	}
	return hh*60 + mm, true
}

// hours formats a duration as a number of hours ("1.5").
func hours(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', -1, 64) }

// serviceData builds the page from settings (stored or as submitted).
func (s *Server) serviceData(r *http.Request, p *page, ss *store.ServiceSettings) (serviceData, error) {
	d := serviceData{Start: clock(ss.Hours.Start), End: clock(ss.Hours.End), SupportAddress: ss.SupportAddress, Survey: ss.Survey}
	if c := reqCtxOf(r).company; c != nil {
		d.Zone = c.Timezone
	}
	for _, wd := range weekdayOrder {
		d.Days = append(d.Days, serviceDay{Value: int(wd), Label: p.T("service.day." + strconv.Itoa(int(wd))), Checked: ss.Hours.Days[wd]})
	}
	for _, o := range p.schema().ActiveOptions("case_priority") {
		t := ss.Targets[o.Key]
		d.Targets = append(d.Targets, serviceTarget{Priority: o.Key, Label: p.OptName("case_priority", o.Key),
			FirstResponse: hours(t.FirstResponse), Resolution: hours(t.Resolution),
			FirstResponseErr: p.Errors["first_response_"+o.Key], ResoluErr: p.Errors["resolution_"+o.Key]})
	}
	teams, err := s.st.FindTeams(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		return d, err
	}
	d.MailboxQueues = []option{{Value: "", Label: p.T("service.no_queue"), Selected: ss.MailboxQueue == ""}}
	for _, t := range teams {
		mode := ss.Queues[t.ID]
		if mode == "" {
			mode = store.AssignManual
		}
		q := serviceQueue{TeamID: t.ID, Name: t.Name, Selected: mode}
		for _, m := range []string{store.AssignManual, store.AssignRoundRobin} {
			q.Options = append(q.Options, option{Value: m, Label: p.T("service.assign." + m), Selected: m == mode})
		}
		d.Queues = append(d.Queues, q)
		id := strconv.FormatInt(t.ID, 10)
		d.MailboxQueues = append(d.MailboxQueues, option{Value: id, Label: t.Name, Selected: ss.MailboxQueue == id})
	}
	return d, nil
}

func (s *Server) serviceSettingsForm(w http.ResponseWriter, r *http.Request) {
	ss, err := s.st.GetServiceSettings(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "service.title")
	p.Section = "settings"
	if p.Data, err = s.serviceData(r, p, ss); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "service_settings", p)
}

// serviceFromForm reads the settings form; fields it cannot read are
// reported in fe with their i18n keys.
func serviceFromForm(r *http.Request, fe map[string]string) store.ServiceSettings {
	f := r.PostForm
	ss := store.ServiceSettings{Targets: map[string]store.SLATarget{}, Queues: map[int64]string{},
		SupportAddress: f.Get("support_address"), MailboxQueue: f.Get("mailbox_queue"), Survey: f.Get("survey") == "1"}
	for _, v := range f["day"] {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 7 {
			ss.Hours.Days[n] = true
		}
	}
	var ok bool
	if ss.Hours.Start, ok = parseClock(f.Get("work_start")); !ok {
		fe["work_start"] = "service.error.clock"
	}
	if ss.Hours.End, ok = parseClock(f.Get("work_end")); !ok {
		fe["work_end"] = "service.error.clock"
	}
	readHours := func(key string) time.Duration {
		v := strings.TrimSpace(strings.ReplaceAll(f.Get(key), ",", "."))
		if v == "" {
			return 0
		}
		h, err := strconv.ParseFloat(v, 64)
		if err != nil || h < 0 || h > 8760 {
			fe[key] = "service.error.target"
			return 0
		}
		return time.Duration(h * float64(time.Hour)).Round(time.Minute)
	}
	for k := range f {
		if p, ok := strings.CutPrefix(k, "first_response_"); ok {
			t := ss.Targets[p]
			t.FirstResponse = readHours(k)
			ss.Targets[p] = t
		}
		if p, ok := strings.CutPrefix(k, "resolution_"); ok {
			t := ss.Targets[p]
			t.Resolution = readHours(k)
			ss.Targets[p] = t
		}
		if id, ok := strings.CutPrefix(k, "queue_"); ok {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				ss.Queues[n] = f.Get(k)
			}
		}
	}
	return ss
}

func (s *Server) serviceSettingsSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	fe := map[string]string{}
	ss := serviceFromForm(r, fe)
	var err error
	if len(fe) > 0 {
		err = &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: fe}
	} else {
		err = s.st.SaveServiceSettings(r.Context(), reqCtxOf(r).actor, ss)
	}
	if err != nil {
		p := s.newPage(r, "service.title")
		p.Section = "settings"
		status := s.formErrors(r, p, err)
		if p.Data, err = s.serviceData(r, p, &ss); err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, status, "service_settings", p)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/service")
}

// caseReply sends an agent's reply from the case page by e-mail.
func (s *Server) caseReply(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	id := parseInt64(mux.Vars(r)["id"])
	if _, err := s.st.ReplyToCase(r.Context(), reqCtxOf(r).actor, id, r.PostForm.Get("text")); err != nil {
		if store.ErrorCode(err) == store.CodeInvalid {
			se := store.AsError(err)
			key := se.Key
			for _, k := range se.Fields {
				key = k
			}
			s.flash(w, r, "error", key)
			redirect(w, r, recordPath(store.EntCases, id))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "service.reply.sent")
	redirect(w, r, recordPath(store.EntCases, id))
}

// surveyData feeds the public survey page.
type surveyData struct {
	Heading string
	Message string
	Token   string
	Score   int
	Scores  []int
	Closed  bool
}

// surveyAnswer records the score a customer clicked in a survey e-mail:
// no login, the signed token is the proof; the page lets them change it.
func (s *Server) surveyAnswer(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	score, _ := strconv.Atoi(v["score"])
	tr := s.publicTranslator(r, nil)
	p := s.newPage(r, "service.survey.thanks_title")
	p.Tr, p.Actor, p.Nav = tr, nil, nil
	d := &surveyData{Heading: tr.T("service.survey.thanks_title"), Token: v["token"], Scores: []int{1, 2, 3, 4, 5}}
	status := http.StatusOK
	ans, err := s.st.RecordSurveyScore(r.Context(), v["token"], score)
	switch {
	case err == nil:
		d.Score = ans.Score
		d.Message = tr.T("service.survey.thanks", "Ref", "C-"+strconv.FormatInt(ans.CaseID, 10), "Score", strconv.Itoa(ans.Score))
	case store.ErrorCode(err) == store.CodeConflict:
		d.Closed, d.Score, status = true, ans.Score, http.StatusConflict
		d.Message = tr.T("service.error.survey_closed")
	default:
		if store.ErrorCode(err) == store.CodeInternal {
			s.logIfInternal(r, err)
		}
		d.Heading, d.Token, status = tr.T("service.survey.invalid_title"), "", statusFor(store.ErrorCode(err))
		d.Message = tr.T("service.survey.invalid")
	}
	p.Data = d
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "survey_public", p)
}

// satisfactionData feeds the satisfaction report.
type satisfactionData struct {
	Rows []store.AgentSatisfaction
}

// satisfactionReport shows the average survey score per agent.
func (s *Server) satisfactionReport(w http.ResponseWriter, r *http.Request) {
	rows, err := s.st.SatisfactionByAgent(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "service.satisfaction.title")
	p.Section = "reports"
	p.Data = satisfactionData{Rows: rows}
	s.render(w, r, http.StatusOK, "service_satisfaction", p)
}
