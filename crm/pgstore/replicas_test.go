package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// replicas opens n stores on one new schema, as n idicbot processes on one
// database would.
func replicas(t *testing.T, n int) []*pgstore.DB {
	t.Helper()
	url := pgtest.URL(t)
	dbs := make([]*pgstore.DB, n)
	for i := range dbs {
		db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
		if err != nil {
			t.Fatalf("open replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	return dbs
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	url := pgtest.URL(t)
	db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(t.Context(), `INSERT INTO idicbot_schema (version, applied_at) VALUES ($1, now())`, pgstore.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	_, err = pgstore.Open(t.Context(), url, pgstore.Options{})
	if !errors.Is(err, pgstore.ErrNewerSchema) {
		t.Fatalf("Open on a newer schema = %v, want ErrNewerSchema", err)
	}
}

// TestOpenMigratesOnceUnderALock starts several processes at once on an
// empty database: each step runs once, and every one of them opens.
func TestOpenMigratesOnceUnderALock(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
			if err == nil {
				err = db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n, top int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), max(version) FROM idicbot_schema`).Scan(&n, &top); err != nil {
		t.Fatal(err)
	}
	if n != pgstore.SchemaVersion || top != pgstore.SchemaVersion {
		t.Fatalf("idicbot_schema has %d steps up to %d, want %d", n, top, pgstore.SchemaVersion)
	}
}

// handle does what bot.Core does with one inbound message, in one
// transaction: the seen marker first, the customer found or created by
// identity, the message logged, counted and marked.
func handle(ctx context.Context, db *pgstore.DB, user, msgID string) (handled bool, err error) {
	err = db.Update(ctx, func(tx crm.Tx) error {
		handled = false
		if _, seen, err := tx.SeenMessage(crm.ChannelWeb, msgID); err != nil || seen {
			return err
		}
		c, err := tx.FindCustomerByIdentity(crm.ChannelWeb, user)
		if err != nil {
			return err
		}
		if c == nil {
			c = &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: user}}}
		}
		c.Stats.MessagesIn++
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		i := &crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelWeb, Text: msgID}
		if err := tx.AppendInteraction(i); err != nil {
			return err
		}
		if err := tx.AddCounter("test:handled", 1); err != nil {
			return err
		}
		handled = true
		return tx.MarkMessage(crm.ChannelWeb, msgID, i.ID)
	})
	return handled, err
}

// TestMessageOnTwoReplicasHandledOnce delivers every message of a few new
// users to three replicas at once: each message is handled once, each
// user is one customer, and no update of a customer is lost.
func TestMessageOnTwoReplicasHandledOnce(t *testing.T) {
	dbs := replicas(t, 3)
	const users, perUser = 4, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	handled := map[string]int{}
	for u := range users {
		for m := range perUser {
			for _, db := range dbs {
				wg.Go(func() {
					id := fmt.Sprintf("u%d-m%d", u, m)
					ok, err := handle(t.Context(), db, fmt.Sprint("u", u), id)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						handled[id]++
						mu.Unlock()
					}
				})
			}
		}
	}
	wg.Wait()
	for u := range users {
		for m := range perUser {
			if id := fmt.Sprintf("u%d-m%d", u, m); handled[id] != 1 {
				t.Errorf("message %s committed %d times, want once", id, handled[id])
			}
		}
	}
	if err := dbs[0].View(t.Context(), func(tx crm.Tx) error {
		if n, err := tx.CustomerCount(); err != nil || n != users {
			t.Errorf("CustomerCount = %d, %v; want %d (one per user)", n, err, users)
		}
		if n, err := tx.Counter("test:handled"); err != nil || n != users*perUser {
			t.Errorf("handled counter = %d, %v; want %d", n, err, users*perUser)
		}
		for u := range users {
			c, err := tx.FindCustomerByIdentity(crm.ChannelWeb, fmt.Sprint("u", u))
			if err != nil || c == nil {
				t.Fatalf("user %d: %v, %v", u, c, err)
			}
			is, err := tx.Interactions(c.ID, 0, 0)
			if err != nil {
				return err
			}
			if c.Stats.MessagesIn != perUser || len(is) != perUser {
				t.Errorf("user %d: %d messages counted, %d logged; want %d", u, c.Stats.MessagesIn, len(is), perUser)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	problems, err := dbs[0].Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestClaimAcrossReplicas has senders in three replicas claim a queue at
// once: every item goes to exactly one of them.
func TestClaimAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 3)
	const items = 300
	if err := dbs[0].Update(t.Context(), func(tx crm.Tx) error {
		for i := range items {
			if err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: 1, Text: fmt.Sprint(i), Priority: i % 3}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	got := map[crm.ID]string{}
	var wg sync.WaitGroup
	for r, db := range dbs {
		for w := range 3 {
			owner := fmt.Sprintf("r%d-w%d", r, w)
			wg.Go(func() {
				for {
					var claimed []*crm.OutboxItem
					err := db.Update(t.Context(), func(tx crm.Tx) (err error) {
						claimed, err = tx.ClaimOutbox(owner, now, time.Minute, 7)
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					if len(claimed) == 0 {
						return
					}
					mu.Lock()
					for _, it := range claimed {
						if prev, dup := got[it.ID]; dup {
							t.Errorf("item %d claimed by %s and %s", it.ID, prev, owner)
						}
						got[it.ID] = owner
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(got) != items {
		t.Fatalf("%d items claimed, want %d", len(got), items)
	}
	// Once the leases end, another sender takes them over.
	var again []*crm.OutboxItem
	if err := dbs[1].Update(t.Context(), func(tx crm.Tx) (err error) {
		again, err = tx.ClaimOutbox("late", now.Add(time.Minute), time.Minute, items+1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(again) != items {
		t.Fatalf("after the leases ended %d items were claimed again, want %d", len(again), items)
	}
}

// TestHistoryTailAcrossReplicas tails one customer's history from one
// replica while others append to it: a reader reading "after the last id
// it saw" misses nothing (ids commit in order).
func TestHistoryTailAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 3)
	var cid crm.ID
	if err := dbs[0].Update(t.Context(), func(tx crm.Tx) error {
		c := &crm.Customer{Name: "Tailed"}
		err := tx.PutCustomer(c)
		cid = c.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 20
	var wg sync.WaitGroup
	for w := range writers {
		db := dbs[w%len(dbs)]
		wg.Go(func() {
			for m := range each {
				if err := db.Update(t.Context(), func(tx crm.Tx) error {
					return tx.AppendInteraction(&crm.Interaction{CustomerID: cid, Text: fmt.Sprintf("%d/%d", w, m)})
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{}
	var cursor crm.ID
	tail := func() {
		if err := dbs[2].View(t.Context(), func(tx crm.Tx) error {
			is, err := tx.Interactions(cid, cursor, 0)
			for _, i := range is {
				seen[i.Text]++
				cursor = i.ID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		tail()
	}
	tail()
	if len(seen) != writers*each {
		t.Errorf("the tailer read %d distinct messages, want %d", len(seen), writers*each)
	}
	for text, n := range seen {
		if n != 1 {
			t.Errorf("message %s read %d times", text, n)
		}
	}
}
