package boltstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// errConflict: a value the overlay read changed before its commit.
var errConflict = errors.New("boltstore: optimistic update conflicts")

// errRetry: the writer's transaction failed as a whole, so the overlay was
// not applied; Update runs fn again (in the writer) to get fn's own answer.
var errRetry = errors.New("boltstore: group commit failed")

// writer is the single goroutine that validates and applies overlays. It
// takes every overlay queued (up to max) into one bbolt transaction as soon
// as the previous commit is done, so a lone caller commits at once and a
// busy store commits in large groups while the last fsync runs; callers
// still computing may delay a ready group by at most gather (running), and
// while the store is busy a small group may wait up to fill for more.
type writer struct {
	max int

	mu sync.Mutex
	// bolt is the database the writer commits to; Compact replaces it
	// (setBolt) while no commit is queued or running.
	bolt   *bbolt.DB
	queue  []*commitReq
	closed bool
	wake   chan struct{}
	exited chan struct{}
	once   sync.Once

	// running counts callers computing on a snapshot, who will queue a
	// commit soon. With a group already waiting, the writer gives them up
	// to gather before it commits, so that a commit (its fsyncs and the
	// pages every commit rewrites: counters, the logs' last pages, branch
	// pages) serves more messages. A lone caller never waits.
	running atomic.Int64
	gather  time.Duration

	// fill: while busy (the last group held more than one transaction), a
	// group smaller than fillTarget waits up to fill for more to queue.
	fill       time.Duration
	fillTarget int

	// commits and applied count group commits and the overlays they
	// applied (for tests and tools measuring pages per commit).
	commits, applied atomic.Int64

	// afterCommit, when set (by a measuring test, before any commit), runs
	// in the writer after each group commit, with nothing else writing.
	afterCommit func()
}

type commitReq struct {
	ov   *overlay
	err  error
	done chan error
}

func newWriter(bdb *bbolt.DB, max int, gather time.Duration) *writer {
	w := &writer{bolt: bdb, max: max, gather: gather, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go w.loop()
	return w
}

// begin counts a caller starting to compute on a snapshot; it ends with
// commit (queued) or abandon (nothing to queue).
func (w *writer) begin() { w.running.Add(1) }

// abandon ends a begin that queues nothing.
func (w *writer) abandon() {
	w.running.Add(-1)
	w.poke()
}

func (w *writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// commit queues ov, ending the caller's begin, and waits for its outcome:
// nil once durable, errConflict, errRetry, or a bbolt error.
func (w *writer) commit(ov *overlay) error {
	r := &commitReq{ov: ov, done: make(chan error, 1)}
	w.mu.Lock()
	w.running.Add(-1)
	if w.closed {
		w.mu.Unlock()
		w.poke()
		return berrors.ErrDatabaseNotOpen
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	w.poke()
	return <-r.done
}

// setBolt makes the writer commit to bdb from its next group on.
func (w *writer) setBolt(bdb *bbolt.DB) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bolt = bdb
}

// close stops taking commits, waits for the queued ones and the loop.
func (w *writer) close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
		<-w.exited
	})
}

func (w *writer) loop() {
	defer close(w.exited)
	var batch []*commitReq
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// The previous group and when it committed: the store is busy when it
	// held more than one transaction and committed within busyWindow.
	last, lastDone := 0, time.Time{}
	for range w.wake {
		for {
			w.gatherRunning(timer)
			if last > 1 && time.Since(lastDone) < busyWindow*w.fill {
				w.fillGroup(timer)
			}
			w.mu.Lock()
			n := min(len(w.queue), w.max)
			batch = append(batch[:0], w.queue[:n]...)
			rest := copy(w.queue, w.queue[n:])
			clear(w.queue[rest:])
			w.queue = w.queue[:rest]
			closed := w.closed
			bdb := w.bolt
			w.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			w.run(bdb, batch)
			last, lastDone = len(batch), time.Now()
			clear(batch)
		}
	}
}

// gatherRunning waits, at most w.gather, while a group is queued and
// callers are still computing theirs, so that they join this commit.
func (w *writer) gatherRunning(timer *time.Timer) {
	w.waitWhile(timer, w.gather, func(queued int) bool { return w.running.Load() > 0 && queued < w.max })
}

// busyWindow, in fill delays: a group committed longer ago than this says
// nothing about the load now.
const busyWindow = 10

// fillGroup waits, at most w.fill, while a group is queued that is smaller
// than w.fillTarget, so that callers arriving meanwhile share its commit.
func (w *writer) fillGroup(timer *time.Timer) {
	w.waitWhile(timer, w.fill, func(queued int) bool { return queued < w.fillTarget })
}

// waitWhile waits, at most d, while a group is queued and more(its size)
// holds, checking again at every queued commit; it returns at once when
// nothing is queued or the writer is closing.
func (w *writer) waitWhile(timer *time.Timer, d time.Duration, more func(queued int) bool) {
	if d <= 0 {
		return
	}
	queued, closed := w.queueState()
	if queued == 0 || closed || !more(queued) {
		return
	}
	timer.Reset(d)
	defer timer.Stop()
	for {
		select {
		case <-w.wake:
		case <-timer.C:
			return
		}
		if queued, closed = w.queueState(); closed || !more(queued) {
			return
		}
	}
}

func (w *writer) queueState() (queued int, closed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue), w.closed
}

// run validates and applies a group of overlays in one transaction, in
// queue order: each one is checked against the state the previous ones
// left, so two overlays that read the same value cannot both commit.
func (w *writer) run(bdb *bbolt.DB, batch []*commitReq) {
	pending := map[string]int64{}
	err := bdb.Update(func(btx *bbolt.Tx) (err error) {
		defer func() {
			// Never leave callers waiting: a bug here rolls the group back
			// and its callers run fn again in bbolt's Batch.
			if p := recover(); p != nil {
				err = fmt.Errorf("boltstore writer: %v", p)
			}
		}()
		buckets := make([]*bbolt.Bucket, len(allBuckets))
		for i, name := range allBuckets {
			buckets[i] = btx.Bucket(name)
		}
		for _, name := range appendBuckets {
			buckets[bucketIdx(name)].FillPercent = appendFill
		}
		cursors := make([]*bbolt.Cursor, len(allBuckets))
		for _, r := range batch {
			ok, err := r.ov.apply(btx, buckets, cursors, pending)
			if err != nil {
				return err
			}
			if !ok {
				r.err = errConflict
			}
		}
		// Fold the counter deltas of the whole group: one read and write
		// per counter instead of one per call.
		b := buckets[counterBucketIdx]
		for name, d := range pending {
			k := []byte(name)
			if err := b.Put(k, intValue(readInt(b.Get(k))+d)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		if w.afterCommit != nil {
			w.afterCommit()
		}
		w.commits.Add(1)
		for _, r := range batch {
			if r.err == nil {
				w.applied.Add(1)
			}
		}
	}
	for _, r := range batch {
		switch {
		case err != nil:
			r.done <- errRetry
		default:
			r.done <- r.err
		}
	}
}

// appendBuckets are keyed by increasing ids or times: new keys go to the
// last page, so pages are packed instead of split half full.
var appendBuckets = [][]byte{bktInteractions, bktOutbox, bktOutboxState, bktOutboxClaim, bktEvents}

// appendFill is their fill percent (bbolt's default is 0.5); not 1, as ids
// handed out in memory may commit slightly out of order.
const appendFill = 0.9
