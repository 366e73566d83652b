package webchat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/internal/axetest"
	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
	"github.com/idicbot/idicbot/crm"
)

// chatSite is a web chat server whose POSTs can be cut off, the way a
// phone losing its network sees them: the connection closes unanswered.
type chatSite struct {
	srv     *webchat.Server
	ts      *httptest.Server
	offline atomic.Bool
}

func serveChat(tb testing.TB, core webchat.Core, opts webchat.Options) *chatSite {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &chatSite{srv: webchat.New(core, opts)}
	mux := http.NewServeMux()
	s.srv.Routes(mux)
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.offline.Load() && r.Method == http.MethodPost {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	tb.Cleanup(func() {
		_ = s.srv.Close()
		s.ts.Close()
	})
	return s
}

// shopSite serves a shop's page at http://localhost:PORT/ (another site
// than the chat's 127.0.0.1) with the widget's snippet and a strict CSP of
// its own, the way a shop would. The page loads the widget from the URL
// chatURL returns, which may be known only after the shop's origin is.
func shopSite(tb testing.TB, chatURL func() string) (pageURL, origin string) {
	tb.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chatURL := chatURL()
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src "+chatURL+"; frame-src "+chatURL)
		fmt.Fprintf(w, `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Hoa Mai</title></head>
<body><main><h1>Cửa hàng Hoa Mai</h1><p>Áo dài may sẵn.</p></main>
<script src="%s/webchat/widget.js" defer></script></body></html>`, chatURL)
	}))
	tb.Cleanup(ts.Close)
	origin = strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
	return origin + "/", origin
}

// frameOf waits for the cross-site iframe whose URL starts with prefix and
// returns a context that drives it.
func frameOf(t *testing.T, ctx context.Context, prefix string) context.Context {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
				frameCtx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				return frameCtx
			}
		}
	}
	t.Fatalf("no iframe at %s", prefix)
	return nil
}

