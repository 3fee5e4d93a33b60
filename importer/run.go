package importer

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"cartera/store"
)

// Plan is how to import a file: where each column goes and what to do
// with duplicates and bad rows.
type Plan struct {
	Entity store.Entity
	// Mapping gives each column's target key ("" skips the column); nil
	// maps automatically.
	Mapping []string
	Policy  store.ImportPolicy
	MatchOn string
	Order   DateOrder
	DryRun  bool
	SkipBad bool
	// Automation lets the imported records start workflow rules (off by
	// default: a migration must not e-mail every old customer).
	Automation bool
	FileName   string
	// Batch is how many rows go in one transaction (default 2,000).
	Batch int
	// MaxRows refuses a file with more data rows (0: no limit); nothing of
	// it is kept.
	MaxRows int
	// Started, when set, is told the import's record as soon as it exists,
	// so a caller running it in the background can show its progress.
	Started func(*store.Import)
}

// Progress is how far a running import has got.
type Progress struct {
	Rows                              int
	Created, Updated, Skipped, Failed int
	Elapsed                           time.Duration
}

// Summary is the outcome of an import or a dry run.
type Summary struct {
	Import *store.Import
	Progress
	// Rows are the outcomes of every row, in a dry run; only failed rows
	// otherwise.
	Rows []store.RowOutcome
}

