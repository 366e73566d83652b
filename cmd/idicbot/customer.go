package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// runCustomer runs `idicbot customer export|erase ID`: a customer's data
// rights (issue 14). The bot must be stopped (the file is locked); with the
// bot running, the admin API does the same.
func (m *Main) runCustomer(ctx context.Context) error {
	// ParseFlags checked the action, the id and --yes.
	action := m.Args[0]
	n, _ := strconv.ParseUint(m.Args[1], 10, 64)
	id := crm.ID(n)
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
