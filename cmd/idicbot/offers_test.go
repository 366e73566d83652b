package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// runOffersCmd runs `idicbot offers --data dir args…` and returns stdout.
func runOffersCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	return runCmd(t, time.Date(2026, 11, 10, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600)), append([]string{"offers", "--data", dir}, args...)...)
}

func TestOffersExportImport(t *testing.T) {
	dir := t.TempDir()
	out, err := runOffersCmd(t, dir, "export")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n  - id: "); n != 8 || !strings.Contains(out, "code: WELCOME10") || !strings.HasPrefix(out, "# Offers exported by idicbot") {
		t.Fatalf("export (%d offers):\n%s", n, out)
	}
	file := filepath.Join(t.TempDir(), "offers.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changed := strings.Replace(out, "code: WELCOME10", "code: WELCOME20", 1)
	write(changed)
	got, err := runOffersCmd(t, dir, "import", file, "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if want := "dry run, nothing changed; would import offers.yaml: created 0, updated 1 (welcome-new), unchanged 7\n"; got != want {
		t.Fatalf("dry run printed %q, want %q", got, want)
	}
	if out, _ := runOffersCmd(t, dir, "export"); !strings.Contains(out, "code: WELCOME10") {
		t.Fatal("the dry run changed the offers")
	}

	write(strings.Replace(changed, "cap_days: 30", "cap_days: -30", 1))
	_, err = runOffersCmd(t, dir, "import", file)
	if err == nil || !strings.Contains(err.Error(), "nothing changed") || !strings.Contains(err.Error(), "cap_days") {
		t.Fatalf("bad file: %v", err)
	}
	if out, _ := runOffersCmd(t, dir, "export"); !strings.Contains(out, "code: WELCOME10") {
		t.Fatal("a refused import changed the offers")
	}
	// Every problem on a line of its own, under its offer, with its place.
	write(strings.Replace(strings.Replace(changed, "cap_days: 30", "cap_days: -30", 1), "Chào mừng {{.FirstName}}!", "Chào mừng {{.Nick}}!", 1))
	_, err = runOffersCmd(t, dir, "import", file, "--dry-run")
	want := "offers import: nothing changed; offers.yaml has 2 problem(s):\n" +
		"  offer birthday: cap_days: must not be negative (0: no waiting time between shows)\n" +
		"  offer welcome-new: templates.vi line 1, column 15 (sample new customer): there is no field .Nick (fields: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("bad file: %v\nwant: %s…", err, want)
	}

	write(changed)
	got, err = runOffersCmd(t, dir, "import", "--dry-run=false", file)
	if err != nil {
		t.Fatal(err)
	}
	if want := "imported offers.yaml: created 0, updated 1 (welcome-new), unchanged 7\n"; got != want {
		t.Fatalf("import printed %q, want %q", got, want)
	}
	if out, _ := runOffersCmd(t, dir, "export"); !strings.Contains(out, "code: WELCOME20") {
		t.Fatal("the import did not change the offer")
	}
	// The change is recorded as made from a file, by the user who ran it.
	db, err := boltstore.Open(filepath.Join(dir, "idicbot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vs []*crm.Offer
	err = db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		vs, err = tx.OfferVersions("welcome-new")
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if last := vs[len(vs)-1]; len(vs) != 2 || last.Version != 2 || last.Origin != "file" || last.UpdatedBy != "lan (cli)" || last.Code != "WELCOME20" {
		t.Fatalf("versions = %d, last v%d %s by %q from %q", len(vs), last.Version, last.Code, last.UpdatedBy, last.Origin)
	}
	if _, err := runOffersCmd(t, dir, "frobnicate"); ExitCode(err) != 2 || !strings.Contains(err.Error(), "idicbot offers -h") {
		t.Fatalf("unknown action: %v", err)
	}
}

// TestWireAdmin checks that the admin is on with IDICBOT_ADMIN_TOKEN and
// answers that it is off without it.
func TestWireAdmin(t *testing.T) {
	for _, tok := range []string{"", "a-long-enough-admin-token"} {
		m := NewMain()
		var stderr bytes.Buffer
		m.Stdout, m.Stderr = &bytes.Buffer{}, &stderr
		m.Getenv = func(k string) string {
			if k == "IDICBOT_ADMIN_TOKEN" {
				return tok
			}
			return ""
		}
		if err := m.ParseFlags([]string{"serve", "--data", t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		m.Log = newLogger(m.Stderr, m.Config.LogLevel, "json")
		ctx := context.Background()
		if err := m.open(ctx); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		if err := m.wireAdmin(ctx, mux); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(mux)
		req, _ := http.NewRequest("GET", srv.URL+"/api/admin/offers", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		m.Close()
		switch {
		case tok == "" && (resp.StatusCode != 503 || !strings.Contains(string(body), "IDICBOT_ADMIN_TOKEN")):
			t.Fatalf("admin off: %d %s", resp.StatusCode, body)
		case tok != "" && (resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"welcome-new"`)):
			t.Fatalf("admin on: %d %s", resp.StatusCode, body)
		}
		// The log says which it is, and never the token.
		log := stderr.String()
		if want := map[bool]string{true: "admin is off", false: "admin is on"}[tok == ""]; !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
		if tok != "" && strings.Contains(log, tok) {
			t.Fatalf("the log holds the token:\n%s", log)
		}
	}
}
