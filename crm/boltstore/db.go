// Package boltstore implements crm.Store on one bbolt file.
//
// Records are JSON behind a one-byte format version, so an old binary refuses
// (loudly) to read what a newer one wrote. The values every message writes
// are binary, each behind a format byte of its own: customer records,
// interactions and outbox items (codec_binary.go) and delivery states
// (stateFormat); all still read from the JSON of older binaries. Ids are
// 8-byte big-endian bucket sequences, so keys sort by id and a customer's
// history is a prefix scan.
// Every secondary index and counter is written in the same transaction as
// the record it describes.
//
// # Writes: optimistic, group-committed
//
// bbolt has one writer, so whatever runs inside the write transaction runs
// serially. Update therefore runs fn outside it, in the caller's goroutine,
// against a read-only snapshot (a bbolt View) wrapped in an overlay (ops.go):
// every Tx method works on a small kv interface that is either a real bbolt
// transaction (boltOps) or the overlay, so the same code serves both paths.
// The overlay records each value read (its exact bytes, or that it was
// absent), buffers each write already encoded, keeps counter deltas apart
// (AddCounter adds no read) and answers reads from its own writes first.
// When fn returns nil, the single writer goroutine (writer.go) takes every
// overlay queued, in one bbolt transaction: for each in turn it checks that
// every value read is still byte for byte what fn saw, then applies its
// writes; the counter deltas of the whole group are folded in at the end
// (a read of a counter folds its pending delta first). An overlay whose reads
// no longer hold is not applied: Update runs fn again on a fresh snapshot,
// and after optimisticAttempts tries, inside bbolt's Batch (the classic
// path, serialized like before). fn also goes to the classic path at once
// when it uses what a snapshot cannot serve: scans (ForEachCustomer,
// FindCustomersByName, Interactions, MoveInteractions/DeleteCustomer with a
// merge, Orders, Offers, PendingOutbox, SegmentChanges, Counters, OutboxDepth…)
// make the overlay fail with errNeedsWriter and mark it unusable, whatever fn
// does with the error. An error from fn on a snapshot commits nothing; an fn
// that wrote nothing returns without queuing. The writer commits as soon as
// the previous commit is done, so groups grow with the load; only while
// other callers are still running fn on their snapshot does it give them up
// to GatherDelay (1 ms) to join the group (a lone caller never waits).
//
// The result is serializable: each applied overlay saw exactly the state it
// is applied on, for everything it read; point reads only, so no phantoms.
// Two turns of one customer both read the customer record, so one of them
// runs again; a replayed message finds its SeenMessage entry on the re-run.
//
// Ids (NextSequence) are handed out in memory from per-bucket atomic counters
// set from the bucket sequences at Open (the file is locked by this process)
// and shared by both paths; every commit raises the bucket sequence to the
// highest id it stores, so ids are never reissued, across reopen too. An id
// is taken when fn runs, so ids of unrelated records may commit out of
// order, and ids taken by a run that did not commit are skipped. A
// customer's history is read "after id N", so a new interaction must also
// commit after every interaction of that customer (mustBeLast), or fn runs
// again with a new id.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/idicbot/idicbot/crm"
)

// ErrLocked is returned by Open when another process holds the file lock.
var ErrLocked = errors.New("database file is locked")

// ErrNewerSchema is returned by Open when the file was migrated by a newer
// idicbot than this binary.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// ErrNewerFormat is returned when a stored value was encoded by a newer
// idicbot than this binary.
var ErrNewerFormat = errors.New("value format is newer than this binary")

// defaultLockTimeout bounds how long Open waits for the file lock, so a
// second instance fails fast instead of hanging.
const defaultLockTimeout = time.Second

