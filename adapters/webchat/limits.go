package webchat

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/idicbot/idicbot/crm"
)

// Limits bound what one client can make the web chat do, so that one
// visitor can neither fill the disk nor take every connection. A request
// over a limit gets HTTP 429 with Retry-After. Zero fields take the
// defaults below; there is no way to turn a limit off, only to raise it.
//
// A client is an IP address (IPv6: its /64, what one customer line gets),
// as the connection shows it or, behind a trusted proxy, as the proxy says.
type Limits struct {
	// SessionsPerHour is how many new sessions (ones the store has never
	// seen) one client may start per hour, all at once if it likes.
	SessionsPerHour int
	// MessagesPerMinute is the pace of one session's posts, and
	// MessageBurst how many it may send at once before the pace applies.
	MessagesPerMinute int
	MessageBurst      int
	// SessionQuotaBytes is what one session may store in all: each message
	// counts its text and payload in bytes plus StoredOverhead.
	SessionQuotaBytes int64
	// ReadsPerMinute is the pace of one client's reads of conversations
	// (plain reads, long polls and event streams opened), with a burst of
	// a tenth of it: each read loads a conversation from the store.
	ReadsPerMinute int
	// StreamsPerClient is how many long polls and event streams one client
	// may hold open at once (Options.MaxWaiters bounds them all together).
	StreamsPerClient int
	// StreamLifetime is how long one event stream lasts; the page then
	// reconnects and resumes from the last event it saw.
	StreamLifetime time.Duration
	// TrustedProxies are the addresses whose X-Forwarded-For or X-Real-IP
	// headers name the client. From anyone else they are ignored.
	TrustedProxies []netip.Prefix
	// MaxClients and MaxSessions bound the memory the counting takes: the
	// clients and sessions tracked at once. Past them the least recently
	// seen are forgotten, as are any idle for an hour (a session forgotten
	// is counted again from the store when it comes back).
	MaxClients  int
	MaxSessions int
}

// Defaults of Limits, sized for a small shop.
const (
	DefaultSessionsPerHour   = 20
	DefaultMessagesPerMinute = 20
	DefaultMessageBurst      = 5
	DefaultSessionQuotaBytes = 200 << 10
	DefaultReadsPerMinute    = 240
	DefaultStreamsPerClient  = 8
	DefaultStreamLifetime    = 10 * time.Minute
	DefaultMaxClients        = 10000
	DefaultMaxSessions       = 10000
)

// StoredOverhead is what each message counts toward a session's quota on
// top of its text: the record, its indexes and the reply stored with it.
const StoredOverhead = 256

// idleAfter is how long a tracked client or session may go unseen before
// it is forgotten. It is longer than any limit takes to refill, so that
// forgetting never grants more than waiting would.
const idleAfter = time.Hour

func (l Limits) withDefaults() Limits {
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&l.SessionsPerHour, DefaultSessionsPerHour)
	setInt(&l.MessagesPerMinute, DefaultMessagesPerMinute)
	setInt(&l.MessageBurst, DefaultMessageBurst)
	setInt(&l.StreamsPerClient, DefaultStreamsPerClient)
	setInt(&l.ReadsPerMinute, DefaultReadsPerMinute)
	setInt(&l.MaxClients, DefaultMaxClients)
	setInt(&l.MaxSessions, DefaultMaxSessions)
	if l.SessionQuotaBytes <= 0 {
		l.SessionQuotaBytes = DefaultSessionQuotaBytes
	}
	if l.StreamLifetime <= 0 {
		l.StreamLifetime = DefaultStreamLifetime
	}
	return l
}

// limitError refuses a request that goes over a limit: HTTP 429 with a
// Retry-After of after.
type limitError struct {
	code  string // the JSON error code: rate_limited or quota_exceeded
	msg   string
	after time.Duration
}

func (e *limitError) Error() string { return e.msg }

// Error codes of a 429 answer.
const (
	codeRateLimited   = "rate_limited"
	codeQuotaExceeded = "quota_exceeded"
)

