package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// This file holds the marketing pages: segments (dynamic filters and
// static lists) with their live count and members, campaigns with their
// report, and the firm's consent mode.

// marketingData feeds the marketing index.
type marketingData struct {
	Segments    []*store.Segment
	Campaigns   []*store.Campaign
	ConsentMode store.ConsentMode
	CanSettings bool
	Entities    []store.Entity
	Templates   []string
}

// marketingIndex lists segments and campaigns.
func (s *Server) marketingIndex(w http.ResponseWriter, r *http.Request) {
	s.renderMarketing(w, r, http.StatusOK, nil)
}

func (s *Server) renderMarketing(w http.ResponseWriter, r *http.Request, status int, p *page) {
	a := reqCtxOf(r).actor
	ctx := r.Context()
	d := &marketingData{CanSettings: a.Has(store.CapSettings), Entities: store.SegmentEntities}
	var err error
	if a.Can(store.EntSegments, store.ActView) {
		if d.Segments, err = s.st.FindSegments(ctx, a); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if a.Can(store.EntCampaigns, store.ActView) {
		if d.Campaigns, err = s.st.FindCampaigns(ctx, a); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.ConsentMode, err = s.st.MarketingConsentMode(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if ts, err := s.st.FindEmailTemplates(ctx, a, ""); err == nil {
		for _, t := range ts {
			if !contains(d.Templates, t.Name) && (t.Entity == store.EntContacts || t.Entity == store.EntLeads) {
				d.Templates = append(d.Templates, t.Name)
			}
		}
	}
	if p == nil {
		p = s.newPage(r, "marketing.title")
	}
	p.Section = "marketing"
	p.Data = d
	s.render(w, r, status, "marketing", p)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// marketingSettings saves the firm's consent mode.
func (s *Server) marketingSettings(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.st.SetMarketingConsentMode(r.Context(), reqCtxOf(r).actor, store.ConsentMode(r.PostForm.Get("consent_mode"))); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "marketing.saved")
	redirect(w, r, "/marketing")
}

// segmentCreate makes a new segment from the index's short form.
func (s *Server) segmentCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	g := &store.Segment{Name: f.Get("name"), Entity: store.Entity(f.Get("entity")), Kind: f.Get("kind")}
	if err := s.st.SaveSegment(r.Context(), reqCtxOf(r).actor, g); err != nil {
		p := s.newPage(r, "marketing.title")
		p.Form = f
		s.renderMarketing(w, r, s.formErrors(r, p, err), p)
		return
	}
	redirect(w, r, "/marketing/segments/"+itoa(g.ID))
}

// fieldChoice is a field a segment condition may test.
type fieldChoice struct {
	Key, Label string
}

// segmentData feeds the segment page.
type segmentData struct {
	Segment *store.Segment
	Rows    []store.SegmentCondition
	Fields  []fieldChoice
	Ops     []string
	Count   int64
	Members []*store.Record
	CanEdit bool
}

// segmentFields lists what a condition may test for a record type.
func segmentFields(p *page, sc *store.Schema, e store.Entity) []fieldChoice {
	var out []fieldChoice
	d := sc.Def(e)
	for _, f := range d.Fields {
		if f.Kind == store.KLongText || f.Kind == store.KRef {
			continue
		}
		out = append(out, fieldChoice{f.Key, p.FieldName(e, f.Key)})
	}
	for _, c := range d.Custom {
		out = append(out, fieldChoice{"custom." + c.Key, p.CustomName(c)})
	}
	out = append(out, fieldChoice{"tag", p.T("marketing.cond_tag")})
	if e == store.EntContacts {
		for _, k := range store.SegmentAccountFields {
			out = append(out, fieldChoice{"account." + k, p.T("entity.accounts") + ": " + p.FieldName(store.EntAccounts, k)})
		}
		out = append(out, fieldChoice{"won_deal_days", p.T("marketing.cond_won_deal_days")})
	}
	out = append(out, fieldChoice{"no_activity_days", p.T("marketing.cond_no_activity_days")})
	return out
}

// segmentShow shows a segment: its conditions (or members' list), the live
// count and the first members.
func (s *Server) segmentShow(w http.ResponseWriter, r *http.Request) {
	g, err := s.st.GetSegment(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderSegment(w, r, http.StatusOK, nil, g)
}

func (s *Server) renderSegment(w http.ResponseWriter, r *http.Request, status int, p *page, g *store.Segment) {
	a := reqCtxOf(r).actor
	if p == nil {
		p = s.newPage(r, "marketing.segment")
	}
	p.Section = "marketing"
	d := &segmentData{Segment: g, Ops: store.SegmentOps, CanEdit: a.Can(store.EntSegments, store.ActEdit)}
	d.Fields = segmentFields(p, s.st.Schema(), g.Entity)
	d.Rows = append(append([]store.SegmentCondition{}, g.Conditions...), store.SegmentCondition{}, store.SegmentCondition{}, store.SegmentCondition{})
	if n, err := s.st.CountSegment(r.Context(), a, g); err == nil {
		d.Count = n
		d.Members, _, _ = s.st.SegmentMembers(r.Context(), a, g, 0, 50)
	} else if status == http.StatusOK {
		status = s.formErrors(r, p, err)
	}
	p.Data = d
	s.render(w, r, status, "segment", p)
}

// segmentSave saves a segment's name and conditions; the "count" button
// shows the live count of the conditions without saving them.
func (s *Server) segmentSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := reqCtxOf(r).actor
	g, err := s.st.GetSegment(r.Context(), a, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	g.Name = f.Get("name")
	g.Conditions = nil
	fields, ops, vals := f["field"], f["op"], f["value"]
	for i := range fields {
		if strings.TrimSpace(fields[i]) == "" || i >= len(ops) || i >= len(vals) {
			continue
		}
		g.Conditions = append(g.Conditions, store.SegmentCondition{Field: fields[i], Op: ops[i], Value: strings.TrimSpace(vals[i])})
	}
	p := s.newPage(r, "marketing.segment")
	if f.Get("preview") != "" {
		s.renderSegment(w, r, http.StatusOK, p, g)
		return
	}
	if err := s.st.SaveSegment(r.Context(), a, g); err != nil {
		s.renderSegment(w, r, s.formErrors(r, p, err), p, g)
		return
	}
	s.flash(w, r, "success", "marketing.saved")
	redirect(w, r, "/marketing/segments/"+itoa(g.ID))
}

// segmentMembers adds records to a static list (ids typed or pasted, or
// the "id" values a list view's selection posts) or removes them.
func (s *Server) segmentMembers(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	var ids []int64
	for _, v := range r.PostForm["id"] {
		if id := parseInt64(v); id > 0 {
			ids = append(ids, id)
		}
	}
	for _, v := range strings.FieldsFunc(r.PostForm.Get("ids"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
		if id := parseInt64(v); id > 0 {
			ids = append(ids, id)
		}
	}
	a, id := reqCtxOf(r).actor, pathID(r, "id")
	var err error
	if r.PostForm.Get("remove") != "" {
		_, err = s.st.RemoveSegmentMembers(r.Context(), a, id, ids)
	} else {
		_, err = s.st.AddSegmentMembers(r.Context(), a, id, ids)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "marketing.saved")
	redirect(w, r, "/marketing/segments/"+itoa(id))
}

// segmentDelete removes a segment.
func (s *Server) segmentDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteSegment(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "marketing.deleted")
	redirect(w, r, "/marketing")
}

// campaignCreate saves a draft campaign from the index's form.
func (s *Server) campaignCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	c := &store.Campaign{Name: f.Get("name"), SegmentID: parseInt64(f.Get("segment_id")), TemplateName: f.Get("template_name"),
		ReplyTo: f.Get("reply_to"), PerMinute: int(parseInt64(f.Get("per_minute"))), TrackOpens: f.Get("track_opens") != "", TrackClicks: f.Get("track_clicks") != ""}
	if err := s.st.SaveCampaign(r.Context(), reqCtxOf(r).actor, c); err != nil {
		p := s.newPage(r, "marketing.title")
		p.Form = f
		s.renderMarketing(w, r, s.formErrors(r, p, err), p)
		return
	}
	redirect(w, r, "/marketing/campaigns/"+itoa(c.ID))
}

// campaignData feeds the campaign page.
type campaignData struct {
	Stats   *store.CampaignStats
	Segment *store.Segment
	CanEdit bool
}

// campaignShow is the campaign's page: settings, actions and report.
func (s *Server) campaignShow(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	st, err := s.st.CampaignReport(r.Context(), a, pathID(r, "id"), parseInt64(r.URL.Query().Get("after")), 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "marketing.campaign")
	p.Section = "marketing"
	d := &campaignData{Stats: st, CanEdit: a.Can(store.EntCampaigns, store.ActEdit)}
	d.Segment, _ = s.st.GetSegment(r.Context(), a, st.Campaign.SegmentID)
	p.Data = d
	s.render(w, r, http.StatusOK, "campaign", p)
}

// campaignAction schedules (now or at a local time), test-sends to the
// user's own address, or cancels a campaign.
func (s *Server) campaignAction(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	rc := reqCtxOf(r)
	a, id := rc.actor, pathID(r, "id")
	var err error
	msg := "marketing.saved"
	switch mux.Vars(r)["action"] {
	case "schedule":
		var at time.Time
		if v := strings.TrimSpace(r.PostForm.Get("at")); v != "" {
			at, err = time.ParseInLocation("2006-01-02T15:04", v, rc.tr.Location())
			if err != nil {
				s.fail(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.datetime"})
				return
			}
		}
		err = s.st.ScheduleCampaign(r.Context(), a, id, at, s.campaignOpts())
		msg = "marketing.scheduled"
	case "test":
		var ob int64
		ob, err = s.st.TestSendCampaign(r.Context(), a, id, s.campaignOpts())
		if err == nil && s.opts.Mail != nil {
			if sendErr := s.opts.Mail.SendNow(r.Context(), ob); sendErr != nil {
				s.log.Warn("campaign test e-mail not sent yet", "outbox_id", ob, "err", sendErr)
			}
		}
		msg = "marketing.test_sent"
	case "cancel":
		err = s.st.CancelCampaign(r.Context(), a, id)
		msg = "marketing.cancelled"
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", msg)
	redirect(w, r, "/marketing/campaigns/"+itoa(id))
}
