package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// TestCrashChild is not a test on its own: TestCrashAfterCommit runs the test
// binary again with IDICBOT_CRASH_DIR set, and this process then dies right
// after its first commit, before the reply is sent.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("IDICBOT_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrashAfterCommit")
	}
	m := NewMain()
	m.Stdin = strings.NewReader("xin chào\n")
	m.Getenv = func(string) string { return "" }
	m.AfterCommit = func(r bot.Result) {
		if len(r.Outbox) > 0 {
			os.Exit(3) // the reply is committed in the outbox, nothing sent
		}
	}
	if err := m.ParseFlags([]string{"chat", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	m.Close()
	t.Fatalf("child did not crash: %v", err)
}

// TestCrashAfterCommit kills the process between the commit and the send and
// shows that the reply is sent exactly once after a restart, and never again.
func TestCrashAfterCommit(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "IDICBOT_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child should die with code 3 after the commit: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "bot>") {
		t.Fatalf("child sent a reply before dying:\n%s", out)
	}

	restart := func() string {
		t.Helper()
		var stdout bytes.Buffer
		m := NewMain()
		m.Stdin = strings.NewReader("") // no new message: only what is pending
		m.Stdout, m.Stderr = &stdout, &bytes.Buffer{}
		m.Getenv = func(string) string { return "" }
		if err := m.ParseFlags([]string{"chat", "--data", dir}); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ins, outs int
		if err := m.DB.View(context.Background(), func(tx crm.Tx) error {
			c, err := tx.FindCustomerByIdentity(crm.ChannelConsole, "console")
			if err != nil || c == nil {
				t.Fatalf("customer not stored: %v", err)
			}
			all, err := tx.Interactions(c.ID, 0, 0)
			for _, it := range all {
				if it.Direction == crm.Inbound {
					ins++
				} else {
					outs++
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if ins != 1 || outs != 2 {
			t.Fatalf("interactions: %d in, %d out; want 1 in, 2 out (greeting + offer)", ins, outs)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return stdout.String()
	}
	first := restart()
	if got := strings.Count(first, "bot> Xin chào"); got != 1 {
		t.Fatalf("after restart the greeting was sent %d times, want 1:\n%s", got, first)
	}
	if got := strings.Count(first, "WELCOME10"); got != 1 {
		t.Fatalf("after restart the offer was sent %d times, want 1:\n%s", got, first)
	}
	if second := restart(); strings.Contains(second, "bot>") {
		t.Fatalf("a second restart sent again:\n%s", second)
	}
}
