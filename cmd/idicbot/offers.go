package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// runOffers runs `idicbot offers export|import`. The database is the source
// of truth for offers once seeded; these let admins who keep offers in git
// round-trip them through a file.
func (m *Main) runOffers(ctx context.Context) error {
	if m.Core == nil {
		if err := m.open(ctx); err != nil {
			return err
		}
	}
	// Validate against the segments the bot uses, edited ones included.
	if err := m.Core.LoadSegmentRules(ctx); err != nil {
		return err
	}
	switch m.Args[0] {
	case "export":
		data, err := m.Core.OfferAdmin().ExportOffers(ctx)
		if err != nil {
			return err
		}
		_, err = m.Stdout.Write(data)
		return err
	case "import":
		return m.importOffers(ctx, m.Args[1:])
	}
	return usagef("offers", "offers: unknown action %q", m.Args[0])
}

func (m *Main) importOffers(ctx context.Context, args []string) error {
	path := args[0]
	var data []byte
	var err error
	name := filepath.Base(path)
	if path == "-" {
		data, err = io.ReadAll(m.Stdin)
		name = "stdin"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("offers import: %w", err)
	}
	who := m.Getenv("USER")
	if who == "" {
		who = "idicbot"
	}
	rep, err := m.Core.OfferAdmin().ImportOffers(ctx, name, data, m.DryRun, who+" (cli)")
	if err != nil {
		var inv *crm.InvalidOfferError
		if errors.As(err, &inv) {
			return fmt.Errorf("offers import: nothing changed; %s has %d problem(s):\n%s", name, len(inv.Problems), problemLines(inv.Problems))
		}
		if crm.ErrorCode(err) == crm.EINVALID {
			return fmt.Errorf("offers import: nothing changed:\n%s", crm.ErrorMessage(err))
		}
		return fmt.Errorf("offers import: %w", err)
	}
	verb := "imported"
	if m.DryRun {
		verb = "dry run, nothing changed; would import"
	}
	list := func(ids []string) string {
		if len(ids) == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%s)", len(ids), strings.Join(ids, ", "))
	}
	fmt.Fprintf(m.Stdout, "%s %s: created %s, updated %s, unchanged %d\n", verb, name, list(rep.Created), list(rep.Updated), len(rep.Unchanged))
	if len(rep.Kept) > 0 {
		fmt.Fprintf(m.Stdout, "offers not in the file are kept as they are: %s\n", strings.Join(rep.Kept, ", "))
	}
	return nil
}

// problemLines lists problems one a line, each under its offer: "  offer
// vip-care: templates.vi line 2, column 6 (sample vip customer): reason".
func problemLines(probs []crm.Problem) string {
	lines := make([]string, len(probs))
	for i, p := range probs {
		lines[i] = "  " + p.String()
		if p.Offer != "" {
			lines[i] = "  offer " + p.Offer + ": " + p.String()
		}
	}
	return strings.Join(lines, "\n")
}
