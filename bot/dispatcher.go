package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// DispatcherOptions configure the outbox dispatcher.
type DispatcherOptions struct {
	// Lanes is the number of parallel senders. Items of one chat always go
	// through the same lane, so they leave in order.
	Lanes int
	// MaxAttempts before a temporarily failing item is marked failed.
	MaxAttempts int
	// Backoff is the first retry delay; it doubles up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
	Metrics    *Metrics
	// Sleep waits for d or until ctx ends (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Dispatcher sends outbox items through the channels' senders: in order per
// chat, retried with backoff on temporary errors, waiting exactly the
// channel's retry-after on rate limits, never retrying permanent errors.
// Items still pending at start (a crash, a restart) are sent then.
type Dispatcher struct {
	store   crm.Store
	opts    DispatcherOptions
	log     *slog.Logger
	mu      sync.Mutex
	senders map[crm.Channel]Sender
	lanes   []*lane
	queued  map[crm.ID]bool // ids queued or in flight, so nothing is sent twice
	idle    *sync.Cond
	busy    int
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// results carries send outcomes from the lanes to the writer, which
	// records many of them in one transaction: a lane never waits for a
	// commit before sending the next message.
	results  chan result
	writerWG sync.WaitGroup
}

// result is the outcome of one delivery, waiting to be recorded.
type result struct {
	it          *crm.OutboxItem
	status, why string
	unreachable bool
}

type lane struct {
	mu    sync.Mutex
	items []*crm.OutboxItem
	wake  chan struct{}

	// refused holds the recipients of this lane that refused a message
	// (blocked the bot, left the chat) in this run. Only the lane's own
	// goroutine uses it. Items for them are checked against the store
	// before sending: the refusal is committed before the lane goes on,
	// and a new message from the customer clears it.
	refused map[recipient]bool
}

// recipient is one identity on one channel.
type recipient struct {
	channel crm.Channel
	user    string
}

// NewDispatcher builds a dispatcher; Open starts it.
func NewDispatcher(store crm.Store, opts DispatcherOptions) *Dispatcher {
	if opts.Lanes <= 0 {
		opts.Lanes = 8
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	d := &Dispatcher{store: store, opts: opts, log: opts.Logger, senders: map[crm.Channel]Sender{}, queued: map[crm.ID]bool{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.idle = sync.NewCond(&d.mu)
	d.results = make(chan result, 1024)
	for i := 0; i < opts.Lanes; i++ {
		d.lanes = append(d.lanes, &lane{wake: make(chan struct{}, 1)})
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Register sets the sender of a channel. Register before Open.
func (d *Dispatcher) Register(ch crm.Channel, s Sender) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.senders[ch] = s
}

// Open starts the lanes and queues every item left pending in the store.
func (d *Dispatcher) Open(ctx context.Context) error {
	var pending []*crm.OutboxItem
	if err := d.store.View(ctx, func(tx crm.Tx) error {
		pending = pending[:0]
		return tx.PendingOutbox(func(it *crm.OutboxItem) error {
			pending = append(pending, it)
			return nil
		})
	}); err != nil {
		return fmt.Errorf("load pending outbox: %w", err)
	}
	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	d.writerWG.Add(1)
	go func() {
		defer d.writerWG.Done()
		d.write()
	}()
	// Pending items are queued before any lane runs: an item committed and
	// enqueued meanwhile by the core is then deduplicated by the queued set,
	// never sent twice.
	if len(pending) > 0 {
		d.log.Info("resending outbox items left pending", "count", len(pending))
	}
	d.Enqueue(pending...)
	for _, l := range d.lanes {
		d.wg.Add(1)
		go func(l *lane) {
			defer d.wg.Done()
			d.run(ctx, l)
		}(l)
	}
	return nil
}

// Enqueue hands committed outbox items to their lanes. It never blocks.
func (d *Dispatcher) Enqueue(items ...*crm.OutboxItem) {
	for _, it := range items {
		d.mu.Lock()
		if d.queued[it.ID] {
			d.mu.Unlock()
			continue
		}
		d.queued[it.ID] = true
		d.busy++
		d.mu.Unlock()
		if m := d.opts.Metrics; m != nil {
			m.OutboxDepth.Inc()
		}
		l := d.lanes[laneOf(it, len(d.lanes))]
		l.mu.Lock()
		l.items = append(l.items, it)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func laneOf(it *crm.OutboxItem, n int) int {
	h := fnv.New32a()
	h.Write([]byte(it.Channel))
	h.Write([]byte{0})
	h.Write([]byte(it.ChatID))
	return int(h.Sum32() % uint32(n))
}

// Flush waits until every queued item has been sent or given up, or ctx ends.
func (d *Dispatcher) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		d.mu.Lock()
		for d.busy > 0 && ctx.Err() == nil {
			d.idle.Wait()
		}
		d.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		d.mu.Lock()
		d.idle.Broadcast()
		d.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// Close stops the lanes and waits for them. Items not yet sent stay pending
// in the store and are sent at the next start. Call Flush first to drain.
func (d *Dispatcher) Close() error {
	if d.cancel == nil {
		return nil
	}
	d.cancel()
	d.wg.Wait()
	d.cancel = nil
	close(d.results)
	d.writerWG.Wait()
	return nil
}

func (d *Dispatcher) run(ctx context.Context, l *lane) {
	for {
		l.mu.Lock()
		var it *crm.OutboxItem
		if len(l.items) > 0 {
			it = l.items[0]
			l.items = l.items[1:]
		}
		l.mu.Unlock()
		if it == nil {
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
				continue
			}
		}
		if d.stillRefused(ctx, l, it) {
			d.results <- result{it, crm.OutboxFailed, "not sent: " + ErrUnreachable.Error() + " (an earlier message was refused)", false}
		} else if !d.deliver(ctx, l, it) {
			d.done(it) // left pending (shutting down or already handled)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// done forgets an item that is no longer queued.
func (d *Dispatcher) done(it *crm.OutboxItem) {
	d.mu.Lock()
	delete(d.queued, it.ID)
	d.busy--
	if d.busy == 0 {
		d.idle.Broadcast()
	}
	d.mu.Unlock()
	if m := d.opts.Metrics; m != nil {
		m.OutboxDepth.Dec()
	}
}

// deliver sends one item until it is sent, failed for good, or ctx ends. It
// reports whether an outcome was handed to the writer.
func (d *Dispatcher) deliver(ctx context.Context, l *lane, it *crm.OutboxItem) bool {
	d.mu.Lock()
	s := d.senders[it.Channel]
	d.mu.Unlock()
	if s == nil {
		d.results <- result{it, crm.OutboxFailed, fmt.Sprintf("no sender for channel %q", it.Channel), false}
		return true
	}
	for ctx.Err() == nil {
		err := s.Send(ctx, it)
		if err == nil {
			if m := d.opts.Metrics; m != nil {
				m.MessagesOut.WithLabelValues(string(it.Channel)).Inc()
			}
			d.results <- result{it, crm.OutboxSent, "", false}
			return true
		}
		if ctx.Err() != nil {
			return false // shutting down: the item stays pending for the next start
		}
		it.Attempts++
		var ra *RetryAfterError
		switch {
		case IsPermanent(err):
			d.count(it, "permanent")
			d.log.Warn("send failed permanently", "channel", it.Channel, "outbox", it.ID, "err", err)
			r := result{it, crm.OutboxFailed, err.Error(), errors.Is(err, ErrUnreachable)}
			if !r.unreachable {
				d.results <- r
				return true
			}
			d.refuse(ctx, l, r)
			return false
		case errors.As(err, &ra):
			d.count(it, "rate_limited")
			d.log.Info("rate limited", "channel", it.Channel, "retry_after", ra.After)
			if d.opts.Sleep(ctx, ra.After) != nil {
				return false
			}
			continue
		}
		d.count(it, "temporary")
		if it.Attempts >= d.opts.MaxAttempts {
			d.log.Error("send failed, giving up", "channel", it.Channel, "outbox", it.ID, "attempts", it.Attempts, "err", err)
			d.results <- result{it, crm.OutboxFailed, err.Error(), false}
			return true
		}
		wait := d.backoff(it.Attempts)
		d.log.Warn("send failed, will retry", "channel", it.Channel, "outbox", it.ID, "attempt", it.Attempts, "in", wait, "err", err)
		d.record(ctx, it, err.Error(), wait)
		if d.opts.Sleep(ctx, wait) != nil {
			return false
		}
	}
	return false
}

// refuse records a recipient's refusal at once, not through the batching
// writer: the next item of this lane for the same recipient, queued with
// the refused one (an offer after a greeting), must see it.
func (d *Dispatcher) refuse(ctx context.Context, l *lane, r result) {
	if l.refused == nil {
		l.refused = map[recipient]bool{}
	}
	l.refused[recipient{r.it.Channel, r.it.UserID}] = true
	if err := d.store.Update(ctx, func(tx crm.Tx) error { return d.finish(tx, r) }); err != nil {
		// Left pending: the next start tries again and learns again.
		d.log.Error("record refused send", "outbox", r.it.ID, "err", err)
	}
}

// stillRefused reports whether it goes to a recipient that refused an
// earlier message of this run and has not written since (writing clears
// the identity's unreachable mark).
func (d *Dispatcher) stillRefused(ctx context.Context, l *lane, it *crm.OutboxItem) bool {
	key := recipient{it.Channel, it.UserID}
	if !l.refused[key] {
		return false
	}
	refused := true
	err := d.store.View(ctx, func(tx crm.Tx) error {
		c, err := tx.Customer(it.CustomerID)
		if err != nil {
			return err
		}
		id := c.Identity(it.Channel, it.UserID)
		refused = id != nil && id.Unreachable
		return nil
	})
	if err != nil {
		return false // try to send; the channel answers for itself
	}
	if !refused {
		delete(l.refused, key)
	}
	return refused
}

func (d *Dispatcher) count(it *crm.OutboxItem, kind string) {
	if m := d.opts.Metrics; m != nil {
		m.SendErrors.WithLabelValues(string(it.Channel), kind).Inc()
	}
}

func (d *Dispatcher) backoff(attempt int) time.Duration {
	b := d.opts.Backoff << min(attempt-1, 20)
	if b > d.opts.MaxBackoff || b <= 0 {
		b = d.opts.MaxBackoff
	}
	// ±20% jitter so retries of many chats do not arrive together.
	return b - b/5 + time.Duration(rand.Int64N(int64(b/5)*2+1))
}

// record persists a temporary failure so the attempt count survives restarts.
func (d *Dispatcher) record(ctx context.Context, it *crm.OutboxItem, why string, wait time.Duration) {
	err := d.store.Update(ctx, func(tx crm.Tx) error {
		cur, err := tx.OutboxItem(it.ID)
		if err != nil {
			return err
		}
		cur.Attempts, cur.LastError, cur.NextAttempt = it.Attempts, why, d.opts.Now().Add(wait)
		return tx.PutOutbox(cur)
	})
	if err != nil && ctx.Err() == nil {
		d.log.Error("record send attempt", "outbox", it.ID, "err", err)
	}
}

// write records delivery outcomes, as many as are waiting in one
// transaction, until the lanes are gone and the channel is closed.
func (d *Dispatcher) write() {
	batch := make([]result, 0, 256)
	for r := range d.results {
		batch = append(batch[:0], r)
	more:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-d.results:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		if err := d.store.Update(context.Background(), func(tx crm.Tx) error {
			for _, r := range batch {
				if err := d.finish(tx, r); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			// The items stay pending and are sent again at the next start.
			d.log.Error("record send results", "count", len(batch), "err", err)
		}
		for _, r := range batch {
			d.done(r.it)
		}
	}
}

// finish records an item's final status; for an unreachable recipient it
// also marks the identity unreachable.
func (d *Dispatcher) finish(tx crm.Tx, r result) error {
	now := d.opts.Now()
	it := r.it
	cur, err := tx.OutboxItem(it.ID)
	if err != nil {
		return err
	}
	cur.Status, cur.Attempts, cur.LastError = r.status, it.Attempts, r.why
	if r.status == crm.OutboxSent {
		cur.SentAt = now
		if err := addCounter(tx, now, "msg_out:"+string(it.Channel), 1); err != nil {
			return err
		}
	}
	if err := tx.PutOutbox(cur); err != nil {
		return err
	}
	if !r.unreachable {
		return nil
	}
	c, err := tx.Customer(it.CustomerID)
	if err != nil {
		return err
	}
	if id := c.Identity(it.Channel, it.UserID); id != nil && !id.Unreachable {
		id.Unreachable, id.UnreachableSince, id.UnreachableWhy = true, now, r.why
		return tx.PutCustomer(c)
	}
	return nil
}
