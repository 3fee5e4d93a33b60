package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the store's side of imports: the record of each import,
// the batches of rows it applies (every row through the same validation,
// permissions and duplicate rules as a record made by hand), and undo.
// The importer package reads files and turns cells into Inputs.

// ImportPolicy says what an import does with a row matching an existing
// record.
type ImportPolicy string

// The duplicate policies of an import.
const (
	PolicySkip      ImportPolicy = "skip"      // leave the existing record alone
	PolicyFill      ImportPolicy = "update"    // fill the existing record's empty fields
	PolicyOverwrite ImportPolicy = "overwrite" // replace the existing record's values
	PolicyCreate    ImportPolicy = "create"    // create a new record anyway
)

// MatchFields are the fields a duplicate may be recognised by.
var MatchFields = []string{"email", "phone", "tax_id"}

// ImportSpec describes an import about to run.
type ImportSpec struct {
	Entity   Entity
	FileName string
	Policy   ImportPolicy
	// MatchOn is the field duplicates are recognised by ("" for none).
	MatchOn string
	// Options are kept with the import for the record (mapping, file
	// settings), as the importer gives them.
	Options map[string]any
	// Automation lets the imported records start workflow rules, as if
	// created by hand; off by default so that a migration does not e-mail
	// ten thousand old customers.
	Automation bool
}

// Import is one import as recorded.
type Import struct {
	ID         int64
	Entity     Entity
	FileName   string
	UserID     int64
	UserName   string
	Status     string // running, done, failed, undone
	Policy     ImportPolicy
	MatchOn    string
	Options    map[string]any
	Total      int
	Created    int
	Updated    int
	Skipped    int
	Failed     int
	Errors     []RowError
	ErrorKey   string
	StartedAt  time.Time
	FinishedAt time.Time
	UndoneAt   time.Time
}

// ImportRow is one row of a file, ready for the store.
type ImportRow struct {
	// Line is the file line, for reports.
	Line  int
	Input Input
	// Match is the row's value of the match field ("" matches nothing).
	Match string
	// AccountName names the row's client: an existing one the actor may
	// see (by name, ignoring case and accents) is linked, else one is
	// created with the import.
	AccountName string
}

// RowError is one problem of a row: the field (or "" for the row) and
// the i18n key of the message.
type RowError struct {
	Line  int    `json:"line"`
	Field string `json:"field"`
	Key   string `json:"key"`
}

// RowOutcome is what happened (or, in a dry run, would happen) to a row.
type RowOutcome struct {
	Line     int
	Action   string // created, updated, skipped, failed
	RecordID int64
	Errors   []RowError
}

// BatchResult sums up one batch.
type BatchResult struct {
	Created, Updated, Skipped, Failed int
	Rows                              []RowOutcome
}

// ErrRowsFailed is returned by ImportBatch when rows failed and the import
// does not skip invalid rows: the batch changed nothing.
var ErrRowsFailed = &Error{Code: CodeInvalid, Key: "import.error.rows_failed"}

// maxKeptErrors bounds the row errors kept with an import.
const maxKeptErrors = 10000

