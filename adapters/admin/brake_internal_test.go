package admin

import (
	"fmt"
	"testing"
	"time"
)

// The brake remembers at most its maximum of addresses however many fail,
// keeps braking the most recent ones, and forgets the forgiven first.
func TestBrakeBounded(t *testing.T) {
	now := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	b := newBrake(3, time.Minute, 100)
	for i := range 10_000 {
		ip := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		for range 3 {
			b.fail(ip, now)
		}
		if got := b.size(); got > 100 {
			t.Fatalf("after %d addresses the brake remembers %d, want at most 100", i+1, got)
		}
		now = now.Add(time.Millisecond)
	}
	if b.wait("10.0.39.15", now) == 0 { // the last one
		t.Fatal("the most recent address is not braked")
	}
	if b.wait("10.0.0.1", now) != 0 { // long forgotten
		t.Fatal("the first address is still braked")
	}

	// Forgiven addresses go first: an hour later all of these are.
	b = newBrake(3, time.Minute, 10)
	for i := range 10 {
		b.fail(fmt.Sprintf("10.1.0.%d", i), now)
	}
	b.fail("192.0.2.1", now.Add(time.Hour))
	if got := b.size(); got != 1 {
		t.Fatalf("after forgiving, the brake remembers %d addresses, want 1", got)
	}
}
