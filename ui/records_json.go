package ui

import (
	"strconv"
	"strings"
	"time"

	"cartera/store"
)

// recordJSON renders a record as the API shows it: snake_case keys, string
// ids, RFC 3339 times, YYYY-MM-DD dates, option keys for selects.
func recordJSON(r *store.Record) map[string]any {
	d := store.Def(r.Entity)
	out := map[string]any{
		"id":         itoa(r.ID),
		d.OwnerKey:   itoa(r.OwnerID),
		"custom":     r.Custom,
		"created_at": r.CreatedAt.Format(time.RFC3339),
		"updated_at": r.UpdatedAt.Format(time.RFC3339),
		"version":    r.Version,
	}
	for _, f := range d.Fields {
		v := r.Values[f.Key]
		switch f.Kind {
		case store.KRef:
			if id, _ := v.(int64); id != 0 {
				out[f.Key] = itoa(id)
			} else {
				out[f.Key] = nil
			}
		case store.KDateTime:
			if t, _ := v.(time.Time); !t.IsZero() {
				out[f.Key] = t.Format(time.RFC3339)
			} else {
				out[f.Key] = nil
			}
		case store.KDate:
			if s, _ := v.(string); s != "" {
				out[f.Key] = s
			} else {
				out[f.Key] = nil
			}
		default:
			out[f.Key] = v
		}
	}
	if d.Tagged {
		out["tags"] = r.Tags
	}
	if r.Entity == store.EntOpportunities {
		roles := make([]map[string]string, 0, len(r.ContactRoles))
		for _, cr := range r.ContactRoles {
			roles = append(roles, map[string]string{"contact_id": itoa(cr.ContactID), "role": cr.Role})
		}
		out["contact_roles"] = roles
	}
	if r.ExternalIDs != nil {
		out["external_ids"] = r.ExternalIDs
	}
	if !r.DeletedAt.IsZero() {
		out["deleted_at"] = r.DeletedAt.Format(time.RFC3339)
	}
	return out
}

// inputFromJSON splits a decoded JSON object into a store.Input. Keys the
// API never lets clients write (id, updated_at, version…) are reported as
// read-only; everything else goes to the store, which refuses unknown keys.
func inputFromJSON(e store.Entity, body map[string]any, create bool) (store.Input, error) {
	in := store.Input{Values: map[string]any{}}
	fe := map[string]string{}
	for k, v := range body {
		switch k {
		case "id", "updated_at", "deleted_at", "external_ids":
			fe[k] = "error.read_only"
		case "version":
			n, ok := v.(float64)
			if !ok || n < 1 {
				fe[k] = "error.number"
				continue
			}
			in.Version = int64(n)
		case "created_at":
			s, ok := v.(string)
			t, err := time.Parse(time.RFC3339, s)
			if !ok || err != nil {
				fe[k] = "error.datetime"
				continue
			}
			in.CreatedAt = t
		case "tags":
			if !store.Def(e).Tagged {
				fe[k] = "error.unknown_field"
				continue
			}
			list, ok := v.([]any)
			if !ok {
				fe[k] = "error.type_list"
				continue
			}
			tags := []string{}
			for _, x := range list {
				s, ok := x.(string)
				if !ok {
					fe[k] = "error.type_list"
					break
				}
				tags = append(tags, s)
			}
			in.Tags = &tags
		case "custom":
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				fe[k] = "error.type_object"
				continue
			}
			in.Custom = m
		case "contact_roles":
			if e != store.EntOpportunities {
				fe[k] = "error.unknown_field"
				continue
			}
			list, ok := v.([]any)
			if !ok {
				fe[k] = "error.type_list"
				continue
			}
			roles := []store.ContactRole{}
			for _, x := range list {
				m, ok := x.(map[string]any)
				cid, _ := m["contact_id"].(string)
				role, _ := m["role"].(string)
				id, err := strconv.ParseInt(cid, 10, 64)
				if !ok || err != nil || len(m) != 2 {
					fe[k] = "error.contact_roles"
					break
				}
				roles = append(roles, store.ContactRole{ContactID: id, Role: role})
			}
			in.ContactRoles = &roles
		default:
			in.Values[k] = v
		}
	}
	if len(fe) > 0 {
		return in, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: fe}
	}
	return in, nil
}

// entityFromPath maps a URL segment to a record type.
func entityFromPath(seg string) (store.Entity, bool) {
	e := store.Entity(strings.ToLower(seg))
	return e, store.Def(e) != nil
}
