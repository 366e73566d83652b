package inproc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// ready reports whether ch has a notification waiting, without waiting.
func ready(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// notify publishes topic and key on n.
func notify(t *testing.T, n *Notifier, topic, key string) {
	t.Helper()
	if err := n.Notify(context.Background(), topic, key); err != nil {
		t.Fatal(err)
	}
}

func TestNotifierDeliversToItsKeyOnly(t *testing.T) {
	n := NewNotifier()
	a, releaseA := n.Subscribe("webchat", "s")
	b, releaseB := n.Subscribe("webchat", "s")
	otherKey, releaseOK := n.Subscribe("webchat", "t")
	otherTopic, releaseOT := n.Subscribe("offers", "s")
	if got, want := n.Keys(), 3; got != want {
		t.Fatalf("Keys = %d, want %d", got, want)
	}

	notify(t, n, "webchat", "s")
	for name, ch := range map[string]<-chan struct{}{"a": a, "b": b} {
		if !ready(ch) {
			t.Fatalf("subscriber %s not woken", name)
		}
	}
	if ready(otherKey) {
		t.Fatal("subscriber of another key woken")
	}
	if ready(otherTopic) {
		t.Fatal("subscriber of another topic woken")
	}

	// A subscription hears every later notification, not just one.
	notify(t, n, "webchat", "s")
	if !ready(a) {
		t.Fatal("subscriber not woken by a second notification")
	}

	releaseA()
	releaseA() // twice is harmless
	notify(t, n, "webchat", "s")
	if ready(a) {
		t.Fatal("released subscription woken")
	}
	if !ready(b) {
		t.Fatal("remaining subscriber not woken after another's release")
	}
	releaseB()
	releaseOK()
	releaseOT()
	notify(t, n, "nobody", "")
	if got := n.Keys(); got != 0 {
		t.Fatalf("Keys = %d after every subscriber left, want 0", got)
	}
}

// TestNotifierNeverBlocks checks that a subscriber that does not take its
// notifications neither blocks the publisher nor piles them up: it finds
// one waiting, however many were sent.
func TestNotifierNeverBlocks(t *testing.T) {
	ctx := context.Background()
	n := NewNotifier()
	slow, release := n.Subscribe("offers", "")
	defer release()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10000 {
			if err := n.Notify(ctx, "offers", ""); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Notify blocked on a subscriber that does not read")
	}
	if !ready(slow) {
		t.Fatal("slow subscriber has no notification")
	}
	if ready(slow) {
		t.Fatal("notifications not coalesced: a second one was waiting")
	}
}

func TestLeaderRunsUntilCancelled(t *testing.T) {
	l := NewLeader()
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- l.Run(ctx, "sweep", func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return errors.New("stopped")
		})
	}()
	<-started // the in-process lease is free: fn runs
	cancel()
	if err := <-errc; err == nil || err.Error() != "stopped" {
		t.Fatalf("Run = %v, want fn's error", err)
	}
}

func TestLeaderCloseStopsAndWaits(t *testing.T) {
	l := NewLeader()
	var mu sync.Mutex
	running := 0
	var started sync.WaitGroup
	var runs sync.WaitGroup
	for _, name := range []string{"sweep", "retention", "telegram"} {
		started.Add(1)
		runs.Add(1)
		go func() {
			defer runs.Done()
			err := l.Run(context.Background(), name, func(ctx context.Context) error {
				mu.Lock()
				running++
				mu.Unlock()
				started.Done()
				<-ctx.Done()
				mu.Lock()
				running--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Errorf("Run(%s) = %v, want nil", name, err)
			}
		}()
	}
	started.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := running
	mu.Unlock()
	if got != 0 {
		t.Fatalf("%d singletons still running after Close returned", got)
	}
	runs.Wait()
	if err := l.Run(context.Background(), "late", func(context.Context) error {
		t.Error("fn ran on a closed leader")
		return nil
	}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close = %v, want ErrClosed", err)
	}
}

// TestLeaderOneHolderPerName checks that two Runs of one name never run
// at once: the second takes the lease when the first gives it up.
func TestLeaderOneHolderPerName(t *testing.T) {
	l := NewLeader()
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	firstIn := make(chan struct{})
	secondIn := make(chan struct{})
	go func() {
		_ = l.Run(ctx, "sweep", func(ctx context.Context) error {
			close(firstIn)
			<-ctx.Done()
			return nil
		})
	}()
	<-firstIn
	errc := make(chan error, 1)
	go func() {
		errc <- l.Run(context.Background(), "sweep", func(context.Context) error {
			close(secondIn)
			return nil
		})
	}()
	// Another name is not held up.
	if err := l.Run(context.Background(), "retention", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-secondIn:
		t.Fatal("second holder ran while the first held the lease")
	default:
	}
	cancel() // the first gives the lease up
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	select {
	case <-secondIn:
	default:
		t.Fatal("second holder returned without running")
	}
}
