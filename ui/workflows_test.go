package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cartera/store"
)

// TestUI_Workflows builds a rule in the editor, tests it against a record,
// switches it on with the existing records, reads its run log, adds the
// ready-made examples, and refuses a bad rule with translated errors.
func TestUI_Workflows(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	b := e.newBrowser()
	b.login("anna@example.com", "contrasenya-segura")
	laura := createByForm(t, b, "contacts", url.Values{"first_name": {"Laura"}, "email": {"laura@example.com"}, "title": {"CEO"}})
	tpl := &store.EmailTemplate{Name: "Seguiment", Language: "en", Entity: store.EntContacts, Subject: "Hello {{contact.first_name}}", BodyText: "Hi"}
	if err := e.st.SaveEmailTemplate(ctx, admin, tpl); err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"entity": {"contacts"}, "name": {"CEO follow-up"}, "trigger_type": {"time_after"}, "delay_n": {"3"}, "delay_unit": {"d"},
		"delay_before": {"0"}, "date_field": {""}, "event": {"created"}, "match": {"all"},
		"cond_field": {"title", ""}, "cond_op": {"eq", "eq"}, "cond_value": {"ceo", ""},
	}
	addAction := func(f url.Values, typ string, kv map[string]string) {
		for _, k := range []string{"type", "to", "address", "template", "title", "description", "due_n", "due_unit", "activity_type", "assignee", "owner_mode", "user", "team", "field", "value", "tag", "notify_user", "message"} {
			f.Add("act_"+k, kv[k])
		}
		f["act_type"][len(f["act_type"])-1] = typ
	}
	addAction(form, "send_email", map[string]string{"to": "record", "template": itoa(tpl.ID)})
	addAction(form, "create_task", map[string]string{"title": "Call {{contact.first_name}}", "due_n": "2", "due_unit": "h", "assignee": "owner"})
	addAction(form, "", nil)

	t.Run("a bad rule is refused with the reason, nothing saved", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = append([]string(nil), v...)
		}
		bad.Set("delay_n", "soon")
		bad["act_title"][1] = ""
		code, body := b.postBody("/settings/workflows", bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Write a whole number of seconds") || !strings.Contains(body, "This field is required") {
			t.Fatalf("%d\n%s", code, body)
		}
		if list, _ := e.st.FindWorkflows(ctx, admin); len(list) != 0 {
			t.Fatal("a refused rule was saved")
		}
	})
	t.Run("test against a record changes nothing", func(t *testing.T) {
		tf := url.Values{"test": {"1"}, "test_id": {laura}}
		for k, v := range form {
			tf[k] = v
		}
		code, body := b.postBody("/settings/workflows", tf)
		if code != 200 || !strings.Contains(body, "laura@example.com") || !strings.Contains(body, "nothing was changed") {
			t.Fatalf("%d\n%s", code, body)
		}
		if msgs, _ := e.st.FindOutbox(ctx, admin, store.OutboxFilter{}); len(msgs) != 0 {
			t.Fatal("the test queued an e-mail")
		}
	})
	var id string
	t.Run("save and switch on with the existing records", func(t *testing.T) {
		resp := b.post("/settings/workflows", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", resp.StatusCode)
		}
		id = strings.TrimPrefix(resp.Header.Get("Location"), "/settings/workflows/")
		code, body := b.get("/settings/workflows/" + id)
		if code != 200 || !strings.Contains(body, "CEO follow-up") || !strings.Contains(body, `value="Call {{contact.first_name}}"`) {
			t.Fatalf("edit page: %d\n%s", code, body)
		}
		code, body = b.get("/settings/workflows/" + id + "/enable")
		if code != 200 || !strings.Contains(body, "Also act on the 1 existing records") {
			t.Fatalf("enable page: %d\n%s", code, body)
		}
		if resp := b.post("/settings/workflows/"+id+"/enable", url.Values{"include_existing": {"1"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", resp.StatusCode)
		}
		_, body = b.get("/settings/workflows")
		if !strings.Contains(body, "3 days after creation") || !strings.Contains(body, ">On<") {
			t.Errorf("list:\n%s", body)
		}
		wid := parseID(id)
		if n, _ := e.st.PendingWorkflowJobs(ctx, admin, wid); n != 1 {
			t.Errorf("pending = %d", n)
		}
	})
	t.Run("run log", func(t *testing.T) {
		if _, err := e.st.RunDueWorkflows(ctx, time.Now().Add(4*24*time.Hour), nil); err != nil {
			t.Fatal(err)
		}
		code, body := b.get("/settings/workflows/" + id + "/runs")
		if code != 200 || !strings.Contains(body, "Laura") || !strings.Contains(body, "Send an e-mail: done — laura@example.com") {
			t.Fatalf("%d\n%s", code, body)
		}
	})
	t.Run("ready-made examples", func(t *testing.T) {
		for _, k := range store.BuiltinWorkflows {
			if resp := b.post("/settings/workflows/examples/"+k, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", k, resp.StatusCode)
			}
		}
		if resp := b.post("/settings/workflows/examples/follow_up", nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("second follow-up example: %d", resp.StatusCode)
		}
		_, body := b.get("/settings/workflows")
		if !strings.Contains(body, "Follow-up e-mail 3 days after a new contact") || strings.Contains(body, "Ready-made examples") {
			t.Errorf("list:\n%s", body)
		}
		list, _ := e.st.FindWorkflows(ctx, admin)
		for _, wf := range list {
			if wf.Builtin != "" && wf.Enabled {
				t.Errorf("example %s was switched on", wf.Builtin)
			}
		}
		tpls, _ := e.st.FindEmailTemplates(ctx, admin, "")
		if len(tpls) != 3 {
			t.Errorf("%d templates, want the rule's own and the two examples'", len(tpls))
		}
	})
	t.Run("only automation admins", func(t *testing.T) {
		e.mustUser(admin, "joan@example.com", "salesperson")
		sb := e.newBrowser()
		sb.login("joan@example.com", "password-123")
		if code, _ := sb.get("/settings/workflows"); code != http.StatusForbidden {
			t.Errorf("salesperson: %d", code)
		}
	})
}

// TestAPI_Workflows covers the API shape, its errors and the run
// log, with a bearer token.
func TestAPI_Workflows(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "test")
	if err != nil {
		t.Fatal(err)
	}
	tpl := &store.EmailTemplate{Name: "Seguiment", Language: "ca", Entity: store.EntContacts, Subject: "Hola", BodyText: "Hola"}
	if err := e.st.SaveEmailTemplate(ctx, admin, tpl); err != nil {
		t.Fatal(err)
	}
	body := `{"name":"Seguiment","entity":"contacts","enabled":true,"trigger":{"type":"time_after","event":"created","delay":"3d"},"conditions":[],"actions":[{"type":"send_email","to":"record","template_id":"` + itoa(tpl.ID) + `"}]}`
	code, got := e.api("POST", "/api/v1/workflows", tok, strings.NewReader(body))
	if code != http.StatusCreated || got["enabled"] != true || got["name"] != "Seguiment" {
		t.Fatalf("create: %d %v", code, got)
	}
	id := parseID(got["id"].(string))
	path := "/api/v1/workflows/" + itoa(id)
	t.Run("list and get", func(t *testing.T) {
		code, got := e.api("GET", "/api/v1/workflows", tok, nil)
		if data, _ := got["data"].([]any); code != 200 || len(data) != 1 {
			t.Errorf("list: %d %v", code, got)
		}
		code, got = e.api("GET", path, tok, nil)
		trig, _ := got["trigger"].(map[string]any)
		if code != 200 || trig["delay"] != "3d" {
			t.Errorf("get: %d %v", code, got)
		}
	})
	t.Run("bad rules are refused by field", func(t *testing.T) {
		for name, c := range map[string]struct{ body, field string }{
			"delay":    {`{"name":"x","entity":"contacts","trigger":{"type":"time_after","delay":"soon"},"actions":[{"type":"add_tag","tag":"a"}]}`, "trigger.delay"},
			"action":   {`{"name":"x","entity":"contacts","trigger":{"type":"created"},"actions":[{"type":"launch_rocket"}]}`, "actions.0.type"},
			"template": {`{"name":"x","entity":"leads","trigger":{"type":"created"},"actions":[{"type":"send_email","to":"record","template_id":` + itoa(tpl.ID) + `}]}`, "actions.0.template_id"},
		} {
			code, got := e.api("POST", "/api/v1/workflows", tok, strings.NewReader(c.body))
			errObj, _ := got["error"].(map[string]any)
			fields, _ := errObj["fields"].(map[string]any)
			if code != http.StatusUnprocessableEntity || fields[c.field] == nil {
				t.Errorf("%s: %d %v", name, code, got)
			}
		}
		if code, _ := e.api("POST", "/api/v1/workflows", tok, strings.NewReader(`{"name":"x","colour":"red"}`)); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Errorf("unknown key: %d", code)
		}
		if list, _ := e.st.FindWorkflows(ctx, admin); len(list) != 1 {
			t.Errorf("refused rules were stored: %d rules", len(list))
		}
	})
	t.Run("patch, switch off, runs, delete", func(t *testing.T) {
		code, got := e.api("PATCH", path, tok, strings.NewReader(`{"name":"Seguiment 2","enabled":false}`))
		if code != 200 || got["name"] != "Seguiment 2" || got["enabled"] != false {
			t.Errorf("patch: %d %v", code, got)
		}
		code, got = e.api("GET", path+"/runs", tok, nil)
		if data, ok := got["data"].([]any); code != 200 || !ok || len(data) != 0 {
			t.Errorf("runs: %d %v", code, got)
		}
		if code, _ := e.api("DELETE", path, tok, nil); code != http.StatusNoContent {
			t.Errorf("delete: %d", code)
		}
		if code, _ := e.api("GET", path, tok, nil); code != http.StatusNotFound {
			t.Errorf("after delete: %d", code)
		}
	})
	t.Run("salesperson is refused", func(t *testing.T) {
		sales := e.mustUser(admin, "joan@example.com", "salesperson")
		stok, _, err := e.st.CreateToken(ctx, sales, sales.UserID, "test")
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := e.api("GET", "/api/v1/workflows", stok, nil); code != http.StatusForbidden {
			t.Errorf("code %d", code)
		}
	})
}
