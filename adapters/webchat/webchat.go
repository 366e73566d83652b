// Package webchat is the built-in web chat channel: one embedded chat page
// and the JSON and Server-Sent Events endpoints it talks to. It needs no
// token or outside service, which makes it the default channel of a fresh
// install.
//
// A browser keeps a random session id in localStorage; the session is the
// customer's user id and chat id on the webchat channel. Messages go in with
// POST /webchat/messages and reach the core as bot.Inbound events. Replies
// are not pushed by this package: the core logs them in the conversation, and
// the page reads the conversation with GET /webchat/messages (plain, long
// poll or event stream). Send, the channel's bot.Sender, only wakes the
// session's waiting readers.
//
// A shop's own site shows the chat with the widget (embed.go): a script
// that opens the page in an iframe, allowed only on the configured origins.
//
// The endpoints are public, so what one client can do is bounded (Limits):
// new sessions per address, messages and stored bytes per session, and
// open long polls and streams per address, each answered with 429 and
// Retry-After when exceeded; and text with control characters or unpaired
// surrogates is refused (text.go).
package webchat

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
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

	"github.com/idicbot/idicbot/adapters/internal/clientip"
	"github.com/idicbot/idicbot/adapters/internal/jsontext"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Limits on what a browser may send.
const (
	// MaxTextLength is the longest message text accepted, in characters
	// (Unicode code points): a long paragraph, far below what would let
	// one customer bloat the store.
	MaxTextLength = 4000
	// MaxPayloadLength is the longest button payload accepted, in bytes.
	MaxPayloadLength = 256
	// MaxBodyBytes bounds a POST body; larger bodies are refused unread.
	MaxBodyBytes = 64 << 10
	// MaxIDLength is the longest session or client message id.
	MaxIDLength = 64
)

// Core is what the web chat needs from the conversation core: handling an
// inbound event and reading a conversation back.
type Core interface {
	bot.Handler
	// Conversation returns the interactions, in both directions and oldest
	// first, of the customer with identity (ch, userID) whose ids are greater
	// than after, at most limit of them. It returns (nil, nil) when the
	// identity is unknown.
	Conversation(ctx context.Context, ch crm.Channel, userID string, after crm.ID, limit int) ([]*crm.Interaction, error)
}

// Options tune a Server. The zero value is usable.
type Options struct {
	// Logger receives internal errors; slog.Default() when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// MaxWait caps the wait of a long poll (the wait parameter); 30s when 0.
	MaxWait time.Duration
	// Heartbeat is the interval of the comment lines that keep an idle
	// event stream open through proxies; 20s when 0.
	Heartbeat time.Duration
	// PageSize is how many interactions one read of the conversation asks
	// the core for; 100 when 0.
	PageSize int
	// MaxWaiters bounds the long polls and event streams open at once, so
	// that a flood of idle connections cannot exhaust the process; further
	// ones get 503 with Retry-After. 1000 when 0. Limits.StreamsPerClient
	// keeps one client from taking them all.
	MaxWaiters int
	// WriteTimeout bounds each write to a long poll or an event stream.
	// Those lift the HTTP server's own write timeout, which would cut them,
	// but a client that stops reading must still not hold its connection
	// forever. 10s when 0; give it the server's write timeout.
	WriteTimeout time.Duration
	// Limits bound what one client may do; see Limits for the defaults.
	Limits Limits
	// Notifier carries wake-ups from the process that committed a reply to
	// the processes whose readers wait for it; in-process when nil.
	Notifier bot.Notifier
	// Branding is the shop's name, logo and colour on the page and the
	// widget; check it with Branding.Validate.
	Branding Branding
	// AllowedOrigins are the sites (scheme://host[:port], see
	// ParseOrigins) whose pages may embed the chat with the widget and
	// call its API. Others are refused; the chat's own origin always
	// passes. Entries ParseOrigins refuses are ignored.
	AllowedOrigins []string
}

// Server serves the chat page and its endpoints, and is the webchat
// channel's bot.Sender.
type Server struct {
	core   Core
	log    *slog.Logger
	now    func() time.Time
	opts   Options
	notify notifier
	guard  *guard

	// The rendered page (standalone and embedded), their policies and the
	// widget script, made once by New from the branding.
	page, embedPage []byte
	csp, embedCSP   string
	widget          []byte
	origins         []string // allowed, as ParseOrigins writes them

	mu      sync.Mutex
	closed  bool
	waiters int
	streams map[string]int // open long polls and streams by client; no zero entries
	done    chan struct{}
	wg      sync.WaitGroup
}

