package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/idicbot/idicbot/crm"
)

// MustOpen opens a store in a fresh temporary directory and closes it when
// the test ends.
func MustOpen(tb testing.TB) *DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "data", "idicbot.db"))
}

func mustOpenPath(tb testing.TB, path string) *DB {
	tb.Helper()
	db := mustOpenUnchecked(tb, path)
	tb.Cleanup(func() { mustCheck(tb, db) })
	return db
}

// mustOpenUnchecked is mustOpenPath for tests that write records by hand,
// as an older binary or a damaged file would have them.
func mustOpenUnchecked(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(path, Options{NoSync: true, Now: fixedNow})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// mustCheck fails the test when an index or count disagrees with the
// records (bbolt's btesting.MustCheck, for our indexes): a test that breaks
// an index fails where it broke it.
func mustCheck(tb testing.TB, db *DB) {
	tb.Helper()
	problems, err := db.Check(context.Background())
	if err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return // the test closed it
		}
		tb.Errorf("check: %v", err)
		return
	}
	for _, p := range problems {
		tb.Errorf("store check: %s", p)
	}
}

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// update runs fn in a solo write transaction and fails the test on error.
func update(tb testing.TB, db *DB, fn func(crm.Tx) error) {
	tb.Helper()
	if err := db.UpdateSolo(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

func view(tb testing.TB, db *DB, fn func(crm.Tx) error) {
	tb.Helper()
	if err := db.View(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

func TestOpen_CreatesDirAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "idicbot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var id crm.ID
	update(t, db, func(tx crm.Tx) error {
		c := &crm.Customer{Name: "Lan"}
		err := tx.PutCustomer(c)
		id = c.ID
		return err
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path)
	view(t, db, func(tx crm.Tx) error {
		c, err := tx.Customer(id)
		if err != nil {
			return err
		}
		if got, want := c.Name, "Lan"; got != want {
			t.Errorf("name = %q, want %q", got, want)
		}
		v := tx.(*Tx).get(bktMeta, []byte(metaSchemaVersion))
		if got, want := readInt(v), int64(SchemaVersion()); got != want {
			t.Errorf("schema version = %d, want %d", got, want)
		}
		return nil
	})
}

func TestOpen_SecondOpenFailsFast(t *testing.T) {
	db := MustOpen(t)
	start := time.Now()
	_, err := Open(db.Path(), Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if want := "another idicbot instance holds " + db.Path(); !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v", d)
	}
}

func TestOpen_NewerSchemaFails(t *testing.T) {
	db := MustOpen(t)
	path := db.Path()
	err := db.Bolt().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bktMeta).Put([]byte(metaSchemaVersion), u64(99))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{NoSync: true})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("err = %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("err = %q, want schema version and upgrade hint", err)
	}
}

func TestDecode_NewerFormatFailsLoudly(t *testing.T) {
	db := mustOpenUnchecked(t, filepath.Join(t.TempDir(), "idicbot.db"))
	err := db.Bolt().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bktCustomers).Put(idKey(7), append([]byte{formatVersion + 1}, `{"id":7}`...))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(context.Background(), func(tx crm.Tx) error {
		_, err := tx.Customer(7)
		return err
	})
	if !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("err = %v, want ErrNewerFormat", err)
	}
	if want := fmt.Sprintf("stored by a newer idicbot (format %d); upgrade", formatVersion+1); !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
}

func TestUpdate_BatchConcurrency(t *testing.T) {
	db := MustOpen(t)
	const workers, each = 40, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	ids := make(chan crm.ID, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				var id crm.ID
				err := db.Update(context.Background(), func(tx crm.Tx) error {
					c := &crm.Customer{ // built inside fn: fn may run again
						Name:       fmt.Sprintf("Worker %d", w),
						Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: fmt.Sprintf("w%d-%d", w, j)}},
					}
					if err := tx.PutCustomer(c); err != nil {
						return err
					}
					id = c.ID
					return tx.AddCounter("test:writes", 1)
				})
				if err != nil {
					errs <- err
					return
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[crm.ID]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d assigned twice", id)
		}
		seen[id] = true
	}
	view(t, db, func(tx crm.Tx) error {
		n, _ := tx.CustomerCount()
		w, _ := tx.Counter("test:writes")
		if n != workers*each || w != workers*each || len(seen) != workers*each {
			t.Errorf("customers = %d, writes = %d, ids = %d; want %d each", n, w, len(seen), workers*each)
		}
		c, err := tx.FindCustomerByIdentity(crm.ChannelWeb, "w3-4")
		if err != nil || c == nil || c.Name != "Worker 3" {
			t.Errorf("FindCustomerByIdentity = %+v, %v", c, err)
		}
		return nil
	})
}

