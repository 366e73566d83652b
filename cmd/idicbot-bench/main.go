// Command idicbot-bench measures idicbot's throughput and latency side by
// side with raw bbolt, in one run (what `make bench` runs). It lives apart
// from the product binary so that idicbot carries neither the benchmark nor
// the test fakes it drives.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/idicbot/idicbot/cmd/internal/gctune"
)

// bench is one run of the benchmark: its arguments and where it writes.
type bench struct {
	Stdout, Stderr io.Writer
	Args           []string
	// bboltLookups are the lookup figures on bbolt, printed again beside
	// PostgreSQL's.
	bboltLookups []lookupFigure
	// GC says the garbage collector's setting, printed in the header: main
	// applies idicbot's (package gctune), so the pipeline runs as in the
	// binary.
	GC string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{Stdout: os.Stdout, Stderr: os.Stderr, Args: os.Args[1:], GC: gctune.Apply()}
	if err := b.runBench(ctx); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "idicbot-bench:", err)
		os.Exit(1)
	}
}
