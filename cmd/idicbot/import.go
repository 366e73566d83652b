package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idicbot/idicbot/bot"
)

// shownProblems is how many problems of a bad file the screen shows; the
// --errors file has them all.
const shownProblems = 20

// runImport imports a customers or orders CSV file (`idicbot import
// customers FILE`, `idicbot import orders FILE`; the columns are documented
// in bot/importer.go). A file with bad rows imports nothing: the screen
// shows the first problems and their count, and --errors writes every bad
// row, with its own values, to a CSV file the owner can fix. On a terminal
// a progress line shows rows/s and the time left.
func (m *Main) runImport(ctx context.Context) error {
	kind, path := m.Args[0], m.Args[1]
	imp := m.Core.Importer()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	if !m.NoProgress && m.isTerminal(m.Stderr) {
		bar := newProgressLine(m.Stderr, "importing "+kind, time.Now)
		defer bar.Done()
		imp = imp.WithProgress(func(p bot.ImportProgress) { bar.Update(p.Done, p.Total) })
	}
	importFile := imp.ImportCustomers
	if kind == "orders" {
		importFile = imp.ImportOrders
	}
	start := time.Now()
	rep, err := importFile(ctx, bytes.NewReader(data), filepath.Base(path))
	var ie *bot.ImportError
	if errors.As(err, &ie) {
		return m.importProblems(kind, ie, data)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	took := time.Since(start)
	switch kind {
	case "customers":
		fmt.Fprintf(m.Stdout, "imported customers: %d created, %d updated\n", rep.Created, rep.Updated)
	case "orders":
		fmt.Fprintf(m.Stdout, "imported orders: %d new, %d already imported, %d customers changed segment\n",
			rep.New, rep.AlreadyImported, rep.SegmentChanged)
	}
	m.Log.Debug("import done", "kind", kind, "rows", rep.Rows, "seconds", seconds(took))
	return nil
}

// isTerminal is Main.Terminal, or whether w is a terminal.
func (m *Main) isTerminal(w io.Writer) bool {
	if m.Terminal != nil {
		return m.Terminal(w)
	}
	return isTerminal(w)
}

// importProblems shows the first problems of a refused file on stderr and
// writes every bad row to --errors.
func (m *Main) importProblems(kind string, ie *bot.ImportError, data []byte) error {
	for i, p := range ie.Problems {
		if i == shownProblems {
			fmt.Fprintf(m.Stderr, "… and %d more\n", len(ie.Problems)-shownProblems)
			break
		}
		fmt.Fprintln(m.Stderr, p)
	}
	if m.ErrorsFile != "" {
		n, err := writeBadRows(m.ErrorsFile, ie, data)
		if err != nil {
			return fmt.Errorf("import %s: %w (and writing %s: %w)", kind, ie, m.ErrorsFile, err)
		}
		fmt.Fprintf(m.Stderr, "%d bad rows, each with its problems and its values, are in %s: fix them in the original file and import it again\n", n, m.ErrorsFile)
	} else if len(ie.Problems) > shownProblems {
		fmt.Fprintf(m.Stderr, "to get every bad row in a file: idicbot import %s FILE --errors bad.csv\n", kind)
	}
	return fmt.Errorf("import %s: %w", kind, ie)
}

// writeBadRows writes one CSV row per bad line of the file: its line
// number, its problems, then its own cells under the file's own header, so
// the owner sees the real values (masked nowhere: it is their data, in a
// file only they read). It returns how many rows it wrote.
func writeBadRows(path string, ie *bot.ImportError, data []byte) (int, error) {
	header, rows := readRowsByLine(data)
	problems := map[int][]string{}
	var lines []int
	for _, p := range ie.Problems {
		if _, seen := problems[p.Line]; !seen {
			lines = append(lines, p.Line)
		}
		problems[p.Line] = append(problems[p.Line], p.Column+": "+p.Reason)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	// A byte order mark, so that Excel opens the Vietnamese text as UTF-8.
	_, _ = w.WriteString("\ufeff") // errors come back from Flush
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"line", "problems"}, header...))
	for _, line := range lines {
		_ = cw.Write(append([]string{fmt.Sprint(line), strings.Join(problems[line], "; ")}, rows[line]...))
	}
	cw.Flush()
	err = errors.Join(cw.Error(), w.Flush(), f.Close())
	return len(lines), err
}

// readRowsByLine reads an import file's header and its records by the
// line each starts on, as the importer numbers them. Lines it cannot parse
// have no record.
func readRowsByLine(data []byte) ([]string, map[int][]string) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	rows := map[int][]string{}
	var header []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if header == nil {
			header = rec
			continue
		}
		rows[line] = rec
	}
	return header, rows
}
