package bottest

import (
	"context"
	"sync"

	"github.com/idicbot/idicbot/bot"
)

// Handler is a core that accepts every inbound event and keeps it, for
// tests of an adapter's parsing (fuzz tests, say) without a store.
type Handler struct {
	mu  sync.Mutex
	got []bot.Inbound
}

var _ bot.Handler = (*Handler)(nil)

// Handle keeps in and answers an empty result.
func (h *Handler) Handle(_ context.Context, in bot.Inbound) (bot.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, in)
	return bot.Result{}, nil
}

// Take returns the events handled since the last call and forgets them.
func (h *Handler) Take() []bot.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}
