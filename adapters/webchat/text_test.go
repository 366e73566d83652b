package webchat_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/webchat"
)

func TestPostRefusesControlCharacters(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string // JSON, so escapes are JSON's
		msg  string
	}{
		{"NUL", `{"session":"s","id":"1","text":"a\u0000b"}`, "text contains control character U+0000: only newline and tab are allowed"},
		{"bell", `{"session":"s","id":"1","text":"a\u0007"}`, "text contains control character U+0007: only newline and tab are allowed"},
		{"escape", `{"session":"s","id":"1","text":"\u001b[2Jxin chào"}`, "text contains control character U+001B: only newline and tab are allowed"},
		{"lone carriage return", `{"session":"s","id":"1","text":"giá\rxin"}`, "text contains control character U+000D: only newline and tab are allowed"},
		{"DEL", `{"session":"s","id":"1","text":"a\u007fb"}`, "text contains control character U+007F: only newline and tab are allowed"},
		{"C1 next line", `{"session":"s","id":"1","text":"a\u0085b"}`, "text contains control character U+0085: only newline and tab are allowed"},
		{"C1 raw", "{\"session\":\"s\",\"id\":\"1\",\"text\":\"a\u009bb\"}", "text contains control character U+009B: only newline and tab are allowed"},
		{"bidi override", `{"session":"s","id":"1","text":"sđt \u202e876 543 2190"}`, "text contains bidirectional control U+202E"},
		{"bidi isolate", `{"session":"s","id":"1","text":"a\u2066b\u2069"}`, "text contains bidirectional control U+2066"},
		{"trailing vertical tab", `{"session":"s","id":"1","text":"hi\u000b"}`, "text contains control character U+000B: only newline and tab are allowed"},
		{"leading C1 next line", `{"session":"s","id":"1","text":"\u0085hi"}`, "text contains control character U+0085: only newline and tab are allowed"},
		{"payload NUL", `{"session":"s","id":"1","payload":"offer:x\u0000:accept"}`, "payload contains control character U+0000: only newline and tab are allowed"},
		{"payload with text ok but label bad", `{"session":"s","id":"1","payload":"offer:x:accept","text":"Nhận\u0000"}`, "text contains control character U+0000: only newline and tab are allowed"},
		{"lone high surrogate", `{"session":"s","id":"1","text":"a\ud800b"}`, `text has an unpaired surrogate escape (\ud800): send valid Unicode`},
		{"lone low surrogate", `{"session":"s","id":"1","text":"\udc00"}`, `text has an unpaired surrogate escape (\udc00): send valid Unicode`},
		{"high then not low", `{"session":"s","id":"1","text":"\ud83d\u0041"}`, `text has an unpaired surrogate escape (\ud83d): send valid Unicode`},
		{"surrogate at the end", `{"session":"s","id":"1","text":"\uD83D"}`, `text has an unpaired surrogate escape (\uD83D): send valid Unicode`},
		{"surrogate in payload", `{"session":"s","id":"1","payload":"\ud800"}`, `payload has an unpaired surrogate escape (\ud800): send valid Unicode`},
		{"surrogate in another field", `{"session":"s","id":"1","text":"hi","x":"\udfff"}`, `body has an unpaired surrogate escape (\udfff): send valid Unicode`},
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
}

func TestPostAcceptsText(t *testing.T) {
	for _, tt := range []struct {
		name, body, text string
	}{
		{"newline and tab", `{"session":"s","id":"1","text":"dòng 1\n\tdòng 2"}`, "dòng 1\n\tdòng 2"},
		// A textarea posted as a form, or a Windows client, ends lines with CRLF.
		{"CRLF becomes LF", `{"session":"s","id":"1","text":"dòng 1\r\ndòng 2\r\n"}`, "dòng 1\ndòng 2"},
		{"surrogate pair", `{"session":"s","id":"1","text":"\ud83d\ude00 ok"}`, "😀 ok"},
		{"escaped backslash then u", `{"session":"s","id":"1","text":"C:\\ud800"}`, `C:\ud800`},
		{"emoji with joiner", `{"session":"s","id":"1","text":"👩‍💻 hỏi"}`, "👩‍💻 hỏi"},
		{"left-to-right mark", `{"session":"s","id":"1","text":"a\u200eb"}`, "a\u200eb"},
		{"replacement character sent as such", `{"session":"s","id":"1","text":"\ufffd"}`, "\ufffd"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			core := newFakeCore()
			_, ts := mustServe(t, core, webchat.Options{})
			if got := post(t, ts, tt.body); got.Status != 200 {
				t.Fatalf("post = %+v, want 200", got)
			}
			if got := core.inbound()[0].Text; got != tt.text {
				t.Fatalf("text = %q, want %q", got, tt.text)
			}
		})
	}
	t.Run("CRLF counts as one character", func(t *testing.T) {
		core := newFakeCore()
		_, ts := mustServe(t, core, webchat.Options{})
		text := strings.Repeat("ab\r\n", webchat.MaxTextLength/3) + "a"
		if got := post(t, ts, `{"session":"s","id":"1","text":"`+strings.ReplaceAll(strings.ReplaceAll(text, "\r", `\r`), "\n", `\n`)+`"}`); got.Status != 200 {
			t.Fatalf("post = %+v, want 200", got)
		}
	})
}
