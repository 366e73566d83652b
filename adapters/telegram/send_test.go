package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// newSender builds an adapter for sending only (Send needs no Open).
func newSender(t *testing.T, srv *telegramtest.Server) *Adapter {
	t.Helper()
	a, err := New(newFakeHandler(), testOptions(srv))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func item(chat, text string) *crm.OutboxItem {
	return &crm.OutboxItem{ID: 7, Channel: crm.ChannelTelegram, ChatID: chat, UserID: chat, Text: text}
}

func TestSendPlainText(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)
	if err := a.Send(t.Context(), item("1111111", "Chào Lan! Áo thun giá 150.000 ₫")); err != nil {
		t.Fatal(err)
	}
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].ChatID != "1111111" || sent[0].Text != "Chào Lan! Áo thun giá 150.000 ₫" || sent[0].ReplyMarkup != nil {
		t.Fatalf("sent %+v", sent)
	}
	if ct := srv.Calls("sendMessage")[0].ContentType; ct != "multipart/form-data" {
		t.Fatalf("sendMessage sent as %q", ct)
	}
}

func TestSendErrorClasses(t *testing.T) {
	tests := []struct {
		name  string
		fault telegramtest.Fault
		check func(t *testing.T, err error)
	}{
		{"429 waits exactly retry_after", telegramtest.Fault{Code: 429, RetryAfter: 3}, func(t *testing.T, err error) {
			var ra *bot.RetryAfterError
			if !errors.As(err, &ra) || ra.After != 3*time.Second {
				t.Fatalf("err %v, want RetryAfterError after 3s", err)
			}
			if bot.IsPermanent(err) {
				t.Fatal("429 is permanent")
			}
		}},
		{"403 blocked is unreachable", telegramtest.Fault{Code: 403}, func(t *testing.T, err error) {
			if !errors.Is(err, bot.ErrUnreachable) || !bot.IsPermanent(err) {
				t.Fatalf("err %v, want ErrUnreachable", err)
			}
		}},
		{"400 is permanent", telegramtest.Fault{Code: 400}, func(t *testing.T, err error) {
			if !bot.IsPermanent(err) || errors.Is(err, bot.ErrUnreachable) {
				t.Fatalf("err %v, want permanent, not unreachable", err)
			}
		}},
		{"other 4xx is permanent", telegramtest.Fault{Code: 406, Description: "Not Acceptable"}, func(t *testing.T, err error) {
			if !bot.IsPermanent(err) {
				t.Fatalf("err %v, want permanent", err)
			}
		}},
		{"500 is temporary", telegramtest.Fault{Code: 500}, temporary},
		{"502 HTML page is temporary", telegramtest.Fault{Code: 502, Body: "<html>502 Bad Gateway</html>"}, temporary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t)
			a := newSender(t, srv)
			srv.Fail("sendMessage", tt.fault)
			err := a.Send(t.Context(), item("42", "hi"))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), srv.Token) {
				t.Fatalf("error shows the token: %v", err)
			}
			tt.check(t, err)
			if errors.Is(err, bot.ErrUnreachable) {
				return // see TestBlockedChatIsNotCalledUntilItWrites
			}
			// The next attempt goes through.
			if err := a.Send(t.Context(), item("42", "hi")); err != nil {
				t.Fatalf("retry: %v", err)
			}
		})
	}
}

func temporary(t *testing.T, err error) {
	t.Helper()
	var ra *bot.RetryAfterError
	if bot.IsPermanent(err) || errors.As(err, &ra) {
		t.Fatalf("err %v, want a plain temporary error", err)
	}
}

func TestSendToBlockedUser(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)
	srv.Block(42)
	err := a.Send(t.Context(), item("42", "Ưu đãi mới"))
	if !errors.Is(err, bot.ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	if len(srv.Sent()) != 0 {
		t.Fatal("message recorded as sent")
	}
}

func TestSendNetworkErrorIsTemporary(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)
	srv.Close()
	err := a.Send(t.Context(), item("42", "hi"))
	if err == nil {
		t.Fatal("no error")
	}
	temporary(t, err)
	if strings.Contains(err.Error(), srv.Token) {
		t.Fatalf("error shows the token: %v", err)
	}
}

func TestSendSplitsLongText(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)
	var b strings.Builder
	for i := 0; b.Len() < 20000; i++ {
		b.WriteString("Dòng số ")
		b.WriteString(strings.Repeat("😀", i%5))
		b.WriteString(" áo thun cotton giá tốt cho khách hàng thân thiết\n")
	}
	text := strings.TrimSpace(b.String())
	it := item("42", text)
	it.Buttons = []crm.Button{{Label: "Nhận ưu đãi", Payload: "offer:o1:accept"}}
	if err := a.Send(t.Context(), it); err != nil {
		t.Fatal(err)
	}
	sent := srv.Sent()
	if len(sent) < 2 {
		t.Fatalf("sent %d messages, want the text split", len(sent))
	}
	var parts []string
	for i, m := range sent {
		if n := len(utf16.Encode([]rune(m.Text))); n > MaxTextLength {
			t.Fatalf("message %d has %d UTF-16 units", i, n)
		}
		if strings.HasPrefix(m.Text, "\n") || strings.HasSuffix(m.Text, "\n") {
			t.Fatalf("message %d not cut at a line break", i)
		}
		if (m.ReplyMarkup != nil) != (i == len(sent)-1) {
			t.Fatalf("message %d markup %s: buttons belong under the last message only", i, m.ReplyMarkup)
		}
		parts = append(parts, m.Text)
	}
	if strings.Join(parts, "\n") != text {
		t.Fatal("split text does not join back to the original")
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		text  string
		limit int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"line one\nline two", 12, []string{"line one", "line two"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"😀😀😀", 4, []string{"😀😀", "😀"}}, // never half a surrogate pair
		{"   ", 10, nil},
		{"a\n\n\nb", 2, []string{"a", "b"}},
	}
	for _, tt := range tests {
		got := splitText(tt.text, tt.limit)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("splitText(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
		}
	}
}

