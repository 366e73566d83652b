// Package gctune is the garbage collector's setting idicbot runs with. The
// binary and its benchmark (cmd/idicbot-bench) both apply it, so that the
// benchmark measures the pipeline as the binary runs it.
package gctune

import (
	"fmt"
	"os"
	"runtime/debug"
)

// Percent is idicbot's GOGC. The store's hot path allocates a lot of
// short-lived memory; a lazier collector is worth about a quarter of the
// throughput for a heap of a few hundred MB (docs/performance.md).
const Percent = 400

// Apply sets GOGC to Percent unless the environment sets GOGC, which
// wins, and says which is in force.
func Apply() string {
	if v := os.Getenv("GOGC"); v != "" {
		return fmt.Sprintf("GOGC %s (from the environment)", v)
	}
	debug.SetGCPercent(Percent)
	return fmt.Sprintf("GOGC %d (idicbot's default)", Percent)
}
