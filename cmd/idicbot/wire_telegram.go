package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/idicbot/idicbot/adapters/telegram"
	"github.com/idicbot/idicbot/crm"
)

// wireTelegram turns Telegram on when TELEGRAM_BOT_TOKEN is set: long polling
// by default, a webhook when TELEGRAM_WEBHOOK_URL is set.
func (m *Main) wireTelegram(ctx context.Context, mux *http.ServeMux) error {
	token := m.Getenv("TELEGRAM_BOT_TOKEN")
	if token == "" {
		return nil
	}
	cfg := m.Config.Telegram
	// The dispatcher keeps Telegram's limits (Config.budgets), beside
	// every other channel's: the adapter only speaks the wire format.
	perChat, global := time.Duration(-1), -1
	conns := 0
	if v := m.Getenv("TELEGRAM_WEBHOOK_MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return fmt.Errorf("TELEGRAM_WEBHOOK_MAX_CONNECTIONS=%q: want a number from 1 to 100", v)
		}
		conns = n
	}
	a, err := telegram.New(m.Core, telegram.Options{
		Token:                 token,
		APIURL:                m.Getenv("TELEGRAM_API_URL"),
		WebhookURL:            m.Getenv("TELEGRAM_WEBHOOK_URL"),
		WebhookSecret:         m.Getenv("TELEGRAM_WEBHOOK_SECRET"),
		WebhookMaxConnections: conns,
		PerChatInterval:       perChat,
		GlobalPerSecond:       global,
		PollTimeout:           cfg.PollTimeout,
		Leader:                m.Leader,
		Logger:                m.Log.With("channel", "telegram"),
	})
	if err != nil {
		return err
	}
	a.Routes(mux)
	m.Dispatcher.Register(crm.ChannelTelegram, a)
	mode := "long polling"
	if a.Webhook() {
		mode = "webhook"
	}
	m.parts = append(m.parts, part{name: "telegram (" + mode + ")", start: a.Open, stop: a.Close})
	return nil
}
