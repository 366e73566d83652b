package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// fuzzServer builds the adapter over a real store once for a fuzz target
// (newEnv is per test, and a fuzz input is too short-lived for one).
func fuzzServer(tb testing.TB) http.Handler {
	tb.Helper()
	db, err := boltstore.Open(filepath.Join(tb.TempDir(), "idicbot.db"), boltstore.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	def, err := configs.Load(time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	disp := bot.NewDispatcher(db, bot.DispatcherOptions{Lanes: 1, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	disp.Register(crm.ChannelWeb, &recorder{})
	core := bot.New(bot.Options{Store: db, Catalog: def.Catalog, Segments: def.Segments, Dispatcher: disp})
	ctx := context.Background()
	if err := disp.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	fake := slacktest.New(tb)
	fake.SetGroup(repGroup, groupUser)
	a, err := slack.New(core, slack.Options{
		BotToken: slacktest.BotToken, APIURL: fake.APIURL(), HandoffChannel: handoffChan, SigningSecret: docSecret,
		TeamIDs: []string{slacktest.TeamID}, RepIDs: []string{repUser}, RepGroup: repGroup, AdminIDs: []string{adminUser},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), InlineWait: time.Second,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.RegisterOfferCommands(); err != nil {
		tb.Fatal(err)
	}
	if err := a.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		a.Close()
		disp.Close()
		db.Close()
	})
	mux := http.NewServeMux()
	a.Routes(mux)
	return mux
}

// FuzzSlackRequests posts slash commands (any text from a rep, an admin or
// a stranger, and any form body), interaction payloads and Events API
// bodies, validly signed: the answer is never a server error, and a
// well-formed slash command is answered 200 with a JSON message.
func FuzzSlackRequests(f *testing.F) {
	for _, s := range []string{"help", "find Lan", "customer 1", "segment vip", "stats", "order 1 1.500.000 DH-1", "order 1 -5 x",
		"note 1 giao giúp mình tới 12 Lý Thường Kiệt", "tag 1 b2b", "untag 1 b2b", "release 1", "offers", "offer show welcome-new",
		"export 1", "erase 1", "", " ", "\x00", "\xff", "find <!channel> <@U0REP0001>", "order 1 9223372036854775807tr x"} {
		f.Add(uint8(0), []byte(s))
	}
	f.Add(uint8(3), []byte(docBody))
	f.Add(uint8(3), []byte("command=%2Fcrm&text=%ZZ&user_id="))
	f.Add(uint8(4), interaction(slacktest.TeamID, repUser, handoffChan, "1767225600.000100", "handoff_take", "1"))
	f.Add(uint8(4), interaction(slacktest.TeamID, repUser, handoffChan, "1767225600.000100", "offer_accept", "welcome-new:1"))
	f.Add(uint8(4), []byte(`{"type":"view_submission","team":{"id":"T0IDIC001"},"user":{"id":"U0ADMIN01"},"view":{"callback_id":"offer_edit","private_metadata":"\u0000","state":{"values":{"a":{"b":{"type":"plain_text_input","value":"{{range 1000000000}}{{end}}"}}}}}}`))
	f.Add(uint8(4), []byte(`{"type":"block_actions","actions":null}`))
	f.Add(uint8(5), messageEvent("Ev01", slacktest.TeamID, handoffChan, repUser, "1767225600.000100", "1767225601.000200", "chào chị, em gọi lại nhé", nil))
	f.Add(uint8(5), []byte(`{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`))
	f.Add(uint8(5), []byte(`{"type":"event_callback","event":{"type":"message","subtype":"message_changed","channel":"C0HANDOFF"}}`))
	f.Add(uint8(5), []byte(`{"type":"event_callback","event":null}`))
	h := fuzzServer(f)
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		path, body := slack.CommandsPath, data
		switch kind % 6 {
		case 0, 1, 2: // a /crm command with this text, from an admin, a rep or a stranger
			user := []string{adminUser, repUser, strangerUser}[kind%6]
			body = commandBody(slacktest.TeamID, user, string(data))
		case 4:
			path, body = slack.InteractionsPath, []byte(url.Values{"payload": {string(data)}}.Encode())
		case 5:
			path = slack.EventsPath
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if path == slack.EventsPath {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sign(docSecret, ts, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body)
		}
		if kind%6 < 3 && (rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes())) {
			// Every well-formed command gets an answer, an error or a refusal included.
			t.Fatalf("/crm %q answered %d: %s", data, rec.Code, rec.Body)
		}
	})
}
