package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

var txTests = []test{
	{name: "FailedUpdateStoresNothing", run: testFailedUpdateStoresNothing},
	{name: "ReadsSeeOwnWrites", run: testReadsSeeOwnWrites},
	{name: "ConcurrentUpdatesAllCommit", run: testConcurrentUpdates},
	{name: "CancelledContextCommitsNothing", run: testCancelledContext},
	{name: "ReturnedRecordsAreCopies", run: testReturnedRecordsAreCopies},
	{name: "DataPersistsAcrossReopen", reopens: true, run: testPersistsAcrossReopen},
}

// observed is what the suite can see of a store through crm.Tx, for
// comparing states: everything about the customers given, and the
// store-wide counts and lists.
func observed(t *testing.T, s crm.Store, customers []crm.ID, phones []string) string {
	t.Helper()
	out := map[string]any{}
	view(t, s, func(tx crm.Tx) error {
		clear(out)
		for _, id := range customers {
			x, err := tx.CustomerRecords(id)
			if err != nil {
				return fmt.Errorf("records of %d: %w", id, err)
			}
			out[fmt.Sprint("records ", id)] = x
		}
		for _, p := range phones {
			c, err := tx.FindCustomerByPhone(p)
			if err != nil {
				return err
			}
			out["phone "+p] = idOf(c)
		}
		n, err := tx.CustomerCount()
		if err != nil {
			return err
		}
		out["customers"] = n
		if out["segment new"], err = tx.SegmentCount("new"); err != nil {
			return err
		}
		if out["depth"], err = tx.OutboxDepth(); err != nil {
			return err
		}
		var all []*crm.Customer
		if err := tx.ForEachCustomer(func(c *crm.Customer) error { all = append(all, c); return nil }); err != nil {
			return err
		}
		out["all customers"] = all
		var pendingItems []*crm.OutboxItem
		if err := tx.PendingOutbox(func(it *crm.OutboxItem) error { pendingItems = append(pendingItems, it); return nil }); err != nil {
			return err
		}
		out["pending"] = pendingItems
		if out["counters"], err = tx.Counters("test:"); err != nil {
			return err
		}
		if out["segment rules"], err = tx.SegmentRules(); err != nil {
			return err
		}
		id, seen, err := tx.SeenMessage(crm.ChannelTelegram, "test:msg")
		out["seen"] = fmt.Sprint(id, seen)
		if err != nil {
			return err
		}
		if out["offers"], err = tx.Offers(); err != nil {
			return err
		}
		var events []*crm.Event
		err = tx.EventsBetween(time.Time{}, time.Time{}, func(e *crm.Event) error { events = append(events, e); return nil })
		out["events"] = events
		return err
	})
	return asJSON(t, out)
}

