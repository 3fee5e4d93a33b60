package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/dav"
	"cartera/store"
)

// Feed window: a subscribed calendar shows the last feedPast and the next
// feedFuture months.
const (
	feedPastMonths   = 3
	feedFutureMonths = 12
	agendaDays       = 30
)

// calItem is one task or appointment on the calendar page.
type calItem struct {
	Href, EditHref string
	Title          string
	Time           string // local "15:04"
	Kind           string // translated type
	Class          string // "task", "meeting", "visit", "call"
	Entity         string
	ID, Version    int64
	Editable       bool
	Done           bool
	Owner          string
	Date           string // local "2006-01-02"
}

// calDay is one day cell of the month or week grid, or one agenda day.
type calDay struct {
	Date    string // "2006-01-02"
	Label   string
	Day     int
	InRange bool // inside the month shown
	Today   bool
	Items   []calItem
	NewTask string
	NewMeet string
}

// calendarData is what the calendar template shows.
type calendarData struct {
	View, Who, Title      string
	Prev, Next, TodayHref string
	Views, Whos           []option
	Weekdays              []string
	Weeks                 [][]calDay // month and week views
	Days                  []calDay   // agenda view: days with items
	HasTeam               bool
	Return                string
}

// calendarPage shows the month, week or agenda of the user's (or team's)
// tasks and appointments; every item is a link, and dragging one to
// another day reschedules it (assets/static/calendar.js).
func (s *Server) calendarPage(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	if !a.Can(store.EntTasks, store.ActView) && !a.Can(store.EntActivities, store.ActView) {
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	p := s.newPage(r, "calendar.title")
	p.Section = "tasks"
	loc := p.Tr.Location()
	q := r.URL.Query()
	view := q.Get("view")
	if view != "week" && view != "agenda" {
		view = "month"
	}
	who := q.Get("who")
	if who != "team" || a.TeamID == 0 {
		who = "mine"
	}
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	day := today
	if t, err := time.ParseInLocation("2006-01-02", q.Get("date"), loc); err == nil && t.Year() > 1900 && t.Year() < 3000 {
		day = t
	}
	var from, to, prev, next time.Time
	var title string
	switch view {
	case "month":
		first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
		from = weekStart(first)
		to = weekStart(first.AddDate(0, 1, 0).Add(-time.Hour)).AddDate(0, 0, 7)
		prev, next = first.AddDate(0, -1, 0), first.AddDate(0, 1, 0)
		title = p.T("calendar.month."+strconv.Itoa(int(first.Month()))) + " " + strconv.Itoa(first.Year())
	case "week":
		from = weekStart(day)
		to = from.AddDate(0, 0, 7)
		prev, next = from.AddDate(0, 0, -7), from.AddDate(0, 0, 7)
		title = p.Date(from) + " – " + p.Date(to.AddDate(0, 0, -1))
	default:
		from = day
		to = day.AddDate(0, 0, agendaDays)
		prev, next = day.AddDate(0, 0, -agendaDays), to
		title = p.Date(from) + " – " + p.Date(to.AddDate(0, 0, -1))
	}
	items, err := s.st.Calendar(r.Context(), a, store.CalendarQuery{From: from, To: to, Team: who == "team"})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link := func(v, w string, d time.Time) string {
		return "/calendar?" + url.Values{"view": {v}, "who": {w}, "date": {d.Format("2006-01-02")}}.Encode()
	}
	self := link(view, who, day)
	d := calendarData{View: view, Who: who, Title: title, HasTeam: a.TeamID != 0, Return: self,
		Prev: link(view, who, prev), Next: link(view, who, next), TodayHref: link(view, who, today)}
	for _, v := range []string{"month", "week", "agenda"} {
		d.Views = append(d.Views, option{Value: link(v, who, day), Label: p.T("calendar.view." + v), Selected: v == view})
	}
	for _, x := range []string{"mine", "team"} {
		d.Whos = append(d.Whos, option{Value: link(view, x, day), Label: p.T("calendar.who." + x), Selected: x == who})
	}
	for i := range 7 {
		d.Weekdays = append(d.Weekdays, p.T("calendar.weekday."+strconv.Itoa((i+1)%7)))
	}
	byDay := map[string][]calItem{}
	for _, it := range items {
		at := it.At.In(loc)
		ci := calItem{
			Href: recordPath(it.Entity, it.ID), EditHref: recordPath(it.Entity, it.ID) + "/edit?" + url.Values{"return_to": {self}}.Encode(),
			Title: it.Title, Time: at.Format("15:04"), Entity: string(it.Entity), ID: it.ID, Version: it.Version,
			Editable: it.Editable, Done: it.Status == "done" || it.Status == "cancelled", Owner: it.OwnerName, Date: at.Format("2006-01-02"),
		}
		if it.Entity == store.EntTasks {
			ci.Kind, ci.Class = p.T("calendar.kind.task"), "task"
		} else {
			ci.Kind, ci.Class = p.OptName("activity_type", it.Type), it.Type
		}
		byDay[ci.Date] = append(byDay[ci.Date], ci)
	}
	mkDay := func(t time.Time) calDay {
		key := t.Format("2006-01-02")
		c := calDay{Date: key, Label: p.Date(t), Day: t.Day(), Today: t.Equal(today), Items: byDay[key],
			InRange: view != "month" || t.Month() == day.Month()}
		at := key + "T09:00"
		if a.Can(store.EntTasks, store.ActCreate) {
			c.NewTask = "/tasks/new?" + url.Values{"due_at": {at}, "return_to": {self}}.Encode()
		}
		if a.Can(store.EntActivities, store.ActCreate) {
			c.NewMeet = "/activities/new?" + url.Values{"type": {"meeting"}, "occurred_at": {at}, "return_to": {self}}.Encode()
		}
		return c
	}
	if view == "agenda" {
		for t := from; t.Before(to); t = t.AddDate(0, 0, 1) {
			if c := mkDay(t); len(c.Items) > 0 {
				d.Days = append(d.Days, c)
			}
		}
	} else {
		for t := from; t.Before(to); t = t.AddDate(0, 0, 7) {
			var week []calDay
			for i := range 7 {
				week = append(week, mkDay(t.AddDate(0, 0, i)))
			}
			d.Weeks = append(d.Weeks, week)
		}
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "calendar", p)
}

// weekStart returns the Monday (at midnight) of t's week.
func weekStart(t time.Time) time.Time {
	t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

// calendarMove reschedules a task (due_at) or an activity (occurred_at) to
// another day, keeping its time of day unless a time is given, with the
// version the page showed: a record changed since is not overwritten. The
// script sends it with Accept: application/json; a plain form post (the
// agenda's Move buttons) is redirected back.
func (s *Server) calendarMove(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	p := s.newPage(r, "calendar.title")
	loc := p.Tr.Location()
	f := r.PostForm
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	back := safeNext(f.Get("return_to"))
	if back == "/" {
		back = "/calendar"
	}
	fail := func(err error) {
		if wantJSON {
			se := store.AsError(err)
			s.logIfInternal(r, err)
			status := statusFor(se.Code)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "message": p.T(se.Key)})
			return
		}
		s.fail(w, r, err)
	}
	e := store.Entity(f.Get("entity"))
	field := map[store.Entity]string{store.EntTasks: "due_at", store.EntActivities: "occurred_at"}[e]
	id, _ := strconv.ParseInt(f.Get("id"), 10, 64)
	version, _ := strconv.ParseInt(f.Get("version"), 10, 64)
	day, derr := time.ParseInLocation("2006-01-02", f.Get("date"), loc)
	if field == "" || id <= 0 || derr != nil {
		fail(&store.Error{Code: store.CodeInvalid, Key: "calendar.error.move"})
		return
	}
	rec, err := s.st.FindRecord(r.Context(), a, e, id)
	if err != nil {
		fail(err)
		return
	}
	cur := rec.Time(field).In(loc)
	hh, mm := cur.Hour(), cur.Minute()
	if cur.IsZero() {
		hh, mm = 9, 0
	}
	if hm := f.Get("time"); hm != "" {
		t, err := time.Parse("15:04", hm)
		if err != nil {
			fail(&store.Error{Code: store.CodeInvalid, Key: "calendar.error.move"})
			return
		}
		hh, mm = t.Hour(), t.Minute()
	}
	at := time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, loc)
	if version == 0 {
		version = rec.Version
	}
	upd, err := s.st.UpdateRecord(r.Context(), a, e, id, store.Input{Values: map[string]any{field: at}, Version: version})
	if err != nil {
		fail(err)
		return
	}
	if wantJSON {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "version": upd.Version, "date": at.Format("2006-01-02")})
		return
	}
	s.flash(w, r, "success", "calendar.moved")
	redirect(w, r, back)
}

