package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// campaignOpts is what the store needs from the server to send campaigns:
// base_url for links, option labels and the footer's words.
func (s *Server) campaignOpts() store.CampaignOptions {
	return store.CampaignOptions{
		BaseURL: s.opts.BaseURL,
		Label:   s.Labeler(),
		Words:   func(lang string) store.Words { return s.i18n.For(lang, nil) },
	}
}

// segmentOut is a segment in the API, with its live count when asked.
type segmentOut struct {
	*store.Segment
	Count *int64 `json:"count,omitempty"`
}

// apiSegments lists the segments the token's user may view.
func (s *Server) apiSegments(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.FindSegments(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []*store.Segment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// apiSegmentCreate saves a new segment and answers with its live count.
func (s *Server) apiSegmentCreate(w http.ResponseWriter, r *http.Request) {
	var g store.Segment
	if err := decodeJSON(r, &g); err != nil {
		s.apiError(w, r, err)
		return
	}
	g.ID = 0
	a := reqCtxOf(r).actor
	if err := s.st.SaveSegment(r.Context(), a, &g); err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.st.CountSegment(r.Context(), a, &g)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, segmentOut{Segment: &g, Count: &n})
}

// apiSegmentGet returns one segment with its live count.
func (s *Server) apiSegmentGet(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	g, err := s.st.GetSegment(r.Context(), a, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.st.CountSegment(r.Context(), a, g)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, segmentOut{Segment: g, Count: &n})
}

// apiSegmentMembers pages through a segment's members (?after=ID&limit=N).
func (s *Server) apiSegmentMembers(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	g, err := s.st.GetSegment(r.Context(), a, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	recs, next, err := s.st.SegmentMembers(r.Context(), a, g, parseInt64(q.Get("after")), int(parseInt64(q.Get("limit"))))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		data = append(data, recordJSON(rec))
	}
	out := map[string]any{"data": data, "next": nil}
	if next != 0 {
		out["next"] = itoa(next)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiSegmentMembersChange adds records to and removes them from a static
// list.
func (s *Server) apiSegmentMembersChange(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Add    []string `json:"add"`
		Remove []string `json:"remove"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	ids := func(v []string) []int64 {
		var out []int64
		for _, x := range v {
			if id := parseInt64(x); id > 0 {
				out = append(out, id)
			}
		}
		return out
	}
	a, id := reqCtxOf(r).actor, pathID(r, "id")
	added, err := s.st.AddSegmentMembers(r.Context(), a, id, ids(in.Add))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	removed, err := s.st.RemoveSegmentMembers(r.Context(), a, id, ids(in.Remove))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"added": added, "removed": removed})
}

// campaignIn is a new campaign as the API receives it; schedule is "now",
// an RFC 3339 time, or absent for a draft.
type campaignIn struct {
	Name         string `json:"name"`
	SegmentID    string `json:"segment_id"`
	TemplateName string `json:"template_name"`
	ReplyTo      string `json:"reply_to"`
	PerMinute    int    `json:"per_minute"`
	TrackOpens   bool   `json:"track_opens"`
	TrackClicks  bool   `json:"track_clicks"`
	Schedule     string `json:"schedule"`
}

// parseSchedule reads "now" (zero time) or an RFC 3339 time.
func parseSchedule(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || v == "now" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// apiCampaigns lists the campaigns the token's user may view.
func (s *Server) apiCampaigns(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.FindCampaigns(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []*store.Campaign{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// apiCampaignCreate saves a campaign and, with "schedule", schedules it.
func (s *Server) apiCampaignCreate(w http.ResponseWriter, r *http.Request) {
	var in campaignIn
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	at, ok := parseSchedule(in.Schedule)
	if !ok {
		s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"schedule": "error.datetime"}})
		return
	}
	a := reqCtxOf(r).actor
	c := &store.Campaign{Name: in.Name, SegmentID: parseInt64(in.SegmentID), TemplateName: in.TemplateName, ReplyTo: in.ReplyTo,
		PerMinute: in.PerMinute, TrackOpens: in.TrackOpens, TrackClicks: in.TrackClicks}
	if err := s.st.SaveCampaign(r.Context(), a, c); err != nil {
		s.apiError(w, r, err)
		return
	}
	if in.Schedule != "" {
		if err := s.st.ScheduleCampaign(r.Context(), a, c.ID, at, s.campaignOpts()); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	c, err := s.st.GetCampaign(r.Context(), a, c.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

// apiCampaignGet returns one campaign.
func (s *Server) apiCampaignGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.st.GetCampaign(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// apiCampaignStats is the campaign report: totals and recipients
// (?after=RECORD_ID&limit=N).
func (s *Server) apiCampaignStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st, err := s.st.CampaignReport(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), parseInt64(q.Get("after")), int(parseInt64(q.Get("limit"))))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if st.Rows == nil {
		st.Rows = []store.CampaignRecipient{}
	}
	writeJSON(w, http.StatusOK, st)
}

// apiCampaignAction schedules ({"schedule": "now"|time}), cancels or
// test-sends a campaign.
func (s *Server) apiCampaignAction(w http.ResponseWriter, r *http.Request) {
	a, id := reqCtxOf(r).actor, pathID(r, "id")
	var err error
	switch mux.Vars(r)["action"] {
	case "schedule":
		var in struct {
			Schedule string `json:"schedule"`
		}
		if err := decodeJSON(r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		at, ok := parseSchedule(in.Schedule)
		if !ok {
			s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"schedule": "error.datetime"}})
			return
		}
		err = s.st.ScheduleCampaign(r.Context(), a, id, at, s.campaignOpts())
	case "cancel":
		err = s.st.CancelCampaign(r.Context(), a, id)
	case "test":
		var ob int64
		ob, err = s.st.TestSendCampaign(r.Context(), a, id, s.campaignOpts())
		if err == nil && s.opts.Mail != nil {
			if sendErr := s.opts.Mail.SendNow(r.Context(), ob); sendErr != nil {
				s.log.Warn("campaign test e-mail not sent yet", "outbox_id", ob, "err", sendErr)
			}
		}
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiCampaignGet(w, r)
}

// RunCampaigns is the automation job that starts due campaigns and queues
// their messages, with the server's base URL and catalogs.
func (s *Server) RunCampaigns(ctx context.Context, now time.Time) (int, error) {
	return s.st.RunCampaigns(ctx, now, s.campaignOpts())
}
