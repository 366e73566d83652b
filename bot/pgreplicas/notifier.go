// Package pgreplicas implements bot.Notifier and bot.Leader on the
// PostgreSQL database that several idicbot processes share (crm/pgstore):
// notifications with LISTEN/NOTIFY, singletons under lease rows.
package pgreplicas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idicbot/idicbot/bot"
)

var (
	_ bot.Notifier = (*Notifier)(nil)
	_ bot.Leader   = (*Leader)(nil)
)

// DefaultChannel is the LISTEN/NOTIFY channel processes of one shop share.
const DefaultChannel = "idicbot"

// sep separates topic and key in a notification's payload.
const sep = "\x1f"

// Notifier relays notifications between the processes on one database: a
// Notify is a pg_notify on the shared channel, and each process listens on
// one connection of its own and wakes its subscribers. A subscription is a
// channel of one slot (notifications not taken yet coalesce), as in
// bot/inproc. When the listening connection drops, notifications sent
// meanwhile are lost: after it reconnects the Notifier wakes every
// subscriber once, so each reads the store again.
type Notifier struct {
	pool    *pgxpool.Pool
	channel string
	log     *slog.Logger

	mu   sync.Mutex
	subs map[string][]chan struct{} // topic sep key → subscriptions

	cancel context.CancelFunc
	done   chan struct{}
	// listening is closed once the first LISTEN is in place.
	listening chan struct{}
}

// NotifierOptions configure a Notifier.
type NotifierOptions struct {
	// Channel is the LISTEN/NOTIFY channel (DefaultChannel if empty):
	// processes of one shop must use the same.
	Channel string
	Logger  *slog.Logger
}

// NewNotifier returns a Notifier on pool's database. It starts nothing:
// Open starts listening.
func NewNotifier(pool *pgxpool.Pool, opts NotifierOptions) *Notifier {
	if opts.Channel == "" {
		opts.Channel = DefaultChannel
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{pool: pool, channel: opts.Channel, log: opts.Logger,
		subs: make(map[string][]chan struct{}), listening: make(chan struct{})}
}

// Open starts listening and waits until the first LISTEN is in place, so
// a notification sent after Open returns reaches this process.
func (n *Notifier) Open(ctx context.Context) error {
	lctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan struct{})
	go func() {
		defer close(n.done)
		n.listen(lctx)
	}()
	select {
	case <-n.listening:
		return nil
	case <-ctx.Done():
		_ = n.Close()
		return ctx.Err()
	}
}

// Close stops listening and waits for the listener to end.
func (n *Notifier) Close() error {
	if n.cancel != nil {
		n.cancel()
		<-n.done
	}
	return nil
}

// listen holds one connection LISTENing and wakes subscribers until ctx
// ends, reconnecting with a backoff when the connection fails.
func (n *Notifier) listen(ctx context.Context) {
	wait := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := n.listenOnce(ctx, &first)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("notifications from other idicbot processes paused; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (n *Notifier) listenOnce(ctx context.Context, first *bool) error {
	conn, err := n.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// The connection LISTENs: it does not go back to the pool.
	defer func() { _ = conn.Hijack().Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{n.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *first {
		*first = false
		close(n.listening)
	} else {
		// What was sent while the connection was down is lost: everyone
		// reads the store again.
		n.wakeAll()
	}
	for {
		msg, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait: %w", err)
		}
		n.wake(msg.Payload)
	}
}

// Notify implements bot.Notifier: every process's subscribers of topic
// and key wake (this one's when the notification comes back from the
// database). It does not wait for them.
func (n *Notifier) Notify(ctx context.Context, topic, key string) error {
	if strings.Contains(topic, sep) {
		return errors.New("pgreplicas: a topic cannot hold 0x1f")
	}
	if _, err := n.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, n.channel, topic+sep+key); err != nil {
		return fmt.Errorf("notify %s: %w", topic, err)
	}
	return nil
}

// Subscribe implements bot.Notifier.
func (n *Notifier) Subscribe(topic, key string) (<-chan struct{}, func()) {
	tk := topic + sep + key
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
			if i := indexOf(subs, ch); i >= 0 {
				subs = append(subs[:i], subs[i+1:]...)
			}
			if len(subs) == 0 {
				delete(n.subs, tk)
			} else {
				n.subs[tk] = subs
			}
		})
	}
}

func indexOf(subs []chan struct{}, ch chan struct{}) int {
	for i, c := range subs {
		if c == ch {
			return i
		}
	}
	return -1
}

// Keys returns how many topic and key pairs have subscribers.
func (n *Notifier) Keys() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs)
}

func (n *Notifier) wake(tk string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ch := range n.subs[tk] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (n *Notifier) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, subs := range n.subs {
		for _, ch := range subs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}
