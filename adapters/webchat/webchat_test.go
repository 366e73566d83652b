package webchat_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// fakeCore keeps conversations in memory and answers every new inbound
// event with a reply carrying the welcome offer's buttons, the way the
// real core logs a reply in the same commit as the message.
type fakeCore struct {
	mu       sync.Mutex
	next     crm.ID
	seen     map[string]crm.ID             // message id → interaction
	calls    []bot.Inbound                 // every Handle call
	convs    map[string][]*crm.Interaction // by session
	reads    int                           // Conversation calls
	readHook func()                        // called after each Conversation
	err      error                         // returned by Handle when set
	noReply  bool                          // do not answer inbound events
	gate     chan struct{}                 // when set, Handle waits for it to close
}

func newFakeCore() *fakeCore {
	return &fakeCore{seen: map[string]crm.ID{}, convs: map[string][]*crm.Interaction{}}
}

var offerButtons = []crm.Button{
	{Label: "Nhận ưu đãi", Payload: "offer:welcome:accept"},
	{Label: "Để sau", Payload: "offer:welcome:decline"},
}

func (c *fakeCore) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	c.mu.Lock()
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		// The bot is thinking (the assistant's call) until the test says.
		select {
		case <-gate:
		case <-ctx.Done():
			return bot.Result{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, in)
	if c.err != nil {
		return bot.Result{}, c.err
	}
	if id, ok := c.seen[in.MessageID]; ok {
		return bot.Result{Duplicate: true, InteractionID: id}, nil
	}
	c.next++
	it := &crm.Interaction{ID: c.next, Time: in.Time, Direction: crm.Inbound, Channel: in.Channel,
		ChatID: in.ChatID, MessageID: in.MessageID, Kind: in.Kind, Text: in.Text, Payload: in.Payload}
	c.seen[in.MessageID] = it.ID
	c.convs[in.UserID] = append(c.convs[in.UserID], it)
	if !c.noReply {
		c.appendLocked(in.UserID, "Cảm ơn bạn! Bạn đã nói: "+in.Text, offerButtons)
	}
	return bot.Result{InteractionID: it.ID}, nil
}

// reply logs an outbound message, as a dispatcher would before Send.
func (c *fakeCore) reply(session, text string) crm.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.appendLocked(session, text, nil)
}

func (c *fakeCore) appendLocked(session, text string, buttons []crm.Button) crm.ID {
	c.next++
	c.convs[session] = append(c.convs[session], &crm.Interaction{ID: c.next, Time: time.Now(),
		Direction: crm.Outbound, Channel: crm.ChannelWeb, ChatID: session, Kind: crm.KindText,
		Text: text, Buttons: buttons})
	return c.next
}

func (c *fakeCore) Conversation(ctx context.Context, ch crm.Channel, userID string, after crm.ID, limit int) ([]*crm.Interaction, error) {
	c.mu.Lock()
	var out []*crm.Interaction
	if ch == crm.ChannelWeb {
		for _, it := range c.convs[userID] {
			if it.ID > after && (limit <= 0 || len(out) < limit) {
				cp := *it
				out = append(out, &cp)
			}
		}
	}
	c.reads++
	hook := c.readHook
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return out, nil
}

func (c *fakeCore) inbound() []bot.Inbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bot.Inbound(nil), c.calls...)
}

func (c *fakeCore) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// mustServe starts a web chat server over core with short timings.
func mustServe(tb testing.TB, core webchat.Core, opts webchat.Options) (*webchat.Server, *httptest.Server) {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := webchat.New(core, opts)
	mux := http.NewServeMux()
	srv.Routes(mux)
	ts := httptest.NewServer(mux)
	tb.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return srv, ts
}

type postResult struct {
	Status    int
	Accepted  bool
	Duplicate bool
	ErrCode   string
	ErrMsg    string
}

