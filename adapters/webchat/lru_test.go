package webchat

import (
	"strconv"
	"testing"
	"time"
)

func TestLRUBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := newLRU[int](10, time.Hour)
	for i := range 1000 {
		c.add(strconv.Itoa(i), i, now)
		if c.len() > 10 {
			t.Fatalf("after %d adds: %d entries, want at most 10", i+1, c.len())
		}
	}
	// The most recently used stay; using one keeps it.
	if _, ok := c.get("990", now); !ok {
		t.Fatal("recent entry 990 forgotten")
	}
	for i := range 9 {
		c.add("new"+strconv.Itoa(i), i, now)
	}
	if _, ok := c.get("990", now); !ok {
		t.Fatal("entry 990, used last, was forgotten before older ones")
	}
	if _, ok := c.get("991", now); ok {
		t.Fatal("least recently used entry 991 kept")
	}
	// Entries idle for the idle time go at the next add, full or not.
	later := now.Add(time.Hour)
	c.add("late", 1, later)
	if got, want := c.len(), 1; got != want {
		t.Fatalf("after an idle hour: %d entries, want %d", got, want)
	}
}
