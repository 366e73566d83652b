package boltstore

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"go.etcd.io/bbolt"
)

func putCustomer(tb testing.TB, db *DB, c *crm.Customer) *crm.Customer {
	tb.Helper()
	update(tb, db, func(tx crm.Tx) error { return tx.PutCustomer(c) })
	return c
}

// customerIDs returns the ids of cs, for comparisons.
func customerIDs(cs []*crm.Customer) []crm.ID {
	var ids []crm.ID
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestPutCustomer_KeepsIndexesInStep(t *testing.T) {
	db := MustOpen(t)
	c := putCustomer(t, db, &crm.Customer{
		Name:       "Nguyễn Văn Ánh",
		Phone:      "+84901234567",
		Email:      "Anh@Example.com",
		ExternalID: "ext-1",
		Identities: []crm.Identity{
			{Channel: crm.ChannelTelegram, UserID: "111"},
			{Channel: crm.ChannelZalo, UserID: "z-9"},
		},
		Segment: crm.SegmentAssignment{Name: "new"},
	})
	if c.ID == 0 {
		t.Fatal("PutCustomer assigned no id")
	}

	// Second version: new phone, email and name, one identity dropped, segment moved.
	update(t, db, func(tx crm.Tx) error {
		cur, err := tx.Customer(c.ID)
		if err != nil {
			return err
		}
		cur.Phone = "+84909999999"
		cur.Email = ""
		cur.Name = "Trần Thị Bích"
		cur.Identities = cur.Identities[:1]
		cur.Identities = append(cur.Identities, crm.Identity{Channel: crm.ChannelWeb, UserID: "w-1"})
		cur.Segment.Name = "loyal"
		return tx.PutCustomer(cur)
	})

	view(t, db, func(tx crm.Tx) error {
		finds := []struct {
			name string
			find func() (*crm.Customer, error)
			want crm.ID
		}{
			{"old phone", func() (*crm.Customer, error) { return tx.FindCustomerByPhone("+84901234567") }, 0},
			{"new phone", func() (*crm.Customer, error) { return tx.FindCustomerByPhone("+84909999999") }, c.ID},
			{"removed email", func() (*crm.Customer, error) { return tx.FindCustomerByEmail("anh@example.com") }, 0},
			{"external id", func() (*crm.Customer, error) { return tx.FindCustomerByExternalID("ext-1") }, c.ID},
			{"kept identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, "111") }, c.ID},
			{"dropped identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelZalo, "z-9") }, 0},
			{"added identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelWeb, "w-1") }, c.ID},
			{"unknown identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelWeb, "nobody") }, 0},
		}
		for _, f := range finds {
			got, err := f.find()
			if err != nil {
				t.Errorf("%s: %v", f.name, err)
				continue
			}
			var gotID crm.ID
			if got != nil {
				gotID = got.ID
			}
			if gotID != f.want {
				t.Errorf("%s: found %d, want %d", f.name, gotID, f.want)
			}
		}

		if got, _ := tx.FindCustomersByName("nguyen", 10); len(got) != 0 {
			t.Errorf("old name still indexed: %v", customerIDs(got))
		}
		if got, _ := tx.FindCustomersByName("bich", 10); !slices.Equal(customerIDs(got), []crm.ID{c.ID}) {
			t.Errorf("new name search = %v", customerIDs(got))
		}
		counts := map[string]int64{}
		for _, s := range []string{"new", "loyal"} {
			counts[s], _ = tx.SegmentCount(s)
		}
		if counts["new"] != 0 || counts["loyal"] != 1 {
			t.Errorf("segment counts = %v, want new 0, loyal 1", counts)
		}
		var inLoyal []crm.ID
		_ = tx.SegmentCustomers("loyal", func(id crm.ID) error { inLoyal = append(inLoyal, id); return nil })
		_ = tx.SegmentCustomers("new", func(id crm.ID) error { t.Errorf("%d still in segment new", id); return nil })
		if !slices.Equal(inLoyal, []crm.ID{c.ID}) {
			t.Errorf("loyal customers = %v", inLoyal)
		}
		if n, _ := tx.CustomerCount(); n != 1 {
			t.Errorf("customers = %d, want 1 (a replace is not a new customer)", n)
		}
		return nil
	})
}

func TestPutCustomer_EmailIsCaseInsensitive(t *testing.T) {
	db := MustOpen(t)
	c := putCustomer(t, db, &crm.Customer{Email: "Lan@Shop.VN"})
	view(t, db, func(tx crm.Tx) error {
		got, err := tx.FindCustomerByEmail(" lan@shop.vn ")
		if err != nil || got == nil || got.ID != c.ID {
			t.Errorf("FindCustomerByEmail = %+v, %v", got, err)
		}
		return nil
	})
}

func TestPutCustomer_ConflictingIndexMovesToNewOwner(t *testing.T) {
	db := MustOpen(t)
	a := putCustomer(t, db, &crm.Customer{Name: "A", Phone: "+84900000001",
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1"}}})
	b := putCustomer(t, db, &crm.Customer{Name: "B", Phone: "+84900000001",
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1"}}})

	// A leaves: the entries now owned by B must survive.
	update(t, db, func(tx crm.Tx) error { return tx.DeleteCustomer(a.ID, b.ID) })
	view(t, db, func(tx crm.Tx) error {
		byPhone, _ := tx.FindCustomerByPhone("+84900000001")
		byIdentity, _ := tx.FindCustomerByIdentity(crm.ChannelTelegram, "1")
		if byPhone == nil || byPhone.ID != b.ID || byIdentity == nil || byIdentity.ID != b.ID {
			t.Errorf("after delete of A: phone → %v, identity → %v; want B (%d)", byPhone, byIdentity, b.ID)
		}
		return nil
	})
}

func TestDeleteCustomer_MergeRedirects(t *testing.T) {
	db := MustOpen(t)
	a := putCustomer(t, db, &crm.Customer{Name: "Lê Văn An", Phone: "+84911111111", Segment: crm.SegmentAssignment{Name: "new"},
		Identities: []crm.Identity{{Channel: crm.ChannelZalo, UserID: "za"}}})
	b := putCustomer(t, db, &crm.Customer{Name: "An Le", Segment: crm.SegmentAssignment{Name: "new"}})
	c := putCustomer(t, db, &crm.Customer{Name: "An Lê", Segment: crm.SegmentAssignment{Name: "vip"}})
	update(t, db, func(tx crm.Tx) error {
		if err := tx.AppendInteraction(&crm.Interaction{CustomerID: a.ID, Text: "hi from A"}); err != nil {
			return err
		}
		_, err := tx.AddOrder(&crm.Order{CustomerID: a.ID, Ref: "R-1", Amount: 100})
		return err
	})

	// A into B, then B into C: a chain.
	update(t, db, func(tx crm.Tx) error { return tx.DeleteCustomer(a.ID, b.ID) })
	update(t, db, func(tx crm.Tx) error { return tx.DeleteCustomer(b.ID, c.ID) })

	view(t, db, func(tx crm.Tx) error {
		for _, id := range []crm.ID{a.ID, b.ID, c.ID} {
			got, err := tx.Customer(id)
			if err != nil || got.ID != c.ID {
				t.Errorf("Customer(%d) = %v, %v; want customer %d", id, got, err, c.ID)
			}
		}
		if got, _ := tx.FindCustomerByPhone("+84911111111"); got != nil {
			t.Errorf("deleted customer's phone still indexed: %d", got.ID)
		}
		if got, _ := tx.FindCustomerByIdentity(crm.ChannelZalo, "za"); got != nil {
			t.Errorf("deleted customer's identity still indexed: %d", got.ID)
		}
		if got, _ := tx.FindCustomersByName("an", 10); !slices.Equal(customerIDs(got), []crm.ID{c.ID}) {
			t.Errorf("name search = %v, want only %d", customerIDs(got), c.ID)
		}
		n, _ := tx.CustomerCount()
		nNew, _ := tx.SegmentCount("new")
		nVip, _ := tx.SegmentCount("vip")
		if n != 1 || nNew != 0 || nVip != 1 {
			t.Errorf("counts: customers %d, new %d, vip %d; want 1, 0, 1", n, nNew, nVip)
		}
		// History followed the merges.
		is, _ := tx.Interactions(c.ID, 0, 0)
		if len(is) != 1 || is[0].CustomerID != c.ID || is[0].Text != "hi from A" {
			t.Errorf("C's interactions = %+v", is)
		}
		os, _ := tx.Orders(c.ID)
		if len(os) != 1 || os[0].CustomerID != c.ID {
			t.Errorf("C's orders = %+v", os)
		}
		if got, err := tx.Interaction(a.ID, is[0].ID); err != nil || got.CustomerID != c.ID {
			t.Errorf("Interaction by old customer id = %v, %v", got, err)
		}
		if _, err := tx.Customer(999); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("Customer(999) err = %v, want ENOTFOUND", err)
		}
		return nil
	})

	// Saving a merged-away customer again would bring the duplicate back.
	err := db.UpdateSolo(t.Context(), func(tx crm.Tx) error { return tx.PutCustomer(&crm.Customer{ID: a.ID, Name: "zombie"}) })
	if crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("PutCustomer(merged id) err = %v, want ECONFLICT", err)
	}
	// A dedupe on the moved order's ref still holds.
	update(t, db, func(tx crm.Tx) error {
		ok, err := tx.AddOrder(&crm.Order{CustomerID: c.ID, Ref: "R-1"})
		if ok {
			t.Error("order R-1 stored twice after merge")
		}
		return err
	})
}

func TestFindCustomersByName(t *testing.T) {
	db := MustOpen(t)
	names := []string{"Nguyễn Văn Ánh", "Nguyễn Thị Lan", "Trần Văn An", "Đặng Ngọc Anh", "John Nguyen", "Phạm Minh"}
	ids := map[string]crm.ID{}
	update(t, db, func(tx crm.Tx) error {
		for _, n := range names {
			c := &crm.Customer{Name: n}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			ids[n] = c.ID
		}
		return tx.PutCustomer(&crm.Customer{}) // no name: not indexed
	})
	tests := []struct {
		query string
		want  []string
	}{
		{"nguyen van a", []string{"Nguyễn Văn Ánh"}},
		{"Nguyễn Văn Ánh", []string{"Nguyễn Văn Ánh"}},
		{"NGUYEN", []string{"Nguyễn Văn Ánh", "Nguyễn Thị Lan", "John Nguyen"}},
		{"dang anh", []string{"Đặng Ngọc Anh"}},
		{"van", []string{"Nguyễn Văn Ánh", "Trần Văn An"}},
		{"anh ngoc", []string{"Đặng Ngọc Anh"}},
		{"lan tran", nil},
		{"xyz", nil},
		{"  ", nil},
		{"minh, phạm!", []string{"Phạm Minh"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			view(t, db, func(tx crm.Tx) error {
				got, err := tx.FindCustomersByName(tt.query, 10)
				if err != nil {
					return err
				}
				var want []crm.ID
				for _, n := range tt.want {
					want = append(want, ids[n])
				}
				gotIDs := customerIDs(got)
				slices.Sort(gotIDs)
				slices.Sort(want)
				if !slices.Equal(gotIDs, want) {
					t.Errorf("FindCustomersByName(%q) = %v, want %v", tt.query, gotIDs, want)
				}
				return nil
			})
		})
	}
	view(t, db, func(tx crm.Tx) error {
		if got, _ := tx.FindCustomersByName("nguyen", 2); len(got) != 2 {
			t.Errorf("limit 2 returned %d", len(got))
		}
		return nil
	})
}

func TestInteractions(t *testing.T) {
	db := MustOpen(t)
	a := putCustomer(t, db, &crm.Customer{Name: "A"})
	b := putCustomer(t, db, &crm.Customer{Name: "B"})
	var aIDs, bIDs []crm.ID
	update(t, db, func(tx crm.Tx) error {
		for i := range 10 { // interleaved: ids increase across customers
			cust := a.ID
			if i%2 == 1 {
				cust = b.ID
			}
			it := &crm.Interaction{CustomerID: cust, Direction: crm.Inbound, Text: fmt.Sprint(i)}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			if !it.Time.Equal(testNow) {
				t.Errorf("zero Time set to %v, want injected now", it.Time)
			}
			if cust == a.ID {
				aIDs = append(aIDs, it.ID)
			} else {
				bIDs = append(bIDs, it.ID)
			}
		}
		return nil
	})
	ids := func(is []*crm.Interaction) []crm.ID {
		var out []crm.ID
		for _, i := range is {
			out = append(out, i.ID)
		}
		return out
	}
	view(t, db, func(tx crm.Tx) error {
		tests := []struct {
			name string
			get  func() ([]*crm.Interaction, error)
			want []crm.ID
		}{
			{"all of A", func() ([]*crm.Interaction, error) { return tx.Interactions(a.ID, 0, 0) }, aIDs},
			{"A after second, limit 2", func() ([]*crm.Interaction, error) { return tx.Interactions(a.ID, aIDs[1], 2) }, aIDs[2:4]},
			{"A after last", func() ([]*crm.Interaction, error) { return tx.Interactions(a.ID, aIDs[4], 0) }, nil},
			{"B recent 3", func() ([]*crm.Interaction, error) { return tx.RecentInteractions(b.ID, 3) }, bIDs[2:]},
			{"B recent 50", func() ([]*crm.Interaction, error) { return tx.RecentInteractions(b.ID, 50) }, bIDs},
			{"last customer recent", func() ([]*crm.Interaction, error) { return tx.RecentInteractions(b.ID+1, 3) }, nil},
		}
		for _, tt := range tests {
			got, err := tt.get()
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			} else if !slices.Equal(ids(got), tt.want) {
				t.Errorf("%s = %v, want %v", tt.name, ids(got), tt.want)
			}
		}
		return nil
	})

	// Edit one, then move A's history to B.
	update(t, db, func(tx crm.Tx) error {
		it, err := tx.Interaction(a.ID, aIDs[0])
		if err != nil {
			return err
		}
		it.Original, it.Text, it.Edited = it.Text, "edited", true
		if err := tx.PutInteraction(it); err != nil {
			return err
		}
		return tx.MoveInteractions(a.ID, b.ID)
	})
	view(t, db, func(tx crm.Tx) error {
		all, err := tx.Interactions(b.ID, 0, 0)
		if err != nil {
			return err
		}
		want := append(slices.Clone(aIDs), bIDs...)
		slices.Sort(want)
		if !slices.Equal(ids(all), want) {
			t.Errorf("after move B has %v, want %v", ids(all), want)
		}
		for _, i := range all {
			if i.CustomerID != b.ID {
				t.Errorf("interaction %d CustomerID = %d, want %d", i.ID, i.CustomerID, b.ID)
			}
		}
		if all[0].Text != "edited" || all[0].Original != "0" {
			t.Errorf("edit lost: %+v", all[0])
		}
		if left, _ := tx.Interactions(a.ID, 0, 0); len(left) != 0 {
			t.Errorf("A still has %d interactions", len(left))
		}
		return nil
	})
	err := db.UpdateSolo(t.Context(), func(tx crm.Tx) error {
		return tx.PutInteraction(&crm.Interaction{ID: 999, CustomerID: a.ID})
	})
	if crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("PutInteraction(unknown) err = %v, want ENOTFOUND", err)
	}
}

func TestSeenMessage(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		if _, ok, _ := tx.SeenMessage(crm.ChannelTelegram, "42"); ok {
			t.Error("unseen message reported seen")
		}
		return tx.MarkMessage(crm.ChannelTelegram, "42", 7)
	})
	view(t, db, func(tx crm.Tx) error {
		if id, ok, err := tx.SeenMessage(crm.ChannelTelegram, "42"); !ok || id != 7 || err != nil {
			t.Errorf("SeenMessage = %d, %v, %v; want 7, true", id, ok, err)
		}
		if _, ok, _ := tx.SeenMessage(crm.ChannelZalo, "42"); ok {
			t.Error("same message id on another channel reported seen")
		}
		return nil
	})
}

func TestAddOrder_RefDedupe(t *testing.T) {
	db := MustOpen(t)
	c := putCustomer(t, db, &crm.Customer{Name: "A"})
	tests := []struct {
		ref    string
		wantOK bool
	}{
		{"INV-1", true},
		{"INV-1", false},
		{"", true},
		{"", true},
		{"INV-2", true},
	}
	update(t, db, func(tx crm.Tx) error {
		for i, tt := range tests {
			o := &crm.Order{CustomerID: c.ID, Ref: tt.ref, Amount: int64(i)}
			ok, err := tx.AddOrder(o)
			if err != nil {
				return err
			}
			if ok != tt.wantOK || (ok && o.ID == 0) {
				t.Errorf("AddOrder #%d ref %q = %v (id %d), want %v", i, tt.ref, ok, o.ID, tt.wantOK)
			}
		}
		return nil
	})
	view(t, db, func(tx crm.Tx) error {
		os, err := tx.Orders(c.ID)
		if err != nil {
			return err
		}
		var amounts []int64
		for _, o := range os {
			amounts = append(amounts, o.Amount)
		}
		if want := []int64{0, 2, 3, 4}; !slices.Equal(amounts, want) {
			t.Errorf("order amounts = %v, want %v", amounts, want)
		}
		return nil
	})
}

func TestOffers_Versions(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		for _, o := range []*crm.Offer{
			{ID: "tet", Name: "Tết v1", Version: 1},
			{ID: "payday", Name: "Payday", Version: 1},
			{ID: "tet", Name: "Tết v2", Version: 2},
			{ID: "tet2", Name: "Other", Version: 1}, // shares a prefix with "tet"
		} {
			if err := tx.PutOffer(o); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx crm.Tx) error {
		all, _ := tx.Offers()
		var got []string
		for _, o := range all {
			got = append(got, o.ID+"="+o.Name)
		}
		if want := []string{"payday=Payday", "tet=Tết v2", "tet2=Other"}; !slices.Equal(got, want) {
			t.Errorf("Offers = %v, want %v", got, want)
		}
		vs, _ := tx.OfferVersions("tet")
		if len(vs) != 2 || vs[0].Name != "Tết v1" || vs[1].Name != "Tết v2" {
			t.Errorf("OfferVersions(tet) = %+v", vs)
		}
		if o, err := tx.Offer("tet"); err != nil || o.Version != 2 {
			t.Errorf("Offer(tet) = %+v, %v", o, err)
		}
		if _, err := tx.Offer("missing"); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("Offer(missing) err = %v, want ENOTFOUND", err)
		}
		return nil
	})
}

func TestOutbox_PendingInStepWithStatus(t *testing.T) {
	db := MustOpen(t)
	var items []*crm.OutboxItem
	update(t, db, func(tx crm.Tx) error {
		for i := range 4 {
			it := &crm.OutboxItem{CustomerID: 1, Text: fmt.Sprint(i)}
			if err := tx.EnqueueOutbox(it); err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	if items[0].Status != crm.OutboxPending || items[0].ID == 0 || !items[0].CreatedAt.Equal(testNow) {
		t.Fatalf("enqueued item = %+v", items[0])
	}
	var body []byte
	if err := db.bolt.View(func(btx *bbolt.Tx) error {
		body = slices.Clone(btx.Bucket(bktOutbox).Get(idKey(items[0].ID)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The dispatcher marks items while it walks the pending set.
	sentAt := testNow.Add(time.Minute)
	update(t, db, func(tx crm.Tx) error {
		return tx.PendingOutbox(func(it *crm.OutboxItem) error {
			switch it.Text {
			case "0":
				it.Status, it.SentAt = crm.OutboxSent, sentAt
			case "2":
				it.Status = crm.OutboxFailed
			default:
				it.Attempts++
			}
			return tx.PutOutbox(it)
		})
	})
	view(t, db, func(tx crm.Tx) error {
		var pending []string
		_ = tx.PendingOutbox(func(it *crm.OutboxItem) error {
			pending = append(pending, it.Text)
			if it.Attempts != 1 {
				t.Errorf("item %s attempts = %d, want 1", it.Text, it.Attempts)
			}
			return nil
		})
		if want := []string{"1", "3"}; !slices.Equal(pending, want) {
			t.Errorf("pending = %v, want %v", pending, want)
		}
		if n, _ := tx.OutboxDepth(); n != 2 {
			t.Errorf("OutboxDepth = %d, want 2", n)
		}
		it, err := tx.OutboxItem(items[0].ID)
		if err != nil || it.Status != crm.OutboxSent || !it.SentAt.Equal(sentAt) || it.Text != "0" || !it.CreatedAt.Equal(testNow) {
			t.Errorf("OutboxItem = %+v, %v", it, err)
		}
		if _, err := tx.OutboxItem(999); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("OutboxItem(999) err = %v, want ENOTFOUND", err)
		}
		return nil
	})
	// Saving an item again records its state beside it: the item as queued
	// is not rewritten.
	if err := db.bolt.View(func(btx *bbolt.Tx) error {
		if now := btx.Bucket(bktOutbox).Get(idKey(items[0].ID)); !bytes.Equal(now, body) {
			t.Errorf("the queued item was rewritten:\n%s\n%s", body, now)
		}
		if btx.Bucket(bktOutboxState).Get(idKey(items[0].ID)) == nil {
			t.Error("no delivery state stored")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCounters(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		for _, c := range []struct {
			name  string
			delta int64
		}{{"msg:in:telegram", 3}, {"msg:in:zalo", 1}, {"msg:out:telegram", 2}, {"msg:in:telegram", -1}, {"msg", 9}} {
			if err := tx.AddCounter(c.name, c.delta); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx crm.Tx) error {
		got, _ := tx.Counters("msg:in:")
		if len(got) != 2 || got["msg:in:telegram"] != 2 || got["msg:in:zalo"] != 1 {
			t.Errorf("Counters(msg:in:) = %v", got)
		}
		if n, _ := tx.Counter("nope"); n != 0 {
			t.Errorf("missing counter = %d", n)
		}
		return nil
	})
}

func TestEventsBetween_OneSeek(t *testing.T) {
	db := MustOpen(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	update(t, db, func(tx crm.Tx) error {
		for i := range 5 { // appended out of time order
			at := base.Add(time.Duration((i*3)%5) * time.Hour)
			if err := tx.AppendEvent(&crm.Event{CustomerID: crm.ID(i + 1), Time: at, Kind: crm.EventSegmentChange, To: "vip"}); err != nil {
				return err
			}
		}
		return tx.AppendEvent(&crm.Event{CustomerID: 1, OfferID: "tet", Kind: crm.EventOfferShown})
	})
	view(t, db, func(tx crm.Tx) error {
		var hours []int
		err := tx.EventsBetween(base.Add(2*time.Hour), base.Add(5*time.Hour), func(e *crm.Event) error {
			hours = append(hours, int(e.Time.Sub(base).Hours()))
			return nil
		})
		if want := []int{2, 3, 4}; err != nil || !slices.Equal(hours, want) {
			t.Errorf("EventsBetween hours = %v, %v; want %v", hours, err, want)
		}
		return nil
	})
}

// TestMessageEventsNotIndexedByCustomer: message events are found by
// customer through the conversation history, so appending one writes no
// customer index entry (a second random leaf per message).
func TestMessageEventsNotIndexedByCustomer(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		if err := tx.AppendEvent(&crm.Event{CustomerID: 1, Kind: crm.EventMessageIn}); err != nil {
			return err
		}
		return tx.AppendEvent(&crm.Event{CustomerID: 1, Kind: crm.EventOrder, Amount: 1})
	})
	view(t, db, func(tx crm.Tx) error {
		n := 0
		err := tx.(*Tx).scan(bktIdxEventCustomer, nil, nil, func(_, _ []byte) error { n++; return nil })
		if err != nil || n != 1 {
			t.Errorf("customer index entries = %d, %v; want 1 (the order only)", n, err)
		}
		return nil
	})
}

func TestSegmentCustomers_SaveWhileIterating(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		for range 300 { // enough to span several pages
			if err := tx.PutCustomer(&crm.Customer{Segment: crm.SegmentAssignment{Name: "new"}}); err != nil {
				return err
			}
		}
		return nil
	})
	visited := map[crm.ID]int{}
	update(t, db, func(tx crm.Tx) error {
		return tx.SegmentCustomers("new", func(id crm.ID) error {
			visited[id]++
			c, err := tx.Customer(id)
			if err != nil {
				return err
			}
			c.Segment.Name = "active"
			return tx.PutCustomer(c)
		})
	})
	view(t, db, func(tx crm.Tx) error {
		nNew, _ := tx.SegmentCount("new")
		nActive, _ := tx.SegmentCount("active")
		if len(visited) != 300 || nNew != 0 || nActive != 300 {
			t.Errorf("visited %d, new %d, active %d; want 300, 0, 300", len(visited), nNew, nActive)
		}
		for id, n := range visited {
			if n != 1 {
				t.Errorf("customer %d visited %d times", id, n)
			}
		}
		return nil
	})
}

func TestPendingOutbox_MarkAllSentWhileIterating(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		for range 500 {
			if err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	visited := 0
	update(t, db, func(tx crm.Tx) error {
		return tx.PendingOutbox(func(it *crm.OutboxItem) error {
			visited++
			it.Status = crm.OutboxSent
			return tx.PutOutbox(it)
		})
	})
	view(t, db, func(tx crm.Tx) error {
		if n, _ := tx.OutboxDepth(); visited != 500 || n != 0 {
			t.Errorf("visited %d, depth %d; want 500, 0", visited, n)
		}
		return nil
	})
}