func post(tb testing.TB, ts *httptest.Server, body string, header ...string) postResult {
	tb.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/webchat/messages", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Accepted  bool `json:"accepted"`
		Duplicate bool `json:"duplicate"`
		Error     struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		tb.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	return postResult{resp.StatusCode, v.Accepted, v.Duplicate, v.Error.Code, v.Error.Message}
}

type messages struct {
	Messages []webchat.Message `json:"messages"`
	Last     crm.ID            `json:"last"`
	More     bool              `json:"more"`
}

func get(tb testing.TB, ctx context.Context, ts *httptest.Server, query string) (int, messages) {
	tb.Helper()
	status, v, err := fetch(ctx, ts, query)
	if err != nil {
		tb.Fatal(err)
	}
	return status, v
}

// fetch is get for goroutines other than the test's, which must not call Fatal.
func fetch(ctx context.Context, ts *httptest.Server, query string) (int, messages, error) {
	var v messages
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?"+query, nil)
	if err != nil {
		return 0, v, err
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		return 0, v, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return resp.StatusCode, v, fmt.Errorf("decode: %w", err)
	}
	return resp.StatusCode, v, nil
}

func TestPage(t *testing.T) {
	_, ts := mustServe(t, newFakeCore(), webchat.Options{})
	resp, err := ts.Client().Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type = %q", ct)
	}
	for _, want := range []string{`name="viewport"`, "Xin chào", "Hello", `lang="vi"`, "/webchat/messages", "EventSource", "localStorage"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-") {
		t.Errorf("CSP = %q, want a pinned script hash", csp)
	}

	resp, err = ts.Client().Get(ts.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, 404; got != want {
		t.Fatalf("GET /nope status = %d, want %d", got, want)
	}
}

func TestPostText(t *testing.T) {
	core := newFakeCore()
	now := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	_, ts := mustServe(t, core, webchat.Options{Now: func() time.Time { return now }})

	got := post(t, ts, `{"session":"s-1","id":"m_1","text":"  khuyến mãi  ","extra":1}`, "Accept-Language", "en-US,en;q=0.9,vi;q=0.8")
	if got.Status != 200 || !got.Accepted || got.Duplicate {
		t.Fatalf("post = %+v, want accepted", got)
	}
	calls := core.inbound()
	if len(calls) != 1 {
		t.Fatalf("core got %d events, want 1", len(calls))
	}
	want := bot.Inbound{Channel: crm.ChannelWeb, UserID: "s-1", ChatID: "s-1", MessageID: "s-1:m_1",
		Time: now, Kind: crm.KindText, Text: "khuyến mãi", Locale: "en-US"}
	if fmt.Sprintf("%+v", calls[0]) != fmt.Sprintf("%+v", want) {
		t.Fatalf("inbound = %+v\nwant      %+v", calls[0], want)
	}
}

func TestPostButton(t *testing.T) {
	for _, tt := range []struct {
		name, body, text string
	}{
		{"with label", `{"session":"s","id":"b1","payload":"offer:welcome:accept","text":"Nhận ưu đãi"}`, "Nhận ưu đãi"},
		{"payload only", `{"session":"s","id":"b1","payload":"offer:welcome:accept"}`, "offer:welcome:accept"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			core := newFakeCore()
			_, ts := mustServe(t, core, webchat.Options{})
			if got := post(t, ts, tt.body, "Accept-Language", "vi"); got.Status != 200 {
				t.Fatalf("post = %+v", got)
			}
			in := core.inbound()[0]
			if in.Kind != crm.KindButton || in.Payload != "offer:welcome:accept" || in.Text != tt.text || in.Locale != "vi" {
				t.Fatalf("inbound = %+v", in)
			}
		})
	}
}

