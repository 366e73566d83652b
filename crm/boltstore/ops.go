package boltstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"slices"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// kv is what the crm.Tx methods need from a transaction: point reads and
// writes, ids, counters and, for scans, the real bucket. It is implemented by
// boltOps (a bbolt transaction: View, UpdateSolo and the classic Update path)
// and by *overlay (the optimistic Update path), so every Tx method runs
// unchanged on both.
type kv interface {
	// get returns the value of k in bucket b, or nil. The slice is valid
	// until the transaction ends and must not be modified.
	get(b, k []byte) []byte
	put(b, k, v []byte) error
	del(b, k []byte) error
	// nextSeq returns a new id of bucket b, never issued before.
	nextSeq(b []byte) (uint64, error)
	// raiseSeq makes sure bucket b never issues id (an explicit id).
	raiseSeq(b []byte, id uint64) error
	addCounter(name string, delta int64) error
	counter(name []byte) int64
	// mustBeLast requires key, holding a new id, to commit after every key
	// of its 8-byte prefix (a customer's history is read in id order, "after
	// id N", so it must not get an id below one already committed).
	mustBeLast(b, key []byte)
	// bucket returns the bucket for scans, or errNeedsWriter on an overlay.
	bucket(b []byte) (*bbolt.Bucket, error)
	writable() bool
}

// errNeedsWriter is returned by an overlay for operations it cannot run on a
// snapshot (scans, bucket statistics). Update then runs fn again inside the
// single writer, whatever fn did with the error.
var errNeedsWriter = errors.New("boltstore: operation needs the single writer")

// bucketIndex maps a bucket name to its position in allBuckets.
var bucketIndex = func() map[string]int {
	m := make(map[string]int, len(allBuckets))
	for i, b := range allBuckets {
		m[string(b)] = i
	}
	return m
}()

func bucketIdx(name []byte) int {
	i, ok := bucketIndex[string(name)]
	if !ok {
		panic("boltstore: unknown bucket " + string(name))
	}
	return i
}

// allocSeq returns a new id of bucket i, above floor (the bucket sequence a
// transaction sees) and above every id handed out since Open.
func (db *DB) allocSeq(i int, floor uint64) uint64 {
	s := &db.seqs[i]
	for {
		cur := s.Load()
		next := max(cur, floor) + 1
		if s.CompareAndSwap(cur, next) {
			return next
		}
	}
}

// raiseSeq makes the in-memory sequence of bucket i at least id.
func (db *DB) raiseSeq(i int, id uint64) {
	s := &db.seqs[i]
	for {
		cur := s.Load()
		if cur >= id || s.CompareAndSwap(cur, id) {
			return
		}
	}
}

// boltOps runs Tx methods on a real bbolt transaction.
type boltOps struct {
	tx *bbolt.Tx
	db *DB
}

func (o boltOps) get(b, k []byte) []byte   { return o.tx.Bucket(b).Get(k) }
func (o boltOps) put(b, k, v []byte) error { return o.tx.Bucket(b).Put(k, v) }
func (o boltOps) del(b, k []byte) error    { return o.tx.Bucket(b).Delete(k) }
func (o boltOps) writable() bool           { return o.tx.Writable() }

func (o boltOps) bucket(b []byte) (*bbolt.Bucket, error) { return o.tx.Bucket(b), nil }

// mustBeLast holds by construction in a write transaction: its ids come
// from the shared sequence after every id already committed was handed out.
func (o boltOps) mustBeLast([]byte, []byte) {}

// nextSeq takes ids from the DB's in-memory sequences (shared with the
// optimistic path) and raises the bucket sequence in the same transaction.
func (o boltOps) nextSeq(b []byte) (uint64, error) {
	if !o.tx.Writable() {
		return 0, berrors.ErrTxNotWritable
	}
	bk := o.tx.Bucket(b)
	id := o.db.allocSeq(bucketIdx(b), bk.Sequence())
	return id, bk.SetSequence(id)
}

func (o boltOps) raiseSeq(b []byte, id uint64) error {
	bk := o.tx.Bucket(b)
	if id <= bk.Sequence() {
		return nil
	}
	if err := bk.SetSequence(id); err != nil {
		return err
	}
	o.db.raiseSeq(bucketIdx(b), id)
	return nil
}

func (o boltOps) addCounter(name string, delta int64) error {
	b := o.tx.Bucket(bktCounters)
	k := []byte(name)
	return b.Put(k, intValue(readInt(b.Get(k))+delta))
}

func (o boltOps) counter(name []byte) int64 {
	return readInt(o.tx.Bucket(bktCounters).Get(name))
}

func intValue(n int64) []byte {
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(n))
	return v
}

