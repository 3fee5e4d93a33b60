package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cartera/i18n"
	"cartera/importer"
	"cartera/store"
)

func runImport(e *env, args []string) int {
	c := newCLICmd(e, "import")
	entity := c.fs.String("entity", "contacts", "record type: accounts, contacts, leads, opportunities, activities, tasks or cases")
	file := c.fs.String("file", "", "CSV or .xlsx file to import")
	as := c.fs.String("as", "", "e-mail of the user the import acts as (their permissions apply; they own the records unless a column says otherwise)")
	onDup := c.fs.String("on-duplicate", "skip", "what to do with a row matching an existing record: skip, update (fill empty fields), overwrite or create")
	match := c.fs.String("match", "email", "field that recognises a duplicate: email, phone, tax_id, another field key, custom.KEY, or none")
	dry := c.fs.Bool("dry-run", false, "check every row and report, changing nothing")
	skipBad := c.fs.Bool("skip-invalid", false, "import the valid rows even when others fail (default: all or nothing)")
	auto := c.fs.Bool("automation", false, "let the imported records start workflow rules (default: they do not)")
	monthFirst := c.fs.Bool("month-first", false, "read ambiguous dates like 03/04/2024 as month/day")
	sheet := c.fs.String("sheet", "", "sheet of a workbook (default: the first)")
	return c.asUser(args, "as", as, []string{"file"}, func(ctx context.Context, st *store.Store, u *store.User) int {
		return c.importFile(ctx, st, u, *entity, *file, *onDup, *match, *sheet, *dry, *skipBad, *auto, *monthFirst)
	})
}

// importFile imports one file as a user and prints the report.
func (c *cliCmd) importFile(ctx context.Context, st *store.Store, u *store.User, entity, file, onDup, match, sheet string, dry, skipBad, auto, monthFirst bool) int {
	e := c.e
	actor, err := st.ActorFor(ctx, u.ID)
	if err != nil {
		return c.storeError(err, nil)
	}
	f, err := os.Open(file)
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	defer f.Close()
	src, err := importer.Open(f, filepath.Base(file), importer.ReadOptions{Sheet: sheet, MaxUnzipped: int64(c.cfg.Import.MaxUnzippedMB) << 20})
	if err != nil {
		return c.storeError(err, nil)
	}
	defer src.Close()
	bundle, err := i18n.Load()
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	ent := store.Entity(entity)
	if st.Schema().Def(ent) == nil {
		return usageError(c.fs, "unknown --entity %s", entity)
	}
	n := importer.Catalog{InEvery: bundle.InEvery, Schema: st.Schema()}
	plan := importer.Plan{Entity: ent, Policy: store.ImportPolicy(onDup), DryRun: dry, SkipBad: skipBad, Automation: auto, FileName: filepath.Base(file), MaxRows: c.cfg.Import.MaxRows}
	if match != "none" {
		plan.MatchOn = match
	}
	if monthFirst {
		plan.Order = importer.MonthFirst
	}
	mapping := importer.AutoMap(src.Header, importer.Targets(st.Schema(), ent, n))
	for i, h := range src.Header {
		to := mapping[i]
		if to == "" {
			to = "(skipped)"
		}
		fmt.Fprintf(e.stdout, "column %q → %s\n", h, to)
	}
	plan.Mapping = mapping
	last := time.Now()
	sum, err := importer.Run(ctx, st, actor, n, src, plan, func(p importer.Progress) {
		if time.Since(last) > time.Second {
			last = time.Now()
			fmt.Fprintf(e.stderr, "%d rows (%.0f rows/s)\n", p.Rows, float64(p.Rows)/p.Elapsed.Seconds())
		}
	})
	if err != nil {
		return c.storeError(err, nil)
	}
	for _, r := range sum.Rows {
		if r.Action != "failed" {
			continue
		}
		var msgs []string
		for _, fe := range r.Errors {
			m := c.t(fe.Key)
			if fe.Field != "" {
				m = fe.Field + ": " + m
			}
			msgs = append(msgs, m)
		}
		fmt.Fprintf(e.stdout, "line %d: %s\n", r.Line, strings.Join(msgs, "; "))
	}
	switch sum.Import.Status {
	case "dry_run":
		fmt.Fprintln(e.stdout, c.t("import.dry_run"))
	case "failed":
		fmt.Fprintln(e.stdout, "Nothing was imported: fix the lines above, or pass --skip-invalid to import the valid rows.")
	}
	fmt.Fprintf(e.stdout, "created %d, updated %d, skipped %d, failed %d\n", sum.Created, sum.Updated, sum.Skipped, sum.Failed)
	if sum.Import.Status == "failed" || (sum.Created+sum.Updated == 0 && sum.Import.Status != "dry_run" && sum.Skipped == 0) {
		return exitFail
	}
	return exitOK
}
