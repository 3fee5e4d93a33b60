package store

import (
	"fmt"
	"slices"
	"strings"
)

// Entity names a kind of record that permissions are granted on.
type Entity string

// The entities a role can be granted actions on.
const (
	EntAccounts      Entity = "accounts"
	EntContacts      Entity = "contacts"
	EntLeads         Entity = "leads"
	EntOpportunities Entity = "opportunities"
	EntActivities    Entity = "activities"
	EntTasks         Entity = "tasks"
	EntCases         Entity = "cases"
	EntSegments      Entity = "segments"
	EntCampaigns     Entity = "campaigns"
	EntReports       Entity = "reports"
)

// Entities lists every entity in the order pages and editors show them.
var Entities = []Entity{EntAccounts, EntContacts, EntLeads, EntOpportunities, EntActivities, EntTasks, EntCases, EntSegments, EntCampaigns, EntReports}

// Action is something a user may do to records of an entity.
type Action string

// The per-entity actions a role grants.
const (
	ActView   Action = "view"
	ActCreate Action = "create"
	ActEdit   Action = "edit"
	ActDelete Action = "delete"
	ActExport Action = "export"
)

// Actions lists every action in display order.
var Actions = []Action{ActView, ActCreate, ActEdit, ActDelete, ActExport}

// Scope says which records an action reaches: none, the actor's own, those
// owned by the actor's team, or all.
type Scope string

// Scopes in increasing reach.
const (
	ScopeNone Scope = ""
	ScopeOwn  Scope = "own"
	ScopeTeam Scope = "team"
	ScopeAll  Scope = "all"
)

// Scopes lists the grantable scopes in increasing reach.
var Scopes = []Scope{ScopeNone, ScopeOwn, ScopeTeam, ScopeAll}

func (s Scope) rank() int {
	switch s {
	case ScopeOwn:
		return 1
	case ScopeTeam:
		return 2
	case ScopeAll:
		return 3
	}
	return 0
}

// Capability is a company-wide power that is not about records.
type Capability string

// The capabilities a role may hold.
const (
	CapSettings   Capability = "settings"
	CapUsers      Capability = "users"
	CapRoles      Capability = "roles"
	CapImport     Capability = "import"
	CapAutomation Capability = "automation"
	CapBackups    Capability = "backups"
	CapAudit      Capability = "audit"
	CapCustomize  Capability = "customize"
)

// Capabilities lists every capability in display order.
var Capabilities = []Capability{CapSettings, CapUsers, CapRoles, CapImport, CapAutomation, CapBackups, CapAudit, CapCustomize}

// Section is a part of the navigation a role may see (seed 004: each
// department sees only the sections it uses).
type Section string

// Sections lists the navigation sections in display order.
var Sections = []Section{"home", "accounts", "contacts", "leads", "opportunities", "activities", "tasks", "cases", "marketing", "reports", "settings"}

// Permissions is what a role grants: a scope per entity and action, and a
// set of capabilities.
type Permissions struct {
	Entities     map[Entity]map[Action]Scope `json:"entities"`
	Capabilities []Capability                `json:"capabilities"`
}

// Scope returns the scope granted for an action on an entity.
func (p Permissions) Scope(e Entity, a Action) Scope {
	return p.Entities[e][a]
}

// Has reports whether the permissions include a capability.
func (p Permissions) Has(c Capability) bool { return slices.Contains(p.Capabilities, c) }

// Covers reports whether p grants at least everything q grants; it is the
// rule that stops anyone granting or editing more than they hold.
func (p Permissions) Covers(q Permissions) bool {
	for e, acts := range q.Entities {
		for a, sc := range acts {
			if sc.rank() > p.Scope(e, a).rank() {
				return false
			}
		}
	}
	for _, c := range q.Capabilities {
		if !p.Has(c) {
			return false
		}
	}
	return true
}

