package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

type report struct {
	cfg               *config
	machine           machine
	started, finished time.Time

	binarySize, dbSize int64
	demoTime           time.Duration
	coldStart          time.Duration
	shutdown           time.Duration
	peakRSS            int64
	rssAfterLogin      int64
	sessions           int
	busyTotal          int64
	serverErrors       int64
	serverSample       []string
	counts             map[string]int64

	loadStart, loadEnd string
	commit, schema     string

	deepPage   int
	deepCursor string
	deepChain  string

	http []*wlResult
	raw  []*rawResult

	exportRows, exportBytes int64
	exportTime              time.Duration
	exportRSS               int64

	importRows int64
	importTime time.Duration
	importRSS  int64
}

// loadAvg is /proc/loadavg's first three fields.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *report) rawByName(name string) *rawResult {
	for _, x := range r.raw {
		if x.q.name == name {
			return x
		}
	}
	return nil
}

func (r *report) httpByName(name string) *wlResult {
	for _, x := range r.http {
		if x.wl.name == name {
			return x
		}
	}
	return nil
}

func ratio(a, b time.Duration) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", float64(a)/float64(b))
}

func command(c *config) string {
	return strings.TrimSpace("go run ./bench " + strings.Join(c.args, " "))
}

// markdown renders the whole result; the same text goes to the terminal
// and, with -out, to the end of a file.
func (r *report) markdown() string {
	var b bytes.Buffer
	c := r.cfg
	size := c.size
	if c.contacts > 0 {
		size = fmt.Sprintf("%d contacts", c.contacts)
	}
	fmt.Fprintf(&b, "### %s — %s, %d clients × %s per workload\n\n", r.started.Format("2006-01-02 15:04 MST"), size, c.clients, c.duration)
	fmt.Fprintf(&b, "- Command: `%s` (seed %d) on commit %s\n", command(c), c.seed, r.commit)
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), %s RAM, %s, %s; the load generator runs on the same machine\n", r.machine.CPUs, r.machine.CPUModel, r.machine.MemTotal, r.machine.OS, r.machine.GoVersion)
	if r.counts != nil {
		fmt.Fprintf(&b, "- Dataset (%s): %d accounts, %d contacts, %d leads, %d opportunities, %d activities, %d tasks, %d cases\n",
			r.schema, r.counts["accounts"], r.counts["contacts"], r.counts["leads"], r.counts["opportunities"], r.counts["activities"], r.counts["tasks"], r.counts["cases"])
	}
	demo := "unknown (cached dataset without timing)"
	if r.demoTime > 0 {
		demo = r.demoTime.Round(time.Second).String()
	}
	fmt.Fprintf(&b, "- RSS after signing in %d sessions: %s\n", r.sessions, mib(r.rssAfterLogin))
	fmt.Fprintf(&b, "- DB file %s · binary %s · `cartera demo` %s · cold start %s · peak RSS (VmHWM) %s · graceful shutdown %s\n",
		mib(r.dbSize), mib(r.binarySize), demo, ms(r.coldStart), mib(r.peakRSS), ms(r.shutdown))
	fmt.Fprintf(&b, "- Server log: %d × \"database is locked\"/SQLITE_BUSY, %d ERROR lines\n", r.busyTotal, r.serverErrors)
	if r.deepPage > 0 {
		fmt.Fprintf(&b, "- Deep page: page %d (cursor found by following next_cursor: %s)\n", r.deepPage, r.deepChain)
	}
	fmt.Fprintf(&b, "- Run took %s; load average (1/5/15 min) at start %s, at end %s (other work on the machine skews the numbers)\n", r.finished.Sub(r.started).Round(time.Second), r.loadStart, r.loadEnd)
	for _, s := range r.serverSample {
		fmt.Fprintf(&b, "  - server: `%s`\n", strings.ReplaceAll(s, "`", "'"))
	}

	b.WriteString("\n| workload | clients | requests | req/s | p50 | p95 | p99 | errors | busy | server CPU | CPU/req | max RSS | raw p50 | raw p99 | ×p50 | ×p99 |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, x := range r.http {
		m := x.main
		rp50, rp99, r50, r99 := "–", "–", "–", "–"
		if rw := r.rawByName(x.wl.raw); rw != nil && x.wl.clients == c.clients {
			rp50, rp99 = ms(rw.main.P50), ms(rw.main.P99)
			r50, r99 = ratio(m.P50, rw.main.P50), ratio(m.P99, rw.main.P99)
		}
		cpuReq := "–"
		if m.N > 0 {
			cpuReq = ms(time.Duration(x.cpu * x.wall.Seconds() / float64(m.N) * 1e9))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %s | %s | %s | %d | %d | %.0f%% | %s | %s | %s | %s | %s | %s |\n",
			x.wl.name, x.wl.clients, m.N, m.RPS, ms(m.P50), ms(m.P95), ms(m.P99), m.Errs, x.busy, 100*x.cpu, cpuReq, mib(x.rssMax), rp50, rp99, r50, r99)
	}
	b.WriteString("\nWorkloads: ")
	for i, x := range r.http {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "**%s** %s", x.wl.name, x.wl.desc)
	}
	b.WriteString(". Errors are answers other than 2xx/3xx (writes: other than 303). Server CPU is the server process's CPU time over wall time (100% = one core); CPU/req is server CPU time per request (followed redirects included); max RSS is the highest VmRSS sampled during the workload.\n")

	// Breakdowns: search prefixes, the mixed load's parts, followed redirects.
	var sub bytes.Buffer
	for _, x := range r.http {
		rw := r.rawByName(x.wl.raw)
		for _, label := range x.subOrder {
			s, ok := x.subs[label]
			if !ok {
				continue
			}
			rp50, rp99, r50 := "–", "–", "–"
			if rw != nil && x.wl.clients == c.clients {
				if i := strings.LastIndex(label, "q="); i >= 0 {
					if rs, ok := rw.subs[label[i:]]; ok {
						rp50, rp99, r50 = ms(rs.P50), ms(rs.P99), ratio(s.P50, rs.P50)
					}
				}
			}
			fmt.Fprintf(&sub, "| %s | %s | %d | %s | %s | %s | %d | %s | %s | %s |\n", x.wl.name, label, s.N, ms(s.P50), ms(s.P95), ms(s.P99), s.Errs, rp50, rp99, r50)
		}
		if x.main.Errs > 0 {
			var st []string
			for code, n := range x.main.Statuses {
				st = append(st, fmt.Sprintf("%d×%d", code, n))
			}
			fmt.Fprintf(&sub, "| %s | statuses (0 = transport error) | %s | | | | | | | |\n", x.wl.name, strings.Join(st, " "))
		}
	}
	if sub.Len() > 0 {
		b.WriteString("\n| workload | request | requests | p50 | p95 | p99 | errors | raw p50 | raw p99 | ×p50 |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		b.Write(sub.Bytes())
	}

	if len(r.raw) > 0 {
		fmt.Fprintf(&b, "\nRaw baseline (database/sql + modernc on the same file after the server stopped, %d clients × %s, Cartera's pragmas, no HTTP/templates/permissions):\n\n", c.clients, c.rawDuration)
		b.WriteString("| query | queries | q/s | p50 | p95 | p99 | errors | SQL |\n|---|--:|--:|--:|--:|--:|--:|---|\n")
		for _, x := range r.raw {
			m := x.main
			fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %d | `%s` |\n", x.q.name, m.N, m.RPS, ms(m.P50), ms(m.P95), ms(m.P99), m.Errs, strings.ReplaceAll(x.q.sql, "|", "\\|"))
			for _, label := range x.subOrder {
				if s, ok := x.subs[label]; ok {
					fmt.Fprintf(&b, "| %s %s | %d | %.0f | %s | %s | %s | %d | |\n", x.q.name, label, s.N, s.RPS, ms(s.P50), ms(s.P95), ms(s.P99), s.Errs)
				}
			}
		}
	}

	b.WriteString("\nTargets (issue 4):\n\n")
	for _, t := range r.targets() {
		mark := "met"
		if !t.met {
			mark = "**NOT met**"
		}
		if t.na {
			mark = "n/a"
		}
		fmt.Fprintf(&b, "- %s: %s — %s\n", t.name, mark, t.value)
	}
	b.WriteString("\n")
	return b.String()
}

