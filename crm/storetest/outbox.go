package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

var outboxTests = []test{
	{name: "EnqueueAssignsIDsPending", run: testEnqueueOutbox},
	{name: "PendingInStepWithStatus", run: testPendingInStepWithStatus},
	{name: "ItemRoundTrip", run: testOutboxRoundTrip},
}

var settingsTests = []test{
	{name: "Counters", run: testCounters},
	{name: "Meta", run: testMeta},
}

// enqueue queues one pending item per text, in one Update, and returns
// their ids.
func enqueue(t *testing.T, s crm.Store, cust crm.ID, texts ...string) []crm.ID {
	t.Helper()
	ids := make([]crm.ID, len(texts))
	update(t, s, func(tx crm.Tx) error {
		for i, text := range texts {
			it := &crm.OutboxItem{CustomerID: cust, Channel: crm.ChannelTelegram, ChatID: "c1", UserID: "u1", Text: text, CreatedAt: base}
			if err := tx.EnqueueOutbox(it); err != nil {
				return err
			}
			ids[i] = it.ID
		}
		return nil
	})
	return ids
}

// pending returns the texts of the pending items, in the order
// PendingOutbox gives them, and the depth.
func pending(t *testing.T, s crm.Store) ([]string, []crm.ID, int64) {
	t.Helper()
	var texts []string
	var ids []crm.ID
	var depth int64
	view(t, s, func(tx crm.Tx) (err error) {
		texts, ids = []string{}, []crm.ID{}
		if err := tx.PendingOutbox(func(it *crm.OutboxItem) error {
			if it.Status != crm.OutboxPending {
				t.Errorf("PendingOutbox gave item %d with status %q", it.ID, it.Status)
			}
			texts = append(texts, it.Text)
			ids = append(ids, it.ID)
			return nil
		}); err != nil {
			return err
		}
		depth, err = tx.OutboxDepth()
		return err
	})
	return texts, ids, depth
}

func testEnqueueOutbox(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	ids := append(enqueue(t, s, cust[0], "0", "1", "2"), enqueue(t, s, cust[0], "3")...)
	for i, id := range ids {
		if id == 0 || (i > 0 && id <= ids[i-1]) {
			t.Fatalf("outbox ids %v: want non-zero and increasing", ids)
		}
	}
	texts, pendingIDs, depth := pending(t, s)
	if want := []string{"0", "1", "2", "3"}; !slices.Equal(texts, want) {
		t.Errorf("pending = %v, want %v (id order)", texts, want)
	}
	if !slices.Equal(pendingIDs, ids) {
		t.Errorf("pending ids = %v, want %v", pendingIDs, ids)
	}
	if depth != 4 {
		t.Errorf("OutboxDepth = %d, want 4", depth)
	}
	view(t, s, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(ids[1])
		if err != nil || it.Status != crm.OutboxPending || it.Text != "1" || it.CustomerID != cust[0] || !it.CreatedAt.Equal(base) {
			t.Errorf("OutboxItem(%d) = %+v, %v; want the pending item 1", ids[1], it, err)
		}
		_, err = tx.OutboxItem(ids[3] + 100)
		wantCode(t, "OutboxItem(unknown)", err, crm.ENOTFOUND)
		return nil
	})
	errStop := errors.New("stop")
	calls := 0
	err := s.View(t.Context(), func(tx crm.Tx) error {
		calls = 0
		return tx.PendingOutbox(func(*crm.OutboxItem) error { calls++; return errStop })
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("PendingOutbox with fn failing: %v after %d calls, want the error after 1", err, calls)
	}
}

func testPendingInStepWithStatus(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	ids := enqueue(t, s, cust[0], "0", "1", "2", "3", "4")
	sentAt, retryAt := at(time.Minute), at(time.Hour)
	// The dispatcher's saves: sent, failed, cancelled, a retry still pending.
	update(t, s, func(tx crm.Tx) error {
		for i, id := range ids {
			it, err := tx.OutboxItem(id)
			if err != nil {
				return err
			}
			switch i {
			case 0:
				it.Status, it.Attempts, it.SentAt = crm.OutboxSent, 1, sentAt
			case 2:
				it.Status, it.Attempts, it.LastError = crm.OutboxFailed, 5, "chat not found"
			case 3:
				it.Status = crm.OutboxCancelled
			default:
				it.Attempts, it.NextAttempt, it.LastError = 1, retryAt, "429"
			}
			if err := tx.PutOutbox(it); err != nil {
				return err
			}
		}
		return nil
	})
	texts, _, depth := pending(t, s)
	if want := []string{"1", "4"}; !slices.Equal(texts, want) || depth != 2 {
		t.Errorf("pending = %v (depth %d), want %v (depth 2)", texts, depth, want)
	}
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			id                  crm.ID
			status, lastError   string
			attempts            int
			sentAt, nextAttempt time.Time
		}{
			{ids[0], crm.OutboxSent, "", 1, sentAt, time.Time{}},
			{ids[1], crm.OutboxPending, "429", 1, time.Time{}, retryAt},
			{ids[2], crm.OutboxFailed, "chat not found", 5, time.Time{}, time.Time{}},
			{ids[3], crm.OutboxCancelled, "", 0, time.Time{}, time.Time{}},
		}
		for _, tt := range tests {
			it, err := tx.OutboxItem(tt.id)
			if err != nil {
				t.Errorf("OutboxItem(%d): %v", tt.id, err)
				continue
			}
			if it.Status != tt.status || it.LastError != tt.lastError || it.Attempts != tt.attempts ||
				!it.SentAt.Equal(tt.sentAt) || !it.NextAttempt.Equal(tt.nextAttempt) {
				t.Errorf("OutboxItem(%d) = %+v; want status %s, error %q, attempts %d, sent %v, next %v",
					tt.id, it, tt.status, tt.lastError, tt.attempts, tt.sentAt, tt.nextAttempt)
			}
			if it.Text == "" || it.ChatID != "c1" || !it.CreatedAt.Equal(base) {
				t.Errorf("OutboxItem(%d) lost what to send: %+v", tt.id, it)
			}
		}
		return nil
	})
	// Back to pending (a rep retries a failed item): pending again.
	update(t, s, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(ids[2])
		if err != nil {
			return err
		}
		it.Status = crm.OutboxPending
		return tx.PutOutbox(it)
	})
	if texts, _, depth := pending(t, s); !slices.Equal(texts, []string{"1", "2", "4"}) || depth != 3 {
		t.Errorf("pending after a retry = %v (depth %d), want [1 2 4] (depth 3)", texts, depth)
	}
}