func TestPostDuplicate(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{})
	body := `{"session":"abc","id":"42","text":"xin chào"}`
	if got := post(t, ts, body); got.Status != 200 || got.Duplicate {
		t.Fatalf("first post = %+v", got)
	}
	if got := post(t, ts, body); got.Status != 200 || !got.Accepted || !got.Duplicate {
		t.Fatalf("retried post = %+v, want accepted duplicate", got)
	}
	calls := core.inbound()
	if len(calls) != 2 || calls[0].MessageID != "abc:42" || calls[1].MessageID != calls[0].MessageID {
		t.Fatalf("calls = %+v, want two with message id abc:42", calls)
	}
	// The same client id in another session is another message.
	if got := post(t, ts, `{"session":"other","id":"42","text":"xin chào"}`); got.Duplicate {
		t.Fatalf("other session post = %+v, want not duplicate", got)
	}
	_, conv := get(t, context.Background(), ts, "session=abc")
	if got, want := len(conv.Messages), 2; got != want {
		t.Fatalf("conversation has %d messages, want %d (one in, one reply)", got, want)
	}
}

func TestPostBadInput(t *testing.T) {
	long := strings.Repeat("ă", webchat.MaxTextLength+1)
	for _, tt := range []struct {
		name, body, msg string
	}{
		{"malformed json", `{"session":"s","id":"1","text":"hi"`, "malformed JSON body"},
		{"not an object", `["s","1","hi"]`, "malformed JSON body"},
		{"trailing data", `{"session":"s","id":"1","text":"hi"} {}`, "malformed JSON body"},
		{"empty body", ``, "malformed JSON body"},
		{"wrong type", `{"session":"s","id":1,"text":"hi"}`, "malformed JSON body"},
		{"invalid utf-8", "{\"session\":\"s\",\"id\":\"1\",\"text\":\"h\xffi\"}", "body is not valid UTF-8"},
		{"too big", `{"session":"s","id":"1","text":"` + strings.Repeat("a", 65<<10) + `"}`, "body is over 64 KiB"},
		{"empty text", `{"session":"s","id":"1","text":"   "}`, "text is empty"},
		{"no text", `{"session":"s","id":"1"}`, "text is empty"},
		{"text too long", `{"session":"s","id":"1","text":"` + long + `"}`, "text is over 4000 characters"},
		{"payload too long", `{"session":"s","id":"1","payload":"` + strings.Repeat("p", 257) + `"}`, "payload is over 256 bytes"},
		{"missing session", `{"id":"1","text":"hi"}`, "session is required"},
		{"missing id", `{"session":"s","text":"hi"}`, "id is required"},
		{"session odd chars", `{"session":"a b","id":"1","text":"hi"}`, "session must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"},
		{"session unicode", `{"session":"phiên","id":"1","text":"hi"}`, "session must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"},
		{"session too long", `{"session":"` + strings.Repeat("s", 65) + `","id":"1","text":"hi"}`, "session must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"},
		{"id odd chars", `{"session":"s","id":"1:2","text":"hi"}`, "id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"},
		{"id too long", `{"session":"s","id":"` + strings.Repeat("i", 65) + `","text":"hi"}`, "id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			core := newFakeCore()
			_, ts := mustServe(t, core, webchat.Options{})
			got := post(t, ts, tt.body)
			if got.Status != 400 || got.ErrCode != "invalid" || got.ErrMsg != tt.msg {
				t.Fatalf("post = %+v, want 400 invalid %q", got, tt.msg)
			}
			if n := len(core.inbound()); n != 0 {
				t.Fatalf("core got %d events, want none", n)
			}
		})
	}

	t.Run("limits are inclusive", func(t *testing.T) {
		core := newFakeCore()
		_, ts := mustServe(t, core, webchat.Options{})
		body := `{"session":"` + strings.Repeat("s", 64) + `","id":"` + strings.Repeat("i", 64) +
			`","text":"` + strings.Repeat("ă", webchat.MaxTextLength) + `"}`
		if got := post(t, ts, body); got.Status != 200 {
			t.Fatalf("post = %+v, want 200", got)
		}
	})
}

func TestPostCoreErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"invalid", crm.Errorf(crm.EINVALID, "Tin nhắn không hợp lệ."), 400, "invalid", "Tin nhắn không hợp lệ."},
		{"not found", fmt.Errorf("wrapped: %w", crm.Errorf(crm.ENOTFOUND, "No such offer.")), 404, "not_found", "No such offer."},
		{"unavailable", crm.Errorf(crm.EUNAVAILABLE, "Try again soon."), 503, "unavailable", "Try again soon."},
		{"conflict", crm.Errorf(crm.ECONFLICT, "secret conflict detail"), 500, "internal", "Internal error."},
		{"internal", errors.New("bolt: disk on fire at /var/lib/x"), 500, "internal", "Internal error."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			core := newFakeCore()
			core.setErr(tt.err)
			var logs bytes.Buffer
			_, ts := mustServe(t, core, webchat.Options{Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))})
			got := post(t, ts, `{"session":"s","id":"1","text":"hi"}`)
			if got.Status != tt.status || got.ErrCode != tt.code || got.ErrMsg != tt.msg {
				t.Fatalf("post = %+v, want %d %s %q", got, tt.status, tt.code, tt.msg)
			}
			if tt.status == 500 && !strings.Contains(logs.String(), "level=ERROR") {
				t.Fatalf("internal error not logged: %q", logs.String())
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestGetMessages(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{})
	ctx := context.Background()

	if status, conv := get(t, ctx, ts, "session=nobody"); status != 200 || len(conv.Messages) != 0 || conv.Last != 0 {
		t.Fatalf("unknown session: %d %+v, want 200 and no messages", status, conv)
	}
	post(t, ts, `{"session":"s1","id":"a","text":"một"}`)
	post(t, ts, `{"session":"s1","id":"b","text":"hai"}`)

	status, conv := get(t, ctx, ts, "session=s1")
	if status != 200 {
		t.Fatalf("status = %d", status)
	}
	var got []string
	for _, m := range conv.Messages {
		got = append(got, m.Dir+":"+m.Text+":"+m.ClientID)
	}
	want := []string{"in:một:a", "out:Cảm ơn bạn! Bạn đã nói: một:", "in:hai:b", "out:Cảm ơn bạn! Bạn đã nói: hai:"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("conversation = %q\nwant %q", got, want)
	}
	if b := conv.Messages[1].Buttons; len(b) != 2 || b[0] != offerButtons[0] {
		t.Fatalf("reply buttons = %+v", b)
	}
	if conv.Last != conv.Messages[3].ID {
		t.Fatalf("last = %d, want %d", conv.Last, conv.Messages[3].ID)
	}

	_, conv2 := get(t, ctx, ts, "session=s1&after="+strconv.FormatUint(uint64(conv.Messages[1].ID), 10))
	if len(conv2.Messages) != 2 || conv2.Messages[0].Text != "hai" {
		t.Fatalf("after second message: %+v", conv2.Messages)
	}

	for _, q := range []string{"", "session=a%20b", "session=s1&after=x", "session=s1&after=-1", "session=s1&wait=soon"} {
		if status, _ := get(t, ctx, ts, q); status != 400 {
			t.Errorf("GET ?%s status = %d, want 400", q, status)
		}
	}
}

func TestPaging(t *testing.T) {
	core := newFakeCore()
	core.noReply = true
	_, ts := mustServe(t, core, webchat.Options{PageSize: 2})
	for i := range 3 {
		post(t, ts, fmt.Sprintf(`{"session":"s","id":"%d","text":"m%d"}`, i, i))
	}
	_, page := get(t, context.Background(), ts, "session=s")
	if len(page.Messages) != 2 || !page.More {
		t.Fatalf("first page = %+v, want 2 messages and more", page)
	}
	_, page = get(t, context.Background(), ts, fmt.Sprintf("session=s&after=%d", page.Last))
	if len(page.Messages) != 1 || page.Messages[0].Text != "m2" || page.More {
		t.Fatalf("second page = %+v", page)
	}
}

