package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

var retentionNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// reporting passes Prune on to a store and reports each outcome.
type reporting struct {
	store pruner
	calls chan<- error
}

func (r reporting) Prune(ctx context.Context, before time.Time) (boltstore.PruneStats, error) {
	st, err := r.store.Prune(ctx, before)
	r.calls <- err
	return st, err
}

// scripted is a store whose prunes answer errs in turn (then nil), and
// which remembers the cutoffs it was asked for.
type scripted struct {
	errs    []error
	befores chan time.Time
}

func (s *scripted) Prune(_ context.Context, before time.Time) (boltstore.PruneStats, error) {
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	s.befores <- before
	if err != nil {
		return boltstore.PruneStats{}, err
	}
	return boltstore.PruneStats{Outbox: 2, Seen: 3}, nil
}

// blocking is a store whose prune runs until it is cancelled.
type blocking struct{ started chan struct{} }

func (b blocking) Prune(ctx context.Context, _ time.Time) (boltstore.PruneStats, error) {
	close(b.started)
	<-ctx.Done()
	return boltstore.PruneStats{Seen: 1}, ctx.Err()
}

// startRetention runs a retention loop that prunes at once, logging to the
// returned buffer; the caller stops it with Close.
func startRetention(t *testing.T, store pruner) (*retention, *syncWriter) {
	t.Helper()
	logs := &syncWriter{w: &bytes.Buffer{}}
	r := newRetention(store, 30, 0, func() time.Time { return retentionNow }, newLogger(logs, "info", "json"))
	r.first, r.retry = 0, time.Millisecond
	if err := r.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, logs
}

type logLine struct {
	Level  string  `json:"level"`
	Msg    string  `json:"msg"`
	Outbox float64 `json:"outbox"`
	Seen   float64 `json:"seen"`
	Err    string  `json:"err"`
}

func logLines(t *testing.T, w *syncWriter) []logLine {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(w.w.(*bytes.Buffer).String()), "\n") {
		if l == "" {
			continue
		}
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, ll)
	}
	return out
}

func receive[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("retention did not prune")
		panic("unreachable")
	}
}

