package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/idicbot/idicbot/bot"
)

const importUsage = "usage: idicbot import [flags] customers|orders FILE"

// runImport imports a customers or orders CSV file (`idicbot import
// customers FILE`, `idicbot import orders FILE`; the columns are documented
// in bot/importer.go). A file with bad rows imports nothing: every problem is
// printed on stderr, one line each, and the command fails.
func (m *Main) runImport(ctx context.Context) error {
	if len(m.Args) != 2 {
		return errors.New(importUsage)
	}
	kind, path := m.Args[0], m.Args[1]
	imp := m.Core.Importer()
	var importFile func(context.Context, io.Reader, string) (bot.ImportSummary, error)
	switch kind {
	case "customers":
		importFile = imp.ImportCustomers
	case "orders":
		importFile = imp.ImportOrders
	default:
		return fmt.Errorf("import: unknown kind %q; %s", kind, importUsage)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	defer f.Close()
	rep, err := importFile(ctx, f, filepath.Base(path))
	var ie *bot.ImportError
	if errors.As(err, &ie) {
		for _, p := range ie.Problems {
			fmt.Fprintln(m.Stderr, p)
		}
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	switch kind {
	case "customers":
		fmt.Fprintf(m.Stdout, "imported customers: %d created, %d updated\n", rep.Created, rep.Updated)
	case "orders":
		fmt.Fprintf(m.Stdout, "imported orders: %d new, %d already imported, %d customers changed segment\n",
			rep.New, rep.AlreadyImported, rep.SegmentChanged)
	}
	return nil
}
