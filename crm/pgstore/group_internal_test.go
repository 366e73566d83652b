package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// lockProbe holds a customer's row in a transaction of its own and looks
// at what a transaction waiting on it holds meanwhile.
type lockProbe struct {
	t  *testing.T
	db *DB
}

// customers stores a customer for each web user and returns their ids.
func (p lockProbe) customers(users ...string) []crm.ID {
	var ids []crm.ID
	for _, user := range users {
		c := &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: user}}}
		if err := p.db.Update(p.t.Context(), func(tx crm.Tx) error { return tx.PutCustomer(c) }); err != nil {
			p.t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// hold locks customer id's row until release is called.
func (p lockProbe) hold(id crm.ID) (release func()) {
	ctx := p.t.Context()
	tx, err := p.db.Pool().Begin(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR UPDATE`, int64(id)); err != nil {
		p.t.Fatal(err)
	}
	return func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }
}

// waiter returns the backend of the statement like query waiting on a
// lock, once it waits.
func (p lockProbe) waiter(like string) int32 {
	var pid int32
	for i := 0; ; i++ {
		err := p.db.Pool().QueryRow(p.t.Context(), `SELECT pid FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND query LIKE $1`, like).Scan(&pid)
		if err == nil {
			return pid
		}
		if i == 500 {
			p.t.Fatalf("no statement like %q waited on the held row: %v", like, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holdsHistory reports whether backend pid holds customer id's history
// lock.
func (p lockProbe) holdsHistory(pid int32, id crm.ID) bool {
	var n int
	if err := p.db.Pool().QueryRow(p.t.Context(), `SELECT count(*) FROM pg_locks
WHERE pid = $1 AND locktype = 'advisory' AND classid = $2 AND objid = $3`, pid, lockHistory, int64(id)).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n > 0
}

// drawn is the last interaction id the sequence handed out.
func (p lockProbe) drawn() int64 {
	var n int64
	if err := p.db.Pool().QueryRow(p.t.Context(), `SELECT last_value FROM interactions_id_seq`).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

func openProbe(t *testing.T) lockProbe {
	db, err := Open(t.Context(), pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return lockProbe{t: t, db: db}
}

// TestReadTurnLocksInOrder holds a customer's row in another transaction
// while a turn reads it ahead: the turn waits for the row before it takes
// the lock on the customer's history or draws ids, the order every other
// writer of a history takes them in (a reversed order would deadlock with
// them).
func TestReadTurnLocksInOrder(t *testing.T) {
	p := openProbe(t)
	held := p.customers("held")[0]
	release := p.hold(held)
	defer release()
	before := p.drawn()
	done := make(chan error, 1)
	go func() {
		done <- p.db.Update(t.Context(), func(tx crm.Tx) error {
			return tx.(crm.TurnReader).ReadTurn(crm.ChannelWeb, "m1", "held")
		})
	}()
	pid := p.waiter("%LEFT JOIN LATERAL%")
	if p.holdsHistory(pid, held) {
		t.Error("the turn took the history's lock before the customer's row")
	}
	if after := p.drawn(); after != before {
		t.Errorf("the turn drew interaction ids (%d → %d) before it held the customer", before, after)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.drawn() == before {
		t.Error("the turn drew no ids once it held the customer")
	}
}

// TestGroupReadsLockInOrder holds the second customer of a group in
// another transaction while the group reads ahead: the group waits for
// that row before it takes the lock on that customer's history or draws
// any interaction id, as a turn alone does.
func TestGroupReadsLockInOrder(t *testing.T) {
	p := openProbe(t)
	ctx := t.Context()
	held := p.customers("a", "b")[1]
	release := p.hold(held)
	defer release()
	before := p.drawn()
	var jobs []*turnJob
	for _, user := range []string{"a", "b"} {
		key := crm.TurnKey{Channel: crm.ChannelWeb, MsgID: "m" + user, UserID: user}
		jobs = append(jobs, &turnJob{ctx: ctx, key: key, done: make(chan error, 1), fn: func(tx crm.Tx) error {
			if err := tx.(crm.TurnReader).ReadTurn(key.Channel, key.MsgID, key.UserID); err != nil {
				return err
			}
			c, err := tx.FindCustomerByIdentity(key.Channel, key.UserID)
			if err != nil || c == nil {
				t.Errorf("user %s: customer %v, %v", key.UserID, c, err)
				return err
			}
			return tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelWeb, Text: "hi"})
		}})
	}
	type result struct{ committed, alone []*turnJob }
	done := make(chan result, 1)
	go func() {
		c, a := p.db.commitGroup(jobs)
		done <- result{c, a}
	}()
	pid := p.waiter("%WITH ORDINALITY AS k(key, n)%")
	if p.holdsHistory(pid, held) {
		t.Error("the group took the held customer's history lock before its row")
	}
	if after := p.drawn(); after != before {
		t.Errorf("the group drew interaction ids (%d → %d) before it held every customer", before, after)
	}
	release()
	r := <-done
	if len(r.committed) != 2 || len(r.alone) != 0 {
		t.Fatalf("%d turns committed together, %d alone; want 2 and 0", len(r.committed), len(r.alone))
	}
	if p.drawn() == before {
		t.Error("the group drew no ids once it held its customers")
	}
}

// TestClaimsReadAhead has a group's turns look up the owners of phones
// they claim: an owner outside the group is answered from the group's
// reads, with no round trip of its own; an owner a turn before wrote, and
// a phone a turn before took, are read again and seen as written.
func TestClaimsReadAhead(t *testing.T) {
	p := openProbe(t)
	ctx := t.Context()
	const outside, renamed, taken = "+84900000001", "+84900000002", "+84900000003"
	for user, phone := range map[string]string{"x": outside, "a": renamed} {
		c := &crm.Customer{Name: user, Phone: phone, Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: user}}}
		if err := p.db.Update(ctx, func(tx crm.Tx) error { return tx.PutCustomer(c) }); err != nil {
			t.Fatal(err)
		}
	}
	type found struct {
		name   string
		trips  int
		exists bool
	}
	got := map[string]found{}
	job := func(user, claim string, write func(c *crm.Customer)) *turnJob {
		key := crm.TurnKey{Channel: crm.ChannelWeb, MsgID: "m" + user, UserID: user, Phone: claim}
		return &turnJob{ctx: ctx, key: key, done: make(chan error, 1), fn: func(tx crm.Tx) error {
			if err := tx.(crm.TurnReader).ReadTurn(key.Channel, key.MsgID, key.UserID); err != nil {
				return err
			}
			c, err := tx.FindCustomerByIdentity(key.Channel, key.UserID)
			if err != nil {
				return err
			}
			if c == nil {
				c = &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: user}}}
			}
			if write != nil {
				write(c)
			}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			if claim == "" {
				return nil
			}
			q := tx.(*Tx).q
			before := q.sent
			owner, err := tx.FindCustomerByPhone(claim)
			if err != nil {
				return err
			}
			f := found{trips: q.sent - before, exists: owner != nil}
			if owner != nil {
				f.name = owner.Name
			}
			got[user] = f
			return nil
		}}
	}
	// In the identity keys' order: a renames itself, b claims a phone
	// whose owner is outside the group, c claims a's phone, d takes a
	// phone and e claims it.
	jobs := []*turnJob{
		job("a", "", func(c *crm.Customer) { c.Name = "a, renamed" }),
		job("b", outside, nil),
		job("c", renamed, nil),
		job("d", "", func(c *crm.Customer) { c.Phone = taken }),
		job("e", taken, nil),
	}
	committed, alone := p.db.commitGroup(jobs)
	if len(committed) != len(jobs) || len(alone) != 0 {
		t.Fatalf("%d turns committed together, %d alone; want %d and 0", len(committed), len(alone), len(jobs))
	}
	want := map[string]found{
		"b": {name: "x", exists: true, trips: 0},
		"c": {name: "a, renamed", exists: true, trips: 1},
		"e": {exists: true, trips: 1},
	}
	for user, w := range want {
		g := got[user]
		if g.exists != w.exists || g.trips != w.trips || w.name != "" && g.name != w.name {
			t.Errorf("turn %s's lookup: %+v, want %+v", user, g, w)
		}
	}
}