// retryAfter is the value of a Retry-After header: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// take takes one token from l at now, or reports how long until one is there.
func take(l *rate.Limiter, now time.Time) (wait time.Duration) {
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return idleAfter
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// guard holds the counters of the limits.
type guard struct {
	limits Limits

	mu       sync.Mutex
	clients  *lru[*rate.Limiter] // new sessions, by client
	readers  *lru[*rate.Limiter] // reads, by client
	sessions *lru[*sessionTally]
}

// sessionTally is what the limits know of one session.
type sessionTally struct {
	messages *rate.Limiter

	mu     sync.Mutex
	stored int64 // bytes counted toward the quota
}

func newGuard(l Limits) *guard {
	return &guard{
		limits:   l,
		clients:  newLRU[*rate.Limiter](l.MaxClients, idleAfter),
		readers:  newLRU[*rate.Limiter](l.MaxClients, idleAfter),
		sessions: newLRU[*sessionTally](l.MaxSessions, idleAfter),
	}
}

// admitRead decides whether client may read a conversation now.
func (s *Server) admitRead(client string) error {
	g, now := s.guard, s.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	l, ok := g.readers.get(client, now)
	if !ok {
		n := g.limits.ReadsPerMinute
		l = rate.NewLimiter(rate.Limit(float64(n)/60), max(1, n/10))
		g.readers.add(client, l, now)
	}
	if d := take(l, now); d > 0 {
		return &limitError{codeRateLimited, "Too many requests, slow down a little.", d}
	}
	return nil
}

// storedSize is what one message counts toward its session's quota.
func storedSize(text, payload string) int64 {
	return int64(len(text)+len(payload)) + StoredOverhead
}

// admit decides whether session, posting from client, may store a message
// of size bytes now. On success the bytes are counted; the caller calls
// keep(false) when the message was not stored after all (a duplicate, an
// error) to give them back.
func (s *Server) admit(ctx context.Context, client, session string, size int64) (keep func(stored bool), err error) {
	now := s.now()
	t, err := s.tally(ctx, client, session, now)
	if err != nil {
		return nil, err
	}
	if d := take(t.messages, now); d > 0 {
		return nil, &limitError{codeRateLimited, "Too many messages, slow down a little.", d}
	}
	quota := s.guard.limits.SessionQuotaBytes
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stored+size > quota {
		return nil, &limitError{codeQuotaExceeded,
			fmt.Sprintf("This conversation has reached its size limit (%d KiB).", quota>>10), 24 * time.Hour}
	}
	t.stored += size
	return func(stored bool) {
		if !stored {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.stored -= size
		}
	}, nil
}

// tally returns the counters of session, reading what it stored so far
// from the core the first time it is seen since start (or since it was
// forgotten). A session the store does not know is new: it costs its
// client one of its new sessions.
func (s *Server) tally(ctx context.Context, client, session string, now time.Time) (*sessionTally, error) {
	g := s.guard
	g.mu.Lock()
	t, ok := g.sessions.get(session, now)
	g.mu.Unlock()
	if ok {
		return t, nil
	}
	stored, known, err := s.storedBytes(ctx, session)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.sessions.get(session, now); ok { // a concurrent first post
		return t, nil
	}
	if !known {
		l, ok := g.clients.get(client, now)
		if !ok {
			n := g.limits.SessionsPerHour
			l = rate.NewLimiter(rate.Every(time.Hour/time.Duration(n)), n)
			g.clients.add(client, l, now)
		}
		if d := take(l, now); d > 0 {
			return nil, &limitError{codeRateLimited, "Too many new chats from your network, try again later.", d}
		}
	}
	l := g.limits
	t = &sessionTally{
		messages: rate.NewLimiter(rate.Limit(float64(l.MessagesPerMinute)/60), l.MessageBurst),
		stored:   stored,
	}
	g.sessions.add(session, t, now)
	return t, nil
}

// storedBytes reads a session's conversation and counts what its messages
// take of the quota. It stops reading once the quota is reached. known
// reports whether the store has the session at all.
func (s *Server) storedBytes(ctx context.Context, session string) (n int64, known bool, err error) {
	var after crm.ID
	for {
		list, err := s.core.Conversation(ctx, crm.ChannelWeb, session, after, s.opts.PageSize)
		if err != nil {
			return 0, false, fmt.Errorf("webchat: count what session %s stored: %w", session, err)
		}
		for _, it := range list {
			if it == nil {
				continue
			}
			known = true
			if it.Direction == crm.Inbound {
				n += storedSize(it.Text, it.Payload)
			}
			after = it.ID
		}
		if len(list) < s.opts.PageSize || n >= s.guard.limits.SessionQuotaBytes {
			return n, known, nil
		}
	}
}

// lru is a map of at most max entries that forgets the least recently used
// first, and any unused for idle. The caller locks it.
type lru[V any] struct {
	max   int
	idle  time.Duration
	order *list.List // of *lruEntry[V], most recent first
	index map[string]*list.Element
}

type lruEntry[V any] struct {
	key  string
	seen time.Time
	val  V
}

func newLRU[V any](max int, idle time.Duration) *lru[V] {
	return &lru[V]{max: max, idle: idle, order: list.New(), index: make(map[string]*list.Element)}
}

// get returns the value of key and marks it used at now.
func (c *lru[V]) get(key string, now time.Time) (V, bool) {
	el, ok := c.index[key]
	if !ok {
		var zero V
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	e.seen = now
	c.order.MoveToFront(el)
	return e.val, true
}

// add stores val under key (which must not be there), first forgetting the
// entries idle for too long and, when full, the least recently used.
func (c *lru[V]) add(key string, val V, now time.Time) {
	for el := c.order.Back(); el != nil; el = c.order.Back() {
		e := el.Value.(*lruEntry[V])
		if c.order.Len() < c.max && now.Sub(e.seen) < c.idle {
			break
		}
		c.order.Remove(el)
		delete(c.index, e.key)
	}
	c.index[key] = c.order.PushFront(&lruEntry[V]{key: key, seen: now, val: val})
}

// len is the number of entries.
func (c *lru[V]) len() int { return c.order.Len() }
