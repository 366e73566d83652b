package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestBenchSmall runs `idicbot bench` end to end on a tiny workload: every
// section runs and prints its figures (no figure is checked against a
// target: those depend on the machine).
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark section")
	}
	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	m.Getenv = func(string) string { return "" }
	if err := m.ParseFlags([]string{"bench", "-messages", "400", "-customers", "240", "-concurrency", "120",
		"-lookup-customers", "2000", "-dir", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^baseline: bbolt Batch 512B puts +400 ops in .* p50 .* p99 `),
		regexp.MustCompile(`(?m)^pipeline: Handle \+ outbox, fsync on +400 ops in `),
		regexp.MustCompile(`(?m)^ratio = pipeline msgs/s ÷ baseline puts/s = \d+ ÷ \d+ = \d+\.\d\d \(target ≥ 0\.5\)$`),
		regexp.MustCompile(`(?m)^  \(writer: \d+ group commits applying \d+ transactions \(\d+\.\d each\), \d+\.\d\d pages written per op; \d+% of the run writing and syncing pages`),
		regexp.MustCompile(`(?m)^pipeline at 100 conversations +400 ops`),
		regexp.MustCompile(`(?m)^telegram polling: Bot API → core → sendMessage +400 ops`),
		regexp.MustCompile(`(?m)^ratio = telegram polling updates/s ÷ core-only msgs/s = .* \(target ≥ 0\.7\)`),
		regexp.MustCompile(`(?m)^telegram webhook: Bot API → core → sendMessage +400 ops`),
		regexp.MustCompile(`(?m)^ratio = telegram webhook updates/s ÷ core-only msgs/s = `),
	} {
		if !want.MatchString(out) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	// Four runs go through the store (core, core at the window, polling,
	// webhook) and the baseline: each says where its writer's time went.
	if n := strings.Count(out, "(writer: "); n != 5 {
		t.Errorf("%d writer lines, want 5:\n%s", n, out)
	}
	// Every run through the store committed something: a second run on a
	// file the first one filled would find every message seen already.
	if m := regexp.MustCompile(`writer: 0 group commits`).FindString(out); m != "" {
		t.Errorf("a run committed nothing:\n%s", out)
	}
	if !strings.Contains(out, "lookup: find by phone") || !strings.Contains(out, "stats (today / 7d / 30d)") {
		t.Errorf("no lookup figures:\n%s", out)
	}
}
