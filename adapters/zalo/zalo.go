// Package zalo connects the conversation core to a Zalo Official Account:
// customer events arrive on a signed webhook (POST /zalo/webhook), are
// handed to the core and acknowledged only after the commit; replies
// leave through the OA's consultation ("cs") message API, with the OAuth v4
// access token refreshed in the background and on token errors.
//
// What the Zalo spec (../shared/channels/zalo-oa.md) marks as uncertain is
// configurable and logged: the interaction window and paid-message policy,
// the local reply quota, the welcome on follow, the request-user-info
// template's texts, how long a human's message from the OA console pauses
// the bot. The server's error code is always the final word on a send.
package zalo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Defaults for Options.
const (
	DefaultAPIURL       = "https://openapi.zalo.me"
	DefaultOAuthURL     = "https://oauth.zaloapp.com"
	DefaultFreeWindow   = 48 * time.Hour
	DefaultWindow       = 7 * 24 * time.Hour
	DefaultMaxText      = 2000
	DefaultEchoWait     = 3 * time.Second
	DefaultRefreshAhead = 2 * time.Hour
	DefaultTokenCheck   = time.Minute
	DefaultRefreshRetry = 5 * time.Second
	DefaultMaxRetry     = 10 * time.Minute
	DefaultRateLimit    = time.Second
	DefaultMaxRateWait  = 60 * time.Second
	DefaultRateAttempts = 5
	DefaultHandle       = 60 * time.Second
	DefaultRequest      = 20 * time.Second
	// DefaultMaxEventAge is how old a signed event may be and still be
	// handled. The MAC has no expiry of its own and dedupe markers are
	// pruned in time, so without a bound a captured event replayed later
	// would be handled as new. Zalo retries late; 24h covers it (spec
	// §2.2). Keep dedupe markers longer than this (retention does).
	DefaultMaxEventAge = 24 * time.Hour
	// DefaultMaxClockSkew is how far in the future an event's timestamp
	// may be (Zalo's clock against ours).
	DefaultMaxClockSkew = 10 * time.Minute
	DefaultInfoSubtitle = "Cho shop xin tên, số điện thoại và địa chỉ để tư vấn và giao hàng nhé."
	DefaultOptionsHint  = "(Trả lời bằng số / Reply with the number)"

	// WebhookPath is where Routes serves Zalo's webhook calls.
	WebhookPath = "/zalo/webhook"
	// SignatureHeader carries the MAC of a webhook call.
	SignatureHeader = "X-ZEvent-Signature"
	// TimestampHeader is a header some integrations read; used only as a
	// fallback for the MAC (unverified).
	TimestampHeader = "X-ZEvent-Timestamp"
	// ConsoleAgent is the agent name of messages typed in the OA console.
	ConsoleAgent = "zalo-oa-console"
)

// Paid-message policies for consultation messages sent between the free
// window and the interaction window (spec §4.4).
const (
	PaidNone   = "none"   // never: refuse and record the reason
	PaidAgents = "agents" // human agents' messages only (default)
	PaidAll    = "all"    // bot replies too
)

// LeaseTokenRefresh is the Leader lease under which tokens are refreshed.
const LeaseTokenRefresh = "zalo-token-refresh"