// StartImport records an import about to run; it needs the import
// capability and create permission on the record type.
func (s *Store) StartImport(ctx context.Context, a *Actor, spec ImportSpec) (*Import, error) {
	if err := a.require(CapImport); err != nil && !a.System {
		return nil, err
	}
	d := s.def(spec.Entity)
	if d == nil {
		return nil, errNotFound()
	}
	if !a.Can(spec.Entity, ActCreate) {
		return nil, errForbidden()
	}
	fe := fieldErrors{}
	if !slices.Contains([]ImportPolicy{PolicySkip, PolicyFill, PolicyOverwrite, PolicyCreate}, spec.Policy) {
		fe.add("on_duplicate", "error.option")
	}
	if spec.MatchOn != "" {
		if _, _, ok := importMatchExpr(d, spec.MatchOn); !ok {
			fe.add("match_on", "error.option")
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if spec.Automation {
		spec.Options = maps.Clone(spec.Options)
		if spec.Options == nil {
			spec.Options = map[string]any{}
		}
		spec.Options["automation"] = true
	}
	opts, _ := json.Marshal(spec.Options)
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO imports (entity, file_name, user_id, status, policy, match_on, options, started_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
			spec.Entity, spec.FileName, nullID(a.UserID), spec.Policy, spec.MatchOn, string(opts), s.nowMS())
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		if expr, indexed, _ := importMatchExpr(d, spec.MatchOn); spec.MatchOn != "" && !indexed && spec.Policy != PolicyCreate {
			// A column with no index of its own gets one for the import's
			// duration, so each row's lookup stays a seek, not a scan.
			if _, err := tx.ExecContext(ctx, `CREATE INDEX `+importMatchIndex(id)+` ON `+d.Table+`(`+strings.ReplaceAll(expr, "t.", "")+`) WHERE deleted_at = 0`); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.FindImport(ctx, a, id)
}

// importMatchExpr is the SQL expression (over alias t) an import compares
// a row's match value with, and whether an index already covers it: the
// keyed e-mail, phone and tax id; any custom field but a multi-select;
// any other text, e-mail, phone or web address field, ignoring case.
func importMatchExpr(d *EntityDef, key string) (expr string, indexed, ok bool) {
	if ck, isCustom := strings.CutPrefix(key, "custom."); isCustom {
		c, found := d.CustomField(ck)
		if !found || c.Kind == KMulti {
			return "", false, false
		}
		return customExpr(ck), c.indexed(), true
	}
	f, found := d.Field(key)
	if !found {
		return "", false, false
	}
	if col, _ := matchColumn(key, ""); col != "" {
		return "t." + col, true, true
	}
	switch f.Kind {
	case KText, KEmail, KPhone, KURL:
		return "lower(t." + f.column() + ")", false, true
	}
	return "", false, false
}

// ImportMatchKeys lists the columns an import of a record type can
// recognise duplicates by, for the wizard's choice.
func ImportMatchKeys(d *EntityDef) []string {
	var out []string
	for _, f := range d.Fields {
		if _, _, ok := importMatchExpr(d, f.Key); ok {
			out = append(out, f.Key)
		}
	}
	for _, c := range d.Custom {
		if _, _, ok := importMatchExpr(d, "custom."+c.Key); ok {
			out = append(out, "custom."+c.Key)
		}
	}
	return out
}

// importMatchIndex names the index an import made for its match column.
func importMatchIndex(importID int64) string {
	return "import_match_" + strconv.FormatInt(importID, 10)
}

// dropImportMatchIndex removes an import's match index, if it made one.
func dropImportMatchIndex(ctx context.Context, tx *sql.Tx, importID int64) error {
	_, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+importMatchIndex(importID))
	return err
}

// matchColumn is the stored key a match field is compared on, and how a
// value is brought to it.
func matchColumn(field, v string) (string, string) {
	switch field {
	case "email":
		return "email_key", strings.ToLower(strings.TrimSpace(v))
	case "phone":
		return "phone_digits", digitsOf(v)
	case "tax_id":
		return "tax_id_key", strings.ToUpper(strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '.' {
				return -1
			}
			return r
		}, v))
	}
	return "", ""
}

