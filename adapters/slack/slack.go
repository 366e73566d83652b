// Package slack is the sales reps' side of idicbot, on
// github.com/slack-go/slack: the /crm slash command (look customers up, work
// a segment, read the stats, record orders, notes and tags) and the handoff
// of a customer's conversation to a human in a Slack thread.
//
// Requests arrive either over HTTP (POST /slack/commands, /slack/interactions
// and /slack/events, each signed with the app's signing secret) or over
// Socket Mode when an app-level token is set; both feed the same router.
// Slack Web API calls (chat.postMessage, chat.update) never run inside a
// store transaction and never block the core: core events are handed to a
// bounded worker queue the adapter owns.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// Defaults for Options.
const (
	DefaultAPIURL         = "https://slack.com/api/"
	DefaultRequestTimeout = 10 * time.Second
	DefaultInlineWait     = 2 * time.Second
	DefaultCommandTimeout = 60 * time.Second
	DefaultQueueSize      = 256
	DefaultLanes          = 2
	DefaultCommandSlots   = 8
	DefaultGroupTTL       = 5 * time.Minute
	// ReplayWindow is how long a signed request (or Socket Mode envelope)
	// is remembered as handled. Slack's signature is good for 5 minutes
	// either side of its timestamp, so a captured request can be replayed
	// for up to 10 minutes after it was first seen; 5 more are the margin.
	ReplayWindow = 15 * time.Minute
	// replayMax bounds the requests remembered (about 100 bytes each).
	replayMax = 50_000

	// Paths Routes serves.
	CommandsPath     = "/slack/commands"
	InteractionsPath = "/slack/interactions"
	EventsPath       = "/slack/events"

	maxBody = 1 << 20
)

// Options configure an Adapter. Lists come from comma-separated environment
// variables (see OptionsFromEnv).
type Options struct {
	// Reps are the reps' operations behind /crm find, card, segment,
	// stats, order, note, tag, verify and merge; nil: the core's own
	// (bot.Core.Reps), else New fails.
	Reps Reps
	// Offers is the offer administration behind /crm offer…; nil: the
	// core's own (bot.Core.OfferAdmin); RegisterOfferCommands needs one.
	Offers        Offers
	BotToken      string // xoxb-…; required
	SigningSecret string // verifies HTTP requests; required unless AppToken is set
	AppToken      string // xapp-…; switches Socket Mode on
	// HandoffChannel is the channel (id, or name the bot is in) where
	// handoff cards are posted. Empty: handoffs are not posted to Slack.
	HandoffChannel string
	// APIURL is the Web API base, ending with '/' (DefaultAPIURL when empty).
	APIURL string

	// TeamIDs are the workspaces served. Empty: the bot token's own
	// workspace, learned from auth.test at Open.
	TeamIDs []string
	// RepIDs and the members of RepGroup (a user group id, S…) may use the
	// data subcommands and answer handoffs.
	RepIDs   []string
	RepGroup string
	// AdminIDs may also use admin subcommands (they are reps too).
	AdminIDs []string

	Logger *slog.Logger
	// HTTPClient calls the Web API and response_url (default: a client with
	// a DefaultRequestTimeout timeout).
	HTTPClient *http.Client
	// InlineWait is how long a slash command may run before Slack gets an
	// "on it" answer and the result goes to response_url instead.
	InlineWait time.Duration
	// CommandTimeout bounds one slash command.
	CommandTimeout time.Duration
	// QueueSize bounds the pending Slack calls per lane; Lanes is how many
	// workers make them (one customer's calls always use the same lane, so
	// they stay in order).
	QueueSize int
	Lanes     int
	// CommandSlots bounds slash commands running at once.
	CommandSlots int
	// GroupTTL is how long the RepGroup member list is cached.
	GroupTTL time.Duration

	// Lang is the language of answers for users and workspaces that chose
	// none with /crm lang: "vi" (the default) or "en".
	Lang string
	// Prefs keeps the /crm lang choices (the store); nil keeps them in
	// memory until the process ends.
	Prefs crm.LangPrefs
}

