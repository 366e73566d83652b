package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// The reports' day rollups (crm.Rollups), for stores that keep them.

var rollupTests = []test{
	{name: "RoundTripPerZone", run: testRollupRoundTrip},
	{name: "LateEventsAreMarked", run: testRollupLateEvents},
	{name: "RefusesBadRollups", run: testRollupRefuses},
	{name: "SurviveReopen", run: testRollupReopen, reopens: true},
}

// openWithRollups opens a store and skips t when it keeps no rollups. It
// looks before any test transaction: a skip inside a store's Update
// would end the goroutine that holds the transaction.
func openWithRollups(t *testing.T, o Opener) crm.Store {
	t.Helper()
	s := o.Open(t)
	ok := false
	view(t, s, func(tx crm.Tx) error {
		_, ok = tx.(crm.Rollups)
		return nil
	})
	if !ok {
		t.Skip("the store keeps no rollups (its Tx is not a crm.Rollups)")
	}
	return s
}

// rollups returns the Rollups of a store openWithRollups accepted.
func rollups(_ *testing.T, tx crm.Tx) crm.Rollups {
	return tx.(crm.Rollups)
}

func sampleRollup(zone string, start time.Time) *crm.DayRollup {
	return &crm.DayRollup{
		Zone: zone, Day: start.Format(time.DateOnly), Start: start, End: start.Add(24 * time.Hour), Built: start.Add(50 * time.Hour),
		Funnel:           []crm.FunnelCount{{Offer: "tet", Segment: "vip", Channel: crm.ChannelZalo, Shown: 10, Accepted: 4, Ordered: 2, Revenue: 3_000_000}},
		Orders:           2,
		Revenue:          3_000_000,
		RevenueBySegment: map[string]int64{"vip": 3_000_000},
		NewCustomers:     []crm.NewCustomerCount{{Channel: crm.ChannelTelegram, Source: "fb-ads", Count: 3}},
		Flows:            []crm.FlowCount{{From: "loyal", To: "at_risk", Count: 1}},
		Churned:          crm.NewIDSet([]crm.ID{7, 3, 300000, 3}),
		WonBack:          crm.IDSet{9},
		Buyers:           crm.IDSet{3, 9},
		BuyerCohorts:     []int32{24300, 24305},
		MessagesIn:       20, BotAnswered: 17, ToPerson: 3,
		HumanReplies: []int32{60, 600},
		Campaigns:    []crm.CampaignCount{{Campaign: "tet", Sent: 5, Replied: 2}},
	}
}

func testRollupRoundTrip(t *testing.T, o Opener) {
	s := openWithRollups(t, o)
	day := time.Date(2025, 6, 1, 17, 0, 0, 0, time.UTC) // 2 June 00:00 in Hồ Chí Minh City
	hcm := sampleRollup("Asia/Ho_Chi_Minh", day)
	utc := sampleRollup("UTC", day.Add(7*time.Hour))
	utc.Orders = 5
	update(t, s, func(tx crm.Tx) error {
		r := rollups(t, tx)
		if err := r.PutDayRollup(hcm); err != nil {
			return err
		}
		return r.PutDayRollup(utc)
	})
	view(t, s, func(tx crm.Tx) error {
		r := rollups(t, tx)
		got, err := r.DayRollup("Asia/Ho_Chi_Minh", day)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, hcm) {
			t.Errorf("rollup read back = %s\nwant %s", asJSON(t, got), asJSON(t, hcm))
		}
		if got, err = r.DayRollup("UTC", day.Add(7*time.Hour)); err != nil {
			return err
		} else if got == nil || got.Orders != 5 {
			t.Errorf("the UTC rollup of the same date = %s, want its own (5 orders)", asJSON(t, got))
		}
		if got, err = r.DayRollup("Asia/Bangkok", day); err != nil || got != nil {
			t.Errorf("a zone with no rollup gives %v, %v; want nil, nil", got, err)
		}
		return nil
	})
}

func testRollupLateEvents(t *testing.T, o Opener) {
	s := openWithRollups(t, o)
	cust := create(t, s, &crm.Customer{Name: "A"})
	old := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Hour).Add(17 * time.Minute)
	var before time.Time
	view(t, s, func(tx crm.Tx) (err error) {
		before, err = rollups(t, tx).LateAppended(old.Add(-time.Hour), old.Add(time.Hour))
		return err
	})
	if !before.IsZero() {
		t.Fatalf("an empty store reports a late event at %v", before)
	}
	start := time.Now()
	update(t, s, func(tx crm.Tx) error {
		if err := tx.AppendEvent(&crm.Event{CustomerID: cust[0], Time: time.Now(), Kind: crm.EventOptOut}); err != nil {
			return err
		}
		return tx.AppendEvent(&crm.Event{CustomerID: cust[0], Time: old, Kind: crm.EventOrder, OrderID: 1, Amount: 100})
	})
	view(t, s, func(tx crm.Tx) error {
		r := rollups(t, tx)
		got, err := r.LateAppended(old.Truncate(time.Hour), old.Truncate(time.Hour).Add(time.Hour))
		if err != nil {
			return err
		}
		if got.Before(start.Add(-time.Second)) {
			t.Errorf("LateAppended over the old event's hour = %v, want about now (%v)", got, start)
		}
		if got, err = r.LateAppended(old.Add(time.Hour), time.Now().Add(time.Hour)); err != nil {
			return err
		} else if !got.IsZero() {
			t.Errorf("LateAppended after the old event = %v, want zero: an event of now is not late", got)
		}
		if got, err = r.LateAppended(old.Add(-48*time.Hour), old.Truncate(time.Hour)); err != nil {
			return err
		} else if !got.IsZero() {
			t.Errorf("LateAppended before the old event's hour = %v, want zero", got)
		}
		return nil
	})
}

func testRollupRefuses(t *testing.T, o Opener) {
	s := openWithRollups(t, o)
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, r := range map[string]*crm.DayRollup{
		"no zone":        sampleRollup("", day),
		"an empty day":   {Zone: "UTC", Start: day, End: day},
		"a NUL in zones": sampleRollup("UTC\x00x", day),
	} {
		err := s.Update(t.Context(), func(tx crm.Tx) error { return rollups(t, tx).PutDayRollup(r) })
		wantCode(t, "a rollup with "+name, err, crm.EINVALID)
	}
}

func testRollupReopen(t *testing.T, o Opener) {
	s := openWithRollups(t, o)
	day := time.Date(2025, 6, 1, 17, 0, 0, 0, time.UTC)
	want := sampleRollup("Asia/Ho_Chi_Minh", day)
	update(t, s, func(tx crm.Tx) error { return rollups(t, tx).PutDayRollup(want) })
	s = o.Reopen(t, s)
	view(t, s, func(tx crm.Tx) error {
		got, err := rollups(t, tx).DayRollup("Asia/Ho_Chi_Minh", day)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after a reopen the rollup = %s, want %s", asJSON(t, got), asJSON(t, want))
		}
		return nil
	})
}
