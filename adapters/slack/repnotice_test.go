package slack_test

import (
	"context"
	"strings"
	"testing"
	"time"

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

// The complaint's urgent flag travels with the notice through the outbox:
// the card and its urgent line, and the line again on a card already
// posted.
func TestUrgentHandoffThroughOutbox(t *testing.T) {
	e := newEnv(t, false)
	e.disp.Register(bot.ChannelReps, e.a.RepNotices())
	e.say(crm.ChannelWeb, "w-u1", "sp em mua bị lỗi, màn hình bị sọc")
	card := e.fake.Wait("chat.postMessage", 1, 5*time.Second)[0]
	urgentIn := func(ts string) func() bool {
		return func() bool {
			for _, c := range e.fake.Calls("chat.postMessage") {
				if c.Form.Get("thread_ts") == ts && strings.Contains(c.Form.Get("text"), "🚨 complaint") {
					return true
				}
			}
			return false
		}
	}
	eventually(t, "urgent line in the card's thread", urgentIn(card.TS))
	res, _ := e.say(crm.ChannelWeb, "w-u2", "gặp nhân viên")
	calls := e.fake.Wait("chat.postMessage", 3, 5*time.Second)
	second := calls[len(calls)-1]
	if urgentIn(second.TS)() {
		t.Fatalf("a plain request for a person was flagged urgent")
	}
	eventually(t, "thread stored", func() bool { return e.customer(res.CustomerID).Handoff.Thread != "" })
	e.say(crm.ChannelWeb, "w-u2", "giao sai màu rồi, thất vọng quá")
	eventually(t, "urgent line on the card already posted", urgentIn(second.TS))
}
