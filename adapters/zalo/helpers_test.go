package zalo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// env is the real core on a bbolt file, its dispatcher, the Zalo adapter
// sending to a fake OA API and serving its webhook on an httptest server.
type env struct {
	t     *testing.T
	db    *boltstore.DB
	core  *bot.Core
	disp  *bot.Dispatcher
	fake  *zalotest.Server
	a     *zalo.Adapter
	web   *httptest.Server
	clock *bottest.Clock
	ev    zalotest.Events
	tg    *bottest.Recorder // the telegram channel of a test
	seq   int
	// wrap, when set (by newEnvWith's change), wraps the core the adapter
	// is given, to inject failures.
	wrap func(zalo.Core) zalo.Core
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newEnv builds the environment; change adjusts the adapter options. The
// adapter starts with the fake's refresh token only, so the first send
// refreshes.
func newEnv(t *testing.T, change func(*zalo.Options)) *env {
	t.Helper()
	return newEnvWith(t, func(_ *env, o *zalo.Options) {
		if change != nil {
			change(o)
		}
	})
}

// newEnvWith is newEnv for changes that need the environment (its store,
// its fake).
func newEnvWith(t *testing.T, change func(*env, *zalo.Options)) *env {
	t.Helper()
	kit := bottest.NewCore(t, bottest.OnChannels(crm.ChannelTelegram), bottest.Unopened(),
		bottest.DispatcherOptions(func(o *bot.DispatcherOptions) { o.MaxBackoff, o.MaxAttempts = 2*time.Millisecond, 3 }))
	e := &env{t: t, db: kit.DB, core: kit.Core, disp: kit.Disp, clock: kit.Clock, tg: kit.Rec}
	db, ctx := kit.DB, context.Background()
	var err error
	e.fake = zalotest.New(t)
	e.ev = zalotest.Events{AppID: e.fake.AppID, OAID: e.fake.OAID}
	opts := zalo.Options{
		AppID: e.fake.AppID, AppSecret: e.fake.AppSecret, OASecretKey: zalotest.DefaultOASecretKey, OAID: e.fake.OAID,
		RefreshToken: e.fake.RefreshToken(), APIURL: e.fake.URL(), OAuthURL: e.fake.URL(),
		Logger: testLogger(t), Now: e.clock.Now, TokenCheck: time.Hour, EchoWait: 5 * time.Second,
		RefreshRetry: time.Minute,
	}
	change(e, &opts)
	var core zalo.Core = e.core
	if e.wrap != nil {
		core = e.wrap(core)
	}
	e.a, err = zalo.New(core, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.disp.Register(crm.ChannelZalo, e.a)
	mux := http.NewServeMux()
	e.a.Routes(mux)
	e.web = httptest.NewServer(mux)
	if err := e.disp.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before the kit closes the dispatcher and checks the store
		e.web.Close()
		e.a.Close()
		e.fake.WaitEchoes()
	})
	return e
}

func (e *env) url() string { return e.web.URL + zalo.WebhookPath }

// ms is the clock as a Zalo timestamp.
func (e *env) ms() int64 { return e.clock.Now().UnixMilli() }

// msgID returns a fresh Zalo-like message id.
func (e *env) msgID() string {
	e.seq++
	return fmt.Sprintf("a7c2e91d04b35f6e%04d", e.seq)
}

// post delivers a signed event and returns the HTTP status; it then waits
// until the replies it caused have left.
func (e *env) post(body []byte) int {
	e.t.Helper()
	resp, err := zalotest.Post(http.DefaultClient, e.url(), body, zalotest.DefaultOASecretKey)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	e.flush()
	return resp.StatusCode
}

// postOK is post that requires 200.
func (e *env) postOK(body []byte) {
	e.t.Helper()
	if got := e.post(body); got != http.StatusOK {
		e.t.Fatalf("webhook answered %d for %s", got, body)
	}
}

func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.disp.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) customer(ch crm.Channel, user string) *crm.Customer {
	e.t.Helper()
	var c *crm.Customer
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		c, err = tx.FindCustomerByIdentity(ch, user)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) interactions(c *crm.Customer) []*crm.Interaction {
	e.t.Helper()
	var out []*crm.Interaction
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		out, err = tx.Interactions(c.ID, 0, 0)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) outbox(id crm.ID) *crm.OutboxItem {
	e.t.Helper()
	var it *crm.OutboxItem
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		it, err = tx.OutboxItem(id)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return it
}

// texts returns the texts sent to a user.
func texts(ms []zalotest.Sent) []string {
	var out []string
	for _, m := range ms {
		if m.Template != "" {
			out = append(out, "<"+m.Template+">")
		} else {
			out = append(out, m.Text)
		}
	}
	return out
}
