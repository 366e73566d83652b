//go:build !unix

package main

import "time"

// processCPU is not measured here: the bench prints no CPU figures.
func processCPU() time.Duration { return 0 }
