package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/inproc"
	"github.com/idicbot/idicbot/crm"
)

// bus stands for what a shared store's notifier does (PostgreSQL's
// LISTEN/NOTIFY): every process has its own in-process Notifier for its
// subscribers, and a notification published in any process is relayed to
// all of them.
type bus struct {
	procs []*inproc.Notifier
}

// join returns the Notifier of one more process on the bus.
func (b *bus) join() bot.Notifier {
	n := busNotifier{bus: b, local: inproc.NewNotifier()}
	b.procs = append(b.procs, n.local)
	return n
}

type busNotifier struct {
	bus   *bus
	local *inproc.Notifier
}

func (n busNotifier) Notify(ctx context.Context, topic, key string) error {
	for _, p := range n.bus.procs {
		if err := p.Notify(ctx, topic, key); err != nil {
			return err
		}
	}
	return nil
}

func (n busNotifier) Subscribe(topic, key string) (<-chan struct{}, func()) {
	return n.local.Subscribe(topic, key)
}

// runReloads runs core's RunReloads until the test ends.
func runReloads(t *testing.T, core *bot.Core) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		core.RunReloads(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// eventually waits, with a generous deadline, until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after 20s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSaveOnOneProcessLiveOnAnother runs two cores on one store, as two
// processes would on a shared database, their Notifiers joined by a bus:
// an offer or a segment rule saved through core A is live on core B at B's
// next message, without B having been told anything directly.
func TestSaveOnOneProcessLiveOnAnother(t *testing.T) {
	var b bus
	notifierA, notifierB := b.join(), b.join()
	e := buildEnv(t, "", func(o *bot.Options) { o.Notifier = notifierA })
	coreA := e.core // with its dispatcher and recorder
	coreB := bot.New(bot.Options{Store: e.db, Catalog: coreA.Catalog(), Segments: coreA.Segments(), Now: e.clock.Now, Notifier: notifierB})
	ctx := context.Background()
	if err := coreB.LoadOffers(ctx); err != nil {
		t.Fatal(err)
	}
	runReloads(t, coreA)
	runReloads(t, coreB)

	// greetB greets core B as a new web chat customer and returns the
	// texts B queued (B has no dispatcher: they stay in the store).
	greetB := func(user string) []string {
		t.Helper()
		res, err := coreB.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: user, MessageID: user + "-1", Kind: crm.KindText, Text: "xin chào"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		if err := e.db.View(ctx, func(tx crm.Tx) error {
			for _, id := range res.Outbox {
				it, err := tx.OutboxItem(id)
				if err != nil {
					return err
				}
				out = append(out, it.Text)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := greetB("before"); !contains(got, welcomeV1) {
		t.Fatalf("before the change core B said %q", got)
	}

	o := e.offer("welcome-new")
	o.Templates["vi"] = "🎁 Chào {{.FirstName}}! Tuần này giảm 20% với mã {{.Code}}."
	if _, err := coreA.OfferAdmin().SaveOffer(ctx, o, 1, "lan", bot.OriginAPI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "core B serves version 2 of the offer saved on core A", func() bool {
		o := coreB.Offers().Get("welcome-new")
		return o != nil && o.Version == 2
	})
	if got, want := greetB("after"), "🎁 Chào bạn! Tuần này giảm 20% với mã WELCOME10."; !contains(got, want) {
		t.Fatalf("core B's next message got %q, want %q", got, want)
	}

	old := coreA.Segments().Rule("potential").Rule
	const rule = "order_count == 0 && messages_30d >= 1"
	if _, err := coreA.SegmentAdmin().SaveSegmentRule(ctx, "potential", rule, old, "lan", bot.OriginWeb); err != nil {
		t.Fatal(err)
	}
	eventually(t, "core B uses the segment rule saved on core A", func() bool {
		return coreB.Segments().Rule("potential").Rule == rule
	})
}
