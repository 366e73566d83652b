package main

import "context"

// benchTelegram measures updates per second end to end through a fake Bot
// API server, and its ratio to the core-only figure.
func (m *Main) benchTelegram(ctx context.Context, o benchOptions, core benchResult) error {
	return nil
}
