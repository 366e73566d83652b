package main

import (
	"context"
	"net/http"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/bot"
)

// wireAdmin mounts the admin page and API when IDICBOT_ADMIN_TOKEN is set,
// and otherwise answers that the admin is off and how to turn it on.
func (m *Main) wireAdmin(ctx context.Context, mux *http.ServeMux) error {
	token := m.Getenv(admin.TokenEnv)
	if token == "" {
		admin.Off(mux)
		m.Log.Info("admin is off: /admin and /api/admin/ answer 503 until the token is set", "env", admin.TokenEnv)
		return nil
	}
	if len(token) < 16 {
		m.Log.Warn("the admin token is short; use a long random secret (openssl rand -hex 32)", "env", admin.TokenEnv)
	}
	srv := admin.New(m.Core, admin.Options{Token: token, Backup: m.backup(), Logger: m.Log, Now: m.Now,
		Reps:           m.Core.Reps(),
		Offers:         m.Core.OfferAdmin(),
		Segments:       m.Core.SegmentAdmin(),
		Campaigns:      m.Outreach,
		TrustedProxies: m.Config.HTTP.Trusted(),
		Privacy:        bot.NewPrivacy(m.DB, m.DB, m.Now),
		Reports:        m.Reports,
		Sessions:       m.adminSessions(),
		Messages:       m.Messages,
		Knowledge:      m.FAQ,
		BrakeFailures:  m.Config.Admin.BrakeFailures, BrakeWindow: m.Config.Admin.BrakeWindow,
		BrakeClients: m.Config.Admin.BrakeAddresses})
	srv.Routes(mux)
	m.requireAdmin = srv.RequireToken
	m.Log.Info("admin is on", "page", "/admin", "dashboard", "/admin/dashboard", "api", "/api/admin/")
	return nil
}
