package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// writeV1File builds a schema-1 file the way a version-1 binary left it:
// customers, and interactions keyed by customer id + interaction id.
func writeV1File(t *testing.T, path string, customers []*crm.Customer, its []*crm.Interaction, seq uint64) {
	t.Helper()
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(tx *bbolt.Tx) error {
		if err := migrations[0](tx); err != nil {
			return err
		}
		if err := tx.Bucket(bktMeta).Put([]byte(metaSchemaVersion), u64(1)); err != nil {
			return err
		}
		cb := tx.Bucket(bktCustomers)
		for _, c := range customers {
			data, err := encode(c)
			if err != nil {
				return err
			}
			if err := cb.Put(idKey(c.ID), data); err != nil {
				return err
			}
			if err := cb.SetSequence(max(cb.Sequence(), uint64(c.ID))); err != nil {
				return err
			}
		}
		ib := tx.Bucket(bktInteractionsV1)
		for _, i := range its {
			data, err := encode(i)
			if err != nil {
				return err
			}
			if err := ib.Put(pairKey(i.CustomerID, i.ID), data); err != nil {
				return err
			}
		}
		return ib.SetSequence(seq)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrate_V1InteractionsToLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	customers := []*crm.Customer{
		{ID: 1, Name: "An", Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "11", Username: "AnShop"}}},
		{ID: 2, Name: "Bình", Identities: []crm.Identity{
			{Channel: crm.ChannelTelegram, UserID: "22", Username: "@binh"},
			{Channel: crm.ChannelZalo, UserID: "z22", Username: "binh"},
		}},
		{ID: 3, Name: "Chi"},
	}
	// Ids interleave across customers, as they do in a live store; 40 for
	// customer 1 so its history spans more than one page of the old bucket.
	var its []*crm.Interaction
	want := map[crm.ID][]crm.ID{}
	for id := crm.ID(1); id <= 60; id++ {
		cust := crm.ID(1)
		switch {
		case id%3 == 0:
			cust = 2
		case id%7 == 0:
			cust = 3
		}
		its = append(its, &crm.Interaction{ID: id, CustomerID: cust, Direction: crm.Inbound,
			Text: "message " + string(rune('a'+id%26)), Time: testNow.Add(time.Duration(id) * time.Second)})
		want[cust] = append(want[cust], id)
	}
	writeV1File(t, path, customers, its, 75)

	db := mustOpenUnchecked(t, path) // records written by hand, without their indexes
	view(t, db, func(tx crm.Tx) error {
		for cust, ids := range want {
			all, err := tx.Interactions(cust, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []crm.ID
			for _, i := range all {
				got = append(got, i.ID)
				if i.CustomerID != cust || i.Text != "message "+string(rune('a'+i.ID%26)) {
					t.Errorf("customer %d: interaction %+v", cust, i)
				}
			}
			if !slices.Equal(got, ids) {
				t.Errorf("customer %d: history %v, want %v", cust, got, ids)
			}
			recent, err := tx.RecentInteractions(cust, 2)
			if err != nil || len(recent) != 2 || recent[1].ID != ids[len(ids)-1] || recent[0].ID != ids[len(ids)-2] {
				t.Errorf("customer %d: recent %v, %v", cust, recent, err)
			}
			if i, err := tx.Interaction(cust, ids[0]); err != nil || i.ID != ids[0] {
				t.Errorf("customer %d: Interaction(%d) = %v, %v", cust, ids[0], i, err)
			}
		}
		if _, err := tx.Interaction(2, 1); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("interaction 1 of customer 2: err %v, want ENOTFOUND", err)
		}
		var seen []crm.ID
		if err := tx.ForEachCustomer(func(c *crm.Customer) error { seen = append(seen, c.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(seen, []crm.ID{1, 2, 3}) {
			t.Errorf("ForEachCustomer saw %v", seen)
		}
		for _, q := range []struct {
			ch   crm.Channel
			user string
			want []crm.ID
		}{
			{crm.ChannelTelegram, "anshop", []crm.ID{1}},
			{crm.ChannelTelegram, "@BINH", []crm.ID{2}},
			{crm.ChannelZalo, "binh", []crm.ID{2}},
			{crm.ChannelZalo, "anshop", nil},
		} {
			found, err := tx.FindCustomersByUsername(q.ch, q.user)
			if err != nil {
				t.Fatal(err)
			}
			var ids []crm.ID
			for _, c := range found {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, q.want) {
				t.Errorf("FindCustomersByUsername(%s, %q) = %v, want %v", q.ch, q.user, ids, q.want)
			}
		}
		return nil
	})
	if err := db.Bolt().View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bktInteractionsV1) != nil {
			t.Error("old interactions bucket still there")
		}
		if v := tx.Bucket(bktMeta).Get([]byte(metaSchemaVersion)); binary.BigEndian.Uint64(v) != uint64(SchemaVersion()) {
			t.Errorf("schema version %x, want %d", v, SchemaVersion())
		}
		if n := tx.Bucket(bktInteractions).Stats().KeyN; n != len(its) {
			t.Errorf("interaction_log holds %d records, want %d", n, len(its))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The id sequence carried over: a new interaction gets an id above it
	// and sorts last; edits still find old ones.
	if err := db.Update(context.Background(), func(tx crm.Tx) error {
		it := &crm.Interaction{CustomerID: 3, Text: "new"}
		if err := tx.AppendInteraction(it); err != nil {
			return err
		}
		if it.ID <= 75 {
			t.Errorf("new interaction id %d, want > 75", it.ID)
		}
		old, err := tx.Interaction(2, 3)
		if err != nil {
			return err
		}
		old.Text = "edited"
		return tx.PutInteraction(old)
	}); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		all, _ := tx.Interactions(3, 0, 0)
		if len(all) != len(want[3])+1 || all[len(all)-1].Text != "new" {
			t.Errorf("customer 3 after append: %d interactions, last %+v", len(all), all[len(all)-1])
		}
		if i, err := tx.Interaction(2, 3); err != nil || i.Text != "edited" {
			t.Errorf("edited interaction: %+v, %v", i, err)
		}
		return nil
	})
	// Reopening runs no migration again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenUnchecked(t, path)
	view(t, db, func(tx crm.Tx) error {
		all, err := tx.Interactions(1, 0, 0)
		if err != nil || len(all) != len(want[1]) {
			t.Errorf("after reopen: %d interactions of customer 1, %v", len(all), err)
		}
		return nil
	})
}

