package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"

	_ "modernc.org/sqlite" // registers "sqlite", the driver this one wraps
)

// This file is the one place that wraps the SQLite driver: each connection
// keeps its prepared statements by SQL text, so the dozen small queries of
// a page are parsed once per connection instead of once per request
// (modernc prepares a one-shot query afresh every time).

// cachingDriverName is the driver the store's writer and readers use.
const cachingDriverName = "cartera-sqlite"

// maxCachedStatements bounds the statements a connection keeps.
const maxCachedStatements = 400

// baseDriver is modernc's registered driver, which carries the SQL
// functions Cartera registers (cartera_fold).
var baseDriver driver.Driver

func init() {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err)
	}
	baseDriver = db.Driver()
	db.Close()
	sql.Register(cachingDriverName, cachingDriver{})
}

// cachingDriver opens modernc connections wrapped with a statement cache.
type cachingDriver struct{}

// Open opens a connection.
func (cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := baseDriver.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: c, stmts: map[string]*connStmt{}}, nil
}

// connStmt is a prepared statement and whether rows of it are open.
type connStmt struct {
	st   driver.Stmt
	busy bool
}

// cachingConn is a modernc connection with a statement cache. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*connStmt
}

// cacheable reports whether a statement may be kept: single statements
// that read or change rows, not transaction control or schema changes.
func cacheable(q string) bool {
	t := strings.TrimSpace(q)
	if strings.Contains(t, ";") || len(t) < 6 {
		return false
	}
	switch strings.ToUpper(t[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return true
	}
	return false
}

// stmt returns the cached statement for q, preparing it on first use; a
// statement whose rows are still open is not shared (ok is false then and
// the caller runs the query the usual way).
func (c *cachingConn) stmt(ctx context.Context, q string) (*connStmt, bool, error) {
	if !cacheable(q) {
		return nil, false, nil
	}
	if cs, ok := c.stmts[q]; ok {
		if cs.busy {
			return nil, false, nil
		}
		return cs, true, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		return nil, false, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, false, err
	}
	cs := &connStmt{st: st}
	c.stmts[q] = cs
	return cs, true, nil
}

// QueryContext runs a query through the cache.
func (c *cachingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	cs, ok, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
	}
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// ExecContext runs a statement through the cache.
func (c *cachingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	cs, ok, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
	}
	return cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

// PrepareContext prepares without caching (database/sql keeps its own).
func (c *cachingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

// BeginTx starts a transaction.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// Ping checks the connection.
func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession is called before a pooled connection is reused.
func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid reports whether the connection may be reused.
func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.st.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.Conn.Close())
	return errors.Join(errs...)
}

// cachedRows frees its statement for the next query when closed.
type cachedRows struct {
	driver.Rows
	cs *connStmt
}

// Close resets the statement (modernc keeps a prepared statement for
// reuse) and marks it free.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}
