package dav

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"cartera/store"
)

// Prefix is where the CardDAV server lives; /.well-known/carddav points here.
const Prefix = "/dav"

// maxReportBody bounds a REPORT's body: a multiget of 20,000 hrefs fits.
const maxReportBody = 8 << 20

// maxCardBody bounds one uploaded vCard (photos included).
const maxCardBody = 1 << 20

type ctxKey int

const (
	actorKey ctxKey = iota
	versionKey
)

// CardDAV serves each user's address book over CardDAV (RFC 6352). Clients
// sign in with HTTP Basic: any user name (their e-mail, by convention) and
// an app password, which is one of their API tokens, never their login
// password.
type CardDAV struct {
	st *store.Store
	h  *carddav.Handler
}

// NewCardDAV returns the CardDAV server over a store.
func NewCardDAV(st *store.Store) *CardDAV {
	d := &CardDAV{st: st}
	d.h = &carddav.Handler{Backend: &backend{st: st}, Prefix: Prefix}
	return d
}

// ServeHTTP authenticates the request, notes the vCard version the client
// wants, and hands it to go-webdav's CardDAV handler.
func (d *CardDAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pass, ok := r.BasicAuth()
	if !ok || pass == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="Cartera", charset="UTF-8"`)
		http.Error(w, "an app password (a Cartera API token) is required", http.StatusUnauthorized)
		return
	}
	a, err := d.st.TokenActor(r.Context(), pass)
	if err != nil {
		if store.ErrorCode(err) == store.CodeInternal {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Cartera", charset="UTF-8"`)
		http.Error(w, "unknown or revoked app password", http.StatusUnauthorized)
		return
	}
	if !a.Can(store.EntContacts, store.ActView) {
		http.Error(w, "your role may not view contacts", http.StatusForbidden)
		return
	}
	ctx := context.WithValue(r.Context(), actorKey, a)
	version, err := wantedVersion(r)
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	ctx = context.WithValue(ctx, versionKey, version)
	if r.Method == http.MethodPut {
		r.Body = http.MaxBytesReader(w, r.Body, maxCardBody)
	}
	d.h.ServeHTTP(w, r.WithContext(ctx))
}

// v3Request finds an address-data element asking for vCard 3.0.
var v3Request = regexp.MustCompile(`(?i)address-data[^>]*version\s*=\s*["']3\.0["']`)

// wantedVersion is the vCard version a request asks for: what a REPORT's
// address-data or a GET's Accept names, else 3.0 for Apple's clients
// (which read only 3.0) and 4.0 for everyone else.
func wantedVersion(r *http.Request) (string, error) {
	switch r.Method {
	case "REPORT":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxReportBody+1))
		if err != nil {
			return "", err
		}
		if len(body) > maxReportBody {
			return "", errors.New("report too large")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v3Request.Match(body) {
			return "3.0", nil
		}
		if bytes.Contains(body, []byte(`version="4.0"`)) {
			return "4.0", nil
		}
	case http.MethodGet:
		if acc := r.Header.Get("Accept"); strings.Contains(acc, "version=3.0") {
			return "3.0", nil
		} else if strings.Contains(acc, "version=4.0") {
			return "4.0", nil
		}
	}
	ua := r.Header.Get("User-Agent")
	for _, apple := range []string{"iOS/", "iPhone", "iPad", "macOS/", "Mac OS X", "Mac+OS+X", "dataaccessd", "AddressBook"} {
		if strings.Contains(ua, apple) {
			return "3.0", nil
		}
	}
	return "4.0", nil
}

func actorOf(ctx context.Context) *store.Actor {
	a, _ := ctx.Value(actorKey).(*store.Actor)
	return a
}

// backend is go-webdav's carddav.Backend over the store. Paths:
// /dav/{user}/ principal, /dav/{user}/contacts/ home set,
// /dav/{user}/contacts/cartera/ the one address book, and its cards.
type backend struct {
	st *store.Store
}

func userPath(a *store.Actor) string { return Prefix + "/" + strconv.FormatInt(a.UserID, 10) + "/" }

func bookPath(a *store.Actor) string { return userPath(a) + "contacts/cartera/" }

func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return userPath(actorOf(ctx)), nil
}

func (b *backend) AddressBookHomeSetPath(ctx context.Context) (string, error) {
	return userPath(actorOf(ctx)) + "contacts/", nil
}

func (b *backend) book(a *store.Actor) carddav.AddressBook {
	return carddav.AddressBook{
		Path: bookPath(a), Name: "Cartera", Description: "Cartera CRM contacts",
		MaxResourceSize:      maxCardBody,
		SupportedAddressData: []carddav.AddressDataType{{ContentType: vcard.MIMEType, Version: "4.0"}, {ContentType: vcard.MIMEType, Version: "3.0"}},
	}
}

func (b *backend) ListAddressBooks(ctx context.Context) ([]carddav.AddressBook, error) {
	return []carddav.AddressBook{b.book(actorOf(ctx))}, nil
}

func (b *backend) GetAddressBook(ctx context.Context, p string) (*carddav.AddressBook, error) {
	a := actorOf(ctx)
	if strings.TrimSuffix(p, "/")+"/" != bookPath(a) {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such address book"))
	}
	ab := b.book(a)
	return &ab, nil
}