// Options tune Open.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: a crash loses data.
	NoSync bool
	// Now is the clock used to fill in missing event times (time.Now if nil).
	Now func() time.Time
	// LockTimeout bounds the wait for the file lock (default 1s).
	LockTimeout time.Duration

	// MaxBatchSize caps how many Update calls one commit takes: the
	// optimistic writer's group commits and bbolt's Batch (classic path).
	// 0 keeps the defaults (defaultMaxBatchSize; bbolt's for Batch).
	MaxBatchSize int
	// GatherDelay is how long, at most, the optimistic writer waits for
	// callers still computing to join a group ready to commit; 0 keeps
	// defaultGatherDelay, a negative value commits at once.
	GatherDelay time.Duration
	// FillDelay is how long, at most, the writer lets a small group wait
	// for more transactions while the store is busy (the previous group
	// held more than one): commits then serve more messages each, which
	// saves CPU and pages when callers arrive spread out (a channel
	// adapter's HTTP work between them). 0 keeps defaultFillDelay, a
	// negative value disables it. A store that is not busy never waits.
	FillDelay time.Duration
	// FillTarget is the group size that ends the FillDelay wait (default
	// defaultFillTarget).
	FillTarget int
	// MaxBatchDelay is how long bbolt's Batch (the classic path only) waits
	// to collect calls; 0 keeps bbolt's default (10ms). The optimistic
	// writer never waits: it commits whatever is queued as soon as the
	// previous commit is done.
	MaxBatchDelay time.Duration
	// InitialMmapSize is passed to bbolt: a read transaction (an optimistic
	// Update runs fn in one) blocks the writer when the file outgrows the
	// mapping, so a large mapping avoids those stalls. 0 means
	// DefaultMmapSize; negative means bbolt's own default.
	InitialMmapSize int
	// Pessimistic disables the optimistic path: every Update runs fn inside
	// bbolt's Batch, serialized with the other writers.
	Pessimistic bool
	// Logger, when set, hears about the slow steps of Open (openlog.go).
	Logger *slog.Logger
}

// DefaultMmapSize is the initial memory mapping: address space, not memory,
// so a store that grows to this size never remaps (a remap waits for every
// read transaction and stalls the writer meanwhile).
const DefaultMmapSize = 1 << 30

func mmapSize(n int) int {
	switch {
	case n == 0:
		return DefaultMmapSize
	case n < 0:
		return 0
	}
	return n
}

// defaultGatherDelay is how long, at most, the writer lets callers still
// computing join a group that is ready (see writer.running).
const defaultGatherDelay = time.Millisecond

// defaultFillDelay and defaultFillTarget: a busy store's group waits at most
// 2 ms to reach 48 transactions. Measured through the Telegram adapter (the
// bench, 60,000 updates, two alternated pairs): groups of ~6 → ~21, 5.6 → 4.1
// pages a message, polling 3,613 / 4,159 → 5,192 / 5,248 updates/s; the
// core-only run (groups of ~110) is not affected.
const (
	defaultFillDelay  = 2 * time.Millisecond
	defaultFillTarget = 48
)

// defaultMaxBatchSize caps a group commit of the optimistic writer.
const defaultMaxBatchSize = 1000

// DB is the bbolt-backed store. It is safe for concurrent use.
type DB struct {
	// bolt is the open file; Compact replaces it (compact.go). Writers
	// read it holding writeGate, which Compact holds for the copy and the
	// swap; readers through reader, which counts them in users so that the
	// file replaced is closed after its last reader.
	bolt      *bbolt.DB
	boltOpts  *bbolt.Options
	writeGate sync.RWMutex
	compactMu sync.Mutex // one Compact at a time
	handleMu  sync.RWMutex
	users     *sync.WaitGroup
	path      string
	now       func() time.Time

	pessimistic bool
	// seqs are the bucket sequences (index as allBuckets), handed out in
	// memory: the file is locked by this process, so they start from the
	// bucket sequences at Open and every commit raises the bucket sequence
	// to the highest id it stores.
	seqs []atomic.Uint64
	w    *writer
}

var _ crm.Store = (*DB)(nil)

