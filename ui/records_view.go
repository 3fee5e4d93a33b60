package ui

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cartera/store"
)

// cell is a value prepared for display: text, and a link when it has one.
// Href is built only by showValue from checked parts (record paths, http(s)
// addresses, validated e-mails, phone digits), so it is marked safe for
// html/template, which would otherwise blank tel: links.
type cell struct {
	Text string
	Href template.URL
	Code string // option key, for badges
}

// recordPath is the page of a record.
func recordPath(e store.Entity, id int64) string { return "/" + string(e) + "/" + itoa(id) }

// fieldLabel is the i18n key of a field's label.
func fieldLabel(key string) string { return "field." + key }

// labelOverrides give a field its own label where the shared one would
// mislead: a task's title is not a contact's position.
var labelOverrides = map[store.Entity]map[string]string{
	store.EntTasks: {"title": "field.task_title"},
}

// fieldLabelFor is the i18n key of a field's label on one record type.
func fieldLabelFor(e store.Entity, key string) string {
	if k, ok := labelOverrides[e][key]; ok {
		return k
	}
	return fieldLabel(key)
}

// optionLabel is the i18n key of a picklist option.
func optionLabel(picklist, key string) string { return "opt." + picklist + "." + key }

// showValue formats a field of a record for the reader.
func (p *page) showValue(r *store.Record, f store.Field) cell {
	v := r.Values[f.Key]
	switch f.Kind {
	case store.KSelect:
		s, _ := v.(string)
		if s == "" {
			return cell{}
		}
		list := f.Picklist
		if f.Key == "stage" && r.Entity == store.EntOpportunities {
			list = store.StageList(r.Str("pipeline"))
		}
		return cell{Text: p.OptName(list, s), Code: s}
	case store.KRef:
		id, _ := v.(int64)
		if id == 0 {
			return cell{}
		}
		t, ok := r.Refs[f.Key]
		if !ok {
			return cell{Text: p.T("common.hidden_record")}
		}
		return cell{Text: t, Href: template.URL(recordPath(f.Ref, id))}
	case store.KDateTime:
		t, _ := v.(time.Time)
		return cell{Text: p.DateTime(t)}
	case store.KDate:
		s, _ := v.(string)
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return cell{Text: p.Tr.Date(t)}
		}
		return cell{}
	case store.KMoney:
		n, _ := v.(float64)
		cur := r.Str("currency")
		return cell{Text: p.Tr.Money(n, cur)}
	case store.KNumber:
		n, _ := v.(int64)
		if f.Key == "probability" {
			return cell{Text: strconv.FormatInt(n, 10) + " %"}
		}
		return cell{Text: p.Tr.Int(n)}
	case store.KBool:
		if b, _ := v.(bool); b {
			return cell{Text: p.T("common.yes")}
		}
		return cell{Text: p.T("common.no")}
	case store.KEmail:
		s, _ := v.(string)
		if s == "" {
			return cell{}
		}
		return cell{Text: s, Href: template.URL("mailto:" + url.PathEscape(s))}
	case store.KPhone:
		s, _ := v.(string)
		if s == "" {
			return cell{}
		}
		return cell{Text: s, Href: template.URL("tel:" + strings.Map(func(r rune) rune {
			if (r >= '0' && r <= '9') || r == '+' {
				return r
			}
			return -1
		}, s))}
	case store.KURL:
		s, _ := v.(string)
		if s == "" {
			return cell{}
		}
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			return cell{Text: s, Href: template.URL(u.String())}
		}
		return cell{Text: s}
	}
	s, _ := v.(string)
	return cell{Text: s}
}

// formValue is the value a form input shows for a field of a record.
func (p *page) formValue(r *store.Record, f store.Field) string {
	v := r.Values[f.Key]
	switch f.Kind {
	case store.KRef, store.KNumber:
		n, _ := v.(int64)
		if n == 0 && f.Kind == store.KRef {
			return ""
		}
		return strconv.FormatInt(n, 10)
	case store.KMoney:
		n, _ := v.(float64)
		return strconv.FormatFloat(n, 'f', 2, 64)
	case store.KDateTime:
		t, _ := v.(time.Time)
		if t.IsZero() {
			return ""
		}
		return t.In(p.Tr.Location()).Format("2006-01-02T15:04")
	case store.KBool:
		if b, _ := v.(bool); b {
			return "1"
		}
		return ""
	}
	s, _ := v.(string)
	return s
}

// inputFromForm reads a record form: every writable field present in the
// form, the owner, and the tags. Date-times come in the reader's zone.
func inputFromForm(d *store.EntityDef, form url.Values, loc *time.Location) store.Input {
	in := store.Input{Values: map[string]any{}}
	for _, f := range d.Fields {
		if f.ReadOnly {
			continue
		}
		vs, ok := form[f.Key]
		if !ok {
			if f.Kind == store.KBool && form.Has("_present_"+f.Key) {
				in.Values[f.Key] = false
			}
			continue
		}
		v := strings.Join(vs, "")
		if len(vs) > 0 {
			v = vs[0]
		}
		if f.Kind == store.KDateTime && v != "" {
			if t, err := time.ParseInLocation("2006-01-02T15:04", v, loc); err == nil {
				v = t.UTC().Format(time.RFC3339)
			} else if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
				v = t.UTC().Format(time.RFC3339)
			}
		}
		in.Values[f.Key] = v
	}
	for _, c := range d.Custom {
		key := "custom." + c.Key
		vs, ok := form[key]
		if !ok {
			if form.Has("_present_" + key) {
				in.SetCustom(c.Key, nil)
			}
			continue
		}
		switch c.Kind {
		case store.KMulti:
			in.SetCustom(c.Key, vs)
			continue
		case store.KDateTime:
			if t, err := time.ParseInLocation("2006-01-02T15:04", vs[0], loc); err == nil {
				in.SetCustom(c.Key, t.UTC().Format(time.RFC3339))
				continue
			}
		}
		in.SetCustom(c.Key, vs[0])
	}
	if v, ok := form[d.OwnerKey]; ok && len(v) > 0 && v[0] != "" {
		in.Values[d.OwnerKey] = v[0]
	}
	if form.Has("tags") || form.Has("_present_tags") {
		tags := splitTags(form.Get("tags"))
		in.Tags = &tags
	}
	if v := form.Get("version"); v != "" {
		in.Version, _ = strconv.ParseInt(v, 10, 64)
	}
	return in
}

// splitTags reads a comma- or semicolon-separated list of tags.
func splitTags(v string) []string {
	out := []string{}
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
