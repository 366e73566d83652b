package main

import (
	"io"
	"sync"

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
