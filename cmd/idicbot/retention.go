package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

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
	now   func() time.Time
	log   *slog.Logger
	// first, every and retry are the waits before the first prune, between
	// prunes, and after a failure (doubling).
	first, every, retry time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

func newRetention(store pruner, days int, now func() time.Time, log *slog.Logger) *retention {
	return &retention{store: store, days: days, now: now, log: log,
		first: retentionFirst, every: retentionEvery, retry: retentionRetry}
}

// wireRetention prunes the store periodically unless retention_days is 0 or
// less.
func (m *Main) wireRetention(_ context.Context, _ *http.ServeMux) error {
	days := m.Config.RetentionDays
	if days <= 0 {
		m.Log.Info("retention is off: sent messages and dedupe markers are kept forever", "retention_days", days)
		return nil
	}
	r := newRetention(m.DB, days, m.Now, m.Log)
	m.parts = append(m.parts, part{name: "retention", start: r.Open, stop: r.Close})
	return nil
}

// Open starts the loop; it runs until ctx ends or Close.
func (r *retention) Open(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.run(ctx)
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
	before := r.now().AddDate(0, 0, -r.days)
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
