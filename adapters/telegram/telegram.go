// Package telegram connects the conversation core to Telegram through
// github.com/go-telegram/bot: updates arrive by long polling (the default, no
// public URL needed) or by webhook, are handed to a bot.Handler, and are
// confirmed to Telegram only after the handler committed them. Replies leave
// through Send, which the outbox dispatcher calls.
//
// The library is used for its types and its sending methods; the update
// loop is our own because the library's long polling confirms updates before
// they are handled, runs them in no order, and its webhook handler answers
// 200 to anything (see ../shared/notes/libraries.md).
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Defaults for Options.
const (
	DefaultAPIURL          = "https://api.telegram.org"
	DefaultPerChatInterval = time.Second
	DefaultGlobalPerSecond = 30
	DefaultPollTimeout     = 50 * time.Second
	// DefaultWorkers matches getUpdates' batch limit: every chat of a batch
	// can be handled at once, so their commits share an fsync.
	DefaultWorkers        = 100
	DefaultRetryBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultHandleTimeout  = 60 * time.Second
	DefaultRequestTimeout = 30 * time.Second

	// WebhookPath is where Routes serves Telegram's webhook calls.
	WebhookPath = "/telegram/webhook"

	// maxPanics is how many times an update whose handling panics is tried
	// before it is logged and skipped, so one poisoned update cannot block
	// its chat (and the getUpdates offset) forever.
	maxPanics = 3
)

// allowedUpdates are the update types the adapter asks Telegram for.
var allowedUpdates = []string{
	models.AllowedUpdateMessage,
	models.AllowedUpdateEditedMessage,
	models.AllowedUpdateCallbackQuery,
	models.AllowedUpdateChannelPost,
}

// LeasePolling is the Leader lease under which long polling runs.
const LeasePolling = "telegram-polling"

// Options configure an Adapter. Zero values take the defaults; a negative
// PerChatInterval or GlobalPerSecond switches that send limit off.
type Options struct {
	Token  string // from BotFather; required
	APIURL string // Bot API server; DefaultAPIURL when empty
	// WebhookURL switches from long polling to a webhook: Open registers it
	// with setWebhook and Routes serves WebhookPath. It must be the public
	// HTTPS URL that reaches WebhookPath.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends back in the
	// X-Telegram-Bot-Api-Secret-Token header (A-Z, a-z, 0-9, _ and -). When
	// empty in webhook mode a random one is generated at New.
	WebhookSecret string
	// WebhookMaxConnections is how many updates Telegram may post at once
	// (setWebhook's max_connections, 1–100); 0 leaves Telegram's default, 40.
	WebhookMaxConnections int

	// PerChatInterval is the least time between two messages to one chat
	// (Telegram allows about one per second). Negative: no per-chat limit.
	PerChatInterval time.Duration
	// GlobalPerSecond is the most messages per second to all chats
	// (Telegram allows about 30). Negative: no global limit.
	GlobalPerSecond int

	// PollTimeout is the long-polling timeout of getUpdates (whole seconds).
	PollTimeout time.Duration
	// Workers bounds how many chats are handled in parallel (polling).
	Workers int
	// RetryBackoff and MaxBackoff bound the exponential wait after a failed
	// getUpdates call or a failed update before polling again.
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// HandleTimeout bounds one call of Handler.Handle.
	HandleTimeout time.Duration
	// RequestTimeout bounds one Bot API call other than getUpdates.
	RequestTimeout time.Duration
	// Leader, when set, runs long polling only while this process holds
	// the "telegram-polling" lease (Telegram answers one getUpdates per bot
	// at a time); nil polls at once, as one process does.
	Leader bot.Leader

	Logger *slog.Logger
	// HTTPClient makes the Bot API calls. Default: a client without its own
	// timeout (contexts bound each call) that keeps enough idle connections
	// for the outbox lanes and workers, instead of net/http's two per host.
	HTTPClient *http.Client
}

// Adapter is the Telegram channel: it receives updates, hands them to the
// core and sends outbox items.
type Adapter struct {
	h    bot.Handler
	opts Options
	log  *slog.Logger
	api  *tgbot.Bot
	http *http.Client
	lim  *limiter
	now  func() time.Time

	mu       sync.Mutex
	me       botIdentity // known after Open
	opened   bool
	closed   bool
	cancel   context.CancelFunc
	panics   map[int64]int    // update id → panics so far
	progress bot.PartialSends // outbox item → chunks already sent
	locks    bot.KeyedMutex[int64]

	loops    sync.WaitGroup // the polling loop
	inflight sync.WaitGroup // webhook requests being handled
}

