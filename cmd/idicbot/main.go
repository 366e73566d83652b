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
	"syscall"
	// The shop's time zone (Asia/Ho_Chi_Minh) must load on hosts and images
	// without a zoneinfo database (scratch); ~450 kB.
	_ "time/tzdata"

	"github.com/idicbot/idicbot/cmd/internal/gctune"
)

func main() {
	// GOGC 400 unless the environment sets it (package gctune).
	gctune.Apply()
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
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "idicbot:", err)
	}
	os.Exit(ExitCode(err))
}
