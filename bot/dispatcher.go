package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
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

	// Owner is the name this dispatcher claims outbox items under. It must
	// differ between dispatchers sharing a store at the same time, and stay
	// the same across restarts of one process: a dispatcher that opens
	// takes back at once what its name still holds (a crash left it), where
	// another waits for the lease to end. Default "idicbot" (one process
	// per bbolt file).
	Owner string
	// Lease is how long a claim holds an item; the dispatcher renews the
	// leases of what it holds every third of it. Default one minute.
	Lease time.Duration
	// Poll is the longest wait between two claims: items whose lease ended
	// (their sender died) and items queued by other processes are found
	// within it. Default ten seconds.
	Poll time.Duration
	// MaxClaimed bounds the claimed items held in memory (queued or in
	// flight); the rest wait in the store, in the order they are claimed.
	// Items this process queued itself are always held. Default 4096.
	MaxClaimed int
	// After returns a channel that receives after d (time.After; tests
	// replace it to move time by hand).
	After func(d time.Duration) <-chan time.Time
	// Budgets are the channels' send rates (DefaultBudgets when nil; an
	// empty map: no limits). A chat waiting for its budget never holds up
	// another chat: its lane sends what else may leave meanwhile.
	Budgets map[crm.Channel]Budget
	// PaceNow is the clock of the budgets and of channels' retry-after
	// holds: real time (time.Now) by default even when Now is a test's
	// fixed clock, as a channel counts real seconds.
	PaceNow func() time.Time
}

