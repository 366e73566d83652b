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
	"github.com/idicbot/idicbot/i18n"
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

// RegisterCampaignCommands adds the admin subcommand "campaign"
// (SLACK_ADMIN_IDS only). Call it before Open. Its usage and help come
// from the catalog ("usage.campaign", "help.campaign"); these are the
// fallbacks.
func (a *Adapter) RegisterCampaignCommands(c Campaigns) error {
	a.mu.Lock()
	a.campaigns = c
	a.mu.Unlock()
	return a.Register(Subcommand{Name: "campaign",
		Usage: "campaign list | <id> | preview <segment|all> <text> | new <id> <segment|all> <text> | pause | resume | cancel <id>",
		Help:  "campaigns and journeys: progress and results, a preview (who is skipped and why), a new one to a segment, pause, resume, cancel",
		Admin: true,
		Run: func(ctx context.Context, req Request) (*Reply, error) {
			return a.cmdCampaign(ctx, c, req)
		}})
}

func (a *Adapter) cmdCampaign(ctx context.Context, c Campaigns, req Request) (*Reply, error) {
	t := req.T
	v := a.view(t)
	if len(req.Args) == 0 {
		return nil, a.usageErr(t, "campaign")
	}
	verb := strings.ToLower(req.Args[0])
	switch verb {
	case "list":
		list, err := c.ListCampaigns(ctx)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return &Reply{Text: t.T("campaign.none")}, nil
		}
		var b strings.Builder
		for i, p := range list {
			if i == 20 {
				b.WriteString(t.T("campaign.more", len(list)-20))
				break
			}
			b.WriteString(t.T("campaign.line", escape(p.ID), escape(p.Name), v.progressLine(p)) + "\n")
		}
		return &Reply{Text: b.String()}, nil
	case "preview", "new":
		least := 3
		if verb == "new" {
			least = 4
		}
		if len(req.Args) < least {
			return nil, a.usageErr(t, "campaign")
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
			return &Reply{Text: v.previewText(p)}, nil
		}
		if _, err := c.CreateCampaign(ctx, camp, "slack:"+req.UserID); err != nil {
			return nil, err
		}
		return &Reply{Text: t.T("campaign.started", escape(camp.ID))}, nil
	case "pause", "resume", "cancel":
		if len(req.Args) != 2 {
			return nil, crm.Errorf(crm.EINVALID, "%s", t.T("campaign.usageVerb", verb))
		}
		f := map[string]func(context.Context, string) (*crm.Campaign, error){
			"pause": c.PauseCampaign, "resume": c.ResumeCampaign, "cancel": c.CancelCampaign}[verb]
		camp, err := f(ctx, strings.ToLower(req.Args[1]))
		if err != nil {
			return nil, err
		}
		return &Reply{Text: t.T("campaign.steered", escape(camp.ID), v.campaignStatus(camp.Status))}, nil
	}
	if len(req.Args) != 1 {
		return nil, a.usageErr(t, "campaign")
	}
	p, err := c.Progress(ctx, strings.ToLower(verb))
	if err != nil {
		return nil, err
	}
	st, err := c.Stats(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	progress := v.progressLine(p)
	if len(p.Skipped) > 0 {
		progress += "\n" + t.T("campaign.skippedBy", v.skipCounts(p.Skipped))
	}
	measures := t.T("campaign.measures", st.Delivered, st.Replied48h, percent(st.ResponseRate), st.Accepted,
		bot.AttributionDays, st.Orders, crm.VND(st.Revenue), st.OptOuts)
	kind := p.Kind
	if catalog.Has("campaign.kind." + kind) {
		kind = t.T("campaign.kind." + kind)
	}
	return &Reply{Text: t.T("campaign.card", escape(p.Name), escape(p.ID), kind, v.audience(p.Audience), progress, measures)}, nil
}

// audience names an audience: its segments by the shop's labels and its
// rule, or everyone.
func (v view) audience(a crm.Audience) string {
	var parts []string
	if len(a.Segments) > 0 {
		labels := make([]string, 0, len(a.Segments))
		for _, s := range a.Segments {
			labels = append(labels, v.seg(s))
		}
		parts = append(parts, strings.Join(labels, ", "))
	}
	if a.Rule != "" {
		parts = append(parts, "`"+a.Rule+"`")
	}
	if len(parts) == 0 {
		return v.t.T("campaign.everyone")
	}
	return escape(strings.Join(parts, " · "))
}

func percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// campaignStatus is a campaign's status in the reader's language.
func (v view) campaignStatus(s string) string {
	if catalog.Has("campaign.st." + s) {
		return v.t.T("campaign.st." + s)
	}
	return s
}

// skipReason is why a customer was skipped, in the reader's language.
func (v view) skipReason(r string) string {
	if catalog.Has("campaign.skip." + r) {
		return v.t.T("campaign.skip." + r)
	}
	return r
}

// skipCounts lists skip reasons with their counts, most first.
func (v view) skipCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, v.t.T("campaign.count", escape(v.skipReason(k)), m[k]))
	}
	return v.orNone(strings.Join(out, " · "))
}

// textAfter is what the rep typed after the words used.
func textAfter(rest string, used []string) string {
	for _, w := range used {
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, w)
	}
	return strings.TrimSpace(rest)
}

// progressLine is a campaign's status and counts, with its ETA in the
// shop's time while it runs.
func (v view) progressLine(p *bot.CampaignProgress) string {
	s := v.t.T("campaign.progress", v.campaignStatus(p.Status), p.Sent, p.SkippedTotal(), p.Failed, p.Remaining)
	if !p.ETA.IsZero() {
		s += v.t.T("campaign.eta", when(p.ETA.In(v.now.Location())))
	}
	return s
}

// previewText is a preview: audience, sends per channel, skips per reason
// (a few skipped customers named), the message per language.
func (v view) previewText(p *bot.CampaignPreview) string {
	t := v.t
	lines := []string{t.T("campaign.previewAudience", p.Audience)}
	chans := make([]string, 0, len(p.Send))
	for k := range p.Send {
		chans = append(chans, k)
	}
	sort.Strings(chans)
	var send []string
	for _, k := range chans {
		send = append(send, t.T("campaign.count", escape(k), p.Send[k]))
	}
	lines = append(lines, t.T("campaign.wouldSend", v.orNone(strings.Join(send, " · "))),
		t.T("campaign.wouldSkip", v.skipCounts(p.Skipped)))
	if len(p.SkipNames) > 0 {
		var named []string
		for i, k := range p.SkipNames {
			if i == 5 {
				named = append(named, "…")
				break
			}
			name := v.t.T("customer.unnamed", num(k.ID))
			if k.Name != "" {
				name = v.t.T("customer.named", k.Name, num(k.ID))
			}
			named = append(named, escape(name)+" ("+escape(v.skipReason(k.Reason))+")")
		}
		lines = append(lines, t.T("campaign.skipNamed", strings.Join(named, ", ")))
	}
	langs := make([]string, 0, len(p.Samples))
	for l := range p.Samples {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		name := l
		if catalog.Has("lang.name." + l) {
			name = t.T("lang.name." + l)
		}
		lines = append(lines, t.T("campaign.sample", name, escape(p.Samples[l])))
	}
	return strings.Join(lines, "\n")
}

// addCampaignStats adds to /crm stats the results of the campaigns and
// journey occurrences started in the period (the last days days, shop
// time as the core's clock reads it).
func (a *Adapter) addCampaignStats(ctx context.Context, t *i18n.Printer, r *Reply, days int) error {
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
	b.WriteString(t.T("campaign.statsTitle"))
	n := 0
	for _, p := range list {
		if p.CreatedAt.Before(since) {
			continue
		}
		if n++; n > 10 {
			b.WriteString(t.T("campaign.statsMore"))
			break
		}
		st, err := c.Stats(ctx, p.ID)
		if err != nil {
			return err
		}
		b.WriteString(t.T("campaign.statsLine", escape(p.Name), st.Delivered, st.Replied48h, percent(st.ResponseRate), st.Accepted,
			st.Orders, crm.VND(st.Revenue), st.OptOuts))
	}
	if n == 0 {
		b.WriteString(t.T("campaign.statsNone"))
	}
	r.Text += "\n" + b.String()
	r.Blocks = append(r.Blocks, slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, b.String(), false, false), nil, nil))
	return nil
}
