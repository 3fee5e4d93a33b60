package ui

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"cartera/store"
)

// The public marketing links of campaign e-mails: unsubscribe (page and
// RFC 8058 one-click POST), open pixel and click redirect. They need no
// login; each is signed by the store and rate-limited per address.

// Limits of the public marketing links per client address.
const (
	linkRate   = 120
	linkWindow = time.Minute
)

// publicLinks serves the signed links; it owns their limiter.
type publicLinks struct {
	s       *Server
	limiter *rateLimiter
}

func (s *Server) newPublicLinks() *publicLinks {
	return &publicLinks{s: s, limiter: &rateLimiter{now: s.opts.Now, n: linkRate, window: linkWindow, hits: map[string][]time.Time{}}}
}

// unsubscribeData feeds the public unsubscribe page.
type unsubscribeData struct {
	Heading string
	Action  string
	Done    bool
	Message string
}

// linkIDs reads the campaign and record ids of a link's path.
func linkIDs(r *http.Request) (int64, int64, string) {
	return pathID(r, "campaign"), pathID(r, "record"), mux.Vars(r)["sig"]
}

// page renders the unsubscribe page (its own minimal layout).
func (l *publicLinks) page(w http.ResponseWriter, r *http.Request, status int, d *unsubscribeData) {
	p := l.s.newPage(r, "marketing.unsubscribe_title")
	p.Tr, p.Actor, p.Nav = l.s.publicTranslator(r, nil), nil, nil
	d.Heading = p.Tr.T("marketing.unsubscribe_title")
	p.Data = d
	var buf bytes.Buffer
	if err := l.s.pages["unsubscribe"].ExecuteTemplate(&buf, "public", p); err != nil {
		l.s.log.Error("rendering template", "name", "unsubscribe", "err", err)
		http.Error(w, p.Tr.T("error.internal"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// refuse answers a bad or abused link without saying why.
func (l *publicLinks) refuse(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	status, key := http.StatusNotFound, "marketing.link_invalid"
	if se := store.AsError(err); se.Code != store.CodeNotFound {
		l.s.log.Error("campaign link", "path", r.URL.Path, "err", err)
		status, key = http.StatusInternalServerError, "error.internal"
	}
	l.page(w, r, status, &unsubscribeData{Message: key})
	return true
}

// allowed applies the per-address limit.
func (l *publicLinks) allowed(w http.ResponseWriter, r *http.Request) bool {
	if l.limiter.allow(clientAddr(r)) {
		return true
	}
	w.Header().Set("Retry-After", "60")
	http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
	return false
}

// unsubscribeForm shows one button; a GET never unsubscribes, since mail
// scanners open links on their own.
func (l *publicLinks) unsubscribeForm(w http.ResponseWriter, r *http.Request) {
	if !l.allowed(w, r) {
		return
	}
	c, rec, sig := linkIDs(r)
	if l.refuse(w, r, l.s.st.VerifyCampaignLink(r.Context(), store.CampaignLink{Kind: store.LinkUnsubscribe, CampaignID: c, RecordID: rec}, sig)) {
		return
	}
	l.page(w, r, http.StatusOK, &unsubscribeData{Action: r.URL.Path})
}

// unsubscribe records the opt-out: the page's button, or a mail
// program's RFC 8058 one-click POST ("List-Unsubscribe=One-Click"), with
// no session and no Origin needed.
func (l *publicLinks) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if !l.allowed(w, r) {
		return
	}
	c, rec, sig := linkIDs(r)
	if l.refuse(w, r, l.s.st.Unsubscribe(r.Context(), c, rec, sig)) {
		return
	}
	l.page(w, r, http.StatusOK, &unsubscribeData{Done: true})
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

// open records the open pixel and answers the image whatever happens.
func (l *publicLinks) open(w http.ResponseWriter, r *http.Request) {
	if l.limiter.allow(clientAddr(r)) {
		c, rec, sig := linkIDs(r)
		if err := l.s.st.TrackOpen(r.Context(), c, rec, sig); err != nil && store.AsError(err).Code != store.CodeNotFound {
			l.s.log.Error("open pixel", "err", err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "no-store")
	w.Write(pixel)
}

// click records a click and redirects to the signed target only; a link
// whose signature does not cover the target is refused, so this is never
// an open redirect.
func (l *publicLinks) click(w http.ResponseWriter, r *http.Request) {
	if !l.allowed(w, r) {
		return
	}
	c, rec, sig := linkIDs(r)
	target, err := l.s.st.TrackClick(r.Context(), c, rec, r.URL.Query().Get("u"), sig)
	if l.refuse(w, r, err) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
}
