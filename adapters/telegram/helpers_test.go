package telegram

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot"
)

// fakeHandler stands in for the core: it records every call, commits each
// MessageID once (as the core's dedupe does), and fails, panics or blocks
// on demand.
type fakeHandler struct {
	mu        sync.Mutex
	calls     []bot.Inbound // every call, including failed and duplicate ones
	committed []bot.Inbound // first successful call per MessageID
	seen      map[string]bool
	active    map[string]int // chat → calls running
	overlap   bool           // two calls of one chat ran at once
	maxActive int            // most calls running at once, all chats

	// decide, when set, runs before the commit: an error fails the call, and
	// it may panic or block.
	decide func(in bot.Inbound, attempt int) error
	tries  map[string]int
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{seen: map[string]bool{}, active: map[string]int{}, tries: map[string]int{}}
}

func (h *fakeHandler) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	h.mu.Lock()
	h.calls = append(h.calls, in)
	h.tries[in.MessageID]++
	attempt := h.tries[in.MessageID]
	h.active[in.ChatID]++
	if h.active[in.ChatID] > 1 {
		h.overlap = true
	}
	total := 0
	for _, n := range h.active {
		total += n
	}
	if total > h.maxActive {
		h.maxActive = total
	}
	decide := h.decide
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.active[in.ChatID]--
		h.mu.Unlock()
	}()

	if decide != nil {
		if err := decide(in, attempt); err != nil {
			return bot.Result{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return bot.Result{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[in.MessageID] {
		return bot.Result{Duplicate: true}, nil
	}
	h.seen[in.MessageID] = true
	h.committed = append(h.committed, in)
	return bot.Result{}, nil
}

func (h *fakeHandler) Committed() []bot.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Inbound(nil), h.committed...)
}

// Calls counts the calls of Handle.
func (h *fakeHandler) Calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

func (h *fakeHandler) Tries(messageID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tries[messageID]
}

// eventually waits for cond, failing the test after a generous deadline.
// It bounds a hang, it does not measure speed.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testOptions are fast options against the fake server.
func testOptions(srv *telegramtest.Server) Options {
	return Options{
		Token:           srv.Token,
		APIURL:          srv.URL(),
		PerChatInterval: -1,
		GlobalPerSecond: -1,
		PollTimeout:     time.Second,
		RetryBackoff:    time.Millisecond,
		MaxBackoff:      5 * time.Millisecond,
		Logger:          quietLogger(),
	}
}

// openAdapter builds and opens an adapter, closing it when the test ends.
func openAdapter(tb testing.TB, h bot.Handler, opts Options) *Adapter {
	tb.Helper()
	a, err := New(h, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := a.Open(context.Background()); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

var errStore = errors.New("store unavailable")
