package pgstore

import (
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
