package zalo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

var itemSeq atomic.Uint64

func item(user, text string) *crm.OutboxItem {
	return &crm.OutboxItem{ID: crm.ID(1000 + itemSeq.Add(1)), Channel: crm.ChannelZalo, UserID: user, ChatID: user, Text: text}
}

// waitFor polls cond (no timing is asserted; the deadline only stops a
// hung test).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Twenty sends hit an expired token together: exactly one refresh, then
// every message goes out with the new token, which was stored.
func TestConcurrentSendsRefreshOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.a.Send(ctx, item("u0", "warm-up")); err != nil {
		t.Fatal(err)
	}
	if got := len(e.fake.OAuthCalls()); got != 1 {
		t.Fatalf("%d OAuth calls for the first send, want 1 (start with a refresh token only)", got)
	}
	e.fake.ExpireAccess()
	release := e.fake.GateOAuth()
	defer release()
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.a.Send(ctx, item(fmt.Sprintf("u%d", i+1), "xin chào"))
		}()
	}
	// Every send got -216 before the refresh answers.
	waitFor(t, "all sends to meet the expired token", func() bool { return e.fake.CSCalls() >= 1+n })
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	calls := e.fake.OAuthCalls()
	if got := len(calls); got != 2 {
		t.Fatalf("%d OAuth calls, want 2 (one at start, exactly one for the expiry)", got)
	}
	for _, c := range calls {
		if c.GrantType != "refresh_token" || c.AppID != e.fake.AppID || c.SecretKey != e.fake.AppSecret || !strings.HasPrefix(c.ContentType, "application/x-www-form-urlencoded") {
			t.Fatalf("OAuth call = %+v", c)
		}
	}
	if got := len(e.fake.Sent()); got != 1+n {
		t.Fatalf("%d messages sent, want %d", got, 1+n)
	}
	stored, err := zalo.StoreTokens{Store: e.db}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshToken != e.fake.RefreshToken() {
		t.Fatalf("stored refresh token %q, want the server's current %q", stored.RefreshToken, e.fake.RefreshToken())
	}
	if e.a.Health() != nil {
		t.Fatalf("health: %v", e.a.Health())
	}
}

// The token is refreshed before it expires, without a refused call first.
func TestRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.a.Send(ctx, item("u1", "một")); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(22 * time.Hour) // 25h token, 3h left
	if err := e.a.Send(ctx, item("u1", "hai")); err != nil {
		t.Fatal(err)
	}
	if got := len(e.fake.OAuthCalls()); got != 1 {
		t.Fatalf("%d OAuth calls with 3h left, want 1", got)
	}
	e.clock.Add(2 * time.Hour) // 1h left: due
	if err := e.a.Send(ctx, item("u1", "ba")); err != nil {
		t.Fatal(err)
	}
	if got := len(e.fake.OAuthCalls()); got != 2 {
		t.Fatalf("%d OAuth calls with 1h left, want 2", got)
	}
	if got, want := e.fake.CSCalls(), 3; got != want {
		t.Fatalf("%d API calls, want %d (no refused call)", got, want)
	}
}

// The background check refreshes without traffic (keeping the refresh
// token alive).
func TestBackgroundRefresh(t *testing.T) {
	e := newEnv(t, func(o *zalo.Options) { o.TokenCheck = time.Millisecond })
	waitFor(t, "the first refresh", func() bool { return e.a.Refreshes() == 1 })
	e.clock.Add(24 * time.Hour)
	waitFor(t, "the refresh before expiry", func() bool { return e.a.Refreshes() == 2 })
	if got := len(e.fake.OAuthCalls()); got != 2 {
		t.Fatalf("%d OAuth calls, want 2", got)
	}
}

// saveCheck is a TokenStore that fails the test when a token is used at
// the API before it was saved.
type saveCheck struct {
	zalo.TokenStore
	t     *testing.T
	fake  *zalotest.Server
	mu    sync.Mutex
	saved []zalo.Tokens
}

