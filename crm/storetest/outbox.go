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
	{name: "ClaimOrder", run: testClaimOrder},
	{name: "ClaimLeases", run: testClaimLeases},
	{name: "ClaimConcurrentOwners", run: testClaimConcurrentOwners},
	{name: "ClaimRescheduled", run: testClaimRescheduled},
}

var settingsTests = []test{
	{name: "Counters", run: testCounters},
	{name: "SegmentRules", run: testSegmentRuleSettings},
	{name: "HandoffThreads", run: testHandoffThreads},
	{name: "ChannelTokens", run: testChannelTokens},
	{name: "OffersSeeded", run: testOffersSeeded},
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
	want.ID, want.CustomerID, want.Status, want.Priority = 0, cust[0], crm.OutboxPending, 7
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
	// Every field of a saved item, its delivery state included; an item
	// no longer pending is leased to nobody.
	want.Status, want.Attempts, want.LastError = crm.OutboxFailed, 9, "gone"
	want.LeaseOwner, want.LeaseUntil = "", time.Time{}
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

// queue enqueues items as given (priority, due, lease) and returns their ids.
func queue(t *testing.T, s crm.Store, items ...crm.OutboxItem) []crm.ID {
	t.Helper()
	ids := make([]crm.ID, len(items))
	update(t, s, func(tx crm.Tx) error {
		for i := range items {
			it := items[i]
			it.Channel, it.ChatID, it.UserID, it.CreatedAt = crm.ChannelTelegram, "c1", "u1", base
			if err := tx.EnqueueOutbox(&it); err != nil {
				return err
			}
			ids[i] = it.ID
		}
		return nil
	})
	return ids
}

// claim runs ClaimOutbox and returns the texts of the items it gave, after
// checking that each is leased to owner until now+lease.
func claim(t *testing.T, s crm.Store, owner string, now time.Time, lease time.Duration, max int) []string {
	t.Helper()
	var got []*crm.OutboxItem
	update(t, s, func(tx crm.Tx) (err error) {
		got, err = tx.ClaimOutbox(owner, now, lease, max)
		return err
	})
	texts := []string{}
	for _, it := range got {
		if it.LeaseOwner != owner || !it.LeaseUntil.Equal(now.Add(lease)) || it.Status != crm.OutboxPending {
			t.Errorf("claimed item %q: status %s, lease %q until %v; want pending, %q until %v",
				it.Text, it.Status, it.LeaseOwner, it.LeaseUntil, owner, now.Add(lease))
		}
		texts = append(texts, it.Text)
	}
	return texts
}

func testClaimOrder(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})[0]
	now := at(0)
	queue(t, s,
		crm.OutboxItem{CustomerID: cust, Text: "proactive", Priority: crm.PriorityProactive},
		crm.OutboxItem{CustomerID: cust, Text: "reply due later", Due: now.Add(2 * time.Hour)},
		crm.OutboxItem{CustomerID: cust, Text: "reply due an hour ago", Due: now.Add(-time.Hour)},
		crm.OutboxItem{CustomerID: cust, Text: "reply"},
		crm.OutboxItem{CustomerID: cust, Text: "proactive due before", Priority: crm.PriorityProactive, Due: now.Add(-2 * time.Hour)},
		crm.OutboxItem{CustomerID: cust, Text: "leased", LeaseOwner: "other", LeaseUntil: now.Add(time.Hour)},
		crm.OutboxItem{CustomerID: cust, Text: "lease ended", LeaseOwner: "other", LeaseUntil: now.Add(-time.Minute)},
		crm.OutboxItem{CustomerID: cust, Text: "lease ends now", LeaseOwner: "other", LeaseUntil: now},
		crm.OutboxItem{CustomerID: cust, Text: "due now", Due: now},
	)
	view(t, s, func(tx crm.Tx) error {
		_, err := tx.ClaimOutbox("", now, time.Minute, 1)
		wantCode(t, "ClaimOutbox without an owner", err, crm.EINVALID)
		next, err := tx.NextOutboxDue(now)
		if err != nil || !next.Equal(now.Add(2*time.Hour)) {
			t.Errorf("NextOutboxDue = %v, %v; want %v", next, err, now.Add(2*time.Hour))
		}
		return nil
	})
	update(t, s, func(tx crm.Tx) error {
		err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: cust, Priority: 256})
		wantCode(t, "EnqueueOutbox with priority 256", err, crm.EINVALID)
		return nil
	})
	tests := []struct {
		name string
		max  int
		want []string
	}{
		{"the first two", 2, []string{"reply", "lease ended"}},
		{"the rest that is due", 10, []string{"lease ends now", "reply due an hour ago", "due now", "proactive", "proactive due before"}},
		{"nothing left", 10, []string{}},
	}
	for _, tt := range tests {
		if got := claim(t, s, "me", now, 3*time.Hour, tt.max); !slices.Equal(got, tt.want) {
			t.Errorf("%s: claimed %q, want %q (priority, then due, then id)", tt.name, got, tt.want)
		}
	}
	if got, want := claim(t, s, "me", now.Add(2*time.Hour), time.Minute, 10), []string{"leased", "reply due later"}; !slices.Equal(got, want) {
		t.Errorf("two hours later: claimed %q, want %q", got, want)
	}
	if texts, _, depth := pending(t, s); len(texts) != 9 || depth != 9 {
		t.Errorf("pending after claims = %v (depth %d): claims leave items pending", texts, depth)
	}
}