// Options configure an Adapter. Zero durations take the defaults.
type Options struct {
	AppID        string // required: the webhook MAC and the OAuth calls use it
	AppSecret    string // App Secret Key, for refreshing the token
	OASecretKey  string // required: the webhook MAC key (not the App Secret)
	OAID         string // optional: tells the OA from the user in events
	RefreshToken string // initial refresh token (single-use; rotated and stored)
	AccessToken  string // initial access token
	APIURL       string // OA Open API base; DefaultAPIURL when empty
	OAuthURL     string // OAuth base; DefaultOAuthURL when empty

	// Welcome answers follow events with the core's greeting (a /start).
	// Off: a follow creates or reactivates the customer silently.
	Welcome bool
	// FreeWindow is how long after the customer's last interaction a
	// consultation message is free; Window how long one may be sent at
	// all. Negative Window switches the window check off.
	FreeWindow time.Duration
	Window     time.Duration
	// Paid is the policy between FreeWindow and Window (PaidAgents when empty).
	Paid string
	// Quota, when positive, is the most messages sent to a customer between
	// two of their interactions (the 2022 rule was 8). 0: no local quota.
	Quota int
	// MaxText is the longest text of one message; longer ones are split.
	MaxText int
	// ConsolePause, when positive, is how long a message typed in the OA
	// console keeps the bot silent; the next customer message after that
	// hands the conversation back to the bot. 0: until released.
	ConsolePause time.Duration
	// EchoWait bounds how long an echo of an unknown message waits for a
	// send to that user still in flight (our own message's echo may
	// arrive before the send call returned).
	EchoWait time.Duration
	// MaxEventAge refuses (acknowledges with 200, handles nothing, logs)
	// events whose timestamp is older than this, and signed events with no
	// timestamp: dedupe markers are pruned after a while, so only an age
	// bound keeps a captured event from being handled again later.
	// DefaultMaxEventAge when 0; negative switches the check off (not
	// recommended).
	MaxEventAge time.Duration
	// MaxClockSkew refuses events timestamped further in the future than
	// this (DefaultMaxClockSkew when 0 or less).
	MaxClockSkew time.Duration

	// InfoTitle, InfoSubtitle and InfoImageURL fill the request-user-info
	// template sent when the core asks for the phone number.
	InfoTitle    string
	InfoSubtitle string
	InfoImageURL string
	// OptionsHint follows the numbered options that stand in for buttons.
	OptionsHint string

	RefreshAhead    time.Duration // refresh when less than this remains
	TokenCheck      time.Duration // background token check interval
	RefreshRetry    time.Duration // first wait after a failed refresh
	MaxRefreshRetry time.Duration
	RateLimitWait   time.Duration // first wait after error -32, doubled per attempt
	MaxRateWait     time.Duration
	RateAttempts    int // after this many -32 answers, an item is retried as temporary
	HandleTimeout   time.Duration
	RequestTimeout  time.Duration

	// Leader, when set, runs the token refresh only while this process
	// holds the "zalo-token-refresh" lease: a refresh token is single-use,
	// so two processes refreshing at once would lose the OA its token.
	// Nil refreshes here, as one process does.
	Leader bot.Leader

	// Tokens stores the OAuth tokens (default: StoreTokens on the store).
	Tokens     TokenStore
	Logger     *slog.Logger
	HTTPClient *http.Client
	Now        func() time.Time
}

// Core is what the adapter needs of the conversation core: customers'
// messages go through Handle, the request-user-info form through
// SubmitInfo, the channel's other events (follow, unfollow, messages typed
// in the OA console) through the rest.
type Core interface {
	bot.Handler
	SubmitInfo(ctx context.Context, in bot.Inbound) (bot.Result, error)
	Touch(ctx context.Context, in bot.Inbound) (bot.Result, error)
	MarkUnreachable(ctx context.Context, ch crm.Channel, userID, eventID, why string) (bot.Result, error)
	RecordAgentMessage(ctx context.Context, m bot.AgentMessage) (bot.Result, error)
	ResumeAfter(ctx context.Context, ch crm.Channel, userID, agent string, pause time.Duration) (bool, error)
}

var _ Core = (*bot.Core)(nil)

// Adapter is the Zalo OA channel. It implements bot.Sender.
type Adapter struct {
	h      Core
	store  crm.Store
	opts   Options
	log    *slog.Logger
	http   *http.Client
	now    func() time.Time
	tokens *tokenSource
	locks  bot.KeyedMutex[string]
	sent   *sentLog

	mu        sync.Mutex
	opened    bool
	closed    bool
	cancel    context.CancelFunc
	configErr error                // an API answer that needs an admin
	closedWin map[string]time.Time // user → when Zalo said the window closed
	progress  bot.PartialSends     // outbox item → messages already sent
	badSigs   int

	loops    sync.WaitGroup
	inflight sync.WaitGroup
}

var _ bot.Sender = (*Adapter)(nil)