// ImportBatch applies rows of a running import in one transaction: each
// row is matched, then created, updated or skipped. A failing row is
// reported; unless skipInvalid, any failure leaves the whole batch
// unapplied (ErrRowsFailed). A dry run reports and applies nothing.
func (s *Store) ImportBatch(ctx context.Context, a *Actor, importID int64, rows []ImportRow, dryRun, skipInvalid bool) (*BatchResult, error) {
	imp, err := s.FindImport(ctx, a, importID)
	if err != nil {
		return nil, err
	}
	if imp.Status != "running" {
		return nil, &Error{Code: CodeConflict, Key: "import.error.not_running"}
	}
	d := s.def(imp.Entity)
	res := &BatchResult{}
	var seq int64
	errRollback := errors.New("rollback")
	err = s.write(ctx, func(tx *sql.Tx) error {
		ctx, pending := withDeferredIndex(withOwnerCache(withQuietAudit(withStmtCache(ctx, tx))))
		if on, _ := imp.Options["automation"].(bool); !on {
			ctx = withoutAutomation(ctx)
		}
		defer func() { pending.ids = nil }()
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(seq), 0) FROM import_changes WHERE import_id = ?`, importID).Scan(&seq); err != nil {
			return err
		}
		// A row that fails is taken back to its savepoint when the batch
		// keeps the other rows; otherwise the whole batch is rolled back
		// at the end anyway, and no savepoint is needed.
		savepoints := skipInvalid && !dryRun
		for _, row := range rows {
			if savepoints {
				if _, err := execTx(ctx, tx, `SAVEPOINT import_row`); err != nil {
					return err
				}
			}
			out, err := s.importRow(ctx, tx, a, d, imp, row, &seq)
			if err != nil {
				if se := AsError(err); se.Code == CodeInternal {
					return err
				}
				if savepoints {
					if _, err := tx.ExecContext(ctx, `ROLLBACK TO import_row`); err != nil {
						return err
					}
				}
				out = RowOutcome{Line: row.Line, Action: "failed", Errors: rowErrors(row.Line, err)}
			}
			if savepoints {
				if _, err := execTx(ctx, tx, `RELEASE import_row`); err != nil {
					return err
				}
			}
			switch out.Action {
			case "created":
				res.Created++
			case "updated":
				res.Updated++
			case "skipped":
				res.Skipped++
			case "failed":
				res.Failed++
			}
			res.Rows = append(res.Rows, out)
		}
		if dryRun || (res.Failed > 0 && !skipInvalid) {
			return errRollback
		}
		if err := s.flushIndex(ctx, tx, pending); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE imports SET total = total + ?, created = created + ?, updated = updated + ?, skipped = skipped + ?, failed = failed + ? WHERE id = ?`,
			len(rows), res.Created, res.Updated, res.Skipped, res.Failed, importID)
		if err != nil {
			return err
		}
		if res.Failed > 0 {
			return s.keepRowErrors(ctx, tx, importID, res)
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		if res.Failed > 0 && !skipInvalid && !dryRun {
			return res, ErrRowsFailed
		}
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// keepRowErrors appends a batch's row errors to the import's record.
func (s *Store) keepRowErrors(ctx context.Context, tx *sql.Tx, importID int64, res *BatchResult) error {
	var cur string
	if err := tx.QueryRowContext(ctx, `SELECT errors FROM imports WHERE id = ?`, importID).Scan(&cur); err != nil {
		return err
	}
	var list []RowError
	json.Unmarshal([]byte(cur), &list)
	for _, r := range res.Rows {
		for _, e := range r.Errors {
			if len(list) < maxKeptErrors {
				list = append(list, e)
			}
		}
	}
	b, _ := json.Marshal(list)
	_, err := tx.ExecContext(ctx, `UPDATE imports SET errors = ? WHERE id = ?`, string(b), importID)
	return err
}

// rowErrors turns a store error into the row's errors.
func rowErrors(line int, err error) []RowError {
	se := AsError(err)
	if len(se.Fields) == 0 {
		return []RowError{{Line: line, Key: se.Key}}
	}
	var out []RowError
	for _, k := range sortedStringKeys(se.Fields) {
		out = append(out, RowError{Line: line, Field: k, Key: se.Fields[k]})
	}
	return out
}

func sortedStringKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// importRow applies one row inside the batch's transaction.
func (s *Store) importRow(ctx context.Context, tx *sql.Tx, a *Actor, d *EntityDef, imp *Import, row ImportRow, seq *int64) (RowOutcome, error) {
	out := RowOutcome{Line: row.Line}
	// An erased person's address does not come back through an import.
	if err := s.checkSuppressed(ctx, tx, row.Input.Values); err != nil {
		return out, err
	}
	if name := strings.TrimSpace(row.AccountName); name != "" {
		if _, ok := d.Field("account_id"); !ok {
			return out, errInvalid(map[string]string{"account_name": "error.unknown_field"})
		}
		id, err := s.importAccount(ctx, tx, a, imp, name, seq)
		if err != nil {
			return out, err
		}
		if row.Input.Values == nil {
			row.Input.Values = map[string]any{}
		}
		row.Input.Values["account_id"] = id
	}
	var existing int64
	if ck, ok := strings.CutPrefix(imp.MatchOn, "custom."); ok && imp.Policy != PolicyCreate {
		if c, ok := d.CustomField(ck); ok && strings.TrimSpace(row.Match) != "" {
			v, key := coerceCustom(c, row.Match)
			if key != "" {
				return out, errInvalid(map[string]string{"custom." + ck: key})
			}
			if v != nil {
				cond, args := a.scopeSQL(d.Entity, ActView, "t.owner_id")
				err := queryRowTx(ctx, tx, "SELECT t.id FROM "+d.Table+" t WHERE "+customExpr(ck)+" = ? AND t.deleted_at = 0 AND "+cond+" ORDER BY t.id LIMIT 1", append([]any{customSQLValue(c, v)}, args...)...).Scan(&existing)
				if err != nil && !isNoRows(err) {
					return out, err
				}
			}
		}
	} else if expr, _, ok := importMatchExpr(d, imp.MatchOn); ok && imp.Policy != PolicyCreate && !slices.Contains(MatchFields, imp.MatchOn) {
		if v := strings.ToLower(strings.TrimSpace(row.Match)); v != "" {
			cond, args := a.scopeSQL(d.Entity, ActView, "t.owner_id")
			err := queryRowTx(ctx, tx, "SELECT t.id FROM "+d.Table+" t WHERE "+expr+" = ? AND t.deleted_at = 0 AND "+cond+" ORDER BY t.id LIMIT 1", append([]any{v}, args...)...).Scan(&existing)
			if err != nil && !isNoRows(err) {
				return out, err
			}
		}
	} else if imp.MatchOn != "" && imp.Policy != PolicyCreate {
		col, v := matchColumn(imp.MatchOn, row.Match)
		// "<> ''" lets SQLite use the partial index on the key.
		if v != "" {
			cond, args := a.scopeSQL(d.Entity, ActView, "t.owner_id")
			err := queryRowTx(ctx, tx, "SELECT t.id FROM "+d.Table+" t WHERE t."+col+" = ? AND t."+col+" <> '' AND t.deleted_at = 0 AND "+cond+" ORDER BY t.id LIMIT 1", append([]any{v}, args...)...).Scan(&existing)
			if err != nil && !isNoRows(err) {
				return out, err
			}
		}
	}
	if existing == 0 {
		id, err := s.createRecord(ctx, tx, a, d, row.Input)
		if err != nil {
			return out, err
		}
		if err := s.logImportChange(ctx, tx, d, imp.ID, seq, id, "created", nil); err != nil {
			return out, err
		}
		out.Action, out.RecordID = "created", id
		return out, nil
	}
	out.RecordID = existing
	if imp.Policy == PolicySkip {
		out.Action = "skipped"
		return out, nil
	}
	cur, err := s.loadRecord(ctx, tx, a, d, existing, false)
	if err != nil {
		return out, err
	}
	in := Input{Values: map[string]any{}, Custom: map[string]any{}}
	before := map[string]any{}
	for k, v := range row.Input.Values {
		f, ok := d.Field(k)
		if !ok || (imp.Policy == PolicyFill && !isZero(cur.Values[k])) {
			if !ok {
				in.Values[k] = v // refused by the update, with the field named
			}
			continue
		}
		in.Values[k] = v
		before[k] = jsonValue(f, cur.Values[k])
	}
	if own, ok := row.Input.Values[d.OwnerKey]; ok && imp.Policy == PolicyOverwrite {
		in.Values[d.OwnerKey] = own
		before[d.OwnerKey] = float64(cur.OwnerID)
	}
	for k, v := range row.Input.Custom {
		if imp.Policy == PolicyFill && cur.Custom[k] != nil {
			continue
		}
		in.Custom[k] = v
		before["custom."+k] = cur.Custom[k]
	}
	if row.Input.Tags != nil && d.Tagged {
		merged := append(slices.Clone(cur.Tags), *row.Input.Tags...)
		in.Tags = &merged
		before["tags"] = cur.Tags
	}
	if err := s.updateRecord(ctx, tx, a, d, existing, in); err != nil {
		return out, err
	}
	if err := s.logImportChange(ctx, tx, d, imp.ID, seq, existing, "updated", before); err != nil {
		return out, err
	}
	out.Action = "updated"
	return out, nil
}

// importAccount finds the client a row names, or creates it as part of
// the import (undo removes it with the rest).
func (s *Store) importAccount(ctx context.Context, tx *sql.Tx, a *Actor, imp *Import, name string, seq *int64) (int64, error) {
	ad := s.def(EntAccounts)
	cond, args := a.scopeSQL(EntAccounts, ActView, "t.owner_id")
	var id int64
	err := queryRowTx(ctx, tx, "SELECT t.id FROM accounts t WHERE t.name_key = ? AND t.deleted_at = 0 AND "+cond+" ORDER BY t.id LIMIT 1", append([]any{foldKey(name)}, args...)...).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !isNoRows(err) {
		return 0, err
	}
	id, err = s.createRecord(ctx, tx, a, ad, Input{Values: map[string]any{"name": name}})
	if err != nil {
		return 0, prefixFields(err, "account_name.")
	}
	return id, s.logImportChange(ctx, tx, ad, imp.ID, seq, id, "created", nil)
}

func (s *Store) logImportChange(ctx context.Context, tx *sql.Tx, d *EntityDef, importID int64, seq *int64, id int64, action string, before map[string]any) error {
	version := int64(1) // a record just created
	if action != "created" {
		if err := queryRowTx(ctx, tx, "SELECT version FROM "+d.Table+" WHERE id = ?", id).Scan(&version); err != nil {
			return err
		}
	}
	*seq++
	b, _ := json.Marshal(before)
	if before == nil {
		b = []byte("{}")
	}
	_, err := execTx(ctx, tx, `INSERT INTO import_changes (import_id, seq, entity, record_id, action, before, version) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		importID, *seq, d.Entity, id, action, string(b), version)
	return err
}

// FinishImport closes a running import: done, or failed with the key of
// what went wrong, in which case everything it applied is taken back.
func (s *Store) FinishImport(ctx context.Context, a *Actor, importID int64, failKey string) (*Import, error) {
	imp, err := s.FindImport(ctx, a, importID)
	if err != nil {
		return nil, err
	}
	if imp.Status != "running" {
		return nil, &Error{Code: CodeConflict, Key: "import.error.not_running"}
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		status := "done"
		if dry, _ := imp.Options["dry_run"].(bool); dry {
			// A dry run applied nothing; its record keeps the report.
			status, failKey = "dry_run", ""
		} else if failKey != "" {
			status = "failed"
			if _, err := s.undoChanges(ctx, tx, SystemActor(), importID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE imports SET status = ?, error_key = ?, finished_at = ? WHERE id = ?`, status, failKey, s.nowMS(), importID); err != nil {
			return err
		}
		if err := dropImportMatchIndex(ctx, tx, importID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "import", string(imp.Entity), importID, map[string]any{"status": status, "file": imp.FileName})
	})
	if err != nil {
		return nil, err
	}
	return s.FindImport(ctx, a, importID)
}

