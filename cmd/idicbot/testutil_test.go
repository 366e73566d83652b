package main

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

type crmTx = crm.Tx

// syncWriter serialises writes of concurrent loggers in tests.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// runCmd runs `idicbot args…` through Main, as a user "lan" at now, and
// returns what it printed on stdout (stderr holds the logs).
func runCmd(t *testing.T, now time.Time, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	m.Getenv = func(k string) string {
		if k == "USER" {
			return "lan"
		}
		return ""
	}
	m.Now = func() time.Time { return now }
	err := m.ParseFlags(args)
	if err == nil {
		err = m.Run(context.Background())
	}
	if cerr := m.Close(); cerr != nil {
		t.Fatalf("close: %v", cerr)
	}
	return stdout.String(), err
}
