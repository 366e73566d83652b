package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

var errRefused = errors.New("refused by the turn")

// turn does what bot.Core's turn does through UpdateTurn: ReadTurn first,
// the marker, the customer found or created by identity, the message
// logged with a reply queued, an event and a counter. A message whose id
// starts with "bad" fails after its writes; one starting with "read" reads
// a counter after its writes (a read that sends the group's rows) and
// fails the first time it runs: in a group, the group's turns then run
// again on their own; on its own, its error is returned, and another
// replica's delivery of the message handles it.
func turn(ctx context.Context, db *pgstore.DB, user, msgID string, runs *sync.Map) (handled bool, err error) {
	key := crm.TurnKey{Channel: crm.ChannelWeb, MsgID: msgID, UserID: user}
	err = db.UpdateTurn(ctx, key, func(tx crm.Tx) error {
		handled = false
		if err := tx.(crm.TurnReader).ReadTurn(key.Channel, key.MsgID, key.UserID); err != nil {
			return err
		}
		if _, seen, err := tx.SeenMessage(crm.ChannelWeb, msgID); err != nil || seen {
			return err
		}
		c, err := tx.FindCustomerByIdentity(crm.ChannelWeb, user)
		if err != nil {
			return err
		}
		if c == nil {
			c = &crm.Customer{Name: "Khách " + user, Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: user}}}
		}
		c.Stats.MessagesIn++
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		in := &crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelWeb, Text: msgID}
		if err := tx.AppendInteraction(in); err != nil {
			return err
		}
		out := &crm.Interaction{CustomerID: c.ID, Direction: crm.Outbound, Channel: crm.ChannelWeb, Text: "re " + msgID}
		if err := tx.AppendInteraction(out); err != nil {
			return err
		}
		if err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: c.ID, InteractionID: out.ID, Channel: crm.ChannelWeb, ChatID: user, Text: out.Text}); err != nil {
			return err
		}
		if err := tx.AppendEvent(&crm.Event{Kind: crm.EventMessageIn, CustomerID: c.ID}); err != nil {
			return err
		}
		if err := tx.AddCounter("test:handled", 1); err != nil {
			return err
		}
		if err := tx.MarkMessage(crm.ChannelWeb, msgID, in.ID); err != nil {
			return err
		}
		n, _ := runs.LoadOrStore(msgID, new(int))
		*n.(*int)++
		switch {
		case strings.HasPrefix(msgID, "bad"):
			return errRefused
		case strings.HasPrefix(msgID, "read"):
			if _, err := tx.Counter("test:handled"); err != nil {
				return err
			}
			if *n.(*int) == 1 {
				return errRefused
			}
		}
		handled = true
		return nil
	})
	return handled, err
}

// TestTurnsCommitTogether sends every message of many users to three
// replicas at once, through UpdateTurn with small groups: each message is
// handled once, a turn that fails leaves nothing, a group whose turn read
// and failed runs its turns again on their own, the records and indexes
// agree, and turns did commit in groups.
func TestTurnsCommitTogether(t *testing.T) {
	url := pgtest.URL(t)
	var dbs []*pgstore.DB
	for range 3 {
		db, err := pgstore.Open(t.Context(), url, pgstore.Options{GroupMax: 8, GroupRunners: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs = append(dbs, db)
	}
	const users, perUser = 24, 6
	var runs sync.Map
	var wg sync.WaitGroup
	var mu sync.Mutex
	handled := map[string]int{}
	want := 0
	for u := range users {
		for m := range perUser {
			id := fmt.Sprintf("u%d-m%d", u, m)
			switch {
			case m == 2 && u%4 == 0:
				id = "bad-" + id
			case m == 3 && u%3 == 0:
				id = "read-" + id
				want++
			default:
				want++
			}
			for _, db := range dbs {
				wg.Go(func() {
					ok, err := turn(t.Context(), db, fmt.Sprint("u", u), id, &runs)
					switch {
					case strings.HasPrefix(id, "bad"):
						if !errors.Is(err, errRefused) {
							t.Errorf("%s: err = %v, want the turn's own error", id, err)
						}
						return
					case strings.HasPrefix(id, "read") && errors.Is(err, errRefused):
						// Its first run, on its own: another replica's
						// delivery handles it.
						return
					}
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
	for id, n := range handled {
		if n != 1 {
			t.Errorf("message %s committed %d times, want once", id, n)
		}
	}
	if len(handled) != want {
		t.Errorf("%d messages handled, want %d", len(handled), want)
	}
	var grouped int64
	for _, db := range dbs {
		grouped += db.GroupStats().Turns
	}
	if grouped == 0 {
		t.Error("no turn committed in a group")
	}
	t.Logf("%d turns of %d committed in groups", grouped, 3*users*perUser)
	if err := dbs[0].View(t.Context(), func(tx crm.Tx) error {
		if n, err := tx.CustomerCount(); err != nil || n != users {
			t.Errorf("CustomerCount = %d, %v; want %d (one per user)", n, err, users)
		}
		if n, err := tx.Counter("test:handled"); err != nil || n != int64(want) {
			t.Errorf("handled counter = %d, %v; want %d", n, err, want)
		}
		if n, err := tx.OutboxDepth(); err != nil || n != int64(want) {
			t.Errorf("outbox depth = %d, %v; want %d (one reply a message)", n, err, want)
		}
		events := 0
		if err := tx.EventsBetween(time.Time{}, time.Time{}, func(*crm.Event) error { events++; return nil }); err != nil {
			return err
		}
		if events != want {
			t.Errorf("%d events, want %d", events, want)
		}
		if found, err := tx.FindCustomersByName("khach", 100); err != nil || len(found) != users {
			t.Errorf("%d customers found by name, %v; want %d", len(found), err, users)
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
			n := 0
			for m := range perUser {
				if !(m == 2 && u%4 == 0) {
					n++
				}
			}
			if c.Stats.MessagesIn != n || len(is) != 2*n {
				t.Errorf("user %d: %d messages counted, %d logged; want %d and %d", u, c.Stats.MessagesIn, len(is), n, 2*n)
			}
			for _, i := range is {
				if strings.Contains(i.Text, "bad-") {
					t.Errorf("user %d: a failed turn's message was logged: %q", u, i.Text)
				}
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

// TestTurnPanicIsTheCallers panics in a turn's fn: the runner survives,
// the caller of UpdateTurn panics with the value (as with Update, where an
// HTTP handler's recovery catches it), and the next turns are handled.
func TestTurnPanicIsTheCallers(t *testing.T) {
	db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{GroupRunners: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key := crm.TurnKey{Channel: crm.ChannelWeb, MsgID: "p1", UserID: "p"}
	got := func() (v any) {
		defer func() { v = recover() }()
		_ = db.UpdateTurn(t.Context(), key, func(crm.Tx) error { panic("boom") })
		return nil
	}()
	if got != "boom" {
		t.Fatalf("UpdateTurn's caller recovered %v, want the turn's panic", got)
	}
	var runs sync.Map
	if ok, err := turn(t.Context(), db, "p", "p2", &runs); err != nil || !ok {
		t.Fatalf("the turn after a panic: %v, %v", ok, err)
	}
}
