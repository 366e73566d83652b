package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
	"github.com/idicbot/idicbot/crm/storecopy"
)

// TestMigrateStoreCommand moves a shop from its data directory to
// PostgreSQL and back to another directory with `idicbot migrate-store`,
// and checks that a second move into the now full database is refused.
func TestMigrateStoreCommand(t *testing.T) {
	pgURL := pgtest.URL(t)
	dir, back := t.TempDir(), t.TempDir()
	db, err := boltstore.Open(filepath.Join(dir, "idicbot.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(t.Context(), func(tx crm.Tx) error {
		for i := range 5 {
			c := &crm.Customer{Name: "Khách", Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: string(rune('a' + i))}}}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			if err := tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelWeb, Text: "chào shop"}); err != nil {
				return err
			}
		}
		return tx.PutOffer(&crm.Offer{ID: "tet", Version: 1, UpdatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := runCmd(t, time.Now(), "migrate-store", "--data", dir, "--to", pgURL)
	if err != nil || !strings.Contains(out, "copied and verified: 5 customers") {
		t.Fatalf("to PostgreSQL: %v\n%s", err, out)
	}
	out, err = runCmd(t, time.Now(), "migrate-store", "--from", pgURL, "--to", back)
	if err != nil || !strings.Contains(out, "copied and verified: 5 customers") {
		t.Fatalf("back to a data directory: %v\n%s", err, out)
	}
	_, err = runCmd(t, time.Now(), "migrate-store", "--data", dir, "--to", pgURL)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("into a database that holds the shop already: %v; want a refusal", err)
	}

	// The end against the start.
	src, err := boltstore.Open(filepath.Join(dir, "idicbot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = src.Close() }()
	dst, err := boltstore.Open(filepath.Join(back, "idicbot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dst.Close() }()
	if _, err := storecopy.Verify(t.Context(), src, dst, storecopy.Options{}); err != nil {
		t.Fatal(err)
	}
	pg, err := pgstore.Open(t.Context(), pgURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pg.Close() }()
	if problems, err := pg.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Fatalf("PostgreSQL after the move: %v %v", problems, err)
	}
}
