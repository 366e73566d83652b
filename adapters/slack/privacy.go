package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// RegisterPrivacyCommands adds the admin subcommands "export" and "erase"
// (SLACK_ADMIN_IDS only; reps and others get a refusal): a customer's data
// rights. Call it before Open.
//
// /crm export answers a summary (what is kept, how many records of each
// kind) and not the JSON itself: a whole conversation history is too large
// for a Slack message, and a file upload would leave a copy of the personal
// data in the Slack workspace. The full JSON comes from the admin API (GET
// /api/admin/customers/ID/export) or `idicbot customer export ID`.
func (a *Adapter) RegisterPrivacyCommands(p *bot.Privacy) error {
	if p == nil {
		return nil
	}
	if err := a.Register(Subcommand{Name: "export", Usage: "export <id>",
		Help:  "what is stored about a customer (data access request); the full JSON comes from the admin API or `idicbot customer export`",
		Admin: true, Run: func(ctx context.Context, req Request) (*Reply, error) { return cmdExport(ctx, p, req) }}); err != nil {
		return err
	}
	return a.Register(Subcommand{Name: "erase", Usage: "erase <id> confirm",
		Help:  "erase a customer's personal data (name, phones, emails, channel ids, messages), irreversibly; orders and counts stay, anonymised",
		Admin: true, Run: func(ctx context.Context, req Request) (*Reply, error) { return a.cmdErase(ctx, p, req) }})
}

// privacyID reads the customer id of /crm export and /crm erase: an id
// only, since an erase must name exactly one record.
func privacyID(req Request, usage string) (crm.ID, error) {
	if len(req.Args) == 0 {
		return 0, crm.Errorf(crm.EINVALID, "Usage: /crm %s", usage)
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(req.Args[0], "#"), 10, 64)
	if err != nil || n == 0 {
		return 0, crm.Errorf(crm.EINVALID, "Usage: /crm %s (the customer's id: find it with /crm find)", usage)
	}
	return crm.ID(n), nil
}

func cmdExport(ctx context.Context, p *bot.Privacy, req Request) (*Reply, error) {
	id, err := privacyID(req, "export <id>")
	if err != nil {
		return nil, err
	}
	x, err := p.Export(ctx, id)
	if err != nil {
		return nil, err
	}
	c := x.Customer
	var b strings.Builder
	fmt.Fprintf(&b, "*Customer #%d*", c.ID)
	if len(x.MergedIDs) > 0 {
		ids := make([]string, len(x.MergedIDs))
		for i, m := range x.MergedIDs {
			ids[i] = "#" + strconv.FormatUint(uint64(m), 10)
		}
		fmt.Fprintf(&b, " (merged from %s)", strings.Join(ids, ", "))
	}
	if e := x.Erasure; e != nil {
		fmt.Fprintf(&b, " — erased %s by %s", e.At.UTC().Format(time.RFC3339), escape(e.By))
	}
	var offers, moves int
	for _, e := range x.Events {
		switch e.Kind {
		case crm.EventOfferShown, crm.EventOfferAccepted, crm.EventOfferDeclined, crm.EventOfferMore:
			offers++
		case crm.EventSegmentChange:
			moves++
		}
	}
	fmt.Fprintf(&b, "\n%d identities, %d messages, %d orders, %d offer events, %d segment changes, %d queued replies",
		len(c.Identities), len(x.Interactions), len(x.Orders), offers, moves, len(x.Outbox))
	if c.Consent.OptedOut {
		fmt.Fprintf(&b, "; opted out of offers since %s", c.Consent.Since.UTC().Format("2006-01-02"))
	}
	fmt.Fprintf(&b, "\nThe full JSON (profile, identities, consent, conversations, orders, offers, segment history): `idicbot customer export %d`, or `GET /api/admin/customers/%d/export` with the admin token.", c.ID, c.ID)
	return &Reply{Text: b.String()}, nil
}

func (a *Adapter) cmdErase(ctx context.Context, p *bot.Privacy, req Request) (*Reply, error) {
	const usage = "erase <id> confirm"
	id, err := privacyID(req, usage)
	if err != nil {
		return nil, err
	}
	if len(req.Args) != 2 || !strings.EqualFold(req.Args[1], "confirm") {
		return nil, crm.Errorf(crm.EINVALID, "Erasing customer %d cannot be undone: type /crm erase %d confirm", id, id)
	}
	e, err := p.Erase(ctx, id, req.Agent)
	if e == nil {
		return nil, err
	}
	text := fmt.Sprintf("🗑️ Customer #%d's personal data is erased (recorded: %s, %s). Orders and counts stay, anonymised. Backups taken before still hold their data.",
		e.CustomerID, escape(e.By), e.At.UTC().Format(time.RFC3339))
	if err != nil {
		a.log.Error("slack: erase: compaction", "customer", id, "err", err)
		text += " The data file will be compacted when idicbot restarts."
	}
	return &Reply{Text: text}, nil
}
