// Package messenger connects the conversation core to a Facebook Page
// through the Messenger Platform: the webhook (GET verification with
// hub.challenge, POST events signed with X-Hub-Signature-256) hands
// messages, quick replies and postbacks to a bot.Handler and answers 200
// only after they are committed; replies leave through the Send API with
// offer buttons as quick replies, inside the 24-hour messaging window.
package messenger

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/adapters/internal/jsonid"
	"github.com/idicbot/idicbot/adapters/internal/jsontext"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Channel is the core's name of this channel.
const Channel crm.Channel = "messenger"

// Defaults for Options.
const (
	DefaultAPIURL          = "https://graph.facebook.com/v21.0"
	DefaultWindow          = 24 * time.Hour
	DefaultHumanAgentLimit = 7 * 24 * time.Hour
	DefaultMaxText         = 2000
	DefaultRateLimitWait   = time.Second
	DefaultMaxRateWait     = 60 * time.Second
	DefaultHandleTimeout   = 60 * time.Second
	DefaultRequestTimeout  = 20 * time.Second
	// DefaultMaxEventAge is how old a signed event may be and still be
	// handled: the signature has no expiry and dedupe markers are pruned
	// in time, so without a bound a captured batch replayed later would be
	// handled as new. Meta retries failed deliveries for hours, not days.
	DefaultMaxEventAge = 24 * time.Hour
	// DefaultMaxClockSkew is how far in the future an event's timestamp
	// may be (Meta's clock against ours).
	DefaultMaxClockSkew = 10 * time.Minute

	// WebhookPath is where Routes serves the webhook.
	WebhookPath = "/messenger/webhook"
	// SignatureHeader carries "sha256=<hex HMAC of the raw body>".
	SignatureHeader = "X-Hub-Signature-256"

	maxEventBytes = 1 << 20
)

// Options configure an Adapter.
type Options struct {
	PageToken   string // required: the Page access token
	AppSecret   string // required: signs webhook calls; appsecret_proof
	VerifyToken string // required: the token typed in the webhook settings
	APIURL      string // Graph API base with version; DefaultAPIURL when empty

	// Window is the standard messaging window after the customer's last
	// message (24h). Negative: no local check (Meta's answer decides).
	Window time.Duration
	// HumanAgent sends human agents' messages between Window and
	// HumanAgentLimit with the HUMAN_AGENT tag (needs the Human Agent
	// permission). Off: they are refused like any other outside the window.
	HumanAgent      bool
	HumanAgentLimit time.Duration
	// NoPhoneQuickReply turns off the user_phone_number quick reply sent
	// when the core asks for the phone.
	NoPhoneQuickReply bool

	// MaxEventAge refuses (logs and skips; the batch is still answered
	// 200) messages and postbacks timestamped earlier than this, or not at
	// all. DefaultMaxEventAge when 0; negative switches the check off (not
	// recommended). MaxClockSkew refuses those timestamped further ahead
	// (DefaultMaxClockSkew when 0 or less).
	MaxEventAge  time.Duration
	MaxClockSkew time.Duration

	MaxText        int
	RateLimitWait  time.Duration // first wait after a rate-limit code, doubled per attempt
	MaxRateWait    time.Duration
	HandleTimeout  time.Duration
	RequestTimeout time.Duration

	Logger     *slog.Logger
	HTTPClient *http.Client
	Now        func() time.Time
}

// Adapter is the Messenger channel. It implements bot.Sender.
type Adapter struct {
	h     bot.Handler
	store crm.Store
	opts  Options
	log   *slog.Logger
	http  *http.Client
	now   func() time.Time
	proof string
	locks bot.KeyedMutex[string]

	mu       sync.Mutex
	tokenErr error
	progress bot.PartialSends
	closed   bool
	inflight sync.WaitGroup
}

var _ bot.Sender = (*Adapter)(nil)

// New checks the options and builds an Adapter. It does no I/O.
func New(h bot.Handler, store crm.Store, opts Options) (*Adapter, error) {
	if h == nil || store == nil {
		return nil, errors.New("messenger: handler and store are required")
	}
	switch {
	case opts.PageToken == "":
		return nil, errors.New("messenger: MESSENGER_PAGE_TOKEN is required (a Page access token)")
	case opts.AppSecret == "":
		return nil, errors.New("messenger: MESSENGER_APP_SECRET is required (the app's App Secret: webhook calls are signed with it)")
	case opts.VerifyToken == "":
		return nil, errors.New("messenger: MESSENGER_VERIFY_TOKEN is required (any string; type the same in the webhook settings)")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	opts.APIURL = strings.TrimRight(opts.APIURL, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&opts.Window, DefaultWindow)
	def(&opts.HumanAgentLimit, DefaultHumanAgentLimit)
	def(&opts.RateLimitWait, DefaultRateLimitWait)
	def(&opts.MaxRateWait, DefaultMaxRateWait)
	def(&opts.HandleTimeout, DefaultHandleTimeout)
	def(&opts.RequestTimeout, DefaultRequestTimeout)
	def(&opts.MaxEventAge, DefaultMaxEventAge)
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = DefaultMaxClockSkew
	}
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
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
	m := hmac.New(sha256.New, []byte(opts.AppSecret))
	m.Write([]byte(opts.PageToken))
	return &Adapter{h: h, store: store, opts: opts, log: opts.Logger.With("channel", "messenger"), http: opts.HTTPClient,
		now: opts.Now, proof: hex.EncodeToString(m.Sum(nil))}, nil
}

