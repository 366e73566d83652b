package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
	status int
}

func call(t *testing.T, s *Server, method, contentType string, body io.Reader) answer {
	t.Helper()
	resp, err := http.Post(s.URL()+"/bot"+s.Token+"/"+method, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	a.status = resp.StatusCode
	return a
}

func callJSON(t *testing.T, s *Server, method string, params map[string]any) answer {
	t.Helper()
	b, _ := json.Marshal(params)
	return call(t, s, method, "application/json", bytes.NewReader(b))
}

func updateIDs(t *testing.T, a answer) []int64 {
	t.Helper()
	if !a.OK {
		t.Fatalf("answer %+v", a)
	}
	var us []struct {
		UpdateID int64 `json:"update_id"`
	}
	if err := json.Unmarshal(a.Result, &us); err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, u := range us {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

func TestGetUpdatesOffsetSemantics(t *testing.T) {
	s := New(t)
	u := User{ID: 1, FirstName: "A"}
	r1, r2, r3 := s.UserText(u, "1"), s.UserText(u, "2"), s.UserText(u, "3")

	if got := updateIDs(t, callJSON(t, s, "getUpdates", map[string]any{})); len(got) != 3 || got[0] != r1.UpdateID {
		t.Fatalf("without offset: %v", got)
	}
	// Without a new offset nothing is confirmed: the same updates again.
	if got := updateIDs(t, callJSON(t, s, "getUpdates", map[string]any{"limit": 2})); len(got) != 2 || got[1] != r2.UpdateID {
		t.Fatalf("limit 2: %v", got)
	}
	// offset = last seen + 1 confirms everything before it.
	if got := updateIDs(t, callJSON(t, s, "getUpdates", map[string]any{"offset": r2.UpdateID + 1})); len(got) != 1 || got[0] != r3.UpdateID {
		t.Fatalf("offset: %v", got)
	}
	if got := updateIDs(t, callJSON(t, s, "getUpdates", map[string]any{"offset": 0})); len(got) != 1 {
		t.Fatalf("confirmed updates came back: %v", got)
	}
	if s.Confirmed() != r2.UpdateID+1 || s.Pending() != 1 {
		t.Fatalf("confirmed %d pending %d", s.Confirmed(), s.Pending())
	}
}

func TestGetUpdatesLongPollWakesOnNewUpdate(t *testing.T) {
	s := New(t)
	done := make(chan []int64)
	go func() {
		b, _ := json.Marshal(map[string]any{"timeout": 30})
		resp, err := http.Post(s.URL()+"/bot"+s.Token+"/getUpdates", "application/json", bytes.NewReader(b))
		if err != nil {
			done <- nil
			return
		}
		defer resp.Body.Close()
		var a struct {
			Result []struct {
				UpdateID int64 `json:"update_id"`
			} `json:"result"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&a)
		var ids []int64
		for _, u := range a.Result {
			ids = append(ids, u.UpdateID)
		}
		done <- ids
	}()
	// Wait until the poll is waiting, then push.
	for len(s.Calls("getUpdates")) == 0 {
		time.Sleep(time.Millisecond)
	}
	ref := s.UserText(User{ID: 1, FirstName: "A"}, "hi")
	if got := <-done; len(got) != 1 || got[0] != ref.UpdateID {
		t.Fatalf("long poll returned %v", got)
	}
}

func TestRequestEncodings(t *testing.T) {
	s := New(t)
	form := url.Values{"chat_id": {"42"}, "text": {"urlencoded"}}
	if a := call(t, s, "sendMessage", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); !a.OK {
		t.Fatalf("urlencoded: %+v", a)
	}
	if a := callJSON(t, s, "sendMessage", map[string]any{"chat_id": 42, "text": "json",
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "A", "callback_data": "a"}}}}}); !a.OK {
		t.Fatalf("json: %+v", a)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("chat_id", "42")
	_ = mw.WriteField("text", "multipart")
	_ = mw.WriteField("reply_markup", `{"inline_keyboard":[[{"text":"A","callback_data":"a","copy_text":{"text":""}}]]}`)
	mw.Close()
	if a := call(t, s, "sendMessage", mw.FormDataContentType(), &buf); a.OK || a.status != 400 || !strings.Contains(a.Description, "BUTTON_COPY_TEXT_INVALID") {
		t.Fatalf("button with empty copy_text: %+v", a)
	}
	sent := s.Sent()
	if len(sent) != 2 || sent[0].Text != "urlencoded" || sent[1].Text != "json" || sent[1].ChatID != "42" {
		t.Fatalf("sent %+v", sent)
	}
}

func TestInjectedFaults(t *testing.T) {
	s := New(t)
	s.Fail("sendMessage", Fault{Code: 429, RetryAfter: 3})
	a := callJSON(t, s, "sendMessage", map[string]any{"chat_id": 42, "text": "x"})
	if a.OK || a.status != 429 || a.ErrorCode != 429 || a.Description != "Too Many Requests: retry after 3" ||
		a.Parameters == nil || a.Parameters.RetryAfter != 3 {
		t.Fatalf("429 answer %+v", a)
	}
	if a := callJSON(t, s, "sendMessage", map[string]any{"chat_id": 42, "text": "x"}); !a.OK {
		t.Fatalf("fault not one-shot: %+v", a)
	}
	if a := call(t, s, "getMe", "", nil); !a.OK {
		t.Fatalf("getMe: %+v", a)
	}
	resp, err := http.Post(s.URL()+"/botWRONG/getMe", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
}

func TestGetUpdatesConflictsWithWebhook(t *testing.T) {
	s := New(t)
	if a := callJSON(t, s, "setWebhook", map[string]any{"url": "https://shop.example/hook", "secret_token": "abc"}); !a.OK {
		t.Fatalf("setWebhook %+v", a)
	}
	if a := callJSON(t, s, "getUpdates", map[string]any{}); a.status != 409 {
		t.Fatalf("getUpdates with a webhook: %+v", a)
	}
	if a := callJSON(t, s, "deleteWebhook", map[string]any{}); !a.OK {
		t.Fatalf("deleteWebhook %+v", a)
	}
	if a := callJSON(t, s, "getUpdates", map[string]any{}); !a.OK {
		t.Fatalf("getUpdates after deleteWebhook: %+v", a)
	}
}

// Push takes an update as any JSON value: without an update_id it gets the
// next one, with one it keeps it; allowed_updates filters on the update's
// kind; getUpdates hands each out as it was pushed.
func TestPushAssignsIDsAndKeepsTheUpdate(t *testing.T) {
	s := New(t)
	a := s.Push(`{"message": {"message_id": 7, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "a"}}`)
	b := s.Push(map[string]any{"update_id": a + 10, "message_reaction": map[string]any{"chat": map[string]any{"id": 1, "type": "private"}}})
	c := s.Push(json.RawMessage(`{"callback_query": {"id": "q1", "from": {"id": 1, "is_bot": false, "first_name": "A"}, "chat_instance": "1"}}`))
	if b != a+10 || c != b+1 {
		t.Fatalf("ids %d %d %d", a, b, c)
	}
	got := callJSON(t, s, "getUpdates", map[string]any{})
	if ids := updateIDs(t, got); len(ids) != 2 || ids[0] != a || ids[1] != c {
		t.Fatalf("default allowed updates: %v, want [%d %d] (no message_reaction)", ids, a, c)
	}
	var us []map[string]json.RawMessage
	if err := json.Unmarshal(got.Result, &us); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(us[0]["message"]), `"text": "a"`) || us[1]["callback_query"] == nil {
		t.Fatalf("updates %s", got.Result)
	}
	got = callJSON(t, s, "getUpdates", map[string]any{"allowed_updates": []string{"message_reaction"}})
	if ids := updateIDs(t, got); len(ids) != 1 || ids[0] != b {
		t.Fatalf("allowed message_reaction: %v, want [%d]", ids, b)
	}
}

// ServeWebhook posts updates like Telegram: up to max_connections at once,
// one chat's in order and one at a time, a refused update again (and
// nothing of its chat before it), each one answered 200 forgotten.
func TestServeWebhook(t *testing.T) {
	s := New(t)
	var mu sync.Mutex
	var got []string // "chat:text" in arrival order
	inflight, most := 0, 0
	refused := false
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "tok" {
			t.Errorf("secret %q", r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		}
		var u struct {
			Message struct {
				Chat struct{ ID int64 } `json:"chat"`
				Text string             `json:"text"`
			} `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			t.Error(err)
		}
		mu.Lock()
		inflight++
		most = max(most, inflight)
		first := u.Message.Text == "a1" && !refused
		if first {
			refused = true
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inflight--
		if !first {
			got = append(got, u.Message.Text)
		}
		mu.Unlock()
		if first {
			http.Error(w, "not now", http.StatusInternalServerError)
		}
	}))
	defer bot.Close()
	if a := callJSON(t, s, "setWebhook", map[string]any{"url": "https://shop.example.com/hook", "secret_token": "tok", "max_connections": 2}); !a.OK {
		t.Fatalf("setWebhook: %+v", a)
	}
	if a := callJSON(t, s, "setWebhook", map[string]any{"url": "https://shop.example.com/hook", "max_connections": 101}); a.OK {
		t.Fatal("max_connections 101 accepted")
	}
	callJSON(t, s, "setWebhook", map[string]any{"url": "https://shop.example.com/hook", "secret_token": "tok", "max_connections": 2})
	a, b, c := User{ID: 1, FirstName: "A"}, User{ID: 2, FirstName: "B"}, User{ID: 3, FirstName: "C"}
	for _, m := range []struct {
		u    User
		text string
	}{{a, "a1"}, {b, "b1"}, {a, "a2"}, {c, "c1"}, {b, "b2"}, {a, "a3"}} {
		s.UserText(m.u, m.text)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeWebhook(ctx, bot.URL, 20*time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s.Pending() != 0 || len(got) != 6 {
		t.Fatalf("delivered %v, %d pending", got, s.Pending())
	}
	if most > 2 {
		t.Errorf("%d requests at once, max_connections is 2", most)
	}
	order := func(chat string) []string {
		var out []string
		for _, g := range got {
			if strings.HasPrefix(g, chat) {
				out = append(out, g)
			}
		}
		return out
	}
	if !slices.Equal(order("a"), []string{"a1", "a2", "a3"}) || !slices.Equal(order("b"), []string{"b1", "b2"}) {
		t.Errorf("per-chat order broken: %v", got)
	}
	if got[0] == "a1" {
		t.Errorf("a1 was refused first, yet delivered before the others: %v", got)
	}
}
