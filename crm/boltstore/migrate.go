package boltstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// migrateSegmentIndex is migration 4 (schema 3 → 4): it builds idx_segment
// again from the stored customers, keyed by segmentKey (segment, total
// spent, id) instead of segment and id.
func migrateSegmentIndex(tx *bbolt.Tx) error {
	if tx.Bucket(bktIdxSegment) != nil {
		if err := tx.DeleteBucket(bktIdxSegment); err != nil {
			return err
		}
	}
	if _, err := tx.CreateBucket(bktIdxSegment); err != nil {
		return err
	}
	return indexCustomers(tx, bktIdxSegment, func(id uint64, cu *crm.Customer) [][]byte {
		if cu.Segment.Name == "" {
			return nil
		}
		return [][]byte{segmentKey(cu.Segment.Name, cu.Stats.TotalSpent, id)}
	})
}

// indexCustomers fills the index bucket with the keys keysOf gives for each
// stored customer, in key order (bbolt splits nodes only at commit, so keys
// put out of order into a new bucket would each shift one huge node), once
// each, with empty values.
func indexCustomers(tx *bbolt.Tx, bucket []byte, keysOf func(id uint64, cu *crm.Customer) [][]byte) error {
	var keys [][]byte
	cs := tx.Bucket(bktCustomers).Cursor()
	for k, v := cs.First(); k != nil; k, v = cs.Next() {
		if len(k) != 8 {
			continue // history key
		}
		cu := new(crm.Customer)
		if err := decodeCustomer(k, v, cu); err != nil {
			return err
		}
		keys = append(keys, keysOf(uint64(readID(k)), cu)...)
	}
	slices.SortFunc(keys, bytes.Compare)
	b := tx.Bucket(bucket)
	for i, k := range keys {
		if i > 0 && bytes.Equal(keys[i-1], k) {
			continue
		}
		if err := b.Put(k, nil); err != nil {
			return err
		}
	}
	return nil
}

// migrateInteractionLog is migration 2 (schema 1 → 2): it moves every
// interaction from "interactions" (customer id + interaction id → record)
// to interaction_log (interaction id → record) and a history key (customer
// id + interaction id → empty) in customers, carries the id sequence over,
// drops the old bucket and builds idx_username from the stored customers.
//
// It runs in the one transaction of migrate, so a crash leaves schema 1
// intact. Every bucket is filled in key order: bbolt splits nodes only at
// commit, so keys put out of order into a new bucket would each shift one
// huge node.
func migrateInteractionLog(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bktInteractions, bktIdxUsername} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	log, idx := tx.Bucket(bktInteractions), tx.Bucket(bktCustomers)
	log.FillPercent = appendFill
	if old := tx.Bucket(bktInteractionsV1); old != nil {
		type ref struct{ id, customer uint64 }
		var refs []ref
		c := old.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 16 {
				return fmt.Errorf("%s/%x: key is not customer id + interaction id", bktInteractionsV1, k)
			}
			if err := idx.Put(bytes.Clone(k), nil); err != nil {
				return err
			}
			refs = append(refs, ref{binary.BigEndian.Uint64(k[8:]), binary.BigEndian.Uint64(k)})
		}
		slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(a.id, b.id) })
		for i, r := range refs {
			if i > 0 && refs[i-1].id == r.id {
				// Only explicit ids could do this, and nothing sets them.
				return fmt.Errorf("interaction %d is stored under customers %d and %d; ids must be unique",
					r.id, refs[i-1].customer, r.customer)
			}
			v := old.Get(pairKey(crm.ID(r.customer), crm.ID(r.id)))
			if err := log.Put(idKey(crm.ID(r.id)), bytes.Clone(v)); err != nil {
				return err
			}
		}
		if err := log.SetSequence(max(log.Sequence(), old.Sequence())); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bktInteractionsV1); err != nil {
			return err
		}
	}

	return indexCustomers(tx, bktIdxUsername, func(id uint64, cu *crm.Customer) [][]byte {
		var keys [][]byte
		for _, u := range indexedOf(cu).usernames {
			keys = append(keys, strIDKey(u, id))
		}
		return keys
	})
}
