package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/adapters/internal/chart"
	rv "github.com/idicbot/idicbot/adapters/internal/reportview"
	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// Reports computes the owner's reports; *report.Service implements it.
type Reports interface {
	LastDays(n int) (report.Period, error)
	Between(from, to string) (report.Period, error)
	Report(ctx context.Context, p report.Period) (*report.Report, error)
}

var _ Reports = (*report.Service)(nil)

const reportUsage = "report [7d | 30d | 90d | <from> <to>] [charts] [en]"

// RegisterReportCommands adds /crm report: the owner's figures for a
// period against the one before, in Vietnamese (en: English); "charts"
// also posts the charts to the channel as PNG images. Admins only: it
// shows revenue.
func (a *Adapter) RegisterReportCommands(r Reports) error {
	if r == nil {
		return errors.New("slack: /crm report needs a report service")
	}
	return a.Register(Subcommand{Name: "report", Usage: reportUsage,
		Help:  "the shop's figures against the previous period: revenue, offer funnel, new customers, churn and win-back, retention, customer value, response; `charts` posts the charts: `/crm report 30d`, `/crm report 2026-11-01 2026-11-30 charts`",
		Admin: true, Run: func(ctx context.Context, req Request) (*Reply, error) { return a.cmdReport(ctx, r, req) }})
}

func (a *Adapter) cmdReport(ctx context.Context, r Reports, req Request) (*Reply, error) {
	lang, charts := "vi", false
	if req.T != nil && req.T.Lang() == i18n.English {
		lang = "en" // the rep chose English (/crm lang en)
	}
	usage := func() error {
		if req.T != nil {
			return crm.Errorf(crm.EINVALID, "%s", req.T.T("cmd.usage", req.T.T("usage.report")))
		}
		return crm.Errorf(crm.EINVALID, "Usage: /crm %s", reportUsage)
	}
	var dates []string
	days := 30
	for _, arg := range req.Args {
		switch x := strings.ToLower(arg); {
		case x == "en" || x == "english":
			lang = "en"
		case x == "vi":
			lang = "vi"
		case x == "charts" || x == "chart" || x == "biểu-đồ" || x == "bieudo":
			charts = true
		case strings.HasSuffix(x, "d") && len(x) > 1:
			n, err := strconv.Atoi(strings.TrimSuffix(x, "d"))
			if err != nil {
				return nil, usage()
			}
			days = n
		case len(x) == len("2006-01-02") && strings.Count(x, "-") == 2:
			dates = append(dates, x)
		default:
			return nil, usage()
		}
	}
	var p report.Period
	var err error
	switch len(dates) {
	case 0:
		p, err = r.LastDays(days)
	case 2:
		p, err = r.Between(dates[0], dates[1])
	default:
		return nil, usage()
	}
	if err != nil {
		return nil, err
	}
	rep, err := r.Report(ctx, p)
	if err != nil {
		return nil, err
	}
	reply := renderReport(rep, lang)
	if charts {
		if err := a.postCharts(ctx, req.ChannelID, rep, lang); err != nil {
			return nil, err
		}
		reply.Public = true
	}
	return reply, nil
}

// postCharts uploads the report's charts as PNG images to channel.
func (a *Adapter) postCharts(ctx context.Context, channel string, rep *report.Report, lang string) error {
	for _, name := range rv.ChartNames {
		ch, ok := rv.Chart(rep, name, lang)
		if !ok {
			continue
		}
		img, err := chart.PNG(ch)
		if err != nil {
			return fmt.Errorf("draw chart %s: %w", name, err)
		}
		title := rv.T(lang, map[string]string{"revenue": "revenue_day", "new_customers": "new_day", "funnel": "funnel", "segments": "segments", "cohorts": "cohorts"}[name])
		_, err = a.api.UploadFileContext(ctx, slackapi.UploadFileParameters{
			Reader: bytes.NewReader(img), FileSize: len(img), Filename: "idicbot-" + name + ".png",
			Title: title + " · " + rep.Period.Label(), AltTxt: title, Channel: channel,
		})
		if err != nil {
			return fmt.Errorf("post chart %s to Slack: %w", name, err)
		}
	}
	return nil
}

