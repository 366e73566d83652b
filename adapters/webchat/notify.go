package webchat

import (
	"context"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/inproc"
)

// notifyTopic is the Notifier topic of web chat wake-ups; the key is the
// session id.
const notifyTopic = "webchat"

// notifier wakes the requests waiting on a session (long polls and event
// streams) through a bot.Notifier, so that a reply committed in one process
// wakes the readers connected to another. Each wait subscribes afresh and
// releases when it stops; the in-process Notifier (the default) keeps a
// session's entry only while someone waits on it, so abandoned sessions
// cost nothing.
type notifier struct {
	n bot.Notifier
}

func newNotifier(n bot.Notifier) notifier {
	if n == nil {
		n = inproc.NewNotifier()
	}
	return notifier{n: n}
}

// subscribe returns a channel ready at the next wake of session, and a
// release func the caller must call once it stops waiting. Subscribe before
// reading the conversation so that a wake between the read and the wait is
// not lost.
func (n notifier) subscribe(session string) (<-chan struct{}, func()) {
	return n.n.Subscribe(notifyTopic, session)
}

// wake wakes every current waiter of session, in every process.
func (n notifier) wake(ctx context.Context, session string) error {
	return n.n.Notify(ctx, notifyTopic, session)
}