// Dispatcher sends outbox items through the channels' senders: in order per
// chat, live replies before anything proactive, retried with backoff on
// temporary errors, waiting exactly the channel's retry-after on rate
// limits, never retrying permanent errors.
//
// It sends only what it holds a lease on (crm.Tx.ClaimOutbox), so two
// dispatchers sharing a store never send the same item while both live.
// Replies the core queues are leased to this dispatcher in the transaction
// that creates them (lease) and handed over after the commit (Enqueue);
// everything else (items pending at start, items due later, items whose
// sender died) is claimed from the store: at Open, on a wake-up, when the
// next item falls due, and at least every Poll.
type Dispatcher struct {
	store   crm.Store
	opts    DispatcherOptions
	log     *slog.Logger
	mu      sync.Mutex
	senders map[crm.Channel]Sender
	budgets map[crm.Channel]*channelBudget
	lanes   []*lane
	// held are the ids this dispatcher holds a lease on, queued or in
	// flight: renewed while held, and never queued twice.
	held map[crm.ID]bool
	// lost are held ids whose lease was taken by another owner: a lane
	// drops them instead of sending.
	lost map[crm.ID]bool
	idle *sync.Cond
	busy int
	// more: the store may hold due items the claimer has not claimed yet
	// (a claim was full, or free items were enqueued); Flush waits for it.
	more bool
	// freed counts Enqueue calls with free items, so a claim that started
	// before one knows to claim again.
	freed uint64
	// open is true from Open to Close; unsent are items a lane let go of
	// unsent while closing, released by Close with what is still queued.
	open   bool
	unsent []crm.ID
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup

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

	// chatNext holds chats back until a time (per-chat interval, a
	// retry-after); skip is next's scratch set; both belong to the lane's
	// goroutine, under mu.
	chatNext map[chatKey]time.Time
	skip     map[chatKey]bool
	pruneAt  int
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
	if opts.Owner == "" {
		opts.Owner = "idicbot"
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	if opts.MaxClaimed <= 0 {
		opts.MaxClaimed = 4096
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.PaceNow == nil {
		opts.PaceNow = time.Now
	}
	if opts.Budgets == nil {
		opts.Budgets = DefaultBudgets()
	}
	budgets := make(map[crm.Channel]*channelBudget, len(opts.Budgets))
	for ch, b := range opts.Budgets {
		budgets[ch] = newChannelBudget(b)
	}
	d := &Dispatcher{store: store, opts: opts, log: opts.Logger, senders: map[crm.Channel]Sender{}, budgets: budgets,
		held: map[crm.ID]bool{}, lost: map[crm.ID]bool{}, wake: make(chan struct{}, 1)}
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

// Open takes back what the dispatcher's name still holds from a previous
// run, claims what is due, and starts the lanes and the claimer.
func (d *Dispatcher) Open(ctx context.Context) error {
	var mine []*crm.OutboxItem
	if err := d.store.View(ctx, func(tx crm.Tx) error {
		mine = mine[:0]
		return tx.PendingOutbox(func(it *crm.OutboxItem) error {
			if it.LeaseOwner == d.opts.Owner {
				mine = append(mine, it)
			}
			return nil
		})
	}); err != nil {
		return fmt.Errorf("load pending outbox: %w", err)
	}
	if len(mine) > 0 {
		// Left by this name's previous run (a crash): renewed, unless
		// another owner took them since the lease ended.
		ids := make([]crm.ID, 0, len(mine))
		d.mu.Lock()
		for _, it := range mine {
			if !d.held[it.ID] {
				ids = append(ids, it.ID)
			}
		}
		d.mu.Unlock()
		var kept []crm.ID
		if err := d.store.Update(ctx, func(tx crm.Tx) (err error) {
			kept, err = tx.RenewOutbox(d.opts.Owner, ids, d.opts.Now().Add(d.opts.Lease))
			return err
		}); err != nil {
			return fmt.Errorf("take back outbox leases: %w", err)
		}
		keep := make(map[crm.ID]bool, len(kept))
		for _, id := range kept {
			keep[id] = true
		}
		mine = slices.DeleteFunc(mine, func(it *crm.OutboxItem) bool { return !keep[it.ID] })
		if len(mine) > 0 {
			d.log.Info("resending outbox items left pending", "count", len(mine))
		}
		d.hold(mine...)
	}
	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	d.mu.Lock()
	d.open = true
	d.mu.Unlock()
	d.writerWG.Add(1)
	go func() {
		defer d.writerWG.Done()
		d.write()
	}()
	// The first claim is queued before any lane runs, as the items taken
	// back are: what was pending goes before what comes next.
	d.mu.Lock()
	d.more = true
	d.mu.Unlock()
	more, err := d.claim(ctx, 0)
	if err != nil {
		d.log.Error("claim outbox items", "err", err)
	}
	for _, l := range d.lanes {
		d.wg.Add(1)
		go func(l *lane) {
			defer d.wg.Done()
			d.run(ctx, l)
		}(l)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.claimLoop(ctx, more)
	}()
	return nil
}

// lease makes it, a new item the core is about to store, leased to this
// dispatcher: the core hands it over after the commit (Enqueue), so no
// other dispatcher claims it meanwhile.
func (d *Dispatcher) lease(it *crm.OutboxItem) {
	it.LeaseOwner, it.LeaseUntil = d.opts.Owner, d.opts.Now().Add(d.opts.Lease)
}

// Enqueue hands committed outbox items to their lanes. It never blocks.
// Items leased to this dispatcher are queued at once; any other wakes the
// claimer, which claims what is due from the store.
func (d *Dispatcher) Enqueue(items ...*crm.OutboxItem) {
	free := 0
	for _, it := range items {
		if it.LeaseOwner == d.opts.Owner {
			d.hold(it)
		} else {
			free++
		}
	}
	if free > 0 {
		d.mu.Lock()
		d.more = true
		d.freed++
		d.mu.Unlock()
		d.poke()
	}
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// hold queues items this dispatcher holds a lease on, each in its chat's
// lane, skipping what it holds already.
func (d *Dispatcher) hold(items ...*crm.OutboxItem) {
	for _, it := range items {
		d.mu.Lock()
		if d.held[it.ID] {
			d.mu.Unlock()
			continue
		}
		d.held[it.ID] = true
		d.busy++
		d.mu.Unlock()
		if m := d.opts.Metrics; m != nil {
			m.OutboxDepth.Inc()
		}
		l := d.lanes[laneOf(it, len(d.lanes))]
		l.mu.Lock()
		l.push(it)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// push queues it after every item of its priority or a lower one: a live
// reply overtakes proactive messages queued in its lane, and items of one
// priority keep their order.
func (l *lane) push(it *crm.OutboxItem) {
	i := len(l.items)
	for i > 0 && l.items[i-1].Priority > it.Priority {
		i--
	}
	l.items = slices.Insert(l.items, i, it)
}

// claimBatch bounds the items one claim transaction leases.
const claimBatch = 512

// claim claims due items for the lanes: up to the room left under
// MaxClaimed, and at least extra. It reports whether the store may hold
// more that is due (the claim was full).
func (d *Dispatcher) claim(ctx context.Context, extra int) (bool, error) {
	d.mu.Lock()
	// At most claimBatch a transaction: a full claim of a campaign's
	// thousands would hold the store's one writer while live replies wait
	// to commit; a full batch claims again at once.
	room := min(max(d.opts.MaxClaimed-d.busy, extra), claimBatch)
	gen := d.freed
	d.mu.Unlock()
	if room <= 0 {
		return true, nil
	}
	var items []*crm.OutboxItem
	err := d.store.Update(ctx, func(tx crm.Tx) (err error) {
		items, err = tx.ClaimOutbox(d.opts.Owner, d.opts.Now(), d.opts.Lease, room)
		return err
	})
	if err != nil {
		d.mu.Lock()
		d.more = false // tried; the next poll tries again
		d.idle.Broadcast()
		d.mu.Unlock()
		return false, err
	}
	d.hold(items...)
	// Free items enqueued while this claim ran may have committed after
	// its snapshot: claim again rather than let Flush miss them.
	d.mu.Lock()
	full := len(items) == room || d.freed != gen
	d.more = full
	d.idle.Broadcast()
	d.mu.Unlock()
	return full, nil
}

// claimLoop claims again on every wake-up, when the next item falls due,
// after a full claim once the lanes have room, and at least every Poll; and
// renews the leases of what the dispatcher holds every third of a lease.
func (d *Dispatcher) claimLoop(ctx context.Context, more bool) {
	renewAt := d.opts.Now().Add(d.opts.Lease / 3)
	for {
		wait := d.opts.Poll
		if more {
			wait = 0
		} else if next, err := d.nextDue(ctx); err == nil && !next.IsZero() {
			wait = min(wait, max(next.Sub(d.opts.Now()), 0))
		}
		wait = min(wait, max(renewAt.Sub(d.opts.Now()), 0))
		extra := 0
		if wait > 0 || !more {
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
				extra = 1
			case <-d.opts.After(wait):
			}
		} else if ctx.Err() != nil {
			return
		}
		if now := d.opts.Now(); !now.Before(renewAt) {
			d.renew(ctx)
			renewAt = now.Add(d.opts.Lease / 3)
		}
		var err error
		if more, err = d.claim(ctx, extra); err != nil && ctx.Err() == nil {
			d.log.Error("claim outbox items", "err", err)
		}
		if more {
			// Full: wait for room in the lanes (done pokes) or the poll.
			d.mu.Lock()
			full := d.busy >= d.opts.MaxClaimed
			d.mu.Unlock()
			if full {
				more = false
			}
		}
	}
}

// nextDue returns when the next item not yet due falls due (zero: none).
func (d *Dispatcher) nextDue(ctx context.Context) (time.Time, error) {
	var next time.Time
	err := d.store.View(ctx, func(tx crm.Tx) (err error) {
		next, err = tx.NextOutboxDue(d.opts.Now())
		return err
	})
	return next, err
}

// renew extends the leases of every item held; those another owner took
// meanwhile (the lease ran out: a stalled process) are dropped by the lanes.
func (d *Dispatcher) renew(ctx context.Context) {
	d.mu.Lock()
	ids := make([]crm.ID, 0, len(d.held))
	for id := range d.held {
		ids = append(ids, id)
	}
	d.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	var kept []crm.ID
	err := d.store.Update(ctx, func(tx crm.Tx) (err error) {
		kept, err = tx.RenewOutbox(d.opts.Owner, ids, d.opts.Now().Add(d.opts.Lease))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("renew outbox leases", "count", len(ids), "err", err)
		}
		return
	}
	if len(kept) == len(ids) {
		return
	}
	keep := make(map[crm.ID]bool, len(kept))
	for _, id := range kept {
		keep[id] = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		// Sent or failed since the snapshot is no longer held either.
		if !keep[id] && d.held[id] {
			d.lost[id] = true
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

// Flush waits until every item held or due has been sent or given up, or
// ctx ends. Items due later do not hold it up.
func (d *Dispatcher) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		d.mu.Lock()
		for (d.busy > 0 || d.more && d.open) && ctx.Err() == nil {
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
// in the store, their leases released, so the next start or another
// process sends them. Call Flush first to drain.
func (d *Dispatcher) Close() error {
	if d.cancel == nil {
		return nil
	}
	d.cancel()
	d.wg.Wait()
	d.cancel = nil
	d.mu.Lock()
	d.open = false
	d.idle.Broadcast()
	d.mu.Unlock()
	close(d.results)
	d.writerWG.Wait()
	d.mu.Lock()
	ids := d.unsent
	for id := range d.held {
		ids = append(ids, id)
	}
	d.unsent = nil
	d.mu.Unlock()
	if len(ids) > 0 {
		err := d.store.Update(context.Background(), func(tx crm.Tx) error { return tx.ReleaseOutbox(d.opts.Owner, ids) })
		if err != nil {
			// They are taken back at the next start, or by others when the leases end.
			d.log.Warn("release outbox leases", "count", len(ids), "err", err)
		}
	}
	return nil
}

func (d *Dispatcher) run(ctx context.Context, l *lane) {
	for {
		l.mu.Lock()
		it, wait := l.next(d.opts.PaceNow(), d.budgets)
		l.mu.Unlock()
		if it == nil {
			var timer <-chan time.Time
			if wait > 0 {
				timer = d.opts.After(wait)
			}
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
			case <-timer:
			}
			continue
		}
		if d.isLost(it) {
			d.log.Warn("outbox item taken by another sender after its lease ran out; not sending it", "outbox", it.ID)
			d.done(it)
		} else if d.stillRefused(ctx, l, it) {
			d.results <- result{it, crm.OutboxFailed, "not sent: " + ErrUnreachable.Error() + " (an earlier message was refused)", false}
		} else {
			switch d.deliver(ctx, l, it) {
			case delivered, requeued:
			case leftPending:
				if ctx.Err() != nil { // released at Close
					d.mu.Lock()
					d.unsent = append(d.unsent, it.ID)
					d.mu.Unlock()
				}
				d.done(it) // left pending (shutting down or already handled)
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// outcome is what deliver did with an item.
type outcome int

const (
	// delivered: an outcome was handed to the writer.
	delivered outcome = iota
	// leftPending: the item stays pending in the store (shutting down, or
	// already recorded).
	leftPending
	// requeued: the item went back to its lane, its chat held until the
	// channel's retry-after.
	requeued
)

func (d *Dispatcher) isLost(it *crm.OutboxItem) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lost[it.ID]
}

// done forgets an item that is no longer queued; after a full claim, room
// in the lanes wakes the claimer.
func (d *Dispatcher) done(it *crm.OutboxItem) {
	d.mu.Lock()
	delete(d.held, it.ID)
	delete(d.lost, it.ID)
	d.busy--
	if d.busy == 0 {
		d.idle.Broadcast()
	}
	wake := d.more && d.busy == d.opts.MaxClaimed/2
	d.mu.Unlock()
	if wake {
		d.poke()
	}
	if m := d.opts.Metrics; m != nil {
		m.OutboxDepth.Dec()
	}
}

// deliver sends one item until it is sent, failed for good, rate limited
// (requeued in its lane, its chat held for the channel's retry-after) or
// ctx ends.
func (d *Dispatcher) deliver(ctx context.Context, l *lane, it *crm.OutboxItem) outcome {
	d.mu.Lock()
	s := d.senders[it.Channel]
	d.mu.Unlock()
	if s == nil {
		d.results <- result{it, crm.OutboxFailed, fmt.Sprintf("no sender for channel %q", it.Channel), false}
		return delivered
	}
	for ctx.Err() == nil {
		err := s.Send(ctx, it)
		if err == nil {
			if m := d.opts.Metrics; m != nil {
				m.MessagesOut.WithLabelValues(string(it.Channel)).Inc()
			}
			d.results <- result{it, crm.OutboxSent, "", false}
			return delivered
		}
		if ctx.Err() != nil {
			return leftPending // shutting down: the item stays pending for the next start
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
				return delivered
			}
			d.refuse(ctx, l, r)
			return leftPending
		case errors.As(err, &ra):
			d.count(it, "rate_limited")
			d.log.Info("rate limited", "channel", it.Channel, "retry_after", ra.After)
			// The chat waits; the lane goes on with the other chats.
			until := d.opts.PaceNow().Add(ra.After)
			d.record(ctx, it, err.Error(), ra.After)
			l.mu.Lock()
			l.holdChat(keyOf(it), until)
			l.requeue(it)
			l.mu.Unlock()
			return requeued
		}
		d.count(it, "temporary")
		if it.Attempts >= d.opts.MaxAttempts {
			d.log.Error("send failed, giving up", "channel", it.Channel, "outbox", it.ID, "attempts", it.Attempts, "err", err)
			d.results <- result{it, crm.OutboxFailed, err.Error(), false}
			return delivered
		}
		wait := d.backoff(it.Attempts)
		d.log.Warn("send failed, will retry", "channel", it.Channel, "outbox", it.ID, "attempt", it.Attempts, "in", wait, "err", err)
		d.record(ctx, it, err.Error(), wait)
		if d.opts.Sleep(ctx, wait) != nil {
			return leftPending
		}
	}
	return leftPending
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
			if rd, ok := tx.(crm.OutboxReader); ok {
				// A server's store reads the batch's items in one round trip.
				ids := make([]crm.ID, len(batch))
				for i, r := range batch {
					ids[i] = r.it.ID
				}
				if err := rd.ReadOutbox(ids); err != nil {
					return err
				}
			}
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
	}
	if r.status == crm.OutboxSent && it.Channel != ChannelReps { // a notice to reps is no message out
		if err := addCounterOf(tx, now, 1, "msg_out:", string(it.Channel)); err != nil {
			return err
		}
	}
	if err := tx.PutOutbox(cur); err != nil {
		return err
	}
	if cs, ok := tx.(crm.Campaigns); ok && it.Priority > crm.PriorityReply {
		// A campaign's progress: counted with the status, in its transaction.
		camp, _, err := cs.CampaignOfOutbox(it.ID)
		if err != nil {
			return err
		}
		if camp != "" {
			if err := tx.AddCounter("campaign:"+camp+":"+r.status, 1); err != nil {
				return err
			}
		}
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
