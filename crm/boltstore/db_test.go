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
	db, err := Open(path, Options{NoSync: true, Now: fixedNow})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
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
		v, _ := tx.Meta(metaSchemaVersion)
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
	db := MustOpen(t)
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
