package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// onOverlay reports whether tx runs on the optimistic path.
func onOverlay(tx crm.Tx) bool {
	_, ok := tx.(*Tx).ops.(*overlay)
	return ok
}

// bump is a typical turn: read the customer, log an interaction, count,
// save the customer.
func bump(tx crm.Tx, id crm.ID) error {
	c, err := tx.Customer(id)
	if err != nil {
		return err
	}
	c.Stats.MessagesIn++
	if err := tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Text: "hi"}); err != nil {
		return err
	}
	if err := tx.AddCounter("test:msgs", 1); err != nil {
		return err
	}
	return tx.PutCustomer(c)
}

func checkBumps(t *testing.T, db *DB, id crm.ID, want int) {
	t.Helper()
	view(t, db, func(tx crm.Tx) error {
		c, err := tx.Customer(id)
		if err != nil {
			return err
		}
		is, err := tx.Interactions(id, 0, 0)
		if err != nil {
			return err
		}
		n, _ := tx.Counter("test:msgs")
		if c.Stats.MessagesIn != want || len(is) != want || n != int64(want) {
			t.Errorf("messages in = %d, interactions = %d, counter = %d; want %d each", c.Stats.MessagesIn, len(is), n, want)
		}
		return nil
	})
}

func TestUpdate_ConflictRunsAgainAndLosesNothing(t *testing.T) {
	// fn below waits, holding its snapshot, for another commit: the mapping
	// must not need to grow meanwhile (a remap waits for readers).
	db, err := Open(filepath.Join(t.TempDir(), "c.db"), Options{NoSync: true, InitialMmapSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := putCustomer(t, db, &crm.Customer{Name: "Lan", Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: "lan"}}})
	ctx := context.Background()

	readA, doneB := make(chan struct{}), make(chan struct{})
	var runsA atomic.Int32
	errA := make(chan error, 1)
	go func() {
		errA <- db.Update(ctx, func(tx crm.Tx) error {
			first := runsA.Add(1) == 1
			cu, err := tx.Customer(c.ID)
			if err != nil {
				return err
			}
			if first {
				if !onOverlay(tx) {
					t.Error("first run is not optimistic")
				}
				close(readA)
				<-doneB // B commits a change to the customer A has read
			}
			_ = cu
			return bump(tx, c.ID)
		})
	}()
	<-readA
	if err := db.Update(ctx, func(tx crm.Tx) error { return bump(tx, c.ID) }); err != nil {
		t.Fatal(err)
	}
	close(doneB)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if n := runsA.Load(); n < 2 {
		t.Errorf("A ran %d times; want it run again after the conflict", n)
	}
	checkBumps(t, db, c.ID, 2)
}

