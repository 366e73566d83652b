package pgstore_test

import (
	"context"
	"testing"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
	"github.com/idicbot/idicbot/crm/storetest"
)

// TestConformance runs the behaviour every crm.Store must have against a
// PostgreSQL schema of its own per subtest, checking the indexes and
// counts (DB.Check) when each subtest ends and before each reopen.
func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, storetest.Opener{
		Open: func(t *testing.T) crm.Store {
			return openChecked(t, pgtest.URL(t))
		},
		Reopen: func(t *testing.T, s crm.Store) crm.Store {
			db := s.(*checkedDB)
			db.check(t)
			db.closed = true
			if err := db.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			return openChecked(t, db.url)
		},
	})
}

type checkedDB struct {
	*pgstore.DB
	url    string
	closed bool
}

func openChecked(t *testing.T, url string) *checkedDB {
	t.Helper()
	pdb, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	db := &checkedDB{DB: pdb, url: url}
	t.Cleanup(func() {
		if db.closed {
			return
		}
		db.check(t)
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

// check fails t when an index or count disagrees with the records.
func (db *checkedDB) check(t *testing.T) {
	t.Helper()
	problems, err := db.Check(context.Background())
	if err != nil {
		t.Errorf("check: %v", err)
	}
	for _, p := range problems {
		t.Errorf("store check: %s", p)
	}
}
