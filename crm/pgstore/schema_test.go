package pgstore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// TestUpgradeKeepsNameWords saves customers on the schema before the name
// words' index carried the names, then migrates: the index is rebuilt with
// every entry, and a name search reads it.
func TestUpgradeKeepsNameWords(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := &DB{pool: pool, now: time.Now, maxAttempts: 5, events: &idBlock{seq: "events_seq", size: 100}}
	step := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "INCLUDE (names)") })
	if step < 0 {
		t.Fatal("no migration step puts the names into the name words' index")
	}
	if err := db.migrateTo(t.Context(), migrations[:step]); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := db.Update(t.Context(), func(tx crm.Tx) error {
		for _, n := range []string{"Nguyễn Văn An", "Trần Thị Anh", "Lê An"} {
			if err := tx.PutCustomer(&crm.Customer{Name: n}); err != nil {
				return err
			}
			names = append(names, n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var include string
	if err := pool.QueryRow(t.Context(), `SELECT pg_get_indexdef('customer_words_pkey'::regclass)`).Scan(&include); err != nil {
		t.Fatal(err)
	}
	if want := "INCLUDE (names)"; !strings.Contains(include, want) {
		t.Errorf("after the migration the index is %q, want it to %s", include, want)
	}
	var found []string
	if err := db.View(t.Context(), func(tx crm.Tx) error {
		cs, err := tx.FindCustomersByName("an", 10)
		for _, c := range cs {
			found = append(found, c.Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(found)
	slices.Sort(names)
	if !slices.Equal(found, names) {
		t.Errorf("after the migration \"an\" finds %q, want %q", found, names)
	}
	if problems, err := db.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check after the migration: %v, %v", problems, err)
	}
}

// TestUpgradeKeysEventsByTime writes events as binaries before step 8 did
// (JSON, one a row, a primary key on seq), then migrates: the rows are
// keyed by (at, seq), still read, and read in order with the batches
// written after.
func TestUpgradeKeysEventsByTime(t *testing.T) {
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := &DB{pool: pool, now: time.Now, maxAttempts: 5, events: &idBlock{seq: "events_seq", size: 100}}
	if err := db.migrateTo(ctx, migrations[:7]); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, e := range []string{`{"kind":"message_in","channel":"telegram","interaction_id":1}`, `{"kind":"segment_change","from":"new","to":"vip","cause":"order"}`} {
		if _, err := pool.Exec(ctx, `INSERT INTO events (seq, customer_id, at, kind, data) VALUES ($1, 7, $2, $3, $4)`,
			int64(1000+i), at.Add(time.Duration(2*i)*time.Second).UnixNano(), []string{"message_in", "segment_change"}[i], []byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var def string
	if err := pool.QueryRow(ctx, `SELECT pg_get_indexdef('events_pkey'::regclass)`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "(at, seq)") {
		t.Errorf("after the migration the events' key is %q, want (at, seq)", def)
	}
	if err := db.Update(ctx, func(tx crm.Tx) error {
		for _, e := range []*crm.Event{
			{CustomerID: 8, Time: at.Add(time.Second), Kind: crm.EventMessageIn, Channel: crm.ChannelWeb, InteractionID: 2},
			{CustomerID: 8, Time: at.Add(3 * time.Second), Kind: crm.EventMessageOut, Channel: crm.ChannelWeb, InteractionID: 3},
		} {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := db.View(ctx, func(tx crm.Tx) error {
		return tx.EventsBetween(time.Time{}, time.Time{}, func(e *crm.Event) error {
			got = append(got, fmt.Sprintf("%ds %s %d", int(e.Time.Sub(at).Seconds()), e.Kind, e.CustomerID))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"0s message_in 7", "1s message_in 8", "2s segment_change 7", "3s message_out 8"}
	if !slices.Equal(got, want) {
		t.Errorf("events after the migration = %v, want %v", got, want)
	}
}