// Open opens (creating if needed) the store file at path, takes its lock and
// runs pending schema migrations.
func Open(path string, opts Options) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	bopts := &bbolt.Options{
		Timeout:      timeout,
		FreelistType: bbolt.FreelistMapType,
		// The free page list is not written at every commit: otherwise
		// the single writer sorts and writes every free page id (pages of
		// its own) in each commit. On the bench's full run it was worth
		// ~+13% (three alternating pairs, ranges overlapping). Commits are
		// as durable. Close writes the list once, so the next Open reads
		// it; after a crash Open rebuilds it by reading every page of the
		// file (42 s for a 2 GB file on a cold cache, 11 s warm).
		NoFreelistSync:  true,
		NoSync:          opts.NoSync,
		InitialMmapSize: mmapSize(opts.InitialMmapSize),
	}
	endRebuild := func(error) {}
	if missing, size := freelistMissing(path); missing {
		endRebuild = step(opts.Logger, "rebuilding the free page list: the last run did not stop cleanly, so every page is read (about 20 s a GB)",
			"still rebuilding the free page list", "free page list rebuilt", "file", path, "mb", size>>20)
	}
	bdb, err := bbolt.Open(path, 0o600, bopts)
	endRebuild(err)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("another idicbot instance holds %s: %w", path, ErrLocked)
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if opts.MaxBatchSize > 0 {
		bdb.MaxBatchSize = opts.MaxBatchSize
	}
	if opts.MaxBatchDelay > 0 {
		bdb.MaxBatchDelay = opts.MaxBatchDelay
	}
	// A compaction cut short by a crash leaves its new file behind; the
	// lock on path is ours now, so no compaction is running.
	_ = os.Remove(path + compactSuffix)
	db := &DB{bolt: bdb, boltOpts: bopts, users: new(sync.WaitGroup), path: path, now: opts.Now, pessimistic: opts.Pessimistic}
	if db.now == nil {
		db.now = time.Now
	}
	endMigrate := func(error) {}
	if from := schemaVersionOf(bdb); from > 0 && from < uint64(SchemaVersion()) {
		endMigrate = step(opts.Logger, "migrating the data file", "still migrating the data file", "data file migrated",
			"file", path, "from_version", from, "to_version", SchemaVersion())
	}
	err = bdb.Update(migrate)
	endMigrate(err)
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.seqs = make([]atomic.Uint64, len(allBuckets))
	if err := bdb.View(func(tx *bbolt.Tx) error {
		for i, name := range allBuckets {
			db.seqs[i].Store(tx.Bucket(name).Sequence())
		}
		return nil
	}); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	maxBatch := opts.MaxBatchSize
	if maxBatch <= 0 {
		maxBatch = defaultMaxBatchSize
	}
	gather := opts.GatherDelay
	if gather == 0 {
		gather = defaultGatherDelay
	}
	fill, fillTarget := opts.FillDelay, opts.FillTarget
	if fill == 0 {
		fill = defaultFillDelay
	}
	if fillTarget <= 0 {
		fillTarget = defaultFillTarget
	}
	db.w = newWriter(bdb, maxBatch, gather)
	db.w.fill, db.w.fillTarget = fill, min(fillTarget, maxBatch)
	// An erase whose compaction did not finish (a crash, a full disk) is
	// compacted now. Failing that, the store still opens: the erase itself
	// is committed, and the next erase or Open tries again (CompactPending).
	_ = db.finishErase()
	return db, nil
}

// Close waits for the commits under way, writes the free page list, then
// releases the file and its lock. Updates after Close fail.
//
// Commits leave the free page list unwritten (NoFreelistSync, see Open), and
// an Open that finds none rebuilds it by reading every page of the file. One
// last commit that writes it lets the next Open read it instead; the first
// commit after that marks it unwritten again, so a crash still means a scan.
func (db *DB) Close() error {
	db.writeGate.Lock()
	defer db.writeGate.Unlock()
	db.w.close()
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		// Set inside the write transaction: no other commit reads it now.
		tx.DB().NoFreelistSync = false
		return nil
	})
	if err != nil {
		err = fmt.Errorf("close %s: write the free page list: %w", db.path, err)
	}
	return errors.Join(err, db.bolt.Close())
}

// Path returns the file path the store was opened with.
func (db *DB) Path() string { return db.path }

// Bolt exposes the underlying bbolt handle (benchmarks, stats, tools). Do
// not take ids (NextSequence) from the store's buckets through it: the store
// hands ids out from memory while it is open. Compact replaces the handle:
// one kept across a Compact is closed.
func (db *DB) Bolt() *bbolt.DB {
	db.handleMu.RLock()
	defer db.handleMu.RUnlock()
	return db.bolt
}

// GroupCommits returns how many group commits the single writer made and how
// many callers' transactions they applied since the store was opened.
func (db *DB) GroupCommits() (commits, applied int64) {
	return db.w.commits.Load(), db.w.applied.Load()
}

