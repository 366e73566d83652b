package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// PruneStats counts what one Prune removed, and what it had to keep.
type PruneStats struct {
	// Outbox is the number of sent or failed outbox items removed, each
	// with its delivery state.
	Outbox int
	// Seen is the number of dedupe markers (seen messages) removed.
	Seen int
	// SeenUndated is the number of dedupe markers kept because they name no
	// interaction (events that logged nothing), so their age is unknown.
	SeenUndated int
	// Commits is the number of write transactions Prune took.
	Commits int
}

const (
	// pruneChunk is how many records one write transaction of Prune
	// deletes at most: the live bot's commits wait while it runs.
	pruneChunk = 1000
	// pruneScan is how many keys one read transaction of Prune examines at
	// most while it looks for records to delete.
	pruneScan = 20_000
)

// pruneLimits bound the transactions of Prune (tests use small ones).
type pruneLimits struct {
	chunk int // deletes per write transaction
	scan  int // keys examined per read transaction
}

// Prune deletes what the store keeps only for a while: outbox items that
// were sent or failed before before (never a pending one), with their
// delivery state, and the dedupe markers of messages whose interaction is
// older than before. Customers, their history (the interaction log), orders,
// offers and counters are never pruned. The file does not shrink: bbolt
// reuses the freed pages for new records.
//
// A marker is dated by its interaction: interaction ids increase with time,
// so Prune finds the first interaction at or after before and deletes the
// markers of every lower id. Markers of events that logged nothing (id 0)
// cannot be dated and are kept. before should be well in the past: a
// pruned marker no longer tells that a redelivered message was handled, so
// it must be older than the oldest event a channel still accepts (Zalo's
// and Messenger's max event age, plus a margin; cmd/idicbot's retention
// makes sure of it whatever retention_days says). A channel event's
// interaction carries the channel's own timestamp, so its marker is pruned
// only once the event itself is older than before.
//
// Prune reads in short read transactions and deletes in chunks, each chunk
// one write transaction that checks again every record it deletes, so it
// runs beside the live bot and a crash between chunks leaves a consistent
// store. It stops between chunks when ctx ends, returning what it removed
// so far and ctx's error.
func (db *DB) Prune(ctx context.Context, before time.Time) (PruneStats, error) {
	return db.prune(ctx, before, pruneLimits{chunk: pruneChunk, scan: pruneScan})
}

func (db *DB) prune(ctx context.Context, before time.Time, lim pruneLimits) (PruneStats, error) {
	var st PruneStats
	old := func(btx *bbolt.Tx, k, v []byte) (bool, error) { return outboxPrunable(btx, k, v, before) }
	n, commits, err := db.sweep(ctx, bktOutbox, lim, old, func(btx *bbolt.Tx, k []byte) error {
		if err := btx.Bucket(bktOutboxState).Delete(k); err != nil {
			return err
		}
		return btx.Bucket(bktOutbox).Delete(k)
	})
	st.Outbox, st.Commits = n, commits
	if err != nil {
		return st, fmt.Errorf("prune outbox: %w", err)
	}

	cutoff, err := db.firstInteractionSince(ctx, before, lim.scan)
	if err != nil {
		return st, fmt.Errorf("prune seen messages: %w", err)
	}
	undated := 0
	n, commits, err = db.sweep(ctx, bktSeen, lim, func(btx *bbolt.Tx, _, v []byte) (bool, error) {
		id := readID(v)
		if id == 0 && !btx.Writable() { // the walk, not the check before a delete
			undated++
		}
		return id != 0 && id < cutoff, nil
	}, func(btx *bbolt.Tx, k []byte) error {
		return btx.Bucket(bktSeen).Delete(k)
	})
	st.Seen, st.Commits = n, st.Commits+commits
	if err != nil {
		return st, fmt.Errorf("prune seen messages: %w", err)
	}
	st.SeenUndated = undated
	return st, nil
}

