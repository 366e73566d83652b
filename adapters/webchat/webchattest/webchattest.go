// Package webchattest drives the web chat page in a headless Chromium, so
// that tests can chat with a core the way a customer does: type, send, read
// the reply, press a button.
package webchattest

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// RequireEnv names the environment variable that turns a missing browser
// from a skipped test into a failed one (set it in CI).
const RequireEnv = "IDICBOT_REQUIRE_BROWSER"

// Timeout bounds one whole browser session, start-up included.
const Timeout = 90 * time.Second

// NewBrowser starts a headless Chromium with a throw-away profile and
// returns a context whose tab the chromedp actions use. The browser stops
// when the test ends. Without a browser the test is skipped, or fails when
// RequireEnv is set.
func NewBrowser(tb testing.TB) context.Context {
	tb.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv(RequireEnv) != "" {
			tb.Fatalf("%s is set but the browser is missing: %v", RequireEnv, err)
		}
		tb.Skipf("no browser at %s (install Debian's chromium, or set %s to fail instead)", ChromiumPath, RequireEnv)
	}
	profile := tb.TempDir() // removed after the browser below has stopped
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(390, 844), // a phone
	)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelTimeout()
	})
	if err := chromedp.Do(tabCtx); err != nil {
		tb.Fatalf("start %s: %v", ChromiumPath, err)
	}
	return tabCtx
}

// chatState is what the page shows after the customer's message.
type chatState struct {
	Sent    bool     `json:"sent"`    // the message is confirmed in the conversation
	Replies []string `json:"replies"` // bot messages after it
	Buttons []string `json:"buttons"` // their buttons' labels, in order
}

// readState finds the customer's confirmed message with the given text (the
// last one) and reads what follows it.
const readState = `(text) => {
	const msgs = [...document.querySelectorAll('#messages .msg')];
	let i = -1;
	msgs.forEach((m, j) => {
		if (m.classList.contains('in') && m.dataset.id && m.querySelector('.bubble').textContent === text) i = j;
	});
	if (i < 0) return {sent: false, replies: [], buttons: []};
	const outs = msgs.slice(i + 1).filter((m) => m.classList.contains('out') && m.dataset.id);
	return {
		sent: true,
		replies: outs.map((m) => m.querySelector('.bubble').textContent),
		buttons: outs.flatMap((m) => [...m.querySelectorAll('.buttons button')].map((b) => b.textContent)),
	};
}`

// RunBrowserChat opens the chat page at baseURL in a fresh browser (so a
// new session), types message, presses send and waits for the bot's reply.
// It returns the reply's text (several bot messages joined by newlines) and
// the labels of the buttons shown with it. When there are buttons it then
// presses the first one and returns once that press is in the conversation,
// so the caller can check what the core did with it.
func RunBrowserChat(tb testing.TB, baseURL string, message string) (replyText string, buttons []string) {
	tb.Helper()
	ctx := NewBrowser(tb)

	var mu sync.Mutex
	var console []string
	consoleDone := make(chan struct{})
	logCtx, stopLog := context.WithCancel(ctx)
	messages := chromedp.Console(logCtx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	defer func() {
		stopLog()
		<-consoleDone
	}()
	fail := func(format string, args ...any) {
		tb.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(console) > 0 {
			tb.Logf("browser console:\n%s", strings.Join(console, "\n"))
		}
		tb.Fatalf(format, args...)
	}

	message = strings.TrimSpace(message)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(strings.TrimSuffix(baseURL, "/")+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), message),
		chromedp.Click(chromedp.ID("send")),
	); err != nil {
		fail("open the chat and send %q: %v", message, err)
	}

	// The reply: at least one bot message after ours.
	st, err := chromedp.Run(ctx, chromedp.PollFunction[chatState](
		`(text) => { const s = (`+readState+`)(text); return s.replies.length ? s : null; }`,
		chromedp.WithPollingArgs(message), chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		fail("no reply to %q: %v", message, err)
	}
	// Buttons may come with a later message (an offer after the answer):
	// give them a moment.
	if len(st.Buttons) == 0 {
		if more, err := chromedp.Run(ctx, chromedp.PollFunction[chatState](
			`(text) => { const s = (`+readState+`)(text); return s.buttons.length ? s : null; }`,
			chromedp.WithPollingArgs(message), chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(3*time.Second))); err == nil {
			st = more
		} else if errors.Is(err, context.Canceled) {
			fail("read the page: %v", err)
		}
	}
	replyText = strings.Join(st.Replies, "\n")
	if len(st.Buttons) == 0 {
		return replyText, nil
	}

	label := st.Buttons[0]
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#messages .buttons button"))); err != nil {
		fail("press %q: %v", label, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.PollFunction[chatState](
		`(text) => { const s = (`+readState+`)(text); return s.sent ? s : null; }`,
		chromedp.WithPollingArgs(label), chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		fail("the press of %q did not reach the conversation: %v", label, err)
	}
	return replyText, st.Buttons
}
