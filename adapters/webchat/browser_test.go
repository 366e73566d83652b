package webchat_test

import (
	"strings"
	"testing"

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
