package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

// normTags trims, de-duplicates (case-insensitively) and drops empty tags.
func normTags(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.Join(strings.Fields(t), " ")
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

func validTag(t string) string {
	if _, k := cleanText(t, true, 50); k != "" {
		return k
	}
	if strings.ContainsAny(t, ",;") {
		return "error.tag_chars"
	}
	return ""
}

// tagByName returns the id of the tag called name in any case, other than
// exclude, or sql.ErrNoRows. The column's NOCASE folds only ASCII, so the
// candidates are found by folded key and compared here: "època" is "ÈPOCA".
func tagByName(ctx context.Context, tx *sql.Tx, name string, exclude int64) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM tags WHERE name_key = ? AND id <> ?`, foldKey(name), exclude)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return 0, err
		}
		if strings.EqualFold(n, name) {
			return id, nil
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return 0, sql.ErrNoRows
}

// tagID returns the id of a tag, creating it when new.
func (s *Store) tagID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	id, err := tagByName(ctx, tx, name, 0)
	if err == sql.ErrNoRows {
		res, err := tx.ExecContext(ctx, `INSERT INTO tags (name, name_key, created_at) VALUES (?, ?, ?)`, name, foldKey(name), s.nowMS())
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	return id, err
}

// setTags replaces a record's tags and reports whether they changed.
func (s *Store) setTags(ctx context.Context, tx *sql.Tx, e Entity, id int64, tags []string) (bool, error) {
	tags = normTags(tags)
	for _, t := range tags {
		if k := validTag(t); k != "" {
			return false, errInvalid(map[string]string{"tags": k})
		}
	}
	var cur []string
	rows, err := tx.QueryContext(ctx, `SELECT t.name FROM record_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.entity = ? AND rt.record_id = ?`, string(e), id)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return false, err
		}
		cur = append(cur, strings.ToLower(n))
	}
	rows.Close()
	want := make([]string, len(tags))
	for i, t := range tags {
		want[i] = strings.ToLower(t)
	}
	slices.Sort(cur)
	slices.Sort(want)
	if slices.Equal(cur, want) {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM record_tags WHERE entity = ? AND record_id = ?`, string(e), id); err != nil {
		return false, err
	}
	for _, t := range tags {
		tid, err := s.tagID(ctx, tx, t)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO record_tags (entity, record_id, tag_id) VALUES (?, ?, ?)`, string(e), id, tid); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Tag is a label with the number of live records carrying it.
type Tag struct {
	ID    int64
	Name  string
	Count int
}

// FindTags lists tags, optionally those starting with prefix (accent- and
// case-insensitive), for type-ahead and the tags page.
func (s *Store) FindTags(ctx context.Context, a *Actor, prefix string, limit int) ([]*Tag, error) {
	if a == nil {
		return nil, &Error{Code: CodeUnauthorized, Key: "error.unauthorized"}
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT t.id, t.name, (SELECT count(*) FROM record_tags rt WHERE rt.tag_id = t.id) FROM tags t`
	var args []any
	if p := foldKey(prefix); p != "" {
		q += ` WHERE t.name_key >= ? AND t.name_key < ?`
		args = append(args, p, p+"\uffff")
	}
	q += ` ORDER BY t.name_key LIMIT ?`
	args = append(args, limit)
	var out []*Tag
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := &Tag{}
			if err := rows.Scan(&t.ID, &t.Name, &t.Count); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// RenameTag renames a tag, or merges it into an existing tag of the new
// name; it needs the customize capability.
func (s *Store) RenameTag(ctx context.Context, a *Actor, id int64, name string) error {
	if err := a.require(CapCustomize); err != nil {
		return err
	}
	name = strings.Join(strings.Fields(name), " ")
	if k := validTag(name); k != "" {
		return errInvalid(map[string]string{"name": k})
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM tags WHERE id = ?`, id).Scan(&old); err != nil {
			return err
		}
		other, err := tagByName(ctx, tx, name, id)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `UPDATE tags SET name = ?, name_key = ? WHERE id = ?`, name, foldKey(name), id); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO record_tags (entity, record_id, tag_id) SELECT entity, record_id, ? FROM record_tags WHERE tag_id = ?`, other, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE id = ?`, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "rename", "tags", id, map[string]any{"from": old, "to": name, "merged_into": other})
	})
}
