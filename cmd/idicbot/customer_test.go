package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// runCustomerCmd runs `idicbot customer --data dir args…` and returns stdout.
func runCustomerCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	return runCmd(t, time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC), append([]string{"customer", "--data", dir}, args...)...)
}

func TestCustomerExportErase_CLI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idicbot.db")
	db, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var id crm.ID
	if err := db.Update(context.Background(), func(tx crm.Tx) error {
		c := &crm.Customer{Name: "Vũ Minh Khôi", Phone: "+84977300561", Email: "khoi.vu@example.vn"}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		id = c.ID
		return tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelWeb,
			Kind: crm.KindText, Text: "gửi hoá đơn công ty giúp mình"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ids := strconv.FormatUint(uint64(id), 10)

	out, err := runCustomerCmd(t, dir, "export", ids)
	if err != nil {
		t.Fatal(err)
	}
	var x crm.CustomerExport
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out)
	}
	if x.Customer.Email != "khoi.vu@example.vn" || len(x.Interactions) != 1 {
		t.Fatalf("export %s", out)
	}

	if _, err := runCustomerCmd(t, dir, "erase", ids); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("erase without --yes: %v, want a refusal naming --yes", err)
	}
	out, err = runCustomerCmd(t, dir, "erase", ids, "--yes")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "customer "+ids+" erased") || !strings.Contains(out, "lan (cli)") || !strings.Contains(out, "backups") {
		t.Fatalf("erase said %q", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Vũ Minh Khôi", "+84977300561", "khoi.vu@example.vn", "hoá đơn công ty"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%q still in the data file after `idicbot customer erase`", s)
		}
	}
	if _, err := runCustomerCmd(t, dir, "erase", "--yes", ids); err == nil || !strings.Contains(err.Error(), "already erased") {
		t.Fatalf("second erase: %v, want already erased", err)
	}
	if _, err := runCustomerCmd(t, dir, "export", "424242"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("export of an unknown id: %v", err)
	}
	if _, err := runCustomerCmd(t, dir, "export", "lan"); err == nil || !strings.Contains(err.Error(), "not a customer id") {
		t.Fatalf("export of a bad id: %v", err)
	}
}
