package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/telegram"
	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// The tests in this file run the real program — Main serving with the real
// core, store and outbox — against a fake Telegram Bot API server, and
// check what a customer on Telegram would see and what the shop's records
// keep.

// telegramTestConfig switches the send limits off (the per-chat limit would
// make a conversation of ten messages take ten seconds), polls with a short
// timeout and retries failed sends quickly.
const telegramTestConfig = `log_level: warn
sweep_interval: 0s
shutdown_timeout: 5s
outbox:
  backoff: 5ms
  max_backoff: 20ms
telegram:
  per_chat_interval: 0s
  global_per_second: 0
  poll_timeout: 1s
`

// served is a Main running `serve` in the background.
type served struct {
	t    testing.TB
	m    *Main
	srv  *telegramtest.Server
	out  *serveOutput
	stop context.CancelFunc
	done chan error
}

// serveOutput collects what Main writes, for the log of a failed test.
type serveOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *serveOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *serveOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startTelegramMain runs `idicbot serve` on data in dir with Telegram
// pointed at srv; extra environment variables (webhook) are added.
func startTelegramMain(tb testing.TB, srv *telegramtest.Server, dir string, extra map[string]string, after func(bot.Result)) *served {
	tb.Helper()
	env := map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token, "TELEGRAM_API_URL": srv.URL()}
	for k, v := range extra {
		env[k] = v
	}
	s := startTelegramServe(tb, dir, env, after)
	s.srv = srv
	return s
}

// startTelegramServe runs `idicbot serve` on data in dir, with the test
// configuration, the environment env and a local address of its own.
func startTelegramServe(tb testing.TB, dir string, env map[string]string, after func(bot.Result)) *served {
	tb.Helper()
	return startServeWith(tb, dir, env, telegramTestConfig, func(m *Main) { m.AfterCommit = after })
}

// startServeWith is startTelegramServe with a configuration of its own and
// a chance to change Main (its Leader, say) before it parses its flags.
func startServeWith(tb testing.TB, dir string, env map[string]string, conf string, tune func(*Main)) *served {
	tb.Helper()
	cfg := filepath.Join(dir, "idicbot.yaml")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	env["IDICBOT_ADDR"] = "127.0.0.1:0"
	out := &serveOutput{}
	m := NewMain()
	m.Stdin = strings.NewReader("")
	m.Stdout, m.Stderr = out, out
	m.Getenv = func(k string) string { return env[k] }
	if tune != nil {
		tune(m)
	}
	if err := m.ParseFlags([]string{"serve", "--data", dir, "--config", cfg}); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{t: tb, m: m, out: out, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- m.Run(ctx) }()
	select {
	case <-m.Ready():
	case err := <-s.done:
		cancel()
		m.Close()
		tb.Fatalf("serve ended before it was up: %v\n%s", err, out)
	case <-time.After(20 * time.Second):
		tb.Fatalf("serve did not come up\n%s", out)
	}
	return s
}

// with returns s reporting to tb (a subtest).
func (s *served) with(tb testing.TB) *served {
	cp := *s
	cp.t = tb
	return &cp
}

// shutdown stops serving (the outbox is flushed) and leaves the store open
// for checks; close releases it.
func (s *served) shutdown() {
	s.t.Helper()
	s.stop()
	if err := <-s.done; err != nil {
		s.t.Fatalf("serve: %v\n%s", err, s.out)
	}
}

func (s *served) close() {
	if err := s.m.Close(); err != nil {
		s.t.Errorf("close: %v", err)
	}
}

// stopOnCleanup shuts s down when the test ends, showing its log if the
// test failed.
func (s *served) stopOnCleanup(tb testing.TB) {
	tb.Cleanup(func() {
		s.shutdown()
		s.close()
		if tb.Failed() {
			tb.Logf("idicbot output:\n%s", s.out)
		}
	})
}

// waitFor polls cond until it holds. The deadline only bounds a hang; it
// measures nothing.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// customer returns the stored customer of a channel identity, or nil.
func (s *served) customer(ch crm.Channel, userID string) *crm.Customer {
	s.t.Helper()
	var c *crm.Customer
	if err := s.m.DB.View(context.Background(), func(tx crm.Tx) error {
		var err error
		c, err = tx.FindCustomerByIdentity(ch, userID)
		return err
	}); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *served) customerCount() int64 {
	s.t.Helper()
	var n int64
	if err := s.m.DB.View(context.Background(), func(tx crm.Tx) error {
		var err error
		n, err = tx.CustomerCount()
		return err
	}); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *served) tgCustomer(u telegramtest.User) *crm.Customer {
	return s.customer(crm.ChannelTelegram, strconv.FormatInt(u.ID, 10))
}

