// Package telegramtest is a fake Telegram Bot API server for tests. It speaks
// the real wire format: requests to /bot<token>/<method> as multipart/form-data,
// application/x-www-form-urlencoded, JSON or query parameters; answers
// {"ok":true,"result":…} or {"ok":false,"error_code":…,"description":…} with
// the HTTP status equal to the error code; getUpdates long polling with the
// real offset semantics; webhooks delivered with the secret token header.
package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Defaults of a fresh Server.
const (
	DefaultToken       = "123456789:AAtest-token_for-the-fake-server"
	DefaultBotID       = 123456789
	DefaultBotUsername = "idic_test_bot"
	maxMessageLength   = 4096
	maxCallbackData    = 64
)

// Fault is an error answer injected for one call of a method. A zero Fault
// lets its call through, so Fail(m, Fault{}, Fault{Code: 500}) fails the
// second call.
type Fault struct {
	Code        int    // HTTP status and error_code: 429, 403, 500, 502 …
	Description string // default: Telegram's usual text for Code
	RetryAfter  int    // parameters.retry_after for 429
	// Body, when set, is written as is (an HTML error page from a proxy).
	Body string
}

// Call is one recorded request.
type Call struct {
	Method      string
	ContentType string            // media type of the request body
	Params      map[string]string // form fields; JSON values other than strings as JSON text
}

// SentMessage is a message the bot sent with sendMessage.
type SentMessage struct {
	MessageID   int
	ChatID      string
	Text        string
	ReplyMarkup json.RawMessage // nil when none
}

// Server is a fake Bot API server. Its zero value is not usable: call New.
type Server struct {
	Token       string
	BotID       int64
	BotUsername string

	srv *httptest.Server

	mu            sync.Mutex
	changed       chan struct{} // closed and replaced when updates arrive or a poll is superseded
	queue         []json.RawMessage
	queueIDs      []int64
	queueKinds    []string // "message", "callback_query"…: what allowed_updates filters on
	nextUpdateID  int64
	nextMessageID int
	confirmed     int64 // highest offset a getUpdates call confirmed
	pollGen       int64
	allowed       []string
	webhookURL    string
	webhookSecret string
	webhookConns  int // max_connections of setWebhook
	calls         []Call
	sent          []SentMessage
	answered      []string
	faults        map[string][]Fault
	blocked       map[string]bool
}

