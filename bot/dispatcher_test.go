package bot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// manualTime is a clock and timers moved by hand: a dispatcher's waits
// fire when the test advances past them, never by the wall clock.
type manualTime struct {
	mu     sync.Mutex
	now    time.Time
	timers []manualTimer
	waits  []time.Duration // every wait asked for
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

func (m *manualTime) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualTime) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waits = append(m.waits, d)
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.timers = append(m.timers, manualTimer{m.now.Add(d), ch})
	return ch
}

// Advance moves the clock and fires the timers it passes.
func (m *manualTime) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	kept := m.timers[:0]
	for _, t := range m.timers {
		if t.at.After(m.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- m.now
	}
	m.timers = kept
}

// Pending is the number of waits not over yet.
func (m *manualTime) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.timers)
}

func (m *manualTime) Waits() []time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]time.Duration(nil), m.waits...)
}

// notifySender records what it sends and says so on a channel.
type notifySender struct {
	mu   sync.Mutex
	sent []*crm.OutboxItem
	ch   chan *crm.OutboxItem
}

func (s *notifySender) Send(_ context.Context, it *crm.OutboxItem) error {
	cp := *it
	s.mu.Lock()
	s.sent = append(s.sent, &cp)
	s.mu.Unlock()
	select {
	case s.ch <- &cp:
	default:
	}
	return nil
}

func (s *notifySender) take() []*crm.OutboxItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

