package zalo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// flakyCore fails its first calls the way a store that cannot commit does.
type flakyCore struct {
	zalo.Core
	mu    sync.Mutex
	fails int
}

func (f *flakyCore) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails == 0 {
		return nil
	}
	f.fails--
	return crm.Errorf(crm.EINTERNAL, "store unavailable")
}

func (f *flakyCore) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	if err := f.fail(); err != nil {
		return bot.Result{}, err
	}
	return f.Core.Handle(ctx, in)
}

func (f *flakyCore) SubmitInfo(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	if err := f.fail(); err != nil {
		return bot.Result{}, err
	}
	return f.Core.SubmitInfo(ctx, in)
}

func (f *flakyCore) Touch(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	if err := f.fail(); err != nil {
		return bot.Result{}, err
	}
	return f.Core.Touch(ctx, in)
}

// An event is acknowledged only after it is committed: when the commit
// fails Zalo gets a 500 and nothing is stored or sent, so it delivers again;
// the redelivery is handled once.
func TestAckOnlyAfterCommit(t *testing.T) {
	flaky := &flakyCore{}
	e := newEnvWith(t, func(e *env, _ *zalo.Options) {
		e.wrap = func(c zalo.Core) zalo.Core { flaky.Core = c; return flaky }
	})
	user := "7813306842916204155"
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"user_send_text", e.ev.Text(user, e.msgID(), "xin chào", e.ms())},
		{"user_submit_info", e.ev.SubmitInfo(user, zalotest.Info{Name: "Lan", Phone: "0901234567", Address: "12 Lê Lợi"}, e.ms())},
		{"follow", e.ev.Follow("follow", "7813306842916204156", e.ms())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := user
			if tc.name == "follow" {
				u = "7813306842916204156"
			}
			before := snapshotOf(e, u)
			flaky.mu.Lock()
			flaky.fails = 1
			flaky.mu.Unlock()
			if got := e.post(tc.body); got != http.StatusInternalServerError {
				t.Fatalf("failed commit answered %d, want 500", got)
			}
			if got := snapshotOf(e, u); got != before {
				t.Fatalf("a failed commit changed %+v into %+v", before, got)
			}
			e.postOK(tc.body)
			after := snapshotOf(e, u)
			if after == before {
				t.Fatal("the redelivery was not handled")
			}
			e.postOK(tc.body)
			if got := snapshotOf(e, u); got != after {
				t.Fatalf("a second redelivery changed %+v into %+v", after, got)
			}
		})
	}
}

// snapshot is what a user would notice of an event: the customer record's
// visible state, the conversation's length, the messages sent.
type snapshot struct {
	known        bool
	interactions int
	sent         int
	phone        string
	address      string
	paused       bool
	unreachable  bool
}

func snapshotOf(e *env, user string) snapshot {
	e.t.Helper()
	s := snapshot{sent: len(e.fake.SentTo(user))}
	c := e.customer(crm.ChannelZalo, user)
	if c == nil {
		return s
	}
	s.known, s.interactions, s.phone, s.address, s.paused = true, len(e.interactions(c)), c.Phone, c.Address, c.Handoff.Active
	if id := c.Identity(crm.ChannelZalo, user); id != nil {
		s.unreachable = id.Unreachable
	}
	return s
}

