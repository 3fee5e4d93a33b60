package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"cartera/store"
)

// fieldErr returns the i18n key a store error gives a field ("" when none).
func fieldErr(err error, field string) string {
	if err == nil {
		return ""
	}
	return store.AsError(err).Fields[field]
}

// mustField creates a custom field or fails the test.
func mustField(t *testing.T, s *store.Store, a *store.Actor, e store.Entity, in store.CustomFieldInput) *store.CustomField {
	t.Helper()
	if in.Labels == nil {
		in.Labels = store.Labels{"ca": in.Key, "es": in.Key, "en": in.Key}
	}
	c, err := s.CreateCustomField(context.Background(), a, e, in)
	if err != nil {
		t.Fatalf("create field %s: %v", in.Key, err)
	}
	return c
}

func prefOptions() []store.Option {
	return []store.Option{
		{Key: "email", Labels: store.Labels{"ca": "Correu electrònic", "es": "Correo electrónico", "en": "E-mail"}},
		{Key: "phone", Labels: store.Labels{"ca": "Telèfon", "es": "Teléfono", "en": "Phone"}},
		{Key: "post", Labels: store.Labels{"ca": "Correu postal", "es": "Correo postal", "en": "Post"}},
	}
}

// TestStore_CreateCustomField checks every kind's validation through
// CreateRecord and UpdateRecord, and the flags of a custom field.
func TestStore_CreateCustomField(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	acc, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Empresa ABC"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range store.CustomKinds {
		in := store.CustomFieldInput{Key: "f_" + string(k), Kind: k}
		if k == store.KSelect || k == store.KMulti {
			in.Options = prefOptions()
		}
		if k == store.KRef {
			in.Ref = store.EntAccounts
		}
		mustField(t, s, admin, store.EntContacts, in)
	}
	cases := []struct {
		kind      store.Kind
		good      any
		want      any
		bad       any
		badKey    string
		updateVal any
	}{
		{store.KText, " Hola ", "Hola", strings.Repeat("x", 501), "error.too_long", "Adéu"},
		{store.KLongText, "línia 1\nlínia 2", "línia 1\nlínia 2", true, "error.type_text", "altra"},
		{store.KNumber, "12,5", 12.5, "dotze", "error.number", 7.0},
		{store.KMoney, "1234.50", 1234.5, "molts", "", "10"},
		{store.KDate, "1980-01-01", "1980-01-01", "1980-13-01", "error.date", "1990-05-06"},
		{store.KDateTime, "2026-01-02T10:00:00Z", "2026-01-02T10:00:00Z", "ahir", "", "2026-02-03T11:00:00Z"},
		{store.KBool, true, true, "potser", "", "0"},
		{store.KEmail, "laura@example.com", "laura@example.com", "no-és-un-correu", "error.email", "l@example.org"},
		{store.KPhone, "+34 600 000 000", "+34 600 000 000", "600\x01000", "", "+34 611 111 111"},
		{store.KURL, "example.com", "https://example.com", "javascript:alert(1)", "error.url", "https://cartera.example"},
		{store.KSelect, "email", "email", "fax", "error.option", "phone"},
		{store.KMulti, []any{"email", "phone"}, []string{"email", "phone"}, []any{"fax"}, "error.option", "post"},
		{store.KRef, acc.ID, acc.ID, int64(999999), "error.unknown_record", ""},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			key := "f_" + string(c.kind)
			rec, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Puig " + key}, Custom: map[string]any{key: c.good}})
			if err != nil {
				t.Fatalf("valid value %v refused: %v", c.good, err)
			}
			if got := rec.Custom[key]; !reflect.DeepEqual(got, c.want) {
				t.Fatalf("stored %#v, want %#v", got, c.want)
			}
			_, err = s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Mal"}, Custom: map[string]any{key: c.bad}})
			got := fieldErr(err, "custom."+key)
			if store.ErrorCode(err) != store.CodeInvalid || got == "" || (c.badKey != "" && got != c.badKey) {
				t.Fatalf("create with %#v: %v (field error %q, want %q)", c.bad, err, got, c.badKey)
			}
			_, err = s.UpdateRecord(ctx, admin, store.EntContacts, rec.ID, store.Input{Custom: map[string]any{key: c.bad}})
			if fieldErr(err, "custom."+key) == "" {
				t.Fatalf("update with %#v: %v", c.bad, err)
			}
			if c.updateVal != nil {
				up, err := s.UpdateRecord(ctx, admin, store.EntContacts, rec.ID, store.Input{Custom: map[string]any{key: c.updateVal}})
				if err != nil {
					t.Fatalf("update with %#v: %v", c.updateVal, err)
				}
				if reflect.DeepEqual(up.Custom[key], c.want) {
					t.Fatalf("update did not change the value: %#v", up.Custom[key])
				}
			}
			up, err := s.UpdateRecord(ctx, admin, store.EntContacts, rec.ID, store.Input{Custom: map[string]any{key: nil}})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := up.Custom[key]; ok {
				t.Fatalf("clearing kept %#v", up.Custom[key])
			}
		})
	}

	t.Run("unknown custom key refused", func(t *testing.T) {
		_, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "X"}, Custom: map[string]any{"nope": "1"}})
		if fieldErr(err, "custom.nope") != "error.unknown_field" {
			t.Fatal(err)
		}
	})

	t.Run("field definition validated", func(t *testing.T) {
		for name, tc := range map[string]struct {
			in    store.CustomFieldInput
			field string
			key   string
		}{
			"bad key":          {store.CustomFieldInput{Key: "Birth Date", Kind: store.KDate, Labels: store.Labels{"en": "x"}}, "key", "error.key"},
			"standard key":     {store.CustomFieldInput{Key: "email", Kind: store.KText, Labels: store.Labels{"en": "x"}}, "key", "error.key_taken"},
			"reserved key":     {store.CustomFieldInput{Key: "tags", Kind: store.KText, Labels: store.Labels{"en": "x"}}, "key", "error.key_taken"},
			"existing key":     {store.CustomFieldInput{Key: "f_text", Kind: store.KText, Labels: store.Labels{"en": "x"}}, "key", "error.key_taken"},
			"bad type":         {store.CustomFieldInput{Key: "colour", Kind: "colour", Labels: store.Labels{"en": "x"}}, "type", "error.option"},
			"link target":      {store.CustomFieldInput{Key: "partner", Kind: store.KRef, Ref: "planets", Labels: store.Labels{"en": "x"}}, "ref", "error.option"},
			"no label":         {store.CustomFieldInput{Key: "nolabel", Kind: store.KText}, "label", "error.required"},
			"bad language":     {store.CustomFieldInput{Key: "lang", Kind: store.KText, Labels: store.Labels{"fr": "x"}}, "label", "error.label"},
			"select no option": {store.CustomFieldInput{Key: "empty", Kind: store.KSelect, Labels: store.Labels{"en": "x"}}, "options", "error.no_active_option"},
			"option no label":  {store.CustomFieldInput{Key: "sel", Kind: store.KSelect, Labels: store.Labels{"en": "x"}, Options: []store.Option{{Key: "aa"}}}, "options.0", "error.label_required"},
			"duplicate option": {store.CustomFieldInput{Key: "sel", Kind: store.KSelect, Labels: store.Labels{"en": "x"}, Options: []store.Option{{Key: "aa", Labels: store.Labels{"en": "A"}}, {Key: "aa", Labels: store.Labels{"en": "A"}}}}, "options.1", "error.duplicate_key"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.CreateCustomField(ctx, admin, store.EntContacts, tc.in)
				if got := fieldErr(err, tc.field); got != tc.key {
					t.Fatalf("%s = %q (%v), want %q", tc.field, got, err, tc.key)
				}
			})
		}
		if _, err := s.CreateCustomField(ctx, admin, "planets", store.CustomFieldInput{Key: "x", Kind: store.KText, Labels: store.Labels{"en": "x"}}); store.ErrorCode(err) != store.CodeNotFound {
			t.Fatalf("unknown entity: %v", err)
		}
	})

	t.Run("required refused on create", func(t *testing.T) {
		mustField(t, s, admin, store.EntAccounts, store.CustomFieldInput{Key: "customer_code", Kind: store.KText, Required: true})
		_, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Sense codi"}})
		if fieldErr(err, "custom.customer_code") != "error.required" {
			t.Fatalf("missing required custom field: %v", err)
		}
		if _, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Amb codi"}, Custom: map[string]any{"customer_code": "C-1"}}); err != nil {
			t.Fatal(err)
		}
		// A record older than the rule stays editable on other fields.
		if _, err := s.UpdateRecord(ctx, admin, store.EntAccounts, acc.ID, store.Input{Values: map[string]any{"city": "Girona"}}); err != nil {
			t.Fatalf("old record not editable: %v", err)
		}
	})

	t.Run("unique refused", func(t *testing.T) {
		mustField(t, s, admin, store.EntContacts, store.CustomFieldInput{Key: "member_no", Kind: store.KText, Unique: true, Filterable: true})
		if _, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Un"}, Custom: map[string]any{"member_no": "M-1"}}); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Dos"}, Custom: map[string]any{"member_no": "M-1"}})
		if fieldErr(err, "custom.member_no") != "error.unique" {
			t.Fatalf("duplicate unique value: %v", err)
		}
		// Making a field with duplicates unique is refused.
		mustField(t, s, admin, store.EntContacts, store.CustomFieldInput{Key: "club", Kind: store.KText})
		for _, n := range []string{"A", "B"} {
			if _, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": n}, Custom: map[string]any{"club": "Barça"}}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = s.UpdateCustomField(ctx, admin, store.EntContacts, "club", store.CustomFieldInput{Labels: store.Labels{"en": "Club"}, Unique: true})
		if fieldErr(err, "unique") != "error.unique_has_duplicates" {
			t.Fatalf("unique over duplicates: %v", err)
		}
	})

	t.Run("retiring an option", func(t *testing.T) {
		rec, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Antic"}, Custom: map[string]any{"f_select": "phone"}})
		if err != nil {
			t.Fatal(err)
		}
		opts := prefOptions()
		opts[1].Retired = true
		if _, err := s.UpdateCustomField(ctx, admin, store.EntContacts, "f_select", store.CustomFieldInput{Labels: store.Labels{"en": "Pref"}, Options: opts}); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindRecord(ctx, admin, store.EntContacts, rec.ID)
		if err != nil || got.Custom["f_select"] != "phone" {
			t.Fatalf("old record lost its retired option: %v %v", got, err)
		}
		if _, err := s.UpdateRecord(ctx, admin, store.EntContacts, rec.ID, store.Input{Values: map[string]any{"first_name": "Pere"}, Custom: map[string]any{"f_select": "phone"}}); err != nil {
			t.Fatalf("old record with a retired option not editable: %v", err)
		}
		_, err = s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Nou"}, Custom: map[string]any{"f_select": "phone"}})
		if fieldErr(err, "custom.f_select") != "error.option_retired" {
			t.Fatalf("retired option on a new record: %v", err)
		}
		// Options may be retired, not deleted.
		_, err = s.UpdateCustomField(ctx, admin, store.EntContacts, "f_select", store.CustomFieldInput{Labels: store.Labels{"en": "Pref"}, Options: opts[:1]})
		if fieldErr(err, "options") != "error.builtin_option" {
			t.Fatalf("deleting options: %v", err)
		}
		c, _ := s.Schema().CustomField(store.EntContacts, "f_select")
		if act := s.Schema().ActiveOptions(c.OptionList()); len(act) != 2 {
			t.Fatalf("active options = %v", act)
		}
	})

	t.Run("removal keeps data, purge deletes it", func(t *testing.T) {
		mustField(t, s, admin, store.EntContacts, store.CustomFieldInput{Key: "shoe_size", Kind: store.KNumber, Searchable: true})
		rec, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Peus"}, Custom: map[string]any{"shoe_size": 42.0}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PurgeCustomField(ctx, admin, store.EntContacts, "shoe_size"); fieldErr(err, "key") != "error.remove_first" {
			t.Fatalf("purge before removal: %v", err)
		}
		if err := s.RemoveCustomField(ctx, admin, store.EntContacts, "shoe_size"); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Schema().Def(store.EntContacts).CustomField("shoe_size"); ok {
			t.Fatal("removed field still active")
		}
		if c, ok := s.Schema().CustomField(store.EntContacts, "shoe_size"); !ok || !c.Removed {
			t.Fatal("removed field not listed as removed")
		}
		if _, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "X"}, Custom: map[string]any{"shoe_size": 40.0}}); fieldErr(err, "custom.shoe_size") != "error.unknown_field" {
			t.Fatalf("value for a removed field: %v", err)
		}
		if err := s.RestoreCustomField(ctx, admin, store.EntContacts, "shoe_size"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.FindRecord(ctx, admin, store.EntContacts, rec.ID)
		if got.Custom["shoe_size"] != 42.0 {
			t.Fatalf("value lost by remove/restore: %v", got.Custom)
		}
		if err := s.RemoveCustomField(ctx, admin, store.EntContacts, "shoe_size"); err != nil {
			t.Fatal(err)
		}
		if err := s.PurgeCustomField(ctx, admin, store.EntContacts, "shoe_size"); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Schema().CustomField(store.EntContacts, "shoe_size"); ok {
			t.Fatal("purged field still there")
		}
		got, _ = s.FindRecord(ctx, admin, store.EntContacts, rec.ID)
		if _, ok := got.Custom["shoe_size"]; ok {
			t.Fatalf("purge kept the value: %v", got.Custom)
		}
		// The key is free again.
		mustField(t, s, admin, store.EntContacts, store.CustomFieldInput{Key: "shoe_size", Kind: store.KText})
	})

	t.Run("non-admin forbidden", func(t *testing.T) {
		sp := mustUser(t, s, admin, "pere@example.com", "salesperson")
		_, err := s.CreateCustomField(ctx, sp, store.EntContacts, store.CustomFieldInput{Key: "x", Kind: "nonsense"})
		wantCode(t, err, store.CodeForbidden)
		_, err = s.UpdateCustomField(ctx, sp, store.EntContacts, "f_text", store.CustomFieldInput{Labels: store.Labels{"en": "x"}})
		wantCode(t, err, store.CodeForbidden)
		wantCode(t, s.RemoveCustomField(ctx, sp, store.EntContacts, "f_text"), store.CodeForbidden)
		wantCode(t, s.RestoreCustomField(ctx, sp, store.EntContacts, "f_text"), store.CodeForbidden)
		wantCode(t, s.PurgeCustomField(ctx, sp, store.EntContacts, "f_text"), store.CodeForbidden)
		wantCode(t, s.SaveFieldSetting(ctx, sp, store.EntAccounts, "city", store.FieldSetting{Required: true}), store.CodeForbidden)
		wantCode(t, s.SavePicklist(ctx, sp, "sector", s.Schema().Options("sector")), store.CodeForbidden)
		wantCode(t, s.SavePipeline(ctx, sp, store.Pipeline{Key: "renewals", Labels: store.Labels{"en": "Renewals"}}), store.CodeForbidden)
		wantCode(t, s.SaveActivityRule(ctx, sp, "visit", []string{"outcome"}), store.CodeForbidden)
	})
}

