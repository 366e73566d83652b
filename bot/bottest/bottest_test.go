package bottest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

func TestClock(t *testing.T) {
	c := bottest.NewClock(bottest.Start)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.Add(time.Minute); _ = c.Now() })
	}
	wg.Wait()
	if got, want := c.Now(), bottest.Start.Add(4*time.Minute); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	c.Set(bottest.Start)
	if got := c.Now(); !got.Equal(bottest.Start) {
		t.Fatalf("after Set, Now = %v", got)
	}
}

// A greeting on web chat is answered through the dispatcher to the
// recorder; a refused send is not recorded.
func TestNewCore(t *testing.T) {
	e := bottest.NewCore(t)
	ctx := context.Background()
	say := func(id string) bot.Result {
		t.Helper()
		res, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "s1", MessageID: id, Kind: crm.KindText, Text: "xin chào"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := say("1")
	sent := e.Rec.Take()
	if len(res.Outbox) == 0 || len(sent) != len(res.Outbox) {
		t.Fatalf("%d replies queued, %d recorded", len(res.Outbox), len(sent))
	}
	if sent[0].UserID != "s1" || sent[0].Text == "" {
		t.Fatalf("first reply %+v, want text to s1", sent[0])
	}
	if again := e.Rec.Take(); len(again) != 0 {
		t.Fatalf("Take twice returned %d items the second time", len(again))
	}
	e.Rec.Locked(func() { e.Rec.Fail = func(*crm.OutboxItem) error { return errors.New("down") } })
	e.Clock.Add(time.Hour)
	say("2")
	if sent := e.Rec.Take(); len(sent) != 0 {
		t.Fatalf("recorded %d items its Fail refused", len(sent))
	}
}

// A second Env on the same dir sees what the first stored.
func TestNewCoreInDir(t *testing.T) {
	dir := t.TempDir()
	e := bottest.NewCore(t, bottest.InDir(dir), bottest.NoDispatcher())
	ctx := context.Background()
	if _, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "s1", MessageID: "1", Kind: crm.KindText, Text: "xin chào"}); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close() // a second Close does nothing
	e2 := bottest.NewCore(t, bottest.InDir(dir), bottest.NoDispatcher())
	var c *crm.Customer
	if err := e2.DB.View(ctx, func(tx crm.Tx) error {
		var err error
		c, err = tx.FindCustomerByIdentity(crm.ChannelWeb, "s1")
		return err
	}); err != nil || c == nil {
		t.Fatalf("customer after reopening: %v, %v", c, err)
	}
}