// Every kind of event delivered twice changes things once: messages by
// msg_id, follow/unfollow by event|follower|timestamp, the rest by
// event|sender|timestamp (spec §2.5).
func TestRedeliveryOfEveryEventKind(t *testing.T) {
	e := newEnv(t, nil)
	n := 0
	next := func() string { n++; return "78133068429162050" + strconv.Itoa(10+n) }
	tests := []struct {
		name string
		body func(user string) []byte
	}{
		{"user_send_text", func(u string) []byte { return e.ev.Text(u, e.msgID(), "giá áo thun bao nhiêu", e.ms()) }},
		{"user_send_image", func(u string) []byte { return e.ev.Image(u, e.msgID(), "", e.ms()) }},
		{"user_send_location", func(u string) []byte { return e.ev.Location(u, e.msgID(), e.ms()) }},
		{"user_submit_info", func(u string) []byte {
			return e.ev.SubmitInfo(u, zalotest.Info{Name: "Lan", Phone: "84901234567", City: "Hà Nội"}, e.ms())
		}},
		{"user_click_chatnow", func(u string) []byte { return e.ev.Other("user_click_chatnow", u, e.ms()) }},
		{"follow", func(u string) []byte { return e.ev.Follow("follow", u, e.ms()) }},
		{"unfollow", func(u string) []byte { return e.ev.Follow("unfollow", u, e.ms()) }},
		{"oa_send_text from the console", func(u string) []byte {
			return e.ev.OASend("oa_send_text", u, "console-"+u, "Dạ shop chào chị", e.ms())
		}},
		{"oa_send_image from the console", func(u string) []byte {
			return e.ev.OASendAttachment("oa_send_image", "image", u, "console-img-"+u, `{"thumbnail":"https://x/t.jpg","url":"https://x/f.jpg"}`, e.ms())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := next()
			// The customer wrote first, so every event has someone to act on.
			e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
			e.clock.Add(time.Minute)
			before := snapshotOf(e, user)
			body := tt.body(user)
			e.postOK(body)
			once := snapshotOf(e, user)
			if once == before {
				t.Fatalf("the event changed nothing: %+v", once)
			}
			e.postOK(body)
			if got := snapshotOf(e, user); got != once {
				t.Fatalf("redelivery changed %+v into %+v", once, got)
			}
		})
	}
}

// A picture sent from the OA console is logged as the agent's message,
// with its type and URL, and pauses the bot like a console text.
func TestConsoleAttachmentEcho(t *testing.T) {
	e := newEnv(t, nil)
	user := "7813306842916204155"
	e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
	e.postOK(e.ev.OASendAttachment("oa_send_image", "image", user, "console-img", `{"thumbnail":"https://x/t.jpg","url":"https://x/f.jpg"}`, e.ms()))
	c := e.customer(crm.ChannelZalo, user)
	its := e.interactions(c)
	last := its[len(its)-1]
	if last.Kind != crm.KindAgent || last.Direction != crm.Outbound || last.Author != zalo.ConsoleAgent || last.Text != "[image] https://x/f.jpg" {
		t.Fatalf("logged %+v, want the console's image as an agent message", last)
	}
	if !c.Handoff.Active || c.Handoff.Agent != zalo.ConsoleAgent {
		t.Fatalf("handoff = %+v, want the console's", c.Handoff)
	}
}

// A customer's second form replaces the address (and name) the first one
// gave; the phone is the newest too.
func TestSubmitInfoReplacesAddress(t *testing.T) {
	e := newEnv(t, nil)
	user := "7813306842916204155"
	e.postOK(e.ev.Text(user, e.msgID(), "chào shop", e.ms()))
	e.postOK(e.ev.SubmitInfo(user, zalotest.Info{Name: "Lan", Phone: "84901234567", Address: "12 Lê Lợi", City: "Hồ Chí Minh"}, e.ms()))
	e.clock.Add(time.Hour)
	e.postOK(e.ev.SubmitInfo(user, zalotest.Info{Name: "Nguyễn Thị Lan", Phone: "0912345678", Address: "5 Hai Bà Trưng", City: "Hà Nội"}, e.ms()))
	c := e.customer(crm.ChannelZalo, user)
	if c.Name != "Nguyễn Thị Lan" || c.Phone != "+84912345678" || c.Address != "5 Hai Bà Trưng, Hà Nội" {
		t.Fatalf("after the second form: name %q, phone %q, address %q", c.Name, c.Phone, c.Address)
	}
}

