package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// This file holds marketing consent, the firm's marketing settings and the
// signatures of the links campaign e-mails carry (unsubscribe, open pixel,
// click-through).

// The marketing consent states of a contact or lead.
const (
	ConsentUnknown  = "unknown"
	ConsentOptedIn  = "opted_in"
	ConsentOptedOut = "opted_out"
)

// Consent sources the store itself writes.
const (
	ConsentSourceWebForm     = "web_form"
	ConsentSourceUnsubscribe = "unsubscribe_link"
)

// The consent and language fields contacts and leads share; one description
// makes forms, lists, the API, import and history handle them alike.
var (
	consentField       = Field{Key: "marketing_consent", Kind: KSelect, Picklist: "marketing_consent", Filter: true}
	consentAtField     = Field{Key: "marketing_consent_at", Kind: KDateTime}
	consentSourceField = Field{Key: "marketing_consent_source", Kind: KText, Max: 100}
	languageField      = Field{Key: "language", Kind: KSelect, Picklist: "contact_language", Filter: true}
)

// consentLifecycle keeps consent coherent on a write: an empty state is
// unknown, and a changed state is dated now unless the input dated it.
func consentLifecycle(changed func(string) bool, vals map[string]any, explicit map[string]bool, now time.Time) {
	if v, _ := vals["marketing_consent"].(string); v == "" {
		vals["marketing_consent"] = ConsentUnknown
	}
	if changed("marketing_consent") && !explicit["marketing_consent_at"] {
		if vals["marketing_consent"] == ConsentUnknown {
			vals["marketing_consent_at"] = time.Time{}
		} else {
			vals["marketing_consent_at"] = now.UTC()
		}
	}
}

// setConsent changes a contact's or lead's consent inside the caller's
// transaction, keeping the change in the field history (the timeline); an
// unchanged state changes nothing and reports false.
func (s *Store) setConsent(ctx context.Context, tx *sql.Tx, a *Actor, e Entity, id int64, state, source string) (bool, error) {
	table := "contacts"
	if e == EntLeads {
		table = "leads"
	} else if e != EntContacts {
		return false, errNotFound()
	}
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT marketing_consent FROM `+table+` WHERE id = ?`, id).Scan(&old); err != nil {
		return false, err
	}
	if old == state {
		return false, nil
	}
	now := s.now()
	if _, err := execTx(ctx, tx, `UPDATE `+table+` SET marketing_consent = ?, marketing_consent_at = ?, marketing_consent_source = ?,
		updated_at = ?, version = version + 1 WHERE id = ?`, state, ms(now), source, ms(now), id); err != nil {
		return false, err
	}
	if err := s.history(ctx, tx, a, e, id, "marketing_consent", old, state, now); err != nil {
		return false, err
	}
	return true, s.history(ctx, tx, a, e, id, "marketing_consent_source", "", source, now)
}

// ConsentMode says who a campaign may reach: opted-in people only (the
// default, GDPR's safe reading) or everyone not opted out.
type ConsentMode string

// The firm's consent modes.
const (
	ConsentModeOptedIn     ConsentMode = "opted_in"
	ConsentModeNotOptedOut ConsentMode = "not_opted_out"
)

// MarketingConsentMode returns the firm's consent mode.
func (s *Store) MarketingConsentMode(ctx context.Context) (ConsentMode, error) {
	var m ConsentMode
	err := s.r.QueryRowContext(ctx, `SELECT consent_mode FROM marketing_settings WHERE id = 1`).Scan(&m)
	if err != nil {
		return "", errInternal(err)
	}
	return m, nil
}

// SetMarketingConsentMode changes who campaigns reach; it needs the settings
// capability.
func (s *Store) SetMarketingConsentMode(ctx context.Context, a *Actor, m ConsentMode) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	if m != ConsentModeOptedIn && m != ConsentModeNotOptedOut {
		return errInvalid(map[string]string{"consent_mode": "error.option"})
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := execTx(ctx, tx, `UPDATE marketing_settings SET consent_mode = ? WHERE id = 1`, string(m)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "marketing.consent_mode", "marketing", 0, map[string]string{"mode": string(m)})
	})
}

// consentSQL is the condition a recipient row t must meet under a mode.
func consentSQL(m ConsentMode) string {
	if m == ConsentModeNotOptedOut {
		return "t.marketing_consent <> 'opted_out'"
	}
	return "t.marketing_consent = 'opted_in'"
}

// marketingSecret returns the key that signs campaign links.
func (s *Store) marketingSecret(ctx context.Context, q querier) ([]byte, error) {
	var k []byte
	err := q.QueryRowContext(ctx, `SELECT secret FROM marketing_settings WHERE id = 1`).Scan(&k)
	return k, err
}

// LinkKind is what a signed campaign link does.
type LinkKind string

// The signed links of a campaign e-mail.
const (
	LinkUnsubscribe LinkKind = "u"
	LinkOpen        LinkKind = "o"
	LinkClick       LinkKind = "c"
)

// sign returns the signature of a campaign link: HMAC-SHA256 over its kind,
// campaign, recipient and (for clicks) target URL, cut to 128 bits.
func sign(secret []byte, kind LinkKind, campaignID, recordID int64, target string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(string(kind) + "|" + strconv.FormatInt(campaignID, 10) + "|" + strconv.FormatInt(recordID, 10) + "|" + target))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// CampaignLink is a verified signed link from a campaign e-mail.
type CampaignLink struct {
	Kind       LinkKind
	CampaignID int64
	RecordID   int64
	Target     string
}

// VerifyCampaignLink checks a link's signature in constant time; a link
// that was not made by this Cartera (or was altered) is not_found, so a
// click link can never send anyone to an address of an attacker's choice.
func (s *Store) VerifyCampaignLink(ctx context.Context, l CampaignLink, sig string) error {
	secret, err := s.marketingSecret(ctx, s.r)
	if err != nil {
		return errInternal(err)
	}
	want := sign(secret, l.Kind, l.CampaignID, l.RecordID, l.Target)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return errNotFound()
	}
	return nil
}

// linkURL builds the absolute address of a signed link under base.
func linkURL(base string, secret []byte, kind LinkKind, campaignID, recordID int64, target string) string {
	u := strings.TrimRight(base, "/") + "/m/" + string(kind) + "/" + strconv.FormatInt(campaignID, 10) + "/" +
		strconv.FormatInt(recordID, 10) + "/" + sign(secret, kind, campaignID, recordID, target)
	return u
}