// New starts a fake Bot API server that stops when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := NewServer()
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a fake Bot API server; Close stops it.
func NewServer() *Server {
	s := &Server{
		Token:         DefaultToken,
		BotID:         DefaultBotID,
		BotUsername:   DefaultBotUsername,
		changed:       make(chan struct{}),
		nextUpdateID:  100000,
		nextMessageID: 1,
		faults:        map[string][]Fault{},
		blocked:       map[string]bool{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the server's base URL, to use as the Bot API URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, ending waiting long polls.
func (s *Server) Close() {
	s.mu.Lock()
	s.pollGen++
	s.notifyLocked()
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Push queues an update. The update is any JSON-marshalable value or a
// json.RawMessage/string/[]byte of JSON; when it has no update_id one is
// assigned. Push returns the update_id.
func (s *Server) Push(update any) int64 {
	var raw []byte
	switch u := update.(type) {
	case string:
		raw = []byte(u)
	case []byte:
		raw = u
	case json.RawMessage:
		raw = u
	default:
		b, err := json.Marshal(u)
		if err != nil {
			panic(fmt.Sprintf("telegramtest: marshal update: %v", err))
		}
		raw = b
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(fmt.Sprintf("telegramtest: update is not a JSON object: %v", err))
	}
	var id int64
	if v, ok := m["update_id"]; ok {
		if err := json.Unmarshal(v, &id); err != nil {
			panic(fmt.Sprintf("telegramtest: update_id is not a number: %s", v))
		}
	}
	kind := ""
	for k := range m {
		if k != "update_id" {
			kind = k
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		s.nextUpdateID++
		id = s.nextUpdateID
		raw = withUpdateID(id, raw)
	} else if id > s.nextUpdateID {
		s.nextUpdateID = id
	}
	s.queueLocked(id, kind, raw)
	return id
}

// pushKind queues an update of one kind whose body is v, with the next
// update_id: what the helpers that build updates use (one encoding, no
// decoding back).
func (s *Server) pushKind(kind string, v any) int64 {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal update: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdateID++
	id := s.nextUpdateID
	raw := make([]byte, 0, len(body)+len(kind)+40)
	raw = append(raw, `{"update_id":`...)
	raw = strconv.AppendInt(raw, id, 10)
	raw = append(raw, `,"`...)
	raw = append(raw, kind...)
	raw = append(raw, `":`...)
	raw = append(raw, body...)
	raw = append(raw, '}')
	s.queueLocked(id, kind, raw)
	return id
}

// withUpdateID puts "update_id" first into the JSON object raw.
func withUpdateID(id int64, raw []byte) []byte {
	rest := bytes.TrimSpace(raw)[1:] // after '{'
	out := append([]byte(`{"update_id":`), strconv.FormatInt(id, 10)...)
	if len(bytes.TrimSpace(rest)) > 1 { // not "}"
		out = append(out, ',')
	}
	return append(out, rest...)
}

func (s *Server) queueLocked(id int64, kind string, raw []byte) {
	s.queue = append(s.queue, json.RawMessage(raw))
	s.queueIDs = append(s.queueIDs, id)
	s.queueKinds = append(s.queueKinds, kind)
	s.notifyLocked()
}

// Fail makes the next calls of method fail with the faults, one per call.
func (s *Server) Fail(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.faults[m] = append(s.faults[m], faults...)
}

// Block makes sendMessage to chatID fail with 403 as when the user blocked the bot.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[strconv.FormatInt(chatID, 10)] = true
}

// Calls returns the recorded requests of method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// Sent returns the messages sent so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// Answered returns the callback query ids answered so far.
func (s *Server) Answered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answered...)
}

// Confirmed returns the highest offset a getUpdates call sent: every update
// below it is confirmed and forgotten.
func (s *Server) Confirmed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Pending returns how many updates are not confirmed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Webhook returns the registered webhook URL and secret token.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSecret
}

// DeliverWebhook posts the pending updates to the registered webhook in
// order, as Telegram does, forgetting each one answered with 200. It stops
// at the first other answer and returns an error naming its status.
func (s *Server) DeliverWebhook(ctx context.Context) (int, error) {
	return s.DeliverWebhookTo(ctx, "")
}

// DeliverWebhookTo is DeliverWebhook posting to target instead of the
// registered URL, as a reverse proxy in front of the bot would forward
// Telegram's calls to the public URL. An empty target is the registered URL.
func (s *Server) DeliverWebhookTo(ctx context.Context, target string) (int, error) {
	n := 0
	for {
		s.mu.Lock()
		url, secret := s.webhookURL, s.webhookSecret
		if url == "" {
			s.mu.Unlock()
			return n, errors.New("telegramtest: no webhook set")
		}
		if target != "" {
			url = target
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return n, nil
		}
		raw, id := s.queue[0], s.queueIDs[0]
		s.mu.Unlock()

		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
		if err != nil {
			return n, err
		}
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return n, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("telegramtest: webhook answered %d to update %d", resp.StatusCode, id)
		}
		s.mu.Lock()
		if len(s.queueIDs) > 0 && s.queueIDs[0] == id {
			s.dropLocked(1)
		}
		s.mu.Unlock()
		n++
	}
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// apiError is an error answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	body       string
}

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, desc: fmt.Sprintf(format, args...)}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// /bot<token>/<method>
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || method == "" || strings.Contains(method, "/") {
		writeError(w, errorf(http.StatusNotFound, "Not Found"))
		return
	}
	if token != s.Token {
		writeError(w, errorf(http.StatusUnauthorized, "Unauthorized"))
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeError(w, errorf(http.StatusMethodNotAllowed, "Method Not Allowed"))
		return
	}
	params, ctype, err := parseParams(r)
	if err != nil {
		writeError(w, errorf(http.StatusBadRequest, "Bad Request: %v", err))
		return
	}
	lower := strings.ToLower(method)

	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, ContentType: ctype, Params: params})
	var fault *Fault
	if q := s.faults[lower]; len(q) > 0 {
		f := q[0]
		s.faults[lower] = q[1:]
		fault = &f
	}
	s.mu.Unlock()
	if fault != nil && fault.Code != 0 {
		writeError(w, faultError(*fault))
		return
	}

	var result any
	var aerr *apiError
	switch lower {
	case "getme":
		result = s.me()
	case "getupdates":
		result, aerr = s.getUpdates(r.Context(), params)
	case "setwebhook":
		result, aerr = s.setWebhook(params)
	case "deletewebhook":
		result, aerr = s.deleteWebhook(params)
	case "getwebhookinfo":
		s.mu.Lock()
		result = map[string]any{"url": s.webhookURL, "has_custom_certificate": false, "pending_update_count": len(s.queue)}
		s.mu.Unlock()
	case "sendmessage":
		result, aerr = s.sendMessage(params)
	case "answercallbackquery":
		result, aerr = s.answerCallbackQuery(params)
	default:
		aerr = errorf(http.StatusNotFound, "Not Found")
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeResult(w, result)
}

