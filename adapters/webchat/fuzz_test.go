package webchat

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// nullCore accepts every event and has no conversations.
type nullCore struct{ bottest.Handler }

func (c *nullCore) Conversation(context.Context, crm.Channel, string, crm.ID, int) ([]*crm.Interaction, error) {
	return nil, nil
}

// FuzzPost posts arbitrary bodies: the answer is 200, 400 or 429, never
// an internal error, and what reaches the core is clean text.
func FuzzPost(f *testing.F) {
	for _, s := range []string{
		`{"session":"s","id":"1","text":"xin chào"}`,
		`{"session":"s","id":"1","text":"a\r\nb\tc"}`,
		`{"session":"s","id":"1","payload":"offer:welcome:accept","text":"Nhận"}`,
		`{"session":"s","id":"1","text":"\u0000"}`,
		`{"session":"s","id":"1","text":"\ud800"}`,
		`{"session":"s","id":"1","text":"\u202e"}`,
		"{\"session\":\"s\",\"id\":\"1\",\"text\":\"\xff\"}",
		`{"session":"s","id":"1","text":null,"payload":null}`,
		`{"session":"s","id":"1","text":1}`,
		`[]`, ``,
	} {
		f.Add([]byte(s))
	}
	core := &nullCore{}
	srv := New(core, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits: Limits{SessionsPerHour: 1 << 20, MessagesPerMinute: 1 << 20, MessageBurst: 1 << 20}})
	mux := http.NewServeMux()
	srv.Routes(mux)
	f.Fuzz(func(t *testing.T, body []byte) {
		core.Take()
		req := httptest.NewRequest("POST", "/webchat/messages", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 429:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		got := core.Take()
		if rec.Code != 200 {
			if len(got) != 0 {
				t.Fatalf("refused body %q reached the core", body)
			}
			return
		}
		in := got[0]
		for _, s := range []string{in.Text, in.Payload} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, '\r') || checkText("text", s) != nil {
				t.Fatalf("accepted %q: text %q payload %q", body, in.Text, in.Payload)
			}
		}
		if in.Text == "" || utf8.RuneCountInString(in.Text) > MaxTextLength && in.Kind == crm.KindText {
			t.Fatalf("accepted %q with text %q", body, in.Text)
		}
	})
}