// overlay runs Tx methods against a read-only snapshot. It records every
// value it read (the exact bytes, or absence), buffers every write (already
// encoded), counter deltas and sequence raises; the writer later checks the
// reads still hold and applies the rest. Reads see the overlay's own writes.
//
// Keys handed to an overlay are owned by it: tx.go builds a fresh slice for
// every key and never modifies one afterwards.
type overlay struct {
	db   *DB
	snap *bbolt.Tx

	reads  []readRec
	writes []writeRec
	// readIdx and writeIdx index reads and writes by bucket index + key once
	// there are more than linearMax of them (a turn has about a dozen of
	// each, which a linear search finds faster than a map).
	readIdx  map[string]int
	writeIdx map[string]int
	deltas   []counterDelta
	lasts    []readRec // keys that must sort last in their prefix (mustBeLast)
	seqs     []uint64  // per bucket: highest id to make the sequence reach

	unsupported bool
	kbuf        []byte
	bks         [64]*bbolt.Bucket // snapshot buckets by index, opened once
}

const linearMax = 24

// counterDelta is an AddCounter buffered by an overlay (a turn bumps a
// handful of counters).
type counterDelta struct {
	name  string
	delta int64
}

type readRec struct {
	bucket  int
	key     []byte
	val     []byte
	present bool
}

type writeRec struct {
	bucket int
	key    []byte
	val    []byte
	del    bool
}

func newOverlay(db *DB, snap *bbolt.Tx) *overlay {
	return &overlay{db: db, snap: snap}
}

func (o *overlay) snapBucket(bi int, name []byte) *bbolt.Bucket {
	if o.bks[bi] == nil {
		o.bks[bi] = o.snap.Bucket(name)
	}
	return o.bks[bi]
}

func (o *overlay) ckey(b int, k []byte) []byte {
	o.kbuf = append(append(o.kbuf[:0], byte(b)), k...)
	return o.kbuf
}

func (o *overlay) findWrite(bi int, k []byte) int {
	if o.writeIdx != nil {
		if i, ok := o.writeIdx[string(o.ckey(bi, k))]; ok {
			return i
		}
		return -1
	}
	for i := range o.writes {
		if w := &o.writes[i]; w.bucket == bi && bytes.Equal(w.key, k) {
			return i
		}
	}
	return -1
}

func (o *overlay) findRead(bi int, k []byte) int {
	if o.readIdx != nil {
		if i, ok := o.readIdx[string(o.ckey(bi, k))]; ok {
			return i
		}
		return -1
	}
	for i := range o.reads {
		if r := &o.reads[i]; r.bucket == bi && bytes.Equal(r.key, k) {
			return i
		}
	}
	return -1
}

func (o *overlay) writable() bool { return true }

func (o *overlay) bucket([]byte) (*bbolt.Bucket, error) {
	o.unsupported = true
	return nil, errNeedsWriter
}

func (o *overlay) get(b, k []byte) []byte {
	bi := bucketIdx(b)
	if i := o.findWrite(bi, k); i >= 0 {
		w := &o.writes[i]
		if w.del {
			return nil
		}
		return w.val
	}
	if i := o.findRead(bi, k); i >= 0 {
		return o.reads[i].val
	}
	v := o.snapBucket(bi, b).Get(k)
	r := readRec{bucket: bi, key: k, present: v != nil}
	if v != nil {
		r.val = bytes.Clone(v) // bbolt memory is valid only in the snapshot
	}
	if o.reads == nil {
		o.reads = make([]readRec, 0, 16)
	}
	o.reads = append(o.reads, r)
	switch n := len(o.reads); {
	case n == linearMax+1:
		o.readIdx = make(map[string]int, 2*n)
		for i := range o.reads {
			o.readIdx[string(o.ckey(o.reads[i].bucket, o.reads[i].key))] = i
		}
	case n > linearMax+1:
		o.readIdx[string(o.ckey(bi, k))] = n - 1
	}
	return r.val
}

func (o *overlay) setWrite(b, k, v []byte, del bool) {
	bi := bucketIdx(b)
	if i := o.findWrite(bi, k); i >= 0 {
		o.writes[i].val, o.writes[i].del = v, del
		return
	}
	if o.writes == nil {
		o.writes = make([]writeRec, 0, 16)
	}
	o.writes = append(o.writes, writeRec{bucket: bi, key: k, val: v, del: del})
	switch n := len(o.writes); {
	case n == linearMax+1:
		o.writeIdx = make(map[string]int, 2*n)
		for i := range o.writes {
			o.writeIdx[string(o.ckey(o.writes[i].bucket, o.writes[i].key))] = i
		}
	case n > linearMax+1:
		o.writeIdx[string(o.ckey(bi, k))] = n - 1
	}
}

// put checks what bbolt's Put would refuse, so fn sees the same error on
// both paths and the writer never fails to apply.
func (o *overlay) put(b, k, v []byte) error {
	switch {
	case len(k) == 0:
		return berrors.ErrKeyRequired
	case len(k) > bbolt.MaxKeySize:
		return berrors.ErrKeyTooLarge
	case int64(len(v)) > bbolt.MaxValueSize:
		return berrors.ErrValueTooLarge
	}
	if v == nil {
		v = []byte{} // stored as present and empty, like bbolt
	}
	o.setWrite(b, k, v, false)
	return nil
}

func (o *overlay) del(b, k []byte) error {
	if len(k) == 0 {
		return nil
	}
	o.setWrite(b, k, nil, true)
	return nil
}