// OptionsFromEnv reads the SLACK_* environment. ok is false when
// SLACK_BOT_TOKEN is not set (Slack stays off).
func OptionsFromEnv(getenv func(string) string) (opts Options, ok bool, err error) {
	opts = Options{
		BotToken:       strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		SigningSecret:  strings.TrimSpace(getenv("SLACK_SIGNING_SECRET")),
		AppToken:       strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		HandoffChannel: strings.TrimSpace(getenv("SLACK_HANDOFF_CHANNEL")),
		APIURL:         strings.TrimSpace(getenv("SLACK_API_URL")),
		TeamIDs:        splitList(getenv("SLACK_TEAM_IDS")),
		RepIDs:         splitList(getenv("SLACK_REP_IDS")),
		RepGroup:       strings.TrimSpace(getenv("SLACK_REP_GROUP")),
		AdminIDs:       splitList(getenv("SLACK_ADMIN_IDS")),
		Lang:           strings.TrimSpace(getenv("SLACK_LANG")),
	}
	if opts.BotToken == "" {
		return opts, false, nil
	}
	if _, ok := i18n.Parse(opts.Lang); opts.Lang != "" && !ok {
		return opts, false, fmt.Errorf("slack: SLACK_LANG=%q: use vi or en", opts.Lang)
	}
	if opts.SigningSecret == "" && opts.AppToken == "" {
		return opts, false, errors.New("slack: SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is")
	}
	return opts, true, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Subcommand is a /crm subcommand registered from outside the adapter (the
// offer commands, for example).
type Subcommand struct {
	Name  string // the word after /crm
	Usage string // "offer list" — shown in help
	Help  string // one line
	// Admin restricts it to Options.AdminIDs; otherwise reps may use it.
	Admin bool
	Run   func(ctx context.Context, req Request) (*Reply, error)
}

// Request is one /crm call as a subcommand sees it.
type Request struct {
	TeamID    string
	ChannelID string
	UserID    string
	UserName  string
	// Agent is how the rep is recorded in the store ("slack:U123").
	Agent string
	// Args are the words after the subcommand ("public" removed).
	Args []string
	// Rest is the text after the subcommand, spacing kept.
	Rest string
	// TriggerID lets the subcommand open a modal (views.open) within
	// Slack's 3 seconds.
	TriggerID string
	// T prints texts in the language the user reads idicbot in.
	T *i18n.Printer
	// Key is the same for a replayed or redelivered request and different
	// for every new one (a hash of the signed request, or the Socket Mode
	// envelope id). A subcommand that changes data and must stay single
	// after a restart records it with the change (an order's Ref).
	Key string
}

// Reply is an answer to a rep: Block Kit blocks with a plain-text fallback.
type Reply struct {
	Text   string
	Blocks []slackapi.Block
	// Public shares it in the channel (set by the "public" suffix).
	Public bool
}

// Adapter is the Slack side: router, handoff worker, Socket Mode loop.
type Adapter struct {
	core   Core
	reps   Reps
	offers Offers
	opts   Options
	log    *slog.Logger
	api    *slackapi.Client
	http   *http.Client
	sock   *socketmode.Client

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	lanes []chan job
	slots chan struct{}
	seen  *dedupe
	// replays are the signed requests and envelopes already handled.
	replays *dedupe

	extra map[string]Subcommand
	// offerCmds is set by RegisterOfferCommands: offer buttons and the
	// offer editor modal are handled.
	offerCmds bool
	// notices is set once handoff cards come through the outbox.
	notices atomic.Bool
	// campaigns, once RegisterCampaignCommands ran, add their results
	// to /crm stats.
	campaigns Campaigns

	teams  map[string]bool
	repIDs map[string]bool
	admins map[string]bool

	// prefs keeps the /crm lang choices; lang is the default language.
	prefs crm.LangPrefs
	lang  i18n.Lang

	mu          sync.Mutex
	botUserID   string
	homeTeam    string // the bot token's workspace (auth.test)
	groupAt     time.Time
	groupMember map[string]bool
	opened      bool
	closed      bool

	workers  sync.WaitGroup // lane workers and the socket loop
	commands sync.WaitGroup // slash commands still running
}

var _ bot.EventSink = (*Adapter)(nil)

// job is one piece of Slack work off the core's path.
type job func(ctx context.Context)

// New checks the options and builds an Adapter. It does no I/O.
func New(core Core, opts Options) (*Adapter, error) {
	if core == nil {
		return nil, errors.New("slack: nil core")
	}
	if opts.BotToken == "" {
		return nil, errors.New("slack: empty bot token (set SLACK_BOT_TOKEN to the xoxb- token of the installed app)")
	}
	if opts.SigningSecret == "" && opts.AppToken == "" {
		return nil, errors.New("slack: set SLACK_SIGNING_SECRET (HTTP requests) or SLACK_APP_TOKEN (Socket Mode)")
	}
	if opts.AppToken != "" && !strings.HasPrefix(opts.AppToken, "xapp-") {
		return nil, errors.New("slack: SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(opts.APIURL, "/") {
		opts.APIURL += "/"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultRequestTimeout}
	}
	if opts.InlineWait <= 0 {
		opts.InlineWait = DefaultInlineWait
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Lanes <= 0 {
		opts.Lanes = DefaultLanes
	}
	if opts.CommandSlots <= 0 {
		opts.CommandSlots = DefaultCommandSlots
	}
	if opts.GroupTTL <= 0 {
		opts.GroupTTL = DefaultGroupTTL
	}
	if p, ok := core.(interface{ Reps() *bot.Reps }); ok && opts.Reps == nil {
		opts.Reps = p.Reps()
	}
	if opts.Reps == nil {
		return nil, errors.New("slack: no reps' operations (set Options.Reps to bot.Core.Reps())")
	}
	if opts.Prefs == nil {
		opts.Prefs = &memLangPrefs{}
	}
	if p, ok := core.(interface{ OfferAdmin() *bot.OfferAdmin }); ok && opts.Offers == nil {
		opts.Offers = p.OfferAdmin()
	}
	a := &Adapter{
		core:   core,
		reps:   opts.Reps,
		offers: opts.Offers,
		opts:   opts,
		log:    opts.Logger.With("part", "slack"),
		http:   opts.HTTPClient,
		slots:  make(chan struct{}, opts.CommandSlots),
		seen:   newDedupe(2*time.Hour, 20000),
		// A replay is answered, never run: commands that change data (an
		// order, a note) stay single within the signature window.
		replays: newDedupe(ReplayWindow, replayMax),
		extra:   map[string]Subcommand{},
		teams:   set(opts.TeamIDs),
		repIDs:  set(opts.RepIDs),
		admins:  set(opts.AdminIDs),
		prefs:   opts.Prefs,
		lang:    i18n.OrDefault(opts.Lang),
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	for range opts.Lanes {
		a.lanes = append(a.lanes, make(chan job, opts.QueueSize))
	}
	apiOpts := []slackapi.Option{
		slackapi.OptionAPIURL(opts.APIURL),
		slackapi.OptionHTTPClient(opts.HTTPClient),
		// After the HTTP client, so the retries wrap it.
		slackapi.OptionRetryConfig(retryConfig()),
	}
	if opts.AppToken != "" {
		apiOpts = append(apiOpts, slackapi.OptionAppLevelToken(opts.AppToken))
	}
	a.api = slackapi.New(opts.BotToken, apiOpts...)
	if opts.AppToken != "" {
		a.sock = socketmode.New(a.api)
	}
	return a, nil
}

// retryConfig retries a Web API call on 429 (after Retry-After), on 5xx
// and on a refused or reset connection, a few times with a short backoff:
// a handoff card lost to a moment of Slack trouble leaves a customer
// waiting for nobody. Each call stays bounded by its context.
func retryConfig() slackapi.RetryConfig {
	cfg := slackapi.DefaultRetryConfig()
	cfg.MaxRetries = 3
	cfg.RetryAfterDuration = 5 * time.Second // when a 429 has no Retry-After
	cfg.BackoffInitial = 250 * time.Millisecond
	cfg.BackoffMax = 4 * time.Second
	cfg.Handlers = []slackapi.RetryHandler{
		slackapi.NewRateLimitErrorRetryHandler(cfg),
		slackapi.NewServerErrorRetryHandler(cfg),
		slackapi.NewConnectionErrorRetryHandler(),
	}
	return cfg
}

func set(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

// Register adds a /crm subcommand. Call it before Open; a name already taken
// by a built-in subcommand is an error.
func (a *Adapter) Register(sc Subcommand) error {
	name := strings.ToLower(strings.TrimSpace(sc.Name))
	if name == "" || sc.Run == nil {
		return errors.New("slack: a subcommand needs a name and a Run function")
	}
	if _, ok := builtins[name]; ok || name == "public" {
		return fmt.Errorf("slack: subcommand %q is built in", name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.extra[name]; ok {
		return fmt.Errorf("slack: subcommand %q registered twice", name)
	}
	sc.Name = name
	a.extra[name] = sc
	return nil
}

// Open checks the bot token (auth.test), learns the bot's own user and
// workspace, starts the handoff workers and, with an app token, Socket Mode.
func (a *Adapter) Open(ctx context.Context) error {
	a.mu.Lock()
	if a.opened || a.closed {
		a.mu.Unlock()
		return errors.New("slack: already opened or closed")
	}
	a.opened = true
	a.mu.Unlock()

	tctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	who, err := a.api.AuthTestContext(tctx)
	if err != nil {
		return fmt.Errorf("slack: auth.test with SLACK_BOT_TOKEN failed (is the token right and the app installed?): %w", err)
	}
	a.mu.Lock()
	a.botUserID = who.UserID
	a.homeTeam = who.TeamID
	if len(a.teams) == 0 && who.TeamID != "" {
		a.teams[who.TeamID] = true
	}
	a.mu.Unlock()
	if len(a.repIDs) == 0 && a.opts.RepGroup == "" && len(a.admins) == 0 {
		a.log.Warn("no Slack reps configured (SLACK_REP_IDS, SLACK_REP_GROUP, SLACK_ADMIN_IDS): every data command will be refused")
	}
	if a.opts.HandoffChannel == "" {
		a.log.Warn("SLACK_HANDOFF_CHANNEL is not set: handoff requests are not posted to Slack")
	}
	for _, lane := range a.lanes {
		a.workers.Add(1)
		go a.work(lane)
	}
	if a.sock != nil {
		a.workers.Add(2)
		go a.runSocket()
	}
	a.log.Info("slack connected", "team", who.TeamID, "bot_user", who.UserID, "socket_mode", a.sock != nil, "http", a.opts.SigningSecret != "")
	return nil
}

// Close stops Socket Mode, lets queued Slack calls finish (each bounded by
// the request timeout) and waits for running commands.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.workers.Wait()
	a.commands.Wait()
	return nil
}

// Routes registers the HTTP endpoints (only when a signing secret is set:
// without one no request could be verified).
func (a *Adapter) Routes(mux *http.ServeMux) {
	if a.opts.SigningSecret == "" {
		return
	}
	mux.HandleFunc("POST "+CommandsPath, a.serveCommands)
	mux.HandleFunc("POST "+InteractionsPath, a.serveInteractions)
	mux.HandleFunc("POST "+EventsPath, a.serveEvents)
}

// enqueue hands Slack work for a customer to its lane without blocking.
func (a *Adapter) enqueue(customer crm.ID, j job) bool {
	lane := a.lanes[int(uint64(customer)%uint64(len(a.lanes)))]
	select {
	case lane <- j:
		return true
	default:
		a.log.Error("slack work queue full; dropped", "customer", customer)
		return false
	}
}

// work runs a lane's jobs until Close, then finishes what is queued.
func (a *Adapter) work(lane chan job) {
	defer a.workers.Done()
	run := func(ctx context.Context, j job) {
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("slack job panicked", "panic", r)
			}
		}()
		jctx, cancel := context.WithTimeout(ctx, 2*DefaultRequestTimeout)
		defer cancel()
		j(jctx)
	}
	// Jobs do not run on a.ctx: a job taken from the lane as Close starts
	// (or running then) must still make its Slack call, not fail at once
	// with "context canceled".
	live := context.WithoutCancel(a.ctx)
	for {
		select {
		case j := <-lane:
			run(live, j)
		case <-a.ctx.Done():
			// Drain: what was queued still goes out, under a fresh bound.
			dctx, cancel := context.WithTimeout(context.Background(), DefaultRequestTimeout)
			defer cancel()
			for {
				select {
				case j := <-lane:
					run(dctx, j)
				default:
					return
				}
			}
		}
	}
}

// dedupe remembers Events API event ids for a while (Slack retries events
// it thinks failed).
type dedupe struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	seen map[string]time.Time
}

func newDedupe(ttl time.Duration, max int) *dedupe {
	return &dedupe{ttl: ttl, max: max, seen: map[string]time.Time{}}
}

// begin reports whether id is new, and marks it seen.
func (d *dedupe) begin(id string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[id]; ok && now.Sub(t) < d.ttl {
		return false
	}
	if len(d.seen) >= d.max {
		for k, t := range d.seen {
			if now.Sub(t) >= d.ttl {
				delete(d.seen, k)
			}
		}
		for k := range d.seen {
			if len(d.seen) < d.max {
				break
			}
			delete(d.seen, k)
		}
	}
	d.seen[id] = now
	return true
}

// firstTime reports whether the request with replay key key is new, and
// remembers it; a replay is logged. An empty key (nothing to tell requests
// apart) is always new.
func (a *Adapter) firstTime(key, what, user, team string) bool {
	if key == "" || a.replays.begin(key, time.Now()) {
		return true
	}
	a.log.Warn("slack: refused a replayed request", "kind", what, "user", user, "team", team)
	return false
}

// forget lets a failed event be processed again when Slack retries it.
func (d *dedupe) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, id)
}