func faultError(f Fault) *apiError {
	e := &apiError{code: f.Code, desc: f.Description, retryAfter: f.RetryAfter, body: f.Body}
	if e.desc == "" {
		switch {
		case f.Code == http.StatusTooManyRequests:
			e.desc = fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
		case f.Code == http.StatusForbidden:
			e.desc = "Forbidden: bot was blocked by the user"
		case f.Code == http.StatusBadRequest:
			e.desc = "Bad Request: chat not found"
		case f.Code == http.StatusConflict:
			e.desc = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
		case f.Code >= 500:
			e.desc = "Internal Server Error"
		default:
			e.desc = http.StatusText(f.Code)
		}
	}
	return e
}

func writeResult(w http.ResponseWriter, result any) {
	if ups, ok := result.(rawUpdates); ok {
		n := 32
		for _, u := range ups {
			n += len(u) + 1
		}
		b := make([]byte, 0, n)
		b = append(b, `{"ok":true,"result":[`...)
		for i, u := range ups {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, u...)
		}
		b = append(b, "]}"...)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		return
	}
	b, err := jsonv2.Marshal(struct {
		OK     bool `json:"ok"`
		Result any  `json:"result"`
	}{true, result})
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "Internal Server Error"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.body != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(e.code)
		_, _ = io.WriteString(w, e.body)
		return
	}
	m := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		m["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	_, _ = w.Write(b)
}

// parseParams reads the parameters as the Bot API accepts them: query
// string, urlencoded or multipart form, or a JSON object.
func parseParams(r *http.Request) (map[string]string, string, error) {
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	if r.Method != http.MethodPost {
		return params, "", nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		return nil, "", err
	}
	ct := r.Header.Get("Content-Type")
	if len(bytes.TrimSpace(body)) == 0 {
		// A method without parameters: the library sends a multipart
		// content type with an empty body, which the real server accepts.
		return params, "", nil
	}
	media, mparams, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, "", fmt.Errorf("bad content type %q", ct)
	}
	switch media {
	case "multipart/form-data":
		if parseMultipart(body, mparams["boundary"], params) {
			break
		}
		form, err := multipart.NewReader(bytes.NewReader(body), mparams["boundary"]).ReadForm(10 << 20)
		if err != nil {
			return nil, media, err
		}
		defer form.RemoveAll()
		for k, v := range form.Value {
			params[k] = v[0]
		}
		for k := range form.File {
			params[k] = "<file>"
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, media, err
		}
		for k, v := range vals {
			params[k] = v[0]
		}
	case "application/json":
		var m map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, media, fmt.Errorf("can't parse JSON object: %v", err)
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				params[k] = str
			} else {
				params[k] = string(v)
			}
		}
	default:
		return nil, media, fmt.Errorf("unsupported content type %q", media)
	}
	return params, media, nil
}

func intParam(p map[string]string, name string, def int64) (int64, *apiError) {
	v, ok := p[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "Bad Request: invalid %s specified", name)
	}
	return n, nil
}

func boolParam(p map[string]string, name string) bool {
	v := p[name]
	return v == "true" || v == "1" || v == "True"
}

func (s *Server) me() map[string]any {
	return map[string]any{
		"id": s.BotID, "is_bot": true, "first_name": "IDIC Test", "username": s.BotUsername,
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
	}
}