// TestStore_SaveFieldSetting checks renamed, required and hidden standard
// fields.
func TestStore_SaveFieldSetting(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	t.Run("renamed", func(t *testing.T) {
		if err := s.SaveFieldSetting(ctx, admin, store.EntAccounts, "name", store.FieldSetting{Labels: store.Labels{"ca": "Client", "es": "Cliente", "en": "Client"}}); err != nil {
			t.Fatal(err)
		}
		if got := s.Schema().Setting(store.EntAccounts, "name").Labels.In("es"); got != "Cliente" {
			t.Fatalf("label = %q", got)
		}
	})
	t.Run("required refused on create", func(t *testing.T) {
		if err := s.SaveFieldSetting(ctx, admin, store.EntAccounts, "city", store.FieldSetting{Required: true}); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Sense ciutat"}})
		if fieldErr(err, "city") != "error.required" {
			t.Fatalf("missing required city: %v", err)
		}
		if _, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Amb ciutat", "city": "Vic"}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("hidden", func(t *testing.T) {
		if err := s.SaveFieldSetting(ctx, admin, store.EntContacts, "mobile", store.FieldSetting{Hidden: true}); err != nil {
			t.Fatal(err)
		}
		f, _ := s.Schema().Def(store.EntContacts).Field("mobile")
		if !f.Hidden {
			t.Fatal("mobile not hidden")
		}
		for _, slot := range s.Schema().FormOrder(store.EntContacts) {
			if slot.Key == "mobile" {
				t.Fatal("hidden field on the form")
			}
		}
		// Hidden fields stay in the data and the API.
		rec, err := s.CreateRecord(ctx, admin, store.EntContacts, store.Input{Values: map[string]any{"last_name": "Mòbil", "mobile": "600000000"}})
		if err != nil || rec.Str("mobile") != "600000000" {
			t.Fatalf("hidden field value: %v %v", rec, err)
		}
	})
	t.Run("product fields cannot be hidden", func(t *testing.T) {
		err := s.SaveFieldSetting(ctx, admin, store.EntAccounts, "name", store.FieldSetting{Hidden: true})
		if fieldErr(err, "hidden") != "error.hide_required" {
			t.Fatalf("hiding name: %v", err)
		}
		err = s.SaveFieldSetting(ctx, admin, store.EntAccounts, "phone", store.FieldSetting{Hidden: true, Required: true})
		if fieldErr(err, "hidden") != "error.hide_required" {
			t.Fatalf("hidden and required: %v", err)
		}
	})
	t.Run("unknown or read-only field", func(t *testing.T) {
		wantCode(t, s.SaveFieldSetting(ctx, admin, store.EntAccounts, "nope", store.FieldSetting{}), store.CodeNotFound)
		wantCode(t, s.SaveFieldSetting(ctx, admin, store.EntLeads, "converted_account_id", store.FieldSetting{}), store.CodeNotFound)
	})
	t.Run("placed on the form", func(t *testing.T) {
		if err := s.SaveFieldSetting(ctx, admin, store.EntContacts, "notes", store.FieldSetting{Section: "Altres", Position: 1}); err != nil {
			t.Fatal(err)
		}
		if first := s.Schema().FormOrder(store.EntContacts)[0]; first.Key != "notes" || first.Section != "Altres" {
			t.Fatalf("first slot = %+v", first)
		}
	})
}