func TestMigrate_FreshFileHasNoV1Bucket(t *testing.T) {
	db := MustOpen(t)
	if err := db.Bolt().View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bktInteractionsV1) != nil {
			t.Error("fresh file has the schema-1 interactions bucket")
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				t.Errorf("bucket %s missing", name)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A schema-2 file kept an outbox item's delivery state in the item: after
// the move to schema 3 those items read as before, and a new save goes to
// the state bucket.
func TestMigrate_V2OutboxStateInItem(t *testing.T) {
	sentAt := testNow.Add(-time.Hour)
	db := openFromSchema(t, 2, func(tx *bbolt.Tx) error {
		for _, it := range []*crm.OutboxItem{
			{ID: 1, CustomerID: 1, Text: "sent", Status: crm.OutboxSent, Attempts: 1, SentAt: sentAt},
			{ID: 2, CustomerID: 1, Text: "waiting", Status: crm.OutboxPending},
		} {
			data, err := encode(it)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bktOutbox).Put(idKey(it.ID), data); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bktOutboxPending).Put(idKey(2), nil); err != nil {
			return err
		}
		return tx.Bucket(bktOutbox).SetSequence(2)
	})
	view(t, db, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(1)
		if err != nil || it.Status != crm.OutboxSent || !it.SentAt.Equal(sentAt) || it.Attempts != 1 {
			t.Errorf("sent item after migration = %+v, %v", it, err)
		}
		var pending []crm.ID
		if err := tx.PendingOutbox(func(it *crm.OutboxItem) error { pending = append(pending, it.ID); return nil }); err != nil {
			return err
		}
		if !slices.Equal(pending, []crm.ID{2}) {
			t.Errorf("pending = %v, want [2]", pending)
		}
		return nil
	})
	update(t, db, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(2)
		if err != nil {
			return err
		}
		it.Status, it.SentAt = crm.OutboxSent, testNow
		return tx.PutOutbox(it)
	})
	view(t, db, func(tx crm.Tx) error {
		if it, _ := tx.OutboxItem(2); it.Status != crm.OutboxSent || it.Text != "waiting" {
			t.Errorf("item saved after migration = %+v", it)
		}
		if n, _ := tx.OutboxDepth(); n != 0 {
			t.Errorf("OutboxDepth = %d, want 0", n)
		}
		return nil
	})
}

