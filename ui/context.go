package ui

import (
	"context"
	"net/http"

	"github.com/gorilla/sessions"

	"cartera/i18n"
	"cartera/store"
)

// reqCtx carries per-request state resolved once by middleware.
type reqCtx struct {
	actor   *store.Actor
	session *sessions.Session
	tr      *i18n.Translator
	company *store.Company
	userID  int64 // for the request log line
}

type reqCtxKey struct{}

func reqCtxOf(r *http.Request) *reqCtx {
	if rc, ok := r.Context().Value(reqCtxKey{}).(*reqCtx); ok {
		return rc
	}
	return &reqCtx{}
}

func withReqCtx(r *http.Request, rc *reqCtx) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), reqCtxKey{}, rc))
}
