package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// coerceCustom converts a raw custom value (a form string, or decoded
// JSON) to its stored form: nil when empty (the key is dropped), else a
// string, float64, bool, int64 (links) or []string (multi selects). It
// returns the i18n key of the problem when the value does not fit.
func coerceCustom(c *CustomField, raw any) (any, string) {
	if raw == nil {
		return nil, ""
	}
	if s, ok := raw.(string); ok && strings.TrimSpace(s) == "" {
		return nil, ""
	}
	f := c.field()
	switch c.Kind {
	case KMulti:
		var items []string
		switch v := raw.(type) {
		case string:
			for _, p := range strings.Split(v, ",") {
				items = append(items, strings.TrimSpace(p))
			}
		case []string:
			items = v
		case []any:
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					return nil, "error.type_option"
				}
				items = append(items, s)
			}
		default:
			return nil, "error.type_option"
		}
		var out []string
		for _, it := range items {
			it = strings.TrimSpace(it)
			if it == "" || slices.Contains(out, it) {
				continue
			}
			if _, ok := f.option(it); !ok {
				return nil, "error.option"
			}
			out = append(out, it)
		}
		if len(out) == 0 {
			return nil, ""
		}
		return out, ""
	case KNumber:
		var n float64
		switch v := raw.(type) {
		case float64:
			n = v
		case int64:
			n = float64(v)
		case int:
			n = float64(v)
		case string:
			p, ok := parseDecimal(v)
			if !ok {
				return nil, "error.number"
			}
			n = p
		default:
			return nil, "error.number"
		}
		if math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) > 1e15 {
			return nil, "error.range"
		}
		return n, ""
	case KDateTime:
		v, k := coerce(f, raw)
		if k != "" {
			return nil, k
		}
		return v.(time.Time).UTC().Format(time.RFC3339), ""
	case KRef:
		v, k := coerce(f, raw)
		if k != "" {
			return nil, k
		}
		if v.(int64) == 0 {
			return nil, ""
		}
		return v, ""
	case KBool:
		v, k := coerce(f, raw)
		if k != "" {
			return nil, k
		}
		if !v.(bool) {
			return nil, ""
		}
		return true, ""
	}
	v, k := coerce(f, raw)
	if k != "" {
		return nil, k
	}
	if isZero(v) && c.Kind != KMoney {
		return nil, ""
	}
	return v, ""
}

// retiredAdded reports whether a new value gives a record a retired
// option it did not have.
func retiredAdded(c *CustomField, old, v any) bool {
	f := c.field()
	had := map[string]bool{}
	switch o := old.(type) {
	case string:
		had[o] = true
	case []string:
		for _, x := range o {
			had[x] = true
		}
	case []any:
		for _, x := range o {
			if s, ok := x.(string); ok {
				had[s] = true
			}
		}
	}
	var keys []string
	switch x := v.(type) {
	case string:
		if c.Kind == KSelect {
			keys = []string{x}
		}
	case []string:
		keys = x
	}
	for _, k := range keys {
		if o, _ := f.option(k); o.Retired && !had[k] {
			return true
		}
	}
	return false
}

