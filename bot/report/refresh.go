package report

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// RefreshEvery is how often an opened Service brings its precomputed
// parts up to date in the background: days that closed rolled up and
// kept, the customer value of a new shop day computed.
const RefreshEvery = 10 * time.Minute

// Open starts the background refresh: at once (so the first dashboard of a
// big shop does not pay for a year of rollups) and every RefreshEvery.
// While it runs, a request on a new shop day gets the previous day's
// customer value until the refresh has computed the new one. Close stops
// it and waits for it.
func (s *Service) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("report: already opened")
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	s.refreshing = true
	go s.refreshLoop(ctx)
	return nil
}

// Close stops the background refresh and waits for it.
func (s *Service) Close() error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-done
	return nil
}

func (s *Service) refreshLoop(ctx context.Context) {
	defer close(s.done)
	defer func() {
		s.mu.Lock()
		s.refreshing = false
		s.mu.Unlock()
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reports: background refresh failed", "err", err)
		}
		t.Reset(RefreshEvery)
	}
}

// refresh computes today's customer value if it is missing or stale, then
// the last 90 days' report, which rolls up and keeps the days that closed.
func (s *Service) refresh(ctx context.Context) error {
	now := s.now()
	if _, err := s.computeValue(ctx, now); err != nil {
		return err
	}
	p, err := s.LastDays(90)
	if err != nil {
		return err
	}
	_, err = s.Report(ctx, p)
	return err
}

// SetLogger sets where background failures are logged (slog.Default when
// unset).
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}
