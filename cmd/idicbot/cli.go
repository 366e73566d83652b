package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// command is one subcommand: its help and how its arguments are checked.
// ParseFlags checks everything here before Run opens anything, so a wrong
// command line never creates or seeds a database.
type command struct {
	name     string
	synopsis string // arguments after the flags, as in the usage line
	summary  string // one line in `idicbot help`
	about    string // what it does, a few lines
	examples string
	// flags adds the command's own flags (besides --config and --data).
	flags func(m *Main, fs *flag.FlagSet)
	// args checks the positional arguments; a non-nil error is a usage
	// error.
	args func(m *Main, args []string) error
}

// usageError is a command line that cannot run: main exits with 2, Go's
// convention for usage errors.
type usageError struct {
	cmd string
	msg string
}

func (e *usageError) Error() string {
	hint := "idicbot help"
	if e.cmd != "" {
		hint = "idicbot " + e.cmd + " -h"
	}
	return fmt.Sprintf("%s (see '%s')", e.msg, hint)
}

// Unwrap returns the domain error (EINVALID) the usage error is.
func (e *usageError) Unwrap() error { return &crm.Error{Code: crm.EINVALID, Message: e.msg} }

// ExitCode is the process's exit status for what ParseFlags or Run returned:
// 0 for success and asked-for help, 2 for a usage error, 1 otherwise.
func ExitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

func argsExactly(n int, what string) func(*Main, []string) error {
	return func(m *Main, args []string) error {
		if len(args) != n {
			if n == 0 {
				return usagef(m.Command, "%s takes no arguments, got %q", m.Command, strings.Join(args, " "))
			}
			return usagef(m.Command, "%s needs %s", m.Command, what)
		}
		return nil
	}
}

