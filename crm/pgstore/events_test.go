package pgstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// A turn's message events are one row in the binary form; other events a
// row each; a JSON row an older binary wrote still reads; a merge carries
// the other events to the survivor and leaves the message events with the
// customer they were logged for, as bbolt does.
func TestEventRows(t *testing.T) {
	ctx := t.Context()
	db, err := pgstore.Open(ctx, pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	keep, gone := &crm.Customer{Name: "Lan"}, &crm.Customer{Name: "Lan (Zalo)"}
	if err := db.Update(ctx, func(tx crm.Tx) error {
		if err := tx.PutCustomer(keep); err != nil {
			return err
		}
		if err := tx.PutCustomer(gone); err != nil {
			return err
		}
		for _, e := range []*crm.Event{
			{CustomerID: gone.ID, Time: at, Kind: crm.EventMessageIn, Channel: crm.ChannelZalo, InteractionID: 1},
			{CustomerID: gone.ID, Time: at.Add(time.Millisecond), Kind: crm.EventOfferShown, Channel: crm.ChannelZalo, OfferID: "tet"},
			{CustomerID: gone.ID, Time: at.Add(time.Millisecond), Kind: crm.EventMessageOut, Channel: crm.ChannelZalo, InteractionID: 2},
			{CustomerID: gone.ID, Time: at.Add(2 * time.Millisecond), Kind: crm.EventMessageOut, Channel: crm.ChannelZalo, InteractionID: 3},
		} {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		kind  string
		first byte
	}
	rows := func() []row {
		t.Helper()
		r, err := db.Pool().Query(ctx, `SELECT kind, get_byte(data, 0) FROM events ORDER BY at, seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []row
		for r.Next() {
			var x row
			var b int32
			if err := r.Scan(&x.kind, &b); err != nil {
				t.Fatal(err)
			}
			x.first = byte(b)
			out = append(out, x)
		}
		return out
	}
	// The batch is keyed by its first member, the message in.
	if got, want := rows(), []row{{"message_in", 0x02}, {"offer_shown", 0x01}}; !slices.Equal(got, want) {
		t.Errorf("event rows (kind, format byte) = %v, want %v: the message events in one binary batch row, the offer in one of its own", got, want)
	}
	// A JSON row of an older binary, between the batch's members.
	if _, err := db.Pool().Exec(ctx, `INSERT INTO events (seq, customer_id, at, kind, data) VALUES (9000, $1, $2, 'handoff', $3)`,
		int64(keep.ID), at.Add(time.Millisecond).UnixNano(), []byte(`{"kind":"handoff","channel":"zalo","cause":"asked"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx crm.Tx) error { return tx.DeleteCustomer(gone.ID, keep.ID) }); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := db.View(ctx, func(tx crm.Tx) error {
		return tx.EventsBetween(at, at.Add(2*time.Millisecond), func(e *crm.Event) error {
			got = append(got, fmt.Sprintf("%dms %s %d %s %d", e.Time.Sub(at).Milliseconds(), e.Kind, e.InteractionID, e.Channel, e.CustomerID))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("0ms message_in 1 zalo %d", gone.ID),
		fmt.Sprintf("1ms offer_shown 0 zalo %d", keep.ID),
		fmt.Sprintf("1ms message_out 2 zalo %d", gone.ID),
		fmt.Sprintf("1ms handoff 0 zalo %d", keep.ID),
	}
	if !slices.Equal(got, want) {
		t.Errorf("EventsBetween(0, 2ms) after the merge =\n%v\nwant\n%v\n(each at its own time and seq, the JSON row among them, the offer the survivor's)", got, want)
	}
}