func (s *saveCheck) Save(ctx context.Context, tok zalo.Tokens) error {
	for _, m := range s.fake.Sent() {
		if tok.AccessToken != "" && m.Token == tok.AccessToken {
			s.t.Errorf("access token %s used before it was saved", tok.AccessToken)
		}
	}
	s.mu.Lock()
	s.saved = append(s.saved, tok)
	s.mu.Unlock()
	return s.TokenStore.Save(ctx, tok)
}

// The rotated refresh token is stored before the new access token is used,
// and a restart uses the stored one (the environment's is dead by then).
func TestRefreshTokenStoredBeforeUseAndAfterRestart(t *testing.T) {
	var check *saveCheck
	// The ZALO_REFRESH_TOKEN the adapter is configured with. Not read from
	// the fake after newEnvWith: Open starts the background check, which may
	// already have rotated the server's refresh token by then.
	var envRefresh string
	e := newEnvWith(t, func(e *env, o *zalo.Options) {
		check = &saveCheck{t: t, TokenStore: zalo.StoreTokens{Store: e.db}, fake: e.fake}
		o.Tokens = check
		envRefresh = o.RefreshToken
	})
	ctx := context.Background()
	if err := e.a.Send(ctx, item("u1", "một")); err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireAccess()
	if err := e.a.Send(ctx, item("u1", "hai")); err != nil {
		t.Fatal(err)
	}
	check.mu.Lock()
	last := check.saved[len(check.saved)-1]
	check.mu.Unlock()
	if last.RefreshToken != e.fake.RefreshToken() {
		t.Fatalf("last saved refresh token %q, want %q", last.RefreshToken, e.fake.RefreshToken())
	}
	e.a.Close()

	// Restart with the same (now consumed) ZALO_REFRESH_TOKEN.
	b, err := zalo.New(e.core, e.db, zalo.Options{AppID: e.fake.AppID, AppSecret: e.fake.AppSecret, OASecretKey: zalotest.DefaultOASecretKey,
		RefreshToken: envRefresh, APIURL: e.fake.URL(), OAuthURL: e.fake.URL(), Now: e.clock.Now, TokenCheck: time.Hour, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e.fake.ExpireAccess()
	if err := b.Send(ctx, item("u1", "ba")); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	for _, c := range e.fake.OAuthCalls() {
		if c.RefreshToken == envRefresh && c != e.fake.OAuthCalls()[0] {
			t.Fatalf("the consumed environment refresh token was used again: %+v", c)
		}
	}
	if b.Health() != nil {
		t.Fatalf("health after restart: %v", b.Health())
	}
}

// A refused refresh stops sending, is visible in Health and is not retried
// in a loop; a transient failure is retried later.
func TestRefreshFailures(t *testing.T) {
	for _, f := range []zalotest.Fault{{Error: -14014}, {Empty: true}} {
		t.Run(fmt.Sprintf("refused %+v", f), func(t *testing.T) {
			// Queued before Open: the background check may be the first
			// to refresh.
			e := newEnvWith(t, func(e *env, _ *zalo.Options) { e.fake.Fail("oauth", f) })
			ctx := context.Background()
			err := e.a.Send(ctx, item("u1", "một"))
			if err == nil || bot.IsPermanent(err) || !errors.Is(err, zalo.ErrReauthorize) {
				t.Fatalf("send = %v, want a temporary re-authorisation error", err)
			}
			if h := e.a.Health(); h == nil || !errors.Is(h, zalo.ErrReauthorize) {
				t.Fatalf("health = %v", h)
			}
			_ = e.a.Send(ctx, item("u1", "hai"))
			if got := len(e.fake.OAuthCalls()); got != 1 {
				t.Fatalf("%d OAuth calls, want 1 (no loop)", got)
			}
			if got := len(e.fake.Sent()); got != 0 {
				t.Fatalf("%d messages sent without a token", got)
			}
		})
	}
	t.Run("transient", func(t *testing.T) {
		e := newEnvWith(t, func(e *env, _ *zalo.Options) {
			e.fake.Fail("oauth", zalotest.Fault{Status: 502, Body: "<html>502 Bad Gateway</html>"})
		})
		ctx := context.Background()
		err := e.a.Send(ctx, item("u1", "một"))
		if err == nil || bot.IsPermanent(err) || errors.Is(err, zalo.ErrReauthorize) {
			t.Fatalf("send = %v, want a temporary error", err)
		}
		if e.a.Health() == nil {
			t.Fatal("a failed refresh is not visible in Health")
		}
		_ = e.a.Send(ctx, item("u1", "một"))
		if got := len(e.fake.OAuthCalls()); got != 1 {
			t.Fatalf("%d OAuth calls during the back-off, want 1", got)
		}
		e.clock.Add(2 * time.Minute)
		if err := e.a.Send(ctx, item("u1", "một")); err != nil {
			t.Fatal(err)
		}
		if h := e.a.Health(); h != nil {
			t.Fatalf("health after recovery: %v", h)
		}
	})
}

// API error codes map to the dispatcher's classes as the spec's table says.
func TestSendErrorMapping(t *testing.T) {
	type class int
	const (
		temporary class = iota
		retryAfter
		permanent
		unreachable
		sent
	)
	classOf := func(err error) class {
		var ra *bot.RetryAfterError
		switch {
		case err == nil:
			return sent
		case errors.Is(err, bot.ErrUnreachable):
			return unreachable
		case bot.IsPermanent(err):
			return permanent
		case errors.As(err, &ra):
			return retryAfter
		}
		return temporary
	}
	tests := []struct {
		name   string
		faults []zalotest.Fault
		want   class
		health bool
	}{
		{"-32 rate limit", []zalotest.Fault{{Error: -32}}, retryAfter, false},
		{"-230 window closed", []zalotest.Fault{{Error: -230}}, permanent, false},
		{"-213 not a follower", []zalotest.Fault{{Error: -213}}, unreachable, false},
		{"-222 blocked", []zalotest.Fault{{Error: -222}}, unreachable, false},
		{"-201 bad parameter", []zalotest.Fault{{Error: -201}}, permanent, false},
		{"-204 OA disabled", []zalotest.Fault{{Error: -204}}, permanent, true},
		{"-211 out of quota", []zalotest.Fault{{Error: -211}}, permanent, true},
		{"unknown code", []zalotest.Fault{{Error: -999}}, permanent, false},
		{"error as a quoted string", []zalotest.Fault{{Body: `{"error":"-222","message":"User has blocked OA"}`}}, unreachable, false},
		{"HTTP 502", []zalotest.Fault{{Status: 502, Body: "<html>bad gateway</html>"}}, temporary, false},
		{"HTTP 200 with HTML", []zalotest.Fault{{Body: "<html>maintenance</html>"}}, temporary, false},
		{"-216 even after a refresh", []zalotest.Fault{{Error: -216}, {Error: -216}}, temporary, false},
		{"-216 refreshed then sent", []zalotest.Fault{{Error: -216}}, sent, false},
		{"-220 refreshed then sent", []zalotest.Fault{{Error: -220}}, sent, false},
		{"-124 refreshed then sent", []zalotest.Fault{{Error: -124}}, sent, false},
		{"-232 no interaction", []zalotest.Fault{{Error: -232}}, permanent, false},
		{"-218 receive quota used", []zalotest.Fault{{Error: -218}}, permanent, false},
		{"-305 v2 after 48h", []zalotest.Fault{{Error: -305}}, permanent, false},
		{"-311 v2 reply quota", []zalotest.Fault{{Error: -311}}, permanent, false},
		{"-217 follow invitation blocked", []zalotest.Fault{{Error: -217}}, unreachable, false},
		{"-227 inactive", []zalotest.Fault{{Error: -227}}, unreachable, false},
		{"-205 OA does not exist", []zalotest.Fault{{Error: -205}}, permanent, true},
		{"-207 not a third party", []zalotest.Fault{{Error: -207}}, permanent, true},
		{"-208 no secret", []zalotest.Fault{{Error: -208}}, permanent, true},
		{"-209 API not supported", []zalotest.Fault{{Error: -209}}, permanent, true},
		{"-212 API not registered", []zalotest.Fault{{Error: -212}}, permanent, true},
		{"-215 invalid app id", []zalotest.Fault{{Error: -215}}, permanent, true},
		{"-221 OA not verified", []zalotest.Fault{{Error: -221}}, permanent, true},
		{"-224 no service package", []zalotest.Fault{{Error: -224}}, permanent, true},
		{"-242 appsecret_proof", []zalotest.Fault{{Error: -242}}, permanent, true},
		{"-320 no billing account", []zalotest.Fault{{Error: -320}}, permanent, true},
		{"-321 balance too low", []zalotest.Fault{{Error: -321}}, permanent, true},
		{"-210 out of range", []zalotest.Fault{{Error: -210}}, permanent, false},
		{"-233 message type", []zalotest.Fault{{Error: -233}}, permanent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			if err := e.a.Send(ctx, item("warm", "warm-up")); err != nil {
				t.Fatal(err)
			}
			e.fake.Fail("cs", tt.faults...)
			err := e.a.Send(ctx, item("u1", "xin chào"))
			if got := classOf(err); got != tt.want {
				t.Fatalf("send = %v (class %d), want class %d", err, got, tt.want)
			}
			if got := e.a.Health() != nil; got != tt.health {
				t.Fatalf("health = %v, want an error: %v", e.a.Health(), tt.health)
			}
			if tt.want == sent && len(e.fake.OAuthCalls()) != 2 {
				t.Fatalf("%d OAuth calls, want 2 (start, then one for the token error)", len(e.fake.OAuthCalls()))
			}
		})
	}
	t.Run("-32 backs off longer each attempt, then retries as temporary", func(t *testing.T) {
		e := newEnv(t, func(o *zalo.Options) { o.RateLimitWait = time.Second; o.RateAttempts = 3 })
		var waits []time.Duration
		it := item("u1", "xin chào")
		for attempt := 0; attempt < 3; attempt++ {
			e.fake.Fail("cs", zalotest.Fault{Error: -32})
			it.Attempts = attempt
			var ra *bot.RetryAfterError
			if err := e.a.Send(context.Background(), it); errors.As(err, &ra) {
				waits = append(waits, ra.After)
			} else if attempt < 2 || bot.IsPermanent(err) {
				t.Fatalf("attempt %d: %v", attempt, err)
			}
		}
		if len(waits) != 2 || waits[0] != time.Second || waits[1] != 2*time.Second {
			t.Fatalf("waits = %v, want [1s 2s]", waits)
		}
	})
	t.Run("-230 closes the window until the customer writes", func(t *testing.T) {
		e := newEnv(t, nil)
		user := "7813306842916204155"
		e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
		e.fake.SetUser(user, -230)
		ctx := context.Background()
		if err := e.a.Send(ctx, item(user, "một")); !bot.IsPermanent(err) {
			t.Fatalf("send = %v, want permanent", err)
		}
		calls := e.fake.CSCalls()
		err := e.a.Send(ctx, item(user, "hai"))
		if !bot.IsPermanent(err) || !strings.Contains(err.Error(), "window") {
			t.Fatalf("send = %v, want refused locally", err)
		}
		if got := e.fake.CSCalls(); got != calls {
			t.Fatal("a send went to Zalo although the window is known closed")
		}
		e.fake.SetUser(user, 0)
		e.clock.Add(time.Minute)
		before := len(e.fake.SentTo(user))
		e.postOK(e.ev.Text(user, e.msgID(), "còn hàng không", e.ms()))
		if got := len(e.fake.SentTo(user)); got == before {
			t.Fatal("no answer after the customer wrote again")
		}
	})
}

// The interaction window and the paid-message policy: bot replies only in
// the free window, agents' messages until the 7-day limit, nothing after;
// the reason is recorded on the outbox item.
func TestWindowRules(t *testing.T) {
	user := "7813306842916204155"
	t.Run("default policy", func(t *testing.T) {
		e := newEnv(t, nil)
		e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
		c := e.customer(crm.ChannelZalo, user)
		ctx := context.Background()
		e.clock.Add(50 * time.Hour)
		err := e.a.Send(ctx, item(user, "bot reply after 50h"))
		if !bot.IsPermanent(err) || !strings.Contains(err.Error(), "ZALO_PAID") {
			t.Fatalf("bot reply after 50h: %v, want refused by the paid policy", err)
		}
		ob, err := e.core.SendAsAgent(ctx, c.ID, "lan", "Chị ơi, áo đã về hàng")
		if err != nil {
			t.Fatal(err)
		}
		e.flush()
		if got := e.outbox(ob.ID); got.Status != crm.OutboxSent {
			t.Fatalf("agent message after 50h: %s %s", got.Status, got.LastError)
		}
		e.clock.Add(6 * 24 * time.Hour)
		ob, err = e.core.SendAsAgent(ctx, c.ID, "lan", "Chị ơi?")
		if err != nil {
			t.Fatal(err)
		}
		e.flush()
		got := e.outbox(ob.ID)
		if got.Status != crm.OutboxFailed || !strings.Contains(got.LastError, "not sent") || !strings.Contains(got.LastError, "ZALO_WINDOW") {
			t.Fatalf("agent message after 8 days: %s %q, want failed with the reason", got.Status, got.LastError)
		}
		for _, m := range e.fake.SentTo(user) {
			if m.Text == "Chị ơi?" || m.Text == "bot reply after 50h" {
				t.Fatalf("%q was sent", m.Text)
			}
		}
	})
	t.Run("paid for all", func(t *testing.T) {
		e := newEnv(t, func(o *zalo.Options) { o.Paid = zalo.PaidAll })
		e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
		e.clock.Add(50 * time.Hour)
		if err := e.a.Send(context.Background(), item(user, "bot reply after 50h")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("window off", func(t *testing.T) {
		e := newEnv(t, func(o *zalo.Options) { o.Window = -1 })
		e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
		e.clock.Add(30 * 24 * time.Hour)
		if err := e.a.Send(context.Background(), item(user, "late")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("follow opens the window", func(t *testing.T) {
		e := newEnv(t, nil)
		e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
		e.clock.Add(50 * time.Hour)
		e.postOK(e.ev.Follow("follow", user, e.ms()))
		if err := e.a.Send(context.Background(), item(user, "after follow")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("quota", func(t *testing.T) {
		e := newEnv(t, func(o *zalo.Options) { o.Quota = 2 })
		e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms())) // greeting + offer: 2
		if got := len(e.fake.SentTo(user)); got != 2 {
			t.Fatalf("%d replies, want 2", got)
		}
		ob, err := e.core.SendAsAgent(context.Background(), e.customer(crm.ChannelZalo, user).ID, "lan", "Thêm một tin")
		if err != nil {
			t.Fatal(err)
		}
		e.flush()
		if got := e.outbox(ob.ID); got.Status != crm.OutboxFailed || !strings.Contains(got.LastError, "ZALO_QUOTA") {
			t.Fatalf("third message: %s %q, want refused by the quota", got.Status, got.LastError)
		}
		e.postOK(e.ev.Text(user, e.msgID(), "cảm ơn", e.ms()))
		if got := len(e.fake.SentTo(user)); got != 3 {
			t.Fatalf("%d messages, want the answer to the new message", got)
		}
	})
}

// Long texts are split within Zalo's limit; the phone request sends the
// request_user_info template after the text.
func TestComposition(t *testing.T) {
	e := newEnv(t, func(o *zalo.Options) {
		o.InfoTitle, o.InfoImageURL = "Shop ABC", "https://example.com/banner.png"
	})
	ctx := context.Background()
	long := strings.Repeat("Áo thun cotton 100%, mặc mát. ", 150) // ~4500 characters
	it := item("u1", long)
	it.RequestPhone = true
	if err := e.a.Send(ctx, it); err != nil {
		t.Fatal(err)
	}
	sent := e.fake.SentTo("u1")
	if len(sent) != 4 {
		t.Fatalf("%d messages, want 3 parts and the template", len(sent))
	}
	total := 0
	for _, m := range sent[:3] {
		if n := len([]rune(m.Text)); n > zalo.DefaultMaxText {
			t.Fatalf("part of %d characters", n)
		}
		total += len([]rune(m.Text))
	}
	if total < len([]rune(strings.TrimSpace(long)))-10 {
		t.Fatalf("parts hold %d characters of %d", total, len([]rune(long)))
	}
	if tpl := sent[3]; tpl.Template != "request_user_info" || !strings.Contains(string(tpl.Payload), `"title":"Shop ABC"`) ||
		!strings.Contains(string(tpl.Payload), `"image_url":"https://example.com/banner.png"`) {
		t.Fatalf("template = %+v %s", tpl, tpl.Payload)
	}
	// A retry after a failure in the middle resumes after the parts sent.
	it2 := item("u2", long)
	e.fake.Fail("cs", zalotest.Fault{}, zalotest.Fault{Status: 503, Body: "busy"})
	if err := e.a.Send(ctx, it2); err == nil || bot.IsPermanent(err) {
		t.Fatalf("send = %v, want temporary", err)
	}
	if err := e.a.Send(ctx, it2); err != nil {
		t.Fatal(err)
	}
	if got := len(e.fake.SentTo("u2")); got != 3 {
		t.Fatalf("%d messages after the retry, want 3 (no part twice)", got)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, ok, err := zalo.FromEnv(env(nil)); ok || err != nil {
		t.Fatalf("empty environment: ok=%v err=%v", ok, err)
	}
	o, ok, err := zalo.FromEnv(env(map[string]string{
		"ZALO_APP_ID": "1", "ZALO_APP_SECRET": "s", "ZALO_OA_SECRET_KEY": "k", "ZALO_REFRESH_TOKEN": "r",
		"ZALO_API_URL": "http://fake", "ZALO_WELCOME": "true", "ZALO_WINDOW": "off", "ZALO_FREE_WINDOW": "24h",
		"ZALO_PAID": "all", "ZALO_QUOTA": "8", "ZALO_CONSOLE_PAUSE": "12h",
	}))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if o.AppID != "1" || !o.Welcome || o.Window >= 0 || o.FreeWindow != 24*time.Hour || o.Paid != zalo.PaidAll || o.Quota != 8 ||
		o.ConsolePause != 12*time.Hour || o.APIURL != "http://fake" {
		t.Fatalf("options = %+v", o)
	}
	if _, _, err := zalo.FromEnv(env(map[string]string{"ZALO_APP_ID": "1", "ZALO_WINDOW": "a week"})); err == nil {
		t.Fatal("a bad duration was accepted")
	}
	o, ok, err = zalo.FromEnv(env(map[string]string{"ZALO_APP_ID": "1"}))
	if !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if _, err := zalo.New(nopHandler{}, nopStore{}, o); err == nil || !strings.Contains(err.Error(), "ZALO_OA_SECRET_KEY") {
		t.Fatalf("New without the OA secret key: %v", err)
	}
}

// nopHandler is a core New accepts; it is never called.
type nopHandler struct{ zalo.Core }

func (nopHandler) Handle(context.Context, bot.Inbound) (bot.Result, error) { return bot.Result{}, nil }

type nopStore struct{}

func (nopStore) Update(context.Context, func(crm.Tx) error) error { return nil }
func (nopStore) View(context.Context, func(crm.Tx) error) error   { return nil }