func (s *Server) getUpdates(ctx context.Context, p map[string]string) (any, *apiError) {
	offset, aerr := intParam(p, "offset", 0)
	if aerr != nil {
		return nil, aerr
	}
	limit, aerr := intParam(p, "limit", 100)
	if aerr != nil {
		return nil, aerr
	}
	if limit < 1 || limit > 100 {
		limit = 100
	}
	timeout, aerr := intParam(p, "timeout", 0)
	if aerr != nil {
		return nil, aerr
	}
	var allowed []string
	if a, ok := p["allowed_updates"]; ok && a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			return nil, errorf(http.StatusBadRequest, "Bad Request: can't parse allowed updates: %v", err)
		}
	}

	s.mu.Lock()
	if s.webhookURL != "" {
		s.mu.Unlock()
		return nil, errorf(http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	}
	if allowed != nil {
		s.allowed = allowed
	}
	s.pollGen++
	gen := s.pollGen
	s.notifyLocked() // an older long poll is terminated by this one
	s.forgetLocked(offset)
	s.mu.Unlock()

	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, errorf(http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
		}
		out := s.deliverableLocked(int(limit))
		ch := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			return out, nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return rawUpdates{}, nil
		case <-ctx.Done():
			return nil, errorf(http.StatusInternalServerError, "request cancelled")
		}
	}
}

// forgetLocked drops the updates an offset confirms: ids below a positive
// offset, or all but the last -offset ones for a negative offset.
func (s *Server) forgetLocked(offset int64) {
	drop := 0
	switch {
	case offset > 0:
		for drop < len(s.queueIDs) && s.queueIDs[drop] < offset {
			drop++
		}
		if offset > s.confirmed {
			s.confirmed = offset
		}
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			drop = len(s.queue) - keep
		}
	}
	s.dropLocked(drop)
}

// dropLocked forgets the first n queued updates.
func (s *Server) dropLocked(n int) {
	s.queue, s.queueIDs, s.queueKinds = s.queue[n:], s.queueIDs[n:], s.queueKinds[n:]
}

func (s *Server) deliverableLocked(limit int) rawUpdates {
	var out rawUpdates
	for i, raw := range s.queue {
		if len(out) == limit {
			break
		}
		if !s.allowedLocked(s.queueKinds[i]) {
			continue
		}
		out = append(out, raw)
	}
	return out
}

// rawUpdates is a getUpdates result: updates as they were queued, written
// out as they are rather than encoded again.
type rawUpdates []json.RawMessage

// allowedLocked applies allowed_updates to an update of kind; the default
// excludes the same types the real server leaves out.
func (s *Server) allowedLocked(kind string) bool {
	if len(s.allowed) == 0 {
		return kind != "chat_member" && kind != "message_reaction" && kind != "message_reaction_count"
	}
	for _, a := range s.allowed {
		if a == kind {
			return true
		}
	}
	return false
}