func (b *backend) CreateAddressBook(ctx context.Context, ab *carddav.AddressBook) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("each user has one address book"))
}

func (b *backend) DeleteAddressBook(ctx context.Context, p string) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("the address book cannot be deleted"))
}

// cardName returns the card name of a path inside the actor's book.
func cardName(a *store.Actor, p string) (string, error) {
	dir, name := path.Split(p)
	if dir != bookPath(a) || name == "" {
		return "", webdav.NewHTTPError(http.StatusNotFound, errors.New("not found"))
	}
	return name, nil
}

// httpError maps a store error to the status a CardDAV client expects:
// a failed precondition or version conflict is 412.
func httpError(err error) error {
	se := store.AsError(err)
	code := http.StatusInternalServerError
	switch se.Code {
	case store.CodeNotFound:
		code = http.StatusNotFound
	case store.CodeForbidden, store.CodeUnauthorized:
		code = http.StatusForbidden
	case store.CodeConflict:
		code = http.StatusPreconditionFailed
	case store.CodeInvalid:
		code = http.StatusBadRequest
	case store.CodeTooMany:
		code = http.StatusTooManyRequests
	}
	msg := se.Key
	if len(se.Fields) > 0 {
		for f, k := range se.Fields {
			msg += " " + f + ": " + k
		}
	}
	if code == http.StatusInternalServerError {
		msg = "internal error"
	}
	return webdav.NewHTTPError(code, errors.New(msg))
}

func (b *backend) object(ctx context.Context, c *store.Card) carddav.AddressObject {
	a := actorOf(ctx)
	ao := carddav.AddressObject{Path: bookPath(a) + c.Name, ETag: c.ETag, ModTime: c.UpdatedAt}
	if c.Contact != nil {
		version, _ := ctx.Value(versionKey).(string)
		if version == "" {
			version = "4.0"
		}
		ao.Card = ContactCard(c.Contact, c.Account, c.UID, version)
		var buf bytes.Buffer
		if vcard.NewEncoder(&buf).Encode(ao.Card) == nil {
			ao.ContentLength = int64(buf.Len())
		}
	}
	return ao
}

func (b *backend) GetAddressObject(ctx context.Context, p string, req *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	a := actorOf(ctx)
	name, err := cardName(a, p)
	if err != nil {
		return nil, err
	}
	c, err := b.st.FindCard(ctx, a, name)
	if err != nil {
		return nil, httpError(err)
	}
	ao := b.object(ctx, c)
	return &ao, nil
}

// ListAddressObjects lists names, ETags and times only: clients compare
// them with their copy, then fetch what changed with a multiget.
func (b *backend) ListAddressObjects(ctx context.Context, p string, req *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	a := actorOf(ctx)
	if strings.TrimSuffix(p, "/")+"/" != bookPath(a) {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("no such address book"))
	}
	cards, err := b.st.AddressBook(ctx, a)
	if err != nil {
		return nil, httpError(err)
	}
	out := make([]carddav.AddressObject, len(cards))
	for i, c := range cards {
		out[i] = b.object(ctx, c)
	}
	return out, nil
}

// QueryAddressObjects answers addressbook-query by reading every card and
// filtering with go-webdav's matcher.
func (b *backend) QueryAddressObjects(ctx context.Context, p string, q *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	a := actorOf(ctx)
	list, err := b.ListAddressObjects(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	full := make([]carddav.AddressObject, 0, len(list))
	for _, ao := range list {
		c, err := b.st.FindCard(ctx, a, path.Base(ao.Path))
		if store.ErrorCode(err) == store.CodeNotFound {
			continue
		} else if err != nil {
			return nil, httpError(err)
		}
		full = append(full, b.object(ctx, c))
	}
	return carddav.Filter(q, full)
}

func (b *backend) PutAddressObject(ctx context.Context, p string, card vcard.Card, opts *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	a := actorOf(ctx)
	name, err := cardName(a, p)
	if err != nil {
		return nil, err
	}
	cond := store.CardConditions{IfNoneMatch: opts.IfNoneMatch.IsWildcard()}
	if opts.IfMatch.IsSet() {
		if opts.IfMatch.IsWildcard() {
			cond.IfMatch = "*"
		} else if cond.IfMatch, err = opts.IfMatch.ETag(); err != nil {
			return nil, webdav.NewHTTPError(http.StatusBadRequest, err)
		}
	}
	c, _, err := b.st.PutCard(ctx, a, name, cardInput(card), cond)
	if err != nil {
		return nil, httpError(err)
	}
	// No ETag in the answer: the stored card is not byte for byte what the
	// client sent (the CRM keeps fewer fields and adds the client's name),
	// so RFC 6352 has the client fetch it again.
	return &carddav.AddressObject{Path: bookPath(a) + c.Name, ModTime: c.UpdatedAt}, nil
}

func (b *backend) DeleteAddressObject(ctx context.Context, p string) error {
	a := actorOf(ctx)
	name, err := cardName(a, p)
	if err != nil {
		return err
	}
	if err := b.st.DeleteCard(ctx, a, name); err != nil {
		return httpError(err)
	}
	return nil
}