func TestUpdate_ConcurrentReadModifyWriteAddsUp(t *testing.T) {
	db := MustOpen(t)
	var ids []crm.ID
	for i := range 3 {
		ids = append(ids, putCustomer(t, db, &crm.Customer{Name: fmt.Sprintf("C%d", i)}).ID)
	}
	const workers, each = 24, 15
	var wg sync.WaitGroup
	var per [3]atomic.Int64
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for j := range each {
				k := (w + j) % 3
				err := db.Update(context.Background(), func(tx crm.Tx) error {
					if j%5 == 0 {
						// A scan: this one runs in the writer (classic path).
						if _, err := tx.Orders(ids[k]); err != nil {
							return err
						}
					}
					return bump(tx, ids[k])
				})
				if err != nil {
					errs <- err
					return
				}
				per[k].Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	view(t, db, func(tx crm.Tx) error {
		for k, id := range ids {
			c, _ := tx.Customer(id)
			is, _ := tx.Interactions(id, 0, 0)
			if want := int(per[k].Load()); c.Stats.MessagesIn != want || len(is) != want {
				t.Errorf("customer %d: messages in = %d, interactions = %d; want %d", id, c.Stats.MessagesIn, len(is), want)
			}
			total += c.Stats.MessagesIn
		}
		if n, _ := tx.Counter("test:msgs"); n != workers*each || total != workers*each {
			t.Errorf("counter = %d, total = %d; want %d", n, total, workers*each)
		}
		return nil
	})
}

func TestUpdate_ReadYourWrites(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error { return tx.AddCounter("test:n", 5) })
	err := db.Update(context.Background(), func(tx crm.Tx) error {
		if !onOverlay(tx) {
			t.Error("not on the optimistic path")
		}
		c := &crm.Customer{Name: "Nguyễn Văn Ánh", Phone: "+84900000009", Email: "Anh@Example.com",
			Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "42"}},
			Segment:    crm.SegmentAssignment{Name: "vip"}}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		for _, find := range []func() (*crm.Customer, error){
			func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, "42") },
			func() (*crm.Customer, error) { return tx.FindCustomerByPhone("+84900000009") },
			func() (*crm.Customer, error) { return tx.FindCustomerByEmail("anh@example.com") },
			func() (*crm.Customer, error) { return tx.Customer(c.ID) },
		} {
			got, err := find()
			if err != nil || got == nil || got.ID != c.ID {
				t.Errorf("lookup in the same fn = %+v, %v; want customer %d", got, err, c.ID)
			}
		}
		if n, _ := tx.CustomerCount(); n != 1 {
			t.Errorf("CustomerCount = %d, want 1", n)
		}
		if n, _ := tx.SegmentCount("vip"); n != 1 {
			t.Errorf("SegmentCount = %d, want 1", n)
		}
		if err := tx.AddCounter("test:n", 2); err != nil {
			return err
		}
		if n, _ := tx.Counter("test:n"); n != 7 {
			t.Errorf("Counter = %d, want 7", n)
		}
		it := &crm.Interaction{CustomerID: c.ID, Text: "hello"}
		if err := tx.AppendInteraction(it); err != nil {
			return err
		}
		if got, err := tx.Interaction(c.ID, it.ID); err != nil || got.Text != "hello" {
			t.Errorf("Interaction = %+v, %v", got, err)
		}
		if err := tx.MarkMessage(crm.ChannelTelegram, "m1", it.ID); err != nil {
			return err
		}
		if id, seen, _ := tx.SeenMessage(crm.ChannelTelegram, "m1"); !seen || id != it.ID {
			t.Errorf("SeenMessage = %d, %v", id, seen)
		}
		ob := &crm.OutboxItem{CustomerID: c.ID, Channel: crm.ChannelTelegram, Text: "hi"}
		if err := tx.EnqueueOutbox(ob); err != nil {
			return err
		}
		if got, err := tx.OutboxItem(ob.ID); err != nil || got.Status != crm.OutboxPending {
			t.Errorf("OutboxItem = %+v, %v", got, err)
		}
		if err := tx.PutHandoffThread("k", 5); err != nil {
			return err
		}
		if v, _ := tx.HandoffThread("k"); v != 5 {
			t.Errorf("HandoffThread = %d", v)
		}
		if err := tx.PutHandoffThread("k", 0); err != nil {
			return err
		}
		if v, _ := tx.HandoffThread("k"); v != 0 {
			t.Errorf("HandoffThread after delete = %d", v)
		}
		// A change of phone moves the index entry, seen at once.
		c.Phone = "+84900000010"
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		if got, _ := tx.FindCustomerByPhone("+84900000009"); got != nil {
			t.Errorf("old phone still finds %d", got.ID)
		}
		if got, _ := tx.FindCustomerByPhone("+84900000010"); got == nil || got.ID != c.ID {
			t.Errorf("new phone finds %+v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		if got, _ := tx.FindCustomerByPhone("+84900000010"); got == nil {
			t.Error("customer not committed")
		}
		if got, _ := tx.FindCustomerByPhone("+84900000009"); got != nil {
			t.Error("old phone index committed")
		}
		if n, _ := tx.Counter("test:n"); n != 7 {
			t.Errorf("Counter = %d, want 7", n)
		}
		if n, _ := tx.CustomerCount(); n != 1 {
			t.Errorf("CustomerCount = %d, want 1", n)
		}
		if n, _ := tx.OutboxDepth(); n != 1 {
			t.Errorf("OutboxDepth = %d, want 1", n)
		}
		return nil
	})
}

