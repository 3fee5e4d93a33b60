package store

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The address book scopes a user may choose for their CardDAV address book.
const (
	BookOwn      = "own"      // contacts they own
	BookAccounts = "accounts" // theirs and the contacts of clients they own
	BookAll      = "all"      // every contact they may view
)

// BookScopes lists the address book scopes in the order forms offer them.
var BookScopes = []string{BookOwn, BookAccounts, BookAll}

// What a deletion from a phone does to a contact.
const (
	DeleteHide   = "hide"   // removed from the user's address book only
	DeleteRefuse = "refuse" // refused (403): the phone gets it back
)

// DeleteModes lists the deletion modes in the order forms offer them.
var DeleteModes = []string{DeleteHide, DeleteRefuse}

// SyncSettings are a user's contact sync and calendar feed settings.
type SyncSettings struct {
	BookScope  string
	DeleteMode string
	// Hidden counts the contacts removed from the address book by a phone.
	Hidden int
	// FeedSince is when the calendar feed's secret was made (zero: no feed).
	FeedSince time.Time
}

// Card is a contact as the CardDAV address book serves it.
type Card struct {
	// Name is the resource name: "<id>.vcf", or the one a phone chose
	// when it created the contact.
	Name      string
	UID       string
	ETag      string
	UpdatedAt time.Time
	// Contact and Account are set when one card is read; Account is nil
	// when the contact has no client or the user may not see it.
	Contact *Record
	Account *Record
}

// CardInput is what a phone sends for a contact: only these fields are
// written, the rest of the card (organisation, address, extra e-mails) is
// ignored because the CRM keeps them elsewhere or not at all.
type CardInput struct {
	FirstName, LastName, Email, Phone, Mobile, Title, Notes string
	// UID is the card's UID, kept for contacts a phone creates.
	UID string
}

// CardConditions are a PUT's HTTP preconditions.
type CardConditions struct {
	IfMatch     string // the ETag the phone last saw ("" for none, "*" for any)
	IfNoneMatch bool   // "If-None-Match: *": create only
}

// canonicalCard matches the resource names Cartera gives contacts.
var canonicalCard = regexp.MustCompile(`^([1-9][0-9]{0,18})\.vcf$`)

// validCardName bounds what a phone may name a new card.
var validCardName = regexp.MustCompile(`^[A-Za-z0-9@._~+=-]{1,200}$`)

func (s *Store) syncSettings(ctx context.Context, q querier, userID int64) (*SyncSettings, error) {
	st := &SyncSettings{BookScope: BookAccounts, DeleteMode: DeleteHide}
	var since int64
	err := q.QueryRowContext(ctx, `SELECT book_scope, delete_mode, ical_created_at FROM dav_settings WHERE user_id = ?`, userID).Scan(&st.BookScope, &st.DeleteMode, &since)
	if err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	st.FeedSince = fromMS(since)
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM dav_hidden WHERE user_id = ?`, userID).Scan(&st.Hidden); err != nil {
		return nil, err
	}
	return st, nil
}

// SyncSettings returns the actor's own contact sync and feed settings.
func (s *Store) SyncSettings(ctx context.Context, a *Actor) (*SyncSettings, error) {
	if a == nil || a.UserID == 0 {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	var st *SyncSettings
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = s.syncSettings(ctx, tx, a.UserID)
		return err
	})
	return st, err
}

// SetSyncSettings changes which contacts the actor's address book holds and
// what a deletion from their phone does; showHidden puts the contacts their
// phone removed back into the address book.
func (s *Store) SetSyncSettings(ctx context.Context, a *Actor, bookScope, deleteMode string, showHidden bool) error {
	if a == nil || a.UserID == 0 {
		return &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	fe := fieldErrors{}
	if !containsStr(BookScopes, bookScope) {
		fe.add("book_scope", "error.option")
	}
	if !containsStr(DeleteModes, deleteMode) {
		fe.add("delete_mode", "error.option")
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dav_settings (user_id, book_scope, delete_mode) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET book_scope = excluded.book_scope, delete_mode = excluded.delete_mode`, a.UserID, bookScope, deleteMode); err != nil {
			return err
		}
		if showHidden {
			if _, err := tx.ExecContext(ctx, `DELETE FROM dav_hidden WHERE user_id = ?`, a.UserID); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "sync_settings", a.UserID, map[string]any{"book_scope": bookScope, "delete_mode": deleteMode, "show_hidden": showHidden})
	})
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// bookWhere is the condition on contacts t (joined with dav_names dn) that
// puts a contact in the actor's address book: live, in view scope, not
// hidden by their phone, and within their chosen scope.
func bookWhere(a *Actor, scope string) (string, []any) {
	cond, args := a.scopeSQL(EntContacts, ActView, "t.owner_id")
	w := "t.deleted_at = 0 AND " + cond + " AND NOT EXISTS (SELECT 1 FROM dav_hidden h WHERE h.user_id = ? AND h.contact_id = t.id)"
	args = append(args, a.UserID)
	switch scope {
	case BookOwn:
		w += " AND t.owner_id = ?"
		args = append(args, a.UserID)
	case BookAccounts:
		w += " AND (t.owner_id = ? OR t.account_id IN (SELECT x.id FROM accounts x WHERE x.owner_id = ? AND x.deleted_at = 0))"
		args = append(args, a.UserID, a.UserID)
	}
	return w, args
}