func testFailedUpdateStoresNothing(t *testing.T, o Opener) {
	tests := []struct {
		name string
		// before runs first in the failing function: a scan, an erase…
		before func(tx crm.Tx, keep, dup crm.ID) error
	}{
		{"point reads and writes", nil},
		{"after a scan", func(tx crm.Tx, _, _ crm.ID) error {
			return tx.ForEachCustomer(func(*crm.Customer) error { return nil })
		}},
		{"after a merge", func(tx crm.Tx, keep, dup crm.ID) error {
			if err := tx.MoveInteractions(dup, keep); err != nil {
				return err
			}
			return tx.DeleteCustomer(dup, keep)
		}},
		{"after an erase", func(tx crm.Tx, keep, _ crm.ID) error {
			_, err := tx.EraseCustomer(keep, "admin", base)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := o.Open(t)
			keep := &crm.Customer{Name: "Keep", Phone: "+84900000001", Segment: crm.SegmentAssignment{Name: "new"},
				Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1"}}}
			dup := &crm.Customer{Name: "Dup", Phone: "+84900000002", Segment: crm.SegmentAssignment{Name: "new"}}
			create(t, s, keep, dup)
			appendTexts(t, s, []crm.ID{keep.ID, dup.ID}, "hello", "hi")
			enqueue(t, s, keep.ID, "welcome")
			phones := []string{"+84900000001", "+84900000002", "+84900000003", "+84900000009"}
			before := observed(t, s, []crm.ID{keep.ID, dup.ID}, phones)

			err := s.Update(t.Context(), func(tx crm.Tx) error {
				if tt.before != nil {
					if err := tt.before(tx, keep.ID, dup.ID); err != nil {
						return err
					}
				}
				c, err := tx.Customer(keep.ID)
				if err != nil {
					return err
				}
				c.Name, c.Phone, c.Segment.Name = "Changed", "+84900000009", "vip"
				c.Stats.TotalSpent += 1000
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
				if err := tx.PutCustomer(&crm.Customer{Name: "New", Phone: "+84900000003", Segment: crm.SegmentAssignment{Name: "new"}}); err != nil {
					return err
				}
				i := &crm.Interaction{CustomerID: keep.ID, Time: base, Direction: crm.Inbound, Kind: crm.KindText, Text: "lost"}
				if err := tx.AppendInteraction(i); err != nil {
					return err
				}
				if err := tx.MarkMessage(crm.ChannelTelegram, "test:msg", i.ID); err != nil {
					return err
				}
				if _, err := tx.AddOrder(&crm.Order{CustomerID: keep.ID, Ref: "lost", Amount: 1000, Time: base}); err != nil {
					return err
				}
				if err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: keep.ID, Text: "lost", CreatedAt: base}); err != nil {
					return err
				}
				if err := tx.PendingOutbox(func(it *crm.OutboxItem) error {
					it.Status = crm.OutboxSent
					return tx.PutOutbox(it)
				}); err != nil {
					return err
				}
				if err := tx.AddCounter("test:count", 5); err != nil {
					return err
				}
				if err := tx.PutSegmentRules([]byte("lost")); err != nil {
					return err
				}
				if err := tx.PutOffer(&crm.Offer{ID: "lost", Version: 1, UpdatedAt: base}); err != nil {
					return err
				}
				if err := tx.AppendEvent(&crm.Event{CustomerID: keep.ID, OfferID: "lost", Time: base, Kind: crm.EventOfferShown}); err != nil {
					return err
				}
				if err := tx.AppendEvent(&crm.Event{CustomerID: keep.ID, Time: base, Kind: crm.EventSegmentChange, From: "new", To: "vip"}); err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("Update returned %v, want the function's error", err)
			}
			if after := observed(t, s, []crm.ID{keep.ID, dup.ID}, phones); after != before {
				t.Errorf("a failed Update changed the store:\nbefore %s\n after %s", before, after)
			}
		})
	}
}

func testReadsSeeOwnWrites(t *testing.T, o Opener) {
	s := o.Open(t)
	type seen struct {
		byID, byPhone, byIdentity    crm.ID
		interactions, orders, outbox int
		counter                      int64
		meta                         string
		customers                    int64
	}
	var got seen
	var id crm.ID
	update(t, s, func(tx crm.Tx) error {
		got = seen{}
		c := &crm.Customer{Name: "Fresh", Phone: "+84900000005", Identities: []crm.Identity{{Channel: crm.ChannelZalo, UserID: "z"}}}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		id = c.ID
		byID, err := tx.Customer(c.ID)
		if err != nil {
			return err
		}
		got.byID = byID.ID
		byPhone, err := tx.FindCustomerByPhone("+84900000005")
		if err != nil {
			return err
		}
		got.byPhone = idOf(byPhone)
		byIdentity, err := tx.FindCustomerByIdentity(crm.ChannelZalo, "z")
		if err != nil {
			return err
		}
		got.byIdentity = idOf(byIdentity)
		for _, text := range []string{"a", "b"} {
			if err := tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Time: base, Text: text}); err != nil {
				return err
			}
		}
		is, err := tx.Interactions(c.ID, 0, 0)
		if err != nil {
			return err
		}
		got.interactions = len(is)
		if _, err := tx.AddOrder(&crm.Order{CustomerID: c.ID, Amount: 5, Time: base}); err != nil {
			return err
		}
		orders, err := tx.Orders(c.ID)
		if err != nil {
			return err
		}
		got.orders = len(orders)
		if err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: c.ID, Text: "x", CreatedAt: base}); err != nil {
			return err
		}
		if err := tx.PendingOutbox(func(*crm.OutboxItem) error { got.outbox++; return nil }); err != nil {
			return err
		}
		for range 2 {
			if err := tx.AddCounter("test:n", 2); err != nil {
				return err
			}
		}
		if got.counter, err = tx.Counter("test:n"); err != nil {
			return err
		}
		if err := tx.PutSegmentRules([]byte("v")); err != nil {
			return err
		}
		v, err := tx.SegmentRules()
		got.meta = string(v)
		if err != nil {
			return err
		}
		got.customers, err = tx.CustomerCount()
		return err
	})
	want := seen{byID: id, byPhone: id, byIdentity: id, interactions: 2, orders: 1, outbox: 1, counter: 4, meta: "v", customers: 1}
	if got != want {
		t.Errorf("reads inside the Update saw %+v, want %+v", got, want)
	}
	// And a View after it sees them committed.
	var after seen
	view(t, s, func(tx crm.Tx) error {
		c, err := tx.FindCustomerByPhone("+84900000005")
		if err != nil {
			return err
		}
		after.byPhone = idOf(c)
		is, err := tx.Interactions(id, 0, 0)
		after.interactions = len(is)
		if err != nil {
			return err
		}
		after.counter, err = tx.Counter("test:n")
		return err
	})
	if after.byPhone != id || after.interactions != 2 || after.counter != 4 {
		t.Errorf("a View after the Update saw %+v", after)
	}
}