// commands lists every subcommand in the order `idicbot help` shows them.
var commands = []command{
	{
		name: "serve", summary: "run the bot: web chat, the configured channels, the admin, /metrics",
		about: `Runs the bot until SIGINT or SIGTERM, then finishes the messages under way and
flushes the outbox (shutdown_timeout). Channels turn on from the environment
(TELEGRAM_BOT_TOKEN, SLACK_BOT_TOKEN, ZALO_*, MESSENGER_*; each also as NAME_FILE
or a systemd credential named NAME). /healthz says the process is alive, /readyz
that it can serve (store open, channels connected).

With --check it only asks /readyz of the bot already running at addr and exits
0 when it is ready, 1 otherwise: a container's HEALTHCHECK.`,
		examples: `  idicbot serve
  IDICBOT_ADDR=0.0.0.0:8080 TELEGRAM_BOT_TOKEN_FILE=/run/secrets/tg idicbot serve --data /var/lib/idicbot
  idicbot serve --check`,
		flags: func(m *Main, fs *flag.FlagSet) {
			fs.StringVar(&m.Addr, "addr", "", "HTTP listen address (default 127.0.0.1:8080; env IDICBOT_ADDR)")
			fs.BoolVar(&m.HealthCheck, "check", false, "ask /readyz of the running bot and exit 0 if ready, 1 if not")
		},
		args: argsExactly(0, ""),
	},
	{
		name: "chat", summary: "talk to the bot from a terminal, one line per message",
		about: `Each line typed is a message from one customer (IDICBOT_CHAT_USER, default
"console"); the bot's replies are printed. The bot must not be running on the
same data directory.`,
		examples: `  idicbot chat
  echo "xin chào" | idicbot chat --data /tmp/try`,
		args: argsExactly(0, ""),
	},
	{
		name: "import", synopsis: "customers|orders FILE",
		summary: "import customers or orders from a CSV file",
		about: `Checks the whole file first: if any row is bad nothing is imported, the first
20 problems are printed and, with --errors, every bad row goes to a CSV file
with its line, its problems and its own values, to fix and import again.
Importing the same file twice doubles nothing. On a terminal a progress line
shows rows/s and the time left. The columns: README, "Import your existing
customers and orders".`,
		examples: `  idicbot import customers khach-hang.csv
  idicbot import orders don-hang.csv --errors loi.csv`,
		flags: func(m *Main, fs *flag.FlagSet) {
			fs.StringVar(&m.ErrorsFile, "errors", "", "write every bad row (its line, its problems, its values) to this CSV `file`")
			fs.BoolVar(&m.NoProgress, "no-progress", false, "do not draw the progress line (it is only drawn on a terminal)")
		},
		args: func(m *Main, args []string) error {
			if len(args) != 2 {
				return usagef("import", "import needs what to import and a file: customers FILE or orders FILE")
			}
			if args[0] != "customers" && args[0] != "orders" {
				return usagef("import", "import: unknown kind %q: customers or orders", args[0])
			}
			if m.ErrorsFile != "" && filepath.Clean(m.ErrorsFile) == filepath.Clean(args[1]) {
				return usagef("import", "import: --errors %s would overwrite the file imported; name another file", m.ErrorsFile)
			}
			return nil
		},
	},
	{
		name: "offers", synopsis: "export | import FILE",
		summary: "export the stored offers as YAML, or import a file of offers",
		about: `export writes every stored offer (configs/offers.yaml's shape) to stdout.
import validates FILE ("-" reads stdin), then creates or updates its offers;
nothing changes if anything is wrong. While the bot runs, use its admin API.`,
		examples: `  idicbot offers export > offers.yaml
  idicbot offers import offers.yaml --dry-run
  idicbot offers import offers.yaml`,
		flags: func(m *Main, fs *flag.FlagSet) {
			fs.BoolVar(&m.DryRun, "dry-run", false, "import: validate and report what would change, change nothing")
		},
		args: func(m *Main, args []string) error {
			switch {
			case len(args) == 1 && args[0] == "export":
			case len(args) == 2 && args[0] == "import":
			case len(args) > 0 && args[0] != "export" && args[0] != "import":
				return usagef("offers", "offers: unknown action %q: export or import", args[0])
			default:
				return usagef("offers", "offers needs export, or import FILE")
			}
			if m.DryRun && args[0] != "import" {
				return usagef("offers", "--dry-run goes with import")
			}
			return nil
		},
	},
	{
		name: "backup", synopsis: "FILE",
		summary: "write a consistent copy of the database",
		about: `Writes a copy of the database that opens as it is. The bot must be stopped;
while it runs, use the admin API: GET /api/admin/backup.`,
		examples: `  idicbot backup /srv/backup/idicbot-$(date +%F).db`,
		args:     argsExactly(1, "the FILE to write"),
	},
	{
		name: "check", summary: "verify that every index and count agrees with the records",
		about:    `Reads the whole database and prints each disagreement; exits 1 if there is one.`,
		examples: `  idicbot check --data /var/lib/idicbot`,
		args:     argsExactly(0, ""),
	},
	{
		name: "customer", synopsis: "export ID | erase ID --yes",
		summary: "export everything stored about a customer, or erase their personal data",
		about: `export writes everything stored about customer ID as JSON to stdout.
erase removes their personal data, irreversibly (backups taken before still
hold it); it asks for --yes.`,
		examples: `  idicbot customer export 42 > khach-42.json
  idicbot customer erase 42 --yes`,
		flags: func(m *Main, fs *flag.FlagSet) {
			fs.BoolVar(&m.Yes, "yes", false, "confirm an erase (it cannot be undone)")
		},
		args: func(m *Main, args []string) error {
			if len(args) != 2 {
				return usagef("customer", "customer needs export ID or erase ID")
			}
			if args[0] != "export" && args[0] != "erase" {
				return usagef("customer", "customer: unknown action %q: export or erase", args[0])
			}
			if n, err := strconv.ParseUint(args[1], 10, 64); err != nil || n == 0 {
				return usagef("customer", "customer %s: %q is not a customer id", args[0], args[1])
			}
			if args[0] == "erase" && !m.Yes {
				return usagef("customer", "customer erase: erasing customer %s cannot be undone; add --yes to confirm", args[1])
			}
			return nil
		},
	},
	{
		name: "migrate-store", synopsis: "--to DEST [--from SRC] [--force]",
		summary: "copy the shop between stores: a data directory and PostgreSQL",
		about: `Copies everything (customers, identities, conversations, orders, offers and
their versions, events, outbox, settings, tokens) from SRC (default: the data
directory) to DEST, each a data directory or a postgres:// URL, then counts both
and compares a sample record by record. A DEST that holds anything is refused
unless --force. Stop every idicbot using either first. docs/postgres.md.`,
		examples: `  idicbot migrate-store --to "$IDICBOT_DATABASE_URL"
  idicbot migrate-store --from "$IDICBOT_DATABASE_URL" --to ./data-back`,
		flags: func(m *Main, fs *flag.FlagSet) { m.migrate.flags(fs) },
		args: func(m *Main, args []string) error {
			if len(args) != 0 {
				return usagef("migrate-store", "migrate-store takes no arguments, got %q", strings.Join(args, " "))
			}
			if m.migrate.to == "" {
				return usagef("migrate-store", "migrate-store needs --to: a data directory or postgres://…")
			}
			return nil
		},
	},
	{
		name: "completion", synopsis: "bash",
		summary: "print the bash completion script",
		about:   `Prints a bash script that completes commands, flags and file names.`,
		examples: `  source <(idicbot completion bash)
  idicbot completion bash | sudo tee /etc/bash_completion.d/idicbot`,
		args: func(m *Main, args []string) error {
			if len(args) != 1 || args[0] != "bash" {
				return usagef("completion", "completion needs the shell: bash")
			}
			return nil
		},
	},
	{
		name: "version", summary: "print the version and exit",
		about: `Prints the version, the commit it was built from, the Go version and the platform.`,
		examples: `  idicbot version
  idicbot --version`,
		args: argsExactly(0, ""),
	},
}

func findCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// printUsage writes `idicbot help`.
func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("idicbot — a conversational CRM on chat channels\n\nUsage:\n  idicbot <command> [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString(`  help      help on a command: idicbot help import

With no command, idicbot runs serve. Every command takes --config FILE and
--data DIR; 'idicbot <command> -h' shows its flags and examples. Settings:
configs/idicbot.yaml; the environment (IDICBOT_ADDR, IDICBOT_DATA,
IDICBOT_CONFIG, IDICBOT_LOG_LEVEL, IDICBOT_LOG_FORMAT) wins over the file.
`)
	io.WriteString(w, b.String())
}

// printCommandHelp writes `idicbot CMD -h`.
func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: idicbot %s [flags]", c.name)
	if c.synopsis != "" {
		fmt.Fprintf(w, " %s", c.synopsis)
	}
	fmt.Fprintf(w, "\n\n%s\n\nFlags:\n", c.about)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "\nExamples:\n%s\n", c.examples)
}

// parseInterleaved parses flags placed before, between or after the
// positional arguments (`offers import f.yaml --dry-run`); "--" ends flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		before := len(args)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Parse stops at "--" (consumed) or at the first non-flag.
		if consumed := before - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
