package slack

// The admins' campaign commands: /crm campaign list | <id> | preview
// <segment|all> <text> | new <id> <segment|all> <text> | pause | resume |
// cancel <id>. A campaign made here is a text to a segment, at once; the
// admin API takes offers, rules and a start time.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Campaigns is what the campaign commands use. *bot.Outreach implements it.
type Campaigns interface {
	CreateCampaign(ctx context.Context, c *crm.Campaign, who string) (*crm.Campaign, error)
	ListCampaigns(ctx context.Context) ([]*bot.CampaignProgress, error)
	Progress(ctx context.Context, id string) (*bot.CampaignProgress, error)
	Preview(ctx context.Context, c *crm.Campaign) (*bot.CampaignPreview, error)
	PauseCampaign(ctx context.Context, id string) (*crm.Campaign, error)
	ResumeCampaign(ctx context.Context, id string) (*crm.Campaign, error)
	CancelCampaign(ctx context.Context, id string) (*crm.Campaign, error)
	Stats(ctx context.Context, id string) (*bot.CampaignStats, error)
}

var _ Campaigns = (*bot.Outreach)(nil)

const campaignUsage = "Usage: /crm campaign list | <id> | preview <segment|all> <text> | new <id> <segment|all> <text> | pause <id> | resume <id> | cancel <id>"

// RegisterCampaignCommands adds the admin subcommand "campaign"
// (SLACK_ADMIN_IDS only). Call it before Open.
func (a *Adapter) RegisterCampaignCommands(c Campaigns) error {
	a.mu.Lock()
	a.campaigns = c
	a.mu.Unlock()
	return a.Register(Subcommand{Name: "campaign",
		Usage: "campaign list | <id> | preview <segment|all> <text> | new <id> <segment|all> <text> | pause | resume | cancel <id>",
		Help:  "campaigns and journeys: progress and results, a preview (who is skipped and why), a new one to a segment, pause, resume, cancel: `/crm campaign new tet vip Chúc mừng năm mới!`",
		Admin: true,
		Run: func(ctx context.Context, req Request) (*Reply, error) {
			return cmdCampaign(ctx, c, req)
		}})
}

func cmdCampaign(ctx context.Context, c Campaigns, req Request) (*Reply, error) {
	if len(req.Args) == 0 {
		return nil, crm.Errorf(crm.EINVALID, campaignUsage)
	}
	verb := strings.ToLower(req.Args[0])
	switch verb {
	case "list":
		list, err := c.ListCampaigns(ctx)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return &Reply{Text: "No campaigns yet. Start one: `/crm campaign new <id> <segment|all> <text>`"}, nil
		}
		var b strings.Builder
		for i, p := range list {
			if i == 20 {
				fmt.Fprintf(&b, "… and %d more", len(list)-20)
				break
			}
			fmt.Fprintf(&b, "• `%s` %s — %s\n", escape(p.ID), escape(p.Name), progressLine(p))
		}
		return &Reply{Text: b.String()}, nil
	case "preview", "new":
		least := 3
		if verb == "new" {
			least = 4
		}
		if len(req.Args) < least {
			return nil, crm.Errorf(crm.EINVALID, campaignUsage)
		}
		camp := &crm.Campaign{Name: "slack"}
		args := req.Args[1:]
		if verb == "new" {
			camp.ID, camp.Name, args = strings.ToLower(args[0]), args[0], args[1:]
		}
		if seg := strings.ToLower(args[0]); seg != "all" {
			camp.Audience.Segments = []string{seg}
		}
		camp.Text = map[string]string{"vi": textAfter(req.Rest, req.Args[:len(req.Args)-len(args)+1])}
		if verb == "preview" {
			p, err := c.Preview(ctx, camp)
			if err != nil {
				return nil, err
			}
			return &Reply{Text: previewText(p)}, nil
		}
		if _, err := c.CreateCampaign(ctx, camp, "slack:"+req.UserID); err != nil {
			return nil, err
		}
		return &Reply{Text: fmt.Sprintf("Campaign `%s` starts now. Follow it with `/crm campaign %s`.", escape(camp.ID), escape(camp.ID))}, nil
	case "pause", "resume", "cancel":
		if len(req.Args) != 2 {
			return nil, crm.Errorf(crm.EINVALID, "Usage: /crm campaign %s <id>", verb)
		}
		f := map[string]func(context.Context, string) (*crm.Campaign, error){
			"pause": c.PauseCampaign, "resume": c.ResumeCampaign, "cancel": c.CancelCampaign}[verb]
		camp, err := f(ctx, strings.ToLower(req.Args[1]))
		if err != nil {
			return nil, err
		}
		return &Reply{Text: fmt.Sprintf("Campaign `%s` is %s.", escape(camp.ID), camp.Status)}, nil
	}
	if len(req.Args) != 1 {
		return nil, crm.Errorf(crm.EINVALID, campaignUsage)
	}
	p, err := c.Progress(ctx, strings.ToLower(verb))
	if err != nil {
		return nil, err
	}
	st, err := c.Stats(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("*%s* (`%s`, %s)\n%s\nDelivered %d · replied within 48 h %d (%.0f%%) · accepted %d · orders within %d days %d, %s · opt-outs %d",
		escape(p.Name), escape(p.ID), p.Kind, progressLine(p), st.Delivered, st.Replied48h, st.ResponseRate*100, st.Accepted,
		bot.AttributionDays, st.Orders, crm.VND(st.Revenue), st.OptOuts)
	return &Reply{Text: text}, nil
}

