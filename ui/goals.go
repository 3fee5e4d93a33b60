package ui

import (
	"net/http"
	"strconv"

	"cartera/store"
)

// This file serves goals: the list everyone sees (their own, and with
// scope their team's), the form administrators and managers use to set
// them, and GET/POST /api/v1/goals.

// goalsData is what the goals page shows.
type goalsData struct {
	Goals   []*store.Goal
	CanSet  bool
	Edit    *store.Goal
	Users   []*store.User
	Teams   []*store.Team
	Metrics []string
	Periods []string
}

// goalsPage lists goals and, for managers, the form to add or edit one
// (?edit=ID).
func (s *Server) goalsPage(w http.ResponseWriter, r *http.Request) {
	s.renderGoals(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderGoals(w http.ResponseWriter, r *http.Request, status int, p *page, edit *store.Goal) {
	a := reqCtxOf(r).actor
	gs, err := s.st.FindGoals(r.Context(), a, store.GoalFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p == nil {
		p = s.newPage(r, "goals.title")
	}
	p.Section = "reports"
	d := &goalsData{Goals: gs, CanSet: store.CanSetGoals(a), Metrics: store.GoalMetrics, Periods: store.GoalPeriods, Edit: edit}
	if id := parseInt64(r.URL.Query().Get("edit")); id != 0 && edit == nil {
		if g, err := s.st.FindGoal(r.Context(), a, id); err == nil {
			d.Edit = g
			p.Form.Set("subject", goalSubject(g))
			p.Form.Set("metric", g.Metric)
			p.Form.Set("period", g.Period)
			p.Form.Set("start", g.Label)
			p.Form.Set("target", strconv.FormatFloat(g.Target, 'f', -1, 64))
		}
	}
	if d.CanSet {
		d.Users, _ = s.st.FindUsers(r.Context(), a, store.UserFilter{})
		d.Teams, _ = s.st.FindTeams(r.Context(), a)
	}
	p.Data = d
	s.render(w, r, status, "goals", p)
}

// goalSubject is the form value naming a goal's user ("u12") or team ("t3").
func goalSubject(g *store.Goal) string {
	if g.TeamID != 0 {
		return "t" + itoa(g.TeamID)
	}
	return "u" + itoa(g.UserID)
}

// goalInput reads a goal from a form or API body.
func goalInput(subject, metric, period, start, target string) store.GoalInput {
	in := store.GoalInput{Metric: metric, Period: period, Start: start}
	if len(subject) > 1 {
		id := parseInt64(subject[1:])
		switch subject[0] {
		case 'u':
			in.UserID = id
		case 't':
			in.TeamID = id
		}
	}
	if v, err := strconv.ParseFloat(target, 64); err == nil {
		in.Target = v
	} else {
		in.Target = -1
	}
	return in
}

// goalSave creates (POST /goals) or changes (POST /goals/{id}) a goal.
func (s *Server) goalSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	id := pathID(r, "id")
	f := r.PostForm
	in := goalInput(f.Get("subject"), f.Get("metric"), f.Get("period"), f.Get("start"), f.Get("target"))
	if _, err := s.st.SaveGoal(r.Context(), reqCtxOf(r).actor, id, in); err != nil {
		p := s.newPage(r, "goals.title")
		p.Form = f
		status := s.formErrors(r, p, err)
		var edit *store.Goal
		if id != 0 {
			edit = &store.Goal{ID: id}
		}
		s.renderGoals(w, r, status, p, edit)
		return
	}
	s.flash(w, r, "success", "goals.saved")
	redirect(w, r, "/goals")
}

// goalDelete removes a goal: POST /goals/{id}/delete.
func (s *Server) goalDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteGoal(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "goals.deleted")
	redirect(w, r, "/goals")
}

// goalJSON is a goal as the API shows it.
func goalJSON(g *store.Goal) map[string]any {
	m := map[string]any{"id": itoa(g.ID), "metric": g.Metric, "period": g.Period, "starts_on": g.StartsOn, "label": g.Label, "target": g.Target}
	if g.TeamID != 0 {
		m["team_id"], m["team"] = itoa(g.TeamID), g.TeamName
	} else {
		m["user_id"], m["user"] = itoa(g.UserID), g.UserName
	}
	return m
}

// apiGoals lists the visible goals: GET /api/v1/goals[?user_id=&team_id=].
func (s *Server) apiGoals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	gs, err := s.st.FindGoals(r.Context(), reqCtxOf(r).actor, store.GoalFilter{UserID: parseInt64(q.Get("user_id")), TeamID: parseInt64(q.Get("team_id"))})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(gs))
	for _, g := range gs {
		out = append(out, goalJSON(g))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// apiGoalCreate sets a goal: POST /api/v1/goals with {"user_id"|"team_id",
// "metric", "period", "start", "target"}.
func (s *Server) apiGoalCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserID json64  `json:"user_id"`
		TeamID json64  `json:"team_id"`
		Metric string  `json:"metric"`
		Period string  `json:"period"`
		Start  string  `json:"start"`
		Target float64 `json:"target"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	g, err := s.st.SaveGoal(r.Context(), reqCtxOf(r).actor, 0, store.GoalInput{UserID: int64(body.UserID), TeamID: int64(body.TeamID), Metric: body.Metric, Period: body.Period, Start: body.Start, Target: body.Target})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, goalJSON(g))
}

// json64 accepts an id as a JSON number or string (the API writes ids as
// strings).
type json64 int64

// UnmarshalJSON reads 12 or "12".
func (v *json64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" || s == "null" {
		*v = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	*v = json64(n)
	return err
}