var _ bot.Sender = (*Server)(nil)

// pageTemplate is the chat page before renderPage puts the branding in.
//
//go:embed page.html
var pageTemplate []byte

// New returns a Server that passes inbound messages to core. It starts
// nothing.
func New(core Core, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 20 * time.Second
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.MaxWaiters <= 0 {
		opts.MaxWaiters = 1000
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	opts.Limits = opts.Limits.withDefaults()
	var origins []string
	for _, o := range opts.AllowedOrigins {
		if v, err := ParseOrigins([]string{o}); err == nil {
			origins = append(origins, v...)
		}
	}
	if err := opts.Branding.Validate(); err != nil {
		opts.Logger.Warn("webchat: branding ignored", "err", err)
		opts.Branding = Branding{Shop: opts.Branding.Shop}
		if checkText("shop", opts.Branding.Shop) != nil {
			opts.Branding.Shop = ""
		}
	}
	logo, _ := logoSource(opts.Branding.LogoURL)
	standalone, embedded := renderPage(pageTemplate, opts.Branding, false), renderPage(pageTemplate, opts.Branding, true)
	return &Server{
		core:      core,
		log:       opts.Logger,
		now:       opts.Now,
		opts:      opts,
		notify:    newNotifier(opts.Notifier),
		guard:     newGuard(opts.Limits),
		page:      standalone,
		embedPage: embedded,
		csp:       pagePolicy(standalone, logo, "'self'"),
		embedCSP:  pagePolicy(embedded, logo, framePolicy(origins)),
		widget:    renderWidget(opts.Branding),
		origins:   origins,
		streams:   make(map[string]int),
		done:      make(chan struct{}),
	}
}

// Routes registers the chat page at "/" (that exact path only), the page
// the widget frames at /webchat/embed, the widget script at
// /webchat/widget.js and the message endpoints under /webchat/.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("GET /webchat/embed", s.handleEmbed)
	mux.HandleFunc("GET /webchat/widget.js", s.handleWidget)
	mux.HandleFunc("POST /webchat/messages", s.handlePost)
	mux.HandleFunc("GET /webchat/messages", s.handleGet)
	mux.HandleFunc("OPTIONS /webchat/messages", s.handlePreflight)
}

// Send delivers an outbox item to a web chat. The reply is already in the
// conversation log, so delivering means waking the readers of the session.
func (s *Server) Send(ctx context.Context, it *crm.OutboxItem) error {
	if it.Channel != "" && it.Channel != crm.ChannelWeb {
		return bot.Permanent(fmt.Errorf("webchat: outbox item %d is for channel %q", it.ID, it.Channel))
	}
	if it.ChatID == "" {
		return bot.Permanent(fmt.Errorf("webchat: outbox item %d has no chat id", it.ID))
	}
	if err := s.notify.wake(ctx, it.ChatID); err != nil {
		// The reply is in the log; a retried Send wakes the readers again.
		return fmt.Errorf("webchat: wake session: %w", err)
	}
	return nil
}

// Close ends every long poll and event stream and waits for them to return.
// Plain reads and posts keep working, so a shutdown can drain them.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// errClosed refuses a long poll or stream once the server is closed.
var errClosed = crm.Errorf(crm.EUNAVAILABLE, "The chat server is shutting down.")

// acquireWaiter reserves a slot for a long poll or stream of client. It
// fails once the server is closed (errClosed), when the client holds its
// share of slots (a limitError) or when all are taken.
func (s *Server) acquireWaiter(client string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.streams[client] >= s.opts.Limits.StreamsPerClient {
		return nil, &limitError{codeRateLimited, "Too many open connections from your network, try again later.", 10 * time.Second}
	}
	if s.waiters >= s.opts.MaxWaiters {
		return nil, crm.Errorf(crm.EUNAVAILABLE, "Too many open connections, try again later.")
	}
	s.waiters++
	s.streams[client]++
	s.wg.Add(1)
	return func() {
		s.mu.Lock()
		s.waiters--
		if s.streams[client]--; s.streams[client] <= 0 {
			delete(s.streams, client)
		}
		s.mu.Unlock()
		s.wg.Done()
	}, nil
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	s.writePage(w, s.page, s.csp)
}