// waitReads returns a channel that receives once the core has been read n
// times in all.
func waitReads(core *fakeCore, n int) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	core.mu.Lock()
	core.readHook = func() {
		core.mu.Lock()
		reads := core.reads
		core.mu.Unlock()
		if reads >= n {
			once.Do(func() { close(ch) })
		}
	}
	core.mu.Unlock()
	return ch
}

func TestLongPollWakesOnSend(t *testing.T) {
	core := newFakeCore()
	srv, ts := mustServe(t, core, webchat.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	read := waitReads(core, 1)
	type result struct {
		status int
		conv   messages
		err    error
	}
	done := make(chan result, 1)
	go func() {
		// Much longer than the test's own patience: only a wake-up ends it in time.
		status, conv, err := fetch(ctx, ts, "session=s9&wait=25")
		done <- result{status, conv, err}
	}()
	<-read // the poll found nothing and is waiting
	id := core.reply("s9", "Một nhân viên sẽ trả lời bạn ngay.")
	if err := srv.Send(ctx, &crm.OutboxItem{ID: 7, Channel: crm.ChannelWeb, ChatID: "s9", UserID: "s9"}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.status != 200 || len(r.conv.Messages) != 1 || r.conv.Messages[0].ID != id || r.conv.Messages[0].Dir != "out" {
			t.Fatalf("long poll = %d %+v, want the reply", r.status, r.conv)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll was not woken by Send")
	}
}

func TestLongPollWakesOnPost(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	read := waitReads(core, 1)
	done := make(chan messages, 1)
	go func() {
		_, conv, err := fetch(ctx, ts, "session=s2&wait=25")
		if err != nil {
			t.Error(err)
		}
		done <- conv
	}()
	<-read
	post(t, ts, `{"session":"s2","id":"1","text":"alo"}`)
	select {
	case conv := <-done:
		if len(conv.Messages) != 2 || conv.Messages[0].Text != "alo" {
			t.Fatalf("long poll = %+v", conv)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll was not woken by the post")
	}
}

func TestLongPollTimesOut(t *testing.T) {
	_, ts := mustServe(t, newFakeCore(), webchat.Options{MaxWait: 50 * time.Millisecond})
	// wait=25 is capped to MaxWait.
	status, conv := get(t, context.Background(), ts, "session=quiet&wait=25")
	if status != 200 || len(conv.Messages) != 0 {
		t.Fatalf("poll = %d %+v, want 200 and nothing", status, conv)
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	core := newFakeCore()
	srv, ts := mustServe(t, core, webchat.Options{})
	read := waitReads(core, 1)
	done := make(chan int, 1)
	go func() {
		status, _, err := fetch(context.Background(), ts, "session=s&wait=25")
		if err != nil {
			t.Error(err)
		}
		done <- status
	}()
	<-read
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case status := <-done:
		if status != 200 {
			t.Fatalf("status = %d", status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the long poll")
	}
}

func TestSendChecksItem(t *testing.T) {
	srv := webchat.New(newFakeCore(), webchat.Options{})
	if err := srv.Send(context.Background(), &crm.OutboxItem{Channel: crm.ChannelTelegram, ChatID: "1"}); !bot.IsPermanent(err) {
		t.Fatalf("send to telegram = %v, want a permanent error", err)
	}
	if err := srv.Send(context.Background(), &crm.OutboxItem{Channel: crm.ChannelWeb}); !bot.IsPermanent(err) {
		t.Fatalf("send without chat = %v, want a permanent error", err)
	}
	if err := srv.Send(context.Background(), &crm.OutboxItem{Channel: crm.ChannelWeb, ChatID: "nobody"}); err != nil {
		t.Fatalf("send = %v", err)
	}
}

// event is one Server-Sent Event.
type event struct {
	ID, Event, Data string
}

// sseClient reads events and comments from one stream.
type sseClient struct {
	resp     *http.Response
	events   chan event
	comments chan string
}

func openStream(tb testing.TB, ctx context.Context, ts *httptest.Server, query, lastEventID string) *sseClient {
	tb.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?"+query, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		tb.Fatalf("stream: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, events: make(chan event, 100), comments: make(chan string, 100)}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(resp.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Data != "" {
					c.events <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, ":"):
				select {
				case c.comments <- strings.TrimSpace(line[1:]):
				default:
				}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[6:]
			}
		}
	}()
	return c
}

func (c *sseClient) next(tb testing.TB) (event, webchat.Message) {
	tb.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			tb.Fatal("stream ended")
		}
		var m webchat.Message
		if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
			tb.Fatalf("event data %q: %v", ev.Data, err)
		}
		if ev.Event != "message" || ev.ID != strconv.FormatUint(uint64(m.ID), 10) {
			tb.Fatalf("event = %+v, want a message event with the interaction id", ev)
		}
		return ev, m
	case <-time.After(10 * time.Second):
		tb.Fatal("no event")
	}
	panic("unreachable")
}

