package report_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

var hcm = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// local is a time of the shop's day (Hồ Chí Minh City, UTC+7).
func local(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, hcm)
}

// now is Friday 4 December 2026, 10:00 in the shop.
var now = local(time.December, 4, 10, 0)

func openStore(t *testing.T, clock func() time.Time) *boltstore.DB {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "idicbot.db"), boltstore.Options{NoSync: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		problems, err := db.Check(context.Background())
		if err != nil {
			t.Errorf("check: %v", err)
		}
		for _, p := range problems {
			t.Errorf("store check: %s", p)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// history writes the known history the figures below are worked out from.
//
//	An   telegram, source fb, created 10 Nov; new → loyal 12 Nov; offer
//	     "tet" shown and accepted 10 Nov, ordered 11 Nov (1.000.000 ₫, as
//	     new); order 20 Nov 500.000 ₫ (as loyal).
//	Bình zalo, source qr, created 15 Sep, VIP; orders 15 Sep 2.000.000,
//	     10 Oct 1.000.000; VIP → at_risk 15 Nov; order 30 Nov 18:00 UTC
//	     (1 Dec 01:00 in the shop) 3.000.000 as at_risk → VIP: won back.
//	Chi  webchat, created 1 Aug, loyal; orders 2 Aug 400.000 and 25 Nov
//	     600.000; 25 Nov a message the bot answers; 26 Nov asks for a
//	     person (handoff 09:00), a person answers 09:10, she writes 09:20,
//	     the person answers 09:50, handoff ends 10:00; campaign
//	     "blackfriday" 27 Nov, no answer.
//	Dũng telegram, source fb, created 20 Oct, loyal 21 Oct; campaign
//	     27 Nov 12:00, he answers 28 Nov 09:00; loyal → at_risk 28 Nov.
func history(t *testing.T, db crm.Store) map[string]crm.ID {
	t.Helper()
	ids := map[string]crm.ID{}
	type order struct {
		at     time.Time
		amount int64
		offer  string
	}
	people := []struct {
		name, source string
		ch           crm.Channel
		created      time.Time
		segment      string
		orders       []order
	}{
		{"An", "fb", crm.ChannelTelegram, local(11, 10, 9, 0), crm.SegmentLoyal,
			[]order{{local(11, 11, 10, 0), 1_000_000, "tet"}, {local(11, 20, 10, 0), 500_000, ""}}},
		{"Bình", "qr", crm.ChannelZalo, local(9, 15, 9, 0), crm.SegmentVIP,
			[]order{{local(9, 15, 10, 0), 2_000_000, ""}, {local(10, 10, 10, 0), 1_000_000, ""},
				{time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC), 3_000_000, ""}}},
		{"Chi", "", crm.ChannelWeb, local(8, 1, 9, 0), crm.SegmentLoyal,
			[]order{{local(8, 2, 10, 0), 400_000, ""}, {local(11, 25, 10, 0), 600_000, ""}}},
		{"Dũng", "fb", crm.ChannelTelegram, local(10, 20, 9, 0), crm.SegmentAtRisk, nil},
	}
	err := db.Update(context.Background(), func(tx crm.Tx) error {
		for _, p := range people {
			c := &crm.Customer{Name: p.name, Source: p.source, CreatedAt: p.created,
				Identities: []crm.Identity{{Channel: p.ch, UserID: p.name, FirstSeen: p.created}},
				Segment:    crm.SegmentAssignment{Name: p.segment, Since: p.created}}
			for _, o := range p.orders {
				c.Stats.RecordOrder(o.amount, o.at)
			}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			ids[p.name] = c.ID
			for _, o := range p.orders {
				ord := &crm.Order{CustomerID: c.ID, Time: o.at, Amount: o.amount, OfferID: o.offer}
				if _, err := tx.AddOrder(ord); err != nil {
					return err
				}
				if err := tx.AppendEvent(&crm.Event{CustomerID: c.ID, Time: o.at, Kind: crm.EventOrder,
					OrderID: ord.ID, Amount: o.amount, OfferID: o.offer}); err != nil {
					return err
				}
			}
		}
		an, binh, chi, dung := ids["An"], ids["Bình"], ids["Chi"], ids["Dũng"]
		move := func(id crm.ID, at time.Time, from, to, cause string) *crm.Event {
			return &crm.Event{CustomerID: id, Time: at, Kind: crm.EventSegmentChange, From: from, To: to, Cause: cause}
		}
		events := []*crm.Event{
			move(an, local(11, 10, 9, 0), "", crm.SegmentNew, "message"),
			{CustomerID: an, Time: local(11, 10, 9, 5), Kind: crm.EventOfferShown, OfferID: "tet", Channel: crm.ChannelTelegram},
			{CustomerID: an, Time: local(11, 10, 9, 6), Kind: crm.EventOfferAccepted, OfferID: "tet", Channel: crm.ChannelTelegram},
			move(an, local(11, 12, 0, 0), crm.SegmentNew, crm.SegmentLoyal, "sweep"),
			move(binh, local(9, 15, 9, 0), "", crm.SegmentVIP, "import"),
			move(binh, local(11, 15, 3, 0), crm.SegmentVIP, crm.SegmentAtRisk, "sweep"),
			move(binh, time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC), crm.SegmentAtRisk, crm.SegmentVIP, "order"),
			move(chi, local(8, 1, 9, 0), "", crm.SegmentLoyal, "import"),
			move(dung, local(10, 21, 9, 0), "", crm.SegmentLoyal, "sweep"),
			move(dung, local(11, 28, 3, 0), crm.SegmentLoyal, crm.SegmentAtRisk, "sweep"),
			{CustomerID: chi, Time: local(11, 26, 9, 0), Kind: crm.EventHandoff, Cause: "customer"},
			{CustomerID: chi, Time: local(11, 26, 10, 0), Kind: crm.EventHandoffEnd, Cause: "released"},
		}
		for _, e := range events {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		msgs := []struct {
			id       crm.ID
			at       time.Time
			dir      crm.Direction
			kind     string
			campaign string
		}{
			{chi, local(11, 25, 10, 0), crm.Inbound, crm.KindText, ""},
			{chi, local(11, 25, 10, 0), crm.Outbound, crm.KindText, ""},
			{chi, local(11, 26, 9, 0), crm.Inbound, crm.KindText, ""},
			{chi, local(11, 26, 9, 0), crm.Outbound, crm.KindText, ""}, // the bot: "a colleague will answer"
			{chi, local(11, 26, 9, 10), crm.Outbound, crm.KindAgent, ""},
			{chi, local(11, 26, 9, 20), crm.Inbound, crm.KindText, ""},
			{chi, local(11, 26, 9, 50), crm.Outbound, crm.KindAgent, ""},
			{chi, local(11, 27, 12, 0), crm.Outbound, crm.KindText, "blackfriday"},
			{dung, local(11, 27, 12, 0), crm.Outbound, crm.KindText, "blackfriday"},
			{dung, local(11, 28, 9, 0), crm.Inbound, crm.KindText, ""},
		}
		for _, m := range msgs {
			it := &crm.Interaction{CustomerID: m.id, Time: m.at, Direction: m.dir, Kind: m.kind, Text: "…", Channel: crm.ChannelWeb}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			kind := crm.EventMessageIn
			if m.dir == crm.Outbound {
				kind = crm.EventMessageOut
			}
			if err := tx.AppendEvent(&crm.Event{CustomerID: m.id, Time: m.at, Kind: kind, InteractionID: it.ID, Channel: crm.ChannelWeb, Campaign: m.campaign}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func newService(t *testing.T) (*report.Service, *boltstore.DB, map[string]crm.ID) {
	t.Helper()
	// The history is written an hour before the reports are asked for.
	var written atomic.Bool
	db := openStore(t, func() time.Time {
		if written.Load() {
			return now
		}
		return now.Add(-time.Hour)
	})
	ids := history(t, db)
	written.Store(true)
	clock := func() time.Time { return now }
	segs := func() []string {
		return []string{crm.SegmentVIP, crm.SegmentLoyal, crm.SegmentAtRisk, crm.SegmentNew}
	}
	return report.New(db, hcm, clock, segs), db, ids
}

func last30(t *testing.T, s *report.Service) *report.Report {
	t.Helper()
	p, err := s.LastDays(30)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Report(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestReportByHand checks each figure against the history above, worked
// out by hand. The period is the 30 shop days 5 Nov – 4 Dec; the one
// before, 6 Oct – 4 Nov.
func TestReportByHand(t *testing.T) {
	s, _, ids := newService(t)
	rep := last30(t, s)
	if got, want := rep.Period.Label(), "2026-11-05 – 2026-12-04"; got != want {
		t.Fatalf("period = %s, want %s", got, want)
	}

	t.Run("sales", func(t *testing.T) {
		// An 1.000.000 + 500.000, Chi 600.000, Bình 3.000.000; before: Bình's October order.
		if rep.Sales.Orders != 4 || rep.Sales.Revenue != 5_100_000 || rep.Sales.PrevOrders != 1 || rep.Sales.PrevRevenue != 1_000_000 {
			t.Errorf("sales = %+v, want 4 orders 5.100.000 (before: 1, 1.000.000)", rep.Sales)
		}
		// 30 Nov 18:00 UTC is 1 Dec 01:00 in the shop.
		byDay := map[string]int64{}
		for _, d := range rep.Sales.PerDay {
			byDay[d.Day] = d.Value
		}
		if byDay["2026-12-01"] != 3_000_000 || byDay["2026-11-30"] != 0 || len(rep.Sales.PerDay) != 30 {
			t.Errorf("revenue per day: 30 Nov %d, 1 Dec %d (%d days), want 0 and 3.000.000 over 30 days",
				byDay["2026-11-30"], byDay["2026-12-01"], len(rep.Sales.PerDay))
		}
	})

	t.Run("funnel", func(t *testing.T) {
		want := report.FunnelRow{Offer: "tet", Shown: 1, Accepted: 1, Ordered: 1, Revenue: 1_000_000}
		if len(rep.Funnel.ByOffer) != 1 || rep.Funnel.ByOffer[0] != want {
			t.Errorf("funnel by offer = %+v, want [%+v]", rep.Funnel.ByOffer, want)
		}
		if len(rep.Funnel.BySegment) != 1 || rep.Funnel.BySegment[0].Segment != crm.SegmentNew || rep.Funnel.BySegment[0].Ordered != 1 {
			t.Errorf("funnel by segment = %+v, want An's as new", rep.Funnel.BySegment)
		}
		if len(rep.Funnel.ByChannel) != 1 || rep.Funnel.ByChannel[0].Channel != crm.ChannelTelegram {
			t.Errorf("funnel by channel = %+v, want telegram", rep.Funnel.ByChannel)
		}
		if rep.Funnel.Prev != (report.FunnelRow{}) {
			t.Errorf("funnel before = %+v, want nothing", rep.Funnel.Prev)
		}
	})

	t.Run("customers", func(t *testing.T) {
		c := rep.Customers
		if c.New != 1 || c.PrevNew != 1 {
			t.Errorf("new customers = %d (before %d), want An (before: Dũng)", c.New, c.PrevNew)
		}
		if !reflect.DeepEqual(c.ByChannel, []report.NameCount{{Name: "telegram", Count: 1}}) ||
			!reflect.DeepEqual(c.BySource, []report.NameCount{{Name: "fb", Count: 1}}) {
			t.Errorf("by channel %+v, by source %+v; want telegram 1, fb 1", c.ByChannel, c.BySource)
		}
		// 10 Nov is in the week of Monday 9 Nov.
		for _, w := range c.PerWeek {
			if want := map[bool]int64{true: 1}[w.Day == "2026-11-09"]; w.Value != want {
				t.Errorf("week of %s: %d new, want %d", w.Day, w.Value, want)
			}
		}
	})

	t.Run("segments", func(t *testing.T) {
		sg := rep.Segments
		// At the start: Bình VIP, Chi and Dũng loyal; Bình and Dũng left for at_risk.
		if sg.ChurnBase != 3 || sg.Churned != 2 {
			t.Errorf("churn = %d of %d, want 2 of 3", sg.Churned, sg.ChurnBase)
		}
		// No one was at_risk at the start, two became so, Bình ordered again.
		if sg.WinBackBase != 2 || sg.WonBack != 1 {
			t.Errorf("win-back = %d of %d, want 1 of 2", sg.WonBack, sg.WinBackBase)
		}
		// Before: Bình and Dũng loyal or VIP from 21 Oct… the base at 6 Oct is Bình and Chi.
		if sg.PrevChurnBase != 2 || sg.PrevChurned != 0 {
			t.Errorf("churn before = %d of %d, want 0 of 2", sg.PrevChurned, sg.PrevChurnBase)
		}
		sizes := map[string][]int64{}
		for i, n := range sg.Names {
			sizes[n] = sg.Sizes[i]
		}
		day := func(d string) int {
			for i, x := range sg.Days {
				if x == d {
					return i
				}
			}
			t.Fatalf("no day %s in %v", d, sg.Days)
			return -1
		}
		for _, tt := range []struct {
			day, seg string
			want     int64
		}{
			{"2026-11-05", crm.SegmentLoyal, 2}, {"2026-11-10", crm.SegmentNew, 1}, {"2026-11-12", crm.SegmentLoyal, 3},
			{"2026-11-15", crm.SegmentVIP, 0}, {"2026-11-28", crm.SegmentAtRisk, 2}, {"2026-12-01", crm.SegmentAtRisk, 1},
			{"2026-12-04", crm.SegmentVIP, 1},
		} {
			if got := sizes[tt.seg][day(tt.day)]; got != tt.want {
				t.Errorf("%s at the end of %s: %d, want %d", tt.seg, tt.day, got, tt.want)
			}
		}
		rev := map[string]int64{}
		for _, r := range sg.Revenue {
			rev[r.Name] = r.Count
		}
		if want := map[string]int64{"new": 1_000_000, "loyal": 1_100_000, "at_risk": 3_000_000}; !reflect.DeepEqual(rev, want) {
			t.Errorf("revenue by segment = %v, want %v", rev, want)
		}
	})

	t.Run("cohorts", func(t *testing.T) {
		got := map[string][]int64{}
		for _, c := range rep.Cohorts {
			got[c.Month] = c.Active
		}
		if len(rep.Cohorts) != 12 || rep.Cohorts[0].Month != "2026-01" {
			t.Fatalf("cohorts from %s, %d of them; want 12 from 2026-01", rep.Cohorts[0].Month, len(rep.Cohorts))
		}
		// Chi: first order August, again November. Bình: September, again
		// October and December (1 Dec in the shop). An: November only.
		for month, want := range map[string][]int64{
			"2026-08": {1, 0, 0, 1, 0}, "2026-09": {1, 1, 0, 1}, "2026-10": {0, 0, 0},
			"2026-11": {1, 0}, "2026-12": {0}, "2026-07": {0, 0, 0, 0, 0, 0},
		} {
			if !reflect.DeepEqual(got[month], want) {
				t.Errorf("cohort %s = %v, want %v", month, got[month], want)
			}
		}
	})

	t.Run("response", func(t *testing.T) {
		r := rep.Response
		// Chi 25 Nov (bot), 26 Nov 09:00 (asks for a person) and 09:20 (to the person); Dũng 28 Nov.
		if r.MessagesIn != 4 || r.BotAnswered != 1 || r.ToPerson != 2 {
			t.Errorf("messages %d, bot %d, person %d; want 4, 1, 2", r.MessagesIn, r.BotAnswered, r.ToPerson)
		}
		// Waits of 10 and 30 minutes: median 600 s, p90 1800 s.
		if r.HumanReplies != 2 || r.HumanMedian != 600 || r.HumanP90 != 1800 {
			t.Errorf("person replies %d, median %d s, p90 %d s; want 2, 600, 1800", r.HumanReplies, r.HumanMedian, r.HumanP90)
		}
		want := []report.CampaignReply{{Campaign: "blackfriday", Sent: 2, Replied: 1}}
		if !reflect.DeepEqual(r.Campaigns, want) {
			t.Errorf("campaigns = %+v, want %+v", r.Campaigns, want)
		}
	})

	t.Run("value", func(t *testing.T) {
		// Worked out from crm.ValueModel's formulas at 4 Dec 03:00 UTC:
		// Bình 3 orders over 80 days, last 3.375 days ago: λ = 3/170,
		// P = 0.99525, E = 5.04472 orders × 2.000.000 = 10.089.446 ₫.
		// An 2 orders, first 23 days ago, last 14: λ = 2/113, P = 0.97849,
		// E = 4.97442 × 750.000 = 3.730.812 ₫. Chi 2 orders, first 124
		// days ago, last 9: λ = 2/214, P = 0.98722, E = 2.65012 × 500.000
		// = 1.325.058 ₫. Dũng has no order.
		want := []struct {
			id  crm.ID
			clv int64
		}{{ids["Bình"], 10_089_446}, {ids["An"], 3_730_812}, {ids["Chi"], 1_325_058}}
		top := rep.Value.Top
		if len(top) != len(want) {
			t.Fatalf("top customers = %+v, want 3", top)
		}
		for i, w := range want {
			if top[i].ID != w.id || abs(top[i].Value.CLV-w.clv) > 50 {
				t.Errorf("top %d = #%d %d ₫, want #%d %d ₫", i+1, top[i].ID, top[i].Value.CLV, w.id, w.clv)
			}
		}
		seg := map[string]report.SegmentValue{}
		for _, v := range rep.Value.Segments {
			seg[v.Segment] = v
		}
		if l := seg["loyal"]; l.Customers != 2 || abs(l.CLV-(3_730_812+1_325_058)) > 100 {
			t.Errorf("loyal value = %+v, want An's and Chi's 5.055.870 ₫", l)
		}
	})
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestReportRollups checks that closed days are read from rollups once
// built, give the same report, and are built again when an old event
// arrives late (an import of an old order).
func TestReportRollups(t *testing.T) {
	s, db, ids := newService(t)
	first := last30(t, s)
	if first.Precompute.Built == 0 {
		t.Fatalf("no rollup built on the first report: %+v", first.Precompute)
	}
	second := last30(t, s)
	if second.Precompute.Built != 0 || second.Precompute.FromRollups != first.Precompute.Built {
		t.Fatalf("second report precompute = %+v, want every closed day (%d) from rollups", second.Precompute, first.Precompute.Built)
	}
	second.Precompute = first.Precompute
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("the report from rollups differs from the one from the log")
	}
	// A fresh service (a restart) reads the kept rollups from the store.
	restarted := report.New(db, hcm, func() time.Time { return now }, nil)
	p, _ := restarted.LastDays(30)
	if rep, err := restarted.Report(context.Background(), p); err != nil || rep.Precompute.Built != 0 || rep.Sales.Revenue != 5_100_000 {
		t.Fatalf("after a restart: %+v, %v; want 5.100.000 from the kept rollups", rep.Precompute, err)
	}
	// An order of 12 Nov recorded now (an import) is counted.
	err := db.Update(context.Background(), func(tx crm.Tx) error {
		return tx.AppendEvent(&crm.Event{CustomerID: ids["Chi"], Time: local(11, 12, 15, 0), Kind: crm.EventOrder, OrderID: 99, Amount: 250_000})
	})
	if err != nil {
		t.Fatal(err)
	}
	third := last30(t, s)
	// 12 Nov is built again, and 10 and 11 Nov, whose 48 h reply windows reach it.
	if third.Sales.Revenue != 5_350_000 || third.Precompute.Built != 3 {
		t.Fatalf("after a late order: revenue %d, %+v; want 5.350.000 with 10–12 Nov built again", third.Sales.Revenue, third.Precompute)
	}
}

// TestReportTimeZone checks that the same log read in another zone puts
// the order of 30 Nov 18:00 UTC on 30 Nov, and that the shop's rollups do
// not leak into it.
func TestReportTimeZone(t *testing.T) {
	s, db, _ := newService(t)
	last30(t, s) // keeps the shop's rollups
	utc := report.New(db, time.UTC, func() time.Time { return now }, nil)
	p, err := utc.LastDays(30)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := utc.Report(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	byDay := map[string]int64{}
	for _, d := range rep.Sales.PerDay {
		byDay[d.Day] = d.Value
	}
	if byDay["2026-11-30"] != 3_000_000 || byDay["2026-12-01"] != 0 {
		t.Fatalf("in UTC: 30 Nov %d, 1 Dec %d; want 3.000.000 and 0", byDay["2026-11-30"], byDay["2026-12-01"])
	}
	if rep.Precompute.FromRollups != 0 {
		t.Fatalf("the UTC report read %d rollups of another zone", rep.Precompute.FromRollups)
	}
}

// TestReportLive checks the open days kept in memory: an order of today
// shows in the next report, read from what the log got since; three days
// later those days are closed and kept as rollups, with the order.
func TestReportLive(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	at := func() time.Time { return *clock.Load() }
	db := openStore(t, at)
	ids := history(t, db)
	// An order of yesterday, recorded then: read by the first report's live
	// days, and not again by the next ones.
	yesterday := local(12, 3, 12, 0)
	clock.Store(&yesterday)
	err := db.Update(context.Background(), func(tx crm.Tx) error {
		return tx.AppendEvent(&crm.Event{CustomerID: ids["Chi"], Time: local(12, 3, 12, 0), Kind: crm.EventOrder, OrderID: 76, Amount: 150_000})
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Store(&now)
	s := report.New(db, hcm, at, nil)
	p, _ := s.LastDays(30)
	first, err := s.Report(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if first.Sales.Revenue != 5_250_000 {
		t.Fatalf("first report: revenue %d, want 5.100.000 + 150.000", first.Sales.Revenue)
	}
	later := now.Add(30 * time.Minute)
	clock.Store(&later)
	err = db.Update(context.Background(), func(tx crm.Tx) error {
		return tx.AppendEvent(&crm.Event{CustomerID: ids["An"], Time: later, Kind: crm.EventOrder, OrderID: 77, Amount: 700_000})
	})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Report(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := second.Sales.Revenue, first.Sales.Revenue+700_000; got != want || second.Sales.Orders != first.Sales.Orders+1 {
		t.Fatalf("after an order of today: revenue %d, %d orders; want %d, %d", got, second.Sales.Orders, want, first.Sales.Orders+1)
	}
	third, err := s.Report(context.Background(), p)
	if err != nil || third.Sales.Revenue != second.Sales.Revenue {
		t.Fatalf("a third report (nothing new) = %d, %v; want %d: an event read twice?", third.Sales.Revenue, err, second.Sales.Revenue)
	}
	// Three days on, 4 December is closed and kept from the live days.
	days3 := later.Add(72 * time.Hour)
	clock.Store(&days3)
	p3, _ := s.Between("2026-11-05", "2026-12-04")
	fourth, err := s.Report(context.Background(), p3)
	if err != nil {
		t.Fatal(err)
	}
	if fourth.Sales.Revenue != second.Sales.Revenue || fourth.Precompute.Built == 0 {
		t.Fatalf("three days later: revenue %d (%+v), want %d with the closed days kept", fourth.Sales.Revenue, fourth.Precompute, second.Sales.Revenue)
	}
	restarted := report.New(db, hcm, at, nil)
	if fifth, err := restarted.Report(context.Background(), p3); err != nil || fifth.Sales.Revenue != second.Sales.Revenue || fifth.Precompute.Built != 0 {
		t.Fatalf("after a restart: %d (%+v), %v; want %d from kept rollups only", fifth.Sales.Revenue, fifth.Precompute, err, second.Sales.Revenue)
	}
}

// TestReportRefresh checks the background refresh: once opened, the
// closed days are rolled up and kept without a request asking, and Close
// stops it.
func TestReportRefresh(t *testing.T) {
	s, db, _ := newService(t)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err == nil {
		t.Fatal("a second Open succeeded")
	}
	// A fresh service over the same store sees the kept rollups once the
	// refresh has run (polling: no wall-clock bound on how soon).
	other := report.New(db, hcm, func() time.Time { return now }, nil)
	p, _ := other.LastDays(30)
	for i := 0; ; i++ {
		var built int
		err := db.View(context.Background(), func(tx crm.Tx) error {
			r, err := tx.(crm.Rollups).DayRollup(hcm.String(), local(11, 20, 0, 0).UTC())
			if r != nil {
				built = 1
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if built == 1 {
			break
		}
		if i == 2000 {
			t.Fatal("the background refresh kept no rollup")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := other.Report(context.Background(), p)
	if err != nil || rep.Precompute.FromRollups == 0 || rep.Sales.Revenue != 5_100_000 {
		t.Fatalf("after the refresh: %+v, revenue %d, %v", rep.Precompute, rep.Sales.Revenue, err)
	}
}