// A schema-3 file keyed idx_segment by segment and id: after the move to
// schema 4 a segment lists its customers most valuable first, with the
// same count, and keeps doing so as orders change the totals.
func TestMigrate_V3SegmentIndexByValue(t *testing.T) {
	spent := map[crm.ID]int64{1: 500_000, 2: 9_000_000, 3: 0, 4: 2_000_000}
	db := openFromSchema(t, 3, func(tx *bbolt.Tx) error {
		for id := crm.ID(1); id <= 4; id++ {
			c := &crm.Customer{ID: id, Name: fmt.Sprintf("Khách %d", id), Segment: crm.SegmentAssignment{Name: "loyal"}}
			c.Stats.TotalSpent = spent[id]
			data, err := encode(c)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bktCustomers).Put(idKey(id), data); err != nil {
				return err
			}
			// Schema 3's key: segment 0x00 id.
			if err := tx.Bucket(bktIdxSegment).Put(strIDKey("loyal", uint64(id)), nil); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bktCounters).Put([]byte(counterSegmentPrefix+"loyal"), intValue(4)); err != nil {
			return err
		}
		return tx.Bucket(bktCustomers).SetSequence(4)
	})
	order := func() (ids []crm.ID, n int64) {
		view(t, db, func(tx crm.Tx) error {
			n, _ = tx.SegmentCount("loyal")
			return tx.SegmentCustomers("loyal", func(id crm.ID) error { ids = append(ids, id); return nil })
		})
		return ids, n
	}
	if ids, n := order(); !slices.Equal(ids, []crm.ID{2, 4, 1, 3}) || n != 4 {
		t.Fatalf("after migration: %v (count %d), want [2 4 1 3] (4)", ids, n)
	}
	// Customer 3 buys: they move up; nothing is listed twice.
	update(t, db, func(tx crm.Tx) error {
		c, err := tx.Customer(3)
		if err != nil {
			return err
		}
		c.Stats.TotalSpent = 3_000_000
		return tx.PutCustomer(c)
	})
	if ids, n := order(); !slices.Equal(ids, []crm.ID{2, 3, 4, 1}) || n != 4 {
		t.Fatalf("after an order: %v (count %d), want [2 3 4 1] (4)", ids, n)
	}
	// Customer 2 moves to vip: gone from loyal, counted there.
	update(t, db, func(tx crm.Tx) error {
		c, err := tx.Customer(2)
		if err != nil {
			return err
		}
		c.Segment.Name = "vip"
		return tx.PutCustomer(c)
	})
	if ids, n := order(); !slices.Equal(ids, []crm.ID{3, 4, 1}) || n != 3 {
		t.Fatalf("after a move: %v (count %d), want [3 4 1] (3)", ids, n)
	}
}

