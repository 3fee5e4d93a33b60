package importer

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-vcard"
)

// vcardHeader is the header a vCard file is read as: contact field keys,
// so the mapping is automatic.
var vcardHeader = []string{"first_name", "last_name", "email", "phone", "mobile", "title", "notes", "tags"}

// isVCard reports whether a file is a vCard file by its name or its start.
func isVCard(name string, head []byte) bool {
	return strings.HasSuffix(strings.ToLower(name), ".vcf") || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(string(head))), "BEGIN:VCARD")
}

// openVCard reads a vCard file (3.0 or 4.0, one or many cards) as rows
// of contact fields.
func openVCard(br *bufio.Reader) (*Source, error) {
	dec := vcard.NewDecoder(br)
	src := &Source{Format: "vcf", Encoding: EncUTF8, Header: vcardHeader, line: 1}
	src.next = func() ([]string, error) {
		card, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, fileError("import.error.vcard")
		}
		row := make([]string, len(vcardHeader))
		if n := card.Name(); n != nil && (n.GivenName != "" || n.FamilyName != "") {
			row[0], row[1] = n.GivenName, n.FamilyName
		} else if fn := card.PreferredValue(vcard.FieldFormattedName); fn != "" {
			first, last, _ := strings.Cut(fn, " ")
			row[0], row[1] = first, last
		}
		row[2] = card.PreferredValue(vcard.FieldEmail)
		for _, tel := range card[vcard.FieldTelephone] {
			if tel.Params.HasType(vcard.TypeCell) {
				if row[4] == "" {
					row[4] = tel.Value
				}
			} else if row[3] == "" {
				row[3] = tel.Value
			}
		}
		row[5] = card.PreferredValue(vcard.FieldTitle)
		row[6] = card.PreferredValue(vcard.FieldNote)
		row[7] = strings.Join(card.Categories(), "; ")
		for i, c := range row {
			// vCard is UTF-8; a stray byte becomes U+FFFD, never a cell
			// the store would refuse as a whole.
			row[i] = strings.ToValidUTF8(c, "\uFFFD")
		}
		return row, nil
	}
	return src, nil
}
