package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// importCmd runs `idicbot import args…` on dir as a terminal would see it
// (terminal) and returns stdout, stderr and the error.
func importCmd(t *testing.T, dir string, terminal bool, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	m.Getenv = func(string) string { return "" }
	m.Now = func() time.Time { return time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC) }
	m.Terminal = func(io.Writer) bool { return terminal }
	err := m.ParseFlags(append([]string{"import", "--data", dir}, args...))
	if err == nil {
		err = m.Run(context.Background())
	}
	if cerr := m.Close(); cerr != nil {
		t.Fatalf("close: %v", cerr)
	}
	return stdout.String(), stderr.String(), err
}

func writeCustomers(t *testing.T, n int, bad map[int]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("external_id,name,phone\n")
	for i := 1; i <= n; i++ {
		phone := fmt.Sprintf("09%08d", 12000000+i)
		if p, ok := bad[i]; ok {
			phone = p
		}
		fmt.Fprintf(&b, "K%05d,Nguyễn Văn %d,%s\n", i, i, phone)
	}
	path := filepath.Join(t.TempDir(), "khach-hang.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportProgress: on a terminal the import draws a progress line on
// stderr that ends at every row, with the rate; stdout holds the summary
// alone. Off a terminal nothing is drawn.
func TestImportProgress(t *testing.T) {
	file := writeCustomers(t, 1200, nil) // three transactions
	out, stderr, err := importCmd(t, t.TempDir(), true, "customers", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if want := "imported customers: 1200 created, 0 updated\n"; out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	for _, want := range []string{"\rimporting customers: 1,200 rows checked, writing…", "100% 1,200/1,200 rows, ", " rows/s"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%q", want, stderr)
		}
	}
	_, stderr, err = importCmd(t, t.TempDir(), false, "customers", file)
	if err != nil || strings.Contains(stderr, "\r") || strings.Contains(stderr, "rows/s") {
		t.Errorf("progress drawn off a terminal (%v):\n%q", err, stderr)
	}
}

func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	now := start
	var buf bytes.Buffer
	p := newProgressLine(&buf, "importing orders", func() time.Time { return now })
	p.Update(0, 100000)
	now = start.Add(5 * time.Second)
	p.Update(25000, 100000)
	now = now.Add(10 * time.Millisecond)
	p.Update(26000, 100000) // too soon: not drawn
	now = start.Add(20 * time.Second)
	p.Update(100000, 100000)
	p.Done()
	want := "\rimporting orders: 100,000 rows checked, writing…" +
		"\rimporting orders ██████░░░░░░░░░░░░░░░░░░  25% 25,000/100,000 rows, 5,000 rows/s, 15s left" +
		"\rimporting orders ████████████████████████ 100% 100,000/100,000 rows, 5,000 rows/s" +
		"         \n" // blanks the end of the longer line before it
	if got := buf.String(); got != want {
		t.Fatalf("drew\n%q\nwant\n%q", got, want)
	}
}

// TestImportErrorsFile: a file with many bad rows imports nothing, shows
// the first 20 problems and a count, and --errors gets every bad row with
// the owner's own values, unmasked.
func TestImportErrorsFile(t *testing.T) {
	bad := map[int]string{}
	for i := 10; i < 35; i++ {
		bad[i] = fmt.Sprintf("0912 34%d", i) // too short to be a phone
	}
	file := writeCustomers(t, 60, bad)
	dir := t.TempDir()
	errorsFile := filepath.Join(t.TempDir(), "loi.csv")
	out, stderr, err := importCmd(t, dir, false, "customers", file, "--errors", errorsFile)
	if err == nil || !strings.Contains(err.Error(), "25 problems, nothing imported") {
		t.Fatalf("err = %v", err)
	}
	if out != "" {
		t.Errorf("stdout = %q", out)
	}
	if got := strings.Count(stderr, ": phone: "); got != 20 {
		t.Errorf("screen shows %d problems, want 20:\n%s", got, stderr)
	}
	for _, want := range []string{"line 11: phone: ", "… and 5 more", "25 bad rows", errorsFile} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	data, err := os.ReadFile(errorsFile)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 26 {
		t.Fatalf("%d records, want a header and 25 rows:\n%s", len(recs), data)
	}
	if got, want := strings.Join(recs[0], ","), "line,problems,external_id,name,phone"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	// Customer 10 is on line 11 (the header is line 1).
	if got := recs[1]; got[0] != "11" || got[2] != "K00010" || got[3] != "Nguyễn Văn 10" || got[4] != "0912 3410" || !strings.HasPrefix(got[1], "phone: ") {
		t.Errorf("first bad row %q", got)
	}
	// Nothing was imported: customer K00001 is new.
	if out, stderr, err := importCmd(t, dir, false, "customers", writeCustomers(t, 1, nil)); err != nil || out != "imported customers: 1 created, 0 updated\n" {
		t.Fatalf("%q %v %s", out, err, stderr)
	}
}
