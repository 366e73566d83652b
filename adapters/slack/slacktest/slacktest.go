// Package slacktest is a fake Slack for tests: an httptest server speaking
// the Web API methods idicbot calls (form-encoded requests, JSON answers
// shaped as Slack sends them), a response_url endpoint, and a Socket Mode
// WebSocket endpoint that sends envelopes and collects their acks. Every
// call is recorded.
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults of a new Server.
const (
	TeamID    = "T0IDIC001"
	BotUserID = "U0BOT0001"
	BotID     = "B0BOT0001"
	BotToken  = "xoxb-test-bot-token"
	AppToken  = "xapp-1-test-app-token"
)

// Call is one recorded request.
type Call struct {
	Method string     // Web API method ("chat.postMessage"), or "response_url"
	Form   url.Values // form fields (Web API)
	Body   []byte     // raw body
	Token  string     // token used (form field or bearer)
	TS     string     // ts given to a posted message
}

// Ack is a Socket Mode acknowledgement the client sent back.
type Ack struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// Server is the fake Slack.
type Server struct {
	*httptest.Server
	tb testing.TB

	mu     sync.Mutex
	cond   *sync.Cond
	calls  []Call
	acks   []Ack
	seq    int
	groups map[string][]string
	views  map[string]map[string]any // modals by view id (views.open)
	opened []string                  // view ids in views.open order
	// triggers are the trigger ids views were opened with.
	triggers map[string]string
	conns    []*wsConn
	closed   bool
	// failures are HTTP statuses the next calls of a method get instead of
	// an answer (Slack having a bad moment).
	failures map[string][]int
	// holds block the next call of a method until released.
	holds map[string]chan struct{}
	// files are the uploads by file id (files.getUploadURLExternal).
	files map[string]*File
}

// File is an upload: asked for (files.getUploadURLExternal), its bytes
// posted to the upload URL, and shared (files.completeUploadExternal).
type File struct {
	ID, Name, AltText, Title string
	// Channel is where completeUploadExternal shared it.
	Channel string
	Data    []byte
	Shared  bool
	length  int
}

// Files returns the shared uploads, in id order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.files {
		if f.Shared {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// upload receives a file's bytes as Slack's upload URL does: a multipart
// form with a "file" part (or the raw body) of the announced length.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var data []byte
	if f, _, err := r.FormFile("file"); err == nil {
		data, _ = io.ReadAll(f)
		_ = f.Close()
	} else {
		data, _ = io.ReadAll(r.Body)
	}
	s.mu.Lock()
	file := s.files[id]
	ok := file != nil && len(data) == file.length
	if ok {
		file.Data = data
	}
	s.mu.Unlock()
	s.record(Call{Method: "upload", Body: data})
	if !ok {
		http.Error(w, "bad upload", http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
}

type wsConn struct {
	mu sync.Mutex // gorilla connections allow one writer at a time
	c  *websocket.Conn
}

func (w *wsConn) write(v any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.WriteJSON(v)
}

// New starts a fake Slack, closed at the end of the test.
func New(tb testing.TB) *Server {
	s := &Server{tb: tb, groups: map[string][]string{}, views: map[string]map[string]any{}, triggers: map[string]string{},
		failures: map[string][]int{}, holds: map[string]chan struct{}{}, files: map[string]*File{}}
	s.cond = sync.NewCond(&s.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.api)
	mux.HandleFunc("POST /response/{id}", s.response)
	mux.HandleFunc("POST /upload/{id}", s.upload)
	mux.HandleFunc("GET /socket", s.socket)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and its WebSocket connections.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.cond.Broadcast()
	s.mu.Unlock()
	for _, c := range conns {
		c.c.Close()
	}
	s.Server.Close()
}

// APIURL is the Web API base to give the client (ends with '/').
func (s *Server) APIURL() string { return s.URL + "/api/" }

// ResponseURL returns a response_url for a slash command or interaction.
func (s *Server) ResponseURL(id string) string { return s.URL + "/response/" + id }

// SetGroup sets the members of a user group (usergroups.users.list).
func (s *Server) SetGroup(id string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = users
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.cond.Broadcast()
}

// Calls returns the recorded calls of a method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Fail makes the next len(statuses) calls of a Web API method fail with
// those HTTP statuses (503, 500, 429 with Retry-After: 1) and a plain-text
// body, as Slack's edge does when it is unwell. They are recorded as
// "failed:" + method.
func (s *Server) Fail(method string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], statuses...)
}

