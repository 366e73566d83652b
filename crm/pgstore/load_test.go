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

// loadCustomers are customers that reach every index: identities with and
// without usernames, every unique key, claims (one the customer also
// holds), repeated and accented name words, no name, no segment, a
// negative total, an explicit id.
func loadCustomers() []*crm.Customer {
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tg := func(user, username string) crm.Identity {
		return crm.Identity{Channel: crm.ChannelTelegram, UserID: user, ChatID: user, Username: username, FirstSeen: at}
	}
	return []*crm.Customer{
		{Name: "Nguyễn Văn Ánh", Phone: "+84901234567", Email: " Anh@Example.com ", ExternalID: "KH-1", CreatedAt: at,
			Identities: []crm.Identity{tg("101", "@AnhNV"), {Channel: crm.ChannelZalo, UserID: "z-101", FirstSeen: at}},
			Claims:     crm.ContactClaims{Phone: "+84901234567", Email: "anh.other@example.com", Channel: crm.ChannelWeb, At: at},
			Segment:    crm.SegmentAssignment{Name: "new", Since: at}},
		{Name: "An An an", Identities: []crm.Identity{tg("102", "")}, Segment: crm.SegmentAssignment{Name: "vip", Since: at},
			Stats: crm.Aggregates{TotalSpent: 1_500_000, Orders: 2}},
		{},
		{Name: "John Nguyen", Phone: "+84911000001", Identities: []crm.Identity{tg("103", "john")},
			Segment: crm.SegmentAssignment{Name: "new", Since: at}},
		{ID: 40, Name: "Đặng-Ngọc Anh!", Claims: crm.ContactClaims{Email: "dna@x.vn"}, Stats: crm.Aggregates{TotalSpent: -5}},
	}
}

// TestLoadCustomersWritesWhatPutCustomerWrites loads the same customers
// into one store with LoadCustomers and into another with PutCustomer, and
// compares every row of the customer tables and the counts.
func TestLoadCustomersWritesWhatPutCustomerWrites(t *testing.T) {
	open := func() *pgstore.DB {
		db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	loaded, put := open(), open()
	cs := loadCustomers()
	if err := loaded.LoadCustomers(t.Context(), cs); err != nil {
		t.Fatalf("LoadCustomers: %v", err)
	}
	for _, c := range cs {
		if c.ID == 0 {
			t.Fatalf("LoadCustomers left %q without an id", c.Name)
		}
	}
	if err := put.Update(t.Context(), func(tx crm.Tx) error {
		for _, c := range loadCustomers() {
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT id, segment, spent, data FROM customers ORDER BY id`,
		`SELECT kind, key, customer_id FROM customer_keys ORDER BY kind, key`,
		`SELECT kind, value, customer_id FROM customer_values ORDER BY kind, value, customer_id`,
		`SELECT word, customer_id, names FROM customer_words ORDER BY word, customer_id`,
		`SELECT name, sum(value) FROM counters GROUP BY name ORDER BY name`,
		`SELECT nextval('customers_id_seq')`,
	} {
		if got, want := dump(t, loaded, q), dump(t, put, q); !slices.Equal(got, want) {
			t.Errorf("%s\nloaded: %q\nput:    %q", q, got, want)
		}
	}
	for _, db := range []*pgstore.DB{loaded, put} {
		if problems, err := db.Check(t.Context()); err != nil || len(problems) > 0 {
			t.Errorf("Check: %v, %v", problems, err)
		}
	}

	// A key stored already fails the whole load, and writes nothing.
	again := []*crm.Customer{{Name: "New"}, {Name: "Copy", Phone: "+84901234567"}}
	if err := loaded.LoadCustomers(t.Context(), again); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("LoadCustomers of a stored phone: %v, want a conflict", err)
	}
	if got, want := dump(t, loaded, `SELECT count(*) FROM customers`), []string{"[5]"}; !slices.Equal(got, want) {
		t.Errorf("after a refused load: %v customers, want %v", got, want)
	}
}

func dump(t *testing.T, db *pgstore.DB, q string) []string {
	t.Helper()
	rows, err := db.Pool().Query(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range v {
			if b, ok := x.([]byte); ok {
				v[i] = string(b)
			}
		}
		out = append(out, fmt.Sprint(v))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
