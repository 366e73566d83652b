package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func runCheckCmd(t *testing.T, dir string) (string, error) {
	t.Helper()
	return runCmd(t, time.Now(), "check", "--data", dir)
}

// idicbot check says a sound store is sound and names what is broken.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	out, err := runCheckCmd(t, dir)
	if err != nil || !strings.Contains(out, "every index and count agrees") {
		t.Fatalf("a fresh store: %v\n%s", err, out)
	}
	db, err := bbolt.Open(filepath.Join(dir, "idicbot.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("counters")).Put([]byte("customers"), []byte{0, 0, 0, 0, 0, 0, 0, 3})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = runCheckCmd(t, dir)
	if err == nil || !strings.Contains(out, "the customer count says 3, the records 0") {
		t.Fatalf("a damaged store: %v\n%s", err, out)
	}
}