var _ bot.Sender = (*Adapter)(nil)

// botIdentity is who the bot is, learned from getMe.
type botIdentity struct {
	id       int64
	username string // without '@'
}

// New checks the options and builds an Adapter. It does no I/O.
func New(h bot.Handler, opts Options) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("telegram: nil handler")
	}
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("telegram: empty bot token (set TELEGRAM_BOT_TOKEN to the token BotFather gave)")
	}
	if !strings.Contains(opts.Token, ":") {
		return nil, errors.New("telegram: malformed bot token: expected <bot id>:<secret> as BotFather gives it")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	opts.APIURL = strings.TrimRight(opts.APIURL, "/")
	if opts.WebhookURL != "" && !strings.HasPrefix(opts.WebhookURL, "https://") && !strings.HasPrefix(opts.WebhookURL, "http://") {
		return nil, fmt.Errorf("telegram: webhook URL %q is not an http(s) URL", opts.WebhookURL)
	}
	if opts.WebhookSecret != "" && !validSecret(opts.WebhookSecret) {
		return nil, errors.New("telegram: webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
	}
	if n := opts.WebhookMaxConnections; n < 0 || n > 100 {
		return nil, fmt.Errorf("telegram: webhook max connections %d: Telegram allows 1 to 100", n)
	}
	if opts.WebhookURL != "" && opts.WebhookSecret == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("telegram: generate webhook secret: %w", err)
		}
		opts.WebhookSecret = hex.EncodeToString(b[:])
	}
	if opts.PerChatInterval == 0 {
		opts.PerChatInterval = DefaultPerChatInterval
	}
	if opts.GlobalPerSecond == 0 {
		opts.GlobalPerSecond = DefaultGlobalPerSecond
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = DefaultPollTimeout
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.RetryBackoff {
		opts.MaxBackoff = opts.RetryBackoff
	}
	if opts.HandleTimeout <= 0 {
		opts.HandleTimeout = DefaultHandleTimeout
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 0 // no total limit
		t.MaxIdleConnsPerHost = opts.Workers + 32
		opts.HTTPClient = &http.Client{Transport: t}
	}
	a := &Adapter{
		h:      h,
		opts:   opts,
		log:    opts.Logger.With("channel", "telegram"),
		http:   opts.HTTPClient,
		now:    time.Now,
		panics: map[int64]int{},
	}
	a.lim = newLimiter(opts.PerChatInterval, opts.GlobalPerSecond)
	api, err := tgbot.New(opts.Token,
		tgbot.WithSkipGetMe(),
		tgbot.WithServerURL(opts.APIURL),
		tgbot.WithHTTPClient(opts.PollTimeout, statusClient{opts.HTTPClient}),
		tgbot.WithErrorsHandler(func(err error) { a.log.Warn("telegram library", "err", err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	a.api = api
	return a, nil
}

func validSecret(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Webhook reports whether the adapter receives updates by webhook.
func (a *Adapter) Webhook() bool { return a.opts.WebhookURL != "" }

// Open learns the bot's username (getMe), then either registers the webhook
// (setWebhook with the secret token) or removes any webhook and starts long
// polling in the background. Updates are handled until Close.
func (a *Adapter) Open(ctx context.Context) (err error) {
	a.mu.Lock()
	if a.opened {
		a.mu.Unlock()
		return errors.New("telegram: already open")
	}
	a.opened = true
	a.mu.Unlock()
	defer func() {
		if err != nil { // Open may be tried again
			a.mu.Lock()
			a.opened = false
			a.mu.Unlock()
		}
	}()

	rctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
	defer cancel()
	me, err := a.api.GetMe(rctx)
	if err != nil {
		return fmt.Errorf("telegram: getMe (is the token right?): %w", err)
	}
	a.mu.Lock()
	a.me = botIdentity{id: me.ID, username: me.Username}
	a.mu.Unlock()

	if a.Webhook() {
		_, err := a.api.SetWebhook(rctx, &tgbot.SetWebhookParams{
			URL:            a.opts.WebhookURL,
			SecretToken:    a.opts.WebhookSecret,
			AllowedUpdates: allowedUpdates,
			MaxConnections: a.opts.WebhookMaxConnections,
		})
		if err != nil {
			return fmt.Errorf("telegram: setWebhook: %w", err)
		}
		a.log.Info("telegram webhook registered", "bot", me.Username, "url", a.opts.WebhookURL)
		return nil
	}

	// Long polling and a webhook exclude each other; keep pending updates.
	if _, err := a.api.DeleteWebhook(rctx, &tgbot.DeleteWebhookParams{}); err != nil {
		return fmt.Errorf("telegram: deleteWebhook: %w", err)
	}
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	a.mu.Lock()
	a.cancel = pcancel
	a.mu.Unlock()
	stop := context.AfterFunc(ctx, pcancel)
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		defer stop()
		poll := func(pctx context.Context) error {
			a.poll(pctx, context.WithoutCancel(ctx))
			return nil
		}
		if a.opts.Leader == nil {
			_ = poll(pctx) // always nil
			return
		}
		if err := a.opts.Leader.Run(pctx, LeasePolling, poll); err != nil {
			a.log.Error("telegram long polling stopped", "err", err)
		}
	}()
	a.log.Info("telegram long polling started", "bot", me.Username)
	return nil
}

// Close stops polling, refuses new webhook calls, and waits for updates
// being handled. Updates not committed by then are delivered again later.
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

func (a *Adapter) identity() botIdentity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.me
}

// handleUpdate maps one update and hands it to the core. It returns nil when
// the update may be confirmed to Telegram: committed, ignored, or skipped
// after repeated panics.
func (a *Adapter) handleUpdate(ctx context.Context, u *models.Update) error {
	in, ok, queryID := a.mapUpdate(u)
	if ok {
		err := a.callHandler(ctx, u.ID, in)
		if err != nil {
			return err
		}
	}
	if queryID != "" {
		// The client shows a spinner until the query is answered; answer
		// after the commit, and even for queries that carry nothing to handle.
		actx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
		defer cancel()
		if _, err := a.api.AnswerCallbackQuery(actx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: queryID}); err != nil {
			a.log.Warn("telegram answerCallbackQuery failed", "update_id", u.ID, "err", err)
		}
	}
	return nil
}

// mapUpdate is toInbound that survives a bug: reading an update is
// deterministic, so one that panics would panic again on every delivery;
// it is logged and skipped (confirmed to Telegram) instead of taking the
// process down.
func (a *Adapter) mapUpdate(u *models.Update) (in bot.Inbound, ok bool, queryID string) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("telegram update could not be read; skipped", "update_id", u.ID, "panic", fmt.Sprint(r))
			in, ok, queryID = bot.Inbound{}, false, ""
		}
	}()
	return toInbound(u, a.identity(), a.now)
}

