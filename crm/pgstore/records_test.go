package pgstore_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// firstByte is the first byte of the data column of table's row id.
func firstByte(t *testing.T, db *pgstore.DB, table string, id crm.ID) byte {
	t.Helper()
	var data []byte
	if err := db.Pool().QueryRow(t.Context(), `SELECT data FROM `+table+` WHERE id = $1`, int64(id)).Scan(&data); err != nil {
		t.Fatalf("%s %d: %v", table, id, err)
	}
	if len(data) == 0 {
		t.Fatalf("%s %d: empty data", table, id)
	}
	return data[0]
}

// Customers, interactions and outbox items are written in the binary form.
func TestRecordsAreBinary(t *testing.T) {
	db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	c := &crm.Customer{Name: "Nguyễn Thị Lan", Phone: "+84912345678", CreatedAt: at,
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "u1", ChatID: "c1", FirstSeen: at}}}
	in := &crm.Interaction{Time: at, Direction: crm.Outbound, Kind: crm.KindText, Text: "Chào bạn",
		Buttons: []crm.Button{{Label: "Có", Payload: "yes"}}}
	it := &crm.OutboxItem{Channel: crm.ChannelTelegram, ChatID: "c1", UserID: "u1", Text: "Chào bạn", RequestPhone: true,
		OfferID: "welcome", Buttons: []crm.Button{{Label: "Có", Payload: "yes"}}, CreatedAt: at}
	if err := db.Update(t.Context(), func(tx crm.Tx) error {
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		in.CustomerID, it.CustomerID = c.ID, c.ID
		if err := tx.AppendInteraction(in); err != nil {
			return err
		}
		it.InteractionID = in.ID
		return tx.EnqueueOutbox(it)
	}); err != nil {
		t.Fatal(err)
	}
	for table, id := range map[string]crm.ID{"customers": c.ID, "interactions": in.ID, "outbox": it.ID} {
		if b := firstByte(t, db, table, id); b == '{' {
			t.Errorf("%s %d is stored as JSON, want the binary form", table, id)
		}
	}
	if err := db.View(t.Context(), func(tx crm.Tx) error {
		_, _, _, err := readBack(t, tx, c, in, it)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// Rows an older binary wrote hold JSON: they still read, and take the
// binary form when saved again.
func TestJSONRecordsOfOlderBinariesRead(t *testing.T) {
	db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	at := time.Date(2026, 12, 1, 9, 0, 0, 123, time.UTC)
	// Ids far above what the sequences hand out; no index rows are needed
	// for reads by id.
	c := &crm.Customer{ID: 9001, Name: "Khách cũ", Language: "vi", CreatedAt: at, UpdatedAt: at,
		Tags: []string{"vip"}, Stats: crm.Aggregates{MessagesIn: 3, LastSeen: at, Daily: map[string]int{"20261201": 3}}}
	in := &crm.Interaction{ID: 9002, CustomerID: c.ID, Time: at, Direction: crm.Inbound, Channel: crm.ChannelWeb,
		ChatID: "w1", Kind: crm.KindText, Text: "giá bao nhiêu", Intent: "price"}
	it := &crm.OutboxItem{ID: 9003, CustomerID: c.ID, InteractionID: in.ID, Channel: crm.ChannelWeb, ChatID: "w1",
		UserID: "w1", Text: "Dạ, 1.000.000đ", Buttons: []crm.Button{{Label: "Mua", Payload: "buy"}}, RequestPhone: true,
		OfferID: "o1", Status: crm.OutboxPending, CreatedAt: at}
	rows := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO customers (id, data) VALUES ($1, $2)`, []any{int64(c.ID), oldJSON(t, c)}},
		{`INSERT INTO interactions (id, customer_id, data) VALUES ($1, $2, $3)`, []any{int64(in.ID), int64(c.ID), oldJSON(t, in)}},
		{`INSERT INTO outbox (id, customer_id, status, priority, due, created_at, data) VALUES ($1, $2, 'pending', 0, 0, $3, $4)`,
			[]any{int64(it.ID), int64(c.ID), at.UnixNano(), oldJSON(t, it)}},
	}
	for _, r := range rows {
		if _, err := db.Pool().Exec(t.Context(), r.sql, r.args...); err != nil {
			t.Fatalf("%s: %v", r.sql, err)
		}
	}
	if err := db.Update(t.Context(), func(tx crm.Tx) error {
		gotC, gotI, gotO, err := readBack(t, tx, c, in, it)
		if err != nil {
			return err
		}
		// Saved again, each takes the binary form.
		if err := tx.PutCustomer(gotC); err != nil {
			return err
		}
		if err := tx.PutInteraction(gotI); err != nil {
			return err
		}
		return tx.EnqueueOutbox(gotO)
	}); err != nil {
		t.Fatal(err)
	}
	for table, id := range map[string]crm.ID{"customers": c.ID, "interactions": in.ID, "outbox": it.ID} {
		if b := firstByte(t, db, table, id); b == '{' {
			t.Errorf("%s %d is still JSON after a save", table, id)
		}
	}
}

// readBack reads the three records back and checks they are c, in and
// it.
func readBack(t *testing.T, tx crm.Tx, c *crm.Customer, in *crm.Interaction, it *crm.OutboxItem) (*crm.Customer, *crm.Interaction, *crm.OutboxItem, error) {
	t.Helper()
	gotC, err := tx.Customer(c.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	gotI, err := tx.Interaction(c.ID, in.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	gotO, err := tx.OutboxItem(it.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	sameJSON(t, "customer", gotC, c)
	sameJSON(t, "interaction", gotI, in)
	sameJSON(t, "outbox item", gotO, it)
	return gotC, gotI, gotO, nil
}

// oldJSON is a record as older binaries stored it (encoding/json).
func oldJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != '{' {
		t.Fatalf("%T marshals to %q", v, b)
	}
	return b
}

// sameJSON fails when got and want differ in any field JSON shows.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := oldJSON(t, got), oldJSON(t, want)
	if string(g) != string(w) {
		t.Errorf("%s read back as\n%s\nwant\n%s", what, g, w)
	}
}
