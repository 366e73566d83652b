package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// TestOpenLogsSlowSteps: an Open after a crash says it rebuilds the free
// page list and when it is done; an Open that migrates says from which
// version to which; a clean Open of a current file says nothing.
func TestOpenLogsSlowSteps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idicbot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		update(t, db, func(tx crm.Tx) error { return tx.PutCustomer(&crm.Customer{Name: fmt.Sprintf("Lan %d", i)}) })
	}
	// A crash: the file as the running process left it, never closed.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed.db")
	if err := os.WriteFile(crashed, data, 0o600); err != nil {
		t.Fatal(err)
	}

	open := func(p string) string {
		t.Helper()
		var logs bytes.Buffer
		db, err := Open(p, Options{NoSync: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		mustCheck(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}

	logs := open(crashed)
	for _, want := range []string{`msg="rebuilding the free page list`, `msg="free page list rebuilt" seconds=`, "crashed.db"} {
		if !strings.Contains(logs, want) {
			t.Errorf("after a crash the log lacks %q:\n%s", want, logs)
		}
	}
	if logs := open(crashed); logs != "" {
		t.Errorf("a clean open logged:\n%s", logs)
	}

	// A file of the previous schema version.
	bdb, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bktMeta).Put([]byte(metaSchemaVersion), binary.BigEndian.AppendUint64(nil, uint64(SchemaVersion()-1)))
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	logs = open(path)
	for _, w := range []string{`msg="migrating the data file"`, fmt.Sprintf("from_version=%d to_version=%d", SchemaVersion()-1, SchemaVersion()), `msg="data file migrated" seconds=`} {
		if !strings.Contains(logs, w) {
			t.Errorf("a migration's log lacks %q:\n%s", w, logs)
		}
	}
}