// Update runs fn in a write transaction that is group-committed with
// concurrent callers. fn may run more than once, so it must build the
// records it writes inside fn. An error from fn commits nothing.
//
// fn first runs optimistically on a snapshot, in the caller's goroutine
// (see the package documentation); when its reads no longer hold at commit,
// or it uses an operation a snapshot cannot serve (scans), it runs again
// inside the single writer.
func (db *DB) Update(ctx context.Context, fn func(crm.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.lockWrite()()
	if !db.pessimistic {
	attempts:
		for range optimisticAttempts {
			switch out, err := db.updateOptimistic(fn); out {
			case done:
				return err
			case needsWriter:
				break attempts
			}
		}
	}
	return db.updateClassic(fn)
}

// optimisticAttempts is how many times Update runs fn on a snapshot before
// it runs fn in the writer: a conflict usually means a busy customer, where
// a second snapshot tends to win, a third rarely.
const optimisticAttempts = 2

// updateClassic runs fn inside bbolt's Batch, in the single writer.
func (db *DB) updateClassic(fn func(crm.Tx) error) error {
	return db.bolt.Batch(func(btx *bbolt.Tx) error {
		return fn(db.newTx(btx))
	})
}

// outcome of an optimistic attempt.
type outcome int

const (
	done        outcome = iota // committed, or fn failed: return err
	conflicted                 // a value read changed: try again
	needsWriter                // fn used what a snapshot cannot serve
)

// updateOptimistic runs fn on a snapshot and has the writer validate and
// apply what it did. err is meaningful only when the outcome is done.
func (db *DB) updateOptimistic(fn func(crm.Tx) error) (out outcome, err error) {
	db.w.begin()
	queued := false
	defer func() {
		if !queued {
			db.w.abandon()
		}
	}()
	var ov *overlay
	err = db.bolt.View(func(btx *bbolt.Tx) error {
		ov = newOverlay(db, btx)
		return fn(&Tx{ops: ov, now: db.now})
	})
	if ov == nil { // View failed before fn ran (database closed)
		return done, err
	}
	ov.release()
	if ov.unsupported {
		return needsWriter, nil
	}
	if err != nil {
		// fn's answer on a consistent snapshot taken during the call: like
		// a transaction that rolled back, it commits nothing.
		return done, err
	}
	if ov.readOnly() {
		return done, nil
	}
	queued = true
	switch err := db.w.commit(ov); err {
	case nil:
		return done, nil
	case errConflict, errRetry:
		return conflicted, nil
	default:
		return done, err
	}
}

// UpdateSolo runs fn in its own write transaction (bbolt Update), without
// the batching delay: for bulk imports and migrations from one goroutine.
func (db *DB) UpdateSolo(ctx context.Context, fn func(crm.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.lockWrite()()
	return db.bolt.Update(func(btx *bbolt.Tx) error {
		return fn(db.newTx(btx))
	})
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(crm.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.view(func(btx *bbolt.Tx) error {
		return fn(db.newTx(btx))
	})
}

func (db *DB) newTx(btx *bbolt.Tx) *Tx {
	if btx.Writable() {
		// FillPercent is not stored: set it on the buckets this
		// transaction will use (bbolt keeps them for its lifetime).
		for _, name := range appendBuckets {
			btx.Bucket(name).FillPercent = appendFill
		}
	}
	return &Tx{ops: boltOps{tx: btx, db: db}, now: db.now}
}

// Backup writes a consistent copy of the whole file to w while the store
// stays in use, and returns the number of bytes written.
func (db *DB) Backup(w io.Writer) (n int64, err error) {
	err = db.view(func(tx *bbolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a hot backup to path atomically: a temporary file in the
// same directory, fsynced, then renamed, so path is never half written.
func (db *DB) BackupFile(path string) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = db.Backup(f); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable; not every platform supports it
		_ = d.Close()
	}
	return nil
}

// Bucket names. Layout (keys → values; "id" is 8-byte big-endian):
//
//	meta            "schema_version" → uint64; the store's own records (erasures)
//	customers       id → Customer; id + interaction id → empty (history)
//	redirects       merged id → id it was merged into
//	idx_identity    "channel:user" → customer id
//	idx_phone       E.164 → customer id
//	idx_email       lower-cased email → customer id
//	idx_external    external id → customer id
//	idx_name        folded word 0x00 id → folded full name (filter without decoding)
//	idx_segment     segment 0x00 ^total spent id → empty (most valuable first)
//	idx_username    channel 0x00 lower-cased username 0x00 id → empty
//	interaction_log interaction id → Interaction (ids global, increasing: appends)
//	seen            channel 0x00 message id → interaction id
//	orders          customer id + order id → Order
//	idx_order_ref   ref → customer id + order id
//	offers          offer id → current Offer
//	offer_versions  offer id 0x00 uint64(version) → Offer
//	events          time (unix ns, sign-flipped) + seq → Event (events.go)
//	idx_event_customer customer id + time + seq → empty (events.go)
//	settings        typed settings (events.go); handoff_threads, channel_tokens
//	outbox          id → OutboxItem
//	outbox_claim    priority (1 byte) + due (8) + id → lease: empty, or until (8) + owner;
//	                the pending set: an entry iff the item's status is pending
//	counters        name → int64
//
// Interactions are logged by id alone, so each message appends to the last
// pages of interaction_log instead of dirtying (and splitting) a random leaf
// of a bucket of large values. The history of a customer is a prefix scan of
// dense 16-byte keys (customer id + interaction id, empty values) stored in
// the customers bucket right after the customer's record (8-byte key): a
// turn saves the customer anyway, so its new history keys land in the leaf
// it already dirties, and a message writes one random leaf instead of two
// (an index bucket of its own is a second random leaf per message: the
// 200,000-message bench ran about 20% slower with one). Scans of the
// customers skip the history keys by their length. Schema version 1 kept the records
// under customer id + interaction id in "interactions"; migration 2 moves
// them.
var (
	bktMeta        = []byte("meta")
	bktCustomers   = []byte("customers")
	bktRedirects   = []byte("redirects")
	bktIdxIdentity = []byte("idx_identity")
	bktIdxPhone    = []byte("idx_phone")
	bktIdxEmail    = []byte("idx_email")
	bktIdxExternal = []byte("idx_external")
	bktIdxName     = []byte("idx_name")
	bktIdxSegment  = []byte("idx_segment")
	bktIdxUsername = []byte("idx_username")
	// bktIdxClaim finds the customers who typed a phone or email (claim
	// value 0x00 id), for reps' searches only: the conversation core never
	// finds a customer by a claim.
	bktIdxClaim       = []byte("idx_claim")
	bktInteractions   = []byte("interaction_log")
	bktSeen           = []byte("seen")
	bktOrders         = []byte("orders")
	bktIdxOrderRef    = []byte("idx_order_ref")
	bktOffers         = []byte("offers")
	bktOfferVersions  = []byte("offer_versions")
	bktOfferEvents    = []byte("offer_events")
	bktSegmentChanges = []byte("segment_changes")
	bktOutbox         = []byte("outbox")
	bktOutboxPending  = []byte("outbox_pending") // the pending set up to schema 7
	bktOutboxState    = []byte("outbox_state")
	bktCounters       = []byte("counters")

	// bktOutboxClaim holds the pending outbox items in the order senders
	// claim them (priority, due time, id), each with its lease, so a claim
	// reads the next items and the leases in flight, not every item.
	bktOutboxClaim = []byte("outbox_claim")

	bktEvents           = []byte("events")
	bktIdxEventCustomer = []byte("idx_event_customer")
	bktSettings         = []byte("settings")
	bktHandoffThreads   = []byte("handoff_threads")
	bktChannelTokens    = []byte("channel_tokens")

	// bktRollups and bktLateEvents are the reports' day rollups and the
	// hours that got late events (rollup.go).
	bktRollups    = []byte("rollups")
	bktLateEvents = []byte("late_events")

	// bktInteractionsV1 held interactions under customer id + interaction
	// id up to schema version 1.
	bktInteractionsV1 = []byte("interactions")
)

// allBuckets are the buckets of the current schema.
var allBuckets = [][]byte{
	bktMeta, bktCustomers, bktRedirects, bktIdxIdentity, bktIdxPhone,
	bktIdxEmail, bktIdxExternal, bktIdxName, bktIdxSegment, bktIdxUsername,
	bktInteractions, bktSeen, bktOrders,
	bktIdxOrderRef, bktOffers, bktOfferVersions,
	bktOutbox, bktOutboxState, bktCounters, bktIdxClaim,
	bktOutboxClaim, bktEvents, bktIdxEventCustomer, bktSettings,
	bktHandoffThreads, bktChannelTokens,
	bktCampaigns, bktCampaignSends, bktCampaignOutbox, bktPromotions,
	bktRollups, bktLateEvents,
}

// v1Buckets are the buckets schema version 1 created: frozen, as migration
// 1 must do today what it did when it was released.
var v1Buckets = [][]byte{
	bktMeta, bktCustomers, bktRedirects, bktIdxIdentity, bktIdxPhone,
	bktIdxEmail, bktIdxExternal, bktIdxName, bktIdxSegment, bktInteractionsV1,
	bktSeen, bktOrders, bktIdxOrderRef, bktOffers, bktOfferVersions,
	bktOfferEvents, bktSegmentChanges, bktOutbox, bktOutboxPending, bktCounters,
}

// metaSchemaVersion is the meta key holding the schema version.
const metaSchemaVersion = "schema_version"

// migrations[i] moves a file from schema version i to i+1. Append only:
// never edit or reorder a released migration.
var migrations = []func(*bbolt.Tx) error{
	// 1: create every bucket.
	func(tx *bbolt.Tx) error {
		for _, name := range v1Buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// 2: interactions keyed by id, history keys in customers; usernames.
	migrateInteractionLog,
	// 3: an outbox item's delivery state beside it, so that recording a
	// send does not rewrite (and split the pages of) the item itself.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bktOutboxState)
		return err
	},
	// 4: the segment index ordered by value (segmentKey), so that a page
	// of /crm segment reads one page of keys, not every customer.
	migrateSegmentIndex,
	// 5: customer records, interactions, outbox items and delivery states
	// are written in compact binary forms (codec_binary.go, stateFormat).
	// Nothing is rewritten: values in JSON still read, and each takes the
	// binary form when it is next saved. The version is raised so that an
	// older binary refuses the whole file at open ("upgrade idicbot")
	// instead of failing on the first binary value it meets.
	func(*bbolt.Tx) error { return nil },
	// 6: customer records carry typed (unverified) contact claims and a
	// pending one-time code (customerFormat 0x86; 0x83 still reads), and
	// idx_claim finds the customers who typed a value. No record holds a
	// claim yet, so the index starts empty; the version makes older
	// binaries refuse the file instead of failing on the first new record.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bktIdxClaim)
		return err
	},
	// 7: the outbox is a scheduler. Items carry a priority, a due time and
	// a lease (outboxFormat 0x87; 0x85 still reads); outbox_claim orders
	// the pending ones for claims and holds their leases, and an
	// outbox_pending entry names its claim key unless it is a reply due at
	// once. Items queued before are such replies, not leased.
	migrateOutboxClaim,
	// 8: the store speaks the domain. Offer events and segment changes
	// become the typed event log (events, idx_event_customer; orders and
	// messages are logged there from now on), and the meta catch-all's
	// settings move to typed homes: settings, handoff_threads and
	// channel_tokens (migrate8.go).
	migrateTypedLog,
	// 9: campaigns and journeys (campaign.go): the campaigns, what each
	// did for each customer, the campaign of each outbox item it queued,
	// and the promotions each customer received (the cap).
	migrateCampaigns,
	// 10: the reports' day rollups and the hours that got late events
	// (rollup.go); both start empty: rollups are built when read.
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bktRollups, bktLateEvents} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	},
	// 11: a transaction's message events share one events record
	// (batchFormat, events.go). Nothing is rewritten; the version makes an
	// older binary refuse the file instead of failing on the first batch.
	func(*bbolt.Tx) error { return nil },
}

func migrateOutboxClaim(tx *bbolt.Tx) error {
	claim, err := tx.CreateBucketIfNotExists(bktOutboxClaim)
	if err != nil {
		return err
	}
	return tx.Bucket(bktOutboxPending).ForEach(func(k, _ []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("outbox_pending: bad key %x", k)
		}
		return claim.Put(claimKey(0, time.Time{}, readID(k)), []byte{})
	})
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the file to the current schema inside one transaction.
func migrate(tx *bbolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bktMeta)
	if err != nil {
		return err
	}
	var cur uint64
	if v := meta.Get([]byte(metaSchemaVersion)); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("corrupt schema version %x", v)
		}
		cur = binary.BigEndian.Uint64(v)
	}
	if cur > uint64(len(migrations)) {
		return fmt.Errorf("file has schema version %d, this binary knows up to %d; upgrade idicbot: %w",
			cur, len(migrations), ErrNewerSchema)
	}
	for v := cur; v < uint64(len(migrations)); v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("migrate schema %d→%d: %w", v, v+1, err)
		}
	}
	if err := meta.Put([]byte(metaSchemaVersion), u64(uint64(len(migrations)))); err != nil {
		return err
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s missing after migration", name)
		}
	}
	return nil
}
