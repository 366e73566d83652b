package main

import (
	"context"
	"net/http"

	"github.com/idicbot/idicbot/adapters/messenger"
)

// wireMessenger turns the Facebook Messenger channel on when
// MESSENGER_PAGE_TOKEN (or another MESSENGER_ credential) is set: the
// webhook on the mux and the sender in the dispatcher. It has no loop: the
// HTTP server's shutdown waits for webhook calls being handled.
func (m *Main) wireMessenger(ctx context.Context, mux *http.ServeMux) error {
	opts, ok, err := messenger.FromEnv(m.Getenv)
	if err != nil || !ok {
		return err
	}
	opts.Logger, opts.Now = m.Log, m.Now
	opts.MaxEventAge = m.Config.Messenger.MaxEventAge
	a, err := messenger.New(m.Core, m.DB, opts)
	if err != nil {
		return err
	}
	a.Routes(mux)
	m.Dispatcher.Register(messenger.Channel, a)
	m.health = append(m.health, healthCheck{"messenger", a.Health})
	return nil
}
