package boltstore

import (
	"context"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// A turn's message events (the message in, one out per reply) are one
// events record: one put a turn, on the optimistic path and the writer's.
// Another kind, or a message far from the batch's time, is a record of its
// own.
func TestMessageEventsOfATransactionShareARecord(t *testing.T) {
	paths := map[string]func(*DB, func(crm.Tx) error) error{
		"optimistic": func(db *DB, fn func(crm.Tx) error) error { return db.Update(context.Background(), fn) },
		"solo":       func(db *DB, fn func(crm.Tx) error) error { return db.UpdateSolo(context.Background(), fn) },
	}
	for name, run := range paths {
		t.Run(name, func(t *testing.T) {
			db := MustOpen(t)
			c := putCustomer(t, db, &crm.Customer{Name: "Lan"})
			turn := func(at time.Time, replies int, far bool) error {
				return run(db, func(tx crm.Tx) error {
					evs := []*crm.Event{{CustomerID: c.ID, Time: at, Kind: crm.EventMessageIn, Channel: crm.ChannelWeb, InteractionID: 1}}
					for i := range replies {
						evs = append(evs, &crm.Event{CustomerID: c.ID, Time: at.Add(time.Duration(i+1) * time.Millisecond), Kind: crm.EventMessageOut,
							Channel: crm.ChannelWeb, InteractionID: crm.ID(i + 2)})
					}
					evs = append(evs, &crm.Event{CustomerID: c.ID, Time: at, Kind: crm.EventOfferShown, OfferID: "o"})
					if far {
						evs = append(evs, &crm.Event{CustomerID: c.ID, Time: at.Add(maxBatchSpan + time.Nanosecond), Kind: crm.EventMessageOut, InteractionID: 9})
					}
					for _, e := range evs {
						if err := tx.AppendEvent(e); err != nil {
							return err
						}
					}
					return nil
				})
			}
			records := func() (n, events int) {
				err := db.bolt.View(func(btx *bbolt.Tx) error {
					return btx.Bucket(bktEvents).ForEach(func(k, v []byte) error {
						n++
						return decodeEvents(k, v, func(*crm.Event) error { events++; return nil })
					})
				})
				if err != nil {
					t.Fatal(err)
				}
				return n, events
			}
			if err := turn(testNow, 2, false); err != nil {
				t.Fatal(err)
			}
			if n, e := records(); n != 2 || e != 4 {
				t.Errorf("a turn with a message in, two out and an offer: %d records holding %d events, want 2 holding 4 (the three messages share one)", n, e)
			}
			if err := turn(testNow.Add(time.Minute), 1, true); err != nil {
				t.Fatal(err)
			}
			if n, e := records(); n != 5 || e != 8 {
				t.Errorf("after a turn with a reply past the batch's span: %d records holding %d events, want 5 holding 8", n, e)
			}
			// Many messages in one transaction (a copy between stores):
			// records of at most maxBatchMembers.
			err := run(db, func(tx crm.Tx) error {
				for i := range 2*maxBatchMembers + 22 {
					if err := tx.AppendEvent(&crm.Event{CustomerID: c.ID, Time: testNow.Add(time.Hour), Kind: crm.EventMessageIn, InteractionID: crm.ID(100 + i)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n, e := records(); n != 8 || e != 8+2*maxBatchMembers+22 {
				t.Errorf("after %d messages in one transaction: %d records holding %d events, want 8 holding %d", 2*maxBatchMembers+22, n, e, 8+2*maxBatchMembers+22)
			}
		})
	}
}