func (o *overlay) mustBeLast(b, key []byte) {
	o.lasts = append(o.lasts, readRec{bucket: bucketIdx(b), key: key})
}

// nextSeq needs no floor from the snapshot: the in-memory sequences were
// set from the file at Open and every id since came from them, so they are
// never below what a snapshot's bucket holds. Not opening the bucket saves
// a turn a bucket seek for each log it appends to (events).
func (o *overlay) nextSeq(b []byte) (uint64, error) {
	bi := bucketIdx(b)
	id := o.db.allocSeq(bi, 0)
	o.noteSeq(bi, id)
	return id, nil
}

func (o *overlay) raiseSeq(b []byte, id uint64) error {
	bi := bucketIdx(b)
	o.db.raiseSeq(bi, id)
	o.noteSeq(bi, id)
	return nil
}

func (o *overlay) noteSeq(bi int, id uint64) {
	if o.seqs == nil {
		o.seqs = make([]uint64, len(allBuckets))
	}
	o.seqs[bi] = max(o.seqs[bi], id)
}

func (o *overlay) addCounter(name string, delta int64) error {
	if len(name) == 0 {
		return berrors.ErrKeyRequired
	} else if len(name) > bbolt.MaxKeySize {
		return berrors.ErrKeyTooLarge
	}
	for i := range o.deltas {
		if o.deltas[i].name == name {
			o.deltas[i].delta += delta
			return nil
		}
	}
	if o.deltas == nil {
		o.deltas = make([]counterDelta, 0, 8) // a turn bumps a handful
	}
	o.deltas = append(o.deltas, counterDelta{name, delta})
	return nil
}

func (o *overlay) counter(name []byte) int64 {
	n := readInt(o.get(bktCounters, name))
	for _, d := range o.deltas {
		if d.name == string(name) {
			n += d.delta
		}
	}
	return n
}

// readOnly reports whether committing would change nothing.
func (o *overlay) readOnly() bool {
	return len(o.writes) == 0 && len(o.deltas) == 0 && o.seqs == nil
}

// release drops the snapshot: values kept are copies.
func (o *overlay) release() {
	o.snap, o.bks = nil, [64]*bbolt.Bucket{}
	// Sorted (in the caller's goroutine), the writer's seeks walk each
	// bucket in key order. Order does not matter otherwise: a key has one
	// write record, and every read must hold.
	slices.SortFunc(o.reads, func(a, b readRec) int {
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), bytes.Compare(a.key, b.key))
	})
	slices.SortFunc(o.writes, func(a, b writeRec) int {
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), bytes.Compare(a.key, b.key))
	})
	o.readIdx, o.writeIdx = nil, nil
}

// apply validates the overlay's reads against btx and, when they all still
// hold, applies its writes; it reports false (and writes nothing) on a
// conflict. Counter deltas are added to pending, which the writer folds into
// the counters once per batch (a read of a counter folds it first).
func (o *overlay) apply(btx *bbolt.Tx, buckets []*bbolt.Bucket, cursors []*bbolt.Cursor, pending map[string]int64) (bool, error) {
	for i := range o.reads {
		r := &o.reads[i]
		b := buckets[r.bucket]
		if r.bucket == counterBucketIdx {
			if d, ok := pending[string(r.key)]; ok {
				if err := b.Put(r.key, intValue(readInt(b.Get(r.key))+d)); err != nil {
					return false, err
				}
				delete(pending, string(r.key))
			}
		}
		// A cursor kept per bucket for the whole group: Get would build
		// (and allocate) a new one for every read.
		c := cursors[r.bucket]
		if c == nil {
			c = b.Cursor()
			cursors[r.bucket] = c
		}
		k, v := c.Seek(r.key)
		if !bytes.Equal(k, r.key) {
			k, v = nil, nil
		}
		if (k != nil) != r.present || !bytes.Equal(v, r.val) {
			return false, nil
		}
	}
	for i := range o.lasts {
		// Nothing of the overlay is applied yet: a key found at or after
		// this one under the same prefix was committed by someone else.
		r := &o.lasts[i]
		c := cursors[r.bucket]
		if c == nil {
			c = buckets[r.bucket].Cursor()
			cursors[r.bucket] = c
		}
		if k, _ := c.Seek(r.key); k != nil && len(r.key) >= 8 && bytes.HasPrefix(k, r.key[:8]) {
			return false, nil
		}
	}
	for i := range o.writes {
		w := &o.writes[i]
		b := buckets[w.bucket]
		if w.del {
			if err := b.Delete(w.key); err != nil {
				return false, err
			}
		} else if err := b.Put(w.key, w.val); err != nil {
			return false, err
		}
	}
	for bi, id := range o.seqs {
		if id > 0 && id > buckets[bi].Sequence() {
			if err := buckets[bi].SetSequence(id); err != nil {
				return false, err
			}
		}
	}
	for _, d := range o.deltas {
		pending[d.name] += d.delta
	}
	return true, nil
}

var counterBucketIdx = bucketIdx(bktCounters)

func init() {
	if len(allBuckets) > len(overlay{}.bks) {
		panic("boltstore: overlay.bks is too small for allBuckets")
	}
}
