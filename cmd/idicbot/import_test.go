package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// TestImport runs `idicbot import` as a user would, one command after the
// other on the same data directory, and checks what it prints.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	testdata := filepath.Join("..", "..", "bot", "testdata", "import")
	now := time.Date(2026, 11, 10, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	tests := []struct {
		name    string
		args    []string
		wantOut string
		// wantErr lists the lines stderr must hold when the command fails.
		wantErr []string
	}{
		{
			name:    "customers",
			args:    []string{"customers", filepath.Join(testdata, "customers.csv")},
			wantOut: "imported customers: 4 created, 0 updated\n",
		},
		{
			name: "bad orders import nothing",
			args: []string{"orders", filepath.Join(testdata, "bad_orders.csv")},
			wantErr: []string{
				"line 1: channel: unknown column",
				`line 2: amount: "1.5tr" is not an amount in VND`,
				"line 5: order_ref: is required",
				`line 6: order_ref: "B-1" is also on line 2`,
				`line 7: customer: no customer has the external_id, phone or email "C999"`,
				`line 8: amount: "-200000": must be positive`,
				`line 9: amount: "1,50,000" is not an amount in VND`,
				"line 9: date: 2099-01-01 is after today",
				"bad_orders.csv: 8 problems, nothing imported",
			},
		},
		{
			name:    "orders",
			args:    []string{"orders", filepath.Join(testdata, "orders.csv")},
			wantOut: "imported orders: 6 new, 0 already imported, 2 customers changed segment\n",
		},
		{
			name:    "orders again",
			args:    []string{"orders", filepath.Join(testdata, "orders.csv")},
			wantOut: "imported orders: 0 new, 6 already imported, 0 customers changed segment\n",
		},
		{
			name:    "customers updated",
			args:    []string{"customers", filepath.Join(testdata, "customers.csv")},
			wantOut: "imported customers: 0 created, 4 updated\n",
		},
		{
			name:    "unknown kind",
			args:    []string{"products", filepath.Join(testdata, "orders.csv")},
			wantErr: []string{},
		},
		{
			name:    "missing file",
			args:    []string{"orders", filepath.Join(testdata, "nope.csv")},
			wantErr: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := NewMain()
			m.Stdout, m.Stderr = &stdout, &stderr
			m.Getenv = func(string) string { return "" }
			m.Now = func() time.Time { return now }
			err := m.ParseFlags(append([]string{"import", "--data", dir}, tt.args...))
			if err == nil {
				err = m.Run(context.Background())
			}
			if cerr := m.Close(); cerr != nil {
				t.Fatalf("close: %v", cerr)
			}
			if got := stdout.String(); got != tt.wantOut {
				t.Errorf("stdout = %q, want %q", got, tt.wantOut)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("run succeeded, want an error (stdout %q)", stdout.String())
			}
			// main prints the error after what the command printed.
			stderr.WriteString("idicbot: " + err.Error() + "\n")
			for _, line := range tt.wantErr {
				if !strings.Contains(stderr.String(), line) {
					t.Errorf("stderr lacks %q:\n%s", line, stderr.String())
				}
			}
			if len(tt.wantErr) > 0 && crm.ErrorCode(err) != crm.EINVALID {
				t.Errorf("error code = %q, want %q", crm.ErrorCode(err), crm.EINVALID)
			}
		})
	}
}
