package slack_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// Slack's published signing example
// (docs.slack.dev/authentication/verifying-requests-from-slack).
const (
	docSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	docTS     = "1531420618"
	docBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	docTeam   = "T1DC2JH3J"
)

// Slack users of the tests.
const (
	repUser      = "U0REP0001"
	rep2User     = "U0REP0002"
	groupUser    = "U0GROUP01"
	adminUser    = "U0ADMIN01"
	strangerUser = "U0NOBODY1"
	repGroup     = "S0REPS001"
	handoffChan  = "C0HANDOFF"
)

// sinks lets the core be built before the adapter that listens to it.
type sinks struct {
	mu   sync.Mutex
	list []bot.EventSink
}

func (s *sinks) add(e bot.EventSink) { s.mu.Lock(); defer s.mu.Unlock(); s.list = append(s.list, e) }
func (s *sinks) CoreEvent(ctx context.Context, e bot.Event) {
	s.mu.Lock()
	list := append([]bot.EventSink(nil), s.list...)
	s.mu.Unlock()
	for _, x := range list {
		x.CoreEvent(ctx, e)
	}
}

// env is a core on a real bbolt file, a fake Slack and the adapter.
type env struct {
	t     *testing.T
	kit   *bottest.Env
	db    *boltstore.DB
	core  *bot.Core
	disp  *bot.Dispatcher
	rec   *bottest.Recorder
	sinks *sinks
	fake  *slacktest.Server
	a     *slack.Adapter
	http  *httptest.Server // the adapter's routes
	ids   map[string]crm.ID
	seq   int
	logs  *bottest.LogBuffer // what the adapter logged
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := configs.Files.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newEnv builds the core and the adapter. socket switches Socket Mode on
// (an app token, no signing secret).
func newEnv(t *testing.T, socket bool) *env {
	t.Helper()
	// The store starts without offers (the tests that need them seed
	// them) and runs on real time, as Slack's timestamps do.
	sk := &sinks{}
	kit := bottest.NewCore(t, bottest.NoOffers(), bottest.WithNow(time.Now), bottest.WithEvents(sk),
		bottest.OnChannels(crm.ChannelWeb, crm.ChannelTelegram),
		bottest.DispatcherOptions(func(o *bot.DispatcherOptions) { o.Lanes = 2 }))
	db, core, disp, rec := kit.DB, kit.Core, kit.Disp, kit.Rec
	ctx := context.Background()
	fake := slacktest.New(t)
	fake.SetGroup(repGroup, groupUser)
	logs := &bottest.LogBuffer{}
	opts := slack.Options{
		BotToken: slacktest.BotToken, APIURL: fake.APIURL(), HandoffChannel: handoffChan,
		TeamIDs: []string{slacktest.TeamID, docTeam}, RepIDs: []string{repUser, rep2User}, RepGroup: repGroup,
		AdminIDs: []string{adminUser}, Logger: slog.New(slog.NewTextHandler(logs, nil)), InlineWait: 5 * time.Second,
		Prefs: db,
	}
	if socket {
		opts.AppToken = slacktest.AppToken
	} else {
		opts.SigningSecret = docSecret
	}
	a, err := slack.New(core, opts)
	if err != nil {
		t.Fatal(err)
	}
	sk.add(a)
	mux := http.NewServeMux()
	a.Routes(mux)
	e := &env{t: t, kit: kit, db: db, core: core, disp: disp, rec: rec, sinks: sk, fake: fake, a: a, http: httptest.NewServer(mux), logs: logs}
	if err := a.RegisterOfferCommands(); err != nil {
		t.Fatal(err)
	}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before the kit closes the core and checks the store
		e.http.Close()
		a.Close()
	})
	e.ids = seed(t, e)
	return e
}

// person is a seeded customer.
type person struct {
	key, name, phone, email, tgUser string
	orders                          []int64
}

var people = []person{
	{"lan", "Nguyễn Thị Lan", "+84912345678", "lan@example.com", "Lan_Shop", []int64{1_500_000, 2_500_000}},
	{"anh", "Trần Văn Ánh", "+84987654321", "", "", nil},
	{"vana", "Nguyễn Văn A", "+84903111222", "vana@example.vn", "", []int64{25_000_000}},
	{"dung", "Lê Đức Dũng", "", "dung@example.com", "dungle", []int64{300_000}},
}

