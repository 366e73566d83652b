package main

import (
	"fmt"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// budgets are the dispatcher's channel budgets: Telegram's from the
// telegram: section (0: no limit), the others the channels' defaults.
func (c *Config) budgets() map[crm.Channel]bot.Budget {
	b := bot.DefaultBudgets()
	b[crm.ChannelTelegram] = bot.Budget{PerSecond: float64(c.Telegram.GlobalPerSecond), Burst: c.Telegram.GlobalPerSecond,
		PerChat: c.Telegram.PerChatInterval}
	return b
}

// journeysFile is journeys.yaml.
type journeysFile struct {
	Journeys []bot.Journey `yaml:"journeys"`
}

// openOutreach reads the journeys and builds the campaigns' use case.
func (m *Main) openOutreach() error {
	cfg := m.Config
	data, name, err := cfg.ReadFile(cfg.JourneysFile, "journeys.yaml")
	if err != nil {
		return err
	}
	var jf journeysFile
	if err := decodeConfig(name, data, &jf); err != nil {
		return err
	}
	if err := bot.CheckJourneys(jf.Journeys); err != nil {
		return fmt.Errorf("journeys %s: %s", name, crm.ErrorMessage(err))
	}
	for _, j := range jf.Journeys {
		if j.Offer != "" && m.Core.Offers().Get(j.Offer) == nil {
			m.Log.Warn("a journey's offer does not exist; its customers are skipped as not eligible", "journey", j.ID, "offer", j.Offer)
		}
	}
	o := cfg.Outreach
	if o.quietFrom == o.quietUntil {
		o.quietFrom, o.quietUntil = -1, -1 // no quiet hours (0, 0 would be the default)
	}
	m.Outreach = m.Core.Outreach(bot.OutreachOptions{
		Location: cfg.Location(), Cap: o.Cap, CapWindow: o.CapWindow,
		QuietFrom: o.quietFrom, QuietUntil: o.quietUntil,
		Windows: map[crm.Channel]time.Duration{"messenger": o.MessengerWindow, crm.ChannelZalo: o.ZaloWindow},
		Every:   o.Every, Journeys: jf.Journeys, Logger: m.Log,
	})
	return nil
}
