package llm

import (
	"testing"
	"time"
)

func TestBreakerStates(t *testing.T) {
	now := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	var changes []int
	b := &breaker{failures: 3, cooldown: time.Minute, now: func() time.Time { return now }, onChange: func(s int) { changes = append(changes, s) }}

	// Failures below the threshold, interrupted by a success, keep it closed.
	for _, ok := range []bool{false, false, true, false, false} {
		if !b.allow() {
			t.Fatal("closed breaker refused a call")
		}
		b.done(ok)
	}
	if got, want := b.State(), BreakerClosed; got != want {
		t.Fatalf("state = %d, want %d", got, want)
	}
	// The third failure in a row opens it.
	b.allow()
	b.done(false)
	if got, want := b.State(), BreakerOpen; got != want {
		t.Fatalf("state = %d, want %d (open)", got, want)
	}
	if b.allow() {
		t.Fatal("open breaker let a call through")
	}
	now = now.Add(59 * time.Second)
	if b.allow() {
		t.Fatal("open breaker let a call through before the cool-down")
	}
	// After the cool-down exactly one trial goes through.
	now = now.Add(time.Second)
	if !b.allow() {
		t.Fatal("half-open breaker refused the trial call")
	}
	if got, want := b.State(), BreakerHalfOpen; got != want {
		t.Fatalf("state = %d, want %d (half-open)", got, want)
	}
	if b.allow() {
		t.Fatal("half-open breaker let a second call through during the trial")
	}
	// A failed trial opens it again for a full cool-down.
	b.done(false)
	if got, want := b.State(), BreakerOpen; got != want {
		t.Fatalf("state = %d, want %d (open after failed trial)", got, want)
	}
	now = now.Add(30 * time.Second)
	if b.allow() {
		t.Fatal("breaker reopened by a failed trial let a call through")
	}
	// A caller that gave up during the trial frees the trial slot.
	now = now.Add(30 * time.Second)
	if !b.allow() {
		t.Fatal("no trial after the second cool-down")
	}
	b.release()
	if !b.allow() {
		t.Fatal("released trial slot not reusable")
	}
	// A successful trial closes it.
	b.done(true)
	if got, want := b.State(), BreakerClosed; got != want {
		t.Fatalf("state = %d, want %d (closed)", got, want)
	}
	want := []int{BreakerOpen, BreakerHalfOpen, BreakerOpen, BreakerHalfOpen, BreakerClosed}
	if len(changes) != len(want) {
		t.Fatalf("state changes %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("state changes %v, want %v", changes, want)
		}
	}
}
