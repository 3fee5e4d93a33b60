package store

import (
	"context"
	"database/sql"
	"time"
)

// Company holds the firm's own details and defaults (seed 000, step 1).
type Company struct {
	Name      string
	Address   string
	Phone     string
	Email     string
	TaxID     string
	Timezone  string
	Language  string
	Currency  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// validate normalises the company in place and returns field errors.
func (c *Company) validate() error {
	fe := fieldErrors{}
	var k string
	if c.Name, k = cleanText(c.Name, true, 200); k != "" {
		fe.add("name", k)
	}
	if c.Address, k = cleanLongText(c.Address, 500); k != "" {
		fe.add("address", k)
	}
	if c.Phone, k = cleanText(c.Phone, false, 50); k != "" {
		fe.add("phone", k)
	}
	if c.Email != "" {
		if c.Email, k = normEmail(c.Email); k != "" {
			fe.add("email", k)
		}
	}
	if c.TaxID, k = cleanText(c.TaxID, false, 50); k != "" {
		fe.add("tax_id", k)
	}
	if !ValidTimezone(c.Timezone) {
		fe.add("timezone", "error.timezone")
	}
	if !ValidLanguage(c.Language) {
		fe.add("language", "error.language")
	}
	if !ValidCurrency(c.Currency) {
		fe.add("currency", "error.currency")
	}
	return fe.err()
}

// SetupInput is everything first-run setup asks for.
type SetupInput struct {
	Company       Company
	AdminName     string
	AdminEmail    string
	AdminPassword string
}

// IsSetUp reports whether first-run setup has been completed.
func (s *Store) IsSetUp(ctx context.Context) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM company`).Scan(&n)
	if err != nil {
		return false, errInternal(err)
	}
	return n > 0, nil
}

// Setup stores the company, creates the built-in roles and the first
// administrator in one transaction; it refuses once the database is set up,
// so nobody can claim an installed Cartera.
func (s *Store) Setup(ctx context.Context, in SetupInput) (*User, error) {
	c := in.Company
	fe := fieldErrors{}
	if err := c.validate(); err != nil {
		for f, k := range err.(*Error).Fields {
			fe.add(f, k)
		}
	}
	ui := UserInput{Name: in.AdminName, Email: in.AdminEmail, Password: in.AdminPassword, RoleKey: "admin"}
	if err := ui.validate(true); err != nil {
		for f, k := range err.(*Error).Fields {
			fe.add("admin_"+f, k)
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ui.Password)
	if err != nil {
		return nil, errInternal(err)
	}
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM company`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errConflict("error.already_set_up", nil)
		}
		now := s.nowMS()
		if _, err := tx.ExecContext(ctx, `INSERT INTO company (id, name, address, phone, email, tax_id, timezone, language, currency, created_at, updated_at)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Name, c.Address, c.Phone, c.Email, c.TaxID, c.Timezone, c.Language, c.Currency, now, now); err != nil {
			return err
		}
		if err := s.ensureBuiltinRoles(ctx, tx); err != nil {
			return err
		}
		id, err = s.insertUser(ctx, tx, &ui, hash)
		if err != nil {
			return err
		}
		a := &Actor{UserID: id}
		if err := s.audit(ctx, tx, a, "setup", "company", 1, map[string]any{"company": c.Name}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "users", id, map[string]any{"email": ui.Email, "role": "admin"})
	})
	if err != nil {
		return nil, err
	}
	return s.findUser(ctx, s.r, id)
}

// Company returns the firm's settings; it is not secret (the login page
// shows the name), so it needs no actor.
func (s *Store) Company(ctx context.Context) (*Company, error) {
	c := &Company{}
	var ca, ua int64
	err := s.r.QueryRowContext(ctx, `SELECT name, address, phone, email, tax_id, timezone, language, currency, created_at, updated_at FROM company WHERE id = 1`).
		Scan(&c.Name, &c.Address, &c.Phone, &c.Email, &c.TaxID, &c.Timezone, &c.Language, &c.Currency, &ca, &ua)
	if err != nil {
		return nil, wrapErr(err)
	}
	c.CreatedAt, c.UpdatedAt = fromMS(ca), fromMS(ua)
	return c, nil
}

// UpdateCompany changes the firm's settings; it needs the settings capability.
func (s *Store) UpdateCompany(ctx context.Context, a *Actor, c Company) (*Company, error) {
	if err := a.require(CapSettings); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE company SET name=?, address=?, phone=?, email=?, tax_id=?, timezone=?, language=?, currency=?, updated_at=? WHERE id = 1`,
			c.Name, c.Address, c.Phone, c.Email, c.TaxID, c.Timezone, c.Language, c.Currency, s.nowMS())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound()
		}
		return s.audit(ctx, tx, a, "update", "company", 1, map[string]any{"name": c.Name, "timezone": c.Timezone, "language": c.Language, "currency": c.Currency})
	})
	if err != nil {
		return nil, err
	}
	return s.Company(ctx)
}
