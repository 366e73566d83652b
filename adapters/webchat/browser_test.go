package webchat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
	"github.com/idicbot/idicbot/crm"
)

// TestBrowserChat chats through the real page in headless Chromium: send a
// message, see the reply and its offer buttons, press one, and check that
// the press reached the core as a button event.
func TestBrowserChat(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{})

	reply, buttons := webchattest.RunBrowserChat(t, ts.URL, "Cho mình hỏi giá áo thun")

	if got, want := reply, "Cảm ơn bạn! Bạn đã nói: Cho mình hỏi giá áo thun"; got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	if got, want := strings.Join(buttons, "|"), "Nhận ưu đãi|Để sau"; got != want {
		t.Fatalf("buttons = %q, want %q", got, want)
	}
	calls := core.inbound()
	if len(calls) < 2 {
		t.Fatalf("core got %d events, want the message and the button press", len(calls))
	}
	msg, press := calls[0], calls[len(calls)-1]
	if msg.Kind != crm.KindText || msg.Text != "Cho mình hỏi giá áo thun" || msg.Channel != crm.ChannelWeb {
		t.Fatalf("message event = %+v", msg)
	}
	if press.Kind != crm.KindButton || press.Payload != "offer:welcome:accept" || press.Text != "Nhận ưu đãi" {
		t.Fatalf("button event = %+v", press)
	}
	if press.UserID != msg.UserID || press.ChatID != msg.UserID || press.MessageID == msg.MessageID {
		t.Fatalf("events of one session differ: %+v / %+v", msg, press)
	}
	if !strings.HasPrefix(msg.MessageID, msg.UserID+":") {
		t.Fatalf("message id %q is not session:id", msg.MessageID)
	}
}

// TestBrowserRateLimited sends faster than the session may in the real
// page: the page says so in Vietnamese, keeps the message pending and
// sends it once the limit allows.
func TestBrowserRateLimited(t *testing.T) {
	core := newFakeCore()
	core.noReply = true
	clk := newClock()
	_, ts := mustServe(t, core, webchat.Options{Now: clk.Now,
		Limits: webchat.Limits{MessagesPerMinute: 30, MessageBurst: 1}})
	ctx := webchattest.NewBrowser(t)

	notice := func() string {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("notice")))
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), "tin thứ nhất\n"),
		chromedp.SendKeys(chromedp.ID("text"), "tin thứ hai\n"),
	); err != nil {
		t.Fatalf("send two messages at once: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#notice').classList.contains('show') || null`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("no notice: %v", err)
	}
	if got, want := notice(), "Bạn gửi hơi nhanh, vui lòng thử lại sau ít giây."; got != want {
		t.Fatalf("notice = %q, want %q", got, want)
	}
	// The refused message waits, then goes through when the limit refills.
	clk.Add(time.Minute)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`[...document.querySelectorAll('#messages .msg.in')].filter((m) => m.dataset.id).length === 2 || null`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the second message was not sent after the wait: %v", err)
	}
	if got := notice(); got != "" {
		t.Fatalf("notice still shown: %q", got)
	}
	if n := len(core.inbound()); n != 2 {
		t.Fatalf("core got %d messages, want 2", n)
	}
}
