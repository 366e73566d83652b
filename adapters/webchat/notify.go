package webchat

import "sync"

// notifier wakes the requests waiting on a session (long polls and event
// streams). Each waited-on session has one channel that a wake closes and
// drops; the next waiter gets a fresh one. A session's entry lives only while
// someone waits on it, so abandoned sessions cost nothing.
type notifier struct {
	mu   sync.Mutex
	subs map[string]*signal
}

type signal struct {
	ch   chan struct{}
	refs int
}

func newNotifier() *notifier {
	return &notifier{subs: make(map[string]*signal)}
}

// subscribe returns a channel closed at the next wake of session, and a
// release func the caller must call once it stops waiting. Subscribe before
// reading the conversation so that a wake between the read and the wait is
// not lost.
func (n *notifier) subscribe(session string) (<-chan struct{}, func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sig := n.subs[session]
	if sig == nil {
		sig = &signal{ch: make(chan struct{})}
		n.subs[session] = sig
	}
	sig.refs++
	var once sync.Once
	release := func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			sig.refs--
			// A woken signal was already dropped; do not touch its successor.
			if sig.refs == 0 && n.subs[session] == sig {
				delete(n.subs, session)
			}
		})
	}
	return sig.ch, release
}

// wake wakes every current waiter of session.
func (n *notifier) wake(session string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if sig := n.subs[session]; sig != nil {
		close(sig.ch)
		delete(n.subs, session)
	}
}

// waiting returns the number of sessions with waiters (for tests).
func (n *notifier) waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs)
}
