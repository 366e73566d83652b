package boltstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.etcd.io/bbolt"
)

// compactSuffix names the new file a compaction writes next to the store's
// file before it renames it over it.
const compactSuffix = ".compact"

// compactTxSize bounds the bytes one transaction of the compaction copies,
// so a large file does not need its whole copy in memory.
const compactTxSize = 64 << 20

// lockWrite keeps Compact from starting until the write transaction is
// done (db.bolt does not change meanwhile) and returns its release.
func (db *DB) lockWrite() (unlock func()) {
	db.writeGate.RLock()
	return db.writeGate.RUnlock
}

// reader returns the current file for a read transaction, counted until
// done is called: Compact closes a file it replaced after its last reader,
// so a long reader (a backup being downloaded) neither fails nor holds
// Compact, or the writers it stops, back.
func (db *DB) reader() (b *bbolt.DB, done func()) {
	db.handleMu.RLock()
	defer db.handleMu.RUnlock()
	db.users.Add(1)
	return db.bolt, db.users.Done
}

// view runs fn in a bbolt read transaction on the current file.
func (db *DB) view(fn func(*bbolt.Tx) error) error {
	b, done := db.reader()
	defer done()
	return b.View(fn)
}

// update runs fn in a bbolt write transaction of its own on the current file.
func (db *DB) update(fn func(*bbolt.Tx) error) error {
	defer db.lockWrite()()
	return db.bolt.Update(fn)
}

// Compact rewrites the store's file so that it holds only live data: the
// free pages, where bbolt leaves the old versions of every record changed or
// deleted (erased personal data included: bbolt reuses pages without zeroing
// them), are gone, and the file shrinks to its data.
//
// It copies every bucket into a new file beside the store's (path +
// ".compact"), syncs it, and renames it over the store's file; the store
// then works on the new file. It is crash-safe: until the rename the old
// file is untouched (Open deletes a new file left behind), and the rename
// replaces it atomically, so a crash leaves either file whole.
//
// It runs while the store is in use. It first copies while writers go on,
// and keeps the copy only if nothing committed meanwhile (the writers then
// wait only for the swap); after compactTries copies outdated that way (a
// busy bot), it copies with the writers stopped, which they wait for: about
// as long as copying the file (BenchmarkCompact). Readers never wait: those
// that began on the old file finish there, and Compact returns once the
// last of them is done and the old file is closed (its space freed). A
// Store function must therefore not call the store again (a View inside an
// Update would wait for Compact, which waits for the Update). Backups taken
// earlier keep what they held.
func (db *DB) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	var old *bbolt.DB
	var oldUsers *sync.WaitGroup
	for try := 0; old == nil; try++ {
		var err error
		if old, oldUsers, err = db.compact(try >= compactTries); err != nil {
			return fmt.Errorf("compact %s: %w", db.path, err)
		}
	}
	oldUsers.Wait()
	// The old file is unlinked; closing it releases its lock and its space.
	if err := old.Close(); err != nil {
		return fmt.Errorf("compact %s: close the old file: %w", db.path, err)
	}
	return nil
}

// CompactPending reports whether an erase was committed whose compaction
// has not finished, so the erased values may still be in the file's free
// pages (Compact removes them).
func (db *DB) CompactPending() (bool, error) {
	pending := false
	err := db.view(func(tx *bbolt.Tx) error {
		pending = tx.Bucket(bktMeta).Get([]byte(metaCompactPending)) != nil
		return nil
	})
	return pending, err
}

// finishErase compacts the file when an erase committed but the compaction
// that follows it did not finish (a crash between the two).
func (db *DB) finishErase() error {
	if pending, err := db.CompactPending(); err != nil || !pending {
		return err
	}
	return db.Compact(context.Background())
}

// compactTries is how many copies Compact makes while writers go on before
// it makes one with the writers stopped.
const compactTries = 2

// compact copies the file into a new one and swaps it in; it returns the
// old file and its readers. With stopWriters it holds writeGate for the
// copy; otherwise writers go on, and a copy that a commit made out of date
// is dropped (old is then nil: try again). The caller holds compactMu.
func (db *DB) compact(stopWriters bool) (old *bbolt.DB, oldUsers *sync.WaitGroup, err error) {
	if stopWriters {
		db.writeGate.Lock()
		defer db.writeGate.Unlock()
	}
	tmp := db.path + compactSuffix
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return nil, nil, err
	}
	src := db.bolt // only Compact replaces it, under compactMu
	copied, err := lastTxID(src)
	if err != nil {
		return nil, nil, err
	}
	dst, err := bbolt.Open(tmp, 0o600, db.boltOpts)
	if err != nil {
		return nil, nil, err
	}
	swapped := false
	defer func() {
		if !swapped {
			_ = dst.Close()
			_ = os.Remove(tmp)
		}
	}()
	dst.MaxBatchSize, dst.MaxBatchDelay = src.MaxBatchSize, src.MaxBatchDelay
	if err := bbolt.Compact(dst, src, compactTxSize); err != nil {
		return nil, nil, err
	}
	// The copy is of a file whose last erase is now compacted away.
	if err := dst.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bktMeta).Delete([]byte(metaCompactPending))
	}); err != nil {
		return nil, nil, err
	}
	if err := dst.Sync(); err != nil {
		return nil, nil, err
	}
	if !stopWriters {
		db.writeGate.Lock()
		defer db.writeGate.Unlock()
		// Every commit raises the transaction id: the same id means the
		// copy, taken after it was read, is the current state.
		if now, err := lastTxID(src); err != nil || now != copied {
			return nil, nil, err
		}
	}
	if err := os.Rename(tmp, db.path); err != nil {
		return nil, nil, err
	}
	swapped = true
	if d, derr := os.Open(filepath.Dir(db.path)); derr == nil {
		_ = d.Sync() // make the rename durable; not every platform supports it
		_ = d.Close()
	}
	db.handleMu.Lock()
	old, oldUsers = db.bolt, db.users
	db.bolt, db.users = dst, new(sync.WaitGroup)
	db.handleMu.Unlock()
	db.w.setBolt(dst)
	return old, oldUsers, nil
}

// lastTxID returns the id of the last transaction committed to b.
func lastTxID(b *bbolt.DB) (id int, err error) {
	err = b.View(func(tx *bbolt.Tx) error {
		id = tx.ID()
		return nil
	})
	return id, err
}