// UndoResult counts what undoing an import did.
type UndoResult struct {
	Removed  int // created records moved to the trash
	Restored int // updated records given their previous values
	Kept     int // records edited since the import, left as they are
}

// UndoImport takes back a finished import: records it created go to the
// trash and fields it updated get their previous values, except on
// records edited since, which are left alone and counted.
func (s *Store) UndoImport(ctx context.Context, a *Actor, importID int64) (*UndoResult, error) {
	imp, err := s.FindImport(ctx, a, importID)
	if err != nil {
		return nil, err
	}
	if imp.Status != "done" {
		return nil, &Error{Code: CodeConflict, Key: "import.error.not_undoable"}
	}
	if !a.Can(imp.Entity, ActDelete) || (!a.Has(CapImport) && !a.System) {
		return nil, errForbidden()
	}
	var res *UndoResult
	err = s.write(ctx, func(tx *sql.Tx) error {
		if res, err = s.undoChanges(ctx, tx, a, importID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE imports SET status = 'undone', undone_at = ? WHERE id = ?`, s.nowMS(), importID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "import.undo", string(imp.Entity), importID, map[string]any{"removed": res.Removed, "restored": res.Restored, "kept": res.Kept})
	})
	return res, err
}

// undoChanges reverses an import's changes, newest first.
func (s *Store) undoChanges(ctx context.Context, tx *sql.Tx, a *Actor, importID int64) (*UndoResult, error) {
	type change struct {
		entity  Entity
		id      int64
		action  string
		before  string
		version int64
	}
	rows, err := tx.QueryContext(ctx, `SELECT entity, record_id, action, before, version FROM import_changes WHERE import_id = ? ORDER BY seq DESC`, importID)
	if err != nil {
		return nil, err
	}
	var list []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.entity, &c.id, &c.action, &c.before, &c.version); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, c)
	}
	rows.Close()
	res := &UndoResult{}
	for _, c := range list {
		d := s.def(c.entity)
		var version, deleted int64
		err := tx.QueryRowContext(ctx, "SELECT version, deleted_at FROM "+d.Table+" WHERE id = ?", c.id).Scan(&version, &deleted)
		if isNoRows(err) || deleted != 0 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if version != c.version {
			res.Kept++
			continue
		}
		switch c.action {
		case "created":
			if err := s.deleteRecord(ctx, tx, a, d, c.id); err != nil {
				return nil, err
			}
			res.Removed++
		case "updated":
			var before map[string]any
			json.Unmarshal([]byte(c.before), &before)
			in := Input{Values: map[string]any{}, Custom: map[string]any{}}
			for k, v := range before {
				switch {
				case strings.HasPrefix(k, "custom."):
					in.Custom[strings.TrimPrefix(k, "custom.")] = v
				case k == "tags":
					tags := []string{}
					if l, ok := v.([]any); ok {
						for _, x := range l {
							if s, ok := x.(string); ok {
								tags = append(tags, s)
							}
						}
					}
					in.Tags = &tags
				default:
					in.Values[k] = v
				}
			}
			for k := range in.Custom {
				if _, ok := d.CustomField(k); !ok {
					delete(in.Custom, k)
				}
			}
			if err := s.updateRecord(ctx, tx, a, d, c.id, in); err != nil {
				return nil, err
			}
			res.Restored++
		}
	}
	return res, nil
}

// recoverImports takes back imports a crash interrupted: found running at
// start, their changes are undone and they are marked failed.
func (s *Store) recoverImports(ctx context.Context) error {
	ids, err := func() ([]int64, error) {
		rows, err := s.w.QueryContext(ctx, `SELECT id FROM imports WHERE status = 'running'`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}()
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := s.write(ctx, func(tx *sql.Tx) error {
			if _, err := s.undoChanges(ctx, tx, SystemActor(), id); err != nil {
				return err
			}
			if err := dropImportMatchIndex(ctx, tx, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE imports SET status = 'failed', error_key = 'import.error.interrupted', finished_at = ? WHERE id = ?`, s.nowMS(), id)
			return err
		})
		if err != nil {
			return err
		}
		s.log.Warn("import interrupted by a stop was taken back", "import", id)
	}
	return nil
}

