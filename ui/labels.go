package ui

import (
	"cartera/i18n"
	"html/template"
	"strconv"
	"strings"
	"time"

	"cartera/store"
)

// This file names fields and options the way the firm set them up: its own
// label in the reader's language when it gave one, the catalog's otherwise.

// FieldName is the label of a standard field of a record type.
func (p *page) FieldName(e store.Entity, key string) string {
	if ck, ok := strings.CutPrefix(key, "custom."); ok {
		if c, ok := p.schema().CustomField(e, ck); ok {
			return p.CustomName(c)
		}
		return ck
	}
	if l := p.schema().Setting(e, key).Labels[p.Tr.Lang()]; l != "" {
		return l
	}
	return p.T(fieldLabelFor(e, key))
}

// CustomName is the label of a custom field in the reader's language.
func (p *page) CustomName(c *store.CustomField) string {
	if l := c.Labels.In(p.Tr.Lang()); l != "" {
		return l
	}
	return c.Key
}

// OptName is the label of a picklist option: the firm's name for it, the
// catalog's, or (for options the firm added) any name it has.
func (p *page) OptName(list, key string) string {
	return optionName(p.schema(), p.Tr, list, key)
}

// optionName names an option in a translator's language: the firm's name
// for it, the catalog's, or any name the firm gave it.
func optionName(sc *store.Schema, tr *i18n.Translator, list, key string) string {
	if key == "" {
		return ""
	}
	o, _ := sc.Option(list, key)
	if l := o.Labels[tr.Lang()]; l != "" {
		return l
	}
	if k := optionLabel(list, key); tr.Has(k) {
		return tr.T(k)
	}
	if strings.HasPrefix(list, "stage:") {
		if k := optionLabel("stage", key); tr.Has(k) && len(o.Labels) == 0 {
			return tr.T(k)
		}
	}
	if l := o.Labels.In(tr.Lang()); l != "" {
		return l
	}
	return key
}

// labeler names options in any language, for e-mail templates written in
// a language other than the reader's.
func (s *Server) labeler() store.Labeler {
	sc := s.st.Schema()
	return func(lang, list, key string) string { return optionName(sc, s.i18n.For(lang, nil), list, key) }
}

func (p *page) schema() *store.Schema {
	if p.Schema == nil {
		return store.NewSchema()
	}
	return p.Schema
}

// def is the firm's description of a record type.
func (p *page) def(e store.Entity) *store.EntityDef { return p.schema().Def(e) }

// selectOptions lists the options of a form's select: the active ones,
// plus the current value when it was retired since (old records keep it).
func (p *page) selectOptions(list string, all []store.Option, current string, withEmpty bool) []option {
	var out []option
	if withEmpty {
		out = append(out, option{Value: "", Label: "—", Selected: current == ""})
	}
	for _, o := range all {
		if o.Retired && o.Key != current {
			continue
		}
		out = append(out, option{Value: o.Key, Label: p.OptName(list, o.Key), Selected: o.Key == current})
	}
	return out
}

// showCustom formats a custom field of a record for the reader.
func (p *page) showCustom(r *store.Record, c *store.CustomField) cell {
	v, ok := r.Custom[c.Key]
	if !ok || v == nil {
		if c.Kind == store.KBool {
			return cell{Text: p.T("common.no")}
		}
		return cell{}
	}
	switch c.Kind {
	case store.KSelect:
		s, _ := v.(string)
		return cell{Text: p.OptName(c.OptionList(), s), Code: s}
	case store.KMulti:
		list, _ := v.([]string)
		names := make([]string, 0, len(list))
		for _, k := range list {
			names = append(names, p.OptName(c.OptionList(), k))
		}
		return cell{Text: strings.Join(names, ", ")}
	case store.KNumber:
		n, _ := v.(float64)
		return cell{Text: strconv.FormatFloat(n, 'f', -1, 64)}
	case store.KMoney:
		n, _ := v.(float64)
		cur := "EUR"
		if p.Company != nil && p.Company.Currency != "" {
			cur = p.Company.Currency
		}
		return cell{Text: p.Tr.Money(n, cur)}
	case store.KBool:
		if b, _ := v.(bool); b {
			return cell{Text: p.T("common.yes")}
		}
		return cell{Text: p.T("common.no")}
	case store.KDateTime:
		s, _ := v.(string)
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return cell{Text: p.DateTime(t)}
		}
	case store.KRef:
		id, _ := v.(int64)
		return cell{Text: "#" + itoa(id), Href: template.URL(recordPath(c.Ref, id))}
	}
	f := store.Field{Key: c.Key, Kind: c.Kind}
	tmp := &store.Record{Values: map[string]any{c.Key: v}}
	return p.showValue(tmp, f)
}

// customFormValue is the value a form input shows for a custom field.
func (p *page) customFormValue(r *store.Record, c *store.CustomField) string {
	v := r.Custom[c.Key]
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "1"
		}
		return ""
	case float64:
		if c.Kind == store.KMoney {
			return strconv.FormatFloat(x, 'f', 2, 64)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return itoa(x)
	case []string:
		return strings.Join(x, ",")
	case string:
		if c.Kind == store.KDateTime {
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.In(p.Tr.Location()).Format("2006-01-02T15:04")
			}
		}
		return x
	}
	return ""
}

// inputType is the HTML input type of a plain input for a kind.
func inputType(k store.Kind) string {
	switch k {
	case store.KEmail:
		return "email"
	case store.KPhone:
		return "tel"
	case store.KDate:
		return "date"
	case store.KDateTime:
		return "datetime-local"
	case store.KNumber:
		return "number"
	}
	return "text"
}

// optionsAll lists every option of a picklist for a filter, retired ones
// too: old records still carry them.
func optionsAll(p *page, list string, all []store.Option, current string) []option {
	out := make([]option, 0, len(all))
	for _, o := range all {
		out = append(out, option{Value: o.Key, Label: p.OptName(list, o.Key), Selected: o.Key == current})
	}
	return out
}

// Labeler names options in any language with the firm's current schema,
// for work outside a request (workflow rules filling e-mail templates).
func (s *Server) Labeler() store.Labeler {
	return func(lang, list, key string) string {
		return optionName(s.st.Schema(), s.i18n.For(lang, nil), list, key)
	}
}
