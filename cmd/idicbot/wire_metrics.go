package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// wireMetrics serves Prometheus's /metrics: on its own address when
// metrics_addr is set (and then not on the main one), otherwise on the main
// address, behind the admin token while the admin is on. With neither
// (`make run`: 127.0.0.1 and no admin token) it is open as before.
func (m *Main) wireMetrics(_ context.Context, mux *http.ServeMux) error {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	addr := m.Config.MetricsAddr
	if addr == "" {
		if m.requireAdmin != nil {
			h = m.requireAdmin(h)
			m.Log.Info("metrics take the admin token", "path", "/metrics")
		}
		mux.Handle("GET /metrics", h)
		return nil
	}
	own := http.NewServeMux()
	own.Handle("GET /metrics", h)
	var srv *http.Server
	m.parts = append(m.parts, part{
		name: "metrics",
		start: func(context.Context) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s (metrics_addr): %w", addr, err)
			}
			m.metricsListener = ln
			srv = newHTTPServer(m.Config.HTTP, own)
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					m.Log.Error("metrics server", "err", err)
				}
			}()
			m.Log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
			return nil
		},
		stop: func() error { return srv.Close() },
	})
	return nil
}

// MetricsURL returns the base URL of the metrics server when metrics_addr
// is set, or "".
func (m *Main) MetricsURL() string {
	if m.metricsListener == nil {
		return ""
	}
	return "http://" + m.metricsListener.Addr().String()
}
