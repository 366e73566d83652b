package boltstore

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// TestUpgradeFromSchema5 opens a data file written by the release before
// contact claims (22b8f1e, schema 5: customers in the 0x83 layout) and
// checks that it upgrades in place: the schema is raised, every record
// reads, every index agrees, and records written now take the new layout.
// testdata/schema5.db.gz came from that binary's core: a Telegram customer
// who shared her contact, asked a price and has an order; a web chat
// visitor who typed a phone number and said STOP.
func TestUpgradeFromSchema5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idicbot.db")
	unzip(t, "testdata/schema5.db.gz", path)
	db := mustOpenPath(t, path)
	view(t, db, func(tx crm.Tx) error {
		lan, err := tx.FindCustomerByIdentity(crm.ChannelTelegram, "7001")
		if err != nil || lan == nil {
			t.Fatalf("telegram customer: %v, %v", lan, err)
		}
		if lan.Phone != "+84912345678" || lan.Name != "Lan" || lan.Stats.Orders != 1 || lan.Stats.MessagesIn != 2 {
			t.Fatalf("telegram customer after the upgrade: %+v", lan)
		}
		web, err := tx.FindCustomerByIdentity(crm.ChannelWeb, "web-1")
		if err != nil || web == nil {
			t.Fatalf("web customer: %v, %v", web, err)
		}
		// Typed before claims existed: kept as it was stored (docs/security.md).
		if web.Phone != "+84987654321" || !web.Consent.OptedOut || web.Claims != (crm.ContactClaims{}) {
			t.Fatalf("web customer after the upgrade: %+v", web)
		}
		if n, err := tx.CustomerCount(); err != nil || n != 2 {
			t.Fatalf("customers: %d, %v", n, err)
		}
		return nil
	})
	var schema uint64
	if err := db.view(func(tx *bbolt.Tx) error {
		schema = binary.BigEndian.Uint64(tx.Bucket(bktMeta).Get([]byte(metaSchemaVersion)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if schema != uint64(SchemaVersion()) {
		t.Fatalf("schema %d after open, want %d", schema, SchemaVersion())
	}
	// A record saved now takes the new layout, with its claims.
	update(t, db, func(tx crm.Tx) error {
		web, err := tx.FindCustomerByIdentity(crm.ChannelWeb, "web-1")
		if err != nil {
			return err
		}
		web.Claims = crm.ContactClaims{Email: "lan@example.com", Channel: crm.ChannelWeb}
		return tx.PutCustomer(web)
	})
	view(t, db, func(tx crm.Tx) error {
		got, err := tx.FindCustomersByClaim("lan@example.com")
		if err != nil || len(got) != 1 || got[0].Claims.Channel != crm.ChannelWeb {
			t.Fatalf("claim after save: %+v, %v", got, err)
		}
		return nil
	})
	if problems, err := db.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", problems, err)
	}
}

func unzip(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
