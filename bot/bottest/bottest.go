// Package bottest is the test kit shared by the packages' tests: a core on
// a real bbolt file in a temporary directory with the shipped configs, an
// injectable clock and a sender that records what was sent.
//
// Only _test.go files import it; the product binary must not link it
// (go list -deps ./cmd/idicbot lists no bottest).
package bottest

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// Start is the time a Clock made by NewCore starts at: Tuesday
// 10 November 2026, 10:00 in Vietnam.
var Start = time.Date(2026, 11, 10, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// Channels are the channels NewCore registers the Recorder for.
var Channels = []crm.Channel{crm.ChannelWeb, crm.ChannelConsole, crm.ChannelTelegram, crm.ChannelZalo, "messenger"}

// Clock is an injectable time source, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// Recorder is a bot.Sender that keeps a copy of what was sent.
type Recorder struct {
	mu   sync.Mutex
	sent []*crm.OutboxItem
	// Fail, when set, is asked first about each item; an error it returns
	// is what Send returns, and the item is not recorded. It runs under
	// the recorder's lock: change it, and what it reads, in Locked.
	Fail func(*crm.OutboxItem) error
}

// Send records a copy of it unless Fail refuses it.
func (r *Recorder) Send(_ context.Context, it *crm.OutboxItem) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		if err := r.Fail(it); err != nil {
			return err
		}
	}
	cp := *it
	r.sent = append(r.sent, &cp)
	return nil
}

// Take returns what was sent since the last Take, in order, and forgets it.
func (r *Recorder) Take() []*crm.OutboxItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

