package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"cartera/store"
)

// This file is the API reference: one table of operations, from which the
// OpenAPI 3.1 document (/api/v1/openapi.json) and the readable page
// (/api/docs) are made. A test compares the table with the router and runs
// every example request against a real server, so the reference cannot
// drift from the API.

// apiParam is a query parameter of an operation.
type apiParam struct {
	Name, Description string
}

// apiExample is one example request of an operation; the test runs it.
// "{name}" in Path and Body is replaced by an id an earlier example saved.
type apiExample struct {
	Path   string // with query string, relative to /api/v1
	Body   string // JSON; empty for none
	Form   map[string]string
	File   string // multipart "file" content (a CSV, or any file)
	Status int
	// Save keeps the response's "id" under this name for later examples;
	// "name:data.0.id" keeps another member.
	Save string
}

// apiOp documents one operation.
type apiOp struct {
	Method, Path string // Path as OpenAPI writes it, relative to /api/v1
	Tag          string
	Summary      string
	Params       []apiParam
	Examples     []apiExample
}

var entityList = strings.Join(func() []string {
	var out []string
	for _, e := range store.RecordEntities {
		out = append(out, string(e))
	}
	return out
}(), ", ")

// apiOps is the API, in the order the reference shows it and the examples
// run.
var apiOps = []apiOp{
	{Method: "GET", Path: "/openapi.json", Tag: "Session", Summary: "This reference as an OpenAPI 3.1 document (no token needed).",
		Examples: []apiExample{{Path: "/openapi.json", Status: 200}}},
	{Method: "GET", Path: "/me", Tag: "Session", Summary: "The token's user, role, permissions and sections.",
		Examples: []apiExample{{Path: "/me", Status: 200}}},
	{Method: "POST", Path: "/{entity}", Tag: "Records", Summary: "Create a record of a type (" + entityList + "); fields by key, custom fields in \"custom\", tags as a list. 201 with the record.",
		Examples: []apiExample{
			{Path: "/accounts", Body: `{"name":"Empresa ABC","sector":"retail","city":"Vic"}`, Status: 201, Save: "account"},
			{Path: "/contacts", Body: `{"first_name":"Laura","last_name":"García","email":"laura@empresaabc.com","account_id":"{account}","tags":["Compres"]}`, Status: 201, Save: "contact"},
			{Path: "/leads", Body: `{"first_name":"Pau","last_name":"Serra","company":"Fusteria Serra","email":"pau@fusteriaserra.cat","source":"web_form"}`, Status: 201, Save: "lead"},
			{Path: "/tasks", Body: `{"title":"Trucar a la Laura","due_at":"2030-01-15T10:00:00Z","contact_id":"{contact}"}`, Status: 201, Save: "task"},
			{Path: "/contacts", Body: `{"first_name":"Pere","last_name":"Esborrat","email":"pere@example.com"}`, Status: 201, Save: "erasee"},
			{Path: "/opportunities", Body: `{"name":"Mobles d'oficina","account_id":"{account}","contact_id":"{contact}","stage":"proposal"}`, Status: 201, Save: "opportunity"},
		}},
	{Method: "GET", Path: "/{entity}", Tag: "Records", Summary: "List records, a page at a time; answers {\"data\":[…],\"next_cursor\":\"…\"}.",
		Params:   []apiParam{{"q", "full-text search"}, {"tag", "records with this tag"}, {"owner_id", "owner (assignee for tasks and cases)"}, {"FIELD", "any filterable field, custom.KEY for filterable custom fields"}, {"updated_since", "RFC 3339: records changed since"}, {"sort", "a field, - for descending"}, {"limit", "1–200"}, {"cursor", "next_cursor of the previous page"}},
		Examples: []apiExample{{Path: "/contacts?q=garcia&limit=10", Status: 200}, {Path: "/contacts?account_id={account}", Status: 200}}},
	{Method: "GET", Path: "/{entity}/{id}", Tag: "Records", Summary: "One record.",
		Examples: []apiExample{{Path: "/contacts/{contact}", Status: 200}}},
	{Method: "PATCH", Path: "/{entity}/{id}", Tag: "Records", Summary: "Change the fields sent; \"version\" refuses the change (409) if the record changed since it was read.",
		Examples: []apiExample{{Path: "/contacts/{contact}", Body: `{"title":"Gerent","custom":{}}`, Status: 200}}},
	{Method: "GET", Path: "/{entity}/{id}/timeline", Tag: "Records", Summary: "The record's history, newest first.",
		Examples: []apiExample{{Path: "/contacts/{contact}/timeline", Status: 200}}},
	{Method: "DELETE", Path: "/{entity}/{id}", Tag: "Records", Summary: "Move a record to the trash. 204.",
		Examples: []apiExample{{Path: "/tasks/{task}", Status: 204}}},
	{Method: "POST", Path: "/leads/{id}/convert", Tag: "Records", Summary: "Convert a lead into a client, a contact and optionally an opportunity.",
		Examples: []apiExample{{Path: "/leads/{lead}/convert", Body: `{"create_opportunity":{"name":"Mobles d'oficina","amount":4500}}`, Status: 200}}},
	{Method: "GET", Path: "/search", Tag: "Records", Summary: "Full-text search over every searchable record type, grouped by type.",
		Params:   []apiParam{{"q", "words to find"}, {"limit", "results per type"}},
		Examples: []apiExample{{Path: "/search?q=laura", Status: 200}}},
	{Method: "GET", Path: "/tags", Tag: "Records", Summary: "Tags with their use counts.",
		Examples: []apiExample{{Path: "/tags", Status: 200}}},

	{Method: "POST", Path: "/{entity}/{id}/attachments", Tag: "Attachments", Summary: "Attach files to an account, contact, lead, opportunity, activity or case (edit permission on it): multipart with one or several \"file\" parts, all stored or none; each up to [attachments] max_mb (25 MB), refused with 413 as soon as it is larger. The type is detected from the content. 201 with {\"data\":[…]}.",
		Examples: []apiExample{{Path: "/contacts/{contact}/attachments", Form: map[string]string{}, File: `{"oferta":"2026-031","import":4500}`, Status: 201, Save: "attachment"}}},
	{Method: "GET", Path: "/{entity}/{id}/attachments", Tag: "Attachments", Summary: "A record's files, newest first: {\"data\":[{\"id\",\"name\",\"content_type\",\"size\",\"sha256\",\"thumbnail\",\"created_by\",\"created_at\",\"url\"}]}.",
		Examples: []apiExample{{Path: "/contacts/{contact}/attachments", Status: 200}}},
	{Method: "GET", Path: "/attachments/{id}", Tag: "Attachments", Summary: "Download a file (Content-Disposition: attachment; HTML and SVG as application/octet-stream). The parent record's permission is checked on every download: a file of a record the token user cannot see is 404.",
		Examples: []apiExample{{Path: "/attachments/{attachment}", Status: 200}}},
	{Method: "PATCH", Path: "/attachments/{id}", Tag: "Attachments", Summary: "Rename a file: {\"name\":\"…\"}.",
		Examples: []apiExample{{Path: "/attachments/{attachment}", Body: `{"name":"oferta-2026-031.json"}`, Status: 200}}},
	{Method: "DELETE", Path: "/attachments/{id}", Tag: "Attachments", Summary: "Move a file to the trash (restorable from the trash page). 204.",
		Examples: []apiExample{{Path: "/attachments/{attachment}", Status: 204}}},

	{Method: "GET", Path: "/fields/{entity}", Tag: "Customization", Summary: "Every standard and custom field of a record type, with labels per language, options and flags.",
		Examples: []apiExample{{Path: "/fields/contacts", Status: 200}}},
	{Method: "POST", Path: "/fields/{entity}", Tag: "Customization", Summary: "Add a custom field. 201.",
		Examples: []apiExample{{Path: "/fields/contacts", Body: `{"key":"member_no","type":"text","label":{"ca":"Número de soci","en":"Member number"},"unique":true}`, Status: 201}}},
	{Method: "PATCH", Path: "/fields/{entity}/{key}", Tag: "Customization", Summary: "Change a field's labels, flags, section, position or options.",
		Examples: []apiExample{{Path: "/fields/contacts/member_no", Body: `{"label":{"es":"Número de socio"},"list":true}`, Status: 200}}},
	{Method: "DELETE", Path: "/fields/{entity}/{key}", Tag: "Customization", Summary: "Remove a custom field, keeping its values. 204.",
		Examples: []apiExample{{Path: "/fields/contacts/member_no", Status: 204}}},

	{Method: "GET", Path: "/templates", Tag: "E-mail", Summary: "E-mail templates.",
		Params:   []apiParam{{"entity", "templates for this record type"}},
		Examples: []apiExample{{Path: "/templates", Status: 200}}},
	{Method: "POST", Path: "/templates", Tag: "E-mail", Summary: "Create an e-mail template with merge fields such as {{contact.first_name}}. 201.",
		Examples: []apiExample{{Path: "/templates", Body: `{"name":"Seguiment","language":"ca","entity":"contacts","subject":"Com va, {{contact.first_name}}?","body":"Hola {{contact.first_name}},\n\n{{owner.name}}"}`, Status: 201, Save: "template"}}},
	{Method: "GET", Path: "/outbox", Tag: "E-mail", Summary: "Outgoing e-mail with its state (administrators).",
		Examples: []apiExample{{Path: "/outbox", Status: 200}}},
	{Method: "GET", Path: "/inbox", Tag: "E-mail", Summary: "Messages from the e-mail dropbox; by default those waiting to be linked.",
		Params:   []apiParam{{"status", "unmatched, logged or discarded"}},
		Examples: []apiExample{{Path: "/inbox", Status: 200}}},
	{Method: "GET", Path: "/notifications", Tag: "E-mail", Summary: "The token user's notifications, newest first.",
		Params:   []apiParam{{"unread", "1: only unread"}, {"before", "older than this id"}, {"limit", "how many"}},
		Examples: []apiExample{{Path: "/notifications?unread=1", Status: 200}}},
	{Method: "POST", Path: "/notifications/read", Tag: "E-mail", Summary: "Mark notifications read: {\"ids\":[…]} or all.",
		Examples: []apiExample{{Path: "/notifications/read", Body: `{"all":true}`, Status: 200}}},

	{Method: "POST", Path: "/segments", Tag: "Marketing", Summary: "Create a segment of contacts or leads: dynamic conditions (fields, custom.KEY, tag, account.KEY, no_activity_days, won_deal_days) or a static list (\"kind\":\"static\"). 201 with its live count.",
		Examples: []apiExample{
			{Path: "/segments", Body: `{"name":"Compradors","entity":"contacts","conditions":[{"field":"tag","op":"has","value":"Compres"}]}`, Status: 201, Save: "segment"},
			{Path: "/segments", Body: `{"name":"Fira 2026","entity":"contacts","kind":"static"}`, Status: 201, Save: "list"},
		}},
	{Method: "GET", Path: "/segments", Tag: "Marketing", Summary: "The segments the token user may see.",
		Examples: []apiExample{{Path: "/segments", Status: 200}}},
	{Method: "GET", Path: "/segments/{id}", Tag: "Marketing", Summary: "One segment with its live count.",
		Examples: []apiExample{{Path: "/segments/{segment}", Status: 200}}},
	{Method: "POST", Path: "/segments/{id}/members", Tag: "Marketing", Summary: "Add records to or remove them from a static list.",
		Examples: []apiExample{{Path: "/segments/{list}/members", Body: `{"add":["{contact}"]}`, Status: 200}}},
	{Method: "GET", Path: "/segments/{id}/members", Tag: "Marketing", Summary: "A segment's members as records, by id.",
		Params:   []apiParam{{"after", "members after this id"}, {"limit", "how many"}},
		Examples: []apiExample{{Path: "/segments/{segment}/members", Status: 200}}},
	{Method: "POST", Path: "/campaigns", Tag: "Marketing", Summary: "Create an e-mail campaign to a segment with a template (by name: each recipient gets its version in their language); without \"schedule\" it is a draft. 201.",
		Examples: []apiExample{{Path: "/campaigns", Body: `{"name":"Novetats de tardor","segment_id":"{segment}","template_name":"Seguiment","per_minute":60}`, Status: 201, Save: "campaign"}}},
	{Method: "GET", Path: "/campaigns", Tag: "Marketing", Summary: "Campaigns, newest first.",
		Examples: []apiExample{{Path: "/campaigns", Status: 200}}},
	{Method: "GET", Path: "/campaigns/{id}", Tag: "Marketing", Summary: "One campaign.",
		Examples: []apiExample{{Path: "/campaigns/{campaign}", Status: 200}}},
	{Method: "POST", Path: "/campaigns/{id}/{action}", Tag: "Marketing", Summary: "action schedule ({\"schedule\":\"now\"} or an RFC 3339 time; needs [server] base_url), cancel, or test (to the token user's address).",
		Examples: []apiExample{{Path: "/campaigns/{campaign}/cancel", Status: 200}}},
	{Method: "GET", Path: "/campaigns/{id}/stats", Tag: "Marketing", Summary: "The campaign report: sent, failed, opened, clicked, unsubscribed, leads and opportunities, per recipient and in total.",
		Params:   []apiParam{{"after", "recipients after this record id"}, {"limit", "how many"}},
		Examples: []apiExample{{Path: "/campaigns/{campaign}/stats", Status: 200}}},
	{Method: "POST", Path: "/workflows", Tag: "Automation", Summary: "Create a workflow rule: trigger, conditions, actions (see README, Workflow rules). 201.",
		Examples: []apiExample{{Path: "/workflows", Body: `{"name":"Seguiment","entity":"contacts","enabled":true,"trigger":{"type":"time_after","event":"created","delay":"3d"},"conditions":[{"field":"email","op":"not_empty"}],"actions":[{"type":"send_email","to":"record","template_id":"{template}"}]}`, Status: 201, Save: "workflow"}}},
	{Method: "GET", Path: "/workflows", Tag: "Automation", Summary: "Every workflow rule.",
		Examples: []apiExample{{Path: "/workflows", Status: 200}}},
	{Method: "GET", Path: "/workflows/{id}", Tag: "Automation", Summary: "One rule.",
		Examples: []apiExample{{Path: "/workflows/{workflow}", Status: 200}}},
	{Method: "PATCH", Path: "/workflows/{id}", Tag: "Automation", Summary: "Change a rule; \"enabled\" switches it (with \"include_existing\").",
		Examples: []apiExample{{Path: "/workflows/{workflow}", Body: `{"name":"Seguiment a 3 dies","enabled":false}`, Status: 200}}},
	{Method: "POST", Path: "/workflows/{id}/test", Tag: "Automation", Summary: "Dry run of a rule against a record: what each action would do; nothing changes.",
		Examples: []apiExample{{Path: "/workflows/{workflow}/test", Body: `{"record_id":"{contact}"}`, Status: 200}}},
	{Method: "GET", Path: "/workflows/{id}/runs", Tag: "Automation", Summary: "A rule's run log, newest first.",
		Params:   []apiParam{{"limit", "how many"}},
		Examples: []apiExample{{Path: "/workflows/{workflow}/runs", Status: 200}}},
	{Method: "DELETE", Path: "/workflows/{id}", Tag: "Automation", Summary: "Remove a rule. 204.",
		Examples: []apiExample{{Path: "/workflows/{workflow}", Status: 204}}},

	{Method: "POST", Path: "/imports", Tag: "Imports", Summary: "Import a CSV, .xlsx or .vcf file (multipart: file, entity, mapping, on_duplicate, match_on, dry_run, skip_invalid, automation). 202; the import runs in the background.",
		Examples: []apiExample{{Path: "/imports", Form: map[string]string{"entity": "contacts", "on_duplicate": "skip"}, File: "Nom,Cognoms,Correu electrònic\nMarta,Puig,marta@example.com\n", Status: 202, Save: "import"}}},
	{Method: "GET", Path: "/imports/{id}", Tag: "Imports", Summary: "An import's status, progress, counts and row errors.",
		Examples: []apiExample{{Path: "/imports/{import}", Status: 200}}},
	{Method: "POST", Path: "/imports/{id}/undo", Tag: "Imports", Summary: "Undo a finished import.",
		Examples: []apiExample{{Path: "/imports/{import}/undo", Status: 200}}},

	{Method: "GET", Path: "/reports", Tag: "Reports", Summary: "The standard reports and the custom report endpoint.",
		Examples: []apiExample{{Path: "/reports", Status: 200}}},
	{Method: "GET", Path: "/reports/{key}", Tag: "Reports", Summary: "A standard report as {\"columns\",\"rows\",…}; format=csv or xlsx for a file.",
		Params:   []apiParam{{"from", "first day (YYYY-MM-DD)"}, {"to", "last day"}, {"owner_id", "one owner"}, {"team_id", "one team"}, {"format", "csv or xlsx"}},
		Examples: []apiExample{{Path: "/reports/pipeline", Status: 200}}},
	{Method: "GET", Path: "/reports/custom", Tag: "Reports", Summary: "A custom report: group by up to two fields, with a measure.",
		Params:   []apiParam{{"entity", "record type"}, {"group", "up to two fields, comma-separated"}, {"measure", "count, sum:FIELD, avg:FIELD, min:FIELD, max:FIELD"}, {"bucket", "day, week, month, quarter or year for date groups"}},
		Examples: []apiExample{{Path: "/reports/custom?entity=contacts&group=owner&measure=count", Status: 200}}},
	{Method: "POST", Path: "/reports", Tag: "Reports", Summary: "Save a custom report (entity, filters, tags, owner, up to two groupings with date buckets, measures, sort, chart, roles it is shared with). 201.",
		Examples: []apiExample{{Path: "/reports", Body: `{"name":"Contactes per mes","entity":"contacts","group":[{"field":"created_at","bucket":"month"}],"measures":[{"op":"count"}],"chart":"bar","roles":["salesperson"]}`, Status: 201, Save: "saved"}}},
	{Method: "GET", Path: "/reports/saved/{id}", Tag: "Reports", Summary: "Run a saved report under the token user's permissions.",
		Examples: []apiExample{{Path: "/reports/saved/{saved}", Status: 200}}},
	{Method: "GET", Path: "/dashboard", Tag: "Reports", Summary: "The token user's dashboard widgets (the role's default until changed).",
		Examples: []apiExample{{Path: "/dashboard", Status: 200}}},
	{Method: "PUT", Path: "/dashboard", Tag: "Reports", Summary: "Replace the dashboard's widgets (at most 12), or {\"widgets\":null} for the role's default.",
		Examples: []apiExample{{Path: "/dashboard", Body: `{"widgets":[{"kind":"standard","ref":"pipeline","params":""},{"kind":"list","ref":"tasks_today","params":""}]}`, Status: 200}}},
	{Method: "GET", Path: "/goals", Tag: "Reports", Summary: "The goals the token user may see.",
		Examples: []apiExample{{Path: "/goals", Status: 200}}},
	{Method: "GET", Path: "/{entity}/{id}/export", Tag: "Privacy", Summary: "Everything held about a contact or lead (entity contacts or leads), as JSON: the right of access (privacy capability).",
		Examples: []apiExample{{Path: "/contacts/{contact}/export", Status: 200}}},
	{Method: "POST", Path: "/{entity}/{id}/erase", Tag: "Privacy", Summary: "Erase a contact or lead: personal data anonymised everywhere, business figures kept, the address suppressed (privacy capability).",
		Examples: []apiExample{{Path: "/contacts/{erasee}/erase", Status: 200}}},
	{Method: "POST", Path: "/webhooks", Tag: "Integrations", Summary: "Subscribe a URL to events such as contact.created or opportunity.won; the answer shows the signing secret once. A target the guard refuses (loopback, private, link-local) is a 422 naming the reason. 201.",
		Examples: []apiExample{{Path: "/webhooks", Body: `{"url":"https://erp.example.com/cartera-hooks","events":["contact.created","opportunity.won"]}`, Status: 201, Save: "webhook"}}},
	{Method: "GET", Path: "/webhooks", Tag: "Integrations", Summary: "The webhook subscriptions (secrets are never listed) and every event type.",
		Examples: []apiExample{{Path: "/webhooks", Status: 200}}},
	{Method: "PUT", Path: "/{entity}/external/{system}/{external_id}", Tag: "Integrations", Summary: "Create or update the record another system knows by its own id (accounts, contacts, leads, opportunities); idempotent. 201 when created, 200 when updated; If-Match refuses a stale write (412).",
		Examples: []apiExample{{Path: "/contacts/external/billing/C-1001", Body: `{"first_name":"Jordi","last_name":"Mas","email":"jordi@example.com"}`, Status: 201}, {Path: "/contacts/external/billing/C-1001", Body: `{"first_name":"Jordi","last_name":"Mas","email":"jordi@example.com"}`, Status: 200}}},
	{Method: "GET", Path: "/webhooks/{id}/deliveries", Tag: "Integrations", Summary: "A subscription's deliveries, newest first, with status, attempts and response times.",
		Params:   []apiParam{{"before", "older than this id"}, {"limit", "how many"}},
		Examples: []apiExample{{Path: "/webhooks/{webhook}/deliveries", Status: 200, Save: "delivery:data.0.id"}}},
	{Method: "POST", Path: "/webhooks/{id}/deliveries/{delivery_id}/resend", Tag: "Integrations", Summary: "Send a delivery again (same event id and body). 202.",
		Examples: []apiExample{{Path: "/webhooks/{webhook}/deliveries/{delivery}/resend", Status: 202}}},
	{Method: "DELETE", Path: "/webhooks/{id}", Tag: "Integrations", Summary: "Unsubscribe. 204.",
		Examples: []apiExample{{Path: "/webhooks/{webhook}", Status: 204}}},
	{Method: "POST", Path: "/goals", Tag: "Reports", Summary: "Set a goal for a user or a team. 201.",
		Examples: []apiExample{{Path: "/goals", Body: `{"user_id":"1","metric":"won_amount","period":"quarter","start":"2030-Q1","target":50000}`, Status: 201}}},

	{Method: "POST", Path: "/products", Tag: "Quotes", Summary: "Add a product or service to the catalogue (settings permission); amounts and rates as decimal strings or numbers, tax_rate one of the firm's rates in percent. 201.",
		Examples: []apiExample{{Path: "/products", Body: `{"code":"CAD-01","name":"Cadira ergonòmica","unit_price":"149.90","tax_rate":"21","unit":"u"}`, Status: 201, Save: "product"}}},
	{Method: "GET", Path: "/products", Tag: "Quotes", Summary: "The product catalogue by name.",
		Params:   []apiParam{{"q", "code or name contains"}, {"active", "1: only active products"}},
		Examples: []apiExample{{Path: "/products?q=cad", Status: 200}}},
	{Method: "POST", Path: "/quotes", Tag: "Quotes", Summary: "Create a draft quote on an opportunity, numbered PREFIX+year+sequence; a line with product_id takes the product's description, price and rate unless given. Amounts are exact decimal strings; each line is rounded to the cent, then summed. 201.",
		Examples: []apiExample{{Path: "/quotes", Body: `{"opportunity_id":"{opportunity}","notes":"Instal·lació inclosa","lines":[{"product_id":"{product}","quantity":"4"},{"description":"Muntatge","quantity":"2.5","unit_price":"35.50","discount":"10","tax_rate":"21"}]}`, Status: 201, Save: "quote"}}},
	{Method: "GET", Path: "/quotes", Tag: "Quotes", Summary: "Quotes the token user may see (their opportunities' scope), newest first, without lines.",
		Params:   []apiParam{{"opportunity_id", "one opportunity's quotes"}, {"status", "draft, sent, accepted, rejected or expired"}},
		Examples: []apiExample{{Path: "/quotes?opportunity_id={opportunity}", Status: 200}}},
	{Method: "GET", Path: "/quotes/{id}", Tag: "Quotes", Summary: "One quote with its lines, totals per tax rate and grand total.",
		Examples: []apiExample{{Path: "/quotes/{quote}", Status: 200}}},
	{Method: "PATCH", Path: "/quotes/{id}", Tag: "Quotes", Summary: "Change a draft's dates, notes, terms or lines (lines replace all); or, alone, its status — accepted with set_amount and stage updates the opportunity.",
		Examples: []apiExample{{Path: "/quotes/{quote}", Body: `{"terms":"Pagament a 30 dies"}`, Status: 200}}},
	{Method: "GET", Path: "/quotes/{id}/pdf", Tag: "Quotes", Summary: "The quote as a PDF in the company's language (application/pdf).",
		Examples: []apiExample{{Path: "/quotes/{quote}/pdf", Status: 200}}},
	{Method: "POST", Path: "/quotes/{id}/send", Tag: "Quotes", Summary: "E-mail the quote through the outbox with a signed link to its PDF (valid 30 days), log it on the opportunity and mark it sent; to, subject and message default to the contact's address and the company-language text.",
		Examples: []apiExample{{Path: "/quotes/{quote}/send", Body: `{}`, Status: 200}}},
}