// calendarFeed serves a user's private iCalendar feed; the secret in the
// URL is the only credential, so an unknown one is a plain 404.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	a, err := s.st.FeedActor(r.Context(), mux.Vars(r)["secret"])
	if err != nil {
		if store.ErrorCode(err) == store.CodeInternal {
			s.logIfInternal(r, err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		http.NotFound(w, r)
		return
	}
	reqCtxOf(r).userID = a.UserID
	tz := a.Timezone
	lang := a.Language
	if c, err := s.st.Company(r.Context()); err == nil {
		if tz == "" {
			tz = c.Timezone
		}
		if lang == "" {
			lang = c.Language
		}
	}
	tr := s.i18n.For(lang, loadLocation(tz))
	now := time.Now().UTC()
	items, err := s.st.Calendar(r.Context(), a, store.CalendarQuery{From: now.AddDate(0, -feedPastMonths, 0), To: now.AddDate(0, feedFutureMonths, 0)})
	if err != nil {
		s.logIfInternal(r, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := strings.ToLower(r.Host)
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Disposition", `inline; filename="cartera.ics"`)
	if r.Method == http.MethodHead {
		return
	}
	err = dav.WriteFeed(w, items, dav.FeedOptions{
		Name: "Cartera – " + a.Name, BaseURL: scheme + "://" + r.Host, Host: host,
		Label: func(it store.CalendarItem) string {
			if it.Entity == store.EntTasks {
				return tr.T("calendar.kind.task")
			}
			return tr.T("opt.activity_type." + it.Type)
		},
	})
	if err != nil {
		s.log.Error("writing calendar feed", "err", err)
	}
}

// syncData is what the calendar-feed and contact-sync settings page shows.
type syncData struct {
	Settings   *store.SyncSettings
	FeedURL    string // shown once, right after it is made
	DAVURL     string
	Email      string
	BookScopes []option
	Deletes    []option
}

// syncPage shows the user's calendar feed (make, remake, revoke) and their
// contact sync settings, with what to type into a phone.
func (s *Server) syncPage(w http.ResponseWriter, r *http.Request) {
	s.renderSync(w, r, "")
}

func (s *Server) renderSync(w http.ResponseWriter, r *http.Request, feedURL string) {
	a := reqCtxOf(r).actor
	st, err := s.st.SyncSettings(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "calendar.sync_title")
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d := syncData{Settings: st, FeedURL: feedURL, DAVURL: scheme + "://" + r.Host + dav.Prefix + "/", Email: a.Email}
	for _, v := range store.BookScopes {
		d.BookScopes = append(d.BookScopes, option{Value: v, Label: p.T("calendar.book." + v), Selected: v == st.BookScope})
	}
	for _, v := range store.DeleteModes {
		d.Deletes = append(d.Deletes, option{Value: v, Label: p.T("calendar.delete." + v), Selected: v == st.DeleteMode})
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "sync_settings", p)
}

// profileFeed makes, remakes or revokes the user's calendar feed URL.
func (s *Server) profileFeed(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	if r.PostForm.Get("action") == "revoke" {
		if err := s.st.RevokeFeedSecret(r.Context(), a); err != nil {
			s.fail(w, r, err)
			return
		}
		s.flash(w, r, "success", "calendar.feed_revoked")
		redirect(w, r, "/profile/sync")
		return
	}
	secret, err := s.st.CreateFeedSecret(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	s.renderSync(w, r, scheme+"://"+r.Host+"/ical/"+secret+".ics")
}

// profileSync saves the user's contact sync settings.
func (s *Server) profileSync(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	if err := s.st.SetSyncSettings(r.Context(), reqCtxOf(r).actor, f.Get("book_scope"), f.Get("delete_mode"), f.Get("show_hidden") != ""); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "calendar.sync_saved")
	redirect(w, r, "/profile/sync")
}
