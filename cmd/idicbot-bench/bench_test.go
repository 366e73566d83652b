package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// TestBenchSmall runs idicbot-bench end to end on a tiny workload: every
// section runs and prints its figures (no figure is checked against a
// target: those depend on the machine).
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark section")
	}
	for _, tc := range []struct {
		name        string
		concurrency string
		narrow      bool // the core-only run at Telegram's window of 100
	}{
		{"wider than Telegram's window", "120", true},
		// The core-only figure is then the window's: a second run on the
		// first one's file found every message seen and printed nonsense.
		{"within Telegram's window", "12", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := runBench(t, "-messages", "400", "-customers", "240", "-concurrency", tc.concurrency,
				"-lookup-customers", "2000", "-campaign-customers", "2000",
				"-dashboard-customers", "500", "-dashboard-events", "5000", "-dir", t.TempDir())
			want := []string{
				`(?m)^baseline: bbolt Batch 512B puts +400 ops in .* p50 .* p99 `,
				`(?m)^pipeline: Handle \+ outbox, fsync on +400 ops in `,
				`(?m)^ratio = pipeline msgs/s ÷ baseline puts/s = \d+ ÷ \d+ = \d+\.\d\d \(target ≥ 0\.5\)$`,
				`(?m)^  \(writer: [1-9]\d* group commits applying \d+ transactions \(\d+\.\d each\), \d+\.\d\d pages written per op; \d+% of the run writing and syncing pages`,
				`(?m)^telegram polling: Bot API → core → sendMessage +400 ops`,
				`(?m)^ratio = telegram polling updates/s ÷ core-only msgs/s = .* \(target ≥ 0\.7\); ÷ core at ` + map[bool]string{true: "100", false: "12"}[tc.narrow] + ` conversations`,
				`(?m)^telegram webhook: Bot API → core → sendMessage +400 ops`,
				`(?m)^ratio = telegram webhook updates/s ÷ core-only msgs/s = `,
				`(?m)^telegram sendMessage alone +\d+ ops in .* CPU +\d+ µs/op \(\d+% of \d+ cores\)$`,
				`(?m)^CPU bound on Telegram: \d+ cores ÷ \(core-only \d+ µs a message \+ \d+\.\d\d sendMessage an update × \d+ µs\) = \d+ updates/s = \d+\.\d\d of core-only \(target ≥ 0\.7\)$`,
				`(?m)^pipeline: Handle \+ outbox, fsync on +400 ops in .* CPU +\d+ µs/op`,
				`(?m)^lookup: find by phone `,
				`(?m)^stats \(today / 7d / 30d\) `,
				`(?m)^campaign to \d+ customers: expanded in [\d.]+ s \(\d+ customers/s\), sent in [\d.]+ s \(\d+ msgs/s drain\), peak heap \d+ MiB$`,
				`(?m)^ratio = live reply p99 during the campaign ÷ without = [\d.]+ ms ÷ [\d.]+ ms = [\d.]+ \(target ≤ 1\.5; [1-9]\d* and [1-9]\d* replies\)$`,
				`(?m)^dashboard: first report after a restart .* from rollups`,
				`(?m)^dashboard: 90-day report +100 ops in .* p99 .* target p99 ≤ 500ms: `,
			}
			if tc.narrow {
				want = append(want, `(?m)^pipeline at 100 conversations +400 ops`)
			}
			for _, w := range want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("bench output lacks %q:\n%s", w, out)
				}
			}
			if !tc.narrow && strings.Contains(out, "pipeline at ") {
				t.Errorf("a run at the window's concurrency ran the window's figure again:\n%s", out)
			}
			// Every run through a store (the baseline, the core, the core at
			// the window, polling, webhook) says where its writer's time
			// went, and each committed something.
			lines := 4
			if tc.narrow {
				lines = 5
			}
			if n := strings.Count(out, "(writer: "); n != lines {
				t.Errorf("%d writer lines, want %d:\n%s", n, lines, out)
			}
			if strings.Contains(out, "writer: 0 group commits") {
				t.Errorf("a run committed nothing:\n%s", out)
			}
		})
	}
}

// runBench runs `idicbot-bench args…` and returns what it printed.
func runBench(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	b := &bench{Stdout: &stdout, Stderr: &stderr, Args: args}
	if err := b.runBench(context.Background()); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestBenchLookupsPostgres runs the reps' lookups alone on both stores:
// every figure of PostgreSQL's is printed, and again beside bbolt's.
func TestBenchLookupsPostgres(t *testing.T) {
	server := pgtest.ServerURL(t)
	out := runBench(t, "-only-lookups", "-lookup-customers", "2000", "-postgres", server, "-dir", t.TempDir())
	for _, w := range []string{
		`(?m)^lookup: find by phone `,
		`(?m)^postgres lookups: a store of 2000 customers loaded in `,
		`(?m)^postgres lookup: find by phone .* target p99 ≤ 5ms: `,
		`(?m)^postgres lookup: find by partial name \(many matches\) .* target p99 ≤ 50ms: `,
		`(?m)^postgres segment new, pages 1–100 `,
		`(?m)^postgres stats \(today / 7d / 30d\) `,
		`(?m)^lookups p99, +bbolt +postgres +target$`,
		`(?m)^  find by customer id +\d+\.\d\dms +\d+\.\d\dms +5ms (ok|MISSED)$`,
		`(?m)^  stats \(today / 7d / 30d\) +\d+\.\d\dms +\d+\.\d\dms +50ms (ok|MISSED)$`,
	} {
		if !regexp.MustCompile(w).MatchString(out) {
			t.Errorf("bench output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "pipeline") {
		t.Errorf("-only-lookups ran the pipeline:\n%s", out)
	}
}
