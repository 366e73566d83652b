package boltstore

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestUpgradeFromSchema7 opens a file written by the release before the
// typed event log (d04291f, schema 7; testdata/schema7.db.gz was written by
// that binary's store: a Telegram customer with two messages, an order and
// a segment change, a web visitor shown an offer and merged into her, and
// the settings of that time in meta) and checks that migration 8 moves
// everything to its typed home.
func TestUpgradeFromSchema7(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idicbot.db")
	unzip(t, "testdata/schema7.db.gz", path)
	db := mustOpenPath(t, path)
	at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	view(t, db, func(tx crm.Tx) error {
		var kinds []string
		if err := tx.CustomerEvents(1, time.Time{}, time.Time{}, func(e *crm.Event) error {
			if e.CustomerID != 1 {
				t.Errorf("event %+v names customer %d, want 1 (the merged visitor's too)", e, e.CustomerID)
			}
			kinds = append(kinds, string(e.Kind)+":"+e.OfferID+e.To)
			return nil
		}); err != nil {
			return err
		}
		// Same instant: the order of the old buckets' migration (offers,
		// segment changes, orders), then time.
		if want := []string{"offer_shown:welcome", "segment_change:loyal", "order:welcome", "offer_accepted:welcome"}; !slices.Equal(kinds, want) {
			t.Errorf("customer 1's events = %v, want %v", kinds, want)
		}
		var all []string
		if err := tx.EventsBetween(time.Time{}, time.Time{}, func(e *crm.Event) error {
			all = append(all, string(e.Kind))
			return nil
		}); err != nil {
			return err
		}
		if n := strings.Count(strings.Join(all, " "), "message_"); n != 2 {
			t.Errorf("message events after the upgrade = %d (%v), want the 2 logged messages", n, all)
		}
		if yaml, err := tx.SegmentRules(); err != nil || !strings.Contains(string(yaml), "name: new") {
			t.Errorf("segment rules = %q, %v", yaml, err)
		}
		if h, err := tx.SegmentRuleChanges(); err != nil || len(h) != 1 || h[0].Moved != 2 || h[0].To != "true" {
			t.Errorf("segment rule changes = %+v, %v", h, err)
		}
		if seeded, err := tx.OffersSeeded(); err != nil || !seeded.Equal(at) {
			t.Errorf("offers seeded = %v, %v; want %v", seeded, err, at)
		}
		if id, err := tx.HandoffThread("C1:1700000000.000100"); err != nil || id != 1 {
			t.Errorf("handoff thread = %d, %v; want 1", id, err)
		}
		if tok, err := tx.ChannelToken("zalo"); err != nil || tok == nil || tok.RefreshToken != "RT" || tok.Seed != "abc" || !tok.ExpiresAt.Equal(at.Add(time.Hour)) {
			t.Errorf("zalo token = %+v, %v", tok, err)
		}
		return nil
	})
	if err := db.view(func(tx *bbolt.Tx) error {
		for _, gone := range [][]byte{bktOfferEvents, bktSegmentChanges} {
			if tx.Bucket(gone) != nil {
				t.Errorf("bucket %s still there after the upgrade", gone)
			}
		}
		meta := tx.Bucket(bktMeta)
		for _, k := range []string{"segments_yaml", "segments_history", "offers_seeded", "handoff_thread:C1:1700000000.000100", "zalo:tokens"} {
			if meta.Get([]byte(k)) != nil {
				t.Errorf("meta key %q still there after the upgrade", k)
			}
		}
		if string(meta.Get([]byte("someone:else"))) != "kept" {
			t.Error("an unknown meta key was lost")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if problems, err := db.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", problems, err)
	}
	// An older binary refuses the file: its schema is newer than 7.
	if SchemaVersion() <= 7 {
		t.Fatalf("schema %d: migration 8 missing", SchemaVersion())
	}
}
