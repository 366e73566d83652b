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

// seedCustomers stores n Vietnamese customers reachable on Telegram.
func seedCustomers(t *testing.T, k *bottest.Env, n int) {
	t.Helper()
	err := k.DB.Update(context.Background(), func(tx crm.Tx) error {
		for i := range n {
			u := fmt.Sprint(7000 + i)
			c := &crm.Customer{Name: "Khách " + u, Language: "vi", CreatedAt: k.Now(),
				Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: u, ChatID: u, FirstSeen: k.Now()}}}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Paused, a campaign queues nothing more and holds what it queued; resumed
// it goes on; cancelled, what it still held is never sent.
func TestCampaignPauseResumeCancel(t *testing.T) {
	k := bottest.NewCore(t, bottest.Unopened())
	ctx := context.Background()
	seedCustomers(t, k, 120)
	o := k.Core.Outreach(bot.OutreachOptions{PageSize: 50, QuietFrom: -1, QuietUntil: -1})
	for _, id := range []string{"a", "b"} {
		if _, err := o.CreateCampaign(ctx, &crm.Campaign{ID: id, Name: id, Text: map[string]string{"vi": "Tin " + id}}, "owner"); err != nil {
			t.Fatal(err)
		}
	}
	// Expand both with the dispatcher not yet open: everything is queued.
	if err := o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := o.PauseCampaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.CancelCampaign(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := k.Disp.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := k.Rec.Take(); len(sent) != 0 {
		t.Fatalf("sent %d while a was paused and b cancelled, want none", len(sent))
	}
	if _, err := o.ResumeCampaign(ctx, "b"); err == nil {
		t.Fatal("resumed a cancelled campaign")
	}
	if _, err := o.ResumeCampaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	k.Disp.Enqueue(&crm.OutboxItem{})
	if err := k.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sent := k.Rec.Take()
	// a capped everybody for b: a's 120 leave, b had queued nothing.
	for _, it := range sent {
		if it.Text[:len("Tin a")] != "Tin a" {
			t.Fatalf("sent %q, want only campaign a's", it.Text)
		}
	}
	if len(sent) != 120 {
		t.Fatalf("sent %d after resuming, want 120", len(sent))
	}
	pa, _ := o.Progress(ctx, "a")
	pb, _ := o.Progress(ctx, "b")
	if pa.Sent != 120 || pa.Status != crm.CampaignDone || pb.Status != crm.CampaignCancelled || pb.Remaining != 0 || pb.Skipped[crm.SkipCapped] != 120 {
		t.Fatalf("a: %s sent %d; b: %s remaining %d skipped %v", pa.Status, pa.Sent, pb.Status, pb.Remaining, pb.Skipped)
	}
}

// A campaign's measures: delivered, replied within 48 h, accepted, orders
// and revenue within the attribution window, opt-outs it caused.
func TestCampaignStats(t *testing.T) {
	k := bottest.NewCore(t)
	ctx := context.Background()
	var ids []crm.ID
	for i := range 3 {
		res, err := k.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: fmt.Sprint(i), MessageID: fmt.Sprint("hi", i), Text: "xin chào"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.CustomerID)
	}
	o := k.Core.Outreach(bot.OutreachOptions{QuietFrom: -1, QuietUntil: -1})
	if _, err := o.CreateCampaign(ctx, &crm.Campaign{ID: "m", Name: "m", OfferID: "welcome-new"}, "owner"); err != nil {
		t.Fatal(err)
	}
	if err := o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	k.Disp.Enqueue(&crm.OutboxItem{})
	if err := k.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	k.Clock.Add(time.Hour)
	// 0 replies and buys; 1 says stop; 2 writes after three days.
	for _, m := range []struct {
		user, text string
	}{{"0", "giá bao nhiêu"}, {"1", "stop"}} {
		if _, err := k.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: m.user, MessageID: "r" + m.user, Text: m.text}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "0", MessageID: "press", Kind: crm.KindButton,
		Payload: "offer:welcome-new:accept"}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := k.Core.Reps().RecordOrder(ctx, crm.Order{CustomerID: ids[0], Amount: 450000, Time: k.Now(), Ref: "o1"}, "test"); err != nil {
		t.Fatal(err)
	}
	k.Clock.Add(72 * time.Hour)
	if _, err := k.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "2", MessageID: "late", Text: "xin chào"}); err != nil {
		t.Fatal(err)
	}
	st, err := o.Stats(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != 3 || st.Replied48h != 2 || st.Accepted != 1 || st.Orders != 1 || st.Revenue != 450000 || st.OptOuts != 1 {
		t.Fatalf("stats %+v, want 3 delivered, 2 replied within 48 h, 1 accepted, 1 order of 450000, 1 opt-out", st)
	}
}