// TestStore_SavePicklist checks the picklist editor's rules.
func TestStore_SavePicklist(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	base := func(list string) []store.Option { return append([]store.Option(nil), s.Schema().Options(list)...) }
	t.Run("add, rename, reorder, retire", func(t *testing.T) {
		opts := base("sector")
		opts[0].Retired = true
		opts[1].Labels = store.Labels{"ca": "Indústria", "es": "Industria", "en": "Industry"}
		opts = append([]store.Option{{Key: "wine", Labels: store.Labels{"ca": "Vi", "es": "Vino", "en": "Wine"}}}, opts...)
		if err := s.SavePicklist(ctx, admin, "sector", opts); err != nil {
			t.Fatal(err)
		}
		got := s.Schema().Options("sector")
		if got[0].Key != "wine" || !got[1].Retired || got[2].Labels["en"] != "Industry" {
			t.Fatalf("options = %+v", got[:3])
		}
		if _, err := s.CreateRecord(ctx, admin, store.EntAccounts, store.Input{Values: map[string]any{"name": "Celler", "sector": "wine"}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("options in use are never deleted", func(t *testing.T) {
		opts := base("sector")[1:] // drops "wine", which a record holds
		if err := s.SavePicklist(ctx, admin, "sector", opts); fieldErr(err, "options") != "error.builtin_option" {
			t.Fatalf("deleting a used option: %v", err)
		}
		opts = append(base("sector"), store.Option{Key: "unused", Labels: store.Labels{"en": "Unused"}})
		if err := s.SavePicklist(ctx, admin, "sector", opts); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePicklist(ctx, admin, "sector", opts[:len(opts)-1]); err != nil {
			t.Fatalf("deleting an unused option: %v", err)
		}
		if err := s.SavePicklist(ctx, admin, "potential", base("potential")[1:]); fieldErr(err, "options") != "error.builtin_option" {
			t.Fatalf("deleting a built-in option: %v", err)
		}
	})
	t.Run("rules", func(t *testing.T) {
		all := base("potential")
		for i := range all {
			all[i].Retired = true
		}
		if err := s.SavePicklist(ctx, admin, "potential", all); fieldErr(err, "options") != "error.no_active_option" {
			t.Fatalf("all retired: %v", err)
		}
		ls := base("lead_status")
		ls[0].Retired = true // new
		if err := s.SavePicklist(ctx, admin, "lead_status", ls); fieldErr(err, "options") != "error.option_locked" {
			t.Fatalf("retiring lead status new: %v", err)
		}
		cs := base("case_status")
		cs[4].Retired = true // closed
		if err := s.SavePicklist(ctx, admin, "case_status", cs); fieldErr(err, "options") != "error.kind_missing.closed" {
			t.Fatalf("case status without closed: %v", err)
		}
		if err := s.SavePicklist(ctx, admin, "potential", append(base("potential"), store.Option{Key: "huge"})); fieldErr(err, "options.3") != "error.label_required" {
			t.Fatalf("new option without label: %v", err)
		}
		wantCode(t, s.SavePicklist(ctx, admin, "task_status", base("task_status")), store.CodeNotFound)
	})
	t.Run("case status flow", func(t *testing.T) {
		cs := base("case_status")
		cs = append(cs[:3], store.Option{Key: "escalated", StageKind: "open", Labels: store.Labels{"ca": "Escalat", "es": "Escalado", "en": "Escalated"}}, cs[3], cs[4])
		if err := s.SavePicklist(ctx, admin, "case_status", cs); err != nil {
			t.Fatal(err)
		}
		if k := s.Schema().CaseStatusKind("escalated"); k != "open" {
			t.Fatalf("kind = %q", k)
		}
	})
}

// TestStore_SavePipeline checks a second pipeline with its own stages.
func TestStore_SavePipeline(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	if err := s.SavePipeline(ctx, admin, store.Pipeline{Key: "renewals", Labels: store.Labels{"ca": "Renovacions", "es": "Renovaciones", "en": "Renewals"}}); err != nil {
		t.Fatal(err)
	}
	if ps := s.Schema().Pipelines(); len(ps) != 2 || ps[1].Key != "renewals" {
		t.Fatalf("pipelines = %+v", ps)
	}
	if n := len(s.Schema().Options(store.StageList("renewals"))); n != 6 {
		t.Fatalf("new pipeline starts with %d stages, want the default's 6", n)
	}
	stages := []store.Option{
		{Key: "to_renew", StageKind: "open", Probability: 60, Labels: store.Labels{"ca": "Per renovar", "es": "Por renovar", "en": "To renew"}},
		{Key: "renewed", StageKind: "won", Probability: 100, Labels: store.Labels{"ca": "Renovat", "es": "Renovado", "en": "Renewed"}},
		{Key: "churned", StageKind: "lost", Labels: store.Labels{"ca": "Perdut", "es": "Perdido", "en": "Churned"}},
	}
	if err := s.SavePicklist(ctx, admin, store.StageList("renewals"), stages); err != nil {
		t.Fatalf("replacing a new pipeline's unused stages: %v", err)
	}
	t.Run("opportunity validated against its pipeline's stages", func(t *testing.T) {
		opp, err := s.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Renovació 2027", "pipeline": "renewals"}})
		if err != nil {
			t.Fatal(err)
		}
		if opp.Str("stage") != "to_renew" || opp.Values["probability"] != int64(60) {
			t.Fatalf("first stage = %q, probability %v", opp.Str("stage"), opp.Values["probability"])
		}
		_, err = s.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: map[string]any{"name": "X", "pipeline": "renewals", "stage": "proposal"}})
		if fieldErr(err, "stage") != "error.stage_pipeline" {
			t.Fatalf("default stage in renewals: %v", err)
		}
		_, err = s.CreateRecord(ctx, admin, store.EntOpportunities, store.Input{Values: map[string]any{"name": "Y", "stage": "renewed"}})
		if fieldErr(err, "stage") != "error.stage_pipeline" {
			t.Fatalf("renewals stage in default: %v", err)
		}
		up, err := s.UpdateRecord(ctx, admin, store.EntOpportunities, opp.ID, store.Input{Values: map[string]any{"stage": "renewed"}})
		if err != nil || up.Str("forecast_category") != "closed" {
			t.Fatalf("won stage: %v %v", up, err)
		}
		// A stage in use can be retired but not deleted.
		if err := s.SavePicklist(ctx, admin, store.StageList("renewals"), []store.Option{stages[0], stages[2]}); fieldErr(err, "options") != "error.builtin_option" {
			t.Fatalf("deleting a used stage: %v", err)
		}
		lost := stages
		lost[2].Retired = true
		if err := s.SavePicklist(ctx, admin, store.StageList("renewals"), lost); fieldErr(err, "options") != "error.kind_missing.lost" {
			t.Fatalf("no lost stage: %v", err)
		}
	})
	t.Run("rename keeps place, retire", func(t *testing.T) {
		if err := s.SavePipeline(ctx, admin, store.Pipeline{Key: "partners", Labels: store.Labels{"en": "Partners"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePipeline(ctx, admin, store.Pipeline{Key: "renewals", Labels: store.Labels{"en": "Renewals 2"}, Retired: true}); err != nil {
			t.Fatal(err)
		}
		ps := s.Schema().Pipelines()
		if ps[1].Key != "renewals" || !ps[1].Retired || ps[1].Labels["en"] != "Renewals 2" {
			t.Fatalf("pipelines = %+v", ps)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		if err := s.SavePipeline(ctx, admin, store.Pipeline{Key: "default", Labels: store.Labels{"en": "X"}}); fieldErr(err, "key") != "error.key" {
			t.Fatal(err)
		}
		if err := s.SavePipeline(ctx, admin, store.Pipeline{Key: "nolabel"}); fieldErr(err, "label") != "error.required" {
			t.Fatal(err)
		}
		wantCode(t, s.SavePicklist(ctx, admin, "stage:nope", stages), store.CodeNotFound)
	})
}

// TestStore_SaveActivityRule checks that a visit requires an outcome.
func TestStore_SaveActivityRule(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	mustField(t, s, admin, store.EntActivities, store.CustomFieldInput{Key: "km", Kind: store.KNumber})
	if err := s.SaveActivityRule(ctx, admin, "visit", []string{"outcome", "custom.km"}); err != nil {
		t.Fatal(err)
	}
	act := func(typ string, vals map[string]any, custom map[string]any) error {
		v := map[string]any{"type": typ, "subject": "Visita", "occurred_at": "2026-03-02T10:00:00Z"}
		for k, x := range vals {
			v[k] = x
		}
		_, err := s.CreateRecord(ctx, admin, store.EntActivities, store.Input{Values: v, Custom: custom})
		return err
	}
	t.Run("visit requires outcome", func(t *testing.T) {
		err := act("visit", nil, nil)
		if fieldErr(err, "outcome") != "error.required_for_type" || fieldErr(err, "custom.km") != "error.required_for_type" {
			t.Fatalf("visit without outcome: %v", err)
		}
		if err := act("visit", map[string]any{"outcome": "positive"}, map[string]any{"km": 12.0}); err != nil {
			t.Fatal(err)
		}
		if err := act("call", nil, nil); err != nil {
			t.Fatalf("call needs no outcome: %v", err)
		}
	})
	t.Run("invalid rules", func(t *testing.T) {
		if err := s.SaveActivityRule(ctx, admin, "visit", []string{"nope"}); fieldErr(err, "fields") != "error.unknown_field" {
			t.Fatal(err)
		}
		if err := s.SaveActivityRule(ctx, admin, "visit", []string{"custom.nope"}); fieldErr(err, "fields") != "error.unknown_field" {
			t.Fatal(err)
		}
		wantCode(t, s.SaveActivityRule(ctx, admin, "teleport", nil), store.CodeNotFound)
	})
	t.Run("cleared", func(t *testing.T) {
		if err := s.SaveActivityRule(ctx, admin, "visit", nil); err != nil {
			t.Fatal(err)
		}
		if r := s.Schema().ActivityRule("visit"); len(r) != 0 {
			t.Fatalf("rule = %v", r)
		}
		if err := act("visit", nil, nil); err != nil {
			t.Fatal(err)
		}
	})
}
