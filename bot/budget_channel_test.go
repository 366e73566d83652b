package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// waitSent waits until rec has sent n items in all (kept in *got) or fails.
func waitSent(t *testing.T, rec *bottest.Recorder, got *[]*crm.OutboxItem, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(*got) < n {
		*got = append(*got, rec.Take()...)
		if time.Now().After(deadline) {
			t.Fatalf("sent %d, want %d", len(*got), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A chat waiting for its per-chat interval does not hold up another chat
// of its lane; the held message leaves once the interval has passed.
func TestBudgetPerChatWaitDoesNotBlockOthers(t *testing.T) {
	e := newEnv(t, "")
	e.disp.Close()
	pace := bottest.NewClock(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	queueItems(t, e.db, []crm.OutboxItem{
		{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: "A", UserID: "A", Text: "a1", Priority: crm.PriorityProactive},
		{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: "A", UserID: "A", Text: "a2", Priority: crm.PriorityProactive},
		{CustomerID: 2, Channel: crm.ChannelTelegram, ChatID: "B", UserID: "B", Text: "b1", Priority: crm.PriorityProactive},
	})
	rec := &bottest.Recorder{}
	disp := bot.NewDispatcher(e.db, bot.DispatcherOptions{Lanes: 1, PaceNow: pace.Now,
		Budgets: map[crm.Channel]bot.Budget{crm.ChannelTelegram: {PerChat: time.Second}},
		// The lane looks again soon; the pace clock alone decides.
		After: func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }})
	disp.Register(crm.ChannelTelegram, rec)
	if err := disp.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer disp.Close()
	var sent []*crm.OutboxItem
	waitSent(t, rec, &sent, 2)
	if got, want := sent[0].Text+","+sent[1].Text, "a1,b1"; got != want {
		t.Fatalf("sent %s, want %s (a2 waits for its chat's interval)", got, want)
	}
	pace.Add(999 * time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if more := rec.Take(); len(more) != 0 {
		t.Fatalf("sent %s before chat A's interval passed", more[0].Text)
	}
	pace.Add(time.Millisecond)
	waitSent(t, rec, &sent, 3)
	if got := sent[2].Text; got != "a2" {
		t.Fatalf("third sent %q, want a2", got)
	}
}

// Under a channel budget a campaign drains at the budget's rate but keeps
// a reserve: a live reply queued behind thousands of proactive messages
// leaves at once, while the proactive ones wait for tokens.
func TestBudgetReservesTokensForReplies(t *testing.T) {
	e := newEnv(t, "")
	e.disp.Close()
	pace := bottest.NewClock(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	items := make([]crm.OutboxItem, 100)
	for i := range items {
		items[i] = crm.OutboxItem{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: fmt.Sprint(1000 + i),
			UserID: fmt.Sprint(1000 + i), Text: "promo", Priority: crm.PriorityProactive}
	}
	queueItems(t, e.db, items)
	rec := &bottest.Recorder{}
	disp := bot.NewDispatcher(e.db, bot.DispatcherOptions{Lanes: 2, PaceNow: pace.Now,
		Budgets: map[crm.Channel]bot.Budget{crm.ChannelTelegram: {PerSecond: 30, Burst: 20}},
		After:   func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }})
	disp.Register(crm.ChannelTelegram, rec)
	if err := disp.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer disp.Close()
	var sent []*crm.OutboxItem
	// Burst 20, reserve 5: 15 proactive messages leave, then they wait.
	waitSent(t, rec, &sent, 15)
	time.Sleep(20 * time.Millisecond)
	if sent = append(sent, rec.Take()...); len(sent) != 15 {
		t.Fatalf("proactive sent %d with a frozen clock, want 15 (the reserve kept)", len(sent))
	}
	queueItems(t, e.db, []crm.OutboxItem{{CustomerID: 2, Channel: crm.ChannelTelegram, ChatID: "live", UserID: "live",
		Text: "reply", Priority: crm.PriorityReply}})
	disp.Enqueue(&crm.OutboxItem{}) // wakes the claimer
	waitSent(t, rec, &sent, 16)
	if got := sent[15].Text; got != "reply" {
		t.Fatalf("after the burst sent %q, want the live reply from the reserve", got)
	}
	// One second later the bucket is full again (20): 15 more proactive
	// messages leave, 5 tokens stay for replies.
	pace.Add(time.Second)
	waitSent(t, rec, &sent, 16+15)
	time.Sleep(20 * time.Millisecond)
	if sent = append(sent, rec.Take()...); len(sent) != 31 {
		t.Fatalf("sent %d after one second, want 31", len(sent))
	}
}