func TestSendButtonsAndPhoneRequest(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)

	offer := item("42", "Giảm 10% cho đơn hôm nay")
	offer.Buttons = []crm.Button{
		{Label: "Nhận ưu đãi", Payload: "offer:o1:accept"},
		{Label: "Xem thêm", Payload: "offer:o1:more"},
		{Label: "Để sau", Payload: "offer:o1:decline"},
	}
	if err := a.Send(t.Context(), offer); err != nil {
		t.Fatal(err)
	}
	ask := item("42", "Bạn cho mình xin số điện thoại nhé")
	ask.ID = 8
	ask.RequestPhone = true
	if err := a.Send(t.Context(), ask); err != nil {
		t.Fatal(err)
	}

	sent := srv.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d messages", len(sent))
	}
	var inline struct {
		InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(sent[0].ReplyMarkup, &inline); err != nil {
		t.Fatal(err)
	}
	if len(inline.InlineKeyboard) != 3 {
		t.Fatalf("inline keyboard %s", sent[0].ReplyMarkup)
	}
	for i, row := range inline.InlineKeyboard {
		if len(row) != 1 || row[0]["text"] != offer.Buttons[i].Label || row[0]["callback_data"] != offer.Buttons[i].Payload || len(row[0]) != 2 {
			t.Fatalf("row %d = %v", i, row)
		}
	}
	var reply struct {
		Keyboard [][]struct {
			Text           string `json:"text"`
			RequestContact bool   `json:"request_contact"`
		} `json:"keyboard"`
		OneTime bool `json:"one_time_keyboard"`
		Resize  bool `json:"resize_keyboard"`
	}
	if err := json.Unmarshal(sent[1].ReplyMarkup, &reply); err != nil {
		t.Fatal(err)
	}
	if len(reply.Keyboard) != 1 || len(reply.Keyboard[0]) != 1 || !reply.Keyboard[0][0].RequestContact ||
		reply.Keyboard[0][0].Text != SharePhoneLabel || !reply.OneTime || !reply.Resize {
		t.Fatalf("phone keyboard %s", sent[1].ReplyMarkup)
	}
}

func TestSendRefusesOversizedButtonPayload(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)
	it := item("42", "hi")
	it.Buttons = []crm.Button{{Label: "x", Payload: strings.Repeat("p", 65)}}
	if err := a.Send(t.Context(), it); !bot.IsPermanent(err) {
		t.Fatalf("err %v, want permanent", err)
	}
	if len(srv.Calls("sendMessage")) != 0 {
		t.Fatal("sendMessage called")
	}
}

// A retry after a failure in the middle of a split text sends only what
// did not go out, so the customer sees every part once.
func TestSendResumesAfterPartialFailure(t *testing.T) {
	srv := telegramtest.New(t)
	a := newSender(t, srv)
	text := strings.Repeat("a", 4000) + "\n" + strings.Repeat("b", 4000) + "\n" + strings.Repeat("c", 4000)
	it := item("42", text)
	// The first part goes through, the second hits a 500.
	srv.Fail("sendMessage", telegramtest.Fault{}, telegramtest.Fault{Code: 500})
	if err := a.Send(t.Context(), it); err == nil {
		t.Fatal("no error")
	}
	if got := len(srv.Sent()); got != 1 {
		t.Fatalf("sent %d", got)
	}
	if err := a.Send(t.Context(), it); err != nil {
		t.Fatal(err)
	}
	sent := srv.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent %d messages, want 3 parts once each", len(sent))
	}
	for i, prefix := range []string{"a", "b", "c"} {
		if !strings.HasPrefix(sent[i].Text, prefix) {
			t.Fatalf("message %d starts %q, want %q", i, sent[i].Text[:1], prefix)
		}
	}
}

func TestLimiterSpacesMessages(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(time.Second, 10) // 1/s per chat, 100ms apart overall
	l.now = func() time.Time { return now }
	want := []struct {
		chat string
		wait time.Duration
	}{
		{"a", 0},
		{"b", 100 * time.Millisecond},
		{"a", time.Second}, // same chat: a second after its first
		{"c", time.Second + 100*time.Millisecond}, // global spacing after that
	}
	for i, w := range want {
		if got := l.reserve(w.chat); got != w.wait {
			t.Fatalf("reservation %d (%s): wait %v, want %v", i, w.chat, got, w.wait)
		}
	}
	now = now.Add(time.Hour)
	if got := l.reserve("a"); got != 0 {
		t.Fatalf("after an hour: wait %v", got)
	}
	off := newLimiter(-1, -1)
	for range 100 {
		if d := off.reserve("a"); d != 0 {
			t.Fatalf("disabled limiter waits %v", d)
		}
	}
}

func TestSendHonoursContext(t *testing.T) {
	srv := telegramtest.New(t)
	opts := testOptions(srv)
	opts.PerChatInterval = time.Hour
	a, err := New(newFakeHandler(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(t.Context(), item("42", "one")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Send(ctx, item("42", "two")) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if len(srv.Sent()) != 1 {
		t.Fatal("second message sent despite the per-chat limit")
	}
}
