package pgreplicas_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// TestOfferAndRuleSavedOnOneReplicaLiveOnAnother runs two cores, each on
// its own connection pool and Notifier, on one database: an offer and a
// segment rule saved through core A become core B's without B being told
// anything but the notification.
func TestOfferAndRuleSavedOnOneReplicaLiveOnAnother(t *testing.T) {
	url := pgtest.URL(t)
	channel := "idicbot_test_reload" + time.Now().Format("150405.000000")
	def, err := configs.Load(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	core := func() *bot.Core {
		db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		n := openNotifier(t, db.Pool(), channel)
		if _, err := bot.SeedOffers(ctx, db, def.Offers, time.Now()); err != nil {
			t.Fatal(err)
		}
		c := bot.New(bot.Options{Store: db, Catalog: def.Catalog, Segments: def.Segments, Notifier: n})
		if err := c.LoadOffers(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { c.RunReloads(rctx) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		return c
	}
	a, b := core(), core()

	o := a.Offers().Get("welcome-new")
	if o == nil {
		t.Fatal("no welcome-new offer among the defaults")
	}
	edited := *o.Offer
	edited.Name = "Chào mừng (sửa trên A)"
	if _, err := a.OfferAdmin().SaveOffer(ctx, &edited, o.Version, "lan", bot.OriginAPI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "core B serves the offer saved on core A", func() bool {
		got := b.Offers().Get("welcome-new")
		return got != nil && got.Version == o.Version+1 && got.Name == edited.Name
	})

	old := a.Segments().Rule("potential").Rule
	const rule = "order_count == 0 && messages_30d >= 1"
	if _, err := a.SegmentAdmin().SaveSegmentRule(ctx, "potential", rule, old, "lan", bot.OriginWeb); err != nil {
		t.Fatal(err)
	}
	eventually(t, "core B uses the segment rule saved on core A", func() bool {
		return b.Segments().Rule("potential").Rule == rule
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
		time.Sleep(5 * time.Millisecond)
	}
}
