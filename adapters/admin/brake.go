package admin

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Brake defaults: an address may present 10 wrong tokens at once, then one
// more every minute; 10,000 addresses are remembered.
const (
	DefaultBrakeFailures = 10
	DefaultBrakeWindow   = 10 * time.Minute
	DefaultBrakeClients  = 10_000
)

// brake slows down token guessing per client address (IPv6: per /64). Only
// wrong tokens count, on the login form and the bearer API alike; a braked
// address is refused before its token is even looked at, so guessing from
// it stops, while every other address, the owner's, is untouched.
type brake struct {
	every   rate.Limit // how fast a braked address may try again
	burst   int        // wrong tokens allowed at once
	max     int        // addresses remembered
	mu      sync.Mutex
	clients map[string]*brakeEntry
}

type brakeEntry struct {
	lim  *rate.Limiter
	last time.Time // the last wrong token
}

func newBrake(failures int, window time.Duration, clients int) *brake {
	return &brake{
		every: rate.Every(window / time.Duration(failures)), burst: failures, max: clients,
		clients: map[string]*brakeEntry{},
	}
}

// wait reports how long client must wait before presenting a token, 0 when
// it may now.
func (b *brake) wait(client string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.clients[client]
	if e == nil {
		return 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(b.every) * float64(time.Second))
}

// fail counts a wrong token from client.
func (b *brake) fail(client string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.clients[client]
	if e == nil {
		if len(b.clients) >= b.max {
			b.evict(now)
		}
		e = &brakeEntry{lim: rate.NewLimiter(b.every, b.burst)}
		b.clients[client] = e
	}
	e.last = now
	e.lim.AllowN(now, 1)
}

// evict makes room: it forgets the addresses whose failures are all
// forgiven, and if that is not enough, the tenth that failed longest ago
// (at once, so that an attacker with many addresses does not make every
// new one cost a scan). b.mu is held.
func (b *brake) evict(now time.Time) {
	for k, e := range b.clients {
		if e.lim.TokensAt(now) >= float64(b.burst) {
			delete(b.clients, k)
		}
	}
	if len(b.clients) < b.max {
		return
	}
	keys := make([]string, 0, len(b.clients))
	for k := range b.clients {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int { return b.clients[x].last.Compare(b.clients[y].last) })
	for _, k := range keys[:len(keys)-b.max*9/10] {
		delete(b.clients, k)
	}
}

// size is the number of addresses remembered.
func (b *brake) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.clients)
}

// retryAfter is the value of a Retry-After header: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// brakedMessage says how long to wait, in words an admin reads.
func brakedMessage(d time.Duration) string {
	return "Too many wrong admin tokens from your address: try again in " + retryAfter(d) + " seconds."
}
