// Command idicbot runs the conversational CRM: `idicbot serve` (the bot),
// `idicbot chat` (talk to it from a terminal), `idicbot import`, `idicbot backup`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // the shop's time zone (timezone:) without the system's zoneinfo
)

func main() {
	// The store's hot path allocates a lot of short-lived memory; a lazier
	// collector is worth ~25% throughput (docs/performance.md) for a heap of
	// a few hundred MB. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.ParseFlags(os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "idicbot:", err)
		os.Exit(1)
	}
}
