package store

import "slices"

// Kind is a field's data type; it decides validation, storage and display.
type Kind string

// The field kinds of standard and custom fields.
const (
	KText     Kind = "text"
	KLongText Kind = "long_text"
	KNumber   Kind = "number"
	KMoney    Kind = "money"
	KDate     Kind = "date"
	KDateTime Kind = "datetime"
	KBool     Kind = "checkbox"
	KEmail    Kind = "email"
	KPhone    Kind = "phone"
	KURL      Kind = "url"
	KSelect   Kind = "select"
	KRef      Kind = "link"
)

// EntUsers is the target of owner and assignee references; it is not a
// permission entity.
const EntUsers Entity = "users"

// Field describes one standard field of an entity. One description drives
// validation, SQL, history, search, forms, lists and the API, so the seven
// record types behave alike.
type Field struct {
	Key      string // API, form and history name
	Column   string // SQL column (default: Key)
	Kind     Kind
	Required bool
	Max      int    // maximum characters for text kinds
	Picklist string // options of a select
	Ref      Entity // target of a link
	ReadOnly bool   // set by the store only; refused in writes
	List     bool   // shown as a list column by default
	Sort     string // sortable: the column to order by
	Filter   bool   // offered as a list filter
	Search   bool   // part of the full-text body
	Min, Top int64  // bounds of numbers
	// Hidden is set by the firm for a field it does not use: left off
	// forms, lists and pages, kept in the API and the data.
	Hidden bool
	opts   []Option // the firm's options of a select (nil: built-in)
	custom bool
}

// options returns the choices of a select field.
func (f Field) options() []Option {
	if f.opts != nil {
		return f.opts
	}
	return picklists[f.Picklist]
}

// Options returns the choices of a select field, retired ones included.
func (f Field) Options() []Option { return f.options() }

func (f Field) option(key string) (Option, bool) {
	for _, o := range f.options() {
		if o.Key == key {
			return o, true
		}
	}
	return Option{}, false
}

func (f Field) column() string {
	if f.Column != "" {
		return f.Column
	}
	return f.Key
}

// EntityDef describes a record type.
type EntityDef struct {
	Entity     Entity
	Table      string
	Fields     []Field
	Tagged     bool
	Searchable bool
	searchCode int64
	// OwnerKey is what the API and forms call the owner: owner_id, or
	// assignee_id for tasks and cases.
	OwnerKey string
	// TitleKeys are the fields joined to make a record's display title.
	TitleKeys   []string
	DefaultSort string
	// Custom are the firm's active custom fields, in form order.
	Custom []*CustomField
	schema *Schema
}

// CustomField returns an active custom field by key.
func (d *EntityDef) CustomField(key string) (*CustomField, bool) {
	for _, c := range d.Custom {
		if c.Key == key {
			return c, true
		}
	}
	return nil, false
}

