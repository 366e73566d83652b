package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

var ict = time.FixedZone("ICT", 7*3600)

// outreachEnv is a core with a birthday journey, and customers written
// in through the channels: the one who should get it, and those the rules
// skip.
type outreachEnv struct {
	k  *bottest.Env
	o  *bot.Outreach
	id map[string]crm.ID
}

func newOutreachEnv(t *testing.T) *outreachEnv {
	t.Helper()
	day := time.Date(2026, 3, 10, 8, 30, 0, 0, ict)
	k := bottest.NewCore(t, bottest.StartAt(day.AddDate(0, 0, -10)))
	e := &outreachEnv{k: k, id: map[string]crm.ID{}}
	ctx := context.Background()
	write := func(name string, ch crm.Channel, user, text string) {
		res, err := k.Core.Handle(ctx, bot.Inbound{Channel: ch, UserID: user, ChatID: user, MessageID: name + text, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		e.id[name] = res.CustomerID
	}
	write("zalo-quiet", crm.ChannelZalo, "z4", "xin chào") // 10 days ago: Zalo's window has closed
	k.Clock.Set(day.Add(-time.Hour))
	write("birthday", crm.ChannelTelegram, "t1", "xin chào")
	write("tomorrow", crm.ChannelTelegram, "t2", "xin chào")
	write("stopped", crm.ChannelTelegram, "t3", "xin chào")
	write("stopped", crm.ChannelTelegram, "t3", "stop")
	write("capped", crm.ChannelTelegram, "t5", "xin chào")
	if err := k.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	k.Rec.Take()
	err := k.DB.Update(ctx, func(tx crm.Tx) error {
		for name, id := range e.id {
			c, err := tx.Customer(id)
			if err != nil {
				return err
			}
			bd := time.Date(1990, 3, 10, 0, 0, 0, 0, time.UTC)
			if name == "tomorrow" {
				bd = bd.AddDate(0, 0, 1)
			}
			c.Birthday = &bd
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		cs, err := crm.CampaignsOf(tx)
		if err != nil {
			return err
		}
		// A promotion two days ago: the default cap is 1 in 3 days.
		return cs.AddPromotion(e.id["capped"], day.AddDate(0, 0, -2), "earlier")
	})
	if err != nil {
		t.Fatal(err)
	}
	k.Clock.Set(day)
	e.o = k.Core.Outreach(bot.OutreachOptions{Location: ict, Journeys: []bot.Journey{{
		ID: "birthday", Name: "Sinh nhật", Kind: bot.JourneyBirthday,
		Text: map[string]string{"vi": "Chúc mừng sinh nhật! Tặng bạn mã SN10.", "en": "Happy birthday! Code SN10."},
	}}})
	return e
}

// deliver wakes the dispatcher and waits until everything due is sent.
func (e *outreachEnv) deliver(t *testing.T) []*crm.OutboxItem {
	t.Helper()
	e.k.Disp.Enqueue(&crm.OutboxItem{}) // the clock moved: claim what is due
	if err := e.k.Disp.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e.k.Rec.Take()
}

func TestBirthdayJourneySendsOnceAtNineToTheRightCustomers(t *testing.T) {
	e := newOutreachEnv(t)
	ctx := context.Background()
	if err := e.o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := e.deliver(t); len(sent) != 0 {
		t.Fatalf("sent %d at 08:30, want nothing before 09:00", len(sent))
	}
	e.k.Clock.Set(time.Date(2026, 3, 10, 9, 0, 0, 0, ict))
	if err := e.o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	sent := e.deliver(t)
	if len(sent) != 1 || sent[0].CustomerID != e.id["birthday"] || sent[0].ChatID != "t1" {
		t.Fatalf("sent %v, want one message to the customer whose birthday it is", sent)
	}
	if txt := sent[0].Text; !strings.Contains(txt, "sinh nhật") || !strings.Contains(txt, "STOP") {
		t.Fatalf("text %q, want the Vietnamese wish and the one-word way out", txt)
	}
	// Later the same day, and again: nothing more.
	e.k.Clock.Set(time.Date(2026, 3, 10, 15, 0, 0, 0, ict))
	for range 2 {
		if err := e.o.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if again := e.deliver(t); len(again) != 0 {
		t.Fatalf("sent %d more the same day, want none", len(again))
	}
	list, err := e.o.ListCampaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d campaigns, want today's birthday occurrence only", len(list))
	}
	p := list[0]
	if p.Sent != 1 || p.Queued != 1 || p.Status != crm.CampaignDone || p.Remaining != 0 {
		t.Fatalf("progress sent %d queued %d status %s remaining %d, want 1, 1, done, 0", p.Sent, p.Queued, p.Status, p.Remaining)
	}
	want := map[string]int64{crm.SkipOptedOut: 1, crm.SkipCapped: 1, crm.SkipWindow: 1}
	for reason, n := range want {
		if p.Skipped[reason] != n {
			t.Fatalf("skipped %v, want %v", p.Skipped, want)
		}
	}
	if len(p.Skipped) != len(want) {
		t.Fatalf("skipped %v, want %v", p.Skipped, want)
	}
}

func TestCampaignInQuietHoursWaitsUntilEight(t *testing.T) {
	e := newOutreachEnv(t)
	ctx := context.Background()
	e.k.Clock.Set(time.Date(2026, 3, 10, 22, 0, 0, 0, ict))
	c, err := e.o.CreateCampaign(ctx, &crm.Campaign{ID: "spring", Name: "Spring sale",
		Audience: crm.Audience{Rule: `language == "vi"`},
		Text:     map[string]string{"vi": "Giảm 20% tuần này."}}, "owner")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := e.deliver(t); len(sent) != 0 {
		t.Fatalf("sent %d at 22:00, want every promotion held for the morning", len(sent))
	}
	e.k.Clock.Set(time.Date(2026, 3, 11, 7, 59, 0, 0, ict))
	if sent := e.deliver(t); len(sent) != 0 {
		t.Fatalf("sent %d at 07:59, want none", len(sent))
	}
	e.k.Clock.Set(time.Date(2026, 3, 11, 8, 0, 0, 0, ict))
	sent := e.deliver(t)
	// The birthday journey's 09:00 had passed at 22:00 too: its wish was
	// held as well, and it counts for the cap, so the birthday customer
	// gets the wish and not the sale. capped is within 3 days of its
	// promotion, zalo-quiet's window has closed, stopped opted out.
	got := map[crm.ID]string{}
	for _, it := range sent {
		got[it.CustomerID] = it.Text
	}
	if len(sent) != 2 || !strings.Contains(got[e.id["birthday"]], "sinh nhật") || !strings.Contains(got[e.id["tomorrow"]], "Giảm 20%") {
		t.Fatalf("sent %v at 08:00, want the wish to the birthday customer and the sale to the other reachable one", got)
	}
	p, err := e.o.Progress(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sent != 1 || p.Pending != 0 || p.Skipped[crm.SkipCapped] != 2 {
		t.Fatalf("progress sent %d pending %d skipped %v, want 1, 0 and 2 capped", p.Sent, p.Pending, p.Skipped)
	}
}