// customFromJSON turns a value read from the custom column back into the
// Go type coerceCustom gives (numbers decode as float64, lists as []any).
func customFromJSON(c *CustomField, v any) any {
	switch c.Kind {
	case KRef:
		if n, ok := v.(float64); ok {
			return int64(n)
		}
	case KMulti:
		if l, ok := v.([]any); ok {
			out := make([]string, 0, len(l))
			for _, x := range l {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return v
}

// applyCustom merges the input's custom values onto the current ones
// (values of removed fields are kept untouched) and reports which keys
// changed; unknown keys are refused.
func (d *EntityDef) applyCustom(cur, in map[string]any, fe fieldErrors) (map[string]any, []string) {
	out := make(map[string]any, len(cur)+len(in))
	for k, v := range cur {
		out[k] = v
	}
	var changed []string
	for _, k := range sortedKeys(in) {
		c, ok := d.CustomField(k)
		if !ok {
			fe.add("custom."+k, "error.unknown_field")
			continue
		}
		v, key := coerceCustom(c, in[k])
		if key != "" {
			fe.add("custom."+k, key)
			continue
		}
		if retiredAdded(c, cur[k], v) {
			fe.add("custom."+k, "error.option_retired")
			continue
		}
		if customEqual(cur[k], v) {
			continue
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		changed = append(changed, k)
	}
	return out, changed
}

// checkCustomRequired refuses an empty required custom field: on create
// always, on update when the input touches it (an API change of one field
// does not fail on another one left empty before the rule existed).
func (d *EntityDef) checkCustomRequired(vals map[string]any, in map[string]any, creating bool, fe fieldErrors) {
	for _, c := range d.Custom {
		if !c.Required {
			continue
		}
		if _, touched := in[c.Key]; !creating && !touched {
			continue
		}
		if vals[c.Key] == nil {
			fe.add("custom."+c.Key, "error.required")
		}
	}
}

// checkCustomUnique refuses a value another live record of the type
// already has in a unique custom field.
func (s *Store) checkCustomUnique(ctx context.Context, q querier, d *EntityDef, id int64, vals map[string]any, changed []string, fe fieldErrors) error {
	for _, k := range changed {
		c, ok := d.CustomField(k)
		if !ok || !c.Unique || vals[k] == nil {
			continue
		}
		var other int64
		err := q.QueryRowContext(ctx, `SELECT t.id FROM `+d.Table+` t WHERE `+customExpr(k)+` = ? AND t.deleted_at = 0 AND t.id <> ? LIMIT 1`, customSQLValue(c, vals[k]), id).Scan(&other)
		if err == nil {
			fe.add("custom."+k, "error.unique")
		} else if !isNoRows(err) {
			return err
		}
	}
	return nil
}

// customSQLValue is the value json_extract yields for a stored custom value,
// for comparisons in SQL.
func customSQLValue(c *CustomField, v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return v
}

func customEqual(a, b any) bool {
	if la, ok := a.([]string); ok {
		lb, ok := b.([]string)
		return ok && slices.Equal(la, lb)
	}
	if _, ok := b.([]string); ok {
		return false
	}
	if fa, ok := a.(float64); ok {
		if ib, ok := b.(int64); ok {
			return fa == float64(ib)
		}
	}
	return a == b
}

// customJSON encodes a record's custom values for the custom column.
func customJSON(vals map[string]any) string {
	if len(vals) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// displayCustom renders a custom value as text for field history.
func displayCustom(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []string:
		return strings.Join(x, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// customFilter parses a filter value on a custom field into SQL.
func customFilter(c *CustomField, raw string) (cond string, args []any, key string) {
	if c.Kind == KMulti {
		if _, ok := c.field().option(raw); !ok {
			return "", nil, "error.option"
		}
		return "EXISTS (SELECT 1 FROM json_each(t.custom, '$." + c.Key + "') j WHERE j.value = ?)", []any{raw}, ""
	}
	if c.Kind == KBool {
		if b, k := coerce(Field{Kind: KBool}, raw); k == "" && !b.(bool) {
			return customExpr(c.Key) + " IS NULL", nil, ""
		}
	}
	v, k := coerceCustom(c, raw)
	if k != "" {
		return "", nil, k
	}
	if v == nil {
		return customExpr(c.Key) + " IS NULL", nil, ""
	}
	return customExpr(c.Key) + " = ?", []any{customSQLValue(c, v)}, ""
}

// customStep validates the custom part of a create or update: merges the
// input, checks types, required, uniqueness and links, and returns the new
// values and the changed keys.
func (s *Store) customStep(ctx context.Context, q querier, a *Actor, d *EntityDef, id int64, cur, in map[string]any, creating bool, fe fieldErrors) (map[string]any, []string, error) {
	vals, changed := d.applyCustom(cur, in, fe)
	d.checkCustomRequired(vals, in, creating, fe)
	if err := s.checkCustomUnique(ctx, q, d, id, vals, changed, fe); err != nil {
		return nil, nil, err
	}
	for _, k := range changed {
		c, _ := d.CustomField(k)
		ref, _ := vals[k].(int64)
		if c == nil || c.Kind != KRef || ref == 0 {
			continue
		}
		td := s.def(c.Ref)
		cond, args := a.scopeSQL(c.Ref, ActView, "x.owner_id")
		var one int
		err := q.QueryRowContext(ctx, "SELECT 1 FROM "+td.Table+" x WHERE x.id = ? AND x.deleted_at = 0 AND "+cond, append([]any{ref}, args...)...).Scan(&one)
		if isNoRows(err) {
			fe.add("custom."+k, "error.unknown_record")
		} else if err != nil {
			return nil, nil, err
		}
	}
	return vals, changed, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
