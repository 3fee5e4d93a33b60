// Package dav owns the CardDAV and iCalendar protocols: the CardDAV server
// that puts each user's contacts on their phone, and the private iCalendar
// feed of their tasks and appointments. It speaks the protocols through
// github.com/emersion/go-webdav, go-vcard and go-ical and leaves every
// decision about records and permissions to the store.
package dav

import (
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"

	"cartera/store"
)

// ContactCard is a contact as a vCard (version "4.0" or "3.0"): name,
// organisation (its client's name), title, e-mail, phones, the client's
// address, notes and tags; uid "" means the contact's own URN. The CSV
// export's vCard and the CardDAV server use it, so both agree.
func ContactCard(r *store.Record, account *store.Record, uid, version string) vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, version)
	if uid == "" {
		uid = "urn:cartera:contact:" + strconv.FormatInt(r.ID, 10)
	}
	c.SetValue(vcard.FieldUID, uid)
	fn := r.Title
	if fn == "" {
		fn = "-"
	}
	c.SetValue(vcard.FieldFormattedName, fn)
	c.SetName(&vcard.Name{GivenName: r.Str("first_name"), FamilyName: r.Str("last_name")})
	if v := r.Str("email"); v != "" {
		email := &vcard.Field{Value: v}
		if version == "3.0" {
			email.Params = vcard.Params{vcard.ParamType: {"INTERNET"}}
		}
		c.Add(vcard.FieldEmail, email)
	}
	if v := r.Str("phone"); v != "" {
		c.Add(vcard.FieldTelephone, &vcard.Field{Value: v, Params: vcard.Params{vcard.ParamType: {vcard.TypeWork, vcard.TypeVoice}}})
	}
	if v := r.Str("mobile"); v != "" {
		c.Add(vcard.FieldTelephone, &vcard.Field{Value: v, Params: vcard.Params{vcard.ParamType: {vcard.TypeCell}}})
	}
	if v := r.Str("title"); v != "" {
		c.SetValue(vcard.FieldTitle, v)
	}
	org := r.Refs["account_id"]
	if account != nil {
		org = account.Title
	}
	if org != "" {
		c.SetValue(vcard.FieldOrganization, org)
	}
	// Contacts have no address of their own: the card carries the
	// client's, as the work address.
	if account != nil && (account.Str("address") != "" || account.Str("city") != "" || account.Str("postal_code") != "") {
		c.AddAddress(&vcard.Address{
			Field:         &vcard.Field{Params: vcard.Params{vcard.ParamType: {vcard.TypeWork}}},
			StreetAddress: account.Str("address"), Locality: account.Str("city"), Region: account.Str("region"),
			PostalCode: account.Str("postal_code"), Country: account.Str("country"),
		})
	}
	if v := r.Str("notes"); v != "" {
		c.SetValue(vcard.FieldNote, v)
	}
	if len(r.Tags) > 0 {
		c.SetCategories(r.Tags)
	}
	c.SetRevision(r.UpdatedAt)
	return c
}

// cardInput reads the fields Cartera keeps from a card a client sent:
// given and family name (or the formatted name split at its first space),
// the first e-mail, the first mobile and first other phone, title and note.
func cardInput(card vcard.Card) store.CardInput {
	in := store.CardInput{UID: card.Value(vcard.FieldUID)}
	if n := card.Name(); n != nil && (n.GivenName != "" || n.FamilyName != "") {
		in.FirstName, in.LastName = strings.TrimSpace(n.GivenName), strings.TrimSpace(n.FamilyName)
	} else if fn := card.PreferredValue(vcard.FieldFormattedName); fn != "" {
		in.FirstName, in.LastName, _ = strings.Cut(strings.TrimSpace(fn), " ")
	}
	in.Email = strings.TrimSpace(card.PreferredValue(vcard.FieldEmail))
	for _, tel := range card[vcard.FieldTelephone] {
		v := strings.TrimPrefix(strings.TrimSpace(tel.Value), "tel:")
		if tel.Params.HasType(vcard.TypeCell) {
			if in.Mobile == "" {
				in.Mobile = v
			}
		} else if in.Phone == "" {
			in.Phone = v
		}
	}
	in.Title = strings.TrimSpace(card.PreferredValue(vcard.FieldTitle))
	in.Notes = card.PreferredValue(vcard.FieldNote)
	return in
}
