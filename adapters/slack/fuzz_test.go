package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// fuzzServer builds the adapter over a real store once for a fuzz target
// (newEnv is per test, and a fuzz input is too short-lived for one); socket
// switches Socket Mode on instead of signed HTTP.
func fuzzServer(tb testing.TB, socket bool) (http.Handler, *slacktest.Server) {
	tb.Helper()
	kit := bottest.NewCore(tb, bottest.NoOffers(), bottest.WithNow(time.Now), bottest.OnChannels(crm.ChannelWeb),
		bottest.DispatcherOptions(func(o *bot.DispatcherOptions) { o.Lanes, o.MaxBackoff = 1, 2*time.Millisecond }))
	core := kit.Core
	ctx := context.Background()
	fake := slacktest.New(tb)
	fake.SetGroup(repGroup, groupUser)
	opts := slack.Options{
		BotToken: slacktest.BotToken, APIURL: fake.APIURL(), HandoffChannel: handoffChan, SigningSecret: docSecret,
		TeamIDs: []string{slacktest.TeamID}, RepIDs: []string{repUser}, RepGroup: repGroup, AdminIDs: []string{adminUser},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), InlineWait: time.Second,
	}
	if socket {
		opts.SigningSecret, opts.AppToken = "", slacktest.AppToken
	}
	a, err := slack.New(core, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.RegisterOfferCommands(); err != nil {
		tb.Fatal(err)
	}
	if err := a.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { // before the kit closes the core and checks the store
		a.Close()
	})
	mux := http.NewServeMux()
	a.Routes(mux)
	return mux, fake
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
	h, _ := fuzzServer(f, false)
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

// FuzzSocketEnvelopes sends any JSON as the payload of Socket Mode
// envelopes: a slash command or an interaction the library can read is
// acknowledged, and whatever came before, the connection still answers the
// next command.
func FuzzSocketEnvelopes(f *testing.F) {
	cmd := func(user, text string) map[string]any {
		return map[string]any{"token": "legacy", "team_id": slacktest.TeamID, "team_domain": "idic-test", "channel_id": "C0SALES01",
			"user_id": user, "command": "/crm", "text": text, "api_app_id": "A0IDIC001", "trigger_id": nextTrigger(),
			"response_url": "https://hooks.slack.test/commands/1"}
	}
	for _, c := range []map[string]any{cmd(adminUser, "help"), cmd(repUser, "find Lan"), cmd(strangerUser, "erase 1"), cmd(adminUser, "offer edit vip-care")} {
		data, _ := json.Marshal(c)
		f.Add(uint8(0), data)
	}
	var p map[string]any
	_ = json.Unmarshal(interaction(slacktest.TeamID, repUser, handoffChan, "1767225600.000100", "handoff_take", "1"), &p)
	data, _ := json.Marshal(p)
	f.Add(uint8(1), data)
	f.Add(uint8(2), messageEvent("Ev02", slacktest.TeamID, handoffChan, repUser, "1767225600.000100", "1767225601.000200", "chào chị", nil))
	for _, s := range []string{`{}`, `null`, `[]`, `1`, `"x"`, `{"type":"view_submission","view":null}`, `{"command":"/crm","text":"\u0000"}`,
		`{"type":"event_callback","event":{"type":"message","text":"\ud800"}}`} {
		for k := uint8(0); k < 3; k++ {
			f.Add(k, []byte(s))
		}
	}
	_, fake := fuzzServer(fuzzTB{f}, true)
	fake.WaitConnected(5 * time.Second)
	typs := []string{"slash_commands", "interactive", "events_api"}
	n := 0
	f.Fuzz(func(t *testing.T, kind uint8, payload []byte) {
		if !json.Valid(payload) {
			return // the envelope around it would not be JSON
		}
		n++
		typ := typs[kind%3]
		id := "fuzz-" + strconv.Itoa(n)
		fake.SendEnvelope(id, typ, json.RawMessage(payload))
		var readable bool
		switch typ {
		case "slash_commands":
			var c struct {
				Command string `json:"command"`
			}
			readable = json.Unmarshal(payload, &c) == nil && bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{"))
		case "interactive":
			var c struct {
				Type string `json:"type"`
			}
			readable = json.Unmarshal(payload, &c) == nil && bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{")) && c.Type != ""
		}
		if readable && !acked(fake, id) {
			t.Fatalf("%s envelope %s not acknowledged: %s", typ, id, payload)
		}
		data, _ := json.Marshal(cmd(adminUser, "help"))
		probe := id + "-probe"
		fake.SendEnvelope(probe, "slash_commands", json.RawMessage(data))
		if !acked(fake, probe) {
			t.Fatalf("after %s %s, the connection no longer answers a command", typ, payload)
		}
	})
}

// acked waits a while for an envelope's ack.
func acked(fake *slacktest.Server, id string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if fake.Acked(id) {
			return true
		}
	}
	return false
}

// fuzzTB lets the fake, built once for a fuzz target, be used inside it:
// testing.F's Helper and Fatal may not be called there.
type fuzzTB struct{ testing.TB }

func (fuzzTB) Helper()                           {}
func (fuzzTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (fuzzTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
