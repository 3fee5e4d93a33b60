package ui

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// webhookJSON is a subscription as the API shows it; the secret only in
// the answer to its creation.
func webhookJSON(w *store.Webhook) map[string]any {
	out := map[string]any{"id": itoa(w.ID), "url": w.URL, "events": w.Events, "enabled": w.Enabled, "created_at": w.CreatedAt.Format(time.RFC3339)}
	if w.Secret != "" {
		out["secret"] = w.Secret
	}
	return out
}

// timeOrNil is an RFC 3339 time, or null for the zero time.
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339)
}

// deliveryJSON is a delivery with its attempts as the API shows it.
func deliveryJSON(d *store.WebhookDelivery) map[string]any {
	log := make([]map[string]any, 0, len(d.Log))
	for _, a := range d.Log {
		log = append(log, map[string]any{"at": a.At.Format(time.RFC3339), "status": a.Status, "duration_ms": a.Duration.Milliseconds(), "error": a.Error})
	}
	out := map[string]any{
		"id": itoa(d.ID), "event_id": d.EventID, "event": d.Event, "url": d.URL, "status": d.Status, "attempts": d.Attempts,
		"last_status": d.LastStatus, "last_error": d.LastError, "last_duration_ms": d.LastDuration.Milliseconds(),
		"created_at": d.CreatedAt.Format(time.RFC3339), "delivered_at": timeOrNil(d.DeliveredAt), "expires_at": d.ExpiresAt.Format(time.RFC3339),
		"next_attempt_at": nil, "resent_from": nil, "log": log,
	}
	if d.Status == store.DeliveryPending {
		out["next_attempt_at"] = d.NextAttemptAt.Format(time.RFC3339)
	}
	if d.ResentFrom != 0 {
		out["resent_from"] = itoa(d.ResentFrom)
	}
	var payload any
	if err := json.Unmarshal([]byte(d.Body), &payload); err == nil {
		out["payload"] = payload
	}
	return out
}

func (s *Server) apiWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.st.FindWebhooks(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		data = append(data, webhookJSON(h))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "events": store.WebhookEvents})
}

// webhookBody is the body of POST /api/v1/webhooks.
type webhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
}

func (s *Server) apiWebhookCreate(w http.ResponseWriter, r *http.Request) {
	var b webhookBody
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	h, err := s.st.CreateWebhook(r.Context(), reqCtxOf(r).actor, store.WebhookInput{URL: b.URL, Events: b.Events, Secret: b.Secret})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+itoa(h.ID))
	writeJSON(w, http.StatusCreated, webhookJSON(h))
}

func (s *Server) apiWebhookDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteWebhook(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := parseLimit(q.Get("limit"), 50)
	ds, err := s.st.FindWebhookDeliveries(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), parseInt64(q.Get("before")), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	data := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		data = append(data, deliveryJSON(d))
	}
	out := map[string]any{"data": data, "next_before": nil}
	if len(ds) == min(max(limit, 1), 200) && len(ds) > 0 {
		out["next_before"] = itoa(ds[len(ds)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiWebhookResend(w http.ResponseWriter, r *http.Request) {
	d, err := s.st.ResendWebhookDelivery(r.Context(), reqCtxOf(r).actor, pathID(r, "id"), pathID(r, "delivery_id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, deliveryJSON(d))
}

// webhooksData feeds the webhooks settings page.
type webhooksData struct {
	Hooks  []*store.Webhook
	Events []string
	// Created is the subscription made just now, with its secret, shown
	// this once.
	Created *store.Webhook
}

func (s *Server) webhooksPageData(r *http.Request) (*page, error) {
	hooks, err := s.st.FindWebhooks(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, "webhooks.title")
	p.Section = "settings"
	p.Data = &webhooksData{Hooks: hooks, Events: store.WebhookEvents}
	return p, nil
}

func (s *Server) webhooksList(w http.ResponseWriter, r *http.Request) {
	p, err := s.webhooksPageData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "webhooks", p)
}

// webhookCreate subscribes the form's URL and shows the page again with
// the secret, the only time it is shown.
func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	h, err := s.st.CreateWebhook(r.Context(), reqCtxOf(r).actor, store.WebhookInput{
		URL: r.PostForm.Get("url"), Events: r.PostForm["events"], Secret: strings.TrimSpace(r.PostForm.Get("secret")),
	})
	p, perr := s.webhooksPageData(r)
	if perr != nil {
		s.fail(w, r, perr)
		return
	}
	if err != nil {
		p.Form = r.PostForm
		s.render(w, r, s.formErrors(r, p, err), "webhooks", p)
		return
	}
	p.Data.(*webhooksData).Created = h
	s.render(w, r, http.StatusOK, "webhooks", p)
}

func (s *Server) webhookDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteWebhook(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "webhooks.deleted")
	redirect(w, r, "/settings/webhooks")
}

// deliveriesData feeds a subscription's deliveries log.
type deliveriesData struct {
	Hook       *store.Webhook
	Deliveries []*store.WebhookDelivery
	Next       int64
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	a := reqCtxOf(r).actor
	id := pathID(r, "id")
	h, err := s.st.FindWebhook(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.st.FindWebhookDeliveries(r.Context(), a, id, parseInt64(r.URL.Query().Get("before")), 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &deliveriesData{Hook: h, Deliveries: ds}
	if len(ds) == 50 {
		d.Next = ds[len(ds)-1].ID
	}
	p := s.newPage(r, "webhooks.deliveries")
	p.Section = "settings"
	p.Data = d
	s.render(w, r, http.StatusOK, "webhook_deliveries", p)
}

func (s *Server) webhookResend(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	if _, err := s.st.ResendWebhookDelivery(r.Context(), reqCtxOf(r).actor, id, parseInt64(mux.Vars(r)["delivery_id"])); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "webhooks.resent")
	redirect(w, r, "/settings/webhooks/"+itoa(id))
}
