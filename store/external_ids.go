package store

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"unicode"
)

// ExternalIDEntities are the record types that carry ids of other systems
// (billing, ERP, e-commerce) and can be upserted by them.
var ExternalIDEntities = []Entity{EntAccounts, EntContacts, EntLeads, EntOpportunities}

// carriesExternalIDs reports whether a record type is one of
// ExternalIDEntities.
func carriesExternalIDs(e Entity) bool {
	return e == EntAccounts || e == EntContacts || e == EntLeads || e == EntOpportunities
}

// systemRe is a system's name: short, lower case, safe in a URL path.
var systemRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,39}$`)

// checkExternalKey validates a system name and an external id.
func checkExternalKey(system, extID string) error {
	fe := fieldErrors{}
	if !systemRe.MatchString(system) {
		fe.add("system", "external.error.system")
	}
	if extID == "" || len(extID) > 200 || strings.ContainsFunc(extID, unicode.IsControl) || strings.TrimSpace(extID) != extID {
		fe.add("external_id", "external.error.id")
	}
	return fe.err()
}

// decorateExternalIDs fills the external ids of a page of records.
func decorateExternalIDs(ctx context.Context, q querier, d *EntityDef, byID map[int64]*Record, ph string, idArgs []any) error {
	if !carriesExternalIDs(d.Entity) {
		return nil
	}
	for _, r := range byID {
		r.ExternalIDs = map[string]string{}
	}
	rows, err := q.QueryContext(ctx, `SELECT record_id, system, external_id FROM external_ids WHERE entity = ? AND record_id IN (`+ph+`)`,
		append([]any{string(d.Entity)}, idArgs...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var sys, ext string
		if err := rows.Scan(&id, &sys, &ext); err != nil {
			return err
		}
		if r := byID[id]; r != nil {
			r.ExternalIDs[sys] = ext
		}
	}
	return rows.Err()
}

// UpsertByExternalID creates or updates the record that carries extID in
// system, in one transaction and idempotently: the first call creates the
// record (with the create permission and validation) and remembers the
// external id, later calls update it (with the edit permission, scope and
// validation; a record out of scope is not_found). A non-zero in.Version
// must match the existing record (If-Match); with no record it is a
// conflict too. An external id whose record went to the trash or was
// purged is given to a new record. created reports which happened.
func (s *Store) UpsertByExternalID(ctx context.Context, a *Actor, e Entity, system, extID string, in Input) (rec *Record, created bool, err error) {
	d := s.def(e)
	if d == nil || !carriesExternalIDs(e) {
		return nil, false, errNotFound()
	}
	if err := checkExternalKey(system, extID); err != nil {
		return nil, false, err
	}
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT record_id FROM external_ids WHERE entity = ? AND system = ? AND external_id = ?`, string(e), system, extID).Scan(&id)
		if err != nil && !isNoRows(err) {
			return err
		}
		if id != 0 {
			var del int64
			err := tx.QueryRowContext(ctx, `SELECT deleted_at FROM `+d.Table+` WHERE id = ?`, id).Scan(&del)
			if err != nil && !isNoRows(err) {
				return err
			}
			if isNoRows(err) || del != 0 {
				if _, err := execTx(ctx, tx, `DELETE FROM external_ids WHERE entity = ? AND system = ? AND external_id = ?`, string(e), system, extID); err != nil {
					return err
				}
				id = 0
			}
		}
		if id != 0 {
			return s.updateRecord(ctx, tx, a, d, id, in)
		}
		if in.Version != 0 {
			return &Error{Code: CodeConflict, Key: "error.changed_since"}
		}
		if !a.Can(e, ActCreate) {
			return errForbidden()
		}
		if id, err = s.createRecord(ctx, tx, a, d, in); err != nil {
			return err
		}
		created = true
		_, err = execTx(ctx, tx, `INSERT INTO external_ids (entity, record_id, system, external_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			string(e), id, system, extID, s.nowMS())
		return err
	})
	if err != nil {
		return nil, false, err
	}
	rec, err = s.FindRecord(ctx, a, e, id)
	return rec, created, err
}

// DeleteRecordVersion moves a record to the trash only if its version is
// still version (If-Match on DELETE); a changed record is a conflict with
// the key error.changed_since and stays.
func (s *Store) DeleteRecordVersion(ctx context.Context, a *Actor, e Entity, id, version int64) error {
	d := s.def(e)
	if d == nil {
		return errNotFound()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if !a.Can(e, ActView) {
			return errForbidden()
		}
		cur, err := s.loadRecord(ctx, tx, a, d, id, false)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return &Error{Code: CodeConflict, Key: "error.changed_since"}
		}
		return s.deleteRecord(ctx, tx, a, d, id)
	})
}
