package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// The typed event log, orders' line items and the typed settings.

func testOrderLineItems(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	items := []crm.OrderItem{{Product: "iphone15", Quantity: 1, Price: 20_000_000}, {Product: "op-lung", Quantity: 2, Price: 150_000}}
	update(t, s, func(tx crm.Tx) error {
		_, err := tx.AddOrder(&crm.Order{CustomerID: cust[0], Time: base, Items: slices.Clone(items)})
		return err
	})
	var got []*crm.Order
	view(t, s, func(tx crm.Tx) (err error) { got, err = tx.Orders(cust[0]); return err })
	if len(got) != 1 || !reflect.DeepEqual(got[0].Items, items) {
		t.Fatalf("the order's lines read back = %s, want %s", asJSON(t, got), asJSON(t, items))
	}
	if got[0].Amount != 20_300_000 {
		t.Errorf("an order with lines and no amount has Amount %d, want their total 20300000", got[0].Amount)
	}
	bad := []struct {
		name string
		item crm.OrderItem
	}{
		{"no product", crm.OrderItem{Quantity: 1, Price: 1}},
		{"zero quantity", crm.OrderItem{Product: "x", Price: 1}},
		{"negative price", crm.OrderItem{Product: "x", Quantity: 1, Price: -1}},
	}
	for _, tt := range bad {
		err := s.Update(t.Context(), func(tx crm.Tx) error {
			_, err := tx.AddOrder(&crm.Order{CustomerID: cust[0], Time: base, Items: []crm.OrderItem{tt.item}})
			return err
		})
		wantCode(t, "an order line with "+tt.name, err, crm.EINVALID)
	}
	view(t, s, func(tx crm.Tx) (err error) { got, err = tx.Orders(cust[0]); return err })
	if len(got) != 1 {
		t.Errorf("refused orders were stored: %d orders", len(got))
	}
}

func testEventsBetween(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	update(t, s, func(tx crm.Tx) error {
		for i := range 5 { // appended out of time order: hours 0 3 1 4 2
			e := &crm.Event{CustomerID: cust[i%2], Time: at(time.Duration((i*3)%5) * time.Hour), Kind: crm.EventSegmentChange, From: "new", To: "vip", Cause: "order"}
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
			if e.Seq == 0 {
				t.Errorf("AppendEvent left Seq 0")
			}
		}
		// Two events at the same instant keep their append order.
		for _, k := range []crm.EventKind{crm.EventMessageIn, crm.EventMessageOut} {
			if err := tx.AppendEvent(&crm.Event{CustomerID: cust[0], Time: at(3 * time.Hour), Kind: k, Channel: crm.ChannelWeb}); err != nil {
				return err
			}
		}
		return nil
	})
	var got []string
	view(t, s, func(tx crm.Tx) error {
		got = got[:0]
		return tx.EventsBetween(at(2*time.Hour), at(4*time.Hour), func(e *crm.Event) error {
			got = append(got, fmt.Sprintf("%dh %s", int(e.Time.Sub(base).Hours()), e.Kind))
			return nil
		})
	})
	want := []string{"2h segment_change", "3h segment_change", "3h message_in", "3h message_out"}
	if !slices.Equal(got, want) {
		t.Errorf("EventsBetween(2h, 4h) = %v, want %v (from included, to excluded, oldest first)", got, want)
	}
	view(t, s, func(tx crm.Tx) error {
		got = got[:0]
		return tx.EventsBetween(at(4*time.Hour), time.Time{}, func(e *crm.Event) error {
			got = append(got, fmt.Sprintf("%dh", int(e.Time.Sub(base).Hours())))
			return nil
		})
	})
	if want := []string{"4h"}; !slices.Equal(got, want) {
		t.Errorf("EventsBetween(4h, no end) = %v, want %v", got, want)
	}
}

