package main

import "context"

// benchLookups measures the reps' lookups (find by phone, id and name, stats)
// on a large store.
func (m *Main) benchLookups(ctx context.Context, o benchOptions, core benchResult) error {
	return nil
}