// Field returns the named field and whether it exists.
func (d *EntityDef) Field(key string) (Field, bool) {
	for _, f := range d.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// linkFields are the record links activities and tasks carry.
var linkFields = []Field{
	{Key: "account_id", Kind: KRef, Ref: EntAccounts, Filter: true},
	{Key: "contact_id", Kind: KRef, Ref: EntContacts, Filter: true},
	{Key: "lead_id", Kind: KRef, Ref: EntLeads, Filter: true},
	{Key: "opportunity_id", Kind: KRef, Ref: EntOpportunities, Filter: true},
	{Key: "case_id", Kind: KRef, Ref: EntCases, Filter: true},
}

// defs holds the description of every record type.
var defs = map[Entity]*EntityDef{
	EntAccounts: {
		Entity: EntAccounts, Table: "accounts", Tagged: true, Searchable: true, searchCode: 1, OwnerKey: "owner_id",
		TitleKeys: []string{"name"}, DefaultSort: "name",
		Fields: []Field{
			{Key: "name", Kind: KText, Required: true, Max: 200, List: true, Sort: "name_key", Search: true},
			{Key: "type", Kind: KSelect, Picklist: "account_type", List: true, Filter: true},
			{Key: "sector", Kind: KSelect, Picklist: "sector", List: true, Filter: true},
			{Key: "origin", Kind: KSelect, Picklist: "source", Filter: true},
			{Key: "customer_type", Kind: KSelect, Picklist: "customer_type", Filter: true},
			{Key: "potential", Kind: KSelect, Picklist: "potential", Filter: true},
			{Key: "address", Kind: KText, Max: 300},
			{Key: "city", Kind: KText, Max: 100, List: true, Filter: true, Search: true},
			{Key: "region", Kind: KText, Max: 100, Filter: true},
			{Key: "postal_code", Kind: KText, Max: 20},
			{Key: "country", Kind: KText, Max: 100},
			{Key: "phone", Kind: KPhone, Max: 50, List: true, Search: true},
			{Key: "email", Kind: KEmail, Max: 254, Search: true},
			{Key: "website", Kind: KURL, Max: 300},
			{Key: "tax_id", Kind: KText, Max: 30, Search: true},
			{Key: "notes", Kind: KLongText, Max: 20000},
		},
	},
	EntContacts: {
		Entity: EntContacts, Table: "contacts", Tagged: true, Searchable: true, searchCode: 2, OwnerKey: "owner_id",
		TitleKeys: []string{"first_name", "last_name"}, DefaultSort: "name",
		Fields: []Field{
			{Key: "first_name", Kind: KText, Max: 100, List: true, Search: true},
			{Key: "last_name", Kind: KText, Max: 100, List: true, Search: true},
			{Key: "email", Kind: KEmail, Max: 254, List: true, Search: true},
			{Key: "phone", Kind: KPhone, Max: 50, List: true, Search: true},
			{Key: "mobile", Kind: KPhone, Max: 50, Search: true},
			{Key: "title", Kind: KText, Max: 100, List: true, Filter: true, Search: true},
			{Key: "account_id", Kind: KRef, Ref: EntAccounts, List: true, Filter: true},
			{Key: "notes", Kind: KLongText, Max: 20000},
			consentField, consentAtField, consentSourceField, languageField,
		},
	},
	EntLeads: {
		Entity: EntLeads, Table: "leads", Tagged: true, Searchable: true, searchCode: 3, OwnerKey: "owner_id",
		TitleKeys: []string{"first_name", "last_name"}, DefaultSort: "name",
		Fields: []Field{
			{Key: "first_name", Kind: KText, Max: 100, List: true, Search: true},
			{Key: "last_name", Kind: KText, Max: 100, List: true, Search: true},
			{Key: "company", Kind: KText, Max: 200, List: true, Search: true},
			{Key: "email", Kind: KEmail, Max: 254, List: true, Search: true},
			{Key: "phone", Kind: KPhone, Max: 50, Search: true},
			{Key: "title", Kind: KText, Max: 100, Filter: true, Search: true},
			{Key: "source", Kind: KSelect, Picklist: "source", List: true, Filter: true},
			{Key: "status", Kind: KSelect, Picklist: "lead_status", List: true, Filter: true},
			{Key: "notes", Kind: KLongText, Max: 20000},
			{Key: "converted_account_id", Kind: KRef, Ref: EntAccounts, ReadOnly: true},
			{Key: "converted_contact_id", Kind: KRef, Ref: EntContacts, ReadOnly: true},
			{Key: "converted_opportunity_id", Kind: KRef, Ref: EntOpportunities, ReadOnly: true},
			consentField, consentAtField, consentSourceField, languageField,
		},
	},
	EntOpportunities: {
		Entity: EntOpportunities, Table: "opportunities", Tagged: true, Searchable: true, searchCode: 4, OwnerKey: "owner_id",
		TitleKeys: []string{"name"}, DefaultSort: "name",
		Fields: []Field{
			{Key: "name", Kind: KText, Required: true, Max: 200, List: true, Sort: "name_key", Search: true},
			{Key: "account_id", Kind: KRef, Ref: EntAccounts, List: true, Filter: true},
			{Key: "contact_id", Kind: KRef, Ref: EntContacts, Filter: true},
			{Key: "amount", Column: "amount_cents", Kind: KMoney, List: true, Sort: "amount_cents", Min: 0, Top: 1e13},
			{Key: "currency", Kind: KText, Max: 3},
			{Key: "pipeline", Kind: KSelect, Picklist: "pipeline", Filter: true},
			{Key: "stage", Kind: KSelect, Picklist: "stage", List: true, Filter: true},
			{Key: "probability", Kind: KNumber, Min: 0, Top: 100},
			{Key: "expected_close_date", Kind: KDate, List: true, Sort: "expected_close_date"},
			{Key: "forecast_category", Kind: KSelect, Picklist: "forecast_category", Filter: true},
			{Key: "lost_reason", Kind: KSelect, Picklist: "lost_reason", Filter: true},
			// The state of the opportunity's quotes (store/quotes.go), for
			// workflow rules such as the quote follow-up.
			{Key: "quote_status", Kind: KSelect, Picklist: "quote_status", ReadOnly: true, Filter: true},
			{Key: "quote_sent_at", Kind: KDateTime, ReadOnly: true},
		},
	},
	EntActivities: {
		Entity: EntActivities, Table: "activities", OwnerKey: "owner_id",
		TitleKeys: []string{"subject"}, DefaultSort: "-occurred_at",
		Fields: append([]Field{
			{Key: "type", Kind: KSelect, Picklist: "activity_type", Required: true, List: true, Filter: true},
			{Key: "occurred_at", Kind: KDateTime, Required: true, List: true, Sort: "occurred_at"},
			{Key: "subject", Kind: KText, Required: true, Max: 300, List: true},
			{Key: "description", Kind: KLongText, Max: 50000},
			{Key: "objective", Kind: KSelect, Picklist: "activity_objective", Filter: true},
			{Key: "outcome", Kind: KSelect, Picklist: "activity_outcome", List: true, Filter: true},
		}, linkFields...),
	},
	EntTasks: {
		Entity: EntTasks, Table: "tasks", OwnerKey: "assignee_id",
		TitleKeys: []string{"title"}, DefaultSort: "due_at",
		Fields: append([]Field{
			{Key: "title", Kind: KText, Required: true, Max: 300, List: true, Sort: "name_key"},
			{Key: "description", Kind: KLongText, Max: 20000},
			{Key: "due_at", Kind: KDateTime, List: true, Sort: "due_at"},
			{Key: "priority", Kind: KSelect, Picklist: "task_priority", List: true, Filter: true},
			{Key: "status", Kind: KSelect, Picklist: "task_status", List: true, Filter: true},
			{Key: "remind_before", Kind: KSelect, Picklist: "task_reminder"},
		}, linkFields...),
	},
	EntCases: {
		Entity: EntCases, Table: "cases", Searchable: true, searchCode: 5, OwnerKey: "assignee_id",
		TitleKeys: []string{"subject"}, DefaultSort: "-updated_at",
		Fields: []Field{
			{Key: "subject", Kind: KText, Required: true, Max: 300, List: true, Sort: "name_key", Search: true},
			{Key: "description", Kind: KLongText, Max: 50000, Search: true},
			{Key: "account_id", Kind: KRef, Ref: EntAccounts, List: true, Filter: true},
			{Key: "contact_id", Kind: KRef, Ref: EntContacts, Filter: true},
			{Key: "status", Kind: KSelect, Picklist: "case_status", List: true, Filter: true},
			{Key: "priority", Kind: KSelect, Picklist: "case_priority", List: true, Filter: true},
			{Key: "category", Kind: KSelect, Picklist: "case_category", Filter: true},
			{Key: "resolved_at", Kind: KDateTime, ReadOnly: true},
			{Key: "closed_at", Kind: KDateTime, ReadOnly: true},
			// Service (store/service.go): the team queue, the SLA due times
			// and first response, and the satisfaction score.
			{Key: "queue", Kind: KSelect, Picklist: CaseQueueList, List: true, Filter: true},
			{Key: "first_response_due_at", Kind: KDateTime, ReadOnly: true},
			{Key: "first_response_at", Kind: KDateTime, ReadOnly: true},
			{Key: "resolution_due_at", Kind: KDateTime, ReadOnly: true, List: true, Sort: "resolution_due_at"},
			{Key: "sla_warning_at", Kind: KDateTime, ReadOnly: true},
			{Key: "satisfaction", Kind: KNumber, ReadOnly: true, Min: 0, Top: 5},
		},
	},
}

// RecordEntities lists the record types in navigation order.
var RecordEntities = []Entity{EntAccounts, EntContacts, EntLeads, EntOpportunities, EntActivities, EntTasks, EntCases}

// Def returns the description of a record type, or nil for an unknown one.
func Def(e Entity) *EntityDef { return defs[e] }

// Option is one choice of a picklist; Key is stored, the label is the i18n
// key "opt.PICKLIST.KEY".
type Option struct {
	Key string
	// Probability is the default probability of a pipeline stage.
	Probability int64
	// StageKind is open, won or lost for pipeline stages, and open,
	// resolved or closed for case statuses.
	StageKind string
	// Labels are the firm's names for the option; empty languages use the
	// catalog key "opt.PICKLIST.KEY".
	Labels Labels
	// Retired options stay on old records but are not offered for new ones.
	Retired bool
}

// picklists are the built-in options of every selector. Admins will edit
// them (customization issue); keys stay stable so data never breaks.
var picklists = map[string][]Option{
	"account_type":       opts("customer", "prospect", "partner", "competitor", "other"),
	"sector":             opts("retail", "manufacturing", "services", "hospitality", "construction", "technology", "health", "education", "public_sector", "agriculture", "transport", "other"),
	"source":             opts("web_form", "event", "referral", "advertising", "cold_call", "import", "other"),
	"customer_type":      opts("business", "individual", "public_administration", "nonprofit"),
	"potential":          opts("high", "medium", "low"),
	"marketing_consent":  opts(ConsentUnknown, ConsentOptedIn, ConsentOptedOut),
	"contact_language":   opts("ca", "es", "en"),
	"lead_status":        opts("new", "contacted", "qualified", "disqualified", "converted"),
	"forecast_category":  opts("pipeline", "best_case", "commit", "closed", "omitted"),
	"lost_reason":        opts("price", "competitor", "no_budget", "no_decision", "timing", "other"),
	"contact_role":       opts("decision_maker", "influencer", "user", "other"),
	"activity_type":      opts("call", "email", "meeting", "visit", "note"),
	"activity_objective": opts("first_contact", "follow_up", "presentation", "offer", "negotiation", "closing", "support", "other"),
	"activity_outcome":   opts("positive", "neutral", "negative", "no_answer", "pending"),
	"task_priority":      opts("low", "normal", "high"),
	"task_status":        opts("open", "done", "cancelled"),
	// task_reminder is how long before the due time the assignee is
	// reminded ("0": at the due time; empty: no reminder).
	"task_reminder": opts("0", "5m", "15m", "30m", "1h", "1d"),
	"case_status": {
		{Key: "new", StageKind: "open"}, {Key: "in_progress", StageKind: "open"}, {Key: "waiting", StageKind: "open"},
		{Key: "resolved", StageKind: "resolved"}, {Key: "closed", StageKind: "closed"},
	},
	"pipeline":      opts(DefaultPipeline),
	"case_priority": opts("low", "normal", "high", "urgent"),
	"quote_status":  opts("draft", "sent", "accepted", "rejected", "expired"),
	"case_category": opts("question", "problem", "complaint", "request", "other"),
	"stage": {
		{Key: "reception", Probability: 10, StageKind: "open"},
		{Key: "qualification", Probability: 20, StageKind: "open"},
		{Key: "proposal", Probability: 50, StageKind: "open"},
		{Key: "negotiation", Probability: 75, StageKind: "open"},
		{Key: "won", Probability: 100, StageKind: "won"},
		{Key: "lost", Probability: 0, StageKind: "lost"},
	},
}

func opts(keys ...string) []Option {
	out := make([]Option, len(keys))
	for i, k := range keys {
		out[i] = Option{Key: k}
	}
	return out
}

// Picklist returns the options of a picklist, in display order.
func Picklist(name string) []Option { return picklists[name] }

// PicklistNames lists every picklist, for catalogs and tests.
func PicklistNames() []string {
	var out []string
	for k := range picklists {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