// testConcurrentUpdates: 50 goroutines update one customer (read, change,
// save), a counter, and the store's lists, while readers check that no
// View sees half a transaction, and one tails another customer's history
// as the web chat does (Interactions after the last id it saw): an
// interaction that commits after a higher id was visible would be missed.
func testConcurrentUpdates(t *testing.T, o Opener) {
	s := o.Open(t)
	shared := &crm.Customer{Name: "Shared"}
	// tailedCustomer's history is appended to by transactions that read
	// nothing, so nothing but the store orders those commits.
	tailedCustomer := &crm.Customer{Name: "Tailed"}
	create(t, s, shared, tailedCustomer)
	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers+4)
	for w := range writers {
		wg.Go(func() {
			errs <- s.Update(t.Context(), func(tx crm.Tx) error {
				c, err := tx.Customer(shared.ID)
				if err != nil {
					return err
				}
				c.Stats.MessagesIn++
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
				if err := tx.AppendInteraction(&crm.Interaction{CustomerID: shared.ID, Time: base, Direction: crm.Inbound, Text: fmt.Sprint(w)}); err != nil {
					return err
				}
				if err := tx.PutCustomer(&crm.Customer{Phone: fmt.Sprintf("+849%08d", w)}); err != nil {
					return err
				}
				return tx.AddCounter("test:hits", 1)
			})
			errs <- s.Update(t.Context(), func(tx crm.Tx) error {
				return tx.AppendInteraction(&crm.Interaction{CustomerID: tailedCustomer.ID, Time: base, Direction: crm.Outbound, Text: fmt.Sprint(w)})
			})
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				err := s.View(t.Context(), func(tx crm.Tx) error {
					c, err := tx.Customer(shared.ID)
					if err != nil {
						return err
					}
					is, err := tx.Interactions(shared.ID, 0, 0)
					if err != nil {
						return err
					}
					hits, err := tx.Counter("test:hits")
					if err != nil {
						return err
					}
					if len(is) != c.Stats.MessagesIn || int64(len(is)) != hits {
						return fmt.Errorf("a View saw half a transaction: %d messages counted, %d logged, %d hits", c.Stats.MessagesIn, len(is), hits)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// The tailer reads on from cursor; after the writers it reads once more.
	tailed := map[string]int{}
	var cursor crm.ID
	tail := func() error {
		var is []*crm.Interaction
		err := s.View(t.Context(), func(tx crm.Tx) (err error) {
			is, err = tx.Interactions(tailedCustomer.ID, cursor, 0)
			return err
		})
		for _, i := range is {
			tailed[i.Text]++
			cursor = i.ID
		}
		return err
	}
	var tailer sync.WaitGroup
	tailer.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := tail(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	tailer.Wait()
	if err := tail(); err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		if n := tailed[fmt.Sprint(w)]; n != 1 {
			t.Errorf("the history tailer read writer %d's message %d times, want once", w, n)
		}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	view(t, s, func(tx crm.Tx) error {
		c, err := tx.Customer(shared.ID)
		if err != nil {
			return err
		}
		if got, want := c.Stats.MessagesIn, writers; got != want {
			t.Errorf("MessagesIn = %d, want %d (an update was lost)", got, want)
		}
		if got, err := tx.Counter("test:hits"); err != nil || got != writers {
			t.Errorf("Counter(test:hits) = %d, %v; want %d", got, err, writers)
		}
		if got, err := tx.CustomerCount(); err != nil || got != writers+2 {
			t.Errorf("CustomerCount = %d, %v; want %d", got, err, writers+2)
		}
		is, err := tx.Interactions(shared.ID, 0, 0)
		if err != nil {
			return err
		}
		var texts []string
		for i, it := range is {
			if i > 0 && it.ID <= is[i-1].ID {
				t.Errorf("history ids %v do not increase", interactionIDs(is))
				break
			}
			texts = append(texts, it.Text)
		}
		slices.Sort(texts)
		texts = slices.Compact(texts)
		if len(texts) != writers {
			t.Errorf("%d distinct messages logged, want %d", len(texts), writers)
		}
		seenIDs := map[crm.ID]bool{shared.ID: true, tailedCustomer.ID: true}
		for w := range writers {
			c, err := tx.FindCustomerByPhone(fmt.Sprintf("+849%08d", w))
			if err != nil {
				return err
			}
			if c == nil || seenIDs[c.ID] {
				t.Errorf("writer %d's customer: %v (ids must be unique)", w, idOf(c))
				continue
			}
			seenIDs[c.ID] = true
		}
		return nil
	})
}

// An Update or View on a context already cancelled fails with the
// context's error and stores nothing, whether or not fn ran.
func testCancelledContext(t *testing.T, o Opener) {
	s := o.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(tx crm.Tx) error {
		if err := tx.PutCustomer(&crm.Customer{Name: "never", Phone: "+84900000007"}); err != nil {
			return err
		}
		return tx.AddCounter("test:never", 1)
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update on a cancelled context = %v, want context.Canceled", err)
	}
	err = s.View(ctx, func(crm.Tx) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View on a cancelled context = %v, want context.Canceled", err)
	}
	view(t, s, func(tx crm.Tx) error {
		n, err := tx.CustomerCount()
		if err != nil {
			return err
		}
		hits, err := tx.Counter("test:never")
		if err != nil {
			return err
		}
		if c, err := tx.FindCustomerByPhone("+84900000007"); err != nil || c != nil || n != 0 || hits != 0 {
			t.Errorf("after an Update on a cancelled context: customer %d, %d customers, counter %d, %v; want nothing stored", idOf(c), n, hits, err)
		}
		return nil
	})
}

func testReturnedRecordsAreCopies(t *testing.T, o Opener) {
	s := o.Open(t)
	c := &crm.Customer{Name: "Lan", Tags: []string{"vip"}, Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1"}},
		Offers: map[string]*crm.OfferStat{"tet": {Shown: 1}}, Stats: crm.Aggregates{Daily: map[string]int{"20250601": 1}}}
	create(t, s, c)
	ids := appendTexts(t, s, []crm.ID{c.ID}, "hello")
	out := enqueue(t, s, c.ID, "reply")
	// want is kept as text: a store that returned shared records would
	// change a kept *crm.Customer along with the one scribbled on.
	want := asJSON(t, customer(t, s, c.ID))

	scribble := func(c *crm.Customer) {
		c.Name = "Scribbled"
		c.Tags[0] = "scribbled"
		c.Identities[0].UserID = "scribbled"
		c.Offers["tet"].Shown = 99
		c.Stats.Daily["20250601"] = 99
	}
	// In a View, twice in one transaction.
	view(t, s, func(tx crm.Tx) error {
		got, err := tx.Customer(c.ID)
		if err != nil {
			return err
		}
		scribble(got)
		again, err := tx.Customer(c.ID)
		if err != nil {
			return err
		}
		if got := asJSON(t, again); got != want {
			t.Errorf("changing a returned customer changed what the same View reads:\n got %s\nwant %s", got, want)
		}
		found, err := tx.FindCustomerByIdentity(crm.ChannelTelegram, "1")
		if err != nil {
			return err
		}
		scribble(found)
		i, err := tx.Interaction(c.ID, ids[0])
		if err != nil {
			return err
		}
		i.Text = "scribbled"
		it, err := tx.OutboxItem(out[0])
		if err != nil {
			return err
		}
		it.Text, it.Status = "scribbled", crm.OutboxSent
		return nil
	})
	// In an Update that saves nothing, and one that saves a customer and
	// then changes the struct it passed.
	update(t, s, func(tx crm.Tx) error {
		got, err := tx.Customer(c.ID)
		if err != nil {
			return err
		}
		scribble(got)
		return nil
	})
	update(t, s, func(tx crm.Tx) error {
		got, err := tx.Customer(c.ID)
		if err != nil {
			return err
		}
		if err := tx.PutCustomer(got); err != nil {
			return err
		}
		scribble(got)
		return nil
	})
	if got := asJSON(t, customer(t, s, c.ID)); got != want {
		t.Errorf("changing a customer without saving it changed the store:\n got %s\nwant %s", got, want)
	}
	view(t, s, func(tx crm.Tx) error {
		if i, err := tx.Interaction(c.ID, ids[0]); err != nil || i.Text != "hello" {
			t.Errorf("interaction = %+v, %v; want its text hello", i, err)
		}
		if it, err := tx.OutboxItem(out[0]); err != nil || it.Text != "reply" || it.Status != crm.OutboxPending {
			t.Errorf("outbox item = %+v, %v; want the pending reply", it, err)
		}
		return nil
	})
}

func testPersistsAcrossReopen(t *testing.T, o Opener) {
	s := o.Open(t)
	var full crm.Customer
	fill(t, &full)
	full.ID = 0
	dup := &crm.Customer{Name: "Dup"}
	create(t, s, &full, dup)
	var offer crm.Offer
	fill(t, &offer)
	var iid, oid crm.ID
	var order crm.ID
	update(t, s, func(tx crm.Tx) error {
		i := &crm.Interaction{CustomerID: full.ID, Time: base, Direction: crm.Inbound, Channel: crm.ChannelTelegram, Kind: crm.KindText, Text: "kept"}
		if err := tx.AppendInteraction(i); err != nil {
			return err
		}
		iid = i.ID
		if err := tx.MarkMessage(crm.ChannelTelegram, "m:1", i.ID); err != nil {
			return err
		}
		ord := &crm.Order{CustomerID: full.ID, Ref: "SO-1", Amount: 5, Time: base}
		if _, err := tx.AddOrder(ord); err != nil {
			return err
		}
		order = ord.ID
		it := &crm.OutboxItem{CustomerID: full.ID, Text: "kept", CreatedAt: base}
		if err := tx.EnqueueOutbox(it); err != nil {
			return err
		}
		oid = it.ID
		of := offer
		if err := tx.PutOffer(&of); err != nil {
			return err
		}
		if err := tx.AddCounter("test:kept", 7); err != nil {
			return err
		}
		if err := tx.PutSegmentRules([]byte("kept")); err != nil {
			return err
		}
		if err := tx.AppendEvent(&crm.Event{CustomerID: full.ID, Time: base, Kind: crm.EventOrder, Amount: 5}); err != nil {
			return err
		}
		return tx.DeleteCustomer(dup.ID, full.ID)
	})
	before := observed(t, s, []crm.ID{full.ID, dup.ID}, []string{full.Phone})

	s = o.Reopen(t, s)

	if after := observed(t, s, []crm.ID{full.ID, dup.ID}, []string{full.Phone}); after != before {
		t.Errorf("the store reopened differs:\nbefore %s\n after %s", before, after)
	}
	view(t, s, func(tx crm.Tx) error {
		if got, err := tx.Customer(full.ID); err != nil || !reflect.DeepEqual(got, &full) {
			t.Errorf("the customer after reopen = %s, %v; want %s", asJSON(t, got), err, asJSON(t, &full))
		}
		if id, seen, err := tx.SeenMessage(crm.ChannelTelegram, "m:1"); err != nil || !seen || id != iid {
			t.Errorf("SeenMessage after reopen = %d, %v, %v; want %d", id, seen, err, iid)
		}
		if n, err := tx.Counter("test:kept"); err != nil || n != 7 {
			t.Errorf("Counter after reopen = %d, %v", n, err)
		}
		if got, err := tx.Offer(offer.ID); err != nil || !reflect.DeepEqual(got, &offer) {
			t.Errorf("the offer after reopen = %s, %v", asJSON(t, got), err)
		}
		return nil
	})
	// Ids taken before the restart are never handed out again.
	var next struct{ customer, interaction, order, outbox crm.ID }
	var dupRef bool
	update(t, s, func(tx crm.Tx) error {
		c := &crm.Customer{Name: "after"}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		i := &crm.Interaction{CustomerID: c.ID, Time: base, Text: "after"}
		if err := tx.AppendInteraction(i); err != nil {
			return err
		}
		ord := &crm.Order{CustomerID: c.ID, Amount: 1, Time: base}
		if _, err := tx.AddOrder(ord); err != nil {
			return err
		}
		added, err := tx.AddOrder(&crm.Order{CustomerID: c.ID, Ref: "SO-1", Amount: 1, Time: base})
		if err != nil {
			return err
		}
		dupRef = !added
		it := &crm.OutboxItem{CustomerID: c.ID, Text: "after", CreatedAt: base}
		if err := tx.EnqueueOutbox(it); err != nil {
			return err
		}
		next.customer, next.interaction, next.order, next.outbox = c.ID, i.ID, ord.ID, it.ID
		return nil
	})
	if next.customer <= dup.ID || next.interaction <= iid || next.order <= order || next.outbox <= oid {
		t.Errorf("ids after reopen %+v; want each above those before (customer %d, interaction %d, order %d, outbox %d)",
			next, dup.ID, iid, order, oid)
	}
	if !dupRef {
		t.Error("an order ref stored before the restart was accepted again")
	}
}
