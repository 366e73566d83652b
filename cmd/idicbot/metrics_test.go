package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// getMetrics GETs url with auth (an Authorization header, or none) and
// returns the status and body.
func getMetrics(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const metricsToken = "metrics-test-admin-token-0123456789"

// With the admin on and no metrics_addr, /metrics on the main address takes
// the admin token: the counts of a shop are not for everyone who can reach
// its web chat.
func TestMetricsBehindAdminToken(t *testing.T) {
	_, base := startServe(t, t.TempDir(), map[string]string{"IDICBOT_ADMIN_TOKEN": metricsToken})
	if st, body := getMetrics(t, base+"/metrics", ""); st != http.StatusUnauthorized || strings.Contains(body, "idicbot_") {
		t.Fatalf("no token: %d %.200s", st, body)
	}
	if st, body := getMetrics(t, base+"/metrics", "Bearer wrong"); st != http.StatusUnauthorized || strings.Contains(body, "idicbot_") {
		t.Fatalf("a wrong token: %d %.200s", st, body)
	}
	if st, body := getMetrics(t, base+"/metrics", "Bearer "+metricsToken); st != http.StatusOK || !strings.Contains(body, "idicbot_") {
		t.Fatalf("the token: %d %.200s", st, body)
	}
	if st, _ := getMetrics(t, base+"/healthz", ""); st != http.StatusOK {
		t.Fatalf("healthz: %d", st)
	}
}

// With metrics_addr set, /metrics is served there (for the monitoring
// network, without a token) and no longer on the main address, admin on or
// off.
func TestMetricsAddr(t *testing.T) {
	for _, admin := range []string{"", metricsToken} {
		t.Run("admin token "+map[bool]string{true: "set", false: "unset"}[admin != ""], func(t *testing.T) {
			m, base := startServe(t, t.TempDir(), map[string]string{"IDICBOT_METRICS_ADDR": "127.0.0.1:0", "IDICBOT_ADMIN_TOKEN": admin})
			if m.MetricsURL() == "" || m.MetricsURL() == base {
				t.Fatalf("metrics URL %q, main %q", m.MetricsURL(), base)
			}
			if st, body := getMetrics(t, m.MetricsURL()+"/metrics", ""); st != http.StatusOK || !strings.Contains(body, "idicbot_") {
				t.Fatalf("metrics_addr: %d %.200s", st, body)
			}
			if st, body := getMetrics(t, base+"/metrics", "Bearer "+metricsToken); st != http.StatusNotFound || strings.Contains(body, "idicbot_") {
				t.Fatalf("main address: %d %.200s", st, body)
			}
			if st, _ := getMetrics(t, m.MetricsURL()+"/healthz", ""); st != http.StatusNotFound {
				t.Fatalf("metrics_addr serves more than /metrics: healthz %d", st)
			}
		})
	}
}

// On PostgreSQL, /metrics says how turns commit together.
func TestGroupMetricsOnPostgres(t *testing.T) {
	_, base := startServe(t, t.TempDir(), map[string]string{"IDICBOT_DATABASE_URL": pgtest.URL(t), "IDICBOT_ADMIN_TOKEN": metricsToken})
	st, body := getMetrics(t, base+"/metrics", "Bearer "+metricsToken)
	if st != http.StatusOK {
		t.Fatalf("metrics: %d %.200s", st, body)
	}
	for _, name := range []string{"idicbot_pg_turn_groups_total", "idicbot_pg_grouped_turns_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