type target_ struct {
	name, value string
	met, na     bool
}

// targets evaluates the goals of issue 4 on this run.
func (r *report) targets() []target_ {
	c := r.cfg
	var out []target_
	at := fmt.Sprintf("at %d clients", c.clients)
	if c.clients != 8 {
		at += " (the target says 8)"
	}
	for _, name := range []string{"list", "list_tag", "list_custom", "opps_proposal", "opps_proposal_admin", "record", "search"} {
		x := r.httpByName(name)
		if x == nil {
			continue
		}
		out = append(out, target_{name: fmt.Sprintf("%s p99 < 50 ms %s", name, at), value: "p99 " + ms(x.main.P99), met: x.main.P99 < 50*time.Millisecond && x.main.N > 0})
		if rw := r.rawByName(x.wl.raw); rw != nil && rw.main.P50 > 0 {
			f := float64(x.main.P50) / float64(rw.main.P50)
			out = append(out, target_{name: fmt.Sprintf("%s ≤ 3× raw (%s)", name, x.wl.raw),
				value: fmt.Sprintf("p50 %s vs raw %s = %.1f× (p99 %s)", ms(x.main.P50), ms(rw.main.P50), f, ratio(x.main.P99, rw.main.P99)), met: f <= 3})
		}
	}
	if x := r.httpByName("record_32"); x != nil {
		out = append(out, target_{name: "record page ≥ 1,000 req/s at 32 clients", value: fmt.Sprintf("%.0f req/s (p99 %s)", x.main.RPS, ms(x.main.P99)), met: x.main.RPS >= 1000})
	}
	if x := r.httpByName("mixed"); x != nil {
		name := fmt.Sprintf("mixed %d clients, 20%% writes, %s: zero errors, zero SQLITE_BUSY, p99 < 200 ms", x.wl.clients, x.wl.dur)
		if x.wl.clients != 50 || x.wl.dur < 60*time.Second {
			name += " (target: 50 clients, 60 s)"
		}
		out = append(out, target_{name: name, value: fmt.Sprintf("%d errors, %d busy, p99 %s, %.0f req/s", x.main.Errs, x.busy, ms(x.main.P99), x.main.RPS),
			met: x.main.Errs == 0 && x.busy == 0 && x.main.P99 < 200*time.Millisecond && x.main.N > 0})
	}
	if r.exportRows > 0 {
		rate := float64(r.exportRows) / r.exportTime.Seconds()
		out = append(out, target_{name: "export of every contact to CSV > 100,000 rows/s (issue 6)", value: fmt.Sprintf("%d rows in %s = %.0f rows/s, %s, server peak RSS %s", r.exportRows, r.exportTime.Round(time.Millisecond), rate, mib(r.exportBytes), mib(r.exportRSS)), met: rate > 100_000})
	}
	if r.importRows > 0 {
		rate := float64(r.importRows) / r.importTime.Seconds()
		out = append(out, target_{name: fmt.Sprintf("import of %d contacts (automatic mapping, e-mail matching) < 10 s, ≥ 10,000 rows/s, < 300 MB (issue 6)", r.importRows),
			value: fmt.Sprintf("%s = %.0f rows/s, server peak RSS %s", r.importTime.Round(time.Millisecond), rate, mib(r.importRSS)), met: rate >= 10_000 && r.importRSS < 300<<20})
	}
	out = append(out, target_{name: "cold start < 1 s", value: ms(r.coldStart), met: r.coldStart < time.Second})
	out = append(out, target_{name: "peak RSS < 150 MiB", value: mib(r.peakRSS) + " (VmHWM)", met: r.peakRSS < 150<<20})
	out = append(out, target_{name: "binary < 40 MiB", value: mib(r.binarySize), met: r.binarySize < 40<<20})
	dt := target_{name: "cartera demo --size large < 3 min"}
	switch {
	case c.size != "large" || c.contacts > 0:
		dt.na, dt.value = true, "not the large size"
	case r.demoTime == 0:
		dt.na, dt.value = true, "unknown (cached dataset without timing)"
	default:
		dt.value, dt.met = r.demoTime.Round(time.Second).String(), r.demoTime < 3*time.Minute
	}
	out = append(out, dt)
	return out
}

func (r *report) print(w io.Writer) { io.WriteString(w, "\n"+r.markdown()) }

// appendMarkdown adds the result at the end of a file, e.g. the History of
// docs/PERFORMANCE.md.
func (r *report) appendMarkdown(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		f.WriteString("\n")
	}
	if _, err := f.WriteString(r.markdown()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
