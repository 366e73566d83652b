package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// TestGroupReadsLockInOrder holds the second customer of a group in
// another transaction while the group reads ahead: the group waits for
// that row before it takes the lock on that customer's history or draws
// any interaction id, as a turn alone does (TestReadTurnLocksInOrder).
func TestGroupReadsLockInOrder(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var held crm.ID
	for _, user := range []string{"a", "b"} {
		c := &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: user}}}
		if err := db.Update(ctx, func(tx crm.Tx) error { return tx.PutCustomer(c) }); err != nil {
			t.Fatal(err)
		}
		held = c.ID
	}
	holder, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := holder.Exec(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR UPDATE`, int64(held)); err != nil {
		t.Fatal(err)
	}
	seq := func() int64 {
		var n int64
		if err := db.Pool().QueryRow(ctx, `SELECT last_value FROM interactions_id_seq`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := seq()
	var jobs []*turnJob
	for i, user := range []string{"a", "b"} {
		key := crm.TurnKey{Channel: crm.ChannelWeb, MsgID: "m" + user, UserID: user}
		jobs = append(jobs, &turnJob{ctx: ctx, key: key, done: make(chan error, 1), fn: func(tx crm.Tx) error {
			if err := tx.(crm.TurnReader).ReadTurn(key.Channel, key.MsgID, key.UserID); err != nil {
				return err
			}
			c, err := tx.FindCustomerByIdentity(key.Channel, key.UserID)
			if err != nil || c == nil {
				t.Errorf("turn %d: customer %v, %v", i, c, err)
				return err
			}
			return tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelWeb, Text: "hi"})
		}})
	}
	type result struct{ committed, alone []*turnJob }
	done := make(chan result, 1)
	go func() {
		c, a := db.commitGroup(jobs)
		done <- result{c, a}
	}()
	var pid int32
	for i := 0; ; i++ {
		err := db.Pool().QueryRow(ctx, `SELECT pid FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND query LIKE '%WITH ORDINALITY AS k(key, n)%'`).Scan(&pid)
		if err == nil {
			break
		}
		if i == 500 {
			t.Fatalf("the group never waited on the held customer's row: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var history int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND objid = $2`,
		pid, int64(held)).Scan(&history); err != nil {
		t.Fatal(err)
	}
	if history != 0 {
		t.Error("the group took the held customer's history lock before its row")
	}
	if after := seq(); after != before {
		t.Errorf("the group drew interaction ids (%d → %d) before it held every customer", before, after)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if len(r.committed) != 2 || len(r.alone) != 0 {
		t.Fatalf("%d turns committed together, %d alone; want 2 and 0", len(r.committed), len(r.alone))
	}
	if after := seq(); after == before {
		t.Error("the group drew no ids once it held its customers")
	}
}