// textAfter is what the rep typed after the words used.
func textAfter(rest string, used []string) string {
	for _, w := range used {
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, w)
	}
	return strings.TrimSpace(rest)
}

func progressLine(p *bot.CampaignProgress) string {
	s := fmt.Sprintf("%s: sent %d, skipped %d, failed %d, remaining %d", p.Status, p.Sent, p.SkippedTotal(), p.Failed, p.Remaining)
	if !p.ETA.IsZero() {
		s += ", done about " + p.ETA.Format(time.DateTime)
	}
	return s
}

func previewText(p *bot.CampaignPreview) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Audience %d.\n", p.Audience)
	for _, part := range []struct {
		label string
		m     map[string]int64
	}{{"Would send", p.Send}, {"Skipped", p.Skipped}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(part.label + ":")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s %d;", escape(k), part.m[k])
		}
		b.WriteString("\n")
	}
	langs := make([]string, 0, len(p.Samples))
	for l := range p.Samples {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		fmt.Fprintf(&b, "[%s] %s\n", l, escape(p.Samples[l]))
	}
	return b.String()
}

// addCampaignStats adds to /crm stats the results of the campaigns and
// journey occurrences started in the period (the last days days, shop
// time as the core's clock reads it).
func (a *Adapter) addCampaignStats(ctx context.Context, r *Reply, days int) error {
	a.mu.Lock()
	c := a.campaigns
	a.mu.Unlock()
	if c == nil {
		return nil
	}
	list, err := c.ListCampaigns(ctx)
	if err != nil {
		return err
	}
	now := a.core.Now()
	y, m, d := now.Date()
	since := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).AddDate(0, 0, 1-days)
	var b strings.Builder
	b.WriteString("*Campaigns and journeys*:")
	n := 0
	for _, p := range list {
		if p.CreatedAt.Before(since) {
			continue
		}
		if n++; n > 10 {
			b.WriteString("\n• … `/crm campaign list` for all")
			break
		}
		st, err := c.Stats(ctx, p.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n• %s: delivered %d · replied within 48 h %d (%.0f%%) · accepted %d · orders %d, %s · opt-outs %d",
			escape(p.Name), st.Delivered, st.Replied48h, st.ResponseRate*100, st.Accepted, st.Orders, crm.VND(st.Revenue), st.OptOuts)
	}
	if n == 0 {
		b.WriteString(" none")
	}
	r.Text += "\n" + b.String()
	r.Blocks = append(r.Blocks, slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, b.String(), false, false), nil, nil))
	return nil
}
