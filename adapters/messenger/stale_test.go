package messenger_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/messenger"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

var metaTimes = regexp.MustCompile(`,"(timestamp|time)":[0-9]+`)

// TestStaleEventsRefused: with the default options, a validly signed
// message older than 24 hours, timestamped more than 10 minutes ahead, or
// without a timestamp is skipped with a log line; the batch is answered 200
// (Meta stops retrying) and the fresh items in it are handled.
func TestStaleEventsRefused(t *testing.T) {
	logs := &bottest.LogBuffer{}
	e := newEnv(t, func(o *messenger.Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	now := e.clock.Now()
	for i, tc := range []struct {
		name   string
		at     time.Time
		strip  bool // no timestamp in the item nor the entry
		stored bool
		log    string
	}{
		{"400 days old", now.AddDate(0, 0, -400), false, false, "older than max_event_age"},
		{"25 hours old", now.Add(-25 * time.Hour), false, false, "older than max_event_age"},
		{"23 hours old (Meta retrying)", now.Add(-23 * time.Hour), false, true, ""},
		{"5 minutes ahead (clock skew)", now.Add(5 * time.Minute), false, true, ""},
		{"11 minutes ahead", now.Add(11 * time.Minute), false, false, "timestamped in the future"},
		{"no timestamp", now, true, false, "no timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			psid := "2400000000000" + string(rune('0'+i))
			body := e.ev.Batch(tc.at.UnixMilli(), e.ev.Text(psid, e.mid(), "xin chào", tc.at.UnixMilli()))
			if tc.strip {
				body = metaTimes.ReplaceAll(body, nil)
			}
			if got := e.post(body); got != http.StatusOK {
				t.Fatalf("status %d, want 200", got)
			}
			if got := e.customer(psid) != nil; got != tc.stored {
				t.Fatalf("stored: %v, want %v", got, tc.stored)
			}
			if !tc.stored && len(e.sentTo(psid)) != 0 {
				t.Fatalf("a refused event was answered: %+v", e.sentTo(psid))
			}
			if tc.log != "" && !strings.Contains(logs.String(), "messenger event refused: "+tc.log) {
				t.Fatalf("no log line %q:\n%s", tc.log, logs.String())
			}
		})
	}
	t.Run("mixed batch", func(t *testing.T) {
		const old, fresh = "24000000000000100", "24000000000000101"
		body := e.ev.Batch(e.ms(), e.ev.Text(old, e.mid(), "cũ", now.AddDate(0, 0, -400).UnixMilli()), e.ev.Text(fresh, e.mid(), "mới", e.ms()))
		if got := e.post(body); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
		if e.customer(old) != nil || e.customer(fresh) == nil {
			t.Fatalf("old stored: %v, fresh stored: %v; want false, true", e.customer(old) != nil, e.customer(fresh) != nil)
		}
	})
}

// TestReplayAfterPrune: a message handled once, replayed after its dedupe
// marker was pruned (30 days later), is refused as stale, not handled as
// new.
func TestReplayAfterPrune(t *testing.T) {
	e := newEnv(t, nil)
	const psid = "24000000000000999"
	body := e.ev.Batch(e.ms(), e.ev.Text(psid, e.mid(), "giao giúp mình tới 12 Lý Thường Kiệt", e.ms()))
	if got := e.post(body); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	c := e.customer(psid)
	if c == nil {
		t.Fatal("the fresh message was not handled")
	}
	count := func() int {
		var its []*crm.Interaction
		if err := e.db.View(context.Background(), func(tx crm.Tx) error {
			var err error
			its, err = tx.Interactions(c.ID, 0, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return len(its)
	}
	before := count()
	e.clock.Add(31 * 24 * time.Hour)
	st, err := e.db.Prune(context.Background(), e.clock.Now().AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen == 0 {
		t.Fatalf("the test needs the marker pruned: %+v", st)
	}
	if got := e.post(body); got != http.StatusOK {
		t.Fatalf("replay: status %d", got)
	}
	if got := count(); got != before {
		t.Fatalf("the replayed message was handled as new: %d interactions, want %d", got, before)
	}
}

// A validly signed batch that is not valid text (invalid UTF-8, an unpaired
// surrogate escape) is refused with 400 and nothing is stored, instead of
// being stored with U+FFFD in place of what was sent.
func TestInvalidTextRefused(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ name, psid, text string }{
		{"invalid UTF-8", "24000000000000201", "xin ch\xffo"},
		{"lone surrogate escape", "24000000000000202", `xin \ud800`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := e.ev.Batch(e.ms(), e.ev.Text(tc.psid, e.mid(), "PLACEHOLDER", e.ms()))
			body = bytes.Replace(body, []byte("PLACEHOLDER"), []byte(tc.text), 1)
			if got := e.post(body); got != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", got)
			}
			if c := e.customer(tc.psid); c != nil {
				t.Fatalf("stored: %+v", c)
			}
		})
	}
}