// routeVar matches a path variable of the document.
var routeVar = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPIPath writes a mux route template the way the document does:
// "{system:[a-z]{0,39}}" becomes "{system}", nested braces included.
func openAPIPath(tpl string) string {
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		if tpl[i] != '{' {
			b.WriteByte(tpl[i])
			continue
		}
		depth, name, inName := 0, "", true
		for ; i < len(tpl); i++ {
			switch c := tpl[i]; {
			case c == '{':
				depth++
			case c == '}':
				depth--
			case c == ':' && depth == 1:
				inName = false
			case inName && depth == 1:
				name += string(c)
			}
			if depth == 0 {
				break
			}
		}
		b.WriteString("{" + name + "}")
	}
	return b.String()
}

// openAPIDoc builds the OpenAPI 3.1 document from apiOps.
func openAPIDoc() map[string]any {
	paths := map[string]map[string]any{}
	for _, op := range apiOps {
		item := paths[op.Path]
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		o := map[string]any{"summary": op.Summary, "tags": []string{op.Tag}, "operationId": strings.ToLower(op.Method) + strings.NewReplacer("/", "_", "{", "", "}", "").Replace(op.Path)}
		var params []map[string]any
		for _, m := range routeVar.FindAllStringSubmatch(op.Path, -1) {
			p := map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
			if m[1] == "entity" {
				var enum []string
				for _, e := range store.RecordEntities {
					enum = append(enum, string(e))
				}
				p["schema"] = map[string]any{"type": "string", "enum": enum}
			}
			params = append(params, p)
		}
		for _, q := range op.Params {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "required": false, "description": q.Description, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		responses := map[string]any{}
		for i, ex := range op.Examples {
			if ex.Body != "" {
				var body any
				if json.Unmarshal([]byte(ex.Body), &body) == nil {
					rb, _ := o["requestBody"].(map[string]any)
					if rb == nil {
						rb = map[string]any{"content": map[string]any{"application/json": map[string]any{"examples": map[string]any{}}}}
						o["requestBody"] = rb
					}
					exs := rb["content"].(map[string]any)["application/json"].(map[string]any)["examples"].(map[string]any)
					exs["example"+itoa(int64(i+1))] = map[string]any{"value": body, "summary": ex.Path}
				}
			}
			if ex.Form != nil {
				props := map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}
				for k := range ex.Form {
					props[k] = map[string]any{"type": "string"}
				}
				o["requestBody"] = map[string]any{"content": map[string]any{"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": props}}}}
			}
			responses[itoa(int64(ex.Status))] = map[string]any{"description": http.StatusText(ex.Status)}
		}
		responses["default"] = map[string]any{"description": "An error: {\"error\":{\"code\",\"message\",\"fields\"?}} in the user's language.",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
		o["responses"] = responses
		item[strings.ToLower(op.Method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Cartera API", "version": "1",
			"description": "The JSON API of Cartera. Authenticate with a bearer token from `cartera token create` or the profile page. Ids are strings; records outside the token user's scope answer 404."},
		"servers":  []any{map[string]any{"url": "/api/v1"}},
		"security": []any{map[string]any{"bearer": []string{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object", "properties": map[string]any{
				"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "fields": map[string]any{"type": "object"}}}}}},
		},
		"paths": paths,
	}
}

// openAPIJSON is the document, built once.
var openAPIJSON = func() []byte {
	b, err := json.MarshalIndent(openAPIDoc(), "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}()

// apiOpenAPI serves the OpenAPI document; it needs no token, so tools can
// read it.
func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPIJSON)
}

// apiDocGroup is one tag of the reference page.
type apiDocGroup struct {
	Tag string
	Ops []apiDocOp
}

// apiDocOp is one operation as the reference page shows it.
type apiDocOp struct {
	apiOp
	Example string
}

// apiDocs renders the readable reference from the same table; it is
// public like the document.
func (s *Server) apiDocs(w http.ResponseWriter, r *http.Request) {
	var groups []apiDocGroup
	idx := map[string]int{}
	for _, op := range apiOps {
		i, ok := idx[op.Tag]
		if !ok {
			i = len(groups)
			idx[op.Tag] = i
			groups = append(groups, apiDocGroup{Tag: op.Tag})
		}
		d := apiDocOp{apiOp: op}
		if len(op.Examples) > 0 && op.Examples[0].Body != "" {
			var buf bytes.Buffer
			if json.Indent(&buf, []byte(op.Examples[0].Body), "", "  ") == nil {
				d.Example = buf.String()
			}
		}
		groups[i].Ops = append(groups[i].Ops, d)
	}
	p := s.newPage(r, "apidocs.title")
	p.Data = groups
	s.render(w, r, http.StatusOK, "api_docs", p)
}

// apiRoutes lists the router's API operations as "METHOD /path", for the
// test that keeps the reference complete.
func (s *Server) apiRoutes() []string {
	var out []string
	s.router.Walk(func(route *mux.Route, router *mux.Router, ancestors []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil || !strings.HasPrefix(tpl, "/api/v1/") {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			out = append(out, m+" "+openAPIPath(strings.TrimPrefix(tpl, "/api/v1")))
		}
		return nil
	})
	sort.Strings(out)
	return out
}