const cardSelect = `SELECT t.id, t.version, t.updated_at, COALESCE(ac.version, 0), COALESCE(ac.updated_at, 0), COALESCE(dn.name, ''), COALESCE(dn.uid, '')
	FROM contacts t LEFT JOIN accounts ac ON ac.id = t.account_id AND ac.deleted_at = 0 LEFT JOIN dav_names dn ON dn.contact_id = t.id`

// scanCard reads one row of cardSelect.
func scanCard(sc interface{ Scan(...any) error }) (*Card, int64, int64, error) {
	var id, ver, upd, aver, aupd int64
	c := &Card{}
	if err := sc.Scan(&id, &ver, &upd, &aver, &aupd, &c.Name, &c.UID); err != nil {
		return nil, 0, 0, err
	}
	if c.Name == "" {
		c.Name = strconv.FormatInt(id, 10) + ".vcf"
		c.UID = "urn:cartera:contact:" + strconv.FormatInt(id, 10)
	}
	// The card shows the client's name and address, so a change to the
	// client changes the card: the ETag carries both versions.
	c.ETag = strconv.FormatInt(ver, 10) + "-" + strconv.FormatInt(aver, 10)
	c.UpdatedAt = fromMS(max(upd, aupd))
	return c, id, ver, nil
}

// AddressBook lists the cards of the actor's CardDAV address book with
// their ETags, without their contents, in id order: what a client compares
// with its copy to know what to fetch.
func (s *Store) AddressBook(ctx context.Context, a *Actor) ([]*Card, error) {
	if !a.Can(EntContacts, ActView) {
		return nil, errForbidden()
	}
	var out []*Card
	err := s.read(ctx, func(tx *sql.Tx) error {
		st, err := s.syncSettings(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		w, args := bookWhere(a, st.BookScope)
		rows, err := tx.QueryContext(ctx, cardSelect+" WHERE "+w+" ORDER BY t.id", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, _, _, err := scanCard(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// cardID resolves a resource name to a contact id (0 when none).
func cardID(ctx context.Context, q querier, name string) (int64, error) {
	if m := canonicalCard.FindStringSubmatch(name); m != nil {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		// A contact a phone created answers only at the name it chose.
		var other string
		err := q.QueryRowContext(ctx, `SELECT name FROM dav_names WHERE contact_id = ?`, id).Scan(&other)
		if err == sql.ErrNoRows {
			return id, nil
		}
		return 0, err
	}
	var id int64
	err := q.QueryRowContext(ctx, `SELECT contact_id FROM dav_names WHERE name = ?`, name).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// loadCard reads one card of the actor's address book with its contact
// and client; a card outside the book is not_found.
func (s *Store) loadCard(ctx context.Context, q querier, a *Actor, name string) (*Card, int64, error) {
	id, err := cardID(ctx, q, name)
	if err != nil {
		return nil, 0, err
	}
	if id == 0 {
		return nil, 0, errNotFound()
	}
	st, err := s.syncSettings(ctx, q, a.UserID)
	if err != nil {
		return nil, 0, err
	}
	w, args := bookWhere(a, st.BookScope)
	c, _, ver, err := scanCard(q.QueryRowContext(ctx, cardSelect+" WHERE t.id = ? AND "+w, append([]any{id}, args...)...))
	if err == sql.ErrNoRows {
		return nil, 0, errNotFound()
	} else if err != nil {
		return nil, 0, err
	}
	if c.Contact, err = s.loadRecord(ctx, q, a, s.def(EntContacts), id, false); err != nil {
		return nil, 0, err
	}
	if acc := c.Contact.Int("account_id"); acc != 0 && a.Can(EntAccounts, ActView) {
		c.Account, err = s.loadRecord(ctx, q, a, s.def(EntAccounts), acc, false)
		if ErrorCode(err) == CodeNotFound {
			c.Account, err = nil, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return c, ver, nil
}

// FindCard returns one card of the actor's address book by resource name.
func (s *Store) FindCard(ctx context.Context, a *Actor, name string) (*Card, error) {
	if !a.Can(EntContacts, ActView) {
		return nil, errForbidden()
	}
	var c *Card
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		c, _, err = s.loadCard(ctx, tx, a, name)
		return err
	})
	return c, err
}

// PutCard stores a card a phone sent: an existing card updates its contact
// (only the fields CardInput holds, with the record's edit permission and
// version check), a new name creates a contact owned by the actor. A
// failed precondition is a conflict, which CardDAV answers with 412.
func (s *Store) PutCard(ctx context.Context, a *Actor, name string, in CardInput, cond CardConditions) (card *Card, created bool, err error) {
	if !a.Can(EntContacts, ActView) {
		return nil, false, errForbidden()
	}
	values := map[string]any{
		"first_name": in.FirstName, "last_name": in.LastName, "email": in.Email,
		"phone": in.Phone, "mobile": in.Mobile, "title": in.Title, "notes": in.Notes,
	}
	d := s.def(EntContacts)
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur, ver, err := s.loadCard(ctx, tx, a, name)
		switch {
		case err == nil:
			if cond.IfNoneMatch {
				return errConflict("dav.error.exists", nil)
			}
			if cond.IfMatch != "" && cond.IfMatch != "*" && cond.IfMatch != cur.ETag {
				return errConflict("error.changed_since", nil)
			}
			if err := s.updateRecord(ctx, tx, a, d, cur.Contact.ID, Input{Values: values, Version: ver}); err != nil {
				return err
			}
		case ErrorCode(err) == CodeNotFound:
			if cond.IfMatch != "" {
				return errConflict("error.changed_since", nil)
			}
			id, err := cardID(ctx, tx, name)
			if err != nil {
				return err
			}
			if id != 0 || canonicalCard.MatchString(name) {
				// The name belongs to a contact outside this address book
				// (hidden, or not the actor's to see): never a second copy.
				return &Error{Code: CodeForbidden, Key: "dav.error.not_in_book"}
			}
			if !validCardName.MatchString(name) || len(in.UID) > 300 {
				return errInvalid(map[string]string{"name": "dav.error.name"})
			}
			if !a.Can(EntContacts, ActCreate) {
				return errForbidden()
			}
			id, err = s.createRecord(ctx, tx, a, d, Input{Values: values})
			if err != nil {
				return err
			}
			uid := in.UID
			if uid == "" {
				uid = strings.TrimSuffix(name, ".vcf")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO dav_names (contact_id, name, uid) VALUES (?, ?, ?)`, id, name, uid); err != nil {
				if isUniqueViolation(err) {
					return errConflict("dav.error.exists", nil)
				}
				return err
			}
			created = true
		default:
			return err
		}
		card, _, err = s.loadCard(ctx, tx, a, name)
		if ErrorCode(err) == CodeNotFound {
			// Saved, but outside the chosen scope (say, a contact of a
			// client the actor does not own): report it as it was sent.
			card, err = &Card{Name: name, UID: in.UID}, nil
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return card, created, nil
}

// DeleteCard handles a phone deleting a card: per the actor's setting the
// contact leaves their address book (the CRM keeps it) or the deletion is
// refused. A phone never deletes a CRM contact.
func (s *Store) DeleteCard(ctx context.Context, a *Actor, name string) error {
	if !a.Can(EntContacts, ActView) {
		return errForbidden()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		c, _, err := s.loadCard(ctx, tx, a, name)
		if err != nil {
			return err
		}
		st, err := s.syncSettings(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		if st.DeleteMode == DeleteRefuse {
			return &Error{Code: CodeForbidden, Key: "dav.error.delete_refused"}
		}
		_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO dav_hidden (user_id, contact_id) VALUES (?, ?)`, a.UserID, c.Contact.ID)
		return err
	})
}

// CreateFeedSecret makes (or remakes, revoking the old one) the secret of
// the actor's private calendar feed URL; only its hash is kept.
func (s *Store) CreateFeedSecret(ctx context.Context, a *Actor) (string, error) {
	if a == nil || a.UserID == 0 {
		return "", &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	secret := newSecret()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dav_settings (user_id, ical_hash, ical_created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET ical_hash = excluded.ical_hash, ical_created_at = excluded.ical_created_at`, a.UserID, hashSecret(secret), s.nowMS()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "calendar_feed", a.UserID, nil)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RevokeFeedSecret stops the actor's calendar feed URL from working.
func (s *Store) RevokeFeedSecret(ctx context.Context, a *Actor) error {
	if a == nil || a.UserID == 0 {
		return &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE dav_settings SET ical_hash = NULL, ical_created_at = 0 WHERE user_id = ?`, a.UserID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "revoke", "calendar_feed", a.UserID, nil)
	})
}

// FeedActor resolves a calendar feed secret to its user; an unknown or
// revoked secret, or a disabled user, is not_found.
func (s *Store) FeedActor(ctx context.Context, secret string) (*Actor, error) {
	if secret == "" || len(secret) > 100 {
		return nil, errNotFound()
	}
	var userID int64
	err := s.r.QueryRowContext(ctx, `SELECT user_id FROM dav_settings WHERE ical_hash = ?`, hashSecret(secret)).Scan(&userID)
	if err == sql.ErrNoRows {
		return nil, errNotFound()
	} else if err != nil {
		return nil, errInternal(err)
	}
	a, err := s.actorFor(ctx, s.r, userID)
	if err != nil {
		if ErrorCode(err) == CodeInternal {
			return nil, err
		}
		return nil, errNotFound()
	}
	return a, nil
}