// normalise drops unknown entities, actions, scopes and capabilities and
// reports the first unknown name found, so a role never stores garbage.
func (p Permissions) normalise() (Permissions, string) {
	out := Permissions{Entities: map[Entity]map[Action]Scope{}}
	bad := ""
	for e, acts := range p.Entities {
		if !slices.Contains(Entities, e) {
			bad = string(e)
			continue
		}
		for a, sc := range acts {
			if !slices.Contains(Actions, a) || !slices.Contains(Scopes, sc) {
				bad = fmt.Sprintf("%s.%s", e, a)
				continue
			}
			if sc == ScopeNone {
				continue
			}
			if out.Entities[e] == nil {
				out.Entities[e] = map[Action]Scope{}
			}
			out.Entities[e][a] = sc
		}
	}
	for _, c := range p.Capabilities {
		if !slices.Contains(Capabilities, c) {
			bad = string(c)
			continue
		}
		if !slices.Contains(out.Capabilities, c) {
			out.Capabilities = append(out.Capabilities, c)
		}
	}
	slices.Sort(out.Capabilities)
	return out, bad
}

// allPermissions grants everything; the administrator role and the system
// actor hold it.
func allPermissions() Permissions {
	p := Permissions{Entities: map[Entity]map[Action]Scope{}, Capabilities: slices.Clone(Capabilities)}
	for _, e := range Entities {
		p.Entities[e] = map[Action]Scope{}
		for _, a := range Actions {
			p.Entities[e][a] = ScopeAll
		}
	}
	return p
}

// grant is a compact way to write a role's permissions: "view:all,edit:own".
func grant(spec string) map[Action]Scope {
	m := map[Action]Scope{}
	for _, part := range strings.Split(spec, ",") {
		a, sc, _ := strings.Cut(part, ":")
		m[Action(a)] = Scope(sc)
	}
	return m
}

// builtinRole describes a role created at setup; admins may edit all but the
// administrator role's permissions, which always grant everything.
type builtinRole struct {
	Key         string
	Name        string
	Permissions Permissions
	Sections    []Section
}

// BuiltinRoleKeys are the keys of the roles every Cartera starts with.
var BuiltinRoleKeys = []string{"admin", "salesperson", "service_agent", "marketing"}

func builtinRoles() []builtinRole {
	return []builtinRole{
		{Key: "admin", Name: "Administrator", Permissions: allPermissions(), Sections: slices.Clone(Sections)},
		{Key: "salesperson", Name: "Salesperson", Permissions: Permissions{Entities: map[Entity]map[Action]Scope{
			EntAccounts:      grant("view:all,create:own,edit:own"),
			EntContacts:      grant("view:all,create:own,edit:own"),
			EntLeads:         grant("view:own,create:own,edit:own"),
			EntOpportunities: grant("view:own,create:own,edit:own"),
			EntActivities:    grant("view:own,create:own,edit:own"),
			EntTasks:         grant("view:own,create:own,edit:own"),
			EntReports:       grant("view:own"),
		}}, Sections: []Section{"home", "accounts", "contacts", "leads", "opportunities", "activities", "tasks", "reports"}},
		{Key: "service_agent", Name: "Service agent", Permissions: Permissions{Entities: map[Entity]map[Action]Scope{
			EntAccounts:   grant("view:all"),
			EntContacts:   grant("view:all"),
			EntCases:      grant("view:own,create:own,edit:own"),
			EntActivities: grant("view:own,create:own,edit:own"),
			EntTasks:      grant("view:own,create:own,edit:own"),
			EntReports:    grant("view:own"),
		}}, Sections: []Section{"home", "accounts", "contacts", "cases", "activities", "tasks", "reports"}},
		{Key: "marketing", Name: "Marketing", Permissions: Permissions{Entities: map[Entity]map[Action]Scope{
			EntContacts:  grant("view:all"),
			EntLeads:     grant("view:all,create:all,edit:all,export:all"),
			EntSegments:  grant("view:all,create:all,edit:all,delete:all"),
			EntCampaigns: grant("view:all,create:all,edit:all,delete:all"),
			EntReports:   grant("view:all"),
		}}, Sections: []Section{"home", "contacts", "leads", "marketing", "reports"}},
	}
}