func TestStream(t *testing.T) {
	core := newFakeCore()
	srv, ts := mustServe(t, core, webchat.Options{Heartbeat: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	st := openStream(t, ctx, ts, "session=web1", "")
	post(t, ts, `{"session":"web1","id":"x1","text":"giá bao nhiêu?"}`)
	_, m1 := st.next(t)
	if m1.Dir != "in" || m1.Text != "giá bao nhiêu?" || m1.ClientID != "x1" {
		t.Fatalf("first event = %+v", m1)
	}
	_, m2 := st.next(t)
	if m2.Dir != "out" || m2.Text != "Cảm ơn bạn! Bạn đã nói: giá bao nhiêu?" || len(m2.Buttons) != 2 {
		t.Fatalf("second event = %+v, want the reply with buttons", m2)
	}

	// A reply delivered later through Send reaches the open stream.
	id := core.reply("web1", "Giá 199.000 ₫.")
	if err := srv.Send(ctx, &crm.OutboxItem{Channel: crm.ChannelWeb, ChatID: "web1"}); err != nil {
		t.Fatal(err)
	}
	if _, m3 := st.next(t); m3.ID != id {
		t.Fatalf("third event = %+v, want %d", m3, id)
	}
	select {
	case c := <-st.comments:
		_ = c // "connected" or "ping"
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}

	// Close ends the stream.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for range st.events {
	}
	// After Close, new streams are refused.
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?session=web1", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("stream after close: status %d, want 503", resp.StatusCode)
	}
}

func TestStreamLastEventID(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{})
	for i := range 2 {
		post(t, ts, fmt.Sprintf(`{"session":"r","id":"%d","text":"tin %d"}`, i, i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	all := openStream(t, ctx, ts, "session=r", "")
	var ids []crm.ID
	for range 4 {
		_, m := all.next(t)
		ids = append(ids, m.ID)
	}
	all.resp.Body.Close()

	// A reconnecting EventSource sends the last id it saw; the URL still
	// carries the cursor of the first connection.
	resumed := openStream(t, ctx, ts, "session=r&after=0", strconv.FormatUint(uint64(ids[1]), 10))
	if _, m := resumed.next(t); m.ID != ids[2] || m.Text != "tin 1" {
		t.Fatalf("resumed at %+v, want id %d", m, ids[2])
	}
	if _, m := resumed.next(t); m.ID != ids[3] {
		t.Fatalf("then %+v, want id %d", m, ids[3])
	}

	// An after cursor beyond the header wins.
	later := openStream(t, ctx, ts, "session=r&after="+strconv.FormatUint(uint64(ids[2]), 10), "1")
	if _, m := later.next(t); m.ID != ids[3] {
		t.Fatalf("got %+v, want id %d", m, ids[3])
	}

	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?session=r", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", "garbage")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad Last-Event-ID: status %d, want 400", resp.StatusCode)
	}
}

func TestMaxWaiters(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{MaxWaiters: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	openStream(t, ctx, ts, "session=a", "")
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?session=b", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("second stream: status %d, want 503", resp.StatusCode)
	}
}
