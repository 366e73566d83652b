package main

import (
	"context"
	"net/http"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/crm"
)

// wireZalo turns the Zalo OA channel on when ZALO_APP_ID (or another ZALO_
// credential) is set: the webhook on the mux, the sender in the
// dispatcher, and the token refresh loop as a part.
func (m *Main) wireZalo(ctx context.Context, mux *http.ServeMux) error {
	opts, ok, err := zalo.FromEnv(m.Getenv)
	if err != nil || !ok {
		return err
	}
	opts.Logger, opts.Now, opts.Leader = m.Log, m.Now, m.Leader
	if opts.MaxEventAge == 0 { // ZALO_MAX_EVENT_AGE overrides the file
		opts.MaxEventAge = m.Config.Zalo.MaxEventAge
	}
	a, err := zalo.New(m.Core, m.DB, opts)
	if err != nil {
		return err
	}
	a.Routes(mux)
	m.Dispatcher.Register(crm.ChannelZalo, a)
	m.parts = append(m.parts, part{name: "zalo", start: a.Open, stop: a.Close})
	m.health = append(m.health, healthCheck{"zalo", a.Health})
	return nil
}
