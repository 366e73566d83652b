package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

var logTests = []test{
	{name: "SeenMessage", run: testSeenMessage},
	{name: "InteractionIDsIncrease", run: testInteractionIDs},
	{name: "InteractionsAfterAndRecent", run: testInteractionsAfterAndRecent},
	{name: "InteractionByCustomer", run: testInteractionByCustomer},
	{name: "InteractionRoundTrip", run: testInteractionRoundTrip},
	{name: "PutInteraction", run: testPutInteraction},
	{name: "MoveInteractions", run: testMoveInteractions},
	{name: "OrdersRefDedupe", run: testOrdersRefDedupe},
	{name: "OrderRoundTrip", run: testOrderRoundTrip},
	{name: "OffersAndVersions", run: testOffersAndVersions},
	{name: "OfferRoundTrip", run: testOfferRoundTrip},
	{name: "OrderLineItems", run: testOrderLineItems},
	{name: "EventsBetween", run: testEventsBetween},
	{name: "EventsOfOneTurn", run: testEventsOfOneTurn},
	{name: "EventRoundTrip", run: testEventRoundTrip},
	{name: "CustomerEvents", run: testCustomerEvents},
	{name: "EventsFollowMerge", run: testEventsFollowMerge},
	{name: "EventChecks", run: testEventChecks},
}

func testSeenMessage(t *testing.T, o Opener) {
	s := o.Open(t)
	var before bool
	update(t, s, func(tx crm.Tx) (err error) {
		if _, before, err = tx.SeenMessage(crm.ChannelTelegram, "m:1:42"); err != nil {
			return err
		}
		if err := tx.MarkMessage(crm.ChannelTelegram, "m:1:42", 7); err != nil {
			return err
		}
		return tx.MarkMessage(crm.ChannelZalo, "unfollow:9", 0) // an event that logged nothing
	})
	if before {
		t.Error("a message never marked was reported seen")
	}
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			ch       crm.Channel
			msgID    string
			wantID   crm.ID
			wantSeen bool
		}{
			{crm.ChannelTelegram, "m:1:42", 7, true},
			{crm.ChannelZalo, "unfollow:9", 0, true},
			{crm.ChannelZalo, "m:1:42", 0, false}, // the same id on another channel
			{crm.ChannelTelegram, "m:1:4", 0, false},
			{crm.ChannelTelegram, "m:1:421", 0, false},
		}
		for _, tt := range tests {
			id, seen, err := tx.SeenMessage(tt.ch, tt.msgID)
			if err != nil {
				t.Errorf("SeenMessage(%s, %q): %v", tt.ch, tt.msgID, err)
			} else if id != tt.wantID || seen != tt.wantSeen {
				t.Errorf("SeenMessage(%s, %q) = %d, %v; want %d, %v", tt.ch, tt.msgID, id, seen, tt.wantID, tt.wantSeen)
			}
		}
		return nil
	})
}

// appendTexts appends one inbound interaction per text, for customer
// cust[i%len(cust)], in one Update, and returns their ids in order.
func appendTexts(t *testing.T, s crm.Store, cust []crm.ID, texts ...string) []crm.ID {
	t.Helper()
	ids := make([]crm.ID, len(texts))
	update(t, s, func(tx crm.Tx) error {
		for i, text := range texts {
			it := &crm.Interaction{CustomerID: cust[i%len(cust)], Time: at(time.Duration(i) * time.Minute),
				Direction: crm.Inbound, Channel: crm.ChannelTelegram, Kind: crm.KindText, Text: text}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			ids[i] = it.ID
		}
		return nil
	})
	return ids
}

func interactionIDs(is []*crm.Interaction) []crm.ID {
	out := []crm.ID{}
	for _, i := range is {
		out = append(out, i.ID)
	}
	return out
}

func testInteractionIDs(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	first := appendTexts(t, s, cust, "0", "1", "2", "3")
	second := appendTexts(t, s, cust[1:], "4")
	all := append(first, second...)
	for i, id := range all {
		if id == 0 || (i > 0 && id <= all[i-1]) {
			t.Fatalf("interaction ids %v: want non-zero and increasing, across customers and transactions", all)
		}
	}
}