// Hold makes the next call of a Web API method wait, before it is
// answered, until release is called (or the server closes). Its arrival is
// recorded as "held:" + method, so a test can wait for it.
func (s *Server) Hold(method string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.holds[method] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// hold waits if a hold is set for method.
func (s *Server) hold(r *http.Request, method string, c Call) {
	s.mu.Lock()
	ch := s.holds[method]
	delete(s.holds, method)
	s.mu.Unlock()
	if ch == nil {
		return
	}
	c.Method = "held:" + method
	s.record(c)
	select {
	case <-ch:
	case <-r.Context().Done():
	}
}

// failure takes the next failure queued for method, or 0.
func (s *Server) failure(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.failures[method]
	if len(q) == 0 {
		return 0
	}
	s.failures[method] = q[1:]
	return q[0]
}

// Reset forgets the recorded calls, acks and opened views.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.acks = nil, nil
	s.opened = nil
}

// Wait waits until at least n calls of method were recorded and returns
// them; the test fails after timeout.
func (s *Server) Wait(method string, n int, timeout time.Duration) []Call {
	s.tb.Helper()
	if !s.waitFor(timeout, func() bool { return s.countLocked(method) >= n }) {
		s.tb.Fatalf("slacktest: waited %s for %d %s calls, got %d", timeout, n, method, len(s.Calls(method)))
	}
	return s.Calls(method)
}

func (s *Server) countLocked(method string) int {
	n := 0
	for _, c := range s.calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

// waitFor waits on the condition variable until ok (checked with s.mu
// held) or the timeout.
func (s *Server) waitFor(timeout time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !ok() {
		if s.closed || !time.Now().Before(deadline) {
			return false
		}
		s.cond.Wait()
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) nextTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("1767225600.%06d", s.seq)
}

// api serves the Web API methods. Like Slack, it answers HTTP 200 with
// {"ok":false,"error":…} for errors.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form = url.Values{}
	}
	token := form.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	call := Call{Method: method, Form: form, Body: body, Token: token}
	s.hold(r, method, call)
	if status := s.failure(method); status != 0 {
		call.Method = "failed:" + method
		s.record(call)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	want := BotToken
	if method == "apps.connections.open" {
		want = AppToken
	}
	if token != want {
		s.record(call)
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "auth.test":
		s.record(call)
		writeJSON(w, map[string]any{"ok": true, "url": "https://idic-test.slack.com/", "team": "IDIC test",
			"user": "idicbot", "team_id": TeamID, "user_id": BotUserID, "bot_id": BotID, "is_enterprise_install": false})
	case "chat.postMessage":
		ch := channelID(form.Get("channel"))
		if ch == "" {
			s.record(call)
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		ts := s.nextTS()
		call.TS = ts
		s.record(call)
		msg := map[string]any{"type": "message", "subtype": "bot_message", "text": form.Get("text"), "user": BotUserID, "bot_id": BotID, "ts": ts}
		if tt := form.Get("thread_ts"); tt != "" {
			msg["thread_ts"] = tt
		}
		writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "message": msg})
	case "chat.update":
		s.record(call)
		if form.Get("ts") == "" || form.Get("channel") == "" {
			writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "channel": form.Get("channel"), "ts": form.Get("ts"), "text": form.Get("text"),
			"message": map[string]any{"type": "message", "text": form.Get("text"), "user": BotUserID, "bot_id": BotID}})
	case "chat.postEphemeral":
		call.TS = s.nextTS()
		s.record(call)
		writeJSON(w, map[string]any{"ok": true, "message_ts": call.TS})
	case "usergroups.users.list":
		s.record(call)
		s.mu.Lock()
		users, ok := s.groups[form.Get("usergroup")]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "users": users})
	case "views.open", "views.update":
		s.record(call)
		writeJSON(w, s.view(method, body))
	case "files.getUploadURLExternal":
		s.record(call)
		n, err := strconv.Atoi(form.Get("length"))
		if form.Get("filename") == "" || err != nil || n <= 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
			return
		}
		s.mu.Lock()
		s.seq++
		id := fmt.Sprintf("F0FILE%04d", s.seq)
		s.files[id] = &File{ID: id, Name: form.Get("filename"), AltText: form.Get("alt_txt"), length: n}
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "upload_url": s.URL + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		s.record(call)
		var list []struct{ ID, Title string }
		if err := json.Unmarshal([]byte(form.Get("files")), &list); err != nil || len(list) == 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []map[string]any
		for _, f := range list {
			file := s.files[f.ID]
			if file == nil || file.Data == nil {
				writeJSON(w, map[string]any{"ok": false, "error": "file_not_found"})
				return
			}
			file.Title, file.Channel, file.Shared = f.Title, form.Get("channel_id"), true
			out = append(out, map[string]any{"id": f.ID, "title": f.Title})
		}
		writeJSON(w, map[string]any{"ok": true, "files": out})
	case "apps.connections.open":
		s.record(call)
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.URL, "http") + "/socket?ticket=test"})
	default:
		s.record(call)
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// View is a modal as views.open / views.update answer it (and as Slack
// puts it in a view_submission payload). Blocks and the texts are the JSON
// the client sent.
type View struct {
	ID              string          `json:"id"`
	TeamID          string          `json:"team_id"`
	Type            string          `json:"type"`
	Title           json.RawMessage `json:"title,omitempty"`
	Submit          json.RawMessage `json:"submit,omitempty"`
	Close           json.RawMessage `json:"close,omitempty"`
	Blocks          json.RawMessage `json:"blocks"`
	PrivateMetadata string          `json:"private_metadata"`
	CallbackID      string          `json:"callback_id"`
	ExternalID      string          `json:"external_id"`
	Hash            string          `json:"hash"`
	// TriggerID is the trigger the view was opened with.
	TriggerID string `json:"-"`
}

