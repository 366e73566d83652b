package pgreplicas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultLeaseTTL is how long a lease lasts without renewal: a holder
// that dies is replaced at most this long (plus one poll) later.
const DefaultLeaseTTL = 10 * time.Second

// ErrClosed is returned by Run on a closed Leader.
var ErrClosed = errors.New("pgreplicas: leader closed")

// Leader hands out named leases among the processes on one database, as
// rows of the leases table (crm/pgstore's schema): a holder renews its row
// every TTL/3; another process takes the row once its time has passed
// (the database's clock decides, so the processes' clocks need not
// agree). A holder that cannot renew before its lease would end (the
// database is unreachable, or another process took the row) cancels fn's
// context first, so two processes never both believe they hold a lease.
// Close releases the leases held, so a clean shutdown hands them over at
// once.
type Leader struct {
	pool *pgxpool.Pool
	// id names this process in the rows it holds.
	id   string
	ttl  time.Duration
	poll time.Duration
	log  *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// LeaderOptions configure a Leader.
type LeaderOptions struct {
	// TTL is how long a lease lasts without renewal (DefaultLeaseTTL if 0).
	TTL time.Duration
	// Poll is how often a process waiting for a lease tries to take it
	// (TTL/5 if 0).
	Poll time.Duration
	// ID names this process in the leases table (host, pid and a random
	// suffix if empty).
	ID     string
	Logger *slog.Logger
}

// NewLeader returns a Leader on pool's database, holding no lease. It
// starts nothing.
func NewLeader(pool *pgxpool.Pool, opts LeaderOptions) *Leader {
	if opts.TTL <= 0 {
		opts.TTL = DefaultLeaseTTL
	}
	if opts.Poll <= 0 {
		opts.Poll = opts.TTL / 5
	}
	if opts.ID == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.ID = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Leader{pool: pool, id: opts.ID, ttl: opts.TTL, poll: opts.Poll, log: opts.Logger, ctx: ctx, cancel: cancel}
}

// ID is the name this process holds leases under.
func (l *Leader) ID() string { return l.id }

// take takes or renews lease name for this process; false when another
// process holds it.
func (l *Leader) take(ctx context.Context, name string) (bool, error) {
	tag, err := l.pool.Exec(ctx, `INSERT INTO leases (name, holder, until) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
WHERE leases.holder = EXCLUDED.holder OR leases.until < now()`, name, l.id, l.ttl.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// release gives lease name up if this process holds it.
func (l *Leader) release(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, l.id); err != nil {
		l.log.Warn("lease not released; another process takes it when it ends", "lease", name, "err", err)
	}
}

// Run implements bot.Leader: it waits until this process holds lease name,
// then calls fn with a context cancelled when the lease is lost, ctx ends
// or the Leader closes. After a loss it waits for the lease again and
// calls fn again.
func (l *Leader) Run(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()

	for {
		// Wait for the lease.
		for {
			start := time.Now()
			ok, err := l.take(rctx, name)
			if rctx.Err() != nil {
				return nil
			}
			if err != nil {
				l.log.Warn("cannot reach the database for a lease; trying again", "lease", name, "err", err)
			}
			if ok {
				lost, err := l.hold(rctx, name, start, fn)
				if !lost {
					return err
				}
				break
			}
			select {
			case <-rctx.Done():
				return nil
			case <-time.After(l.poll):
			}
		}
		if rctx.Err() != nil {
			return nil
		}
		l.log.Warn("lease lost; waiting to take it again", "lease", name)
	}
}

// hold runs fn while renewing lease name, taken at start (by the local
// clock). lost is true when fn ended because the lease was lost.
func (l *Leader) hold(ctx context.Context, name string, start time.Time, fn func(ctx context.Context) error) (lost bool, err error) {
	fctx, cancelFn := context.WithCancel(ctx)
	defer cancelFn()
	var lostLease sync.Once
	var wasLost bool
	var renewer sync.WaitGroup
	renewer.Go(func() {
		// The lease is ours until start + ttl by our clock at least (the
		// database set its end after start); renew well before.
		until := start.Add(l.ttl)
		tick := time.NewTicker(l.ttl / 3)
		defer tick.Stop()
		for {
			deadline := time.NewTimer(time.Until(until))
			select {
			case <-fctx.Done():
				deadline.Stop()
				return
			case <-deadline.C:
				lostLease.Do(func() { wasLost = true })
				cancelFn()
				return
			case <-tick.C:
				deadline.Stop()
			}
			t0 := time.Now()
			rctx, cancel := context.WithTimeout(fctx, time.Until(until))
			ok, err := l.take(rctx, name)
			cancel()
			switch {
			case fctx.Err() != nil:
				return
			case err != nil:
				l.log.Warn("lease not renewed; trying again", "lease", name, "err", err)
			case !ok:
				lostLease.Do(func() { wasLost = true })
				cancelFn()
				return
			default:
				until = t0.Add(l.ttl)
			}
		}
	})
	err = fn(fctx)
	cancelFn()
	renewer.Wait()
	if wasLost && ctx.Err() == nil {
		return true, nil
	}
	l.release(name)
	return false, err
}

// Close cancels every fn, waits for them to return and releases their
// leases, so another process takes them at once. Run refuses to start
// after it.
func (l *Leader) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	return nil
}
