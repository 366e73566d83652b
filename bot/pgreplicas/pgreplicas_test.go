package pgreplicas_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idicbot/idicbot/bot/pgreplicas"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// processes opens n stores on one new schema and returns their pools, as n
// idicbot processes on one database would have.
func processes(t *testing.T, n int) []*pgxpool.Pool {
	t.Helper()
	url := pgtest.URL(t)
	pools := make([]*pgxpool.Pool, n)
	for i := range pools {
		db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		pools[i] = db.Pool()
	}
	return pools
}

func openNotifier(t *testing.T, pool *pgxpool.Pool, channel string) *pgreplicas.Notifier {
	t.Helper()
	n := pgreplicas.NewNotifier(pool, pgreplicas.NotifierOptions{Channel: channel})
	if err := n.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// woken waits for ch, failing after a generous deadline.
func woken(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: not woken after 20s", what)
	}
}

// quiet reports whether ch stays empty while a later notification on the
// same connection goes through (a marker): a notification for ch sent
// before the marker would have arrived first.
func quiet(t *testing.T, n *pgreplicas.Notifier, ch <-chan struct{}) bool {
	t.Helper()
	marker, release := n.Subscribe("test-marker", "")
	defer release()
	if err := n.Notify(t.Context(), "test-marker", ""); err != nil {
		t.Fatal(err)
	}
	woken(t, "marker", marker)
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

func TestNotifierAcrossProcesses(t *testing.T) {
	pools := processes(t, 2)
	channel := "idicbot_test_" + time.Now().Format("150405.000000")
	a, b := openNotifier(t, pools[0], channel), openNotifier(t, pools[1], channel)

	onB, releaseB := b.Subscribe("webchat", "s1")
	otherKey, releaseOther := b.Subscribe("webchat", "s2")
	onA, releaseA := a.Subscribe("webchat", "s1")
	if err := a.Notify(t.Context(), "webchat", "s1"); err != nil {
		t.Fatal(err)
	}
	woken(t, "subscriber in the other process", onB)
	woken(t, "subscriber in the notifying process", onA)
	if !quiet(t, b, otherKey) {
		t.Error("a subscriber of another key was woken")
	}
	// Notifications not taken yet coalesce into one: after the marker
	// (sent after them) arrived, one is waiting, and only one.
	for range 3 {
		if err := a.Notify(t.Context(), "webchat", "s1"); err != nil {
			t.Fatal(err)
		}
	}
	if quiet(t, b, onB) {
		t.Fatal("three notifications did not wake the subscriber")
	}
	select {
	case <-onB:
		t.Error("three notifications not taken woke the subscriber more than once")
	default:
	}
	releaseB()
	releaseB()
	releaseOther()
	releaseA()
	if got := b.Keys(); got != 0 {
		t.Errorf("Keys = %d after every subscriber left, want 0", got)
	}
}

// TestNotifierReconnects kills the listening connection: the Notifier
// listens again and wakes every subscriber, since what was sent meanwhile
// is lost.
func TestNotifierReconnects(t *testing.T) {
	pools := processes(t, 2)
	channel := "idicbot_test_r" + time.Now().Format("150405.000000")
	a, b := openNotifier(t, pools[0], channel), openNotifier(t, pools[1], channel)
	sub, release := b.Subscribe("offers", "")
	defer release()
	if _, err := pools[0].Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE query = 'LISTEN ' || quote_ident($1) AND pid <> pg_backend_pid()`, channel); err != nil {
		t.Fatal(err)
	}
	woken(t, "subscriber after the reconnection", sub)
	// And it hears new notifications again.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := a.Notify(t.Context(), "offers", ""); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sub:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification heard after the reconnection")
		}
	}
}

// singleton records which process runs a singleton, and fails the test
// when two run it at once.
type singleton struct {
	t       *testing.T
	mu      sync.Mutex
	holder  string
	started chan string
}

func (s *singleton) run(who string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s.mu.Lock()
		if s.holder != "" {
			s.t.Errorf("%s runs the singleton while %s does", who, s.holder)
		}
		s.holder = who
		s.mu.Unlock()
		s.started <- who
		<-ctx.Done()
		s.mu.Lock()
		s.holder = ""
		s.mu.Unlock()
		return nil
	}
}

func runLeader(t *testing.T, l *pgreplicas.Leader, name string, fn func(ctx context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := l.Run(ctx, name, fn); err != nil && !errors.Is(err, pgreplicas.ErrClosed) {
			t.Error(err)
		}
	})
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// TestLeaderTakeoverWhenHolderDies runs a singleton under leases of three
// processes; the holder loses its database (as a process killed, or cut
// off, does): it stops its singleton when its lease would end, and
// another process takes the lease over, never two at once.
func TestLeaderTakeoverWhenHolderDies(t *testing.T) {
	url := pgtest.URL(t)
	s := &singleton{t: t, started: make(chan string, 10)}
	pools := map[string]*pgxpool.Pool{}
	for _, who := range []string{"a", "b", "c"} {
		db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		pools[who] = db.Pool()
		l := pgreplicas.NewLeader(db.Pool(), pgreplicas.LeaderOptions{TTL: time.Second, ID: who})
		t.Cleanup(func() { _ = l.Close() })
		runLeader(t, l, "sweep", s.run(who))
	}
	first := <-s.started
	// The holder's database goes away: its renewals fail.
	pools[first].Close()
	var second string
	select {
	case second = <-s.started:
	case <-time.After(30 * time.Second):
		t.Fatal("no process took the lease over")
	}
	if second == first {
		t.Fatalf("%s took its own lease back without a database", first)
	}
}

// TestLeaderHandsOverOnClose: a process that shuts down releases its
// leases, and the next takes them without waiting for them to end.
func TestLeaderHandsOverOnClose(t *testing.T) {
	pools := processes(t, 2)
	s := &singleton{t: t, started: make(chan string, 10)}
	// A TTL far longer than the test: only the release can hand over.
	a := pgreplicas.NewLeader(pools[0], pgreplicas.LeaderOptions{TTL: time.Hour, Poll: 20 * time.Millisecond, ID: "a"})
	b := pgreplicas.NewLeader(pools[1], pgreplicas.LeaderOptions{TTL: time.Hour, Poll: 20 * time.Millisecond, ID: "b"})
	t.Cleanup(func() { _ = b.Close() })
	runLeader(t, a, "polling", s.run("a"))
	if who := <-s.started; who != "a" {
		t.Fatalf("%s started first", who)
	}
	runLeader(t, b, "polling", s.run("b"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case who := <-s.started:
		if who != "b" {
			t.Fatalf("%s took over, want b", who)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("b did not take the released lease")
	}
	if err := a.Run(t.Context(), "polling", s.run("a")); !errors.Is(err, pgreplicas.ErrClosed) {
		t.Errorf("Run on a closed Leader = %v, want ErrClosed", err)
	}
}

// TestLeaderReturnsFnError: fn's own error, while the lease is held, is
// Run's.
func TestLeaderReturnsFnError(t *testing.T) {
	pools := processes(t, 1)
	l := pgreplicas.NewLeader(pools[0], pgreplicas.LeaderOptions{TTL: time.Minute})
	t.Cleanup(func() { _ = l.Close() })
	boom := errors.New("boom")
	if err := l.Run(t.Context(), "x", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want fn's error", err)
	}
}
