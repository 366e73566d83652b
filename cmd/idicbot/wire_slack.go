package main

import (
	"context"
	"net/http"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/bot"
)

// wireSlack turns the Slack part on when SLACK_BOT_TOKEN is set (with a
// signing secret for HTTP, an app token for Socket Mode, or both): the /crm
// command for reps, the offer commands for admins, and the handoff of
// conversations to a Slack channel.
func (m *Main) wireSlack(ctx context.Context, mux *http.ServeMux) error {
	opts, ok, err := slack.OptionsFromEnv(m.Getenv)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	opts.Logger = m.Log
	opts.Reps = m.Core.Reps()
	opts.Offers = m.Core.OfferAdmin()
	// /crm lang choices outlive a restart.
	opts.Prefs = m.DB
	a, err := slack.New(m.Core, opts)
	if err != nil {
		return err
	}
	// The admins' offer commands (/crm offers, /crm offer …) and the
	// offer template editor modal; SLACK_ADMIN_IDS only.
	if err := a.RegisterOfferCommands(); err != nil {
		return err
	}
	// Handoff cards through the outbox: queued with the customer's request.
	m.Dispatcher.Register(bot.ChannelReps, a.RepNotices())
	// The admins' campaign commands (/crm campaign …).
	if err := a.RegisterCampaignCommands(m.Outreach); err != nil {
		return err
	}
	// The admins' data rights commands (/crm export, /crm erase).
	if err := a.RegisterPrivacyCommands(bot.NewPrivacy(m.DB, m.DB, m.Now)); err != nil {
		return err
	}
	// The owner's reports (/crm report); SLACK_ADMIN_IDS only.
	if err := a.RegisterReportCommands(m.Reports); err != nil {
		return err
	}
	a.Routes(mux)
	m.Slack = a
	m.sinks = append(m.sinks, a)
	m.parts = append(m.parts, part{name: "slack", start: a.Open, stop: a.Close})
	return nil
}