func testInteractionsAfterAndRecent(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"}, &crm.Customer{Name: "silent"})
	a, b, silent := cust[0], cust[1], cust[2]
	ids := appendTexts(t, s, []crm.ID{a, b}, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9") // interleaved
	var aIDs, bIDs []crm.ID
	for i, id := range ids {
		if i%2 == 0 {
			aIDs = append(aIDs, id)
		} else {
			bIDs = append(bIDs, id)
		}
	}
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			name string
			get  func() ([]*crm.Interaction, error)
			want []crm.ID
		}{
			{"all of A", func() ([]*crm.Interaction, error) { return tx.Interactions(a, 0, 0) }, aIDs},
			{"A after the second, limit 2", func() ([]*crm.Interaction, error) { return tx.Interactions(a, aIDs[1], 2) }, aIDs[2:4]},
			{"A after B's id between", func() ([]*crm.Interaction, error) { return tx.Interactions(a, bIDs[2], 0) }, aIDs[3:]},
			{"A after the last", func() ([]*crm.Interaction, error) { return tx.Interactions(a, aIDs[4], 0) }, []crm.ID{}},
			{"A limit 1", func() ([]*crm.Interaction, error) { return tx.Interactions(a, 0, 1) }, aIDs[:1]},
			{"B's recent 3", func() ([]*crm.Interaction, error) { return tx.RecentInteractions(b, 3) }, bIDs[2:]},
			{"B's recent 50", func() ([]*crm.Interaction, error) { return tx.RecentInteractions(b, 50) }, bIDs},
			{"a silent customer", func() ([]*crm.Interaction, error) { return tx.Interactions(silent, 0, 0) }, []crm.ID{}},
			{"a silent customer's recent", func() ([]*crm.Interaction, error) { return tx.RecentInteractions(silent, 3) }, []crm.ID{}},
			{"an unknown customer", func() ([]*crm.Interaction, error) { return tx.Interactions(silent+100, 0, 0) }, []crm.ID{}},
		}
		for _, tt := range tests {
			got, err := tt.get()
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			} else if !slices.Equal(interactionIDs(got), tt.want) {
				t.Errorf("%s = %v, want %v (oldest first)", tt.name, interactionIDs(got), tt.want)
			}
			for _, i := range got {
				if want := fmt.Sprint(slices.Index(ids, i.ID)); i.Text != want {
					t.Errorf("%s: interaction %d has text %q, want %q", tt.name, i.ID, i.Text, want)
				}
			}
		}
		return nil
	})
}

func testInteractionByCustomer(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	ids := appendTexts(t, s, cust, "a", "b")
	view(t, s, func(tx crm.Tx) error {
		got, err := tx.Interaction(cust[0], ids[0])
		if err != nil || got.Text != "a" || got.CustomerID != cust[0] {
			t.Errorf("Interaction(A, %d) = %+v, %v; want A's text a", ids[0], got, err)
		}
		_, err = tx.Interaction(cust[0], ids[1])
		wantCode(t, "Interaction(A, B's id)", err, crm.ENOTFOUND)
		_, err = tx.Interaction(cust[0], ids[1]+100)
		wantCode(t, "Interaction(A, unknown id)", err, crm.ENOTFOUND)
		return nil
	})
}

func testInteractionRoundTrip(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	var want crm.Interaction
	fill(t, &want)
	want.ID, want.CustomerID = 0, cust[0]
	var id crm.ID
	update(t, s, func(tx crm.Tx) error {
		it := want // ID 0 on every run of fn
		err := tx.AppendInteraction(&it)
		id = it.ID
		return err
	})
	want.ID = id
	var got *crm.Interaction
	view(t, s, func(tx crm.Tx) (err error) {
		got, err = tx.Interaction(cust[0], want.ID)
		return err
	})
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("the interaction read back differs:\n got %s\nwant %s", asJSON(t, got), asJSON(t, &want))
	}
}

