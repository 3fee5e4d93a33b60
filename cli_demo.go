package main

import (
	"context"
	"fmt"
	"time"

	"cartera/demo"
	"cartera/store"
)

// runDemo fills a database with demo data: `cartera demo` then `cartera
// serve` gives a new user a lively CRM in seconds, and the large size is the
// benchmark dataset.
func runDemo(e *env, args []string) int {
	c := newCLICmd(e, "demo")
	size := c.fs.String("size", "small", "small (≈1,000 contacts), medium (100,000) or large (1,000,000)")
	contacts := c.fs.Int("contacts", 0, "make this many contacts instead of a size (other records scale with it)")
	seed := c.fs.Uint64("seed", 1, "random seed; the same seed makes the same data")
	pos, code := parseFlags(c.fs, args)
	if code >= 0 {
		return code
	}
	if code := noArgs(c.fs, pos); code >= 0 {
		return code
	}
	if _, err := demo.CountsFor(*size, *contacts); err != nil {
		return usageError(c.fs, "%v", err)
	}
	if !c.setup() {
		return exitFail
	}
	lock, err := store.AcquireLock(c.cfg.Database.Path)
	if err != nil {
		c.errorf("refusing: %v; stop the server first", err)
		return exitFail
	}
	defer lock.Release()
	ctx := context.Background()
	st, ok := c.open(ctx, true)
	if !ok {
		return exitFail
	}
	defer st.Close()
	start := time.Now()
	res, err := demo.Generate(ctx, st, demo.Options{Size: *size, Contacts: *contacts, Seed: *seed, Progress: e.stdout})
	if err != nil {
		c.errorf("demo data: %v", err)
		return exitFail
	}
	n := res.Counts
	fmt.Fprintf(e.stdout, "Made %d clients, %d contacts, %d leads, %d opportunities, %d activities, %d tasks and %d cases in %s.\n",
		n.Accounts, n.Contacts, n.Leads, n.Opportunities, n.Activities, n.Tasks, n.Cases, time.Since(start).Round(time.Second))
	if len(res.Users) > 0 {
		fmt.Fprintln(e.stdout, "Demo users (e-mail, password, role):")
		for _, u := range res.Users {
			fmt.Fprintf(e.stdout, "  %s\t%s\t%s\n", u.Email, u.Password, u.Role)
		}
	}
	fmt.Fprintf(e.stdout, "Start Cartera with: cartera serve --db %s\n", c.cfg.Database.Path)
	return exitOK
}
