package llm

import (
	"sync"
	"time"
)

// Breaker states, as exported in the idicbot_llm_breaker_state gauge.
const (
	BreakerClosed   = 0
	BreakerHalfOpen = 1
	BreakerOpen     = 2
)

// breaker stops calling a server that keeps failing: after Failures
// consecutive failures it opens, and calls fail at once for Cooldown; then
// one trial call is let through (half-open): success closes it, failure opens
// it again.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time
	onChange func(state int)

	mu       sync.Mutex
	state    int
	streak   int
	openedAt time.Time
	trial    bool // a half-open trial call is in flight
}

// allow reports whether a call may go out now. A caller that was allowed
// must report the outcome with done.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.set(BreakerHalfOpen)
		b.trial = true
		return true
	case BreakerHalfOpen:
		if b.trial {
			return false
		}
		b.trial = true
		return true
	}
	return true
}

// done records the outcome of an allowed call.
func (b *breaker) done(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if ok {
		b.streak = 0
		b.set(BreakerClosed)
		return
	}
	b.streak++
	if b.state == BreakerHalfOpen || b.streak >= b.failures {
		b.openedAt = b.now()
		b.set(BreakerOpen)
	}
}

// State returns the breaker's state (BreakerClosed, BreakerHalfOpen,
// BreakerOpen).
func (b *breaker) State() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *breaker) set(s int) {
	if b.state != s && b.onChange != nil {
		b.onChange(s)
	}
	b.state = s
}

// release ends an allowed call that says nothing about the server (the
// caller gave up): a half-open breaker lets the next call be the trial.
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
}