func testPutInteraction(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	ids := appendTexts(t, s, cust, "first text", "second")
	update(t, s, func(tx crm.Tx) error {
		it, err := tx.Interaction(cust[0], ids[0])
		if err != nil {
			return err
		}
		it.Original, it.Text, it.Edited = it.Text, "edited", true
		return tx.PutInteraction(it)
	})
	view(t, s, func(tx crm.Tx) error {
		all, err := tx.Interactions(cust[0], 0, 0)
		if err != nil {
			return err
		}
		if got, want := interactionIDs(all), ids; !slices.Equal(got, want) {
			t.Fatalf("after an edit the history is %v, want %v", got, want)
		}
		if all[0].Text != "edited" || all[0].Original != "first text" || !all[0].Edited || all[1].Text != "second" {
			t.Errorf("after the edit: %+v, %+v", all[0], all[1])
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx crm.Tx) error {
		return tx.PutInteraction(&crm.Interaction{ID: ids[1] + 100, CustomerID: cust[0], Text: "ghost"})
	})
	wantCode(t, "PutInteraction(unknown)", err, crm.ENOTFOUND)
}

func testMoveInteractions(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	a, b := cust[0], cust[1]
	ids := appendTexts(t, s, cust, "0", "1", "2", "3", "4")
	update(t, s, func(tx crm.Tx) error { return tx.MoveInteractions(a, b) })
	view(t, s, func(tx crm.Tx) error {
		all, err := tx.Interactions(b, 0, 0)
		if err != nil {
			return err
		}
		if got := interactionIDs(all); !slices.Equal(got, ids) {
			t.Errorf("B's history after the move = %v, want %v (merged in id order)", got, ids)
		}
		for _, i := range all {
			if i.CustomerID != b {
				t.Errorf("interaction %d has CustomerID %d, want %d", i.ID, i.CustomerID, b)
			}
		}
		if recent, err := tx.RecentInteractions(b, 2); err != nil || !slices.Equal(interactionIDs(recent), ids[3:]) {
			t.Errorf("B's recent 2 = %v, %v; want %v", interactionIDs(recent), err, ids[3:])
		}
		if left, err := tx.Interactions(a, 0, 0); err != nil || len(left) != 0 {
			t.Errorf("A still has %d interactions, %v", len(left), err)
		}
		if got, err := tx.Interaction(b, ids[0]); err != nil || got.Text != "0" {
			t.Errorf("Interaction(B, A's first) = %+v, %v", got, err)
		}
		return nil
	})
}

func orderAmounts(os []*crm.Order) []int64 {
	out := []int64{}
	for _, o := range os {
		out = append(out, o.Amount)
	}
	return out
}

func testOrdersRefDedupe(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"}, &crm.Customer{Name: "B"})
	tests := []struct {
		cust   crm.ID
		ref    string
		wantOK bool
	}{
		{cust[0], "INV-1", true},
		{cust[0], "INV-1", false},
		{cust[1], "INV-1", false}, // refs are unique across customers
		{cust[0], "", true},
		{cust[0], "", true}, // no ref: never a duplicate
		{cust[0], "INV-2", true},
	}
	got := make([]bool, len(tests))
	var ids []crm.ID
	update(t, s, func(tx crm.Tx) error {
		ids = ids[:0]
		for i, tt := range tests {
			ord := &crm.Order{CustomerID: tt.cust, Ref: tt.ref, Amount: int64(i + 1), Time: at(time.Duration(i) * time.Hour)}
			ok, err := tx.AddOrder(ord)
			if err != nil {
				return err
			}
			got[i] = ok
			if ok {
				ids = append(ids, ord.ID)
			}
		}
		return nil
	})
	for i, tt := range tests {
		if got[i] != tt.wantOK {
			t.Errorf("AddOrder #%d ref %q = %v, want %v", i, tt.ref, got[i], tt.wantOK)
		}
	}
	for i, id := range ids {
		if id == 0 || (i > 0 && id <= ids[i-1]) {
			t.Errorf("order ids %v: want non-zero and increasing", ids)
		}
	}
	// In a later transaction too.
	var again bool
	update(t, s, func(tx crm.Tx) (err error) {
		again, err = tx.AddOrder(&crm.Order{CustomerID: cust[1], Ref: "INV-2", Amount: 99, Time: base})
		return err
	})
	if again {
		t.Error("AddOrder of INV-2 in a later transaction = true, want false")
	}
	view(t, s, func(tx crm.Tx) error {
		a, err := tx.Orders(cust[0])
		if err != nil {
			return err
		}
		if got, want := orderAmounts(a), []int64{1, 4, 5, 6}; !slices.Equal(got, want) {
			t.Errorf("A's order amounts = %v, want %v (oldest first, duplicates not stored)", got, want)
		}
		b, err := tx.Orders(cust[1])
		if err != nil {
			return err
		}
		if len(b) != 0 {
			t.Errorf("B has orders %v, want none (both were duplicates)", orderAmounts(b))
		}
		return nil
	})
}

func testOrderRoundTrip(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	var want crm.Order
	fill(t, &want)
	want.ID, want.CustomerID = 0, cust[0]
	var id crm.ID
	update(t, s, func(tx crm.Tx) error {
		ord := want // ID 0 on every run of fn
		ok, err := tx.AddOrder(&ord)
		if err == nil && !ok {
			err = fmt.Errorf("AddOrder of a new ref returned false")
		}
		id = ord.ID
		return err
	})
	want.ID = id
	var got []*crm.Order
	view(t, s, func(tx crm.Tx) (err error) {
		got, err = tx.Orders(cust[0])
		return err
	})
	if len(got) != 1 || !reflect.DeepEqual(got[0], &want) {
		t.Fatalf("the orders read back differ:\n got %s\nwant [%s]", asJSON(t, got), asJSON(t, &want))
	}
}

func testOffersAndVersions(t *testing.T, o Opener) {
	s := o.Open(t)
	update(t, s, func(tx crm.Tx) error {
		for _, of := range []*crm.Offer{
			{ID: "tet", Name: "Tết v1", Status: crm.OfferDraft, Version: 1, UpdatedAt: base},
			{ID: "payday", Name: "Payday", Status: crm.OfferActive, Version: 1, UpdatedAt: base},
			{ID: "tet", Name: "Tết v2", Status: crm.OfferActive, Version: 2, UpdatedAt: at(time.Hour)},
			{ID: "tet2", Name: "Other", Status: crm.OfferActive, Version: 1, UpdatedAt: base}, // shares a prefix with "tet"
		} {
			if err := tx.PutOffer(of); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx crm.Tx) error {
		return tx.PutOffer(&crm.Offer{ID: "tet", Name: "Tết v3", Status: crm.OfferPaused, Version: 3, UpdatedAt: at(2 * time.Hour)})
	})
	view(t, s, func(tx crm.Tx) error {
		all, err := tx.Offers()
		if err != nil {
			return err
		}
		var got []string
		for _, of := range all {
			got = append(got, of.ID+"="+of.Name)
		}
		slices.Sort(got)
		if want := []string{"payday=Payday", "tet2=Other", "tet=Tết v3"}; !slices.Equal(got, want) {
			t.Errorf("Offers = %v, want %v (the current version of each)", got, want)
		}
		vs, err := tx.OfferVersions("tet")
		if err != nil {
			return err
		}
		var names []string
		for _, v := range vs {
			names = append(names, fmt.Sprintf("%d:%s", v.Version, v.Name))
		}
		if want := []string{"1:Tết v1", "2:Tết v2", "3:Tết v3"}; !slices.Equal(names, want) {
			t.Errorf("OfferVersions(tet) = %v, want %v (oldest first)", names, want)
		}
		if of, err := tx.Offer("tet"); err != nil || of.Version != 3 || of.Status != crm.OfferPaused {
			t.Errorf("Offer(tet) = %+v, %v; want version 3", of, err)
		}
		_, err = tx.Offer("missing")
		wantCode(t, "Offer(missing)", err, crm.ENOTFOUND)
		if vs, err := tx.OfferVersions("missing"); err != nil || len(vs) != 0 {
			t.Errorf("OfferVersions(missing) = %d versions, %v", len(vs), err)
		}
		return nil
	})
}

func testOfferRoundTrip(t *testing.T, o Opener) {
	s := o.Open(t)
	var want crm.Offer
	fill(t, &want)
	update(t, s, func(tx crm.Tx) error {
		of := want
		return tx.PutOffer(&of)
	})
	var got *crm.Offer
	var versions []*crm.Offer
	view(t, s, func(tx crm.Tx) (err error) {
		if got, err = tx.Offer(want.ID); err != nil {
			return err
		}
		versions, err = tx.OfferVersions(want.ID)
		return err
	})
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("the offer read back differs:\n got %s\nwant %s", asJSON(t, got), asJSON(t, &want))
	}
	if len(versions) != 1 || !reflect.DeepEqual(versions[0], &want) {
		t.Errorf("its history differs:\n got %s\nwant [%s]", asJSON(t, versions), asJSON(t, &want))
	}
}