// waitFor polls a JavaScript expression in the tab ctx until it is truthy.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(`+expr+`) || null`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestBrowserWidget puts the widget on a shop's page of another site and
// chats through it: the launcher opens the chat, the typing indicator shows
// while the bot answers, the reply reads money and phones as people write
// them, an offer button reaches the core, a message sent without network
// fails in Vietnamese and goes through when tapped again, and the chat's
// close button closes the widget.
func TestBrowserWidget(t *testing.T) {
	core := newFakeCore()
	gate := make(chan struct{})
	core.gate = gate
	var chat *chatSite
	pageURL, origin := shopSite(t, func() string { return chat.ts.URL })
	chat = serveChat(t, core, webchat.Options{
		AllowedOrigins: []string{origin},
		Branding:       webchat.Branding{Shop: "Cửa hàng Hoa Mai", Color: "#c2410c"},
	})
	ctx := webchattest.NewBrowser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open the shop's page: %v", err)
	}
	waitFor(t, ctx, "the launcher", `document.getElementById('idicbot-launcher') !== null`)
	if got, want := eval[string](t, ctx, `document.getElementById('idicbot-launcher').getAttribute('aria-label')`), "Trò chuyện với Cửa hàng Hoa Mai"; got != want {
		t.Fatalf("launcher label = %q, want %q", got, want)
	}
	if got, want := eval[string](t, ctx, `getComputedStyle(document.getElementById('idicbot-launcher')).backgroundColor`), "rgb(194, 65, 12)"; got != want {
		t.Fatalf("launcher colour = %q, want the shop's %q", got, want)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('iframe').length`); n != 0 {
		t.Fatalf("%d iframes before the launcher is pressed, want none", n)
	}
	axetest.Check(t, ctx, "shop page with the widget")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("idicbot-launcher"))); err != nil {
		t.Fatal(err)
	}
	frame := frameOf(t, ctx, chat.ts.URL+"/webchat/embed")
	if err := chromedp.Do(frame, chromedp.WaitVisible(chromedp.ID("text"))); err != nil {
		t.Fatalf("the chat did not open in the widget: %v", err)
	}
	if got, want := eval[string](t, frame, `document.getElementById('title').textContent`), "Cửa hàng Hoa Mai"; got != want {
		t.Fatalf("chat title = %q, want %q", got, want)
	}
	waitFor(t, frame, "the chat connects", `document.getElementById('status').textContent === 'Đang trực tuyến'`)
	axetest.Check(t, ctx, "shop page with the widget open")

	// Sending: the bot is slow to answer, and the customer sees it typing.
	if err := chromedp.Do(frame, chromedp.SendKeys(chromedp.ID("text"), "Cho mình hỏi giá áo dài\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frame, "typing indicator", `!document.getElementById('typing').hidden && document.getElementById('typing').getBoundingClientRect().height > 0`)
	if got, want := eval[string](t, frame, `document.getElementById('typing').textContent.trim()`), "Đang trả lời…"; got != want {
		t.Fatalf("typing indicator reads %q, want %q", got, want)
	}
	close(gate)
	waitFor(t, frame, "the reply", `[...document.querySelectorAll('.msg.out[data-id] .bubble')].some((b) => b.textContent.includes('Bạn đã nói: Cho mình hỏi giá áo dài'))`)
	waitFor(t, frame, "typing indicator gone after the reply", `document.getElementById('typing').hidden`)

	// A reply with a price and a phone, as the core writes them.
	session := core.inbound()[0].UserID
	core.reply(session, "Áo dài lụa giá 1.250.000 ₫. Nhân viên sẽ gọi số +84912888999.")
	if err := chat.srv.Send(context.Background(), &crm.OutboxItem{ID: 1, Channel: crm.ChannelWeb, ChatID: session}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frame, "the price reply", `[...document.querySelectorAll('.msg.out .bubble')].some((b) => b.textContent.includes('lụa'))`)
	if got, want := eval[string](t, frame, `[...document.querySelectorAll('.msg.out[data-id] .bubble')].pop().textContent`),
		"Áo dài lụa giá 1.250.000\u00a0₫. Nhân viên sẽ gọi số 0912 888 999."; got != want {
		t.Fatalf("price reply = %q, want %q", got, want)
	}

	// An offer button: the first reply's buttons went with the newer message,
	// so answer again to get fresh ones.
	if err := chromedp.Do(frame, chromedp.SendKeys(chromedp.ID("text"), "có ưu đãi không\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frame, "offer buttons", `document.querySelectorAll('.msg.out .buttons button').length === 2`)
	axetest.Check(t, frame, "chat in the widget, with offer buttons")
	if err := chromedp.Do(frame, chromedp.Click(chromedp.CSS(".msg.out .buttons button"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frame, "the press in the conversation", `[...document.querySelectorAll('.msg.in[data-id] .bubble')].some((b) => b.textContent === 'Nhận ưu đãi')`)
	if calls := core.inbound(); calls[len(calls)-1].Payload != "offer:welcome:accept" || calls[len(calls)-1].Kind != crm.KindButton {
		t.Fatalf("last event = %+v, want the offer's accept button", calls[len(calls)-1])
	}

	// The network drops: the message stays, marked in Vietnamese, with a
	// button that sends it again.
	chat.offline.Store(true)
	before := len(core.inbound())
	if err := chromedp.Do(frame, chromedp.SendKeys(chromedp.ID("text"), "Mình lấy size M nhé\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frame, "the failed message", `document.querySelector('.msg.failed .retry') !== null`)
	if got, want := eval[string](t, frame, `document.querySelector('.msg.failed .meta').textContent`), "Chưa gửi được: mất kết nối mạng."; got != want {
		t.Fatalf("failure reads %q, want %q", got, want)
	}
	if got, want := eval[string](t, frame, `document.querySelector('.msg.failed .retry').textContent`), "Gửi lại"; got != want {
		t.Fatalf("retry button reads %q, want %q", got, want)
	}
	if page := eval[string](t, frame, `document.body.innerText`); strings.Contains(page, "Failed to fetch") || strings.Contains(page, "TypeError") {
		t.Fatalf("the page shows the browser's error: %q", page)
	}
	axetest.Check(t, frame, "chat in the widget, with a failed message")
	if !eval[bool](t, frame, `document.getElementById('typing').hidden`) {
		t.Fatal("typing indicator still shown after the send failed")
	}
	if n := len(core.inbound()); n != before {
		t.Fatalf("core got %d events while offline", n-before)
	}
	chat.offline.Store(false)
	if err := chromedp.Do(frame, chromedp.Click(chromedp.CSS(".msg.failed .retry"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, frame, "the retried message confirmed", `[...document.querySelectorAll('.msg.in[data-id] .bubble')].some((b) => b.textContent === 'Mình lấy size M nhé') && !document.querySelector('.msg.failed')`)
	var sent int
	for _, in := range core.inbound()[before:] {
		if in.Text == "Mình lấy size M nhé" {
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("the retried message reached the core %d times, want once", sent)
	}

	// The chat's close button closes the widget on the shop's page.
	if err := chromedp.Do(frame, chromedp.Click(chromedp.ID("close"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the widget closed", `document.getElementById('idicbot-launcher').getAttribute('aria-expanded') === 'false' && getComputedStyle(document.getElementById('idicbot-chat')).display === 'none'`)

	// A rep answers while the chat is closed: the launcher says so.
	core.reply(session, "Chào chị, em là Lan bên cửa hàng ạ.")
	if err := chat.srv.Send(context.Background(), &crm.OutboxItem{ID: 2, Channel: crm.ChannelWeb, ChatID: session}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the unread badge", `document.getElementById('idicbot-launcher').getAttribute('aria-label') === 'Trò chuyện với Cửa hàng Hoa Mai (1 tin nhắn mới)' && getComputedStyle(document.getElementById('idicbot-unread')).display === 'block'`)
	if got := eval[string](t, ctx, `document.getElementById('idicbot-unread').textContent`); got != "1" {
		t.Fatalf("badge = %q, want 1", got)
	}
	axetest.Check(t, ctx, "shop page with an unread reply")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("idicbot-launcher"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the badge cleared on open", `document.getElementById('idicbot-launcher').getAttribute('aria-label') === 'Trò chuyện với Cửa hàng Hoa Mai' && getComputedStyle(document.getElementById('idicbot-unread')).display === 'none'`)
}