// Run imports the rows of src: it maps and converts each row, hands
// batches to the store, and finishes the import as done, or as failed
// with nothing of it applied when a row fails and bad rows are not
// skipped (the remaining rows are still checked, so the report lists
// every failure).
func Run(ctx context.Context, st *store.Store, a *store.Actor, n Namer, src *Source, plan Plan, progress func(Progress)) (*Summary, error) {
	sc := st.Schema()
	targets := Targets(sc, plan.Entity, n)
	mapping := plan.Mapping
	if mapping == nil {
		mapping = AutoMap(src.Header, targets)
	}
	if len(mapping) != len(src.Header) {
		return nil, fileError("import.error.mapping")
	}
	byKey := map[string]Target{}
	for _, t := range targets {
		byKey[t.Key] = t
	}
	for _, k := range mapping {
		if _, ok := byKey[k]; k != "" && !ok {
			return nil, fileError("import.error.mapping")
		}
	}
	if plan.Policy == "" {
		plan.Policy = store.PolicySkip
	}
	if plan.Batch <= 0 {
		plan.Batch = 2000
	}
	users := map[string]int64{}
	if us, err := st.FindUsers(ctx, a, store.UserFilter{}); err == nil {
		for _, u := range us {
			users[strings.ToLower(u.Email)] = u.ID
		}
	}
	imp, err := st.StartImport(ctx, a, store.ImportSpec{Entity: plan.Entity, FileName: plan.FileName, Policy: plan.Policy, MatchOn: plan.MatchOn, Automation: plan.Automation,
		Options: map[string]any{"mapping": mapping, "header": src.Header, "dry_run": plan.DryRun, "skip_invalid": plan.SkipBad, "format": src.Format, "encoding": src.Encoding, "delimiter": string(src.Delimiter)}})
	if err != nil {
		return nil, err
	}
	if plan.Started != nil {
		plan.Started(imp)
	}
	conv := &converter{seen: map[string]string{}, sc: sc, e: plan.Entity, n: n, order: plan.Order, users: users, ownerKey: sc.Def(plan.Entity).OwnerKey}
	sum := &Summary{}
	start := time.Now()
	failed := false
	flush := func(batch []store.ImportRow) error {
		if len(batch) == 0 {
			return nil
		}
		dry := plan.DryRun || failed
		res, err := st.ImportBatch(ctx, a, imp.ID, batch, dry, plan.SkipBad)
		applied := err == nil && !dry
		if errors.Is(err, store.ErrRowsFailed) {
			failed, err = true, nil
		}
		if err != nil {
			return err
		}
		if !applied && !plan.DryRun {
			// Rolled back: only its failures count.
			res = &store.BatchResult{Failed: res.Failed, Rows: res.Rows}
		}
		sum.add(res, plan.DryRun)
		sum.Elapsed = time.Since(start)
		if progress != nil {
			progress(sum.Progress)
		}
		return nil
	}
	// The file is read and converted a batch ahead while the store writes
	// the current one: two cores, two stages.
	type chunk struct {
		rows  []store.ImportRow
		fails []store.RowOutcome
		err   error
	}
	chunks := make(chan chunk, 1)
	stop, done := make(chan struct{}), make(chan struct{})
	defer func() {
		close(stop)
		<-done
	}()
	go func() {
		defer close(done)
		defer close(chunks)
		var c chunk
		send := func() bool {
			select {
			case chunks <- c:
				c = chunk{}
				return true
			case <-stop:
				return false
			}
		}
		for {
			cells, err := src.Next()
			if errors.Is(err, io.EOF) {
				send()
				return
			}
			if err == nil && plan.MaxRows > 0 && src.Line()-1 > plan.MaxRows {
				err = fileError("import.error.too_many_rows")
			}
			if err != nil {
				c.err = err
				send()
				return
			}
			row, rowErrs := conv.row(src.Line(), cells, mapping, plan.MatchOn)
			if len(rowErrs) > 0 {
				c.fails = append(c.fails, store.RowOutcome{Line: src.Line(), Action: "failed", Errors: rowErrs})
			} else {
				c.rows = append(c.rows, row)
			}
			if len(c.rows) >= plan.Batch && !send() {
				return
			}
		}
	}()
	for c := range chunks {
		if err := ctx.Err(); err != nil {
			st.FinishImport(context.WithoutCancel(ctx), a, imp.ID, "import.error.cancelled")
			return nil, err
		}
		for _, f := range c.fails {
			sum.Failed++
			sum.Rows = append(sum.Rows, f)
			if !plan.SkipBad {
				failed = true
			}
		}
		if err := flush(c.rows); err != nil {
			st.FinishImport(context.WithoutCancel(ctx), a, imp.ID, "import.error.internal")
			return nil, err
		}
		if err := c.err; err != nil {
			st.FinishImport(context.WithoutCancel(ctx), a, imp.ID, store.AsError(err).Key)
			if se := store.AsError(err); se.Code == store.CodeInvalid {
				// A file problem met halfway (bad quotes, too many rows):
				// the import is failed and nothing of it is kept.
				sum.Import, _ = st.FindImport(context.WithoutCancel(ctx), a, imp.ID)
				return sum, err
			}
			return nil, err
		}
	}
	failKey := ""
	switch {
	case plan.DryRun:
		failKey = "import.dry_run"
	case failed:
		failKey = "import.error.rows_failed"
	}
	if sum.Import, err = st.FinishImport(ctx, a, imp.ID, failKey); err != nil {
		return nil, err
	}
	if failed && !plan.DryRun {
		// FinishImport took back what earlier batches applied.
		sum.Created, sum.Updated, sum.Skipped = 0, 0, 0
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// RememberedMapping returns the mapping of the latest import of the same
// record type from a file with the same columns, so a file exported every
// month from another program maps itself after the first time.
func RememberedMapping(ctx context.Context, st *store.Store, a *store.Actor, e store.Entity, header []string) ([]string, *store.Import) {
	list, err := st.FindImports(ctx, a)
	if err != nil {
		return nil, nil
	}
	for _, im := range list {
		if im.Entity != e || (im.Status != "done" && im.Status != "dry_run") {
			continue
		}
		h, _ := im.Options["header"].([]any)
		m, _ := im.Options["mapping"].([]any)
		if len(h) != len(header) || len(m) != len(header) {
			continue
		}
		same := true
		out := make([]string, len(m))
		for i := range header {
			hs, _ := h[i].(string)
			out[i], _ = m[i].(string)
			same = same && hs == header[i]
		}
		if same {
			return out, im
		}
	}
	return nil, nil
}

// add adds a batch's outcome to the summary.
func (s *Summary) add(res *store.BatchResult, keepAll bool) {
	s.Progress.Rows += len(res.Rows)
	s.Created += res.Created
	s.Updated += res.Updated
	s.Skipped += res.Skipped
	s.Failed += res.Failed
	for _, r := range res.Rows {
		if keepAll || r.Action == "failed" {
			s.Rows = append(s.Rows, r)
		}
	}
}

// converter turns a row's cells into a store input.
type converter struct {
	sc       *store.Schema
	e        store.Entity
	n        Namer
	order    DateOrder
	users    map[string]int64
	ownerKey string
	// opts caches each list's options by folded key and label; seen, the
	// option each cell text meant.
	opts map[string]map[string]string
	seen map[string]string
}

// option finds the option a cell means, from a per-list index built once.
func (c *converter) option(cell, list string, options []store.Option) string {
	idx, ok := c.opts[list]
	if !ok {
		idx = map[string]string{}
		add := func(name, key string) {
			if f := Fold(name); f != "" {
				if _, taken := idx[f]; !taken {
					idx[f] = key
				}
			}
		}
		for _, o := range options {
			add(o.Key, o.Key)
		}
		for _, o := range options {
			for _, l := range o.Labels {
				add(l, o.Key)
			}
			for _, l := range c.n.OptionNames(list, o.Key) {
				add(l, o.Key)
			}
		}
		if c.opts == nil {
			c.opts = map[string]map[string]string{}
		}
		c.opts[list] = idx
	}
	if key, ok := c.seen[list+"\x00"+cell]; ok {
		return key
	}
	key := idx[Fold(cell)]
	if len(c.seen) < 10000 {
		// The same few values repeat down a column.
		c.seen[list+"\x00"+cell] = key
	}
	return key
}

func (c *converter) row(line int, cells []string, mapping []string, matchOn string) (store.ImportRow, []store.RowError) {
	row := store.ImportRow{Line: line, Input: store.Input{Values: map[string]any{}}}
	var errs []store.RowError
	d := c.sc.Def(c.e)
	for i, key := range mapping {
		if key == "" || i >= len(cells) {
			continue
		}
		cell := strings.TrimSpace(cells[i])
		if cell == "" {
			continue
		}
		if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune("=+-@", rune(cell[1])) {
			// Cartera's exports quote what a spreadsheet would take
			// for a formula; the quote is not part of the value.
			cell = cell[1:]
		}
		switch {
		case key == "tags":
			tags := splitList(cell)
			row.Input.Tags = &tags
		case key == AccountName:
			row.AccountName = cell
		case key == "owner_email":
			id, ok := c.users[strings.ToLower(cell)]
			if !ok {
				errs = append(errs, store.RowError{Line: line, Field: "owner_email", Key: "error.unknown_user"})
				continue
			}
			row.Input.Values[c.ownerKey] = id
		case strings.HasPrefix(key, "custom."):
			cf, ok := d.CustomField(strings.TrimPrefix(key, "custom."))
			if !ok {
				continue
			}
			v := c.value(cf.Kind, cf.OptionList(), cf.Options, cell)
			row.Input.SetCustom(cf.Key, v)
			if key == matchOn {
				if sv, ok := v.(string); ok {
					row.Match = sv
				}
			}
		default:
			f, ok := d.Field(key)
			if !ok {
				continue
			}
			row.Input.Values[key] = c.value(f.Kind, f.Picklist, f.Options(), cell)
			if key == matchOn {
				row.Match = cell
			}
		}
	}
	return row, errs
}

// value converts a cell for a field kind; what cannot be converted goes
// to the store as typed, which refuses it with the field's own message.
func (c *converter) value(k store.Kind, list string, options []store.Option, cell string) any {
	switch k {
	case store.KDate:
		if t, ok := ParseDate(cell, c.order); ok {
			return t.Format("2006-01-02")
		}
	case store.KDateTime:
		if t, ok := ParseDate(cell, c.order); ok {
			return t.UTC().Format(time.RFC3339)
		}
	case store.KSelect:
		if key := c.option(cell, list, options); key != "" {
			return key
		}
	case store.KMulti:
		var keys []string
		for _, p := range splitList(cell) {
			if key := c.option(p, list, options); key != "" {
				keys = append(keys, key)
			} else {
				keys = append(keys, p)
			}
		}
		return keys
	case store.KBool:
		switch Fold(cell) {
		case "si", "yes", "true", "1", "x", "s", "y", "verdadero", "cert":
			return true
		case "no", "false", "0", "n", "fals", "falso":
			return false
		}
	}
	return cell
}

// splitList reads a ";"- or ","-separated list.
func splitList(s string) []string {
	sep := func(r rune) bool { return r == ';' || r == ',' }
	if strings.Contains(s, ";") {
		sep = func(r rune) bool { return r == ';' }
	}
	var out []string
	for _, p := range strings.FieldsFunc(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
