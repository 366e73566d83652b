package zalo_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

var zaloTimestamp = regexp.MustCompile(`,"timestamp":"[0-9]+"`)

// TestStaleEventsRefused: with the default options, a validly signed event
// older than 24 hours, timestamped more than 10 minutes ahead, or without a
// timestamp is acknowledged (200, so Zalo stops retrying), logged and not
// handled: no customer, no message stored, no answer.
func TestStaleEventsRefused(t *testing.T) {
	logs := &bottest.LogBuffer{}
	e := newEnv(t, func(o *zalo.Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	now := e.clock.Now()
	for i, tc := range []struct {
		name   string
		at     time.Time
		strip  bool // no timestamp in the body
		stored bool
		log    string
	}{
		{"400 days old", now.AddDate(0, 0, -400), false, false, "older than max_event_age"},
		{"25 hours old", now.Add(-25 * time.Hour), false, false, "older than max_event_age"},
		{"23 hours old (Zalo retrying late)", now.Add(-23 * time.Hour), false, true, ""},
		{"just now", now, false, true, ""},
		{"5 minutes ahead (clock skew)", now.Add(5 * time.Minute), false, true, ""},
		{"11 minutes ahead", now.Add(11 * time.Minute), false, false, "timestamped in the future"},
		{"no timestamp", now, true, false, "no timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "78133068429162042" + string(rune('0'+i/10)) + string(rune('0'+i%10))
			body := e.ev.Text(user, e.msgID(), "xin chào", tc.at.UnixMilli())
			if tc.strip {
				body = zaloTimestamp.ReplaceAll(body, nil)
			}
			if got := e.post(body); got != http.StatusOK {
				t.Fatalf("status %d, want 200", got)
			}
			c := e.customer(crm.ChannelZalo, user)
			if got := c != nil; got != tc.stored {
				t.Fatalf("stored: %v, want %v", got, tc.stored)
			}
			sent := 0
			for _, m := range e.fake.Sent() {
				if m.UserID == user {
					sent++
				}
			}
			if !tc.stored && sent != 0 {
				t.Fatalf("a refused event was answered %d times", sent)
			}
			if tc.log != "" && !strings.Contains(logs.String(), "zalo event refused: "+tc.log) {
				t.Fatalf("no log line %q:\n%s", tc.log, logs.String())
			}
		})
	}
}

// TestReplayAfterPrune: an event handled once, replayed after its dedupe
// marker was pruned (30 days later), is refused as stale, not handled as
// new.
func TestReplayAfterPrune(t *testing.T) {
	e := newEnv(t, nil)
	const user = "7813306842916209999"
	body := e.ev.Text(user, e.msgID(), "giao giúp mình tới 12 Lý Thường Kiệt", e.ms())
	e.postOK(body)
	c := e.customer(crm.ChannelZalo, user)
	if c == nil {
		t.Fatal("the fresh event was not handled")
	}
	before := len(e.interactions(c))
	e.clock.Add(31 * 24 * time.Hour)
	st, err := e.db.Prune(context.Background(), e.clock.Now().AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen == 0 {
		t.Fatalf("the test needs the marker pruned: %+v", st)
	}
	e.postOK(body)
	if got := len(e.interactions(e.customer(crm.ChannelZalo, user))); got != before {
		t.Fatalf("the replayed event was handled as new: %d interactions, want %d", got, before)
	}
}

// A validly signed body that is not valid text (invalid UTF-8, an unpaired
// surrogate escape) is refused with 400 and nothing is stored, instead of
// being stored with U+FFFD in place of what was sent.
func TestInvalidTextRefused(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ name, user, text string }{
		{"invalid UTF-8", "8000000000000000001", "xin ch\xffo"},
		{"lone surrogate escape", "8000000000000000002", `xin \ud800`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := e.ev.Text(tc.user, e.msgID(), "PLACEHOLDER", e.ms())
			body = bytes.Replace(body, []byte("PLACEHOLDER"), []byte(tc.text), 1)
			if got := e.post(body); got != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", got)
			}
			if c := e.customer(crm.ChannelZalo, tc.user); c != nil {
				t.Fatalf("stored: %+v", c)
			}
		})
	}
}