// FromEnv reads the options from MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET,
// MESSENGER_VERIFY_TOKEN, MESSENGER_API_URL, MESSENGER_HUMAN_AGENT (true:
// use the HUMAN_AGENT tag) and MESSENGER_WINDOW (a duration, or "off").
// ok is false when none of the first three is set.
func FromEnv(getenv func(string) string) (Options, bool, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	o := Options{PageToken: get("MESSENGER_PAGE_TOKEN"), AppSecret: get("MESSENGER_APP_SECRET"),
		VerifyToken: get("MESSENGER_VERIFY_TOKEN"), APIURL: get("MESSENGER_API_URL")}
	if o.PageToken == "" && o.AppSecret == "" && o.VerifyToken == "" {
		return Options{}, false, nil
	}
	if v := get("MESSENGER_HUMAN_AGENT"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Options{}, true, fmt.Errorf("messenger: MESSENGER_HUMAN_AGENT=%q: want true or false", v)
		}
		o.HumanAgent = b
	}
	if v := get("MESSENGER_WINDOW"); v != "" {
		if v == "off" {
			o.Window = -1
		} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
			o.Window = d
		} else {
			return Options{}, true, fmt.Errorf("messenger: MESSENGER_WINDOW=%q: want a duration such as 24h, or off", v)
		}
	}
	return o, true, nil
}

// Health reports a Page token Meta refused (error 190); nil otherwise.
func (a *Adapter) Health() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokenErr
}

// Close refuses new webhook calls and waits for those being handled.
func (a *Adapter) Close() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.inflight.Wait()
	return nil
}

// Routes registers GET (verification) and POST (events) on WebhookPath.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+WebhookPath, a.serveVerify)
	mux.HandleFunc("POST "+WebhookPath, a.serveEvents)
}

// serveVerify answers Meta's subscription check: the challenge when mode
// and token match, 403 otherwise.
func (a *Adapter) serveVerify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare([]byte(token), []byte(a.opts.VerifyToken)) != 1 {
		a.log.WarnContext(r.Context(), "messenger webhook verification refused (does MESSENGER_VERIFY_TOKEN match the webhook settings?)", "mode", q.Get("hub.mode"))
		http.Error(w, "verification failed", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, q.Get("hub.challenge"))
	a.log.InfoContext(r.Context(), "messenger webhook verified")
}

// Verify checks an X-Hub-Signature-256 header ("sha256=<hex>") against the
// raw body in constant time.
func Verify(appSecret string, raw []byte, header string) bool {
	sig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(strings.ToLower(sig))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(raw)
	return subtle.ConstantTimeCompare(got, m.Sum(nil)) == 1
}

// Wire shapes of webhook events.
type webhook struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        flexID  `json:"id"`
	Time      flexID  `json:"time"`
	Messaging []event `json:"messaging"`
}

// flexID is an id or timestamp Meta sends as a JSON string or a JSON
// number. It keeps the literal digits: page-scoped ids have 15–17 digits
// and a float64 would round them.
type flexID string

// UnmarshalJSON accepts a string, a number (kept as written) or null.
func (f *flexID) UnmarshalJSON(b []byte) error {
	s, err := jsonid.Literal(b)
	if err != nil {
		return fmt.Errorf("messenger: %w", err)
	}
	*f = flexID(s)
	return nil
}