func (s *Server) writePage(w http.ResponseWriter, body []byte, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// pagePolicy is the page's Content-Security-Policy: only its own inline
// script and style (pinned by hash), requests to its own origin, images
// from it and from logo's origin (when not ""), and framing by
// frameAncestors.
func pagePolicy(html []byte, logo, frameAncestors string) string {
	hash := func(open, close string) string {
		s := string(html)
		i := strings.Index(s, open)
		if i < 0 {
			return "'none'"
		}
		s = s[i+len(open):]
		j := strings.Index(s, close)
		if j < 0 {
			return "'none'"
		}
		sum := sha256.Sum256([]byte(s[:j]))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; script-src " + hash("<script>", "</script>") +
		"; style-src " + hash("<style>", "</style>") +
		"; connect-src 'self'; img-src 'self' data:" + strings.TrimRight(" "+logo, " ") +
		"; base-uri 'none'; form-action 'none'; frame-ancestors " + frameAncestors
}

// postRequest is the body of POST /webchat/messages. Unknown fields are
// ignored. Text and Payload stay raw until checked for lone surrogates.
type postRequest struct {
	Session string          `json:"session"`
	ID      string          `json:"id"`
	Text    json.RawMessage `json:"text"`
	// Payload is set when the customer pressed a button; Text may then
	// carry the button's label.
	Payload json.RawMessage `json:"payload"`
	// Lang is the language the customer chose on the page ("vi" or "en"),
	// a better hint than the browser's Accept-Language; others are ignored.
	Lang string `json:"lang"`
}

// decodeString decodes the raw JSON string of field: absent or null is "".
// It refuses a lone surrogate escape and any other value than a string.
func decodeString(field string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	if esc := jsontext.LoneSurrogate(raw); esc != "" {
		return "", crm.Errorf(crm.EINVALID, "%s has an unpaired surrogate escape (%s): send valid Unicode", field, esc)
	}
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", crm.Errorf(crm.EINVALID, "malformed JSON body")
	}
	if v == nil {
		return "", nil
	}
	return *v, nil
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	origin, err := s.checkOrigin(r)
	allowCORS(w, origin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.parsePost(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keep, err := s.admit(r.Context(), clientip.Key(r, s.opts.Limits.TrustedProxies), in.UserID, storedSize(in.Text, in.Payload))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.core.Handle(r.Context(), in)
	keep(err == nil && !res.Duplicate)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The reply may already be in the conversation; a dispatcher's Send
	// wakes the session again when it delivers.
	if err := s.notify.wake(r.Context(), in.ChatID); err != nil {
		// Committed: the readers see the message at their next read.
		s.logError(r, err)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"accepted": true, "duplicate": res.Duplicate})
}

// parsePost validates a POST and turns it into an inbound event. Every
// failure is an EINVALID error naming what is wrong.
func (s *Server) parsePost(w http.ResponseWriter, r *http.Request) (bot.Inbound, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bot.Inbound{}, crm.Errorf(crm.EINVALID, "body is over %d KiB", MaxBodyBytes>>10)
		}
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "could not read body")
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD.
	if !utf8.Valid(body) {
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "body is not valid UTF-8")
	}
	var req postRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "malformed JSON body")
	}
	rawText, err := decodeString("text", req.Text)
	if err != nil {
		return bot.Inbound{}, err
	}
	rawPayload, err := decodeString("payload", req.Payload)
	if err != nil {
		return bot.Inbound{}, err
	}
	if esc := jsontext.LoneSurrogate(body); esc != "" { // in a field this server ignores
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "body has an unpaired surrogate escape (%s): send valid Unicode", esc)
	}
	if err := checkToken("session", req.Session); err != nil {
		return bot.Inbound{}, err
	}
	if err := checkToken("id", req.ID); err != nil {
		return bot.Inbound{}, err
	}
	// Checked before trimming, so that a control character is refused
	// wherever it is rather than silently cut from the ends.
	text := normalizeNewlines(rawText)
	if err := checkText("text", text); err != nil {
		return bot.Inbound{}, err
	}
	if err := checkText("payload", rawPayload); err != nil {
		return bot.Inbound{}, err
	}
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n > MaxTextLength {
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "text is over %d characters", MaxTextLength)
	}
	if len(rawPayload) > MaxPayloadLength {
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "payload is over %d bytes", MaxPayloadLength)
	}
	in := bot.Inbound{
		Channel:   crm.ChannelWeb,
		UserID:    req.Session,
		ChatID:    req.Session,
		MessageID: req.Session + ":" + req.ID,
		Time:      s.now(),
		Kind:      crm.KindText,
		Text:      text,
		Locale:    acceptLocale(r.Header.Get("Accept-Language")),
	}
	if req.Lang == "vi" || req.Lang == "en" {
		in.Locale = req.Lang
	}
	switch payload := strings.TrimSpace(rawPayload); {
	case payload != "":
		in.Kind = crm.KindButton
		in.Payload = payload
		if in.Text == "" {
			in.Text = payload
		}
	case text == "":
		return bot.Inbound{}, crm.Errorf(crm.EINVALID, "text is empty")
	}
	return in, nil
}