// renderReport writes the report as Slack text, Vietnamese unless lang is en.
func renderReport(rep *report.Report, lang string) *Reply {
	t := func(k string) string { return rv.T(lang, k) }
	pct := func(x float64) string { return rv.Percent(lang, x) }
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	s, f, c, sg, r := rep.Sales, rep.Funnel, rep.Customers, rep.Segments, rep.Response
	head := fmt.Sprintf("*%s %s* _(%s: %s · %s)_", t("title"), rep.Period.Label(), t("previous"), rep.Previous.Label(), rep.Zone)
	lines := []string{
		fmt.Sprintf("• *%s*: %s (%s %s, %s) · %s: %s", t("revenue"), crm.VND(s.Revenue), t("previous"), crm.VND(s.PrevRevenue),
			rv.Change(lang, float64(s.Revenue), float64(s.PrevRevenue)), t("orders"), n(s.Orders)),
		fmt.Sprintf("• *%s*: %s %s → %s %s → %s %s (%s), %s", t("funnel"), n(f.Total.Shown), strings.ToLower(t("shown")),
			n(f.Total.Accepted), strings.ToLower(t("accepted")), n(f.Total.Ordered), strings.ToLower(t("ordered")), pct(f.Total.OrderRate()), crm.VND(f.Total.Revenue)),
	}
	for i, o := range f.ByOffer {
		if i == 3 {
			break
		}
		lines = append(lines, fmt.Sprintf("    ◦ %s: %s → %s → %s (%s), %s", escape(o.Offer), n(o.Shown), n(o.Accepted), n(o.Ordered), pct(o.OrderRate()), crm.VND(o.Revenue)))
	}
	var chans []string
	for i, x := range c.ByChannel {
		if i == 4 {
			break
		}
		chans = append(chans, escape(rv.Name(lang, x.Name))+" "+n(x.Count))
	}
	var srcs []string
	for i, x := range c.BySource {
		if i == 4 {
			break
		}
		srcs = append(srcs, escape(rv.Name(lang, x.Name))+" "+n(x.Count))
	}
	lines = append(lines,
		fmt.Sprintf("• *%s*: %s (%s %s) · %s: %s · %s: %s", t("new"), n(c.New), t("previous"), n(c.PrevNew),
			strings.ToLower(t("channel")), strings.Join(chans, ", "), strings.ToLower(t("source")), strings.Join(srcs, ", ")),
		fmt.Sprintf("• *%s*: %s (%s/%s; %s %s) · *%s*: %s (%s/%s)", t("churn"), pct(sg.ChurnRate()), n(sg.Churned), n(sg.ChurnBase),
			t("previous"), pct(sg.PrevChurnRate()), t("winback"), pct(sg.WinBackRate()), n(sg.WonBack), n(sg.WinBackBase)),
		fmt.Sprintf("• *%s*: %s %s · %s %s · %s %s / %s", t("response"), t("bot"), pct(rv.Ratio(r.BotAnswered, r.MessagesIn)),
			t("person"), pct(rv.Ratio(r.ToPerson, r.MessagesIn)), t("human"), rv.Duration(lang, r.HumanMedian), rv.Duration(lang, r.HumanP90)),
	)
	for _, cp := range r.Campaigns {
		lines = append(lines, fmt.Sprintf("    ◦ %s %s: %s/%s (%s)", t("campaign"), escape(cp.Campaign), n(cp.Replied), n(cp.Sent), pct(rv.Ratio(cp.Replied, cp.Sent))))
	}
	if k := len(rep.Cohorts); k >= 2 {
		// The last complete month's cohort: who came back the month after.
		co := rep.Cohorts[k-2]
		lines = append(lines, fmt.Sprintf("• *%s*: %s %s → +1: %s (%s/%s)", t("cohorts"), t("cohort"), co.Month, pct(co.Retention(1)), n(co.Active[1]), n(co.Size)))
	}
	var segs []string
	for i, v := range rep.Value.Segments {
		if i == 4 {
			break
		}
		segs = append(segs, fmt.Sprintf("%s %s (%s %s)", escape(rv.Name(lang, v.Segment)), crm.VND(v.CLV), strings.ToLower(t("average")), crm.VND(v.Average)))
	}
	lines = append(lines, fmt.Sprintf("• *%s*: %s", t("value"), strings.Join(segs, " · ")))
	for i, top := range rep.Value.Top {
		if i == 3 {
			break
		}
		lines = append(lines, fmt.Sprintf("    ◦ #%d %s (%s): %s, %s %s", top.ID, escape(top.Name), escape(rv.Name(lang, top.Segment)),
			crm.VND(top.Value.CLV), strings.ToLower(t("alive")), pct(top.Value.Alive)))
	}
	body := strings.Join(lines, "\n")
	text := head + "\n" + body
	if r := []rune(body); len(r) > maxSectionText {
		body = string(r[:maxSectionText-1]) + "…"
	}
	return &Reply{Text: text, Blocks: []slackapi.Block{section(head), section(body)}}
}