// New checks the options and builds an Adapter. It does no I/O.
func New(h Core, store crm.Store, opts Options) (*Adapter, error) {
	if h == nil || store == nil {
		return nil, errors.New("zalo: core and store are required")
	}
	opts.AppID = strings.TrimSpace(opts.AppID)
	if opts.AppID == "" {
		return nil, errors.New("zalo: ZALO_APP_ID is required (the app id on developers.zalo.me)")
	}
	if opts.OASecretKey == "" {
		return nil, errors.New("zalo: ZALO_OA_SECRET_KEY is required (the OA Secret Key from the app's Webhook page, not the App Secret)")
	}
	if opts.RefreshToken == "" && opts.AccessToken == "" && opts.Tokens == nil {
		return nil, errors.New("zalo: set ZALO_REFRESH_TOKEN (or ZALO_ACCESS_TOKEN) to the OA's first token")
	}
	if opts.RefreshToken != "" && opts.AppSecret == "" {
		return nil, errors.New("zalo: ZALO_APP_SECRET is required to refresh the token")
	}
	switch opts.Paid {
	case "":
		opts.Paid = PaidAgents
	case PaidNone, PaidAgents, PaidAll:
	default:
		return nil, fmt.Errorf("zalo: paid policy %q: want %s, %s or %s", opts.Paid, PaidNone, PaidAgents, PaidAll)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if opts.OAuthURL == "" {
		opts.OAuthURL = DefaultOAuthURL
	}
	opts.APIURL = strings.TrimRight(opts.APIURL, "/")
	opts.OAuthURL = strings.TrimRight(opts.OAuthURL, "/")
	def(&opts.FreeWindow, DefaultFreeWindow)
	def(&opts.Window, DefaultWindow)
	def(&opts.EchoWait, DefaultEchoWait)
	def(&opts.RefreshAhead, DefaultRefreshAhead)
	def(&opts.TokenCheck, DefaultTokenCheck)
	def(&opts.RefreshRetry, DefaultRefreshRetry)
	def(&opts.MaxRefreshRetry, DefaultMaxRetry)
	def(&opts.RateLimitWait, DefaultRateLimit)
	def(&opts.MaxRateWait, DefaultMaxRateWait)
	def(&opts.HandleTimeout, DefaultHandle)
	def(&opts.RequestTimeout, DefaultRequest)
	def(&opts.MaxEventAge, DefaultMaxEventAge)
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = DefaultMaxClockSkew
	}
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
	}
	if opts.RateAttempts <= 0 {
		opts.RateAttempts = DefaultRateAttempts
	}
	if opts.InfoSubtitle == "" {
		opts.InfoSubtitle = DefaultInfoSubtitle
	}
	if opts.OptionsHint == "" {
		opts.OptionsHint = DefaultOptionsHint
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tokens == nil {
		opts.Tokens = StoreTokens{Store: store}
	}
	log := opts.Logger.With("channel", "zalo")
	a := &Adapter{
		h: h, store: store, opts: opts, log: log, http: opts.HTTPClient, now: opts.Now,
		sent:      newSentLog(),
		closedWin: map[string]time.Time{},
	}
	a.tokens = &tokenSource{
		oauthURL: opts.OAuthURL, appID: opts.AppID, appSecret: opts.AppSecret, client: opts.HTTPClient,
		store: opts.Tokens, now: opts.Now, log: log, before: opts.RefreshAhead,
		retry: opts.RefreshRetry, maxRetry: opts.MaxRefreshRetry, timeout: opts.RequestTimeout,
		sem: make(chan struct{}, 1),
	}
	return a, nil
}

// FromEnv reads the adapter's options from the environment. ok is false when
// no ZALO_ variable that turns the channel on is set.
//
//	ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET_KEY, ZALO_OA_ID
//	ZALO_REFRESH_TOKEN or ZALO_ACCESS_TOKEN
//	ZALO_API_URL, ZALO_OAUTH_URL
//	ZALO_WELCOME=true            greet followers
//	ZALO_FREE_WINDOW=48h         ZALO_WINDOW=168h (or "off")
//	ZALO_PAID=none|agents|all    ZALO_QUOTA=8 (0: off)
//	ZALO_CONSOLE_PAUSE=12h       ZALO_MAX_EVENT_AGE=24h (default; overrides zalo.max_event_age)
//	ZALO_INFO_TITLE, ZALO_INFO_SUBTITLE, ZALO_INFO_IMAGE_URL
func FromEnv(getenv func(string) string) (Options, bool, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	o := Options{
		AppID: get("ZALO_APP_ID"), AppSecret: get("ZALO_APP_SECRET"), OASecretKey: get("ZALO_OA_SECRET_KEY"),
		OAID: get("ZALO_OA_ID"), RefreshToken: get("ZALO_REFRESH_TOKEN"), AccessToken: get("ZALO_ACCESS_TOKEN"),
		APIURL: get("ZALO_API_URL"), OAuthURL: get("ZALO_OAUTH_URL"), Paid: get("ZALO_PAID"),
		InfoTitle: get("ZALO_INFO_TITLE"), InfoSubtitle: get("ZALO_INFO_SUBTITLE"), InfoImageURL: get("ZALO_INFO_IMAGE_URL"),
	}
	if o.AppID == "" && o.OASecretKey == "" && o.RefreshToken == "" && o.AccessToken == "" && o.AppSecret == "" {
		return Options{}, false, nil
	}
	var errs []error
	if v := get("ZALO_WELCOME"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ZALO_WELCOME=%q: want true or false", v))
		}
		o.Welcome = b
	}
	dur := func(k string, dst *time.Duration, offOK bool) {
		v := get(k)
		if v == "" {
			return
		}
		if offOK && (v == "off" || v == "0") {
			*dst = -1
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 48h", k, v))
			return
		}
		*dst = d
	}
	dur("ZALO_FREE_WINDOW", &o.FreeWindow, false)
	dur("ZALO_WINDOW", &o.Window, true)
	dur("ZALO_CONSOLE_PAUSE", &o.ConsolePause, false)
	dur("ZALO_MAX_EVENT_AGE", &o.MaxEventAge, false)
	if v := get("ZALO_QUOTA"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("ZALO_QUOTA=%q: want a number of messages (0: off)", v))
		}
		o.Quota = n
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, true, fmt.Errorf("zalo: %w", err)
	}
	return o, true, nil
}