func testClaimLeases(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})[0]
	now := at(0)
	ids := queue(t, s, crm.OutboxItem{CustomerID: cust, Text: "x"}, crm.OutboxItem{CustomerID: cust, Text: "y"},
		crm.OutboxItem{CustomerID: cust, Text: "born leased", LeaseOwner: "a", LeaseUntil: now.Add(time.Minute)})
	x, y, born := ids[0], ids[1], ids[2]
	renew := func(owner string, ids []crm.ID, until time.Time) []crm.ID {
		var held []crm.ID
		update(t, s, func(tx crm.Tx) (err error) {
			held, err = tx.RenewOutbox(owner, ids, until)
			return err
		})
		return held
	}
	steps := []struct {
		name  string
		owner string
		at    time.Duration
		want  []string
	}{
		{"a claims the free items", "a", 0, []string{"x", "y"}},
		{"b finds them leased", "b", 30 * time.Second, []string{}},
		{"a does not get its own again", "a", 30 * time.Second, []string{}},
		{"b takes them when the leases end", "b", 2 * time.Minute, []string{"x", "y", "born leased"}},
	}
	for _, st := range steps {
		if got := claim(t, s, st.owner, now.Add(st.at), time.Minute, 10); !slices.Equal(got, st.want) {
			t.Errorf("%s: claimed %q, want %q", st.name, got, st.want)
		}
	}
	// b holds all three until now+3m; a lost them.
	if held := renew("a", ids, now.Add(time.Hour)); len(held) != 0 {
		t.Errorf("a renewed %v, which b holds now", held)
	}
	if held := renew("b", []crm.ID{x, y}, now.Add(10*time.Minute)); !slices.Equal(held, []crm.ID{x, y}) {
		t.Errorf("b renewed %v, want %v", held, []crm.ID{x, y})
	}
	if got := claim(t, s, "a", now.Add(5*time.Minute), time.Minute, 10); !slices.Equal(got, []string{"born leased"}) {
		t.Errorf("at +5m a claimed %q, want only the item whose lease b did not renew", got)
	}
	update(t, s, func(tx crm.Tx) error { return tx.ReleaseOutbox("a", []crm.ID{x}) }) // not a's: no change
	if got := claim(t, s, "c", now.Add(5*time.Minute), time.Minute, 10); len(got) != 0 {
		t.Errorf("c claimed %q while b and a hold every item", got)
	}
	update(t, s, func(tx crm.Tx) error { return tx.ReleaseOutbox("b", []crm.ID{x}) })
	if got := claim(t, s, "c", now.Add(5*time.Minute), time.Minute, 10); !slices.Equal(got, []string{"x"}) {
		t.Errorf("after b released x, c claimed %q, want [x]", got)
	}
	// A final status ends the lease and the item leaves the claims.
	update(t, s, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(y)
		if err != nil {
			return err
		}
		it.Status, it.SentAt = crm.OutboxSent, now.Add(5*time.Minute)
		return tx.PutOutbox(it)
	})
	view(t, s, func(tx crm.Tx) error {
		it, err := tx.OutboxItem(y)
		if err != nil || it.LeaseOwner != "" || !it.LeaseUntil.IsZero() {
			t.Errorf("a sent item: %+v, %v; want no lease", it, err)
		}
		it, err = tx.OutboxItem(born)
		if err != nil || it.LeaseOwner != "a" || !it.LeaseUntil.Equal(now.Add(6*time.Minute)) {
			t.Errorf("item %d leased by a at +5m: %+v, %v", born, it, err)
		}
		return nil
	})
	if held := renew("b", []crm.ID{x, y}, now.Add(time.Hour)); len(held) != 0 {
		t.Errorf("b renewed %v: x is c's, y is sent", held)
	}
	if got := claim(t, s, "d", now.Add(24*time.Hour), time.Minute, 10); !slices.Equal(got, []string{"x", "born leased"}) {
		t.Errorf("a day later d claimed %q, want the two items still pending", got)
	}
}