// errPanic marks a handling attempt that panicked.
var errPanic = errors.New("panic while handling update")

// callHandler calls the core, recovering a panic. A panicking update counts
// as failed until it panicked maxPanics times; then it is logged and
// skipped so the chat and the stream move on.
func (a *Adapter) callHandler(ctx context.Context, updateID int64, in bot.Inbound) (err error) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.HandleTimeout)
	defer cancel()
	defer func() {
		r := recover()
		if r == nil {
			if err == nil {
				a.mu.Lock()
				delete(a.panics, updateID)
				a.mu.Unlock()
			}
			return
		}
		a.mu.Lock()
		a.panics[updateID]++
		n := a.panics[updateID]
		if n >= maxPanics {
			delete(a.panics, updateID)
		}
		a.mu.Unlock()
		if n >= maxPanics {
			a.log.Error("telegram update skipped after repeated panics", "update_id", updateID, "message_id", in.MessageID, "panics", n, "panic", fmt.Sprint(r))
			err = nil
			return
		}
		a.log.Error("telegram update handling panicked", "update_id", updateID, "message_id", in.MessageID, "attempt", n, "panic", fmt.Sprint(r))
		err = fmt.Errorf("update %d: %w: %v", updateID, errPanic, r)
	}()
	_, err = a.h.Handle(ctx, in)
	if err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			// The core refuses this event for good (it said why): trying
			// again would hold back the chat and the offset forever.
			a.log.Error("telegram update refused by the core; skipped", "update_id", updateID, "message_id", in.MessageID, "err", err)
			return nil
		}
		return fmt.Errorf("update %d: %w", updateID, err)
	}
	return nil
}

// decodeJSON decodes as encoding/json does (the same options: names matched
// without regard to case, invalid UTF-8 replaced, …), with the v2 JSON
// package's faster implementation: every update (polled or posted to the webhook)
// is decoded with it, and the ids of every getUpdates answer, most of them
// known already.
func decodeJSON(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, jsonv1.DefaultOptionsV1())
}