// Open loads the stored tokens (or seeds them from the options) and starts
// the background token check. Webhook calls are handled after Open.
func (a *Adapter) Open(ctx context.Context) error {
	a.mu.Lock()
	if a.opened {
		a.mu.Unlock()
		return errors.New("zalo: already open")
	}
	a.mu.Unlock()
	if err := a.tokens.load(ctx, a.opts.RefreshToken, a.opts.AccessToken); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.mu.Lock()
	a.opened, a.cancel = true, cancel
	a.mu.Unlock()
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		if a.opts.Leader == nil {
			a.tokenLoop(lctx)
			return
		}
		if err := a.opts.Leader.Run(lctx, LeaseTokenRefresh, func(ctx context.Context) error {
			a.tokenLoop(ctx)
			return nil
		}); err != nil {
			a.log.Error("zalo token refresh stopped", "err", err)
		}
	}()
	if err := a.tokens.health(); err != nil {
		a.log.Error("zalo channel started without a usable token", "err", err)
	} else {
		a.log.Info("zalo channel started", "webhook", WebhookPath)
	}
	return nil
}

// tokenLoop refreshes the token before it expires (and so at least daily,
// which keeps the three-month refresh token alive).
func (a *Adapter) tokenLoop(ctx context.Context) {
	t := time.NewTicker(a.opts.TokenCheck)
	defer t.Stop()
	for {
		a.tokens.maintain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the token loop, refuses new webhook calls and waits for the
// ones being handled.
func (a *Adapter) Close() error {
	a.mu.Lock()
	a.closed = true
	cancel := a.cancel
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	a.loops.Wait()
	a.inflight.Wait()
	return nil
}

// Health returns what needs an admin: a token that cannot be refreshed (the
// OA must be authorised again), a rotated refresh token not saved, a failed
// refresh, or an API answer that says the OA or app is misconfigured.
// Nil when the channel can send.
func (a *Adapter) Health() error {
	if err := a.tokens.health(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.configErr
}

// Refreshes returns how many token refreshes succeeded since start.
func (a *Adapter) Refreshes() int { return a.tokens.count() }

// sentLog remembers the message ids of recent sends and the sends in
// flight per user, so an echo of our own message is known as ours even
// when it arrives before the send call returned.
type sentLog struct {
	mu       sync.Mutex
	ids      map[string]time.Time
	inflight map[string]int
	changed  chan struct{} // closed and replaced on every change
}

func newSentLog() *sentLog {
	return &sentLog{ids: map[string]time.Time{}, inflight: map[string]int{}, changed: make(chan struct{})}
}

func (s *sentLog) begin(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight[user]++
}

func (s *sentLog) end(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight[user]--; s.inflight[user] <= 0 {
		delete(s.inflight, user)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *sentLog) add(id string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids[id] = now
	if len(s.ids) > 4096 {
		for k, t := range s.ids {
			if now.Sub(t) > time.Hour {
				delete(s.ids, k)
			}
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// ours waits (at most wait) while a send to user is in flight, and reports
// whether id is one of our sends.
func (s *sentLog) ours(ctx context.Context, user, id string, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		_, ok := s.ids[id]
		busy := s.inflight[user] > 0
		ch := s.changed
		s.mu.Unlock()
		if ok || !busy {
			return ok
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