func TestUpdate_ErrorCommitsNothing(t *testing.T) {
	db := MustOpen(t)
	err := db.Update(context.Background(), func(tx crm.Tx) error {
		if err := tx.PutCustomer(&crm.Customer{Name: "Ghost", Phone: "+84900000001"}); err != nil {
			return err
		}
		return crm.Errorf(crm.EINVALID, "nope")
	})
	if got, want := crm.ErrorCode(err), crm.EINVALID; got != want {
		t.Fatalf("code = %q, want %q (err %v)", got, want, err)
	}
	view(t, db, func(tx crm.Tx) error {
		if n, _ := tx.CustomerCount(); n != 0 {
			t.Errorf("customers = %d, want 0", n)
		}
		if c, _ := tx.FindCustomerByPhone("+84900000001"); c != nil {
			t.Errorf("phone index kept %+v", c)
		}
		return nil
	})
}

func TestUpdate_CancelledContext(t *testing.T) {
	db := MustOpen(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.Update(ctx, func(crm.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err = %v, ran = %v; want context.Canceled without running", err, ran)
	}
}

func TestBackup(t *testing.T) {
	db := MustOpen(t)
	update(t, db, func(tx crm.Tx) error {
		for i := range 20 {
			c := &crm.Customer{Name: fmt.Sprintf("Khách %d", i), Phone: fmt.Sprintf("+8490000%04d", i)}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	})

	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (buffer %d)", n, err, buf.Len())
	}

	path := filepath.Join(t.TempDir(), "backups", "idicbot-backup.db")
	if err := db.BackupFile(path); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(path + ".tmp-*"); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != n {
		t.Fatalf("backup file: %v, %v (want size %d)", fi, err, n)
	}
	restored := mustOpenPath(t, path)
	view(t, restored, func(tx crm.Tx) error {
		if got, _ := tx.CustomerCount(); got != 20 {
			t.Errorf("restored customers = %d, want 20", got)
		}
		c, err := tx.FindCustomerByPhone("+84900000013")
		if err != nil || c == nil || c.Name != "Khách 13" {
			t.Errorf("restored FindCustomerByPhone = %+v, %v", c, err)
		}
		return nil
	})
}

// freelistOnDisk reads the newer of the file's two meta pages and reports
// whether it points to a written free page list (bbolt's meta page: a
// 16-byte page header, then magic, version, page size and flags (4 bytes
// each), the root bucket (16), the free list's page id, the high-water page
// id and the transaction id (8 each)).
func freelistOnDisk(t *testing.T, path string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const magic = 0xED0CDAED
	le := func(b []byte) uint64 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v
	}
	size := int(le(data[24:28]))
	var freelist, txid uint64
	for _, off := range []int{0, size} {
		m := data[off+16:]
		if le(m[0:4]) != magic {
			t.Fatalf("no meta page at %d", off)
		}
		if tx := le(m[48:56]); tx >= txid {
			freelist, txid = le(m[32:40]), tx
		}
	}
	return freelist != ^uint64(0) // bbolt's "no free list written"
}

func TestCloseWritesTheFreeList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idicbot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var id crm.ID
	for i := range 3 {
		update(t, db, func(tx crm.Tx) error {
			c := &crm.Customer{ID: id, Name: fmt.Sprintf("Lan %d", i)}
			err := tx.PutCustomer(c)
			id = c.ID
			return err
		})
	}
	if freelistOnDisk(t, path) {
		t.Fatal("commits while open wrote the free page list (NoFreelistSync is off)")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if !freelistOnDisk(t, path) {
		t.Fatal("Close did not write the free page list: the next Open scans the whole file")
	}
	// The next Open reads it, the store works, and its commits leave the
	// list unwritten again (a crash from here means a scan, as before).
	db = mustOpenPath(t, path)
	update(t, db, func(tx crm.Tx) error {
		c, err := tx.Customer(id)
		if err != nil {
			return err
		}
		if c.Name != "Lan 2" {
			t.Errorf("name %q", c.Name)
		}
		c.Name = "Lan 3"
		return tx.PutCustomer(c)
	})
	if freelistOnDisk(t, path) {
		t.Fatal("a commit after reopening wrote the free page list")
	}
}
