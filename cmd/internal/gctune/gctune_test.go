package gctune

import (
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	t.Setenv("GOGC", "")
	if got, want := Apply(), "GOGC 400 (idicbot's default)"; got != want {
		t.Errorf("Apply() = %q, want %q", got, want)
	}
	if p := debug.SetGCPercent(100); p != Percent {
		t.Errorf("GOGC after Apply = %d, want %d", p, Percent)
	}
	t.Setenv("GOGC", "150")
	if got, want := Apply(), "GOGC 150 (from the environment)"; got != want {
		t.Errorf("Apply() with GOGC=150 = %q, want %q", got, want)
	}
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("Apply changed GOGC to %d although the environment sets it", p)
	}
}
