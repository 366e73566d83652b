package boltstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"github.com/idicbot/idicbot/crm/storetest"
)

// TestConformance runs the behaviour every crm.Store must have against a
// bbolt file, checking the file's indexes and counts (DB.Check) when each
// subtest ends and before each reopen.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Opener{
		Open: func(t *testing.T) crm.Store {
			return openChecked(t, filepath.Join(t.TempDir(), "idicbot.db"))
		},
		Reopen: func(t *testing.T, s crm.Store) crm.Store {
			db := s.(*checkedDB)
			db.check(t)
			db.closed = true
			if err := db.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			return openChecked(t, db.Path())
		},
	})
}

// checkedDB is a store the conformance run opened; closed is set when
// Reopen closed it, so its cleanup neither checks nor closes it again.
type checkedDB struct {
	*boltstore.DB
	closed bool
}

func openChecked(t *testing.T, path string) *checkedDB {
	t.Helper()
	bdb, err := boltstore.Open(path, boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	db := &checkedDB{DB: bdb}
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
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return
	} else if err != nil {
		t.Errorf("check: %v", err)
	}
	for _, p := range problems {
		t.Errorf("store check: %s", p)
	}
}
