// Package inproc holds the in-process implementations of bot.Notifier and
// bot.Leader: what one idicbot on one bbolt file uses, where every
// subscriber is in this process and every lease is free. They have a
// package of their own, as each store's implementations do (a PostgreSQL
// one would notify with LISTEN/NOTIFY and lease with a lock), so that the
// bot package only names the seams.
package inproc

import (
	"context"
	"errors"
	"sync"

	"github.com/idicbot/idicbot/bot"
)

var (
	_ bot.Notifier = (*Notifier)(nil)
	_ bot.Leader   = (*Leader)(nil)
)

// Notifier delivers notifications to the subscribers in this process. A
// subscription is a channel of one slot: Notify fills the empty ones and
// skips the full ones, so a publisher never waits for a slow subscriber and
// notifications a subscriber has not taken yet coalesce into one. Only keys
// someone listens to take memory.
type Notifier struct {
	mu   sync.Mutex
	subs map[topicKey][]chan struct{}
}

type topicKey struct{ topic, key string }

// NewNotifier returns a Notifier with no subscribers.
func NewNotifier() *Notifier {
	return &Notifier{subs: make(map[topicKey][]chan struct{})}
}

// Notify wakes every current subscriber of topic and key. It never fails.
func (n *Notifier) Notify(_ context.Context, topic, key string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ch := range n.subs[topicKey{topic, key}] {
		select {
		case ch <- struct{}{}:
		default: // already woken and not taken yet
		}
	}
	return nil
}

// Subscribe returns a channel ready after the next Notify of topic and
// key, and its release func.
func (n *Notifier) Subscribe(topic, key string) (<-chan struct{}, func()) {
	tk := topicKey{topic, key}
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	n.subs[tk] = append(n.subs[tk], ch)
	n.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			subs := n.subs[tk]
			for i, c := range subs {
				if c == ch {
					subs[i] = subs[len(subs)-1]
					subs[len(subs)-1] = nil
					subs = subs[:len(subs)-1]
					break
				}
			}
			if len(subs) == 0 {
				delete(n.subs, tk)
			} else {
				n.subs[tk] = subs
			}
		})
	}
}

// Keys returns how many topic and key pairs have subscribers (tests check
// that released subscriptions leave nothing behind).
func (n *Notifier) Keys() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs)
}

// ErrClosed is returned by Run on a closed Leader.
var ErrClosed = errors.New("inproc: leader closed")

// Leader hands out leases within this process. A free lease is taken at
// once and held until fn returns, so in one process every singleton runs
// as soon as it is started; two Runs of the same name (a wiring mistake, or
// two cores sharing one Leader in a test) take turns. Close cancels every
// fn and waits for them.
type Leader struct {
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	held   map[string]chan struct{} // closed when the lease is released
	wg     sync.WaitGroup
}

// NewLeader returns a Leader holding no lease. It starts nothing.
func NewLeader() *Leader {
	ctx, cancel := context.WithCancel(context.Background())
	return &Leader{ctx: ctx, cancel: cancel, held: make(map[string]chan struct{})}
}

// Run takes the lease name, waiting while another Run holds it, and calls
// fn with a context cancelled when ctx ends or the Leader closes. The lease
// is never lost otherwise, so fn runs once; Run returns its error, or nil
// when ctx ends or the Leader closes before the lease was taken.
func (l *Leader) Run(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return ErrClosed
		}
		busy := l.held[name]
		if busy == nil {
			l.held[name] = make(chan struct{})
			l.wg.Add(1)
			l.mu.Unlock()
			break
		}
		l.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil
		case <-l.ctx.Done():
			return nil
		}
	}
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		close(l.held[name])
		delete(l.held, name)
	}()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	return fn(fctx)
}

// Close cancels every running fn and waits for them to return; Run refuses
// to start new ones. It is safe to call more than once.
func (l *Leader) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	return nil
}
