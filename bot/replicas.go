package bot

import "context"

// This file names everything that works in one process only, so that a
// deployment with several processes on one store (issue 21) has a seam to
// fill. Both interfaces live here, beside the core that consumes them, as
// the domain's words; bot/inproc holds the in-process implementations that
// one idicbot uses today, and a shared store brings its own (PostgreSQL:
// LISTEN/NOTIFY and a lease or advisory lock).

// Topics of a Notifier. Adapters name their own (the web chat wakes
// "webchat" with a session id as the key).
const (
	// TopicOffers: the stored offers changed; every core reloads them.
	TopicOffers = "offers"
	// TopicSegments: the stored segment rules changed; every core reloads
	// them.
	TopicSegments = "segments"
)

// Notifier tells every process sharing the store that something it may
// hold in memory changed: a reply committed for a web chat session (whose
// long polls and streams wait in whichever process the browser reached),
// offers or segment rules saved through one process's admin. A notification
// carries no data; the subscriber reads the store again.
type Notifier interface {
	// Notify wakes every subscriber of topic and key, in every process. It
	// never waits for a subscriber to act.
	Notify(ctx context.Context, topic, key string) error
	// Subscribe returns a channel that becomes ready after the next Notify
	// of topic and key (notifications that arrive while one is pending are
	// one), and a release func to call once the caller stops listening
	// (calling it again is harmless). Subscribe before reading the state
	// the notification is about, so that a change between the read and the
	// wait is not lost.
	Subscribe(topic, key string) (<-chan struct{}, func())
}

// Leader runs the work that must run in one process at a time among those
// sharing the store (a singleton: Telegram long polling, the segment sweep,
// retention, the Zalo token refresh).
type Leader interface {
	// Run blocks until this process holds the lease name, then calls fn
	// with a context that is cancelled when the lease is lost or ctx ends.
	// When fn returns because the lease was lost, Run waits for the lease
	// again and calls fn again, so fn must be able to start over. Run
	// returns fn's error once fn returns while the lease is still held, and
	// nil when ctx ends (or the Leader closes) first.
	Run(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// publish tells the other processes that the stored state of topic
// changed. The change is committed and live here already, so a failure is
// logged, not returned: the others keep the old state until the next
// change reaches them or they restart.
func (c *Core) publish(ctx context.Context, topic string) {
	if c.notifier == nil {
		return
	}
	if err := c.notifier.Notify(ctx, topic, ""); err != nil {
		c.log.Error("other processes were not told of a change; they keep the old one until the next", "topic", topic, "err", err)
	}
}

// RunReloads makes offers and segment rules saved through another process
// live in this one, each at the first message after the notification
// reached it, until ctx ends. The process that saved has reloaded already
// (its next message uses the change); hearing its own notification, it
// reads the same state again, which costs one read per save. Without a
// Notifier it returns at once.
func (c *Core) RunReloads(ctx context.Context) {
	if c.notifier == nil {
		return
	}
	offers, releaseOffers := c.notifier.Subscribe(TopicOffers, "")
	defer releaseOffers()
	segments, releaseSegments := c.notifier.Subscribe(TopicSegments, "")
	defer releaseSegments()
	// A save elsewhere between the load at start and the subscriptions
	// above would otherwise be missed.
	reloadOffers, reloadSegments := true, true
	for {
		if reloadSegments {
			if err := c.LoadSegmentRules(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("reload segment rules saved elsewhere", "err", err)
			}
		}
		if reloadOffers {
			if err := c.LoadOffers(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("reload offers saved elsewhere", "err", err)
			}
		}
		reloadOffers, reloadSegments = false, false
		select {
		case <-ctx.Done():
			return
		case <-offers:
			reloadOffers = true
		case <-segments:
			reloadSegments = true
		}
	}
}