// Actor is whoever performs a store call: a signed-in user, an API token's
// user, or the system (scheduled jobs). Every public store method takes one.
type Actor struct {
	UserID      int64
	Name        string
	Email       string
	RoleKey     string
	TeamID      int64
	Language    string
	Timezone    string
	Permissions Permissions
	Sections    []Section
	// System marks the scheduler's actor, which acts with every permission.
	System bool
}

// SystemActor returns the actor scheduled jobs and migrations act as.
func SystemActor() *Actor {
	return &Actor{Name: "Cartera", System: true, Permissions: allPermissions(), Sections: slices.Clone(Sections)}
}

// Can reports whether the actor's role grants an action on an entity at any
// scope; the UI uses it to hide what the store would refuse anyway.
func (a *Actor) Can(e Entity, act Action) bool {
	return a != nil && a.Permissions.Scope(e, act) != ScopeNone
}

// Has reports whether the actor holds a capability.
func (a *Actor) Has(c Capability) bool { return a != nil && a.Permissions.Has(c) }

// Sees reports whether the navigation shows a section to the actor.
func (a *Actor) Sees(s Section) bool { return a != nil && slices.Contains(a.Sections, s) }

// require returns forbidden unless the actor holds the capability.
func (a *Actor) require(c Capability) error {
	if !a.Has(c) {
		return errForbidden()
	}
	return nil
}

// scopeSQL returns a SQL condition (with its arguments) restricting rows to
// those the actor may act on; ownerCol is the qualified owner column. It is
// the single place where record scope becomes SQL, for lists, search, export
// and reports alike.
func (a *Actor) scopeSQL(e Entity, act Action, ownerCol string) (string, []any) {
	switch a.Permissions.Scope(e, act) {
	case ScopeAll:
		return "1=1", nil
	case ScopeTeam:
		if a.TeamID != 0 {
			return "(" + ownerCol + " = ? OR " + ownerCol + " IN (SELECT id FROM users WHERE team_id = ?))", []any{a.UserID, a.TeamID}
		}
		return ownerCol + " = ?", []any{a.UserID}
	case ScopeOwn:
		return ownerCol + " = ?", []any{a.UserID}
	}
	return "0=1", nil
}

// inScope reports whether a record owned by ownerID (whose team is
// ownerTeam) is within the actor's scope for the action.
func (a *Actor) inScope(e Entity, act Action, ownerID, ownerTeam int64) bool {
	switch a.Permissions.Scope(e, act) {
	case ScopeAll:
		return true
	case ScopeTeam:
		return ownerID == a.UserID || (a.TeamID != 0 && ownerTeam == a.TeamID)
	case ScopeOwn:
		return ownerID == a.UserID
	}
	return false
}

// checkRecord applies the record rule: an action the role lacks is
// forbidden; a record the actor cannot even view is not_found (its existence
// is not revealed); a visible record outside the action's scope is forbidden.
func (a *Actor) checkRecord(e Entity, act Action, ownerID, ownerTeam int64) error {
	if !a.inScope(e, ActView, ownerID, ownerTeam) {
		return errNotFound()
	}
	if !a.Can(e, act) {
		return errForbidden()
	}
	if !a.inScope(e, act, ownerID, ownerTeam) {
		return errForbidden()
	}
	return nil
}

// CheckRecord is checkRecord for tests and callers that already hold a
// record's owner; it never touches the database.
func (a *Actor) CheckRecord(e Entity, act Action, ownerID, ownerTeam int64) error {
	return a.checkRecord(e, act, ownerID, ownerTeam)
}

// auditUser is the user id recorded in the audit log: NULL for the system.
func (a *Actor) auditUser() any {
	if a == nil || a.System || a.UserID == 0 {
		return nil
	}
	return a.UserID
}
