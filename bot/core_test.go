package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// A replayed event changes nothing, even when the copies arrive at once.
func TestDedupeConcurrent(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	var wg sync.WaitGroup
	var dups sync.Map
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "s1", MessageID: "same", Text: "xin chào"})
			if err != nil {
				t.Error(err)
			}
			dups.Store(i, res.Duplicate)
		}(i)
	}
	wg.Wait()
	if err := e.disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	firsts := 0
	dups.Range(func(_, v any) bool {
		if !v.(bool) {
			firsts++
		}
		return true
	})
	if firsts != 1 {
		t.Fatalf("%d deliveries were handled as new, want 1", firsts)
	}
	if sent := e.rec.Take(); len(sent) != 2 {
		t.Fatalf("sent %d messages, want 2 (greeting + offer)", len(sent))
	}
	c := e.customer(crm.ChannelWeb, "s1")
	if c.Stats.MessagesIn != 1 {
		t.Fatalf("messages in = %d, want 1", c.Stats.MessagesIn)
	}
}

func TestBadInboundIsRefusedAndStoresNothing(t *testing.T) {
	e := newEnv(t, "")
	long := make([]rune, bot.MaxTextLen+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name string
		in   bot.Inbound
	}{
		{"no channel", bot.Inbound{UserID: "u", MessageID: "1", Text: "hi"}},
		{"no user", bot.Inbound{Channel: crm.ChannelWeb, MessageID: "1", Text: "hi"}},
		{"no message id", bot.Inbound{Channel: crm.ChannelWeb, UserID: "u", Text: "hi"}},
		{"empty text", bot.Inbound{Channel: crm.ChannelWeb, UserID: "u", MessageID: "1", Text: "   "}},
		{"too long", bot.Inbound{Channel: crm.ChannelWeb, UserID: "u", MessageID: "1", Text: string(long)}},
		{"invalid utf-8", bot.Inbound{Channel: crm.ChannelWeb, UserID: "u", MessageID: "1", Text: "\xff"}},
		{"button without payload", bot.Inbound{Channel: crm.ChannelWeb, UserID: "u", MessageID: "1", Kind: crm.KindButton}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.core.Handle(context.Background(), tt.in)
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
		})
	}
	if c := e.customer(crm.ChannelWeb, "u"); c != nil {
		t.Fatal("bad input created a customer")
	}
}

// The sweep moves customers whose situation changed only with time.
func TestSweepMovesLoyalToAtRisk(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.say(bot.Inbound{UserID: "a", Text: "xin chào"})
	e.say(bot.Inbound{UserID: "b", Text: "xin chào"})
	a := e.customer(crm.ChannelWeb, "a")
	for i := 0; i < 2; i++ {
		if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: a.ID, Amount: 1_000_000, Time: e.clock.Now().AddDate(0, 0, -10*i)}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.customer(crm.ChannelWeb, "a").Segment.Name; got != crm.SegmentLoyal {
		t.Fatalf("segment %s, want loyal", got)
	}
	if n, err := e.core.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep now: moved %d, %v; want 0", n, err)
	}
	e.clock.Add(59 * 24 * time.Hour)
	if n, _ := e.core.Sweep(ctx); n != 0 {
		t.Fatalf("after 59 days: moved %d, want 0", n)
	}
	e.clock.Add(2 * 24 * time.Hour)
	n, err := e.core.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("after 61 days: moved %d, %v; want 1", n, err)
	}
	c := e.customer(crm.ChannelWeb, "a")
	if c.Segment.Name != crm.SegmentAtRisk || !c.Segment.Since.Equal(e.clock.Now()) || c.Segment.Rule == "" {
		t.Fatalf("segment after sweep: %+v", c.Segment)
	}
	var changes []*crm.SegmentChange
	if err := e.db.View(ctx, func(tx crm.Tx) error {
		return tx.CustomerEvents(a.ID, time.Time{}, time.Time{}, func(ev *crm.Event) error {
			if ev.Kind == crm.EventSegmentChange {
				changes = append(changes, ev.SegmentChange())
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if last := changes[len(changes)-1]; last.From != crm.SegmentLoyal || last.To != crm.SegmentAtRisk || last.Cause != "sweep" {
		t.Fatalf("last change: %+v", last)
	}
	if got := e.customer(crm.ChannelWeb, "b").Segment.Name; got != crm.SegmentNew {
		t.Fatalf("b moved to %s", got)
	}
}

// A phone shared on a second channel makes the two customers one.
// A phone the channel proves (a Telegram contact with the sender's own user
// id) merges with the customer the shop already knows by it (imported, or
// proven on another channel); a typed one does not.
func TestProvenPhoneMergesAcrossChannels(t *testing.T) {
	e := newEnv(t, "")
	e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: "z1", Kind: crm.KindContact, Contact: &bot.Contact{Phone: "0912345678", Self: true}})
	zalo := e.customer(crm.ChannelZalo, "z1")
	e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "777", Kind: crm.KindContact, Contact: &bot.Contact{Phone: "84912345678", FirstName: "An", Self: true}})
	tg := e.customer(crm.ChannelTelegram, "777")
	if tg == nil || tg.ID != zalo.ID {
		t.Fatalf("telegram customer %v, zalo customer %d: want the same", tg, zalo.ID)
	}
	if len(tg.Identities) != 2 || tg.Phone != "+84912345678" || tg.Stats.MessagesIn != 2 {
		t.Fatalf("merged customer: %+v", tg)
	}
	// Someone else's contact card is not linked.
	e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "888", Kind: crm.KindContact, Contact: &bot.Contact{Phone: "0912345678", Self: false}})
	if other := e.customer(crm.ChannelTelegram, "888"); other.ID == zalo.ID || other.Phone != "" || other.Claims.Phone != "" {
		t.Fatalf("a shared contact of another person was linked: %+v", other)
	}
	// A typed number is a claim: kept to call back, never a merge.
	e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "web1", Text: "sdt 0912 345 678"})
	web := e.customer(crm.ChannelWeb, "web1")
	if web.ID == zalo.ID || web.Phone != "" || web.Claims.Phone != "+84912345678" || web.CallbackPhone() != "+84912345678" {
		t.Fatalf("typed phone: %+v", web)
	}
}

