package ui

import (
	"net/http"
	"strconv"
	"time"

	"cartera/store"
)

// unreadCount is the number on the bell in the header: one indexed count
// per page; an error only hides the number.
func (s *Server) unreadCount(r *http.Request) int {
	a := reqCtxOf(r).actor
	if a == nil {
		return 0
	}
	n, err := s.st.UnreadNotifications(r.Context(), a)
	if err != nil {
		s.log.Error("counting notifications", "err", err)
		return 0
	}
	return n
}

// notificationItem is one notification as the reader sees it: translated
// into their language, with a link to its record.
type notificationItem struct {
	ID        int64
	Kind      string
	Title     string
	Body      string
	Link      string
	Read      bool
	CreatedAt time.Time
}

func notificationItems(ns []*store.Notification, w store.Words) []notificationItem {
	out := make([]notificationItem, 0, len(ns))
	for _, n := range ns {
		title, body := n.Text(w)
		it := notificationItem{ID: n.ID, Kind: n.Kind, Title: title, Body: body, Read: n.Read(), CreatedAt: n.CreatedAt}
		if n.RecordID != 0 && store.Def(n.Entity) != nil {
			it.Link = recordPath(n.Entity, n.RecordID)
		}
		out = append(out, it)
	}
	return out
}

// notificationsData feeds the notifications page.
type notificationsData struct {
	Items  []notificationItem
	Unread bool
	Next   int64
}

const notificationsPageSize = 50

// notificationsPage lists the signed-in user's notifications, newest first
// (?unread=1: unread only; ?before=ID: older ones).
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) {
	rc := reqCtxOf(r)
	q := r.URL.Query()
	f := store.NotificationFilter{Unread: q.Get("unread") == "1", Limit: notificationsPageSize}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	ns, err := s.st.FindNotifications(r.Context(), rc.actor, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "notifications.title")
	p.Section = "notifications"
	d := notificationsData{Items: notificationItems(ns, rc.tr), Unread: f.Unread}
	if len(ns) == notificationsPageSize {
		d.Next = ns[len(ns)-1].ID
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "notifications", p)
}

// notificationsRead marks the posted ids read, or every notification when
// the form says all=1, and goes back to the list.
func (s *Server) notificationsRead(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	var ids []int64
	if r.PostForm.Get("all") != "1" {
		ids = []int64{}
		for _, v := range r.PostForm["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
				return
			}
			ids = append(ids, id)
		}
	}
	if err := s.st.MarkNotificationsRead(r.Context(), reqCtxOf(r).actor, ids); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "notifications.marked_read")
	to := "/notifications"
	if r.PostForm.Get("unread") == "1" {
		to += "?unread=1"
	}
	redirect(w, r, to)
}

// notifyPrefsData feeds the notification preferences on the profile page.
type notifyPrefsData struct {
	Kinds    []string
	Channels []store.NotifyChannel
	Current  map[string]store.NotifyChannel
	Digest   bool
}

// notifyPrefs loads the actor's notification preferences for the profile.
func (s *Server) notifyPrefs(r *http.Request) (notifyPrefsData, error) {
	prefs, err := s.st.NotificationPrefs(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		return notifyPrefsData{}, err
	}
	return notifyPrefsData{Kinds: store.NotificationKinds, Channels: store.NotifyChannels, Current: prefs.Channels, Digest: prefs.Digest}, nil
}

// profileNotifications saves the actor's channel per kind and the daily
// digest choice from the profile page.
func (s *Server) profileNotifications(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	in := store.NotificationSettings{Channels: map[string]store.NotifyChannel{}, Digest: r.PostForm.Get("digest") == "1"}
	for _, k := range store.NotificationKinds {
		if v := r.PostForm.Get("channel." + k); v != "" {
			in.Channels[k] = store.NotifyChannel(v)
		}
	}
	if err := s.st.SaveNotificationPrefs(r.Context(), reqCtxOf(r).actor, in); err != nil {
		s.renderProfile(w, r, 0, nil, err, "")
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/profile#notifications")
}

// apiNotification is one notification in the API, in the token user's
// language.
type apiNotification struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Body      string `json:"body,omitempty"`
	Entity    string `json:"entity,omitempty"`
	RecordID  string `json:"record_id,omitempty"`
	Read      bool   `json:"read"`
	CreatedAt string `json:"created_at"`
	ReadAt    string `json:"read_at,omitempty"`
}

// apiNotifications lists the token user's notifications, newest first;
// ?unread=1 keeps the unread ones, ?before=ID pages, ?limit=N (≤ 200).
func (s *Server) apiNotifications(w http.ResponseWriter, r *http.Request) {
	rc := reqCtxOf(r)
	q := r.URL.Query()
	f := store.NotificationFilter{Unread: q.Get("unread") == "1" || q.Get("unread") == "true", Limit: 50}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		f.Limit = min(l, 200)
	}
	ns, err := s.st.FindNotifications(r.Context(), rc.actor, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	unread, err := s.st.UnreadNotifications(r.Context(), rc.actor)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]apiNotification, 0, len(ns))
	for _, n := range ns {
		title, body := n.Text(rc.tr)
		item := apiNotification{ID: itoa(n.ID), Kind: n.Kind, Title: title, Body: body, Read: n.Read(), CreatedAt: n.CreatedAt.Format(time.RFC3339)}
		if n.RecordID != 0 {
			item.Entity, item.RecordID = string(n.Entity), itoa(n.RecordID)
		}
		if n.Read() {
			item.ReadAt = n.ReadAt.Format(time.RFC3339)
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "unread": unread})
}

// apiNotificationsRead marks notifications read: {"ids": ["1", "2"]}, or
// every one with an empty body or {"all": true}.
func (s *Server) apiNotificationsRead(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDs []string `json:"ids"`
		All bool     `json:"all"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	var ids []int64
	if !body.All && body.IDs != nil {
		ids = []int64{}
		for _, v := range body.IDs {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				s.apiError(w, r, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"ids": "error.invalid"}})
				return
			}
			ids = append(ids, id)
		}
	}
	a := reqCtxOf(r).actor
	if err := s.st.MarkNotificationsRead(r.Context(), a, ids); err != nil {
		s.apiError(w, r, err)
		return
	}
	unread, err := s.st.UnreadNotifications(r.Context(), a)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"unread": unread})
}