// interactions returns a customer's logged interactions, oldest first,
// split by direction.
func (s *served) interactions(id crm.ID) (in, out []*crm.Interaction) {
	s.t.Helper()
	if err := s.m.DB.View(context.Background(), func(tx crm.Tx) error {
		all, err := tx.Interactions(id, 0, 0)
		for _, it := range all {
			if it.Direction == crm.Inbound {
				in = append(in, it)
			} else {
				out = append(out, it)
			}
		}
		return err
	}); err != nil {
		s.t.Fatal(err)
	}
	return in, out
}

// flush waits until the outbox has sent (or given up) everything queued.
func (s *served) flush() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.m.Dispatcher.Flush(ctx); err != nil {
		s.t.Fatalf("outbox flush: %v", err)
	}
}

// sentTo returns the messages the bot sent to a chat, in order.
func sentTo(srv *telegramtest.Server, chat int64) []telegramtest.SentMessage {
	id := strconv.FormatInt(chat, 10)
	var out []telegramtest.SentMessage
	for _, m := range srv.Sent() {
		if m.ChatID == id {
			out = append(out, m)
		}
	}
	return out
}

// sendCallsTo counts sendMessage calls to a chat, refused ones included.
func sendCallsTo(srv *telegramtest.Server, chat int64) int {
	id := strconv.FormatInt(chat, 10)
	n := 0
	for _, c := range srv.Calls("sendMessage") {
		if c.Params["chat_id"] == id {
			n++
		}
	}
	return n
}

// settled waits until the customer of u has n inbound interactions and
// every reply logged for them reached the chat, and returns the customer.
func (s *served) settled(u telegramtest.User, n int) *crm.Customer {
	s.t.Helper()
	var c *crm.Customer
	waitFor(s.t, fmt.Sprintf("%d messages of %s handled and answered", n, u.FirstName), func() bool {
		// The customer and their interactions from one snapshot: read
		// apart, a message committed between the two reads would pass
		// the check with the customer as it was before it.
		var in, out int
		if err := s.m.DB.View(context.Background(), func(tx crm.Tx) error {
			var err error
			if c, err = tx.FindCustomerByIdentity(crm.ChannelTelegram, strconv.FormatInt(u.ID, 10)); err != nil || c == nil {
				return err
			}
			all, err := tx.Interactions(c.ID, 0, 0)
			for _, it := range all {
				if it.Direction == crm.Inbound {
					in++
				} else {
					out++
				}
			}
			return err
		}); err != nil {
			s.t.Fatal(err)
		}
		return c != nil && in == n && out > 0 && len(sentTo(s.srv, u.ID)) == out
	})
	return c
}

// keyboard is a reply_markup as the bot sends it.
type keyboard struct {
	Inline [][]struct {
		Text         string `json:"text"`
		CallbackData string `json:"callback_data"`
	} `json:"inline_keyboard"`
	Keyboard [][]struct {
		Text           string `json:"text"`
		RequestContact bool   `json:"request_contact"`
	} `json:"keyboard"`
}

func markupOf(tb testing.TB, m telegramtest.SentMessage) keyboard {
	tb.Helper()
	var k keyboard
	if m.ReplyMarkup != nil {
		if err := json.Unmarshal(m.ReplyMarkup, &k); err != nil {
			tb.Fatalf("reply_markup %s: %v", m.ReplyMarkup, err)
		}
	}
	return k
}

