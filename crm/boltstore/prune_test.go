package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// pruneBefore is the retention cutoff of the prune tests: 30 days.
var pruneBefore = testNow.AddDate(0, 0, -30)

// enqueue stores an outbox item queued at created and, unless status is
// pending, records its outcome the way the dispatcher does (a delivery
// state beside the item, out of the pending set).
func enqueue(tb testing.TB, tx crm.Tx, created time.Time, status string, sentAt time.Time) crm.ID {
	tb.Helper()
	it := &crm.OutboxItem{CustomerID: 1, Channel: crm.ChannelTelegram, ChatID: "c", Text: "hello", CreatedAt: created}
	if err := tx.EnqueueOutbox(it); err != nil {
		tb.Fatal(err)
	}
	if status == crm.OutboxPending {
		return it.ID
	}
	it.Status, it.Attempts, it.SentAt = status, 1, sentAt
	if err := tx.PutOutbox(it); err != nil {
		tb.Fatal(err)
	}
	return it.ID
}

func mustPrune(tb testing.TB, db *DB, before time.Time) PruneStats {
	tb.Helper()
	st, err := db.Prune(context.Background(), before)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// has tells whether bucket b holds key k.
func has(tb testing.TB, db *DB, b []byte, k []byte) bool {
	tb.Helper()
	var ok bool
	if err := db.bolt.View(func(btx *bbolt.Tx) error {
		ok = btx.Bucket(b).Get(k) != nil
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return ok
}

func keyCount(tb testing.TB, db *DB, b []byte) int {
	tb.Helper()
	var n int
	if err := db.bolt.View(func(btx *bbolt.Tx) error {
		n = btx.Bucket(b).Stats().KeyN
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestPrune_Outbox(t *testing.T) {
	old, recent := pruneBefore.Add(-48*time.Hour), pruneBefore.Add(48*time.Hour)
	tests := []struct {
		name    string
		created time.Time
		status  string
		sentAt  time.Time
		// listed puts the item in the pending set whatever its status.
		listed bool
		pruned bool
	}{
		{name: "old sent", created: old, status: crm.OutboxSent, sentAt: old.Add(time.Second), pruned: true},
		{name: "old failed", created: old, status: crm.OutboxFailed, pruned: true},
		{name: "old pending", created: old, status: crm.OutboxPending},
		{name: "very old pending", created: old.AddDate(-2, 0, 0), status: crm.OutboxPending},
		{name: "old, listed pending although marked sent", created: old, status: crm.OutboxSent, sentAt: old, listed: true},
		{name: "recent sent", created: recent, status: crm.OutboxSent, sentAt: recent},
		{name: "recent failed", created: recent, status: crm.OutboxFailed},
		{name: "old, sent after the cutoff", created: old, status: crm.OutboxSent, sentAt: recent},
		{name: "just before the cutoff", created: pruneBefore.Add(-time.Nanosecond), status: crm.OutboxSent, sentAt: pruneBefore.Add(-time.Nanosecond), pruned: true},
		{name: "at the cutoff", created: pruneBefore, status: crm.OutboxSent, sentAt: pruneBefore},
	}
	// Unchecked: the listed item is a damaged pending set, which Check reports.
	db := mustOpenUnchecked(t, filepath.Join(t.TempDir(), "idicbot.db"))
	ids := make([]crm.ID, len(tests))
	update(t, db, func(tx crm.Tx) error {
		for i, tt := range tests {
			ids[i] = enqueue(t, tx, tt.created, tt.status, tt.sentAt)
		}
		return nil
	})
	wantPruned := 0
	if err := db.bolt.Update(func(btx *bbolt.Tx) error {
		for i, tt := range tests {
			if tt.pruned {
				wantPruned++
			}
			if tt.listed {
				if err := btx.Bucket(bktOutboxClaim).Put(claimKey(0, time.Time{}, ids[i]), []byte{}); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	st := mustPrune(t, db, pruneBefore)
	if got, want := st.Outbox, wantPruned; got != want {
		t.Errorf("Prune removed %d outbox items, want %d", got, want)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var it *crm.OutboxItem
			var err error
			view(t, db, func(tx crm.Tx) error {
				it, err = tx.OutboxItem(ids[i])
				return nil
			})
			if tt.pruned {
				if crm.ErrorCode(err) != crm.ENOTFOUND {
					t.Fatalf("OutboxItem = %+v, %v; want ENOTFOUND", it, err)
				}
				if has(t, db, bktOutboxState, idKey(ids[i])) {
					t.Error("the delivery state was left behind")
				}
				return
			}
			if err != nil {
				t.Fatalf("kept item lost: %v", err)
			}
			if it.Status != tt.status || !it.CreatedAt.Equal(tt.created) || it.Text != "hello" {
				t.Errorf("kept item = %+v", it)
			}
			if got, want := has(t, db, bktOutboxClaim, claimKey(0, time.Time{}, ids[i])), tt.status == crm.OutboxPending || tt.listed; got != want {
				t.Errorf("in the pending set = %v, want %v", got, want)
			}
		})
	}
	// The dispatcher still finds every pending item.
	var pending int
	view(t, db, func(tx crm.Tx) error {
		return tx.PendingOutbox(func(*crm.OutboxItem) error { pending++; return nil })
	})
	if got, want := pending, 3; got != want {
		t.Errorf("pending items after Prune = %d, want %d", got, want)
	}
}

func TestPrune_Seen(t *testing.T) {
	day := 24 * time.Hour
	// Interactions in id order. Times are not monotonic: a message delivered
	// late carries the channel's (older) time but a new id.
	log := []struct {
		msg  string
		time time.Time
		// pruned: its marker goes.
		pruned bool
	}{
		{msg: "m1", time: pruneBefore.Add(-60 * day), pruned: true},
		{msg: "m2", time: pruneBefore.Add(-31 * day), pruned: true},
		{msg: "m3", time: pruneBefore.Add(-time.Second), pruned: true},
		{msg: "m4", time: pruneBefore.Add(time.Second)},
		{msg: "m5 (late delivery, old time, after the cutoff id)", time: pruneBefore.Add(-10 * day)},
		{msg: "m6", time: testNow},
	}
	db := MustOpen(t)
	ids := make([]crm.ID, len(log))
	update(t, db, func(tx crm.Tx) error {
		for i, e := range log {
			it := &crm.Interaction{CustomerID: 1, Time: e.time, Direction: crm.Inbound, Channel: crm.ChannelTelegram, MessageID: e.msg, Text: e.msg}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			ids[i] = it.ID
			if err := tx.MarkMessage(crm.ChannelTelegram, e.msg, it.ID); err != nil {
				return err
			}
		}
		// Events that logged nothing cannot be dated: they stay.
		for _, m := range []string{"unfollow-old", "unfollow-new"} {
			if err := tx.MarkMessage(crm.ChannelZalo, m, 0); err != nil {
				return err
			}
		}
		return nil
	})

	st := mustPrune(t, db, pruneBefore)
	if got, want := st.Seen, 3; got != want {
		t.Errorf("Prune removed %d seen markers, want %d", got, want)
	}
	if got, want := st.SeenUndated, 2; got != want {
		t.Errorf("SeenUndated = %d, want %d", got, want)
	}
	for i, e := range log {
		t.Run(e.msg, func(t *testing.T) {
			// What the core does with a redelivered message.
			var id crm.ID
			var seen bool
			if err := db.Update(context.Background(), func(tx crm.Tx) error {
				var err error
				id, seen, err = tx.SeenMessage(crm.ChannelTelegram, e.msg)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got, want := seen, !e.pruned; got != want {
				t.Fatalf("redelivery seen = %v, want %v", got, want)
			}
			if seen && id != ids[i] {
				t.Errorf("redelivery maps to interaction %d, want %d", id, ids[i])
			}
			// The history itself is never pruned.
			view(t, db, func(tx crm.Tx) error {
				it, err := tx.Interaction(1, ids[i])
				if err != nil || it.Text != e.msg {
					t.Errorf("interaction %d = %+v, %v; want it kept", ids[i], it, err)
				}
				return nil
			})
		})
	}
	view(t, db, func(tx crm.Tx) error {
		for _, m := range []string{"unfollow-old", "unfollow-new"} {
			if _, ok, _ := tx.SeenMessage(crm.ChannelZalo, m); !ok {
				t.Errorf("undated marker %s pruned", m)
			}
		}
		return nil
	})
}

func TestPrune_NothingToDate(t *testing.T) {
	tests := []struct {
		name string
		seed func(tx crm.Tx) error
	}{
		{name: "empty store", seed: func(crm.Tx) error { return nil }},
		{name: "markers without interactions", seed: func(tx crm.Tx) error {
			return tx.MarkMessage(crm.ChannelWeb, "s:1", 0)
		}},
		{name: "every interaction recent", seed: func(tx crm.Tx) error {
			it := &crm.Interaction{CustomerID: 1, Time: testNow, Channel: crm.ChannelWeb}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			return tx.MarkMessage(crm.ChannelWeb, "s:1", it.ID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpen(t)
			update(t, db, tt.seed)
			before := keyCount(t, db, bktSeen)
			if st := mustPrune(t, db, pruneBefore); st.Seen != 0 || st.Outbox != 0 || st.Commits != 0 {
				t.Errorf("Prune = %+v, want nothing removed", st)
			}
			if got := keyCount(t, db, bktSeen); got != before {
				t.Errorf("seen markers = %d, want %d", got, before)
			}
		})
	}
}

func TestPrune_EverythingOldAllMarkersGo(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		for i := range 5 {
			it := &crm.Interaction{CustomerID: 1, Time: pruneBefore.Add(-time.Hour), Channel: crm.ChannelWeb}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			if err := tx.MarkMessage(crm.ChannelWeb, fmt.Sprint("s:", i), it.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if got, want := mustPrune(t, db, pruneBefore).Seen, 5; got != want {
		t.Errorf("Prune removed %d markers, want %d", got, want)
	}
	if got, want := keyCount(t, db, bktInteractions), 5; got != want {
		t.Errorf("interactions = %d, want %d (never pruned)", got, want)
	}
}

// seedMany stores, in id order, nOld old sent items each followed by a
// pending one, then nRecent recent sent items; and nOld old and nRecent
// recent interactions with their markers, for messages numbered from first.
// Marker keys of old and recent messages interleave.
func seedMany(tb testing.TB, db *DB, first, nOld, nRecent int) {
	tb.Helper()
	old, recent := pruneBefore.Add(-time.Hour), pruneBefore.Add(time.Hour)
	update(tb, db, func(tx crm.Tx) error {
		for range nOld {
			enqueue(tb, tx, old, crm.OutboxSent, old)
			enqueue(tb, tx, old, crm.OutboxPending, time.Time{})
		}
		for range nRecent {
			enqueue(tb, tx, recent, crm.OutboxSent, recent)
		}
		for i := range nOld + nRecent {
			at := old
			if i >= nOld {
				at = recent
			}
			it := &crm.Interaction{CustomerID: 1, Time: at, Channel: crm.ChannelTelegram}
			if err := tx.AppendInteraction(it); err != nil {
				return err
			}
			// Keys sort by message id, not by age.
			msg := fmt.Sprintf("m:%d:%d", i%97, first+i)
			if err := tx.MarkMessage(crm.ChannelTelegram, msg, it.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestPrune_Chunks(t *testing.T) {
	tests := []struct {
		name          string
		nOld, nRecent int
		lim           pruneLimits
	}{
		{name: "less than a chunk", nOld: 7, nRecent: 5, lim: pruneLimits{chunk: 10, scan: 100}},
		{name: "exactly a chunk", nOld: 10, nRecent: 5, lim: pruneLimits{chunk: 10, scan: 100}},
		{name: "several chunks", nOld: 95, nRecent: 40, lim: pruneLimits{chunk: 10, scan: 1000}},
		{name: "a chunk of one", nOld: 6, nRecent: 3, lim: pruneLimits{chunk: 1, scan: 100}},
		// Read transactions end before a chunk is full: the walk resumes
		// where the last one stopped.
		{name: "short reads", nOld: 95, nRecent: 40, lim: pruneLimits{chunk: 10, scan: 7}},
		{name: "reads of one key", nOld: 9, nRecent: 4, lim: pruneLimits{chunk: 5, scan: 1}},
		{name: "default limits", nOld: 2*pruneChunk + 1, nRecent: 50, lim: pruneLimits{chunk: pruneChunk, scan: pruneScan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpen(t)
			seedMany(t, db, 0, tt.nOld, tt.nRecent)
			st, err := db.prune(context.Background(), pruneBefore, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if st.Outbox != tt.nOld || st.Seen != tt.nOld {
				t.Errorf("Prune = %+v, want %d outbox items and %d markers", st, tt.nOld, tt.nOld)
			}
			// No commit deletes more than a chunk of one bucket.
			if chunks := (tt.nOld + tt.lim.chunk - 1) / tt.lim.chunk; st.Commits < 2*chunks {
				t.Errorf("Commits = %d, want at least %d", st.Commits, 2*chunks)
			}
			if got, want := keyCount(t, db, bktOutbox), tt.nOld+tt.nRecent; got != want {
				t.Errorf("outbox items left = %d, want %d", got, want)
			}
			if got, want := keyCount(t, db, bktOutboxClaim), tt.nOld; got != want {
				t.Errorf("pending items left = %d, want %d", got, want)
			}
			if got, want := keyCount(t, db, bktOutboxState), tt.nRecent; got != want {
				t.Errorf("delivery states left = %d, want %d", got, want)
			}
			if got, want := keyCount(t, db, bktSeen), tt.nRecent; got != want {
				t.Errorf("markers left = %d, want %d", got, want)
			}
			if got, want := keyCount(t, db, bktInteractions), tt.nOld+tt.nRecent; got != want {
				t.Errorf("interactions = %d, want %d", got, want)
			}
			// A second run finds nothing more.
			if st, err := db.prune(context.Background(), pruneBefore, tt.lim); err != nil || st != (PruneStats{}) {
				t.Errorf("second Prune = %+v, %v; want nothing", st, err)
			}
		})
	}
}

func TestPrune_StopsWhenContextEnds(t *testing.T) {
	db := MustOpen(t)
	seedMany(t, db, 0, 10, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := db.Prune(ctx, pruneBefore)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune err = %v, want context.Canceled", err)
	}
	if st != (PruneStats{}) || keyCount(t, db, bktOutbox) != 20 || keyCount(t, db, bktSeen) != 10 {
		t.Errorf("Prune with a cancelled context removed %+v", st)
	}
}

// Prune runs beside the live bot: items queued, sent and retried while it
// runs are never lost, and nothing pending is deleted.
func TestPrune_WhileTheBotWrites(t *testing.T) {
	db := MustOpen(t)
	seedMany(t, db, 0, 3000, 0)
	const writers, each = 4, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := db.Update(context.Background(), func(tx crm.Tx) error {
					it := &crm.OutboxItem{CustomerID: crm.ID(w + 1), Text: "new", CreatedAt: pruneBefore.Add(-time.Hour)}
					if err := tx.EnqueueOutbox(it); err != nil {
						return err
					}
					if i%2 == 0 { // half of them are sent at once, old as they look
						it.Status, it.SentAt = crm.OutboxSent, testNow
						return tx.PutOutbox(it)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	st, err := db.prune(context.Background(), pruneBefore, pruneLimits{chunk: 100, scan: 1000})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Outbox, 3000; got != want {
		t.Errorf("Prune removed %d outbox items, want %d", got, want)
	}
	if got, want := keyCount(t, db, bktOutboxClaim), 3000+writers*each/2; got != want {
		t.Errorf("pending items = %d, want %d", got, want)
	}
	if got, want := keyCount(t, db, bktOutbox), 3000+writers*each; got != want {
		t.Errorf("outbox items = %d, want %d", got, want)
	}
}

// BenchmarkPrune measures one Prune of a store holding n old and n recent
// messages (an outbox item and a marker each), on a file synced at every
// commit, as the bot runs it. Set IDICBOT_BENCH_PRUNE to change n.
func BenchmarkPrune(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("IDICBOT_BENCH_PRUNE")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		b.StopTimer()
		db, err := Open(filepath.Join(b.TempDir(), "idicbot.db"), Options{Now: fixedNow})
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < n; lo += 10_000 {
			seedMany(b, db, lo, min(10_000, n-lo), 0)
		}
		for lo := 0; lo < n; lo += 10_000 {
			seedMany(b, db, n+lo, 0, min(10_000, n-lo))
		}
		b.StartTimer()
		st := mustPrune(b, db, pruneBefore)
		b.StopTimer()
		if st.Outbox != n || st.Seen != n {
			b.Fatalf("Prune = %+v, want %d of each", st, n)
		}
		b.ReportMetric(float64(st.Commits), "commits/op")
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