// The customer is whichever of sender and recipient is not the OA; without
// ZALO_OA_ID, the event's name says the direction; follow and unfollow name
// the follower.
func TestEventCustomer(t *testing.T) {
	ev := zalotest.Events{AppID: zalotest.DefaultAppID, OAID: zalotest.DefaultOAID}
	const user = "7813306842916204155"
	tests := []struct {
		name string
		body []byte
	}{
		{"user_send_text", ev.Text(user, "m1", "hi", 1)},
		{"user_submit_info", ev.SubmitInfo(user, zalotest.Info{Phone: "84901234567"}, 1)},
		{"follow", ev.Follow("follow", user, 1)},
		{"unfollow", ev.Follow("unfollow", user, 1)},
		{"oa_send_text", ev.OASend("oa_send_text", user, "m2", "hi", 1)},
		{"user_seen_message", ev.Seen(user, []string{"m2"}, 1)},
		{"user_received_message", ev.Received(user, "m2", 1)},
		{"user_click_chatnow", ev.Other("user_click_chatnow", user, 1)},
	}
	for _, tt := range tests {
		for _, oa := range []string{zalotest.DefaultOAID, ""} {
			t.Run(fmt.Sprintf("%s/oa_id=%q", tt.name, oa), func(t *testing.T) {
				e, err := zalo.ParseEvent(tt.body)
				if err != nil {
					t.Fatal(err)
				}
				if got := e.Customer(oa); got != user {
					t.Fatalf("customer = %q, want %q", got, user)
				}
			})
		}
	}
}

// With ZALO_MAX_EVENT_AGE, an older event is acknowledged and dropped.
func TestMaxEventAge(t *testing.T) {
	e := newEnv(t, func(o *zalo.Options) { o.MaxEventAge = 72 * time.Hour })
	old, fresh := "7813306842916204155", "7813306842916204156"
	e.postOK(e.ev.Text(old, e.msgID(), "xin chào", e.clock.Now().Add(-73*time.Hour).UnixMilli()))
	e.postOK(e.ev.Text(fresh, e.msgID(), "xin chào", e.clock.Now().Add(-71*time.Hour).UnixMilli()))
	if c := e.customer(crm.ChannelZalo, old); c != nil {
		t.Fatal("an event older than ZALO_MAX_EVENT_AGE was handled")
	}
	if c := e.customer(crm.ChannelZalo, fresh); c == nil {
		t.Fatal("an event within ZALO_MAX_EVENT_AGE was dropped")
	}
}

// With only ZALO_ACCESS_TOKEN, sends use it and nothing is refreshed; when
// Zalo refuses it, the channel says it needs re-authorisation.
func TestAccessTokenOnly(t *testing.T) {
	e := newEnvWith(t, func(e *env, o *zalo.Options) {
		o.RefreshToken, o.AppSecret, o.AccessToken = "", "", e.fake.AccessToken()
	})
	ctx := context.Background()
	if err := e.a.Send(ctx, item("u1", "một")); err != nil {
		t.Fatal(err)
	}
	if got := len(e.fake.OAuthCalls()); got != 0 {
		t.Fatalf("%d OAuth calls without a refresh token", got)
	}
	e.fake.ExpireAccess()
	if err := e.a.Send(ctx, item("u1", "hai")); !errors.Is(err, zalo.ErrReauthorize) {
		t.Fatalf("send with a refused token = %v, want re-authorisation", err)
	}
	if h := e.a.Health(); !errors.Is(h, zalo.ErrReauthorize) {
		t.Fatalf("health = %v", h)
	}
}

// failingTokens is a TokenStore whose saves fail while broken is set.
type failingTokens struct {
	zalo.TokenStore
	mu     sync.Mutex
	broken bool
}

func (f *failingTokens) Save(ctx context.Context, t zalo.Tokens) error {
	f.mu.Lock()
	broken := f.broken
	f.mu.Unlock()
	if broken {
		return errors.New("disk full")
	}
	return f.TokenStore.Save(ctx, t)
}

