package store

import (
	"context"
	"database/sql"
)

// The keys of the setup checklist's steps, in the order of seed 000's
// initial configuration.
const (
	StepCompany   = "company"
	StepLocale    = "locale"
	StepRoles     = "roles"
	StepFields    = "fields"
	StepForms     = "forms"
	StepImport    = "import"
	StepWorkflows = "workflows"
	StepEmail     = "email"
	StepContact   = "contact"
	StepUsers     = "users"
)

// importRecordThreshold is how many live records created by someone other
// than the first administrator count as "data was imported" until the
// importer writes its own audit entries.
const importRecordThreshold = 50

// ChecklistStep is one step of the "Getting started" checklist.
type ChecklistStep struct {
	// Key names the step (StepCompany…); its title and help are the i18n
	// keys "checklist.step.KEY" and "checklist.step.KEY_help".
	Key string
	// Done is true when the data shows the step has been carried out.
	Done bool
	// Href is the page where the step is done, "" when there is none.
	Href string
	// Later marks a step whose feature comes in a later version.
	Later bool
}

// Title returns the i18n key of the step's title.
func (st ChecklistStep) Title() string { return "checklist.step." + st.Key }

// Help returns the i18n key of the step's one-line help.
func (st ChecklistStep) Help() string { return "checklist.step." + st.Key + "_help" }

// Checklist is the state of the setup checklist of seed 000: each step
// ticks itself when the data shows it is done.
type Checklist struct {
	Steps []*ChecklistStep
	// Dismissed is true once an administrator has hidden the checklist.
	Dismissed bool
}

// Done counts the steps that are done.
func (c *Checklist) Done() int {
	n := 0
	for _, st := range c.Steps {
		if st.Done {
			n++
		}
	}
	return n
}

// Total counts the steps.
func (c *Checklist) Total() int { return len(c.Steps) }

// Complete reports whether every step is done.
func (c *Checklist) Complete() bool { return c.Done() == c.Total() }

// Step returns the step with a key, or nil.
func (c *Checklist) Step(key string) *ChecklistStep {
	for _, st := range c.Steps {
		if st.Key == key {
			return st
		}
	}
	return nil
}

// Set marks a step done or not; front ends use it for what only they know,
// such as whether the server has an SMTP server configured (StepEmail).
func (c *Checklist) Set(key string, done bool) {
	if st := c.Step(key); st != nil {
		st.Done = done
	}
}

// Checklist computes the setup checklist from the data in one read
// transaction; it needs the settings capability. StepEmail is never done
// here: the store cannot see the server's mail configuration, so the
// caller sets it with Checklist.Set.
//
// The rules: company information is done when the company has an address,
// phone or tax id besides its name; time zone and language when both are
// set (setup sets them); roles when a custom role or a second user exists;
// custom fields when one is not removed; forms when a web form exists; data
// import when the audit log has an "import" (or bulk "load") entry or at
// least 50 live records were created by someone other than the first
// administrator; workflows never (a later version); a test contact when a
// live contact exists; invite users when two users are active.
func (s *Store) Checklist(ctx context.Context, a *Actor) (*Checklist, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	c := &Checklist{Steps: []*ChecklistStep{
		{Key: StepCompany, Href: "/settings/company"},
		{Key: StepLocale, Href: "/settings/company"},
		{Key: StepRoles, Href: "/settings/roles"},
		{Key: StepFields, Href: "/settings/fields"},
		{Key: StepForms, Href: "/settings/forms"},
		{Key: StepImport, Href: "/import"},
		{Key: StepWorkflows, Later: true},
		{Key: StepEmail},
		{Key: StepContact, Href: "/contacts/new"},
		{Key: StepUsers, Href: "/settings/users"},
	}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var address, phone, taxID, tz, lang string
		if err := tx.QueryRowContext(ctx, `SELECT address, phone, tax_id, timezone, language, checklist_dismissed FROM company WHERE id = 1`).
			Scan(&address, &phone, &taxID, &tz, &lang, &c.Dismissed); err != nil {
			return err
		}
		c.Set(StepCompany, address != "" || phone != "" || taxID != "")
		c.Set(StepLocale, tz != "" && lang != "")

		var users, active, customRoles, firstUser int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(disabled = 0), 0), COALESCE(min(id), 0) FROM users`).
			Scan(&users, &active, &firstUser); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM roles WHERE builtin = 0`).Scan(&customRoles); err != nil {
			return err
		}
		c.Set(StepRoles, customRoles > 0 || users >= 2)
		c.Set(StepUsers, active >= 2)

		var yes bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM custom_fields WHERE removed_at = 0)`).Scan(&yes); err != nil {
			return err
		}
		c.Set(StepFields, yes)
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM web_forms)`).Scan(&yes); err != nil {
			return err
		}
		c.Set(StepForms, yes)
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE deleted_at = 0)`).Scan(&yes); err != nil {
			return err
		}
		c.Set(StepContact, yes)

		imported, err := checklistImported(ctx, tx, firstUser)
		if err != nil {
			return err
		}
		c.Set(StepImport, imported)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// checklistImported applies the data-import rule. Each count stops at the
// threshold, so a large database answers after reading a few rows.
func checklistImported(ctx context.Context, tx *sql.Tx, firstUser int64) (bool, error) {
	n := 0
	for _, e := range RecordEntities {
		var k int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+defs[e].Table+` WHERE deleted_at = 0 AND created_by IS NOT ? LIMIT ?)`,
			firstUser, importRecordThreshold-n).Scan(&k)
		if err != nil {
			return false, err
		}
		if n += k; n >= importRecordThreshold {
			return true, nil
		}
	}
	var yes bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE action IN ('import', 'load'))`).Scan(&yes)
	return yes, err
}

// DismissChecklist hides the setup checklist (dismissed true) or shows it
// again; it needs the settings capability.
func (s *Store) DismissChecklist(ctx context.Context, a *Actor, dismissed bool) error {
	if err := a.require(CapSettings); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE company SET checklist_dismissed = ? WHERE id = 1`, dismissed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "checklist.dismiss", "company", 1, map[string]any{"dismissed": dismissed})
	})
}