func testOutboxRoundTrip(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})
	var want crm.OutboxItem
	fill(t, &want)
	want.ID, want.CustomerID, want.Status = 0, cust[0], crm.OutboxPending
	var id crm.ID
	update(t, s, func(tx crm.Tx) error {
		it := want // ID 0 on every run of fn
		err := tx.EnqueueOutbox(&it)
		id = it.ID
		return err
	})
	want.ID = id
	read := func() *crm.OutboxItem {
		var got *crm.OutboxItem
		view(t, s, func(tx crm.Tx) (err error) {
			got, err = tx.OutboxItem(want.ID)
			return err
		})
		return got
	}
	if got := read(); !reflect.DeepEqual(got, &want) {
		t.Fatalf("the item read back differs:\n got %s\nwant %s", asJSON(t, got), asJSON(t, &want))
	}
	// Every field of a saved item, its delivery state included.
	want.Status, want.Attempts, want.LastError = crm.OutboxFailed, 9, "gone"
	want.SentAt, want.NextAttempt = at(3*time.Hour), at(4*time.Hour)
	update(t, s, func(tx crm.Tx) error {
		it := want
		return tx.PutOutbox(&it)
	})
	if got := read(); !reflect.DeepEqual(got, &want) {
		t.Fatalf("the saved item read back differs:\n got %s\nwant %s", asJSON(t, got), asJSON(t, &want))
	}
}

func testCounters(t *testing.T, o Opener) {
	s := o.Open(t)
	update(t, s, func(tx crm.Tx) error {
		for _, c := range []struct {
			name  string
			delta int64
		}{{"msg:in:telegram", 3}, {"msg:in:zalo", 1}, {"msg:out:telegram", 2}, {"msg:in:telegram", -1}, {"msg:in", 9}} {
			if err := tx.AddCounter(c.name, c.delta); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx crm.Tx) error { return tx.AddCounter("msg:in:zalo", 10) })
	view(t, s, func(tx crm.Tx) error {
		got, err := tx.Counters("msg:in:")
		if err != nil {
			return err
		}
		if want := map[string]int64{"msg:in:telegram": 2, "msg:in:zalo": 11}; !reflect.DeepEqual(got, want) {
			t.Errorf("Counters(msg:in:) = %v, want %v", got, want)
		}
		for name, want := range map[string]int64{"msg:in": 9, "msg:out:telegram": 2, "never": 0} {
			if n, err := tx.Counter(name); err != nil || n != want {
				t.Errorf("Counter(%q) = %d, %v; want %d", name, n, err, want)
			}
		}
		if got, err := tx.Counters("nothing:"); err != nil || len(got) != 0 {
			t.Errorf("Counters(nothing:) = %v, %v; want none", got, err)
		}
		return nil
	})
}

func testMeta(t *testing.T, o Opener) {
	s := o.Open(t)
	update(t, s, func(tx crm.Tx) error {
		v := []byte("v1")
		if err := tx.PutMeta("seed", v); err != nil {
			return err
		}
		v[1] = 'X' // the store keeps its own copy
		if err := tx.PutMeta("gone", []byte("x")); err != nil {
			return err
		}
		return tx.PutMeta("empty", []byte{})
	})
	update(t, s, func(tx crm.Tx) error { return tx.PutMeta("gone", nil) }) // nil deletes
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			key  string
			want []byte
		}{{"seed", []byte("v1")}, {"gone", nil}, {"never", nil}}
		for _, tt := range tests {
			v, err := tx.Meta(tt.key)
			if err != nil || !reflect.DeepEqual(v, tt.want) {
				t.Errorf("Meta(%q) = %q (nil %v), %v; want %q", tt.key, v, v == nil, err, tt.want)
			}
		}
		if v, err := tx.Meta("empty"); err != nil || len(v) != 0 {
			t.Errorf("Meta(empty) = %q, %v; want empty", v, err)
		}
		v, err := tx.Meta("seed")
		if err != nil {
			return err
		}
		v[0] = 'X' // the caller owns what it read
		if again, _ := tx.Meta("seed"); string(again) != "v1" {
			t.Errorf("changing the bytes Meta returned changed the store: %q", again)
		}
		return nil
	})
	// Read-modify-write of one key by many transactions adds up.
	for i := range 5 {
		update(t, s, func(tx crm.Tx) error {
			v, err := tx.Meta("list")
			if err != nil {
				return err
			}
			return tx.PutMeta("list", fmt.Appendf(v, "%d", i))
		})
	}
	view(t, s, func(tx crm.Tx) error {
		if v, err := tx.Meta("list"); err != nil || string(v) != "01234" {
			t.Errorf("Meta(list) = %q, %v; want 01234", v, err)
		}
		return nil
	})
}