// FindImport returns one import; users see their own, importers all.
func (s *Store) FindImport(ctx context.Context, a *Actor, id int64) (*Import, error) {
	list, err := s.findImports(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNotFound()
	}
	return list[0], nil
}

// FindImports lists the imports, newest first.
func (s *Store) FindImports(ctx context.Context, a *Actor) ([]*Import, error) {
	return s.findImports(ctx, a, 0)
}

func (s *Store) findImports(ctx context.Context, a *Actor, id int64) ([]*Import, error) {
	if a == nil || (!a.System && !a.Has(CapImport)) {
		return nil, errForbidden()
	}
	q := `SELECT i.id, i.entity, i.file_name, COALESCE(i.user_id, 0), COALESCE(u.name, ''), i.status, i.policy, i.match_on, i.options, i.total, i.created, i.updated, i.skipped, i.failed, i.errors, i.error_key, i.started_at, i.finished_at, i.undone_at
		FROM imports i LEFT JOIN users u ON u.id = i.user_id`
	var args []any
	if id != 0 {
		q += ` WHERE i.id = ?`
		args = append(args, id)
	}
	q += ` ORDER BY i.id DESC LIMIT 200`
	var out []*Import
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			im := &Import{}
			var opts, errs string
			var st, fin, und int64
			if err := rows.Scan(&im.ID, &im.Entity, &im.FileName, &im.UserID, &im.UserName, &im.Status, &im.Policy, &im.MatchOn, &opts, &im.Total, &im.Created, &im.Updated, &im.Skipped, &im.Failed, &errs, &im.ErrorKey, &st, &fin, &und); err != nil {
				return err
			}
			json.Unmarshal([]byte(opts), &im.Options)
			json.Unmarshal([]byte(errs), &im.Errors)
			im.StartedAt, im.FinishedAt, im.UndoneAt = fromMS(st), fromMS(fin), fromMS(und)
			out = append(out, im)
		}
		return rows.Err()
	})
	return out, err
}