func TestRetention_PrunesTheStore(t *testing.T) {
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "idicbot.db"), boltstore.Options{NoSync: true, Now: func() time.Time { return retentionNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	old, recent := retentionNow.AddDate(0, 0, -40), retentionNow.AddDate(0, 0, -1)
	var oldSent, oldPending, recentSent crm.ID
	if err := db.UpdateSolo(context.Background(), func(tx crm.Tx) error {
		for _, m := range []struct {
			id string
			at time.Time
		}{{"old", old}, {"recent", recent}} {
			it := &crm.Interaction{CustomerID: 1, Time: m.at, Channel: crm.ChannelTelegram, MessageID: m.id}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			if err := tx.MarkMessage(crm.ChannelTelegram, m.id, it.ID); err != nil {
				return err
			}
		}
		for _, o := range []struct {
			id     *crm.ID
			at     time.Time
			status string
		}{{&oldSent, old, crm.OutboxSent}, {&oldPending, old, crm.OutboxPending}, {&recentSent, recent, crm.OutboxSent}} {
			it := &crm.OutboxItem{CustomerID: 1, Channel: crm.ChannelTelegram, Text: "hi", CreatedAt: o.at}
			if err := tx.EnqueueOutbox(it); err != nil {
				return err
			}
			*o.id = it.ID
			if o.status != crm.OutboxPending {
				it.Status, it.SentAt = o.status, o.at
				if err := tx.PutOutbox(it); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	calls := make(chan error, 1)
	r, logs := startRetention(t, reporting{store: db, calls: calls})
	if err := receive(t, calls); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	if err := db.View(context.Background(), func(tx crm.Tx) error {
		for _, c := range []struct {
			id   crm.ID
			kept bool
		}{{oldSent, false}, {oldPending, true}, {recentSent, true}} {
			if _, err := tx.OutboxItem(c.id); (err == nil) != c.kept {
				t.Errorf("outbox item %d: err %v, want kept %v", c.id, err, c.kept)
			}
		}
		for _, c := range []struct {
			msg  string
			kept bool
		}{{"old", false}, {"recent", true}} {
			if _, seen, _ := tx.SeenMessage(crm.ChannelTelegram, c.msg); seen != c.kept {
				t.Errorf("message %s seen = %v, want %v", c.msg, seen, c.kept)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, logs)
	if len(lines) != 1 || lines[0].Level != "INFO" || lines[0].Msg != "retention: pruned" || lines[0].Outbox != 1 || lines[0].Seen != 1 {
		t.Errorf("logs = %+v, want one INFO line with outbox 1, seen 1", lines)
	}
}

func TestRetention_RetriesAfterAnError(t *testing.T) {
	store := &scripted{errs: []error{errors.New("disk full"), errors.New("disk still full")}, befores: make(chan time.Time, 3)}
	r, logs := startRetention(t, store)
	var befores []time.Time
	for range 3 {
		befores = append(befores, receive(t, store.befores))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, b := range befores {
		if want := retentionNow.AddDate(0, 0, -30); !b.Equal(want) {
			t.Errorf("pruned before %v, want %v", b, want)
		}
	}
	lines := logLines(t, logs)
	var levels []string
	for _, l := range lines {
		levels = append(levels, l.Level)
	}
	if got, want := strings.Join(levels, ","), "ERROR,ERROR,INFO"; got != want {
		t.Fatalf("log levels = %s, want %s: %+v", got, want, lines)
	}
	if lines[0].Err != "disk full" || lines[2].Outbox != 2 || lines[2].Seen != 3 {
		t.Errorf("logs = %+v", lines)
	}
}

func TestRetention_ShutdownStopsAPruneUnderWay(t *testing.T) {
	store := blocking{started: make(chan struct{})}
	r, logs := startRetention(t, store)
	receive(t, store.started)
	if err := r.Close(); err != nil { // returns once the prune gave up
		t.Fatal(err)
	}
	lines := logLines(t, logs)
	if len(lines) != 1 || lines[0].Level != "INFO" || lines[0].Msg != "retention: prune stopped by shutdown" || lines[0].Seen != 1 {
		t.Errorf("logs = %+v, want one INFO line: stopped by shutdown, seen 1 (a shutdown is not an error)", lines)
	}
}

func TestWireRetention(t *testing.T) {
	tests := []struct {
		name   string
		config string // "" for the built-in configuration
		on     bool
	}{
		{name: "default: 30 days", on: true},
		{name: "a week", config: "retention_days: 7\n", on: true},
		{name: "zero keeps everything", config: "retention_days: 0\n"},
		{name: "negative keeps everything", config: "retention_days: -1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.config != "" {
				path = filepath.Join(t.TempDir(), "idicbot.yaml")
				if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := LoadConfig(path, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if tt.config == "" && cfg.RetentionDays != 30 {
				t.Errorf("default retention_days = %d, want 30", cfg.RetentionDays)
			}
			m := &Main{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}
			if err := m.wireRetention(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if got := len(m.parts) == 1 && m.parts[0].name == "retention"; got != tt.on {
				t.Errorf("retention part wired = %v, want %v (parts %v)", got, tt.on, m.parts)
			}
		})
	}
}

// TestRetention_KeepsMarkersForMaxEventAge: whatever retention_days says,
// dedupe markers are kept at least as long as the longest max_event_age
// (Zalo, Messenger) plus a day, so an event still young enough to be
// handled is never taken for new because its marker was pruned.
func TestRetention_KeepsMarkersForMaxEventAge(t *testing.T) {
	tests := []struct {
		name   string
		config string
		env    map[string]string
		before time.Time
	}{
		{name: "default: 30 days", before: retentionNow.AddDate(0, 0, -30)},
		{name: "one day is raised to 24h + a day", config: "retention_days: 1\n", before: retentionNow.Add(-48 * time.Hour)},
		{name: "messenger's longer age wins", config: "retention_days: 2\nmessenger:\n  max_event_age: 72h\n", before: retentionNow.Add(-96 * time.Hour)},
		{name: "ZALO_MAX_EVENT_AGE counts", config: "retention_days: 1\n",
			env: map[string]string{"ZALO_APP_ID": "1", "ZALO_MAX_EVENT_AGE": "120h"}, before: retentionNow.Add(-144 * time.Hour)},
		{name: "a long retention is kept", config: "retention_days: 10\nzalo:\n  max_event_age: 48h\n", before: retentionNow.AddDate(0, 0, -10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.config != "" {
				path = filepath.Join(t.TempDir(), "idicbot.yaml")
				if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(k string) string { return tt.env[k] }
			cfg, err := LoadConfig(path, getenv)
			if err != nil {
				t.Fatal(err)
			}
			m := &Main{Config: cfg, Getenv: getenv, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return retentionNow }}
			store := &scripted{befores: make(chan time.Time, 1)}
			r := m.retentionFor(store)
			if r == nil {
				t.Fatal("retention off")
			}
			r.first = 0
			if err := r.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := receive(t, store.befores)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.before) {
				t.Fatalf("pruned before %v (%v ago), want %v (%v ago)", got, retentionNow.Sub(got), tt.before, retentionNow.Sub(tt.before))
			}
		})
	}
}
