package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

const customerUsage = `usage:
  idicbot customer [flags] export ID        write everything stored about customer ID as JSON to stdout
  idicbot customer [flags] erase ID --yes   erase customer ID's personal data, irreversibly
                                            (backups taken before still hold it)`

// runCustomer runs `idicbot customer export|erase ID`: a customer's data
// rights (issue 14). The bot must be stopped (the file is locked); with the
// bot running, the admin API does the same.
func (m *Main) runCustomer(ctx context.Context) error {
	if len(m.Args) < 2 {
		return errors.New(customerUsage)
	}
	action := m.Args[0]
	fs := flag.NewFlagSet("idicbot customer "+action, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	yes := fs.Bool("yes", false, "confirm an erase (it cannot be undone)")
	// Accept the flag before or after the id.
	var rest []string
	for args := m.Args[1:]; len(args) > 0; {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if args = fs.Args(); len(args) > 0 {
			rest, args = append(rest, args[0]), args[1:]
		}
	}
	if len(rest) != 1 {
		return errors.New(customerUsage)
	}
	n, err := strconv.ParseUint(rest[0], 10, 64)
	if err != nil || n == 0 {
		return fmt.Errorf("customer %s: %q is not a customer id\n%s", action, rest[0], customerUsage)
	}
	id := crm.ID(n)
	switch action {
	case "export", "erase":
	default:
		return fmt.Errorf("customer: unknown action %q\n%s", action, customerUsage)
	}
	if action == "erase" && !*yes {
		return fmt.Errorf("customer erase: erasing customer %d cannot be undone; add --yes to confirm\n%s", id, customerUsage)
	}
	if m.DB == nil {
		if err := m.open(ctx); err != nil {
			return err
		}
	}
	p := bot.NewPrivacy(m.DB, m.DB, m.Now)
	if action == "export" {
		x, err := p.Export(ctx, id)
		if err != nil {
			return cliError("customer export", err)
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	who := m.Getenv("USER")
	if who == "" {
		who = "idicbot"
	}
	e, err := p.Erase(ctx, id, who+" (cli)")
	if err != nil {
		return cliError("customer erase", err)
	}
	fmt.Fprintf(m.Stdout, "customer %d erased at %s by %s; backups taken before still hold their data\n",
		e.CustomerID, e.At.Format(time.RFC3339), e.By)
	return nil
}

// cliError shows a domain error's message (not found, already erased) and
// keeps internal errors whole.
func cliError(what string, err error) error {
	if code := crm.ErrorCode(err); code != crm.EINTERNAL {
		return fmt.Errorf("%s: %s", what, crm.ErrorMessage(err))
	}
	return fmt.Errorf("%s: %w", what, err)
}
