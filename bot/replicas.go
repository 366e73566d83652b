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