// A rotated refresh token the store could not save is kept in memory (the
// old one is dead already), shown in Health, and saved by the background
// check once the store works again.
func TestRotatedTokenNotSaved(t *testing.T) {
	var ft *failingTokens
	e := newEnvWith(t, func(e *env, o *zalo.Options) {
		ft = &failingTokens{TokenStore: zalo.StoreTokens{Store: e.db}}
		o.Tokens, o.TokenCheck = ft, 5*time.Millisecond
	})
	ctx := context.Background()
	waitFor(t, "the first refresh", func() bool { return e.a.Refreshes() == 1 })
	ft.mu.Lock()
	ft.broken = true
	ft.mu.Unlock()
	e.fake.ExpireAccess()
	if err := e.a.Send(ctx, item("u1", "một")); err != nil {
		t.Fatalf("send after a refresh whose save failed: %v", err)
	}
	if h := e.a.Health(); h == nil || !strings.Contains(h.Error(), "not saved") {
		t.Fatalf("health = %v, want the unsaved refresh token", h)
	}
	ft.mu.Lock()
	ft.broken = false
	ft.mu.Unlock()
	waitFor(t, "the background save", func() bool { return e.a.Health() == nil })
	stored, err := zalo.StoreTokens{Store: e.db}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshToken != e.fake.RefreshToken() {
		t.Fatalf("stored refresh token %q, want the live %q", stored.RefreshToken, e.fake.RefreshToken())
	}
}

// gateCore holds the first Handle until released and records how many
// calls for one user ran at once.
type gateCore struct {
	zalo.Core
	mu      sync.Mutex
	gate    chan struct{}
	entered chan struct{}
	running map[string]int
	most    int
	order   []string
}

func (g *gateCore) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	g.mu.Lock()
	g.running[in.UserID]++
	g.most = max(g.most, g.running[in.UserID])
	g.order = append(g.order, in.Text)
	gate := g.gate
	g.gate = nil
	g.mu.Unlock()
	if gate != nil {
		close(g.entered)
		<-gate
	}
	defer func() {
		g.mu.Lock()
		g.running[in.UserID]--
		g.mu.Unlock()
	}()
	return g.Core.Handle(ctx, in)
}

// One customer's events are handled one at a time, in the order they
// arrived; another customer's are not held up meanwhile.
func TestPerCustomerOrder(t *testing.T) {
	g := &gateCore{gate: make(chan struct{}), entered: make(chan struct{}), running: map[string]int{}}
	release := g.gate
	e := newEnvWith(t, func(e *env, _ *zalo.Options) {
		e.wrap = func(c zalo.Core) zalo.Core { g.Core = c; return g }
	})
	user, other := "7813306842916204155", "7813306842916204156"
	post := func(body []byte, done chan<- int) {
		resp, err := zalotest.Post(http.DefaultClient, e.url(), body, zalotest.DefaultOASecretKey)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}
	first, second := make(chan int, 1), make(chan int, 1)
	go post(e.ev.Text(user, e.msgID(), "một", e.ms()), first)
	<-g.entered // the first is being handled and held
	go post(e.ev.Text(user, e.msgID(), "hai", e.ms()), second)
	// Another customer goes through while the first is held.
	if got := e.post(e.ev.Text(other, e.msgID(), "xin chào", e.ms())); got != http.StatusOK {
		t.Fatalf("other customer: %d", got)
	}
	// Give the second a chance to overtake (it must not).
	for range 50 {
		g.mu.Lock()
		n := g.running[user]
		g.mu.Unlock()
		if n > 1 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(release)
	if a, b := <-first, <-second; a != http.StatusOK || b != http.StatusOK {
		t.Fatalf("statuses %d, %d", a, b)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.most != 1 {
		t.Fatalf("%d events of one customer handled at once", g.most)
	}
	var mine []string
	for _, s := range g.order {
		if s == "một" || s == "hai" {
			mine = append(mine, s)
		}
	}
	if fmt.Sprint(mine) != "[một hai]" {
		t.Fatalf("order %v, want [một hai]", mine)
	}
}