func TestEditUpdatesLogWithoutReply(t *testing.T) {
	e := newEnv(t, "")
	e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "1", MessageID: "m:1:5", Text: "gia iphon"})
	res, sent := e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "1", MessageID: "e:1:5:99", EditOf: "m:1:5", Text: "giá iphone 15"})
	if len(sent) != 0 {
		t.Fatalf("an edit was answered: %v", sent)
	}
	var it *crm.Interaction
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		it, err = tx.Interaction(res.CustomerID, res.InteractionID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if it == nil || it.Text != "giá iphone 15" || it.Original != "gia iphon" || !it.Edited {
		t.Fatalf("edited interaction: %+v", it)
	}
}

// The dispatcher retries temporary errors, waits exactly the channel's
// retry-after, gives up on permanent errors and marks blocked users.
func TestDispatcherErrors(t *testing.T) {
	tests := []struct {
		name       string
		errs       []error // returned by successive sends
		wantStatus string
		wantSleeps []time.Duration
		unreach    bool
		wantHold   time.Duration // the chat held back for a retry-after
	}{
		{"temporary then ok", []error{errors.New("502"), errors.New("timeout")}, crm.OutboxSent, []time.Duration{-1, -1}, false, 0},
		{"rate limited", []error{&bot.RetryAfterError{After: 3 * time.Second}}, crm.OutboxSent, nil, false, 3 * time.Second},
		{"permanent", []error{bot.Permanent(errors.New("400 bad request"))}, crm.OutboxFailed, nil, false, 0},
		{"blocked", []error{fmt.Errorf("403: %w", bot.ErrUnreachable)}, crm.OutboxFailed, nil, true, 0},
		{"gives up", []error{errors.New("a"), errors.New("b"), errors.New("c")}, crm.OutboxFailed, []time.Duration{-1, -1}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			ctx := context.Background()
			e.disp.Close()
			var mu sync.Mutex
			var sleeps []time.Duration
			calls := 0
			rec := &bottest.Recorder{Fail: func(*crm.OutboxItem) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			}}
			var held []time.Duration
			disp := bot.NewDispatcher(e.db, bot.DispatcherOptions{Lanes: 1, MaxAttempts: 3, Backoff: time.Second, MaxBackoff: time.Minute,
				PaceNow: e.clock.Now, Budgets: map[crm.Channel]bot.Budget{},
				After: func(d time.Duration) <-chan time.Time {
					if d != tt.wantHold {
						return time.After(d) // the claimer's poll
					}
					// The lane waits for the held chat: move the clock.
					mu.Lock()
					held = append(held, d)
					mu.Unlock()
					e.clock.Add(d)
					c := make(chan time.Time, 1)
					c <- e.clock.Now()
					return c
				},
				Sleep: func(ctx context.Context, d time.Duration) error {
					mu.Lock()
					sleeps = append(sleeps, d)
					mu.Unlock()
					return nil
				}})
			disp.Register(crm.ChannelTelegram, rec)
			core := bot.New(bot.Options{Store: e.db, Dispatcher: disp, Segments: e.core.Segments(), Now: e.clock.Now})
			if err := disp.Open(ctx); err != nil {
				t.Fatal(err)
			}
			defer disp.Close()
			res, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "9", MessageID: "1", Text: "cảm ơn"})
			if err != nil {
				t.Fatal(err)
			}
			if err := disp.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var it *crm.OutboxItem
			var cust *crm.Customer
			if err := e.db.View(ctx, func(tx crm.Tx) error {
				it, _ = tx.OutboxItem(res.Outbox[0])
				cust, _ = tx.Customer(res.CustomerID)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if it.Status != tt.wantStatus {
				t.Fatalf("status %s (%s), want %s", it.Status, it.LastError, tt.wantStatus)
			}
			if len(sleeps) != len(tt.wantSleeps) {
				t.Fatalf("slept %v, want %d waits", sleeps, len(tt.wantSleeps))
			}
			for i, w := range tt.wantSleeps {
				if w >= 0 && sleeps[i] != w {
					t.Fatalf("wait %d = %v, want exactly %v", i, sleeps[i], w)
				}
			}
			if tt.wantHold > 0 && (len(held) != 1 || held[0] != tt.wantHold) {
				t.Fatalf("chat held %v, want once for exactly %v", held, tt.wantHold)
			}
			if got := cust.Identity(crm.ChannelTelegram, "9").Unreachable; got != tt.unreach {
				t.Fatalf("unreachable = %v, want %v", got, tt.unreach)
			}
		})
	}
}