// testClaimConcurrentOwners has owners claim one item at a time, all at
// once: every item goes to exactly one of them.
func testClaimConcurrentOwners(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})[0]
	items := make([]crm.OutboxItem, 60)
	for i := range items {
		items[i] = crm.OutboxItem{CustomerID: cust, Text: fmt.Sprint(i), Priority: i % 3}
	}
	queue(t, s, items...)
	const owners = 4
	got := make([][]string, owners)
	errs := make(chan error, owners)
	for w := range owners {
		go func() {
			for {
				var claimed []*crm.OutboxItem
				err := s.Update(t.Context(), func(tx crm.Tx) (err error) {
					claimed, err = tx.ClaimOutbox(fmt.Sprint("owner", w), at(0), time.Hour, 1)
					return err
				})
				if err != nil || len(claimed) == 0 {
					errs <- err
					return
				}
				got[w] = append(got[w], claimed[0].Text)
			}
		}()
	}
	for range owners {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for _, texts := range got {
		for _, text := range texts {
			seen[text]++
		}
	}
	for i := range items {
		if n := seen[fmt.Sprint(i)]; n != 1 {
			t.Errorf("item %d was claimed %d times, want once", i, n)
		}
	}
}

// testClaimRescheduled moves pending items in time and priority: a save
// with another Due or Priority is where the next claim finds it.
func testClaimRescheduled(t *testing.T, o Opener) {
	s := o.Open(t)
	cust := create(t, s, &crm.Customer{Name: "A"})[0]
	now := at(0)
	ids := queue(t, s, crm.OutboxItem{CustomerID: cust, Text: "tomorrow", Due: now.Add(24 * time.Hour)},
		crm.OutboxItem{CustomerID: cust, Text: "now", Priority: crm.PriorityProactive})
	update(t, s, func(tx crm.Tx) error {
		a, err := tx.OutboxItem(ids[0])
		if err != nil {
			return err
		}
		b, err := tx.OutboxItem(ids[1])
		if err != nil {
			return err
		}
		a.Due, a.Priority = now.Add(-time.Minute), crm.PriorityProactive
		b.Due, b.Priority = now.Add(time.Hour), crm.PriorityReply
		if err := tx.PutOutbox(a); err != nil {
			return err
		}
		return tx.PutOutbox(b)
	})
	view(t, s, func(tx crm.Tx) error {
		a, err := tx.OutboxItem(ids[0])
		if err != nil || a.Priority != crm.PriorityProactive || !a.Due.Equal(now.Add(-time.Minute)) {
			t.Errorf("rescheduled item read back as %+v, %v", a, err)
		}
		next, err := tx.NextOutboxDue(now)
		if err != nil || !next.Equal(now.Add(time.Hour)) {
			t.Errorf("NextOutboxDue = %v, %v; want %v", next, err, now.Add(time.Hour))
		}
		return nil
	})
	if got := claim(t, s, "a", now, 3*time.Hour, 10); !slices.Equal(got, []string{"tomorrow"}) {
		t.Errorf("claimed %q, want the item moved to a minute ago", got)
	}
	if got := claim(t, s, "a", now.Add(time.Hour), time.Minute, 10); !slices.Equal(got, []string{"now"}) {
		t.Errorf("an hour later claimed %q, want the item moved to then", got)
	}
}