// queueItems stores items as a campaign or another process would: not
// leased to anyone, to be claimed.
func queueItems(t *testing.T, s crm.Store, items []crm.OutboxItem) []crm.ID {
	t.Helper()
	ids := make([]crm.ID, len(items))
	err := s.Update(context.Background(), func(tx crm.Tx) error {
		for i := range items {
			it := items[i]
			if err := tx.EnqueueOutbox(&it); err != nil {
				return err
			}
			ids[i] = it.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func outboxItem(t *testing.T, s crm.Store, id crm.ID) *crm.OutboxItem {
	t.Helper()
	var it *crm.OutboxItem
	if err := s.View(context.Background(), func(tx crm.Tx) (err error) {
		it, err = tx.OutboxItem(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return it
}

// Two dispatchers on one store, each holding little at a time so that they
// claim in turns, send every item exactly once between them.
func TestDispatcherTwoOwnersNeverSendTwice(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.disp.Close()
	items := make([]crm.OutboxItem, 300)
	for i := range items {
		items[i] = crm.OutboxItem{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: fmt.Sprint("chat", i%20),
			UserID: fmt.Sprint("chat", i%20), Text: fmt.Sprint(i)}
	}
	ids := queueItems(t, e.db, items)
	rec := &notifySender{}
	var disps []*bot.Dispatcher
	for _, owner := range []string{"a", "b"} {
		d := bot.NewDispatcher(e.db, bot.DispatcherOptions{Owner: owner, Lanes: 3, MaxClaimed: 7, Poll: time.Millisecond, Budgets: map[crm.Channel]bot.Budget{}})
		d.Register(crm.ChannelTelegram, rec)
		disps = append(disps, d)
	}
	for _, d := range disps {
		if err := d.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer d.Close()
	}
	for _, d := range disps {
		if err := d.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sent := map[crm.ID]int{}
	for _, it := range rec.take() {
		sent[it.ID]++
	}
	for _, id := range ids {
		if sent[id] != 1 {
			t.Errorf("item %d sent %d times, want once", id, sent[id])
		}
		if it := outboxItem(t, e.db, id); it.Status != crm.OutboxSent || it.LeaseOwner != "" {
			t.Errorf("item %d: %s, leased to %q; want sent, no lease", id, it.Status, it.LeaseOwner)
		}
	}
}

// An item held by a sender that died is sent by another once the lease
// ends, not before; an item due later is sent when it falls due.
func TestDispatcherClaimsWhenDue(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.disp.Close()
	clk := &manualTime{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	now := clk.Now()
	ids := queueItems(t, e.db, []crm.OutboxItem{
		{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: "1", UserID: "1", Text: "held by a dead sender",
			LeaseOwner: "dead", LeaseUntil: now.Add(90 * time.Second)},
		{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: "2", UserID: "2", Text: "birthday", Priority: crm.PriorityProactive,
			Due: now.Add(time.Hour)},
	})
	rec := &notifySender{ch: make(chan *crm.OutboxItem, 4)}
	d := bot.NewDispatcher(e.db, bot.DispatcherOptions{Owner: "alive", Lanes: 2, Now: clk.Now, After: clk.After})
	d.Register(crm.ChannelTelegram, rec)
	if err := d.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	expect := func(when, text string) {
		t.Helper()
		select {
		case it := <-rec.ch:
			if it.Text != text {
				t.Fatalf("%s: sent %q, want %q", when, it.Text, text)
			}
		case <-time.After(10 * time.Second): // a guard against a hang, not a speed check
			t.Fatalf("%s: %q was not sent", when, text)
		}
	}
	step := func(d time.Duration) {
		// Once the claimer waits, move time on.
		for clk.Pending() == 0 {
			time.Sleep(time.Millisecond)
		}
		clk.Advance(d)
	}
	if sent := rec.take(); len(sent) != 0 {
		t.Fatalf("sent %d items at once, want none: one is leased, one not due", len(sent))
	}
	step(time.Minute)
	if got := outboxItem(t, e.db, ids[0]); got.LeaseOwner != "dead" || got.Status != crm.OutboxPending {
		t.Fatalf("after a minute the dead sender's item is %s, leased to %q", got.Status, got.LeaseOwner)
	}
	step(time.Minute)
	expect("after the lease ended", "held by a dead sender")
	for range 5 { // to 52 minutes past
		step(10 * time.Minute)
	}
	select {
	case it := <-rec.ch:
		t.Fatalf("sent %q before it was due", it.Text)
	default:
	}
	step(10 * time.Minute)
	expect("when due", "birthday")
	for _, w := range clk.Waits() {
		if w <= 0 || w > 10*time.Second {
			t.Errorf("the claimer waited %v; want waits of at most the poll (10s) and never 0 (a busy loop)", w)
		}
	}
}

// A live reply queued after 1,000 proactive messages leaves before them,
// on the same lane.
func TestDispatcherReplyBeforeProactive(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.disp.Close()
	items := make([]crm.OutboxItem, 1000)
	for i := range items {
		items[i] = crm.OutboxItem{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: fmt.Sprint(100 + i),
			UserID: fmt.Sprint(100 + i), Text: "promo", Priority: crm.PriorityProactive}
	}
	queueItems(t, e.db, items)
	gate, first := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rec := &bottest.Recorder{Fail: func(*crm.OutboxItem) error {
		once.Do(func() { close(first); <-gate }) // the first send is slow
		return nil
	}}
	disp := bot.NewDispatcher(e.db, bot.DispatcherOptions{Lanes: 1, Budgets: map[crm.Channel]bot.Budget{}})
	disp.Register(crm.ChannelTelegram, rec)
	core := bot.New(bot.Options{Store: e.db, Dispatcher: disp, Segments: e.core.Segments(), Now: e.clock.Now})
	if err := disp.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer disp.Close()
	<-first
	res, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "9", MessageID: "1", Text: "cảm ơn"})
	if err != nil {
		t.Fatal(err)
	}
	close(gate)
	if err := disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sent := rec.Take()
	if len(sent) != 1000+len(res.Outbox) {
		t.Fatalf("sent %d, want %d", len(sent), 1000+len(res.Outbox))
	}
	// The proactive message in flight when the reply came, then the reply.
	if sent[0].Text != "promo" {
		t.Fatalf("first sent %q, want the promotion in flight", sent[0].Text)
	}
	for k, id := range res.Outbox {
		if got := sent[1+k]; got.ID != id || got.ChatID != "9" {
			t.Fatalf("send %d went to chat %s (item %d), want the reply %d", 1+k, got.ChatID, got.ID, id)
		}
	}
}