// Locked runs f holding the recorder's lock, the one Fail runs under.
func (r *Recorder) Locked(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// Env is a core on a real bbolt file, with what it was built from.
type Env struct {
	TB       testing.TB
	Dir      string // holds idicbot.db
	DB       *boltstore.DB
	Defaults configs.Defaults // the shipped configs
	Core     *bot.Core
	Disp     *bot.Dispatcher // nil with NoDispatcher
	Rec      *Recorder
	Clock    *Clock
	// Now is the time source of the store, the core and the dispatcher:
	// Clock.Now unless WithNow changed it.
	Now func() time.Time

	closeOnce sync.Once
}

type config struct {
	dir        string
	start      time.Time
	now        func() time.Time
	tuneCore   []func(*bot.Options)
	tuneDisp   []func(*bot.DispatcherOptions)
	channels   []crm.Channel
	noDisp     bool
	noOffers   bool
	noSegRules bool
	unopened   bool
}

// Option changes what NewCore builds.
type Option func(*config)

// InDir opens (or reopens) the store in dir instead of a new temporary
// directory: a second Env on the same dir is the process restarted.
func InDir(dir string) Option { return func(c *config) { c.dir = dir } }

// StartAt starts the Clock at t instead of Start.
func StartAt(t time.Time) Option { return func(c *config) { c.start = t } }

// WithNow gives the store, core and dispatcher another time source than
// the Clock (time.Now for tests against real time).
func WithNow(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithAssistant puts an assistant in the core, each call bounded by timeout
// (0: the core's default).
func WithAssistant(a bot.Assistant, timeout time.Duration) Option {
	return CoreOptions(func(o *bot.Options) { o.Assistant, o.AssistTimeout = a, timeout })
}

// WithEvents gives the core an event sink.
func WithEvents(sink bot.EventSink) Option {
	return CoreOptions(func(o *bot.Options) { o.Events = sink })
}

// CoreOptions changes the core's options before the core is built.
func CoreOptions(f func(*bot.Options)) Option {
	return func(c *config) { c.tuneCore = append(c.tuneCore, f) }
}

// DispatcherOptions changes the dispatcher's options before it is built.
func DispatcherOptions(f func(*bot.DispatcherOptions)) Option {
	return func(c *config) { c.tuneDisp = append(c.tuneDisp, f) }
}

// OnChannels registers the Recorder for these channels instead of Channels.
func OnChannels(chs ...crm.Channel) Option { return func(c *config) { c.channels = chs } }

// NoDispatcher builds the core without a dispatcher: outbox items stay
// pending in the store.
func NoDispatcher() Option { return func(c *config) { c.noDisp = true } }

// Unopened leaves the dispatcher unopened, for a test that registers a
// sender built on the core (an adapter) first; the test opens it.
func Unopened() Option { return func(c *config) { c.unopened = true } }

// NoOffers leaves the shipped offers out of the store.
func NoOffers() Option { return func(c *config) { c.noOffers = true } }

// NoStoredSegmentRules leaves the segment rules an admin stored unloaded:
// the core runs the shipped rules until the test calls LoadSegmentRules.
func NoStoredSegmentRules() Option { return func(c *config) { c.noSegRules = true } }

// NewCore builds a core on a bbolt file (NoSync) with the shipped configs,
// the shipped offers seeded and loaded, the stored segment rules loaded,
// and a dispatcher (4 lanes, millisecond backoff, no real sleeping) that
// sends on Channels to a Recorder. At cleanup it closes the dispatcher,
// checks that every index and count of the store agrees with its records
// (a problem fails the test), and closes the store.
func NewCore(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	cfg := config{start: Start, channels: Channels}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dir == "" {
		cfg.dir = tb.TempDir()
	}
	e := &Env{TB: tb, Dir: cfg.dir, Rec: &Recorder{}, Clock: NewClock(cfg.start)}
	e.Now = e.Clock.Now
	if cfg.now != nil {
		e.Now = cfg.now
	}
	db, err := boltstore.Open(filepath.Join(cfg.dir, "idicbot.db"), boltstore.Options{NoSync: true, Now: e.Now})
	if err != nil {
		tb.Fatal(err)
	}
	e.DB = db
	tb.Cleanup(e.Close)
	if e.Defaults, err = configs.Load(e.Now()); err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if !cfg.noOffers {
		if _, err := bot.SeedOffers(ctx, db, e.Defaults.Offers, e.Now()); err != nil {
			tb.Fatal(err)
		}
	}
	if !cfg.noDisp {
		// No channel budgets: tests of the conversation run on a fixed
		// clock and do not wait for real seconds (budget tests set them).
		do := bot.DispatcherOptions{Lanes: 4, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Now: e.Now,
			Budgets: map[crm.Channel]bot.Budget{},
			Sleep:   func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
		for _, f := range cfg.tuneDisp {
			f(&do)
		}
		e.Disp = bot.NewDispatcher(db, do)
		for _, ch := range cfg.channels {
			e.Disp.Register(ch, e.Rec)
		}
	}
	cl, err := e.Defaults.Classifier()
	if err != nil {
		tb.Fatal(err)
	}
	co := bot.Options{Store: db, Catalog: e.Defaults.Catalog, Segments: e.Defaults.Segments, Now: e.Now,
		Classifier: cl, Knowledge: e.Defaults.Knowledge}
	if e.Disp != nil {
		co.Dispatcher = e.Disp
	}
	for _, f := range cfg.tuneCore {
		f(&co)
	}
	e.Core = bot.New(co)
	if !cfg.noSegRules {
		if err := e.Core.LoadSegmentRules(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	if err := e.Core.LoadOffers(ctx); err != nil {
		tb.Fatal(err)
	}
	if e.Disp != nil && !cfg.unopened {
		if err := e.Disp.Open(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

// Close closes the dispatcher, checks the store (a problem fails the test)
// and closes it. It runs at cleanup; a test may call it sooner (to reopen
// the dir), and calls after the first do nothing.
func (e *Env) Close() {
	e.closeOnce.Do(func() {
		if e.Disp != nil {
			e.Disp.Close()
		}
		Check(e.TB, e.DB)
		e.DB.Close()
	})
}

// Check fails tb for each index or count of db that disagrees with the
// records. A store the test already closed is not checked.
func Check(tb testing.TB, db *boltstore.DB) {
	tb.Helper()
	problems, err := db.Check(context.Background())
	if err != nil {
		if !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			tb.Errorf("store check: %v", err)
		}
		return
	}
	for _, p := range problems {
		tb.Errorf("store check: %s", p)
	}
}