func (s *Server) setWebhook(p map[string]string) (any, *apiError) {
	url := p["url"]
	secret := p["secret_token"]
	if url != "" && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, errorf(http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
	}
	for _, r := range secret {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return nil, errorf(http.StatusBadRequest, "Bad Request: secret token contains unallowed characters")
		}
	}
	if len(secret) > 256 {
		return nil, errorf(http.StatusBadRequest, "Bad Request: secret token is too long")
	}
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			return nil, errorf(http.StatusBadRequest, "Bad Request: can't parse allowed updates: %v", err)
		}
	}
	conns, aerr := intParam(p, "max_connections", defaultWebhookConns)
	if aerr != nil {
		return nil, aerr
	}
	if conns < 1 || conns > 100 {
		return nil, errorf(http.StatusBadRequest, "Bad Request: max_connections must be between 1 and 100")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.webhookSecret, s.webhookConns = url, secret, int(conns)
	if allowed != nil {
		s.allowed = allowed
	}
	if boolParam(p, "drop_pending_updates") {
		s.queue, s.queueIDs, s.queueKinds = nil, nil, nil
	}
	s.pollGen++ // a waiting long poll ends
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteWebhook(p map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.webhookSecret = "", ""
	if boolParam(p, "drop_pending_updates") {
		s.queue, s.queueIDs, s.queueKinds = nil, nil, nil
	}
	return true, nil
}

func (s *Server) sendMessage(p map[string]string) (any, *apiError) {
	chatID, ok := p["chat_id"]
	if !ok || chatID == "" {
		return nil, errorf(http.StatusBadRequest, "Bad Request: chat_id is empty")
	}
	if _, err := strconv.ParseInt(chatID, 10, 64); err != nil && !strings.HasPrefix(chatID, "@") {
		return nil, errorf(http.StatusBadRequest, "Bad Request: chat not found")
	}
	text := p["text"]
	if strings.TrimSpace(text) == "" {
		return nil, errorf(http.StatusBadRequest, "Bad Request: message text is empty")
	}
	if len(utf16.Encode([]rune(text))) > maxMessageLength {
		return nil, errorf(http.StatusBadRequest, "Bad Request: message is too long")
	}
	var markup json.RawMessage
	if m := p["reply_markup"]; m != "" {
		if aerr := checkMarkup(m); aerr != nil {
			return nil, aerr
		}
		markup = json.RawMessage(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocked[chatID] {
		return nil, errorf(http.StatusForbidden, "Forbidden: bot was blocked by the user")
	}
	id := s.nextMessageID
	s.nextMessageID++
	s.sent = append(s.sent, SentMessage{MessageID: id, ChatID: chatID, Text: text, ReplyMarkup: markup})
	cid, _ := strconv.ParseInt(chatID, 10, 64)
	chatType := "private"
	if cid < 0 {
		chatType = "supergroup"
	}
	return sentMessage{
		MessageID: id,
		From:      botUser{ID: s.BotID, IsBot: true, FirstName: "IDIC Test", Username: s.BotUsername},
		Chat:      chatRef{ID: cid, Type: chatType},
		Date:      time.Now().Unix(),
		Text:      text,
	}, nil
}

// sentMessage is sendMessage's result, a Message as the Bot API shows it.
type sentMessage struct {
	MessageID int     `json:"message_id"`
	From      botUser `json:"from"`
	Chat      chatRef `json:"chat"`
	Date      int64   `json:"date"`
	Text      string  `json:"text"`
}

type botUser struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username"`
}

type chatRef struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// checkMarkup validates reply_markup the way the real server refuses it.
// It reads with the v2 JSON package (names matched exactly; invalid UTF-8
// and duplicate names refused), at well under half the cost of
// encoding/json's maps: every bench reply crosses it.
func checkMarkup(m string) *apiError {
	var markup struct {
		InlineKeyboard [][]map[string]jsontext.Value `json:"inline_keyboard"`
		Keyboard       [][]map[string]jsontext.Value `json:"keyboard"`
	}
	if err := jsonv2.Unmarshal([]byte(m), &markup); err != nil {
		return errorf(http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object")
	}
	str := func(v jsontext.Value) string {
		var s string
		_ = jsonv2.Unmarshal(v, &s)
		return s
	}
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			if str(b["text"]) == "" {
				return errorf(http.StatusBadRequest, "Bad Request: BUTTON_TEXT_INVALID")
			}
			if ct, ok := b["copy_text"]; ok {
				var c struct {
					Text string `json:"text"`
				}
				_ = jsonv2.Unmarshal(ct, &c)
				if c.Text == "" {
					return errorf(http.StatusBadRequest, "Bad Request: BUTTON_COPY_TEXT_INVALID")
				}
			}
			actions := 0
			for k := range b {
				if k != "text" && k != "icon_custom_emoji_id" && k != "style" {
					actions++
				}
			}
			if actions != 1 {
				return errorf(http.StatusBadRequest, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
			if d, ok := b["callback_data"]; ok {
				if data := str(d); len(data) == 0 || len(data) > maxCallbackData {
					return errorf(http.StatusBadRequest, "Bad Request: BUTTON_DATA_INVALID")
				}
			}
		}
	}
	for _, row := range markup.Keyboard {
		for _, b := range row {
			if str(b["text"]) == "" {
				return errorf(http.StatusBadRequest, "Bad Request: can't parse keyboard button: Text must be non-empty")
			}
		}
	}
	return nil
}

func (s *Server) answerCallbackQuery(p map[string]string) (any, *apiError) {
	id := p["callback_query_id"]
	if id == "" {
		return nil, errorf(http.StatusBadRequest, "Bad Request: QUERY_ID_INVALID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answered = append(s.answered, id)
	return true, nil
}
