package bot

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/idicbot/idicbot/crm"
)

// Budget is how fast the dispatcher may send on one channel: the channel's
// own limits, kept here rather than in each adapter so that one scheduler
// sees them all (docs/outreach.md says where each default comes from).
type Budget struct {
	// PerSecond is the most messages per second to all chats of the
	// channel; 0 or less: no channel-wide limit.
	PerSecond float64
	// Burst is how many messages may leave at once after a quiet spell
	// (default: PerSecond rounded up, at least 1).
	Burst int
	// PerChat is the least time between two messages to one chat; 0: none.
	PerChat time.Duration
}

// DefaultBudgets are the channels' published limits for messages sent by
// a bot. Telegram: about 30 messages per second in all and one per second
// in one chat (core.telegram.org/bots/faq). Zalo OA: about 4,000 API calls
// a minute per app (shared/channels/zalo-oa.md §4.5), kept under at 60/s.
// Messenger publishes no per-second send cap (its limits count calls per
// 24 h and answer with error codes 4/613, which the dispatcher honours as
// retry-after); one per second per chat keeps a burst of split messages
// readable.
func DefaultBudgets() map[crm.Channel]Budget {
	return map[crm.Channel]Budget{
		crm.ChannelTelegram: {PerSecond: 30, Burst: 30, PerChat: time.Second},
		crm.ChannelZalo:     {PerSecond: 60, Burst: 60},
	}
}

// channelBudget is a Budget at run time. The token bucket is shared by
// every lane; a proactive message may take a token only while reserve
// tokens stay for live replies, so a campaign draining at the channel's
// full rate still leaves live replies their burst.
type channelBudget struct {
	lim     *rate.Limiter // nil: no channel-wide limit
	reserve float64
	perChat time.Duration

	// mu makes look-then-take one step, and last keeps the limiter's
	// clock from going back: a lane that read the time before another
	// lane's take would otherwise move the bucket's clock back and have
	// the same interval's tokens counted twice.
	mu   sync.Mutex
	last time.Time
}

func newChannelBudget(b Budget) *channelBudget {
	cb := &channelBudget{perChat: b.PerChat}
	if b.PerSecond > 0 {
		burst := b.Burst
		if burst <= 0 {
			burst = max(1, int(b.PerSecond+0.999))
		}
		cb.lim = rate.NewLimiter(rate.Limit(b.PerSecond), burst)
		cb.reserve = float64(burst / 4)
	}
	return cb
}

// take takes a token at now for one message if the budget allows it, else
// it reports how long until it may.
func (b *channelBudget) take(now time.Time, proactive bool) (bool, time.Duration) {
	if b == nil || b.lim == nil {
		return true, 0
	}
	need := 1.0
	if proactive {
		need += b.reserve
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.last) {
		now = b.last
	}
	b.last = now
	if tok := b.lim.TokensAt(now); tok < need {
		return false, max(time.Duration((need-tok)/float64(b.lim.Limit())*float64(time.Second)), time.Millisecond)
	}
	b.lim.AllowN(now, 1) // at least need tokens are there: it cannot fail
	return true, 0
}

// chatKey is one chat on one channel.
type chatKey struct {
	channel crm.Channel
	chat    string
}

func keyOf(it *crm.OutboxItem) chatKey { return chatKey{it.Channel, it.ChatID} }

// next takes the first item of the lane that may leave at now: the first
// queued item of its chat (order per chat holds), whose chat is not held
// (per-chat interval, a channel's retry-after) and whose channel has a
// token. Items of a chat that must wait are passed over, so a wait for
// one chat never holds up another. When nothing may leave it returns how
// long until something may (0: the lane is empty). Call with l.mu held.
func (l *lane) next(now time.Time, budgets map[crm.Channel]*channelBudget) (*crm.OutboxItem, time.Duration) {
	var wait time.Duration
	soon := func(d time.Duration) {
		if wait == 0 || d < wait {
			wait = d
		}
	}
	if l.skip == nil {
		l.skip = map[chatKey]bool{}
		l.chatNext = map[chatKey]time.Time{}
	}
	clear(l.skip)
	for i, it := range l.items {
		k := keyOf(it)
		if l.skip[k] {
			continue
		}
		if t, ok := l.chatNext[k]; ok && t.After(now) {
			l.skip[k] = true
			soon(t.Sub(now))
			continue
		}
		b := budgets[it.Channel]
		ok, w := b.take(now, it.Priority > crm.PriorityReply)
		if !ok {
			l.skip[k] = true
			soon(w)
			continue
		}
		if i == 0 {
			// The usual case: the head leaves in O(1), not a copy of
			// the whole queue.
			l.items[0] = nil
			l.items = l.items[1:]
		} else {
			l.items = slices.Delete(l.items, i, i+1)
		}
		if b != nil && b.perChat > 0 {
			l.chatNext[k] = now.Add(b.perChat)
			l.pruneChats(now)
		}
		return it, 0
	}
	return nil, wait
}

// hold keeps a chat's messages back until t (a channel's retry-after).
func (l *lane) holdChat(k chatKey, t time.Time) {
	if l.chatNext == nil {
		l.skip = map[chatKey]bool{}
		l.chatNext = map[chatKey]time.Time{}
	}
	if t.After(l.chatNext[k]) {
		l.chatNext[k] = t
	}
}

// pruneChats forgets chats whose hold has passed once the map has doubled,
// so a campaign to a million chats does not keep a million entries.
func (l *lane) pruneChats(now time.Time) {
	if len(l.chatNext) < l.pruneAt {
		return
	}
	for k, t := range l.chatNext {
		if !t.After(now) {
			delete(l.chatNext, k)
		}
	}
	l.pruneAt = max(1024, 2*len(l.chatNext))
}

// requeue puts back an item taken by next that must wait (retry-after):
// before every other item of its chat, so the chat's order holds, and no
// later than its priority's place.
func (l *lane) requeue(it *crm.OutboxItem) {
	k := keyOf(it)
	i := 0
	for i < len(l.items) && keyOf(l.items[i]) != k && l.items[i].Priority <= it.Priority {
		i++
	}
	l.items = slices.Insert(l.items, i, it)
}
