// Package pgstore implements crm.Store on PostgreSQL (pgx), for a shop
// that runs several idicbot processes on one database its operators
// already run, back up and replicate (docs/postgres.md).
//
// # Transactions
//
// Update runs fn in a READ COMMITTED transaction in which every read of a
// record fn may save takes its row lock (SELECT … FOR UPDATE): two turns of
// one customer, in one process or two, queue on the customer's row instead
// of losing an update. Finding a customer by identity in an Update also
// takes a transaction-scoped advisory lock on the identity, so two
// replicas handling the first two messages of a new user create one
// customer, not two. A customer's interactions get their ids under an
// advisory lock per customer, so they commit in id order and a reader
// tailing "after id N" (the web chat) misses none. The dedupe marker is a
// primary key written in the same transaction as the interaction: a
// message delivered to two replicas at once commits once, the other's
// insert fails with a unique violation and its fn runs again, and finds the
// marker. Update retries serialization failures, deadlocks and unique
// violations with a short jittered backoff, so fn may run more than once
// (crm.Store's contract). View runs in a REPEATABLE READ, READ ONLY
// transaction: one snapshot, never half of another transaction.
// UpdateTurn (crm.TurnUpdater) runs a message's turn as Update does, in a
// transaction it may share with the other turns waiting, under the same
// locks (group.go).
//
// # Records
//
// A record is in a bytea column (jsonb refuses a \u0000 a customer may
// type), with the columns the indexes and scans need beside it; those
// columns (ids, customer, times in Unix nanoseconds, status, priority,
// lease) are the truth, the record the rest. Ids come from sequences. Times
// the store orders or compares (event times, outbox due times and leases)
// are Unix nanoseconds, so they round-trip exactly as bbolt's do.
//
// Customers, interactions and outbox items (what to send; the delivery
// state is in columns), read and written by every message, are in the
// binary form bbolt uses (package reccodec): encoding/json was about a
// quarter of the process's CPU. Other records are JSON. Rows of those
// three kinds written by older binaries are JSON (they start with '{', no
// format byte does) and still read; they take the binary form when saved
// again. An older binary would fail on a binary row with a json.Unmarshal
// error ("invalid character"), so schema step 7 changes nothing but makes
// it refuse the database at start.
//
// # Schema
//
// Open migrates the schema under an advisory lock, one migration per
// transaction, in order (schema.go); a database migrated by a newer
// idicbot is refused (ErrNewerSchema). Tables live in the connection's
// search_path (the database user's default schema unless the URL says
// otherwise), so tests run each store in a schema of its own.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idicbot/idicbot/crm"
)

// ErrNewerSchema is returned by Open when the database was migrated by a
// newer idicbot than this binary.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// defaultMaxConns is the pool's size unless the URL or Options say.
const defaultMaxConns = 16

// Options configure a DB.
type Options struct {
	// Now is the clock used to fill in missing times (time.Now if nil).
	Now func() time.Time
	// MaxConns caps the pool (default: the URL's pool_max_conns, else 16:
	// a turn holds a connection for its whole transaction).
	MaxConns int32
	// MaxAttempts bounds how many times Update runs fn when the database
	// asks for a retry (default 50).
	MaxAttempts int
	// GroupMax is how many concurrent turns (UpdateTurn) may commit in
	// one transaction (default DefaultGroupMax, at most 256; 1: each on its own).
	GroupMax int
	// GroupRunners is how many groups may run at once (default 3), each
	// on a connection of the pool.
	GroupRunners int
	// Tracer, when set, observes every statement and batch of every
	// connection (tests count a turn's round trips with it).
	Tracer pgx.QueryTracer
}

// DB is a crm.Store on a PostgreSQL database.
type DB struct {
	pool        *pgxpool.Pool
	events      *idBlock
	now         func() time.Time
	maxAttempts int
	groups      *groups
}

var _ crm.Store = (*DB)(nil)

// Open connects to the database at url (postgres://…), migrates its schema
// and returns the store. Close releases it.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx quotes the URL in its error, and the URL may hold a
		// password: say only that it does not parse.
		return nil, crm.Errorf(crm.EINVALID, "The database URL does not parse (postgres://user:password@host:5432/db?sslmode=…).")
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	db := &DB{pool: pool, now: opts.Now, maxAttempts: opts.MaxAttempts, events: &idBlock{seq: "events_seq", size: 1000},
		groups: newGroups(opts.GroupMax, opts.GroupRunners)}
	if db.now == nil {
		db.now = time.Now
	}
	if db.maxAttempts <= 0 {
		db.maxAttempts = 50
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes every connection of the pool.
func (db *DB) Close() error {
	db.groups.close()
	db.pool.Close()
	return nil
}

// Pool returns the connection pool, for the parts of a deployment that
// share the database (bot/pgreplicas).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Update implements crm.Store. fn runs in a READ COMMITTED transaction
// whose reads of records lock their rows; when the database reports a
// serialization failure, a deadlock or a unique violation (two processes
// creating the same record), the transaction is rolled back and fn runs
// again after a short jittered wait, up to Options.MaxAttempts times.
func (db *DB) Update(ctx context.Context, fn func(crm.Tx) error) error {
	wait := time.Millisecond
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := db.run(ctx, true, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= db.maxAttempts {
			return fmt.Errorf("%w: %w", crm.Errorf(crm.ECONFLICT, "The change conflicted with others %d times; try again.", attempt), err)
		}
		d := wait/2 + rand.N(wait)
		wait = min(2*wait, 100*time.Millisecond)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// View implements crm.Store: one snapshot, read only.
func (db *DB) View(ctx context.Context, fn func(crm.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.run(ctx, false, fn)
}

// txRetry marks an error of a transaction that saw a retryable database
// error, which fn may have swallowed (PostgreSQL then fails every later
// statement of the transaction, and the commit).
type txRetry struct{ err error }

func (e *txRetry) Error() string { return e.err.Error() }
func (e *txRetry) Unwrap() error { return e.err }

func (db *DB) run(ctx context.Context, writable bool, fn func(crm.Tx) error) (err error) {
	begin := "begin isolation level read committed"
	if !writable {
		begin = "begin isolation level repeatable read read only"
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Release()
	// The BEGIN goes with the transaction's first statement (txConn).
	q := newTxConn(conn, begin)
	t := &Tx{db: db, ctx: ctx, q: q, writable: writable, now: db.now, shard: rand.N(counterShards)}
	defer func() {
		if err != nil {
			_ = q.rollback(context.WithoutCancel(ctx))
			if t.retry != nil && !retryable(err) {
				err = &txRetry{fmt.Errorf("%w (after %w)", err, t.retry)}
			}
		}
	}()
	if err = fn(t); err != nil {
		return err
	}
	if !writable {
		return q.rollback(ctx)
	}
	t.flush()
	if err = q.commit(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return t.note("commit", err)
	}
	return nil
}

// errRetry is what a Tx method returns when another transaction committed
// what this one was about to write (a message marked elsewhere): fn must
// run again and will see it.
var errRetry = errors.New("changed by another transaction; run again")

// retryable reports whether err asks for the transaction to run again.
func retryable(err error) bool {
	var tr *txRetry
	if errors.Is(err, errRetry) || errors.As(err, &tr) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"23505": // unique_violation: another process created the record first
		return true
	}
	return false
}