// outboxPrunable tells whether the outbox item k (queued as v) is done and
// old: sent or failed (so not in the pending set), queued (and sent, when it
// was) before before. An item that cannot be dated is kept.
func outboxPrunable(btx *bbolt.Tx, k, v []byte, before time.Time) (bool, error) {
	var it crm.OutboxItem
	if err := decodeOutboxItem(k, v, &it); err != nil {
		return false, err
	}
	// In the pending set (where claimKeyOf looks) whatever its state says:
	// kept, for Check to report.
	claim := btx.Bucket(bktOutboxClaim)
	if claim.Get(claimKey(0, time.Time{}, it.ID)) != nil || claim.Get(claimKey(it.Priority, it.Due, it.ID)) != nil {
		return false, nil
	}
	if s := btx.Bucket(bktOutboxState).Get(k); s != nil {
		st, err := decodeOutboxState(k, s)
		if err != nil {
			return false, err
		}
		it.Status, it.SentAt = st.Status, st.SentAt
	}
	if it.Status != crm.OutboxSent && it.Status != crm.OutboxFailed {
		return false, nil
	}
	return !it.CreatedAt.IsZero() && it.CreatedAt.Before(before) && it.SentAt.Before(before), nil
}

// firstInteractionSince returns the id of the first interaction (in id
// order) whose time is not before before, or one past the last id when
// there is none: every interaction with a lower id is older than before.
// It walks the log from its start rather than bisecting, because times are
// not strictly monotonic in ids (a channel's own message time, ids taken in
// memory committing out of order): the walk never picks a cutoff past a
// recent interaction. It reads only the time of each record, scan records
// per read transaction.
func (db *DB) firstInteractionSince(ctx context.Context, before time.Time, scan int) (crm.ID, error) {
	var from []byte // where the next read transaction starts; nil: the first key
	var last crm.ID // the last interaction read
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var cutoff crm.ID
		err := db.view(func(btx *bbolt.Tx) error {
			c := btx.Bucket(bktInteractions).Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == scan {
					from = bytes.Clone(k)
					return nil
				}
				n++
				var rec crm.Interaction
				if err := decodeInteraction(k, v, &rec); err != nil {
					return err
				}
				if !rec.Time.Before(before) {
					cutoff = readID(k)
					return nil
				}
				last = readID(k)
			}
			cutoff = last + 1 // every interaction is older
			return nil
		})
		if err != nil || cutoff != 0 {
			return cutoff, err
		}
	}
}

// sweep walks bucket name in key order, in read transactions of at most
// lim.scan keys, and collects the keys for which match is true; every
// lim.chunk keys it deletes them in one write transaction, calling del for
// each key that still matches there. match gets the transaction, the key and its
// value. It returns how many keys it deleted and in how many commits.
func (db *DB) sweep(ctx context.Context, name []byte, lim pruneLimits,
	match func(btx *bbolt.Tx, k, v []byte) (bool, error), del func(btx *bbolt.Tx, k []byte) error,
) (removed, commits int, err error) {
	var from []byte
	for {
		if err := ctx.Err(); err != nil {
			return removed, commits, err
		}
		var keys [][]byte
		var next []byte // where the next read transaction starts; nil: done
		err := db.view(func(btx *bbolt.Tx) error {
			c := btx.Bucket(name).Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == lim.scan || len(keys) == lim.chunk {
					next = bytes.Clone(k)
					return nil
				}
				n++
				ok, err := match(btx, k, v)
				if err != nil {
					return err
				}
				if ok {
					keys = append(keys, bytes.Clone(k))
				}
			}
			return nil
		})
		if err != nil {
			return removed, commits, err
		}
		if len(keys) > 0 {
			if err := ctx.Err(); err != nil {
				return removed, commits, err
			}
			n := 0
			err := db.update(func(btx *bbolt.Tx) error {
				n = 0
				b := btx.Bucket(name)
				for _, k := range keys {
					v := b.Get(k)
					if v == nil {
						continue
					}
					ok, err := match(btx, k, v)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
					if err := del(btx, k); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil {
				return removed, commits, err
			}
			removed += n
			commits++
		}
		if next == nil {
			return removed, commits, nil
		}
		from = next
	}
}