// checkToken validates a session or client message id: 1 to MaxIDLength
// characters of [A-Za-z0-9_-], so that it is safe in keys, logs and URLs.
func checkToken(name, v string) error {
	if v == "" {
		return crm.Errorf(crm.EINVALID, "%s is required", name)
	}
	if !validToken(v) {
		return crm.Errorf(crm.EINVALID, "%s must be 1 to %d characters of A-Z, a-z, 0-9, _ and -", name, MaxIDLength)
	}
	return nil
}

func validToken(v string) bool {
	if len(v) == 0 || len(v) > MaxIDLength {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// acceptLocale returns the first language tag of an Accept-Language header
// ("vi-VN,vi;q=0.9,en;q=0.8" → "vi-VN"), or "" when there is none usable.
func acceptLocale(header string) string {
	tag, _, _ := strings.Cut(header, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.TrimSpace(tag)
	if tag == "" || tag == "*" || len(tag) > 35 {
		return ""
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return ""
		}
	}
	return tag
}

// Message is one entry of a conversation as the page sees it.
type Message struct {
	ID      crm.ID       `json:"id"`
	Dir     string       `json:"dir"` // "in" from the customer, "out" to them
	Kind    string       `json:"kind,omitempty"`
	Text    string       `json:"text"`
	Buttons []crm.Button `json:"buttons,omitempty"`
	Time    time.Time    `json:"time"`
	// ClientID is the id the page gave an inbound message, so it can match
	// the message it showed while sending.
	ClientID string `json:"client_id,omitempty"`
}

// messagesResponse is the body of GET /webchat/messages.
type messagesResponse struct {
	Messages []Message `json:"messages"`
	// Last is the cursor for the next read (the after parameter): the id of
	// the last interaction read, which may be one not shown.
	Last crm.ID `json:"last"`
	// More reports that the page was full: read again at once.
	More bool `json:"more"`
}

// visible converts interactions to messages, leaving out the core's
// internal notes (KindSystem), which are not addressed to the customer.
func visible(session string, list []*crm.Interaction) []Message {
	out := make([]Message, 0, len(list))
	for _, it := range list {
		if it == nil || it.Kind == crm.KindSystem {
			continue
		}
		m := Message{
			ID:      it.ID,
			Dir:     string(it.Direction),
			Kind:    it.Kind,
			Text:    it.Text,
			Buttons: it.Buttons,
			Time:    it.Time,
		}
		if it.Direction == crm.Inbound {
			m.ClientID = strings.TrimPrefix(it.MessageID, session+":")
		} else {
			m.Text = displayText(it.Text)
			m.Buttons = make([]crm.Button, len(it.Buttons))
			for i, b := range it.Buttons {
				b.Label = displayText(b.Label)
				m.Buttons[i] = b
			}
			if len(m.Buttons) == 0 {
				m.Buttons = nil
			}
		}
		out = append(out, m)
	}
	return out
}

func (s *Server) read(ctx context.Context, session string, after crm.ID) (messagesResponse, error) {
	list, err := s.core.Conversation(ctx, crm.ChannelWeb, session, after, s.opts.PageSize)
	if err != nil {
		return messagesResponse{}, err
	}
	res := messagesResponse{Messages: visible(session, list), Last: after, More: len(list) >= s.opts.PageSize}
	if len(list) > 0 && list[len(list)-1] != nil {
		res.Last = list[len(list)-1].ID
	}
	return res, nil
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	origin, err := s.checkOrigin(r)
	allowCORS(w, origin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	session := q.Get("session")
	if err := checkToken("session", session); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.admitRead(clientip.Key(r, s.opts.Limits.TrustedProxies)); err != nil {
		s.writeError(w, r, err)
		return
	}
	after, err := parseAfter(q.Get("after"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wantsEventStream(r) {
		// EventSource reconnects send the last id they saw.
		if v := r.Header.Get("Last-Event-ID"); v != "" {
			last, err := parseAfter(v)
			if err != nil {
				s.writeError(w, r, crm.Errorf(crm.EINVALID, "Last-Event-ID must be an interaction id"))
				return
			}
			after = max(after, last)
		}
		s.stream(w, r, session, after)
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			s.writeError(w, r, crm.Errorf(crm.EINVALID, "wait must be a number of seconds"))
			return
		}
		wait = min(time.Duration(secs)*time.Second, s.opts.MaxWait)
	}
	res, err := s.poll(w, r, session, after, wait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
}

func parseAfter(v string) (crm.ID, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, crm.Errorf(crm.EINVALID, "after must be an interaction id")
	}
	return crm.ID(n), nil
}

func wantsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, "text/event-stream") {
			return true
		}
	}
	return false
}

// poll reads the conversation after the cursor, waiting up to wait for
// something new when there is nothing yet. A closed server does not wait;
// a client over its share of waiting slots, or a full server, is refused
// (answering at once would only make its page ask again at once).
func (s *Server) poll(w http.ResponseWriter, r *http.Request, session string, after crm.ID, wait time.Duration) (messagesResponse, error) {
	ctx := r.Context()
	if wait <= 0 {
		return s.read(ctx, session, after)
	}
	done, err := s.acquireWaiter(clientip.Key(r, s.opts.Limits.TrustedProxies))
	if errors.Is(err, errClosed) {
		return s.read(ctx, session, after)
	}
	if err != nil {
		return messagesResponse{}, err
	}
	defer done()
	// The server's read and write timeouts, shorter than the wait, would
	// cut the answer: lift them for the wait and one write.
	rc := http.NewResponseController(w)
	end := time.Now().Add(wait + s.opts.WriteTimeout)
	_ = rc.SetReadDeadline(end)
	_ = rc.SetWriteDeadline(end)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		woken, release := s.notify.subscribe(session)
		res, err := s.read(ctx, session, after)
		if err != nil || res.Last != after {
			release()
			return res, err
		}
		select {
		case <-woken:
			release()
		case <-timer.C:
			release()
			return res, nil
		case <-ctx.Done():
			release()
			return res, nil
		case <-s.done:
			release()
			return res, nil
		}
	}
}