// millis is f as a time, zero when it is not a Unix millisecond count.
func (f flexID) millis() time.Time {
	if ms, err := strconv.ParseInt(string(f), 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

type idField struct {
	ID flexID `json:"id"`
}

type event struct {
	Sender    idField `json:"sender"`
	Recipient idField `json:"recipient"`
	Timestamp flexID  `json:"timestamp"`
	Message   *struct {
		MID        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct {
				URL       string `json:"url"`
				StickerID flexID `json:"sticker_id"`
				Title     string `json:"title"`
			} `json:"payload"`
		} `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Read     json.RawMessage `json:"read"`
	Delivery json.RawMessage `json:"delivery"`
}

// serveEvents handles one signed batch. Every item is handed to the core
// in order, one user at a time; 200 only when all are committed, so Meta
// delivers the batch again after a failure (dedupe keeps it single).
func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !Verify(a.opts.AppSecret, raw, r.Header.Get(SignatureHeader)) {
		a.log.ErrorContext(r.Context(), "messenger webhook call refused: bad or missing X-Hub-Signature-256 (is MESSENGER_APP_SECRET the app's secret?)", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	closed := a.closed
	if !closed {
		a.inflight.Add(1)
	}
	a.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer a.inflight.Done()
	if err := jsontext.Check(raw); err != nil {
		a.log.WarnContext(r.Context(), "messenger webhook body refused", "reason", err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var wh webhook
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&wh); err != nil {
		a.log.WarnContext(r.Context(), "messenger webhook body is not an event batch", "err", err)
		http.Error(w, "not a webhook event", http.StatusBadRequest)
		return
	}
	if wh.Object != "page" {
		a.log.InfoContext(r.Context(), "messenger webhook object ignored", "object", wh.Object)
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), a.opts.HandleTimeout)
	defer cancel()
	for _, e := range wh.Entry {
		for i := range e.Messaging {
			ev := &e.Messaging[i]
			in, ok := a.toInbound(ev)
			if !ok {
				continue
			}
			at := ev.Timestamp.millis()
			if at.IsZero() {
				at = e.Time.millis()
			}
			if why := a.stale(at); why != "" {
				// Skipped, and the batch still answered 200: delivering a
				// stale event again cannot make it fresh.
				a.log.WarnContext(r.Context(), "messenger event refused: "+why+"; acknowledged, not handled", "mid", in.MessageID, "time", at,
					"max_event_age", a.opts.MaxEventAge, "remote", r.RemoteAddr)
				continue
			}
			unlock := a.locks.Lock(in.UserID)
			_, err := a.h.Handle(ctx, in)
			unlock()
			if err != nil && crm.ErrorCode(err) != crm.EINVALID {
				a.log.WarnContext(r.Context(), "messenger event not handled; Meta will deliver the batch again", "mid", in.MessageID, "err", err)
				http.Error(w, "not handled", http.StatusInternalServerError)
				return
			}
			if err != nil {
				a.log.WarnContext(r.Context(), "messenger event refused by the core; acknowledged", "mid", in.MessageID, "err", err)
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

// stale says why an event timestamped t must not be handled ("" when it
// may): older than MaxEventAge, further ahead than MaxClockSkew, or
// without a timestamp while the age is checked.
func (a *Adapter) stale(t time.Time) string {
	return bot.StaleEvent(t, a.now(), a.opts.MaxEventAge, a.opts.MaxClockSkew)
}

// toInbound maps one messaging item. Echoes, reads and deliveries are not
// customer messages (ok false).
func (a *Adapter) toInbound(ev *event) (bot.Inbound, bool) {
	psid := string(ev.Sender.ID)
	t := ev.Timestamp.millis()
	if t.IsZero() {
		t = a.now()
	}
	in := bot.Inbound{Channel: Channel, UserID: psid, ChatID: psid, Time: t}
	switch {
	case ev.Message != nil && ev.Message.IsEcho:
		a.log.Debug("messenger echo ignored", "mid", ev.Message.MID)
		return in, false
	case ev.Message != nil:
		m := ev.Message
		in.MessageID = m.MID
		switch {
		case m.QuickReply != nil && m.QuickReply.Payload != "":
			p := m.QuickReply.Payload
			if phone, err := crm.NormalizePhone(p); err == nil && !strings.Contains(p, ":") {
				// The user_phone_number quick reply: the number from the
				// user's own profile.
				in.Kind, in.Contact = crm.KindContact, &bot.Contact{Phone: phone, Self: true}
			} else if email, err := crm.NormalizeEmail(p); err == nil && strings.Contains(p, "@") {
				in.Kind, in.Contact = crm.KindContact, &bot.Contact{Email: email, Self: true}
			} else {
				in.Kind, in.Payload, in.Text = crm.KindButton, p, m.Text
			}
		case m.Text != "":
			in.Kind, in.Text = crm.KindText, m.Text
		case len(m.Attachments) > 0:
			var lines []string
			in.Kind = crm.KindOther
			for i, at := range m.Attachments {
				k := kindOf(at.Type, at.Payload.StickerID != "")
				if i == 0 {
					in.Kind = k
				}
				lines = append(lines, strings.TrimSpace("["+at.Type+"] "+at.Payload.URL))
			}
			in.Text = strings.Join(lines, "\n")
			a.log.Info("messenger customer sent a non-text message", "kind", in.Kind, "mid", m.MID)
		default:
			in.Kind, in.Text = crm.KindOther, "[empty message]"
		}
	case ev.Postback != nil:
		in.MessageID = ev.Postback.MID
		if in.MessageID == "" {
			in.MessageID = "pb:" + psid + ":" + string(ev.Timestamp)
		}
		in.Kind, in.Payload, in.Text = crm.KindButton, ev.Postback.Payload, ev.Postback.Title
		if in.Payload == "" {
			in.Kind = crm.KindText
			if in.Text == "" {
				return in, false
			}
		}
	default:
		return in, false // read, delivery, reaction, optin …
	}
	if psid == "" || in.MessageID == "" {
		a.log.Warn("messenger event without sender or message id ignored")
		return in, false
	}
	if utf8.RuneCountInString(in.Text) > bot.MaxTextLen {
		in.Text = string([]rune(in.Text)[:bot.MaxTextLen])
	}
	return in, true
}

func kindOf(typ string, sticker bool) string {
	switch typ {
	case "image":
		if sticker {
			return crm.KindSticker
		}
		return crm.KindPhoto
	case "audio":
		return crm.KindVoice
	case "video", "file":
		return crm.KindFile
	}
	return crm.KindOther
}
