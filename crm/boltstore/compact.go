package boltstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"
)

// compactSuffix names the new file a compaction writes next to the store's
// file before it renames it over it.
const compactSuffix = ".compact"

// compactTxSize bounds the bytes one transaction of the compaction copies,
// so a large file does not need its whole copy in memory.
const compactTxSize = 64 << 20

// lockWrite takes the gates a write transaction needs (writeGate, then
// gate: Compact takes them in the same order) and returns their release.
func (db *DB) lockWrite() (unlock func()) {
	db.writeGate.RLock()
	db.gate.RLock()
	return func() {
		db.gate.RUnlock()
		db.writeGate.RUnlock()
	}
}

// view runs fn in a bbolt read transaction on the current file.
func (db *DB) view(fn func(*bbolt.Tx) error) error {
	db.gate.RLock()
	defer db.gate.RUnlock()
	return db.bolt.View(fn)
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
// It runs while the store is in use: writers wait from its start (nothing
// may commit to the file being copied), readers only while the files are
// swapped; with both waiting it takes about as long as copying the file.
// Backups taken earlier keep what they held.
func (db *DB) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.writeGate.Lock()
	defer db.writeGate.Unlock()
	if err := db.compact(); err != nil {
		return fmt.Errorf("compact %s: %w", db.path, err)
	}
	return nil
}

// finishErase compacts the file when an erase committed but the compaction
// that follows it did not finish (a crash between the two).
func (db *DB) finishErase() error {
	pending := false
	if err := db.view(func(tx *bbolt.Tx) error {
		pending = tx.Bucket(bktMeta).Get([]byte(metaCompactPending)) != nil
		return nil
	}); err != nil || !pending {
		return err
	}
	return db.Compact(context.Background())
}

// compact does Compact's work; the caller holds writeGate, so no write
// transaction runs (readers may, on the old file, until the swap).
func (db *DB) compact() (err error) {
	tmp := db.path + compactSuffix
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return err
	}
	src := db.bolt // stable: only compact replaces it, under writeGate
	dst, err := bbolt.Open(tmp, 0o600, db.boltOpts)
	if err != nil {
		return err
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
		return err
	}
	// The copy is of a file whose last erase is now compacted away.
	if err := dst.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bktMeta).Delete([]byte(metaCompactPending))
	}); err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}

	db.gate.Lock()
	defer db.gate.Unlock()
	if err := os.Rename(tmp, db.path); err != nil {
		return err
	}
	swapped = true
	if d, derr := os.Open(filepath.Dir(db.path)); derr == nil {
		_ = d.Sync() // make the rename durable; not every platform supports it
		_ = d.Close()
	}
	db.bolt = dst
	db.w.setBolt(dst)
	// The old file is unlinked; closing it releases its lock and its space.
	if err := src.Close(); err != nil {
		return fmt.Errorf("close the file before compaction: %w", err)
	}
	return nil
}