func TestUpdate_ScanFallsBackToWriterAtomically(t *testing.T) {
	db := MustOpen(t)
	for _, swallow := range []bool{false, true} {
		t.Run(fmt.Sprintf("swallow=%v", swallow), func(t *testing.T) {
			var runs, classic int
			name := fmt.Sprintf("fallback-%v", swallow)
			err := db.Update(context.Background(), func(tx crm.Tx) error {
				runs++
				if !onOverlay(tx) {
					classic++
				}
				if err := tx.PutCustomer(&crm.Customer{Name: name}); err != nil {
					return err
				}
				if err := tx.AddCounter("test:"+name, 1); err != nil {
					return err
				}
				n := 0
				err := tx.ForEachCustomer(func(*crm.Customer) error { n++; return nil })
				if err != nil && !swallow {
					return err
				}
				return tx.PutChannelToken(name, &crm.ChannelToken{AccessToken: fmt.Sprint(n)})
			})
			if err != nil {
				t.Fatal(err)
			}
			if runs != 2 || classic != 1 {
				t.Errorf("runs = %d, classic = %d; want one optimistic run, then one in the writer", runs, classic)
			}
			view(t, db, func(tx crm.Tx) error {
				if n, _ := tx.Counter("test:" + name); n != 1 {
					t.Errorf("counter = %d, want 1 (committed once)", n)
				}
				cs, _ := tx.FindCustomersByName(name, 10)
				tok, _ := tx.ChannelToken(name)
				total, _ := tx.CustomerCount()
				if len(cs) != 1 || tok == nil || tok.AccessToken != fmt.Sprint(total) {
					t.Errorf("customers named %s = %d, scan saw %+v of %d", name, len(cs), tok, total)
				}
				return nil
			})
		})
	}
}

