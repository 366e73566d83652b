package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
)

// startServe runs `idicbot serve` on a free port with data in dir and
// returns its base URL. The server stops when the test ends.
func startServe(t *testing.T, dir string, env map[string]string) (*Main, string) {
	t.Helper()
	m := NewMain()
	var logs bytes.Buffer
	m.Stderr = &syncWriter{w: &logs}
	m.Getenv = func(k string) string {
		if k == "IDICBOT_ADDR" {
			return "127.0.0.1:0"
		}
		return env[k]
	}
	if err := m.ParseFlags([]string{"serve", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, m.URL()
}

func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type conversation struct {
	Messages []struct {
		ID      uint64 `json:"id"`
		Dir     string `json:"dir"`
		Text    string `json:"text"`
		Buttons []struct {
			Label, Payload string
		} `json:"buttons"`
	} `json:"messages"`
}

func getConversation(t *testing.T, base, session string) conversation {
	t.Helper()
	resp, err := http.Get(base + "/webchat/messages?session=" + session + "&after=0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c conversation
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServeWebChat is the newcomer's path: `make run`, open the page, chat.
func TestServeWebChat(t *testing.T) {
	_, base := startServe(t, t.TempDir(), nil)

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<html") {
		t.Fatalf("chat page: %d", resp.StatusCode)
	}

	if code, body := postJSON(t, base+"/webchat/messages", `{"session":"abc","id":"m1","text":"xin chào"}`); code != 200 {
		t.Fatalf("post: %d %s", code, body)
	}
	// The same client message id again: one interaction, one reply.
	if code, body := postJSON(t, base+"/webchat/messages", `{"session":"abc","id":"m1","text":"xin chào"}`); code != 200 || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("repost: %d %s", code, body)
	}
	c := getConversation(t, base, "abc")
	var texts []string
	for _, m := range c.Messages {
		texts = append(texts, m.Dir+": "+m.Text)
	}
	if len(c.Messages) != 3 || c.Messages[0].Text != "xin chào" || !strings.HasPrefix(c.Messages[1].Text, "Xin chào") ||
		!strings.Contains(c.Messages[2].Text, "WELCOME10") || len(c.Messages[2].Buttons) != 3 {
		t.Fatalf("conversation:\n%s", strings.Join(texts, "\n"))
	}
	// Pressing a button is an inbound event like a message.
	press := `{"session":"abc","id":"m2","payload":"` + c.Messages[2].Buttons[0].Payload + `"}`
	if code, body := postJSON(t, base+"/webchat/messages", press); code != 200 {
		t.Fatalf("press: %d %s", code, body)
	}
	c = getConversation(t, base, "abc")
	if last := c.Messages[len(c.Messages)-1].Text; !strings.Contains(last, "WELCOME10") || !strings.Contains(last, "Tuyệt vời") {
		t.Fatalf("after accept: %q", last)
	}

	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if path == "/metrics" && !strings.Contains(string(b), `idicbot_messages_in_total{channel="webchat"} 2`) {
			t.Fatalf("metrics lack the inbound count:\n%.2000s", b)
		}
		build := fmt.Sprintf(`idicbot_build_info{goversion=%q,revision=%q,version=%q} 1`, currentBuild().GoVersion, currentBuild().Revision, currentBuild().Version)
		if path == "/metrics" && !strings.Contains(string(b), build) {
			t.Fatalf("metrics lack %s", build)
		}
	}
}

func TestServeRejectsBadInput(t *testing.T) {
	m, base := startServe(t, t.TempDir(), nil)
	tests := []struct{ name, body, want string }{
		{"empty text", `{"session":"s","id":"1","text":"  "}`, "empty"},
		{"too long", `{"session":"s","id":"2","text":"` + strings.Repeat("a", 4001) + `"}`, "4000"},
		{"invalid utf-8", "{\"session\":\"s\",\"id\":\"3\",\"text\":\"\xff\xfe\"}", "UTF-8"},
		{"malformed json", `{"session":"s","id":`, "JSON"},
		{"missing session", `{"id":"4","text":"hi"}`, "session"},
		{"missing id", `{"session":"s","text":"hi"}`, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := postJSON(t, base+"/webchat/messages", tt.body)
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || code != 400 || e.Error.Code != "invalid" ||
				!strings.Contains(strings.ToLower(e.Error.Message), strings.ToLower(tt.want)) {
				t.Fatalf("got %d %s; want 400 with a message about %q", code, body, tt.want)
			}
		})
	}
	// Nothing was stored for the session.
	if c := getConversation(t, base, "s"); len(c.Messages) != 0 {
		t.Fatalf("bad input stored %d messages", len(c.Messages))
	}
	var n int64
	_ = m.DB.View(context.Background(), func(tx crmTx) error { n, _ = tx.CustomerCount(); return nil })
	if n != 0 {
		t.Fatalf("bad input created %d customers", n)
	}
}

func TestSecondInstanceFailsFast(t *testing.T) {
	dir := t.TempDir()
	startServe(t, dir, nil)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"chat", "--data", dir}, []string{"another idicbot instance"}},
		// Offers can change while the bot runs: the message says how.
		{[]string{"offers", "--data", dir, "import", "offers.yaml"}, []string{"another idicbot instance", "/api/admin/import"}},
	} {
		m := NewMain()
		m.Stderr = io.Discard
		m.Getenv = func(string) string { return "" }
		if err := m.ParseFlags(tt.args); err != nil {
			t.Fatal(err)
		}
		err := m.Run(context.Background())
		m.Close()
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("%v as a second instance: %v, want %q in it", tt.args, err, w)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "adr: 1.2.3.4:80\n", `unknown key "adr" (did you mean "addr"?)`},
		{"bad duration", "sweep_interval: often\n", `line 1: sweep_interval: write a duration like 10s, 500ms or 2h, not "often"`},
		{"bad language", "default_language: fr\n", "default_language"},
		{"bad segments file", "segments_file: segs.yaml\n", `segment "vip"`},
		{"bad allowed origin", "webchat:\n  allowed_origins: [\"https://shop.example/chat\"]\n", "allowed_origins"},
		{"bad chat colour", "webchat:\n  color: teal\n", "#rrggbb"},
		{"bad logo", "webchat:\n  logo_url: http://cdn.example/logo.png\n", "https URL"},
	}
	if err := os.WriteFile(filepath.Join(dir, "segs.yaml"), []byte("segments:\n  - name: vip\n    rule: 'total_spent >>'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			m := NewMain()
			m.Stderr = io.Discard
			m.Getenv = func(string) string { return "" }
			err := m.ParseFlags([]string{"chat", "--config", path, "--data", t.TempDir()})
			if err == nil {
				m.Stdin = strings.NewReader("")
				m.Stdout = io.Discard
				err = m.Run(context.Background())
			}
			m.Close()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestBrowserChat opens the chat page of a real idicbot in headless Chromium,
// sends a message and sees the reply and an offer button.
func TestBrowserChat(t *testing.T) {
	_, base := startServe(t, t.TempDir(), nil)
	reply, buttons := webchattest.RunBrowserChat(t, base, "xin chào")
	if !strings.Contains(reply, "Xin chào") {
		t.Fatalf("reply %q", reply)
	}
	found := false
	for _, b := range buttons {
		found = found || strings.Contains(b, "Nhận ưu đãi")
	}
	if !found {
		t.Fatalf("no offer button in %q", buttons)
	}
}