// stream serves the conversation as Server-Sent Events: one "message" event
// per message, its id the interaction id, then new ones as they come, until
// the client leaves or the server closes.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, session string, after crm.ID) {
	done, err := s.acquireWaiter(clientip.Key(r, s.opts.Limits.TrustedProxies))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer done()
	rc := http.NewResponseController(w)
	// The server's read timeout would end the stream and its write timeout
	// would cut it: the stream has a lifetime of its own instead, and each
	// write gets WriteTimeout, so a client that stops reading is dropped.
	lifetime := time.NewTimer(s.opts.Limits.StreamLifetime)
	defer lifetime.Stop()
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.Limits.StreamLifetime + s.opts.WriteTimeout))
	armWrite := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)) }
	armWrite()
	defer armWrite() // for the end of the response

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 2000\n: connected\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}

	ctx := r.Context()
	heartbeat := time.NewTicker(s.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		armWrite()
		woken, release := s.notify.subscribe(session)
		for {
			res, err := s.read(ctx, session, after)
			if err != nil {
				release()
				if ctx.Err() == nil {
					s.logError(r, err)
				}
				return
			}
			for _, m := range res.Messages {
				data, _ := json.Marshal(m)
				if _, err := fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, data); err != nil {
					release()
					return
				}
			}
			after = res.Last
			if !res.More {
				break
			}
		}
		if err := rc.Flush(); err != nil {
			release()
			return
		}
	wait:
		for {
			select {
			case <-woken:
				break wait
			case <-heartbeat.C:
				armWrite()
				if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
					release()
					return
				}
				if err := rc.Flush(); err != nil {
					release()
					return
				}
			case <-ctx.Done():
				release()
				return
			case <-s.done:
				release()
				return
			case <-lifetime.C:
				// The page's EventSource reconnects with the last id it saw.
				release()
				return
			}
		}
		release()
	}
}

// writeError answers with the HTTP status of err's domain code and a JSON
// body {"error":{"code","message"}}. Internal errors are logged and their
// details kept from the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var limit *limitError
	if errors.As(err, &limit) {
		w.Header().Set("Retry-After", retryAfter(limit.after))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": limit.code, "message": limit.msg}})
		return
	}
	code := crm.ErrorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case crm.EINVALID:
		status = http.StatusBadRequest
	case crm.ENOTFOUND:
		status = http.StatusNotFound
	case crm.EFORBIDDEN:
		status = http.StatusForbidden
	case crm.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	default:
		code = crm.EINTERNAL
	}
	msg := crm.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.logError(r, err)
		msg = "Internal error."
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (s *Server) logError(r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "webchat request failed",
		"method", r.Method, "path", r.URL.Path, "err", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
