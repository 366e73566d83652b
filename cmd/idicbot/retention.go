package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm/boltstore"
)

const (
	// retentionFirst is how long after start the first prune waits, so the
	// dispatcher sends what was left pending first and a bot restarted in
	// a loop does not prune at every start.
	retentionFirst = time.Minute
	// retentionEvery is how often the store is pruned after that.
	retentionEvery = 24 * time.Hour
	// retentionRetry is the first wait after a failed prune; it doubles at
	// each failure in a row, up to retentionEvery.
	retentionRetry = time.Minute
	// markerMargin is how much longer than the longest max_event_age a
	// dedupe marker is kept at least: a day covers the daily prune's own
	// period and a channel's clock running late.
	markerMargin = 24 * time.Hour
)

// pruner is what retention needs of the store.
type pruner interface {
	Prune(ctx context.Context, before time.Time) (boltstore.PruneStats, error)
}

// retention deletes what the store keeps only for a while (sent outbox
// items, old dedupe markers: see boltstore.DB.Prune) once shortly after
// start, then every day.
type retention struct {
	store pruner
	days  int
	// keep is the least that is kept, whatever days says: dedupe markers
	// must outlive every event a channel may still deliver, or a replayed
	// one would be handled as new.
	keep time.Duration
	now  func() time.Time
	log  *slog.Logger
	// leader, when set, runs the loop only while this process holds the
	// retention lease, so that one process prunes a shared store.
	leader bot.Leader
	// first, every and retry are the waits before the first prune, between
	// prunes, and after a failure (doubling).
	first, every, retry time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

func newRetention(store pruner, days int, keep time.Duration, now func() time.Time, log *slog.Logger) *retention {
	return &retention{store: store, days: days, keep: keep, now: now, log: log,
		first: retentionFirst, every: retentionEvery, retry: retentionRetry}
}

// wireRetention prunes the store periodically unless retention_days is 0 or
// less.
func (m *Main) wireRetention(_ context.Context, _ *http.ServeMux) error {
	if r := m.retentionFor(m.pruner()); r != nil {
		m.parts = append(m.parts, part{name: "retention", start: r.Open, stop: r.Close})
	}
	return nil
}

// retentionFor is the retention loop for store as configured, nil when
// retention_days is 0 or less.
func (m *Main) retentionFor(store pruner) *retention {
	days := m.Config.RetentionDays
	if days <= 0 {
		m.Log.Info("retention is off: sent messages and dedupe markers are kept forever", "retention_days", days)
		return nil
	}
	keep := m.maxEventAge() + markerMargin
	if keep > time.Duration(days)*24*time.Hour {
		m.Log.Info("retention: dedupe markers are kept longer than retention_days, as long as channels may deliver an event plus a day",
			"retention_days", days, "keep", keep)
	}
	r := newRetention(store, days, keep, m.Now, m.Log)
	r.leader = m.Leader
	return r
}

// maxEventAge is the oldest a signed channel event may be and still be
// handled: the longest of zalo.max_event_age (or ZALO_MAX_EVENT_AGE, which
// overrides it) and messenger.max_event_age.
func (m *Main) maxEventAge() time.Duration {
	age := max(m.Config.Zalo.MaxEventAge, m.Config.Messenger.MaxEventAge)
	if m.Getenv != nil {
		if opts, ok, err := zalo.FromEnv(m.Getenv); ok && err == nil {
			age = max(age, opts.MaxEventAge)
		}
	}
	return age
}

// Open starts the loop; it runs until ctx ends or Close.
func (r *retention) Open(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		if r.leader == nil {
			r.run(ctx)
			return
		}
		if err := r.leader.Run(ctx, leaseRetention, func(ctx context.Context) error {
			r.run(ctx)
			return nil
		}); err != nil {
			r.log.Error("retention stopped", "err", err)
		}
	}()
	return nil
}

// Close stops the loop, interrupting a prune under way between two of its
// chunks, and waits for it.
func (r *retention) Close() error {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
	return nil
}

func (r *retention) run(ctx context.Context) {
	wait, retry := r.first, r.retry
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.prune(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait, retry = retry, min(2*retry, r.every)
		} else {
			wait, retry = r.every, r.retry
		}
		t.Reset(wait)
	}
}

// prune deletes what is older than the retention and logs how much it
// removed (counts only).
func (r *retention) prune(ctx context.Context) error {
	start := time.Now()
	now := r.now()
	before := now.AddDate(0, 0, -r.days)
	if b := now.Add(-r.keep); b.Before(before) {
		before = b
	}
	st, err := r.store.Prune(ctx, before)
	attrs := []any{"outbox", st.Outbox, "seen", st.Seen, "seen_undated_kept", st.SeenUndated,
		"retention_days", r.days, "took", time.Since(start).Round(time.Millisecond)}
	switch {
	case err != nil && ctx.Err() != nil:
		r.log.Info("retention: prune stopped by shutdown", attrs...)
	case err != nil:
		r.log.Error("retention: prune", append(attrs, "err", err)...)
	default:
		r.log.Info("retention: pruned", attrs...)
	}
	return err
}