// TestTelegram runs conversations through one Main in long-polling mode.
// Subtests share it and use customers of their own; they run one after
// another because some inject faults into the shared fake server.
func TestTelegram(t *testing.T) {
	srv := telegramtest.New(t)
	main := startTelegramMain(t, srv, t.TempDir(), nil, nil)
	main.stopOnCleanup(t)

	t.Run("greeting, offer with buttons, accept, share contact", func(t *testing.T) {
		s := main.with(t)
		lan := telegramtest.User{ID: 5000001, FirstName: "Lan", LanguageCode: "vi"}
		srv.UserText(lan, "xin chào")
		s.settled(lan, 1)
		sent := sentTo(srv, lan.ID)
		if len(sent) != 2 || !strings.HasPrefix(sent[0].Text, "Xin chào Lan!") {
			t.Fatalf("sent %+v, want the greeting and an offer", sent)
		}
		var accept string
		for _, row := range markupOf(t, sent[1]).Inline {
			for _, b := range row {
				if strings.HasSuffix(b.CallbackData, ":accept") {
					accept = b.CallbackData
				}
			}
		}
		if accept == "" {
			t.Fatalf("offer %q has no accept button: %s", sent[1].Text, sent[1].ReplyMarkup)
		}
		offerID := strings.Split(accept, ":")[1]

		press := srv.PressButton(lan, accept)
		waitFor(t, "the callback query answered", func() bool { return slices.Contains(srv.Answered(), press.QueryID) })
		// The query is answered after the commit: the decision is stored.
		c := s.tgCustomer(lan)
		if st := c.Offers[offerID]; st == nil || st.Accepted != 1 || c.Stats.OffersTaken != 1 {
			t.Fatalf("offer %s stats %+v (taken %d), want accepted once", offerID, st, c.Stats.OffersTaken)
		}
		s.settled(lan, 2)
		sent = sentTo(srv, lan.ID)
		reply := sent[len(sent)-1]
		if !strings.Contains(reply.Text, "đã ghi nhận ưu đãi") {
			t.Fatalf("reply to the accept button %q", reply.Text)
		}
		if k := markupOf(t, reply).Keyboard; len(k) != 1 || !k[0][0].RequestContact {
			t.Fatalf("the bot should ask for the phone with a share-contact button: %s", reply.ReplyMarkup)
		}

		// Someone else's contact card is not the customer's phone.
		srv.UserContact(lan, "+84 912 999 888", false)
		s.settled(lan, 3)
		if c := s.tgCustomer(lan); c.Phone != "" {
			t.Fatalf("a contact of someone else set the phone to %q", c.Phone)
		}
		// Their own, as the button sends it (no '+'), is normalized and linked.
		srv.UserContact(lan, "84912000111", true)
		c = s.settled(lan, 4)
		if c.Phone != "+84912000111" {
			t.Fatalf("phone %q, want +84912000111", c.Phone)
		}
		if in, _ := s.interactions(c.ID); in[3].Kind != crm.KindContact {
			t.Fatalf("contact logged as %q", in[3].Kind)
		}
	})

	t.Run("deep link keeps the acquisition source", func(t *testing.T) {
		s := main.with(t)
		for _, tc := range []struct {
			user telegramtest.User
			text string
			want string
		}{
			{telegramtest.User{ID: 5000002, FirstName: "Minh", LanguageCode: "en"}, "/start ad_summer", "ad_summer"},
			{telegramtest.User{ID: 5000012, FirstName: "Tú"}, "/start@" + srv.BotUsername + " zalo-group_7", "zalo-group_7"},
			{telegramtest.User{ID: 5000022, FirstName: "Hà"}, "/start", ""},
		} {
			srv.UserText(tc.user, tc.text)
			c := s.settled(tc.user, 1)
			if c.Source != tc.want {
				t.Errorf("%q: source %q, want %q", tc.text, c.Source, tc.want)
			}
		}
		if c := s.tgCustomer(telegramtest.User{ID: 5000002}); c.Language != "en" {
			t.Errorf("language %q, want en from language_code", c.Language)
		}
		// The source is kept: a later /start with another code does not replace it.
		minh := telegramtest.User{ID: 5000002, FirstName: "Minh", LanguageCode: "en"}
		srv.UserText(minh, "/start tiktok")
		if c := s.settled(minh, 2); c.Source != "ad_summer" {
			t.Errorf("source %q after a second deep link, want ad_summer", c.Source)
		}
	})

	t.Run("a phone typed on the web chat, proven on Telegram, joins by a code", func(t *testing.T) {
		s := main.with(t)
		post := func(id, text string) {
			t.Helper()
			body := `{"session":"web-hoa","id":"` + id + `","text":"` + text + `"}`
			resp, err := http.Post(s.m.URL()+"/webchat/messages", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("web chat answered %d", resp.StatusCode)
			}
		}
		post("1", "sdt 0912 345 678")
		web := s.customer(crm.ChannelWeb, "web-hoa")
		if web == nil || web.Phone != "" || web.Claims.Phone != "+84912345678" {
			t.Fatalf("web customer %+v, want the phone as an unverified claim", web)
		}

		// Telegram proves the number is Hoa's: she is her own customer,
		// since a typed number links nothing.
		hoa := telegramtest.User{ID: 5000003, FirstName: "Hoa", LanguageCode: "vi"}
		srv.UserContact(hoa, "84912345678", true)
		waitFor(t, "the contact answered on Telegram", func() bool { return len(sentTo(srv, hoa.ID)) > 0 })
		c := s.tgCustomer(hoa)
		if c.ID == web.ID || c.Phone != "+84912345678" {
			t.Fatalf("Telegram customer %+v, web customer %d: want two customers", c, web.ID)
		}

		// On the web chat again, the number now reaches Hoa's Telegram
		// as a code; typed back, the two are one.
		n := len(sentTo(srv, hoa.ID))
		post("2", "0912 345 678")
		var code string
		waitFor(t, "a code on Telegram", func() bool {
			for _, m := range sentTo(srv, hoa.ID)[n:] {
				if f := strings.Fields(m.Text); len(f) > 0 {
					for _, w := range f {
						if w = strings.Trim(w, ".:,()"); len(w) == 6 && strings.Trim(w, "0123456789") == "" {
							code = w
							return true
						}
					}
				}
			}
			return false
		})
		post("3", code)
		c = s.tgCustomer(hoa)
		if c.Identity(crm.ChannelWeb, "web-hoa") == nil || c.Identity(crm.ChannelTelegram, "5000003") == nil {
			t.Fatalf("identities %+v, want the web chat and Telegram", c.Identities)
		}
		if got := s.customer(crm.ChannelWeb, "web-hoa"); got.ID != c.ID {
			t.Fatalf("web identity now belongs to customer %d", got.ID)
		}
		in, _ := s.interactions(c.ID)
		if len(in) != 4 || in[0].Channel != crm.ChannelWeb || in[1].Channel != crm.ChannelTelegram {
			t.Fatalf("history %+v, want the web message, the contact, then the web messages", in)
		}
	})

	t.Run("each chat's replies arrive in the order of its messages", func(t *testing.T) {
		s := main.with(t)
		texts := []string{"giá iphone 15", "cảm ơn", "có samsung galaxy a55 không", "giá macbook air m3",
			"tai nghe airpods pro 2 giá bao nhiêu", "redmi note 13 còn hàng không", "sạc dự phòng anker giá sao"}
		const chats, perChat = 12, 14
		users := make([]telegramtest.User, chats)
		for i := range users {
			users[i] = telegramtest.User{ID: int64(5100000 + i), FirstName: "Khách" + strconv.Itoa(i), LanguageCode: "vi"}
		}
		// All at once, interleaved as Telegram delivers them: more than
		// one getUpdates batch, every chat busy at the same time.
		for n := range perChat {
			for i, u := range users {
				srv.UserText(u, texts[(n+i)%len(texts)])
			}
		}
		for i, u := range users {
			c := s.settled(u, perChat)
			in, out := s.interactions(c.ID)
			for n, it := range in {
				if want := texts[(n+i)%len(texts)]; it.Text != want {
					t.Fatalf("chat %d: message %d logged as %q, want %q", u.ID, n, it.Text, want)
				}
			}
			// Replies are logged in the transaction of the message they
			// answer, so their ids follow the messages' order; the chat
			// must receive them in that order.
			sent := sentTo(srv, u.ID)
			for k, it := range out {
				if sent[k].Text != it.Text {
					t.Fatalf("chat %d: reply %d is %q, want %q", u.ID, k, sent[k].Text, it.Text)
				}
			}
		}
	})

	t.Run("an edit updates the logged text and gets no reply", func(t *testing.T) {
		s := main.with(t)
		an := telegramtest.User{ID: 5000004, FirstName: "An", LanguageCode: "vi"}
		first := srv.UserText(an, "giá iphone 15")
		s.settled(an, 1)
		before := len(sentTo(srv, an.ID))
		srv.EditText(an, first.MessageID, "giá samsung galaxy a55")
		srv.UserText(an, "cảm ơn shop")
		// The thanks comes after the edit in the same chat, so once it is
		// answered the edit was handled: any reply to it would be there.
		c := s.settled(an, 2)
		sent := sentTo(srv, an.ID)
		if len(sent) != before+1 || !strings.HasPrefix(sent[before].Text, "Không có gì") {
			t.Fatalf("sent %d messages after the edit (%+v), want only the answer to the thanks", len(sent)-before, sent[before:])
		}
		in, _ := s.interactions(c.ID)
		if !in[0].Edited || in[0].Text != "giá samsung galaxy a55" || in[0].Original != "giá iphone 15" {
			t.Fatalf("edited message logged as %+v", in[0])
		}
	})

	t.Run("group chatter is ignored unless the bot is addressed", func(t *testing.T) {
		s := main.with(t)
		binh := telegramtest.User{ID: 5000005, FirstName: "Bình", LanguageCode: "vi"}
		const group = -1001234567890
		srv.GroupText(binh, group, "xin chào mọi người, ai mua iphone không")
		srv.GroupText(binh, group, "@"+srv.BotUsername+" giá iphone 15 bao nhiêu")
		waitFor(t, "the answer in the group", func() bool { return len(sentTo(srv, group)) > 0 })
		c := s.tgCustomer(binh)
		in, out := s.interactions(c.ID)
		if len(in) != 1 || !strings.Contains(in[0].Text, "giá iphone 15") {
			t.Fatalf("logged %+v, want only the message addressed to the bot", in)
		}
		waitFor(t, "every reply sent", func() bool { return len(sentTo(srv, group)) == len(out) })
	})

	t.Run("a photo gets a polite reply", func(t *testing.T) {
		s := main.with(t)
		cuc := telegramtest.User{ID: 5000006, FirstName: "Cúc", LanguageCode: "vi"}
		srv.UserPhoto(cuc)
		c := s.settled(cuc, 1)
		sent := sentTo(srv, cuc.ID)
		if len(sent) != 1 || !strings.Contains(sent[0].Text, "chỉ đọc được tin nhắn chữ") {
			t.Fatalf("sent %+v, want one polite reply", sent)
		}
		if in, _ := s.interactions(c.ID); in[0].Kind != crm.KindPhoto {
			t.Fatalf("logged as %q, want photo", in[0].Kind)
		}
	})

	t.Run("429 waits and the message arrives once", func(t *testing.T) {
		s := main.with(t)
		s.flush() // nothing else in flight takes the fault
		srv.Fail("sendMessage", telegramtest.Fault{Code: http.StatusTooManyRequests, RetryAfter: 1})
		dung := telegramtest.User{ID: 5000007, FirstName: "Dũng", LanguageCode: "vi"}
		srv.UserText(dung, "cảm ơn shop")
		s.settled(dung, 1)
		s.flush()
		if sent := sentTo(srv, dung.ID); len(sent) != 1 || !strings.HasPrefix(sent[0].Text, "Không có gì") {
			t.Fatalf("sent %+v, want the answer once", sent)
		}
		if n := sendCallsTo(srv, dung.ID); n != 2 {
			t.Fatalf("%d sendMessage calls, want 2 (refused with 429, then delivered)", n)
		}
	})

	t.Run("403 marks the identity unreachable and stops sending", func(t *testing.T) {
		s := main.with(t)
		em := telegramtest.User{ID: 5000008, FirstName: "Em", LanguageCode: "vi"}
		srv.Block(em.ID)
		srv.UserText(em, "xin chào") // answered with a greeting and an offer
		waitFor(t, "the identity marked unreachable", func() bool {
			c := s.tgCustomer(em)
			return c != nil && c.Identity(crm.ChannelTelegram, "5000008").Unreachable
		})
		s.flush() // the offer, queued with the greeting
		c := s.tgCustomer(em)
		id := c.Identity(crm.ChannelTelegram, "5000008")
		if id == nil || !id.Unreachable || !strings.Contains(id.UnreachableWhy, "blocked") {
			t.Fatalf("identity %+v, want unreachable: blocked", id)
		}
		if _, out := s.interactions(c.ID); len(out) != 2 {
			t.Fatalf("%d replies logged, want 2", len(out))
		}
		if n := sendCallsTo(srv, em.ID); n != 1 {
			t.Fatalf("%d sendMessage calls to a chat that blocked the bot, want 1", n)
		}
	})
}

