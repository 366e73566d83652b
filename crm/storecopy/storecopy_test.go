package storecopy_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
	"github.com/idicbot/idicbot/crm/storecopy"
)

var base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func openBolt(t *testing.T) *boltstore.DB {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "idicbot.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func openPG(t *testing.T) *pgstore.DB {
	t.Helper()
	db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// fillShop stores a small shop with every kind of record: customers with
// identities and claims, a merge, an erasure, messages with their dedupe
// markers, orders with lines, offers with versions, events, outbox items
// pending and sent, settings, a token and counters.
func fillShop(t *testing.T, s crm.Store) {
	t.Helper()
	err := s.Update(t.Context(), func(tx crm.Tx) error {
		var ids []crm.ID
		for i := range 30 {
			c := &crm.Customer{Name: fmt.Sprintf("Nguyễn Văn %c", 'A'+i), Phone: fmt.Sprintf("+8490000%04d", i),
				Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: fmt.Sprint(100 + i), Username: fmt.Sprint("u", i), FirstSeen: base}},
				Segment:    crm.SegmentAssignment{Name: []string{"new", "loyal", "vip"}[i%3], Since: base},
				Stats:      crm.Aggregates{TotalSpent: int64(i * 1000), FirstSeen: base, LastSeen: base, MessagesIn: 2},
				Claims:     crm.ContactClaims{Email: fmt.Sprintf("c%d@shop.vn", i)}, CreatedAt: base, UpdatedAt: base}
			if i == 5 {
				c.Handoff = crm.Handoff{Active: true, Thread: "C1:5.5", RequestedAt: base}
			}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
			for j := range 2 {
				in := &crm.Interaction{CustomerID: c.ID, Time: base.Add(time.Duration(j) * time.Minute), Direction: crm.Inbound,
					Channel: crm.ChannelTelegram, MessageID: fmt.Sprintf("%d:%d", i, j), Kind: crm.KindText, Text: "xin chào"}
				if err := tx.AppendInteraction(in); err != nil {
					return err
				}
				if err := tx.MarkMessage(crm.ChannelTelegram, in.MessageID, in.ID); err != nil {
					return err
				}
				if err := tx.AppendEvent(&crm.Event{CustomerID: c.ID, Time: in.Time, Kind: crm.EventMessageIn, InteractionID: in.ID, Channel: crm.ChannelTelegram}); err != nil {
					return err
				}
			}
			if _, err := tx.AddOrder(&crm.Order{CustomerID: c.ID, Ref: fmt.Sprint("SO-", i), Time: base, Note: "giao chiều",
				Items: []crm.OrderItem{{Product: "ao", Quantity: 2, Price: 150_000}}}); err != nil {
				return err
			}
			if err := tx.AppendEvent(&crm.Event{CustomerID: c.ID, Time: base.Add(time.Hour), Kind: crm.EventOfferShown, OfferID: "tet"}); err != nil {
				return err
			}
			it := &crm.OutboxItem{CustomerID: c.ID, Channel: crm.ChannelTelegram, ChatID: fmt.Sprint(100 + i), Text: "Cảm ơn", CreatedAt: base,
				LeaseOwner: "gone", LeaseUntil: base.Add(time.Minute)}
			if err := tx.EnqueueOutbox(it); err != nil {
				return err
			}
			if i%2 == 0 {
				it.Status, it.SentAt, it.Attempts = crm.OutboxSent, base.Add(time.Second), 1
				if err := tx.PutOutbox(it); err != nil {
					return err
				}
			}
		}
		// A merge: customer 1 into customer 0.
		if err := tx.MoveInteractions(ids[1], ids[0]); err != nil {
			return err
		}
		if err := tx.DeleteCustomer(ids[1], ids[0]); err != nil {
			return err
		}
		if _, err := tx.EraseCustomer(ids[7], "admin", base.Add(2*time.Hour)); err != nil {
			return err
		}
		for v := 1; v <= 3; v++ {
			if err := tx.PutOffer(&crm.Offer{ID: "tet", Name: fmt.Sprint("Tết v", v), Version: v, UpdatedAt: base.Add(time.Duration(v) * time.Hour),
				Templates: map[string]string{"vi": "Giảm giá"}}); err != nil {
				return err
			}
		}
		if err := tx.PutSegmentRules([]byte("vip: spent > 1000000\n")); err != nil {
			return err
		}
		if err := tx.PutSegmentRuleChanges([]crm.SegmentRuleChange{{Time: base, By: "admin", Segment: "vip", To: "spent > 1000000"}}); err != nil {
			return err
		}
		if err := tx.MarkOffersSeeded(base); err != nil {
			return err
		}
		if err := tx.PutChannelToken("zalo", &crm.ChannelToken{AccessToken: "a", RefreshToken: "r", ExpiresAt: base}); err != nil {
			return err
		}
		if err := tx.PutHandoffThread("C1:5.5", ids[5]); err != nil {
			return err
		}
		return tx.AddCounter("msg:in:2025-06-01", 60)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrip copies a bbolt shop to PostgreSQL and back to a new bbolt
// file: the counts agree at each step and every customer's records, the
// settings and the offers are the same at the end as at the start.
func TestRoundTrip(t *testing.T) {
	src := openBolt(t)
	fillShop(t, src)
	for v, answer := range []string{"Có ạ.", "Có, miễn phí ạ."} {
		if err := src.SaveKnowledge(t.Context(), &crm.KnowledgeVersion{Version: v + 1, By: "Lan", At: base,
			Entries: []*crm.KnowledgeEntry{{ID: "parking", Questions: []string{"có chỗ gửi xe không"}, Answer: map[string]string{"vi": answer, "en": "Yes."}}}}); err != nil {
			t.Fatal(err)
		}
	}
	opts := storecopy.Options{TokenNames: []string{"zalo"}, Sample: 1000}
	pg := openPG(t)
	first, err := storecopy.Copy(t.Context(), src, pg, opts)
	if err != nil {
		t.Fatalf("bbolt to PostgreSQL: %v", err)
	}
	if first.Customers != 29 || first.Redirects != 1 || first.Interactions != 60 || first.Orders != 30 || first.Erasures != 1 ||
		first.Events != 90 || first.Outbox != 30 || first.OfferVersions != 3 {
		t.Errorf("copied %s", first)
	}
	back := openBolt(t)
	second, err := storecopy.Copy(t.Context(), pg, back, opts)
	if err != nil {
		t.Fatalf("PostgreSQL to bbolt: %v", err)
	}
	if second.String() != first.String() {
		t.Errorf("the way back copied %s, the way there %s", second, first)
	}
	// The FAQ versions, there and back.
	if h, err := back.KnowledgeHistory(t.Context()); err != nil || len(h) != 2 || h[0].Version != 2 || h[0].Entries[0].Answer["vi"] != "Có, miễn phí ạ." {
		t.Errorf("FAQ versions after the copy: %+v, %v", h, err)
	}
	// The end against the start, every customer compared.
	if _, err := storecopy.Verify(t.Context(), src, back, opts); err != nil {
		t.Fatal(err)
	}
	for name, problems := range map[string]func() ([]string, error){
		"postgres": func() ([]string, error) { return pg.Check(t.Context()) },
		"bbolt":    func() ([]string, error) { return back.Check(t.Context()) },
	} {
		ps, err := problems()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			t.Errorf("%s after the copy: %s", name, p)
		}
	}
	// What the copy must keep working: dedupe, merged ids, erasure, ref.
	if err := back.View(t.Context(), func(tx crm.Tx) error {
		if _, seen, err := tx.SeenMessage(crm.ChannelTelegram, "3:1"); err != nil || !seen {
			t.Errorf("a handled message is not marked after the copy: %v, %v", seen, err)
		}
		kept, err := tx.FindCustomerByIdentity(crm.ChannelTelegram, "100")
		if err != nil || kept == nil {
			t.Fatalf("customer by identity after the copy: %v, %v", kept, err)
		}
		if c, err := tx.Customer(kept.ID + 1); err != nil || c.ID != kept.ID {
			t.Errorf("the merged id leads to %v, %v; want %d", c, err, kept.ID)
		}
		if id, err := tx.HandoffThread("C1:5.5"); err != nil || id == 0 {
			t.Errorf("handoff thread after the copy = %d, %v", id, err)
		}
		tok, err := tx.ChannelToken("zalo")
		if err != nil || tok == nil || tok.RefreshToken != "r" {
			t.Errorf("token after the copy = %+v, %v", tok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesANonEmptyTarget(t *testing.T) {
	src, dst := openBolt(t), openPG(t)
	fillShop(t, src)
	if err := dst.Update(t.Context(), func(tx crm.Tx) error { return tx.PutCustomer(&crm.Customer{Name: "already here"}) }); err != nil {
		t.Fatal(err)
	}
	_, err := storecopy.Copy(t.Context(), src, dst, storecopy.Options{})
	if crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("Copy into a non-empty store = %v, want a conflict", err)
	}
	var n int64
	if err := dst.View(t.Context(), func(tx crm.Tx) (err error) { n, err = tx.CustomerCount(); return err }); err != nil || n != 1 {
		t.Fatalf("the refused target holds %d customers, %v; want the 1 it had", n, err)
	}
}
