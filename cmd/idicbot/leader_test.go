package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/idicbot/idicbot/adapters/telegram"
	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot/inproc"
)

// recordingLeader is an in-process Leader that remembers which singletons
// it ran and how many still run.
type recordingLeader struct {
	inner *inproc.Leader

	mu      sync.Mutex
	started map[string]int
	running int
}

func (l *recordingLeader) Run(ctx context.Context, name string, fn func(context.Context) error) error {
	return l.inner.Run(ctx, name, func(ctx context.Context) error {
		l.mu.Lock()
		l.started[name]++
		l.running++
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			l.running--
			l.mu.Unlock()
		}()
		return fn(ctx)
	})
}

func (l *recordingLeader) state() (map[string]int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cp := make(map[string]int, len(l.started))
	for k, v := range l.started {
		cp[k] = v
	}
	return cp, l.running
}

// startLeaderServe runs `idicbot serve` with Telegram long polling against
// srv, a sweep every hour and retention on, under leader.
func startLeaderServe(t *testing.T, srv *telegramtest.Server, leader *recordingLeader) *served {
	t.Helper()
	conf := strings.Replace(telegramTestConfig, "sweep_interval: 0s", "sweep_interval: 1h", 1)
	env := map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token, "TELEGRAM_API_URL": srv.URL()}
	s := startServeWith(t, t.TempDir(), env, conf, func(m *Main) { m.Leader = leader })
	s.srv = srv
	return s
}

// TestSingletonsRunUnderTheLeader checks that serve starts the segment
// sweep, retention and Telegram long polling under the Leader, and that
// shutdown stops every one of them.
func TestSingletonsRunUnderTheLeader(t *testing.T) {
	srv := telegramtest.New(t)
	leader := &recordingLeader{inner: inproc.NewLeader(), started: map[string]int{}}
	defer leader.inner.Close()
	s := startLeaderServe(t, srv, leader)
	want := []string{leaseSweep, leaseRetention, telegram.LeasePolling}
	waitFor(t, "every singleton started under the leader", func() bool {
		started, _ := leader.state()
		for _, name := range want {
			if started[name] != 1 {
				return false
			}
		}
		return true
	})
	lan := telegramtest.User{ID: 7000101, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserText(lan, "xin chào")
	waitFor(t, "the message polled under the lease is handled", func() bool { return s.tgCustomer(lan) != nil })

	s.shutdown()
	defer s.close()
	if started, running := leader.state(); running != 0 {
		t.Fatalf("%d singletons still run after shutdown (started: %v)", running, started)
	}
}

// TestSingletonsWaitForTheLease stands for a second replica: another
// process holds the Telegram polling lease, so this one serves (web chat,
// webhooks) without polling, and takes polling over when the lease is
// given up — the message sent meanwhile is then handled.
func TestSingletonsWaitForTheLease(t *testing.T) {
	srv := telegramtest.New(t)
	shared := inproc.NewLeader()         // the lease table both "processes" use
	t.Cleanup(func() { shared.Close() }) // after serve's shutdown
	otherCtx, otherDies := context.WithCancel(context.Background())
	otherHolds := make(chan struct{})
	otherDone := make(chan struct{})
	go func() {
		defer close(otherDone)
		_ = shared.Run(otherCtx, telegram.LeasePolling, func(ctx context.Context) error {
			close(otherHolds)
			<-ctx.Done()
			return nil
		})
	}()
	<-otherHolds

	leader := &recordingLeader{inner: shared, started: map[string]int{}}
	s := startLeaderServe(t, srv, leader)
	s.stopOnCleanup(t)
	waitFor(t, "the sweep and retention started", func() bool {
		started, _ := leader.state()
		return started[leaseSweep] == 1 && started[leaseRetention] == 1
	})
	lan := telegramtest.User{ID: 7000102, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserText(lan, "xin chào")
	if started, _ := leader.state(); started[telegram.LeasePolling] != 0 {
		t.Fatal("polled while another process held the lease")
	}

	otherDies()
	<-otherDone
	waitFor(t, "polling taken over and the waiting message handled", func() bool { return s.tgCustomer(lan) != nil })
	if started, _ := leader.state(); started[telegram.LeasePolling] != 1 {
		t.Fatalf("polling started %d times, want 1", started[telegram.LeasePolling])
	}
}