// A recipient who blocked the bot gets nothing more of what was queued with
// the refused message (the offer after the greeting), and is reachable
// again once they write.
func TestDispatcherStopsAfterRefusal(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	calls, blocked := 0, true
	e.rec.Locked(func() {
		e.rec.Fail = func(*crm.OutboxItem) error {
			calls++
			if blocked {
				return fmt.Errorf("403 Forbidden: bot was blocked by the user: %w", bot.ErrUnreachable)
			}
			return nil
		}
	})
	say := func(id, text string) bot.Result {
		res, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "9", MessageID: id, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := say("1", "xin chào")
	if len(res.Outbox) < 2 {
		t.Fatalf("%d replies queued, want a greeting and an offer", len(res.Outbox))
	}
	e.rec.Locked(func() {
		if calls != 1 {
			t.Fatalf("%d sends to a recipient who blocked the bot, want 1", calls)
		}
		blocked = false
	})
	if err := e.db.View(ctx, func(tx crm.Tx) error {
		for _, id := range res.Outbox {
			it, _ := tx.OutboxItem(id)
			if it.Status != crm.OutboxFailed || !strings.Contains(it.LastError, "unreachable") {
				t.Errorf("outbox %d: %s %q, want failed: unreachable", id, it.Status, it.LastError)
			}
		}
		c, _ := tx.Customer(res.CustomerID)
		if !c.Identity(crm.ChannelTelegram, "9").Unreachable {
			t.Errorf("identity not marked unreachable")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	say("2", "cảm ơn") // unblocked and writing again
	if sent := e.rec.Take(); len(sent) != 1 {
		t.Fatalf("after the customer wrote again: %d sent, want the answer", len(sent))
	}
}

// Replies of one chat leave in order, even when sends are slow and other
// chats are busy.
func TestDispatcherOrderPerChat(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	var wg sync.WaitGroup
	for u := 0; u < 8; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				text := []string{"cảm ơn", "thanks"}[i%2]
				if _, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: fmt.Sprint("u", u), MessageID: fmt.Sprint(u, "-", i), Text: text}); err != nil {
					t.Error(err)
				}
			}
		}(u)
	}
	wg.Wait()
	e.disp.Flush(ctx)
	last := map[string]crm.ID{}
	n := 0
	for _, it := range e.rec.Take() {
		if it.ID <= last[it.ChatID] {
			t.Fatalf("chat %s: item %d sent after %d", it.ChatID, it.ID, last[it.ChatID])
		}
		last[it.ChatID] = it.ID
		n++
	}
	if n != 80 {
		t.Fatalf("sent %d, want 80", n)
	}
}

// Channel texts lose their control characters before anything is stored.
func TestControlCharactersStripped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"xin chào", "xin chào"},
		{"a\x00b", "ab"},
		{"dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"},
		{"tab\tok\n", "tab\tok\n"},
		{"\x1b[31mred\x7f\u0085", "[31mred"},
	}
	for _, tt := range tests {
		if got := bot.StripControls(tt.in); got != tt.want {
			t.Errorf("StripControls(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	e := newEnv(t, "")
	e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "9", Name: "Lan\x00\x07", Text: "giá\x00 iphone 15"})
	c := e.customer(crm.ChannelTelegram, "9")
	its := e.interactions(c.ID)
	if c.Name != "Lan" || len(its) == 0 || its[0].Text != "giá iphone 15" {
		t.Fatalf("stored name %q, text %q", c.Name, its[0].Text)
	}
	if _, err := e.core.Handle(context.Background(), bot.Inbound{Channel: crm.ChannelTelegram, UserID: "9", MessageID: "nul", Text: "\x00\x01"}); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("a text of control characters only: %v, want EINVALID", err)
	}
}