// TestTelegramWebhook runs one Main in webhook mode. Telegram's calls reach
// it through the public URL; here the fake server posts to the local
// address, as a reverse proxy would forward them.
func TestTelegramWebhook(t *testing.T) {
	const public = "https://shop.example.com/telegram/webhook"
	const secret = "s3cret-Token_42"
	srv := telegramtest.New(t)
	main := startTelegramMain(t, srv, t.TempDir(), map[string]string{
		"TELEGRAM_WEBHOOK_URL": public, "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_WEBHOOK_MAX_CONNECTIONS": "64",
	}, nil)
	main.stopOnCleanup(t)
	if url, sec := srv.Webhook(); url != public || sec != secret || srv.WebhookConnections() != 64 {
		t.Fatalf("webhook registered as %q with secret %q, max_connections %d", url, sec, srv.WebhookConnections())
	}
	target := main.m.URL() + telegram.WebhookPath
	post := func(t *testing.T, token, body string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// update is a private text message shaped as the Bot API documents it.
	update := func(updateID, userID int64, messageID int, text string) string {
		return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,`+
			`"from":{"id":%d,"is_bot":false,"first_name":"Giang","language_code":"vi"},`+
			`"chat":{"id":%d,"first_name":"Giang","type":"private"},"date":%d,"text":%q}}`,
			updateID, messageID, userID, userID, time.Now().Unix(), text)
	}

	t.Run("wrong or missing secret: 401 and nothing stored", func(t *testing.T) {
		s := main.with(t)
		for _, token := range []string{"", "wrong", secret + "x"} {
			if code := post(t, token, update(900001, 6000001, 1, "xin chào")); code != http.StatusUnauthorized {
				t.Errorf("secret %q: status %d, want 401", token, code)
			}
		}
		if c := s.customer(crm.ChannelTelegram, "6000001"); c != nil {
			t.Fatalf("customer stored from a refused call: %+v", c)
		}
	})

	t.Run("a body that is not an update: 400", func(t *testing.T) {
		s := main.with(t)
		before := s.customerCount()
		for _, body := range []string{"", "hello", "[]", `{"ok":true}`, `{"update_id":"x"}`} {
			if code := post(t, secret, body); code != http.StatusBadRequest {
				t.Errorf("body %q: status %d, want 400", body, code)
			}
		}
		if after := s.customerCount(); after != before {
			t.Fatalf("%d customers stored from bodies that are not updates", after-before)
		}
	})

	t.Run("an update is answered 200 after its commit", func(t *testing.T) {
		s := main.with(t)
		giang := telegramtest.User{ID: 6000002, FirstName: "Giang", LanguageCode: "vi"}
		srv.UserText(giang, "xin chào")
		n, err := srv.DeliverWebhookTo(context.Background(), target)
		if err != nil || n != 1 {
			t.Fatalf("delivered %d: %v", n, err)
		}
		// No waiting: the 200 came after the commit.
		c := s.tgCustomer(giang)
		if c == nil {
			t.Fatal("update answered 200 but not stored")
		}
		if in, _ := s.interactions(c.ID); len(in) != 1 {
			t.Fatalf("%d messages logged, want 1", len(in))
		}
		s.settled(giang, 1)
	})

	t.Run("a redelivered update changes nothing", func(t *testing.T) {
		s := main.with(t)
		body := update(900002, 6000003, 7, "giá iphone 15 bao nhiêu")
		for range 2 {
			if code := post(t, secret, body); code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
		}
		u := telegramtest.User{ID: 6000003, FirstName: "Giang"}
		c := s.settled(u, 1)
		s.flush()
		in, out := s.interactions(c.ID)
		if len(in) != 1 || len(sentTo(srv, u.ID)) != len(out) {
			t.Fatalf("%d messages logged and %d of %d replies sent, want 1 message answered once", len(in), len(sentTo(srv, u.ID)), len(out))
		}
	})

	if n := len(srv.Calls("getUpdates")); n != 0 {
		t.Errorf("%d getUpdates calls in webhook mode", n)
	}
}

// Crash tests. The child is this test binary run again: it serves with
// Telegram pointed at the fake server of the parent test (which outlives
// it, so sendMessage calls are counted across the crash and the restart)
// and dies right after its first commit that queued replies, before the
// reply is sent and before the update is confirmed.

const (
	crashDirEnv = "IDICBOT_TELEGRAM_CRASH_DIR"
	crashAPIEnv = "IDICBOT_TELEGRAM_CRASH_API"
)

// TestTelegramCrashChild is not a test on its own: see runTelegramCrashChild.
func TestTelegramCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for the Telegram crash tests")
	}
	env := map[string]string{"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": os.Getenv(crashAPIEnv)}
	s := startTelegramServe(t, dir, env, func(r bot.Result) {
		if len(r.Outbox) > 0 {
			os.Exit(3) // committed, replies in the outbox, nothing sent or confirmed
		}
	})
	time.Sleep(20 * time.Second)
	t.Fatalf("child did not crash\n%s", s.out)
}

// runTelegramCrashChild runs the child on dir against srv and checks that
// it died at its first commit, having sent nothing and confirmed nothing.
func runTelegramCrashChild(t *testing.T, srv *telegramtest.Server, dir string, pending int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTelegramCrashChild$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashAPIEnv+"="+srv.URL())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child should die with code 3 at its first commit: %v\n%s", err, out)
	}
	if n := len(srv.Calls("getUpdates")); n == 0 {
		t.Fatal("the child never asked for updates")
	}
	if n := len(srv.Calls("sendMessage")); n != 0 {
		t.Fatalf("the child sent %d messages before dying", n)
	}
	if got := srv.Pending(); got != pending {
		t.Fatalf("%d updates left unconfirmed after the crash, want %d", got, pending)
	}
}

// restartAfterCrash serves again on dir until the pending updates are
// confirmed and n messages were sent to chat, then shuts down (flushing the
// outbox) and returns the customer's logged interactions.
func restartAfterCrash(t *testing.T, srv *telegramtest.Server, dir string, u telegramtest.User, n int) (in, out []*crm.Interaction) {
	t.Helper()
	s := startTelegramMain(t, srv, dir, nil, nil)
	defer s.close()
	waitFor(t, "every update confirmed", func() bool { return srv.Pending() == 0 })
	waitFor(t, "the replies sent", func() bool { return len(sentTo(srv, u.ID)) >= n })
	s.shutdown()
	c := s.tgCustomer(u)
	if c == nil {
		t.Fatal("customer not stored")
	}
	return s.interactions(c.ID)
}

// TestTelegramCrashBeforeCommit kills the process while an update it
// received is not committed yet: the child takes two messages of one chat
// in one getUpdates batch and dies at the commit of the first, before it
// handles the second. Neither is confirmed, so Telegram delivers both
// again: the first is recognised as handled, the second is handled now,
// each exactly once.
func TestTelegramCrashBeforeCommit(t *testing.T) {
	srv := telegramtest.New(t)
	dir := t.TempDir()
	lan := telegramtest.User{ID: 7000001, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserText(lan, "xin chào")
	srv.UserText(lan, "cảm ơn shop")
	runTelegramCrashChild(t, srv, dir, 2)

	in, out := restartAfterCrash(t, srv, dir, lan, 3)
	if len(in) != 2 || in[0].Text != "xin chào" || in[1].Text != "cảm ơn shop" {
		t.Fatalf("logged %+v, want each message once", in)
	}
	sent := sentTo(srv, lan.ID)
	if len(out) != 3 || len(sent) != 3 {
		t.Fatalf("%d replies logged and %d sent, want 3 (greeting, offer, thanks) once each", len(out), len(sent))
	}
	for k := range out {
		if sent[k].Text != out[k].Text {
			t.Fatalf("reply %d sent as %q, want %q", k, sent[k].Text, out[k].Text)
		}
	}
}

// TestTelegramCrashAfterCommit kills the process between the commit and
// the send: after a restart the update comes again and changes nothing,
// and the committed replies are sent exactly once, never again.
func TestTelegramCrashAfterCommit(t *testing.T) {
	srv := telegramtest.New(t)
	dir := t.TempDir()
	lan := telegramtest.User{ID: 7000002, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserText(lan, "xin chào")
	runTelegramCrashChild(t, srv, dir, 1)

	in, out := restartAfterCrash(t, srv, dir, lan, 2)
	if len(in) != 1 || len(out) != 2 {
		t.Fatalf("%d messages and %d replies logged, want 1 and 2 (greeting, offer)", len(in), len(out))
	}
	if sent := sentTo(srv, lan.ID); len(sent) != 2 || !strings.HasPrefix(sent[0].Text, "Xin chào Lan!") || sent[1].Text != out[1].Text {
		t.Fatalf("sent %+v, want the greeting and the offer once", sent)
	}
	// A second restart has nothing left to send.
	s := startTelegramMain(t, srv, dir, nil, nil)
	s.shutdown()
	s.close()
	if n := len(srv.Calls("sendMessage")); n != 2 {
		t.Fatalf("%d sendMessage calls in all, want 2", n)
	}
}
