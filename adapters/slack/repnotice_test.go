package slack_test

import (
	"context"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// With the reps' notices on the outbox, a customer's request for a person
// is queued with the request itself and the card is posted once, even when
// Slack fails the first time.
func TestHandoffCardThroughOutbox(t *testing.T) {
	e := newEnv(t, false)
	e.disp.Register(bot.ChannelReps, e.a.RepNotices())
	e.fake.Reset()
	e.fake.Fail("chat.postMessage", 503)
	res, _ := e.say(crm.ChannelWeb, "w-outbox", "cho mình gặp nhân viên")
	card := e.handoffCard(res.CustomerID)
	if card.Form.Get("channel") != handoffChan {
		t.Fatalf("card posted to %q, want %q", card.Form.Get("channel"), handoffChan)
	}
	e.flush()
	posted := 0
	for _, c := range e.fake.Calls("chat.postMessage") {
		if c.Form.Get("thread_ts") == "" {
			posted++
		}
	}
	if posted != 1 {
		t.Fatalf("%d cards posted, want 1", posted)
	}
	var notices []*crm.OutboxItem
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		for id := crm.ID(1); ; id++ {
			it, err := tx.OutboxItem(id)
			if crm.ErrorCode(err) == crm.ENOTFOUND {
				return nil
			}
			if err != nil {
				return err
			}
			if it.Channel == bot.ChannelReps {
				notices = append(notices, it)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].CustomerID != res.CustomerID || notices[0].Status != crm.OutboxSent {
		t.Fatalf("reps' notices %+v, want one, sent, for the customer", notices)
	}
}