// Live replies keep flowing while a campaign drains under Telegram's
// budget: a customer who writes is answered before the campaign's queue.
func TestLiveRepliesFlowDuringCampaign(t *testing.T) {
	pace := bottest.NewClock(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	k := bottest.NewCore(t, bottest.DispatcherOptions(func(o *bot.DispatcherOptions) {
		o.Budgets = map[crm.Channel]bot.Budget{crm.ChannelTelegram: {PerSecond: 30, Burst: 30, PerChat: time.Second}}
		o.PaceNow = pace.Now
		o.After = func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }
	}))
	ctx := context.Background()
	seedCustomers(t, k, 300)
	o := k.Core.Outreach(bot.OutreachOptions{QuietFrom: -1, QuietUntil: -1})
	if _, err := o.CreateCampaign(ctx, &crm.Campaign{ID: "big", Name: "big", Text: map[string]string{"vi": "Khuyến mãi"}}, "owner"); err != nil {
		t.Fatal(err)
	}
	if err := o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	var sent []*crm.OutboxItem
	// The burst less the replies' reserve (30/4): 23 leave, then the
	// campaign waits for tokens (the pace clock stands still).
	waitSent(t, k.Rec, &sent, 23)
	time.Sleep(20 * time.Millisecond)
	if sent = append(sent, k.Rec.Take()...); len(sent) != 23 {
		t.Fatalf("campaign sent %d from a full bucket, want 23", len(sent))
	}
	res, err := k.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "live", MessageID: "live1", Text: "giá iphone 15"})
	if err != nil {
		t.Fatal(err)
	}
	waitSent(t, k.Rec, &sent, 24)
	if len(res.Outbox) == 0 || sent[23].ChatID != "live" {
		t.Fatalf("after the campaign's burst the next message went to %s, want the live reply at once", sent[23].ChatID)
	}
	// The campaign is far from drained: its clock has not moved a second.
	p, err := o.Progress(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if p.Pending < 250 {
		t.Fatalf("campaign pending %d, want most of it still waiting for the budget", p.Pending)
	}
}

// A paused campaign takes back the leases on what a dispatcher already
// claimed: no sender holds its items any more, so none sends them.
func TestCampaignPauseTakesBackClaimedItems(t *testing.T) {
	k := bottest.NewCore(t, bottest.Unopened())
	ctx := context.Background()
	seedCustomers(t, k, 10)
	o := k.Core.Outreach(bot.OutreachOptions{PageSize: 50, QuietFrom: -1, QuietUntil: -1})
	if _, err := o.CreateCampaign(ctx, &crm.Campaign{ID: "a", Name: "a", Text: map[string]string{"vi": "Tin a"}}, "owner"); err != nil {
		t.Fatal(err)
	}
	if err := o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	now := k.Now()
	var claimed []*crm.OutboxItem
	if err := k.DB.Update(ctx, func(tx crm.Tx) (err error) {
		claimed, err = tx.ClaimOutbox("other-sender", now, time.Minute, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 10 {
		t.Fatalf("claimed %d, want the campaign's 10", len(claimed))
	}
	if _, err := o.PauseCampaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	ids := make([]crm.ID, len(claimed))
	for i, it := range claimed {
		ids[i] = it.ID
	}
	var held []crm.ID
	if err := k.DB.Update(ctx, func(tx crm.Tx) (err error) {
		held, err = tx.RenewOutbox("other-sender", ids, now.Add(time.Minute))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(held) != 0 {
		t.Fatalf("the sender still holds %d items of a paused campaign, want none", len(held))
	}
	if err := k.DB.View(ctx, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(ids[0])
		if err != nil {
			return err
		}
		if it.Status != crm.OutboxPending || it.LeaseOwner != "" || !it.Due.After(now.AddDate(100, 0, 0)) {
			t.Errorf("paused item = status %s, lease %q, due %v; want pending, free, held far ahead", it.Status, it.LeaseOwner, it.Due)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