// testEventsOfOneTurn: a transaction's message events (a turn logs the
// message in and one out per reply) may be stored together, yet each is
// read back at its own time, in (time, seq) order among the events of
// other transactions, and a period's bounds cut between them.
func testEventsOfOneTurn(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	ms := time.Millisecond
	update(t, s, func(tx crm.Tx) error {
		for _, e := range []*crm.Event{
			{CustomerID: cust[0], Time: at(0), Kind: crm.EventMessageIn, Channel: crm.ChannelWeb, InteractionID: 1},
			{CustomerID: cust[0], Time: at(1000 * ms), Kind: crm.EventOfferShown, Channel: crm.ChannelWeb, OfferID: "o1"},
			{CustomerID: cust[0], Time: at(2000 * ms), Kind: crm.EventMessageOut, Channel: crm.ChannelWeb, InteractionID: 2, Campaign: "tet"},
			{CustomerID: cust[0], Time: at(2000 * ms), Kind: crm.EventMessageOut, Channel: crm.ChannelWeb, InteractionID: 3},
			{CustomerID: cust[0], Time: at(time.Hour), Kind: crm.EventMessageOut, Channel: crm.ChannelWeb, InteractionID: 4},
			{CustomerID: cust[0], Time: at(-time.Minute), Kind: crm.EventMessageOut, Channel: crm.ChannelWeb, InteractionID: 5},
		} {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx crm.Tx) error {
		for _, e := range []*crm.Event{
			{CustomerID: cust[1], Time: at(1500 * ms), Kind: crm.EventMessageIn, Channel: crm.ChannelTelegram, InteractionID: 6},
			{CustomerID: cust[1], Time: at(1500 * ms), Kind: crm.EventSegmentChange, From: "new", To: "vip", Cause: "order"},
			{CustomerID: cust[1], Time: at(2500 * ms), Kind: crm.EventMessageOut, Channel: crm.ChannelTelegram, InteractionID: 7},
		} {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	read := func(from, to time.Time) []string {
		var got []string
		view(t, s, func(tx crm.Tx) error {
			got = got[:0]
			return tx.EventsBetween(from, to, func(e *crm.Event) error {
				got = append(got, fmt.Sprintf("%dms %s %d%s", e.Time.Sub(base).Milliseconds(), e.Kind, e.InteractionID, e.Campaign))
				return nil
			})
		})
		return got
	}
	all := []string{"-60000ms message_out 5", "0ms message_in 1", "1000ms offer_shown 0", "1500ms message_in 6",
		"1500ms segment_change 0", "2000ms message_out 2tet", "2000ms message_out 3", "2500ms message_out 7", "3600000ms message_out 4"}
	if got := read(time.Time{}, time.Time{}); !slices.Equal(got, all) {
		t.Errorf("EventsBetween(all) = %v\nwant %v (each event at its own time, oldest first)", got, all)
	}
	if got, want := read(at(1500*ms), at(2500*ms)), all[3:7]; !slices.Equal(got, want) {
		t.Errorf("EventsBetween(1.5s, 2.5s) = %v\nwant %v", got, want)
	}
	if got, want := read(at(2000*ms), time.Time{}), all[5:]; !slices.Equal(got, want) {
		t.Errorf("EventsBetween(2s, no end) = %v\nwant %v", got, want)
	}
	if got, want := read(at(-time.Hour), at(1)), all[:2]; !slices.Equal(got, want) {
		t.Errorf("EventsBetween(-1h, 1ns) = %v\nwant %v", got, want)
	}
}

// testEventRoundTrip: an event keeps every field, read by time and by
// customer, and in the customer's export.
func testEventRoundTrip(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	var event crm.Event
	fill(t, &event)
	event.CustomerID, event.Kind, event.Seq = cust[0], crm.EventOrder, 0
	update(t, s, func(tx crm.Tx) error {
		e := event
		if err := tx.AppendEvent(&e); err != nil {
			return err
		}
		event.Seq = e.Seq
		return nil
	})
	var byTime, byCustomer []*crm.Event
	var x *crm.CustomerExport
	view(t, s, func(tx crm.Tx) (err error) {
		byTime, byCustomer = nil, nil
		if err := tx.EventsBetween(time.Time{}, time.Time{}, func(e *crm.Event) error { byTime = append(byTime, e); return nil }); err != nil {
			return err
		}
		if err := tx.CustomerEvents(cust[0], time.Time{}, time.Time{}, func(e *crm.Event) error { byCustomer = append(byCustomer, e); return nil }); err != nil {
			return err
		}
		x, err = tx.CustomerRecords(cust[0])
		return err
	})
	for what, got := range map[string][]*crm.Event{"EventsBetween": byTime, "CustomerEvents": byCustomer, "CustomerRecords": x.Events} {
		if len(got) != 1 || !reflect.DeepEqual(got[0], &event) {
			t.Errorf("the event read back by %s differs:\n got %s\nwant [%s]", what, asJSON(t, got), asJSON(t, &event))
		}
	}
}

// testCustomerEvents: a customer's events in time order, without another
// customer's and without messages (the conversation log has those).
func testCustomerEvents(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	update(t, s, func(tx crm.Tx) error {
		for i, c := range cust {
			for h, dir := range []crm.Direction{crm.Inbound, crm.Outbound} {
				it := &crm.Interaction{CustomerID: c, Time: at(time.Duration(2*h+i) * time.Hour), Direction: dir, Channel: crm.ChannelTelegram, Kind: crm.KindText, Text: "hi"}
				if err := tx.AppendInteraction(it); err != nil {
					return err
				}
				kind := crm.EventMessageIn
				if dir == crm.Outbound {
					kind = crm.EventMessageOut
				}
				if err := tx.AppendEvent(&crm.Event{CustomerID: c, Time: it.Time, Kind: kind, Channel: it.Channel, InteractionID: it.ID}); err != nil {
					return err
				}
			}
			if err := tx.AppendEvent(&crm.Event{CustomerID: c, Time: at(time.Hour + time.Duration(i)*time.Hour), Kind: crm.EventOfferShown, OfferID: "o1"}); err != nil {
				return err
			}
		}
		return nil
	})
	var got []string
	view(t, s, func(tx crm.Tx) error {
		got = got[:0]
		return tx.CustomerEvents(cust[0], time.Time{}, time.Time{}, func(e *crm.Event) error {
			if e.CustomerID != cust[0] {
				t.Errorf("CustomerEvents(%d) returned an event of %d", cust[0], e.CustomerID)
			}
			got = append(got, fmt.Sprintf("%dh %s", int(e.Time.Sub(base).Hours()), e.Kind))
			return nil
		})
	})
	if want := []string{"1h offer_shown"}; !slices.Equal(got, want) {
		t.Errorf("CustomerEvents = %v, want %v (messages are the conversation log's)", got, want)
	}
	view(t, s, func(tx crm.Tx) error {
		got = got[:0]
		return tx.CustomerEvents(cust[0], at(2*time.Hour), at(3*time.Hour), func(e *crm.Event) error {
			got = append(got, string(e.Kind))
			return nil
		})
	})
	if len(got) != 0 {
		t.Errorf("CustomerEvents(2h, 3h) = %v, want none", got)
	}
}

// testEventsFollowMerge: after a merge, the merged customer's events are
// the survivor's.
func testEventsFollowMerge(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "Keep"}, &crm.Customer{Name: "Gone"})
	update(t, s, func(tx crm.Tx) error {
		return tx.AppendEvent(&crm.Event{CustomerID: cust[1], Time: base, Kind: crm.EventOfferAccepted, OfferID: "o1"})
	})
	update(t, s, func(tx crm.Tx) error { return tx.DeleteCustomer(cust[1], cust[0]) })
	var got []*crm.Event
	view(t, s, func(tx crm.Tx) error {
		got = nil
		return tx.CustomerEvents(cust[0], time.Time{}, time.Time{}, func(e *crm.Event) error { got = append(got, e); return nil })
	})
	if len(got) != 1 || got[0].CustomerID != cust[0] || got[0].OfferID != "o1" {
		t.Errorf("the survivor's events after the merge = %s, want the merged customer's offer_accepted under id %d", asJSON(t, got), cust[0])
	}
	var old []*crm.Event
	view(t, s, func(tx crm.Tx) error {
		return tx.CustomerEvents(cust[1], time.Time{}, time.Time{}, func(e *crm.Event) error { old = append(old, e); return nil })
	})
	if len(old) != 1 || old[0].CustomerID != cust[0] {
		t.Errorf("the merged id's events (redirect followed) = %s, want the survivor's", asJSON(t, old))
	}
}

func testEventChecks(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	for _, tt := range []struct {
		name string
		e    crm.Event
	}{
		{"no customer", crm.Event{Kind: crm.EventOrder}},
		{"unknown kind", crm.Event{CustomerID: cust[0], Kind: "party"}},
		{"long cause", crm.Event{CustomerID: cust[0], Kind: crm.EventHandoff, Cause: string(make([]byte, 300))}},
	} {
		err := s.Update(t.Context(), func(tx crm.Tx) error { e := tt.e; return tx.AppendEvent(&e) })
		wantCode(t, "an event with "+tt.name, err, crm.EINVALID)
	}
	n := 0
	view(t, s, func(tx crm.Tx) error {
		return tx.EventsBetween(time.Time{}, time.Time{}, func(*crm.Event) error { n++; return nil })
	})
	if n != 0 {
		t.Errorf("refused events were stored: %d", n)
	}
}

func testSegmentRuleSettings(t *testing.T, o Opener) {
	s := o.Open(t)
	view(t, s, func(tx crm.Tx) error {
		if v, err := tx.SegmentRules(); err != nil || v != nil {
			t.Errorf("SegmentRules on a new store = %q, %v; want nil", v, err)
		}
		if h, err := tx.SegmentRuleChanges(); err != nil || len(h) != 0 {
			t.Errorf("SegmentRuleChanges on a new store = %v, %v; want none", h, err)
		}
		return nil
	})
	yaml := []byte("segments: []\n")
	var change crm.SegmentRuleChange
	fill(t, &change)
	update(t, s, func(tx crm.Tx) error {
		if err := tx.PutSegmentRules(yaml); err != nil {
			return err
		}
		yaml[0] = 'X' // the store keeps its own copy
		return tx.PutSegmentRuleChanges([]crm.SegmentRuleChange{change})
	})
	// Read-modify-write by many transactions adds up, and the list is
	// bounded.
	for i := range 3 {
		update(t, s, func(tx crm.Tx) error {
			h, err := tx.SegmentRuleChanges()
			if err != nil {
				return err
			}
			return tx.PutSegmentRuleChanges(append(h, crm.SegmentRuleChange{Segment: fmt.Sprint(i), Time: base}))
		})
	}
	view(t, s, func(tx crm.Tx) error {
		if v, err := tx.SegmentRules(); err != nil || string(v) != "segments: []\n" {
			t.Errorf("SegmentRules = %q, %v; want what was put", v, err)
		}
		h, err := tx.SegmentRuleChanges()
		if err != nil {
			return err
		}
		if len(h) != 4 || !reflect.DeepEqual(h[0], change) || h[3].Segment != "2" {
			t.Errorf("SegmentRuleChanges = %s; want the filled change then 0, 1, 2", asJSON(t, h))
		}
		return nil
	})
	long := make([]crm.SegmentRuleChange, crm.MaxSegmentRuleChanges+5)
	for i := range long {
		long[i] = crm.SegmentRuleChange{Segment: fmt.Sprint(i), Time: base}
	}
	update(t, s, func(tx crm.Tx) error { return tx.PutSegmentRuleChanges(long) })
	update(t, s, func(tx crm.Tx) error { return tx.PutSegmentRules(nil) })
	view(t, s, func(tx crm.Tx) error {
		h, err := tx.SegmentRuleChanges()
		if err != nil {
			return err
		}
		if len(h) != crm.MaxSegmentRuleChanges || h[len(h)-1].Segment != fmt.Sprint(len(long)-1) {
			t.Errorf("kept %d changes ending %q, want the last %d", len(h), h[len(h)-1].Segment, crm.MaxSegmentRuleChanges)
		}
		if v, err := tx.SegmentRules(); err != nil || v != nil {
			t.Errorf("SegmentRules after PutSegmentRules(nil) = %q, %v; want nil", v, err)
		}
		return nil
	})
}

func testHandoffThreads(t *testing.T, o Opener) {
	s := o.Open(t)
	update(t, s, func(tx crm.Tx) error {
		if err := tx.PutHandoffThread("C1:1.5", 7); err != nil {
			return err
		}
		return tx.PutHandoffThread("C1:2.5", 8)
	})
	update(t, s, func(tx crm.Tx) error { return tx.PutHandoffThread("C1:2.5", 0) })
	view(t, s, func(tx crm.Tx) error {
		for thread, want := range map[string]crm.ID{"C1:1.5": 7, "C1:2.5": 0, "never": 0, "": 0} {
			if id, err := tx.HandoffThread(thread); err != nil || id != want {
				t.Errorf("HandoffThread(%q) = %d, %v; want %d", thread, id, err, want)
			}
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx crm.Tx) error { return tx.PutHandoffThread("", 1) })
	wantCode(t, "an empty thread", err, crm.EINVALID)
}

func testChannelTokens(t *testing.T, o Opener) {
	s := o.Open(t)
	var tok crm.ChannelToken
	fill(t, &tok)
	update(t, s, func(tx crm.Tx) error { c := tok; return tx.PutChannelToken("zalo", &c) })
	update(t, s, func(tx crm.Tx) error { return tx.PutChannelToken("other", &crm.ChannelToken{AccessToken: "x"}) })
	update(t, s, func(tx crm.Tx) error { return tx.PutChannelToken("other", nil) })
	view(t, s, func(tx crm.Tx) error {
		got, err := tx.ChannelToken("zalo")
		if err != nil || got == nil || !reflect.DeepEqual(*got, tok) {
			t.Errorf("ChannelToken(zalo) = %s, %v; want %s", asJSON(t, got), err, asJSON(t, tok))
		}
		if got, err := tx.ChannelToken("other"); err != nil || got != nil {
			t.Errorf("a removed token = %s, %v; want nil", asJSON(t, got), err)
		}
		return nil
	})
}

func testOffersSeeded(t *testing.T, o Opener) {
	s := o.Open(t)
	view(t, s, func(tx crm.Tx) error {
		if at, err := tx.OffersSeeded(); err != nil || !at.IsZero() {
			t.Errorf("OffersSeeded on a new store = %v, %v; want zero", at, err)
		}
		return nil
	})
	update(t, s, func(tx crm.Tx) error { return tx.MarkOffersSeeded(at(time.Hour)) })
	view(t, s, func(tx crm.Tx) error {
		if got, err := tx.OffersSeeded(); err != nil || !got.Equal(at(time.Hour)) {
			t.Errorf("OffersSeeded = %v, %v; want %v", got, err, at(time.Hour))
		}
		return nil
	})
}