// OpenedViews returns the views opened with views.open, oldest first, as
// they are now (with the id, hash and state the fake gave them).
func (s *Server) OpenedViews() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, id := range s.opened {
		data, err := json.Marshal(s.views[id])
		if err != nil {
			continue
		}
		var v View
		if err := json.Unmarshal(data, &v); err != nil {
			continue
		}
		v.TriggerID = s.triggers[id]
		out = append(out, v)
	}
	return out
}

// view answers views.open (JSON body {trigger_id, view}) and views.update
// (JSON body {view, view_id | external_id, hash}) with Slack's shapes: the
// whole view with its id, hash, empty state and ids. A missing trigger id
// or view is invalid_arguments; the trigger "expired" is
// expired_trigger_id; an unknown view_id is not_found; a stale hash is
// hash_conflict.
func (s *Server) view(method string, body []byte) map[string]any {
	var req struct {
		TriggerID  string         `json:"trigger_id"`
		View       map[string]any `json:"view"`
		ViewID     string         `json:"view_id"`
		ExternalID string         `json:"external_id"`
		Hash       string         `json:"hash"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.View == nil {
		return map[string]any{"ok": false, "error": "invalid_arguments"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var id string
	switch method {
	case "views.open":
		switch req.TriggerID {
		case "":
			return map[string]any{"ok": false, "error": "invalid_arguments"}
		case "expired":
			return map[string]any{"ok": false, "error": "expired_trigger_id"}
		}
		s.seq++
		id = fmt.Sprintf("V0VIEW%04d", s.seq)
	default:
		id = req.ViewID
		if id == "" {
			for vid, v := range s.views {
				if req.ExternalID != "" && v["external_id"] == req.ExternalID {
					id = vid
				}
			}
		}
		old, ok := s.views[id]
		if !ok {
			return map[string]any{"ok": false, "error": "not_found"}
		}
		if req.Hash != "" && old["hash"] != req.Hash {
			return map[string]any{"ok": false, "error": "hash_conflict"}
		}
	}
	s.seq++
	v := map[string]any{}
	for k, val := range req.View {
		v[k] = val
	}
	for _, k := range []string{"private_metadata", "callback_id", "external_id"} {
		if _, ok := v[k]; !ok {
			v[k] = ""
		}
	}
	v["id"], v["team_id"], v["app_id"], v["bot_id"] = id, TeamID, "A0IDIC001", BotID
	v["state"] = map[string]any{"values": map[string]any{}}
	v["hash"] = fmt.Sprintf("1767225600.%08x", s.seq)
	v["root_view_id"], v["previous_view_id"] = id, nil
	v["clear_on_close"], v["notify_on_close"] = v["clear_on_close"] == true, v["notify_on_close"] == true
	v["app_installed_team_id"] = TeamID
	s.views[id] = v
	if method == "views.open" {
		s.opened = append(s.opened, id)
		s.triggers[id] = req.TriggerID
	}
	return map[string]any{"ok": true, "view": v}
}

// channelID returns the id Slack would answer with: ids as given, names
// ("#handoffs") as a fixed id.
func channelID(ch string) string {
	ch = strings.TrimPrefix(ch, "#")
	if ch == "" {
		return ""
	}
	if strings.ToUpper(ch) == ch && (ch[0] == 'C' || ch[0] == 'G' || ch[0] == 'D') {
		return ch
	}
	return "C0NAMED01"
}

// response records a post to a response_url; Slack answers "ok".
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.record(Call{Method: "response_url", Body: body, Form: url.Values{"id": {r.PathValue("id")}}})
	_, _ = io.WriteString(w, "ok")
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socket is the Socket Mode endpoint: hello, then envelopes from Send*, and
// acks read back.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := &wsConn{c: c}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conns = append(s.conns, conn)
	s.cond.Broadcast()
	s.mu.Unlock()
	_ = conn.write(map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "applink-test", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A0IDIC001"}})
	conn.mu.Lock()
	_ = c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
	conn.mu.Unlock()
	for {
		var ack Ack
		if err := c.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		s.acks = append(s.acks, ack)
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// WaitConnected waits for a Socket Mode client to connect.
func (s *Server) WaitConnected(timeout time.Duration) {
	s.tb.Helper()
	if !s.waitFor(timeout, func() bool { return len(s.conns) > 0 }) {
		s.tb.Fatalf("slacktest: no Socket Mode connection within %s", timeout)
	}
}

// Send sends a Socket Mode envelope of type typ ("slash_commands",
// "interactive", "events_api") on the latest connection and returns its
// envelope id.
func (s *Server) Send(typ string, payload any) string {
	s.tb.Helper()
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("env-%d", s.seq)
	s.mu.Unlock()
	s.SendEnvelope(id, typ, payload)
	return id
}

// SendEnvelope sends a Socket Mode envelope with a given id: the same id
// again is Slack delivering that envelope again.
func (s *Server) SendEnvelope(id, typ string, payload any) {
	s.tb.Helper()
	s.mu.Lock()
	var conn *wsConn
	if len(s.conns) > 0 {
		conn = s.conns[len(s.conns)-1]
	}
	s.mu.Unlock()
	if conn == nil {
		s.tb.Fatal("slacktest: no Socket Mode connection")
	}
	env := map[string]any{"envelope_id": id, "type": typ, "payload": payload,
		"accepts_response_payload": typ != "events_api", "retry_attempt": 0, "retry_reason": ""}
	if err := conn.write(env); err != nil {
		s.tb.Fatalf("slacktest: send envelope: %v", err)
	}
}

// WaitAck waits for the ack of an envelope.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) Ack {
	s.tb.Helper()
	var got Ack
	ok := s.waitFor(timeout, func() bool {
		for _, a := range s.acks {
			if a.EnvelopeID == envelopeID {
				got = a
				return true
			}
		}
		return false
	})
	if !ok {
		s.tb.Fatalf("slacktest: no ack for envelope %s within %s", envelopeID, timeout)
	}
	return got
}

// Acked reports whether an envelope was acknowledged.
func (s *Server) Acked(envelopeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.acks {
		if a.EnvelopeID == envelopeID {
			return true
		}
	}
	return false
}

// WaitAcks waits for n acks of an envelope (one per delivery of it) and
// returns them in order.
func (s *Server) WaitAcks(envelopeID string, n int, timeout time.Duration) []Ack {
	s.tb.Helper()
	var got []Ack
	ok := s.waitFor(timeout, func() bool {
		got = got[:0]
		for _, a := range s.acks {
			if a.EnvelopeID == envelopeID {
				got = append(got, a)
			}
		}
		return len(got) >= n
	})
	if !ok {
		s.tb.Fatalf("slacktest: %d acks of envelope %s within %s, want %d", len(got), envelopeID, timeout, n)
	}
	return got
}
