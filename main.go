// Command cartera is a self-hosted CRM for small firms: one binary that
// serves the web interface and JSON API over one SQLite file, plus the
// commands to set it up, manage users and tokens, and back it up.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	_ "time/tzdata" // time zones work on machines without zoneinfo
)

// version is the release; set it at build time with
// go build -ldflags "-X main.version=1.2.3".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], &env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		lookupEnv: os.LookupEnv,
	}))
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// env is what a command reads from and writes to, so tests can run
// commands in-process.
type env struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
}

// command is one `cartera NAME` command.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string
	run     func(e *env, args []string) int
}

// commands lists every command in the order `cartera help` shows them.
func commands() []command {
	return []command{
		{"serve", "[--addr ADDR] [--db FILE] [--config FILE]", "run the web server (the default command)", runServe},
		{"init", "--company NAME --admin-email EMAIL --admin-name NAME [--language ca|es|en] [--timezone ZONE] [--currency CODE]", "set up a new database; the admin password is read from standard input", runInit},
		{"user add", "--email EMAIL --name NAME --role ROLE", "add a user; the password is read from standard input", runUserAdd},
		{"user list", "", "list users: id, email, name, role, status (tab-separated)", runUserList},
		{"user disable", "--email EMAIL", "disable a user and end their sessions", runUserDisable},
		{"user passwd", "--email EMAIL", "set a user's password, read from standard input", runUserPasswd},
		{"token create", "--email EMAIL [--label LABEL]", "create an API token for a user and print it once", runTokenCreate},
		{"backup", "FILE", "write a consistent copy of the database to FILE, also while serving", runBackup},
		{"restore", "FILE", "replace the database with the backup FILE (the server must be stopped)", runRestore},
		{"import", "--file FILE --as EMAIL [--entity contacts] [--on-duplicate skip|update|overwrite|create] [--match email|phone|tax_id|none] [--dry-run] [--skip-invalid]", "import a CSV or .xlsx file; prints the mapping, every failing line and \"created N, updated N, skipped N, failed N\"", runImport},
		{"demo", "[--size small|medium|large | --contacts N] [--seed S] [--db FILE]", "fill a database with realistic demo data and print the demo logins", runDemo},
		{"version", "", "print the version, and the schema version of the database if it exists", runVersion},
		{"help", "[COMMAND]", "show this help, or a command's", nil},
	}
}

// run dispatches args to a command and returns the exit status.
func run(args []string, e *env) int {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelpFlag(args[0])) {
		return runServe(e, args)
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(args) > 1 {
			return helpFor(e, args[1:])
		}
		usage(e.stdout)
		return exitOK
	case "user", "token":
		if len(args) < 2 || isHelpFlag(args[1]) {
			w, code := e.stderr, exitUsage
			if len(args) >= 2 {
				w, code = e.stdout, exitOK
			}
			groupUsage(w, name)
			return code
		}
		name += " " + args[1]
		args = args[1:]
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "cartera: unknown command %q\n\n", name)
	usage(e.stderr)
	return exitUsage
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// usage lists every command.
func usage(w io.Writer) {
	fmt.Fprint(w, `Cartera is a self-hosted CRM: one binary, one SQLite file.

usage: cartera [COMMAND] [FLAGS]

commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Without a command, cartera runs "serve". Commands that use the database take
--db FILE (default cartera.db) and --config FILE (a TOML file, see
config.example.toml). Run "cartera COMMAND -h" for a command's flags.
`)
}

// groupUsage lists the subcommands of user or token.
func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "usage: cartera %s COMMAND [FLAGS]\n\ncommands:\n", group)
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
		}
	}
}

// helpFor shows one command's usage, as `cartera COMMAND -h` does.
func helpFor(e *env, args []string) int {
	name := args[0]
	if (name == "user" || name == "token") && len(args) > 1 {
		name += " " + args[1]
	}
	switch name {
	case "help":
		usage(e.stdout)
		return exitOK
	case "user", "token":
		groupUsage(e.stdout, name)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			he := *e
			he.stderr = e.stdout
			return c.run(&he, []string{"-h"})
		}
	}
	fmt.Fprintf(e.stderr, "cartera: unknown command %q\n\n", name)
	usage(e.stderr)
	return exitUsage
}

// newFlagSet makes a command's flag set; its usage prints the synopsis,
// the summary and the flags.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("cartera "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c command
	for _, cc := range commands() {
		if cc.name == name {
			c = cc
		}
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: cartera %s %s\n\n%s.\n", c.name, c.args, capitalise(c.summary))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parseFlags parses args, letting flags and positional arguments mix
// (`cartera backup out.db --db x.db`), and returns the positional ones. The
// int is -1 to go on, or the exit status to return: 0 after -h, 2 after a
// bad flag.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, int) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK
			}
			return nil, exitUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, -1
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), -1
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError reports a misuse of a command, with its usage, and returns 2.
func usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}