func TestUpdate_ErrorCommitsNothingOnEitherPath(t *testing.T) {
	db := MustOpen(t)
	for _, scan := range []bool{false, true} {
		boom := errors.New("boom")
		runs := 0
		err := db.Update(context.Background(), func(tx crm.Tx) error {
			runs++
			c := &crm.Customer{Name: "Ghost", Phone: "+84900000001", Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: "ghost"}}}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			it := &crm.Interaction{CustomerID: c.ID, Text: "x"}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			if err := tx.MarkMessage(crm.ChannelWeb, "ghost-1", it.ID); err != nil {
				return err
			}
			if err := tx.AddCounter("test:ghost", 1); err != nil {
				return err
			}
			if scan {
				if _, err := tx.Counters("test:"); err != nil {
					return err
				}
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		// With a scan, fn runs again in the writer (where bbolt's Batch
		// runs a failing function once more, alone).
		if !scan && runs != 1 || scan && runs < 2 {
			t.Errorf("scan=%v: runs = %d", scan, runs)
		}
	}
	view(t, db, func(tx crm.Tx) error {
		if n, _ := tx.CustomerCount(); n != 0 {
			t.Errorf("customers = %d", n)
		}
		if c, _ := tx.FindCustomerByIdentity(crm.ChannelWeb, "ghost"); c != nil {
			t.Errorf("identity index kept %+v", c)
		}
		if _, seen, _ := tx.SeenMessage(crm.ChannelWeb, "ghost-1"); seen {
			t.Error("message marked")
		}
		if n, _ := tx.Counter("test:ghost"); n != 0 {
			t.Errorf("counter = %d", n)
		}
		return nil
	})
}

func TestIDs_UniqueAndIncreasingAcrossPathsAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ids.db")
	db := mustOpenPath(t, path)
	ctx := context.Background()
	var last crm.ID
	var lastOutbox crm.ID
	add := func(db *DB, mode int) {
		t.Helper()
		var id, ob crm.ID
		fn := func(tx crm.Tx) error {
			if mode == 1 {
				if _, err := tx.Orders(1); err != nil { // forces the writer
					return err
				}
			}
			it := &crm.Interaction{CustomerID: 1, Text: "x"}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			o := &crm.OutboxItem{CustomerID: 1, Text: "x"}
			if err := tx.EnqueueOutbox(o); err != nil {
				return err
			}
			id, ob = it.ID, o.ID
			return nil
		}
		var err error
		if mode == 2 {
			err = db.UpdateSolo(ctx, fn)
		} else {
			err = db.Update(ctx, fn)
		}
		if err != nil {
			t.Fatal(err)
		}
		if id <= last || ob <= lastOutbox {
			t.Fatalf("mode %d: ids %d/%d after %d/%d; want increasing", mode, id, ob, last, lastOutbox)
		}
		last, lastOutbox = id, ob
	}
	for i := range 12 {
		add(db, i%3)
	}
	// An explicit id moves the sequence past it, on the optimistic path too.
	if err := db.Update(ctx, func(tx crm.Tx) error {
		return tx.PutOutbox(&crm.OutboxItem{ID: 1000, CustomerID: 1, Status: crm.OutboxSent})
	}); err != nil {
		t.Fatal(err)
	}
	lastOutbox = 1000
	add(db, 0)

	// Concurrent callers on both paths: every id distinct.
	var mu sync.Mutex
	seen := map[crm.ID]bool{}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for range 10 {
				var id crm.ID
				err := db.Update(ctx, func(tx crm.Tx) error {
					if w%4 == 0 {
						if _, err := tx.Orders(1); err != nil {
							return err
						}
					}
					it := &crm.Interaction{CustomerID: crm.ID(w + 1), Text: "x"}
					id = it.ID
					if err := tx.AppendInteraction(it); err != nil {
						return err
					}
					id = it.ID
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] || id <= last {
					t.Errorf("id %d reissued", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := range seen {
		last = max(last, id)
	}
	checkSeq := func(db *DB) {
		t.Helper()
		_ = db.Bolt().View(func(tx *bbolt.Tx) error {
			if s := tx.Bucket(bktInteractions).Sequence(); s < uint64(last) {
				t.Errorf("interactions sequence %d < highest id %d", s, last)
			}
			if s := tx.Bucket(bktOutbox).Sequence(); s < uint64(lastOutbox) {
				t.Errorf("outbox sequence %d < highest id %d", s, lastOutbox)
			}
			return nil
		})
	}
	checkSeq(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(crm.Tx) error { return nil }); err == nil {
		t.Error("Update after Close succeeded")
	}
	db = mustOpenPath(t, path)
	checkSeq(db)
	for i := range 6 {
		add(db, i%3)
	}
}

func TestUpdate_ConcurrentReplayIsDeduplicated(t *testing.T) {
	db := MustOpen(t)
	c := putCustomer(t, db, &crm.Customer{Name: "Lan"})
	var wg sync.WaitGroup
	var handled atomic.Int32
	for range 50 {
		wg.Go(func() {
			var fresh bool
			err := db.Update(context.Background(), func(tx crm.Tx) error {
				fresh = false
				if _, seen, err := tx.SeenMessage(crm.ChannelWeb, "m-1"); err != nil || seen {
					return err
				}
				fresh = true
				it := &crm.Interaction{CustomerID: c.ID, Text: "once"}
				if err := tx.AppendInteraction(it); err != nil {
					return err
				}
				return tx.MarkMessage(crm.ChannelWeb, "m-1", it.ID)
			})
			if err != nil {
				t.Error(err)
			}
			if fresh {
				handled.Add(1)
			}
		})
	}
	wg.Wait()
	view(t, db, func(tx crm.Tx) error {
		is, _ := tx.Interactions(c.ID, 0, 0)
		if len(is) != 1 || handled.Load() != 1 {
			t.Errorf("interactions = %d, handled = %d; want 1 each", len(is), handled.Load())
		}
		return nil
	})
}

func TestUpdate_PessimisticOption(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "p.db"), Options{NoSync: true, Pessimistic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(context.Background(), func(tx crm.Tx) error {
		if onOverlay(tx) {
			t.Error("Pessimistic store ran fn on a snapshot")
		}
		return tx.PutCustomer(&crm.Customer{Name: "P"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A customer's history is read "after id N", so an id handed out to a slow
// transaction must not commit below an id already committed for the same
// customer: the slow one runs again with a new id.
func TestUpdate_HistoryIDsCommitInOrder(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "o.db"), Options{NoSync: true, InitialMmapSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	allocated, doneB := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	var idA crm.ID
	errA := make(chan error, 1)
	go func() {
		errA <- db.Update(ctx, func(tx crm.Tx) error {
			it := &crm.Interaction{CustomerID: 7, Text: "A"}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			idA = it.ID
			if runs.Add(1) == 1 {
				close(allocated)
				<-doneB
			}
			return nil
		})
	}()
	<-allocated
	var idB crm.ID
	if err := db.Update(ctx, func(tx crm.Tx) error {
		it := &crm.Interaction{CustomerID: 7, Text: "B"}
		idB = it.ID
		err := tx.AppendInteraction(it)
		idB = it.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	close(doneB)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if runs.Load() < 2 || idA <= idB {
		t.Errorf("A ran %d times with id %d, B got %d; want A again, above B", runs.Load(), idA, idB)
	}
	view(t, db, func(tx crm.Tx) error {
		is, _ := tx.Interactions(7, 0, 0)
		if len(is) != 2 || is[0].Text != "B" || is[1].Text != "A" {
			t.Errorf("history = %+v; want B then A", is)
		}
		return nil
	})
}

// TestWriterGathersRunningCallers: a group ready to commit waits for the
// callers still computing on their snapshot, so they share its commit; a
// lone caller commits at once (with an hour-long gather delay, the test
// would otherwise time out).
func TestWriterGathersRunningCallers(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "g.db"), Options{NoSync: true, GatherDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	put := func(k string) func(crm.Tx) error {
		return func(tx crm.Tx) error { return tx.PutChannelToken(k, &crm.ChannelToken{AccessToken: "v"}) }
	}

	// Alone: committed without waiting.
	if err := db.Update(ctx, put("alone")); err != nil {
		t.Fatal(err)
	}
	before := db.w.commits.Load()

	// B starts computing and holds; A is queued meanwhile and must wait for B.
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs <- db.Update(ctx, func(tx crm.Tx) error {
			select {
			case <-started:
			default:
				close(started)
			}
			<-release
			return put("b")(tx)
		})
	}()
	<-started
	go func() { defer wg.Done(); errs <- db.Update(ctx, put("a")) }()
	for {
		db.w.mu.Lock()
		queued := len(db.w.queue)
		db.w.mu.Unlock()
		if queued == 1 {
			break
		}
		runtime.Gosched()
	}
	if got := db.w.commits.Load(); got != before {
		t.Fatalf("A committed (%d commits) while B was still computing", got-before)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := db.w.commits.Load() - before; got != 1 {
		t.Fatalf("A and B took %d commits, want 1", got)
	}
}

// fillGroup lets a small group wait for more transactions and ends the wait
// as soon as the group reaches its target or the store closes, never on
// its timer here (an hour).
func TestWriterFillGroup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		queued  int // before the wait
		arrive  int // queued during it
		closing bool
	}{
		{"already at target", 3, 0, false},
		{"reaches target", 1, 2, false},
		{"closed meanwhile", 1, 0, true},
		{"nothing queued", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &writer{fill: time.Hour, fillTarget: 3, wake: make(chan struct{}, 1)}
			for range tc.queued {
				w.queue = append(w.queue, &commitReq{})
			}
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			done := make(chan struct{})
			go func() {
				defer close(done)
				w.fillGroup(timer)
			}()
			for range tc.arrive {
				w.mu.Lock()
				w.queue = append(w.queue, &commitReq{})
				w.mu.Unlock()
				w.poke()
			}
			if tc.closing {
				w.mu.Lock()
				w.closed = true
				w.mu.Unlock()
				w.poke()
			}
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("fillGroup still waiting")
			}
		})
	}
}

// gatherRunning lets a ready group wait for callers still computing and
// ends the wait when none is left (never on its timer here: an hour).
func TestWriterGatherRunning(t *testing.T) {
	w := &writer{gather: time.Hour, max: 1000, wake: make(chan struct{}, 1)}
	w.queue = append(w.queue, &commitReq{})
	w.running.Add(1)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.gatherRunning(timer)
	}()
	w.running.Add(-1)
	w.poke()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("gatherRunning still waiting with no caller computing")
	}
}
