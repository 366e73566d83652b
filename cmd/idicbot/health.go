package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// health is what /healthz and /readyz report.
type health struct {
	Status        string            `json:"status"` // ok, degraded, starting, stopping or error
	Store         string            `json:"store"`  // ok or unavailable
	OutboxPending int64             `json:"outbox_pending"`
	Channels      map[string]string `json:"channels,omitempty"`
	Version       string            `json:"version"`
}

// state reads the store and asks each channel whether it can send.
func (m *Main) state(ctx context.Context) health {
	h := health{Status: "ok", Store: "ok", Version: currentBuild().Version}
	if err := m.DB.View(ctx, func(tx crm.Tx) error {
		var err error
		h.OutboxPending, err = tx.OutboxDepth()
		return err
	}); err != nil {
		h.Status, h.Store = "error", "unavailable"
		return h
	}
	for _, c := range m.health {
		if err := c.check(); err != nil {
			if h.Channels == nil {
				h.Channels = map[string]string{}
			}
			h.Channels[c.name] = crm.MaskText(err.Error())
		}
	}
	if len(h.Channels) > 0 {
		h.Status = "degraded"
	}
	select {
	case <-m.ready:
	default:
		h.Status = "starting"
	}
	if m.stopping.Load() {
		h.Status = "stopping"
	}
	return h
}

// healthz says the process is alive: 200 unless the store cannot be read.
// A degraded channel (a Zalo OA to re-authorise, a refused Page token) is
// shown but still 200: restarting does not fix what an owner must renew.
func (m *Main) healthz(w http.ResponseWriter, r *http.Request) {
	h := m.state(r.Context())
	code := http.StatusOK
	if h.Store != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeHealth(w, code, h)
}

// readyz says the bot can serve: the store is open and migrated (Open
// migrates before serve starts), every channel started and can send, and
// it is not shutting down. A load balancer sends traffic elsewhere on 503.
func (m *Main) readyz(w http.ResponseWriter, r *http.Request) {
	h := m.state(r.Context())
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeHealth(w, code, h)
}

func writeHealth(w http.ResponseWriter, code int, h health) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// checkHealth is `idicbot serve --check`: it asks /readyz of the bot
// serving at the configured address (a wildcard address is asked on
// loopback) and fails unless it answers 200. It opens no store, so it runs
// beside the bot in its container.
func (m *Main) checkHealth(ctx context.Context) error {
	host, port, err := net.SplitHostPort(m.Config.Addr)
	if err != nil {
		return fmt.Errorf("addr %q: %w", m.Config.Addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	var h health
	_ = json.NewDecoder(resp.Body).Decode(&h)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answers %d (%s)", url, resp.StatusCode, h.Status)
	}
	fmt.Fprintf(m.Stdout, "ready: %s (%s, outbox %d)\n", url, h.Version, h.OutboxPending)
	return nil
}