func seed(t *testing.T, e *env) map[string]crm.ID {
	t.Helper()
	ctx := context.Background()
	ids := map[string]crm.ID{}
	now := time.Now()
	err := e.db.Update(ctx, func(tx crm.Tx) error {
		for i, p := range people {
			c := &crm.Customer{Name: p.name, Phone: p.phone, Email: p.email, CreatedAt: now, Source: "seed"}
			c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "w-" + p.key, FirstSeen: now})
			if p.tgUser != "" {
				c.AddIdentity(crm.Identity{Channel: crm.ChannelTelegram, UserID: strconv.Itoa(7000 + i), Username: p.tgUser, FirstSeen: now})
			}
			e.core.Segments().Apply(c, now, "import")
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			ids[p.key] = c.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		for _, amt := range p.orders {
			if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: ids[p.key], Amount: amt, Note: "seed"}, "order"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

func (e *env) id(key string) string { return strconv.FormatUint(uint64(e.ids[key]), 10) }

// say is a customer message through the core; it returns what the bot sent.
func (e *env) say(ch crm.Channel, user, text string) (bot.Result, []*crm.OutboxItem) {
	e.t.Helper()
	e.seq++
	ctx := context.Background()
	res, err := e.core.Handle(ctx, bot.Inbound{Channel: ch, UserID: user, MessageID: fmt.Sprintf("%s-%d", user, e.seq), Text: text})
	if err != nil {
		e.t.Fatalf("handle %q: %v", text, err)
	}
	return res, e.flush()
}

// flush waits for the outbox and returns what was sent to customers.
func (e *env) flush() []*crm.OutboxItem {
	e.t.Helper()
	if err := e.disp.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return e.rec.Take()
}

func (e *env) customer(id crm.ID) *crm.Customer {
	e.t.Helper()
	var c *crm.Customer
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		c, err = tx.Customer(id)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// sign returns Slack's v0 signature of body at ts with secret.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// post sends body to the adapter's path, signed now with the test secret
// unless headers are given.
func (e *env) post(path, contentType string, body []byte, headers map[string]string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if headers == nil {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		headers = map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(docSecret, ts, body)}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// triggers numbers the trigger ids of the requests the tests build: Slack
// gives every command and click its own, so two alike requests signed in
// the same second are still two requests, not a replay.
var triggers atomic.Int64

func nextTrigger() string { return fmt.Sprintf("1.2.%d", triggers.Add(1)) }

// commandBody is a slash command as Slack posts it.
func commandBody(team, user, text string) []byte {
	return []byte(url.Values{
		"token": {"legacy-verification-token"}, "team_id": {team}, "team_domain": {"idic-test"},
		"channel_id": {"C0SALES01"}, "channel_name": {"sales"}, "user_id": {user}, "user_name": {"user-" + strings.ToLower(user)},
		"command": {"/crm"}, "text": {text}, "api_app_id": {"A0IDIC001"}, "is_enterprise_install": {"false"},
		"response_url": {"https://hooks.slack.test/commands/T0IDIC001/1/abc"}, "trigger_id": {nextTrigger()},
	}.Encode())
}

// answer is the JSON a slash command answers with.
type answer struct {
	ResponseType string            `json:"response_type"`
	Text         string            `json:"text"`
	Blocks       []json.RawMessage `json:"blocks"`
	raw          string
}

// crm runs /crm text as user over HTTP and returns the answer.
func (e *env) crm(user, text string) answer {
	e.t.Helper()
	status, body := e.post(slack.CommandsPath, "application/x-www-form-urlencoded", commandBody(slacktest.TeamID, user, text), nil)
	if status != http.StatusOK {
		e.t.Fatalf("/crm %s: status %d: %s", text, status, body)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		e.t.Fatalf("/crm %s: %v in %s", text, err, body)
	}
	a.raw = string(body)
	return a
}

// all is what a user sees of an answer: fallback text and the text of
// every block.
func (a answer) all() string {
	var b strings.Builder
	b.WriteString(a.Text)
	for _, bl := range a.Blocks {
		b.WriteString("\n")
		b.WriteString(blockText(bl))
	}
	return b.String()
}

// blockText collects the texts (and button values) of Block Kit JSON.
func blockText(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && (k == "text" || k == "action_id" || k == "value") {
					out = append(out, s)
				} else {
					walk(val)
				}
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

// callText is what a Web API call shows: its text and its blocks' texts.
func callText(c slacktest.Call) string {
	return c.Form.Get("text") + "\n" + blockText([]byte(c.Form.Get("blocks")))
}

// interaction is a block_actions payload for a button click on a message.
func interaction(team, user, channel, ts, actionID, value string) []byte {
	p := map[string]any{
		"type": "block_actions", "token": "legacy", "api_app_id": "A0IDIC001", "trigger_id": nextTrigger(),
		"team":         map[string]any{"id": team, "domain": "idic-test"},
		"user":         map[string]any{"id": user, "username": "u-" + user, "name": "u-" + user, "team_id": team},
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": channel, "name": "handoffs"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": "card", "bot_id": slacktest.BotID},
		"response_url": "https://hooks.slack.test/actions/T0IDIC001/2/def",
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": "handoff", "value": value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": "Take it"}, "action_ts": "1767225601.000001",
		}},
	}
	data, _ := json.Marshal(p)
	return data
}

// messageEvent is an Events API envelope of a message posted in a thread.
func messageEvent(eventID, team, channel, user, threadTS, ts, text string, extra map[string]any) []byte {
	ev := map[string]any{"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
		"thread_ts": threadTS, "channel_type": "channel", "event_ts": ts, "client_msg_id": "m-" + eventID}
	for k, v := range extra {
		ev[k] = v
	}
	data, _ := json.Marshal(map[string]any{
		"token": "legacy", "team_id": team, "api_app_id": "A0IDIC001", "event": ev, "type": "event_callback",
		"event_id": eventID, "event_time": 1767225700, "authorizations": []map[string]any{{"team_id": team, "user_id": slacktest.BotUserID, "is_bot": true}},
	})
	return data
}

// eventually polls cond until it holds; the test fails after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: %q not in\n%s", what, w, got)
		}
	}
}

func lacks(t *testing.T, what, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Fatalf("%s: %q should not be in\n%s", what, w, got)
		}
	}
}

// handoffCard waits until customer id's handoff thread is stored and returns
// the card that opened it. Looking it up by the stored thread, not taking the
// first post after a Reset: a note an earlier step posts in the background
// (a hand-back told in its old thread) may reach the fake first.
func (e *env) handoffCard(id crm.ID) slacktest.Call {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ch, ts, ok := strings.Cut(e.customer(id).Handoff.Thread, ":"); ok {
			for _, c := range e.fake.Calls("chat.postMessage") {
				if c.TS == ts && c.Form.Get("channel") == ch && c.Form.Get("thread_ts") == "" {
					return c
				}
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no handoff card for customer %d (thread %q)", id, e.customer(id).Handoff.Thread)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