// openFromSchema writes a file at schema version v the way a binary of that
// version left it (migrations 1..v, then fill), and opens it with this
// binary, which migrates it. The store closes when the test ends.
func openFromSchema(t *testing.T, v int, fill func(tx *bbolt.Tx) error) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", v))
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bbolt.Tx) error {
		for _, m := range migrations[:v] {
			if err := m(tx); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bktMeta).Put([]byte(metaSchemaVersion), u64(uint64(v))); err != nil {
			return err
		}
		return fill(tx)
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{NoSync: true, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// encodeOutboxItemV1 writes an item in the 0x85 layout of schema 6 (no
// priority, due time or lease).
func encodeOutboxItemV1(it *crm.OutboxItem) []byte {
	v := *it
	v.Priority, v.Due, v.LeaseOwner, v.LeaseUntil = 0, time.Time{}, "", time.Time{}
	b := reccodec.EncodeOutboxItem(&v)
	b = b[:len(b)-4] // the four zero fields 0x87 added, a byte each
	b[0] = reccodec.OutboxFormatV1
	return b
}

// A schema-6 file listed pending items with empty values and had no claim
// index: after the move to schema 7 its pending items are replies due at
// once, free to claim, in id order, and the file checks clean.
func TestMigrate_V6OutboxClaims(t *testing.T) {
	db := openFromSchema(t, 6, func(tx *bbolt.Tx) error {
		for _, it := range []*crm.OutboxItem{
			{ID: 1, CustomerID: 1, Text: "sent", Status: crm.OutboxSent, SentAt: testNow, CreatedAt: testNow},
			{ID: 2, CustomerID: 1, Text: "waiting", Status: crm.OutboxPending, CreatedAt: testNow},
			{ID: 3, CustomerID: 1, Text: "waiting too", Status: crm.OutboxPending, CreatedAt: testNow},
		} {
			if err := tx.Bucket(bktOutbox).Put(idKey(it.ID), encodeOutboxItemV1(it)); err != nil {
				return err
			}
			if it.Status == crm.OutboxPending {
				if err := tx.Bucket(bktOutboxPending).Put(idKey(it.ID), nil); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bktOutbox).SetSequence(3)
	})
	if problems, err := db.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Fatalf("check after migration: %v, %v", problems, err)
	}
	var claimed []*crm.OutboxItem
	update(t, db, func(tx crm.Tx) (err error) {
		claimed, err = tx.ClaimOutbox("a", testNow, time.Minute, 10)
		return err
	})
	if len(claimed) != 2 || claimed[0].Text != "waiting" || claimed[1].Text != "waiting too" ||
		claimed[0].Priority != crm.PriorityReply || !claimed[0].Due.IsZero() || claimed[0].LeaseOwner != "a" {
		t.Fatalf("claimed after migration: %+v", claimed)
	}
	view(t, db, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(1)
		if err != nil || it.Status != crm.OutboxSent || it.Text != "sent" || it.LeaseOwner != "" {
			t.Errorf("sent item after migration = %+v, %v", it, err)
		}
		return nil
	})
}

// TestMigrate8DropsOutboxPending: outbox_claim becomes the pending set. An
// item a schema-7 file had moved to another place than its record names
// (outbox_pending held the claim key) takes that place in its record, so
// it is still found and claimed where it was.
func TestMigrate8DropsOutboxPending(t *testing.T) {
	later := testNow.Add(time.Hour)
	db := openFromSchema(t, 7, func(tx *bbolt.Tx) error {
		items := []*crm.OutboxItem{
			{ID: 1, CustomerID: 1, Text: "reply", Status: crm.OutboxPending, CreatedAt: testNow},
			{ID: 2, CustomerID: 1, Text: "moved", Status: crm.OutboxPending, CreatedAt: testNow, Priority: crm.PriorityProactive},
		}
		for _, it := range items {
			if err := tx.Bucket(bktOutbox).Put(idKey(it.ID), reccodec.EncodeOutboxItem(it)); err != nil {
				return err
			}
		}
		moved := claimKey(crm.PriorityProactive, later, 2)
		for _, e := range []struct{ k, ck, v []byte }{
			{idKey(1), []byte{}, claimKey(0, time.Time{}, 1)},
			{idKey(2), moved, moved},
		} {
			if err := tx.Bucket(bktOutboxPending).Put(e.k, e.ck); err != nil {
				return err
			}
			if err := tx.Bucket(bktOutboxClaim).Put(e.v, []byte{}); err != nil {
				return err
			}
		}
		return tx.Bucket(bktOutbox).SetSequence(2)
	})
	if problems, err := db.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Fatalf("check after migration: %v, %v", problems, err)
	}
	if err := db.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bktOutboxPending) != nil {
			t.Error("outbox_pending is still there")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(2)
		if err != nil || !it.Due.Equal(later) || it.Status != crm.OutboxPending {
			t.Errorf("moved item after migration = %+v, %v; want due %v, pending", it, err, later)
		}
		if n, err := tx.OutboxDepth(); err != nil || n != 2 {
			t.Errorf("depth = %d, %v; want 2", n, err)
		}
		return nil
	})
	var claimed []*crm.OutboxItem
	update(t, db, func(tx crm.Tx) (err error) {
		claimed, err = tx.ClaimOutbox("a", later, time.Minute, 10)
		return err
	})
	if len(claimed) != 2 || claimed[0].Text != "reply" || claimed[1].Text != "moved" {
		t.Fatalf("claimed after migration: %+v", claimed)
	}
}
