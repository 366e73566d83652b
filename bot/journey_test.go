package bot_test

import (
	"context"
	"fmt"
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
		cs := crm.Campaigns(tx)
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

// Each journey kind picks the customers its day (or hour) is about, once.
func TestJourneyKinds(t *testing.T) {
	ctx := context.Background()
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, ict) }
	k := bottest.NewCore(t, bottest.StartAt(at(1, 10, 0)))
	ids := map[string]crm.ID{}
	write := func(name, text string, when time.Time) {
		k.Clock.Set(when)
		res, err := k.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: name, MessageID: name + text + when.String(), Text: text})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = res.CustomerID
	}
	for _, n := range []string{"winback", "winback-later", "ordered", "ordered-other-day", "payday"} {
		write(n, "xin chào", at(1, 10, 0))
	}
	write("asked", "iphone 15 giá bao nhiêu", at(10, 6, 30))
	write("asked-early", "iphone 15 giá bao nhiêu", at(10, 5, 30))
	err := k.DB.Update(ctx, func(tx crm.Tx) error {
		set := func(name string, f func(*crm.Customer)) error {
			c, err := tx.Customer(ids[name])
			if err != nil {
				return err
			}
			f(c)
			return tx.PutCustomer(c)
		}
		for name, f := range map[string]func(*crm.Customer){
			"winback":           func(c *crm.Customer) { c.Segment = crm.SegmentAssignment{Name: crm.SegmentAtRisk, Since: at(7, 3, 0)} },
			"winback-later":     func(c *crm.Customer) { c.Segment = crm.SegmentAssignment{Name: crm.SegmentAtRisk, Since: at(8, 3, 0)} },
			"ordered":           func(c *crm.Customer) { c.Stats.Orders, c.Stats.LastOrder = 1, at(3, 20, 0) },
			"ordered-other-day": func(c *crm.Customer) { c.Stats.Orders, c.Stats.LastOrder = 1, at(2, 20, 0) },
		} {
			if err := set(name, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	k.Disp.Flush(ctx)
	k.Rec.Take()
	text := map[string]string{"vi": "Tin nhắn"}
	o := k.Core.Outreach(bot.OutreachOptions{Location: ict, Cap: 100, Journeys: []bot.Journey{
		{ID: "winback", Kind: bot.JourneySegmentEntry, Segment: crm.SegmentAtRisk, Days: 3, Text: text},
		{ID: "next", Kind: bot.JourneyAfterOrder, Days: 7, Text: text},
		{ID: "unfinished", Kind: bot.JourneyUnfinished, Hours: 2, Text: text},
	}})
	if err := bot.CheckJourneys([]bot.Journey{{ID: "x", Kind: bot.JourneyUnfinished, Text: text}}); err == nil {
		t.Fatal("an unfinished journey without hours passed the check")
	}
	run := func(when time.Time) map[string]int {
		t.Helper()
		k.Clock.Set(when)
		if err := o.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		k.Disp.Enqueue(&crm.OutboxItem{})
		if err := k.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, it := range k.Rec.Take() {
			for n, id := range ids {
				if id == it.CustomerID {
					got[n]++
				}
			}
		}
		return got
	}
	got := run(at(10, 9, 5))
	want := map[string]int{"winback": 1, "ordered": 1, "asked": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("on the 10th at 09:05 sent to %v, want %v", got, want)
	}
	if got := run(at(10, 9, 50)); len(got) != 0 {
		t.Fatalf("again within the hour sent to %v, want nobody", got)
	}

	// Payday: the last 3 days of March, once in the month.
	pay := k.Core.Outreach(bot.OutreachOptions{Location: ict, Cap: 100, Journeys: []bot.Journey{
		{ID: "payday", Kind: bot.JourneyPayday, Days: 3, At: "10:00", Text: text, Audience: crm.Audience{Rule: `language == "vi"`}},
	}})
	o = pay
	if got := run(at(28, 11, 0)); len(got) != 0 {
		t.Fatalf("payday on the 28th sent to %v, want nobody", got)
	}
	if got := run(at(29, 10, 0)); got["payday"] != 1 || len(got) != len(ids) {
		t.Fatalf("payday on the 29th sent to %v, want everyone once", got)
	}
	if got := run(at(30, 10, 0)); len(got) != 0 {
		t.Fatalf("payday on the 30th sent to %v, want nobody again this month", got)
	}
}
