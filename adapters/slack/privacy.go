package slack

import (
	"context"
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
func privacyID(req Request, sub string) (crm.ID, error) {
	usage := req.T.T("usage." + sub)
	if len(req.Args) == 0 {
		return 0, crm.Errorf(crm.EINVALID, "%s", req.T.T("cmd.usage", usage))
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(req.Args[0], "#"), 10, 64)
	if err != nil || n == 0 {
		return 0, crm.Errorf(crm.EINVALID, "%s", req.T.T("privacy.usage", usage))
	}
	return crm.ID(n), nil
}

func cmdExport(ctx context.Context, p *bot.Privacy, req Request) (*Reply, error) {
	id, err := privacyID(req, "export")
	if err != nil {
		return nil, err
	}
	x, err := p.Export(ctx, id)
	if err != nil {
		return nil, err
	}
	c := x.Customer
	t := req.T
	id10 := strconv.FormatUint(uint64(c.ID), 10)
	var b strings.Builder
	b.WriteString(t.T("export.title", num(c.ID)))
	if len(x.MergedIDs) > 0 {
		ids := make([]string, len(x.MergedIDs))
		for i, m := range x.MergedIDs {
			ids[i] = num(m)
		}
		b.WriteString(t.T("export.merged", strings.Join(ids, ", ")))
	}
	if e := x.Erasure; e != nil {
		b.WriteString(t.T("export.erased", e.At.UTC().Format(time.RFC3339), escape(e.By)))
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
	b.WriteString("\n" + strings.Join([]string{
		t.T("n.identities", len(c.Identities)), t.T("n.messages", len(x.Interactions)), t.T("n.orders", len(x.Orders)),
		t.T("n.offerEvents", offers), t.T("n.segChanges", moves), t.T("n.queued", len(x.Outbox)),
	}, ", "))
	if c.Consent.OptedOut {
		b.WriteString(t.T("export.optout", c.Consent.Since.UTC().Format("2006-01-02")))
	}
	b.WriteString("\n" + t.T("export.full", id10))
	return &Reply{Text: b.String()}, nil
}

func (a *Adapter) cmdErase(ctx context.Context, p *bot.Privacy, req Request) (*Reply, error) {
	id, err := privacyID(req, "erase")
	if err != nil {
		return nil, err
	}
	if len(req.Args) != 2 || !strings.EqualFold(req.Args[1], "confirm") {
		return nil, crm.Errorf(crm.EINVALID, "%s", req.T.T("erase.confirm", strconv.FormatUint(uint64(id), 10)))
	}
	e, err := p.Erase(ctx, id, req.Agent)
	if e == nil {
		return nil, err
	}
	text := req.T.T("erase.done", num(e.CustomerID), escape(e.By), e.At.UTC().Format(time.RFC3339))
	if err != nil {
		a.log.Error("slack: erase: compaction", "customer", id, "err", err)
		text += req.T.T("erase.compact")
	}
	return &Reply{Text: text}, nil
}
