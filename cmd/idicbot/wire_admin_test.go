package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The admin: section sets the brake on wrong admin tokens: with
// brake_failures 2 the third wrong token from one address is braked, and
// so is the right one from that address; bad values stop start-up.
func TestAdminBrakeConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idicbot.yaml")
	if err := os.WriteFile(path, []byte("admin:\n  brake_failures: 2\n  brake_window: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, base := startServe(t, t.TempDir(), map[string]string{"IDICBOT_CONFIG": path, "IDICBOT_ADMIN_TOKEN": metricsToken})
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
		if st, body := getMetrics(t, base+"/api/admin/offers", "Bearer wrong"); st != want {
			t.Fatalf("wrong token %d: %d %.200s", i+1, st, body)
		}
	}
	if st, _ := getMetrics(t, base+"/api/admin/offers", "Bearer "+metricsToken); st != http.StatusTooManyRequests {
		t.Fatalf("the right token from the braked address: %d", st)
	}

	for _, bad := range []string{"brake_failures: 0", "brake_window: 0s", "brake_addresses: -1"} {
		p := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(p, []byte("admin:\n  "+bad+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadConfig(p, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "admin.brake_failures") {
			t.Fatalf("%s: %v", bad, err)
		}
	}
}
