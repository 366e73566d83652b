package storecopy_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
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
		// Events that logged nothing (an unfollow, a read receipt), and
		// the promotions log behind the campaign cap: two promotions of
		// one customer, one each of two others.
		for _, id := range []string{"unfollow:120", "read:121:9"} {
			if err := tx.MarkMessage(crm.ChannelTelegram, id, 0); err != nil {
				return err
			}
		}
		for i, p := range []struct {
			customer crm.ID
			at       time.Time
		}{{ids[2], base}, {ids[2], base.Add(30 * time.Hour)}, {ids[3], base.Add(time.Nanosecond)}, {ids[4], base.Add(-80 * time.Hour)}} {
			if err := tx.AddPromotion(p.customer, p.at, fmt.Sprint("tet-", i%2)); err != nil {
				return err
			}
		}
		return tx.AddCounter("msg:in:2025-06-01", 60)
	})
	if err != nil {
		t.Fatal(err)
	}
	langs := s.(crm.LangPrefs)
	for who, lang := range map[string]string{"slack:U1": "en", "slack:U2": "vi", "slack-team:T1": "en"} {
		if err := langs.SetLang(t.Context(), who, lang); err != nil {
			t.Fatal(err)
		}
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
	// 60 markers of messages less the erased customer's 2, and 2 of
	// events that logged nothing.
	if first.Customers != 29 || first.Redirects != 1 || first.Interactions != 60 || first.Orders != 30 || first.Erasures != 1 ||
		first.Events != 90 || first.Outbox != 30 || first.OfferVersions != 3 ||
		first.Seen != 60 || first.Promotions != 4 || first.LangChoices != 3 {
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
		// An unfollow delivered again after the move is a duplicate.
		if id, seen, err := tx.SeenMessage(crm.ChannelTelegram, "unfollow:120"); err != nil || !seen || id != 0 {
			t.Errorf("the unfollow's marker after the copy: %d, %v, %v; want seen, logging nothing", id, seen, err)
		}
		// The 72 h cap counts the promotions queued before the move.
		if n, err := tx.Promotions(kept.ID+2, base.Add(30*time.Hour-72*time.Hour)); err != nil || n != 2 {
			t.Errorf("promotions within 72 h after the copy = %d, %v; want 2", n, err)
		}
		if n, err := tx.Promotions(kept.ID+2, base.Add(time.Nanosecond)); err != nil || n != 1 {
			t.Errorf("promotions after the first = %d, %v; want 1", n, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, db := range []crm.LangPrefs{pg, back} {
		if lang, err := db.Lang(t.Context(), "slack:U1"); err != nil || lang != "en" {
			t.Errorf("%T: the rep's language after the copy = %q, %v; want en", db, lang, err)
		}
	}
}

// TestVerifyComparesMarkersPromotionsAndLanguages changes, after a copy,
// one dedupe marker, one promotion and one language choice of the target
// without changing how many there are: Verify finds each.
func TestVerifyComparesMarkersPromotionsAndLanguages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dst *boltstore.DB)
		want   string
	}{
		{"marker", func(t *testing.T, dst *boltstore.DB) {
			update(t, dst, func(tx crm.Tx) error { return tx.MarkMessage(crm.ChannelTelegram, "unfollow:120", 7) })
		}, "dedupe markers differ"},
		{"promotion", func(t *testing.T, dst *boltstore.DB) {
			update(t, dst, func(tx crm.Tx) error {
				// The first promotion, under another campaign.
				errFirst := errors.New("first")
				var customer crm.ID
				var at time.Time
				err := tx.(crm.PromotionLog).ForEachPromotion(func(c crm.ID, t time.Time, _ string) error {
					customer, at = c, t
					return errFirst
				})
				if !errors.Is(err, errFirst) {
					return fmt.Errorf("no promotion: %v", err)
				}
				return tx.AddPromotion(customer, at, "other")
			})
		}, "promotions log differs"},
		{"language", func(t *testing.T, dst *boltstore.DB) {
			if err := dst.SetLang(t.Context(), "slack:U2", "en"); err != nil {
				t.Fatal(err)
			}
		}, "language choices differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := openBolt(t), openBolt(t)
			fillShop(t, src)
			if _, err := storecopy.Copy(t.Context(), src, dst, storecopy.Options{}); err != nil {
				t.Fatal(err)
			}
			tc.change(t, dst)
			if _, err := storecopy.Verify(t.Context(), src, dst, storecopy.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify after a changed %s = %v, want %q", tc.name, err, tc.want)
			}
		})
	}
}

// TestEmptySeesMarkersPromotionsAndLanguages: a target holding only one
// of what Copy now writes is not empty.
func TestEmptySeesMarkersPromotionsAndLanguages(t *testing.T) {
	for name, fill := range map[string]func(*boltstore.DB) error{
		"marker": func(db *boltstore.DB) error {
			return db.Update(t.Context(), func(tx crm.Tx) error { return tx.MarkMessage(crm.ChannelZalo, "follow:1", 0) })
		},
		"promotion": func(db *boltstore.DB) error {
			return db.Update(t.Context(), func(tx crm.Tx) error { return tx.AddPromotion(1, base, "tet") })
		},
		"language": func(db *boltstore.DB) error { return db.SetLang(t.Context(), "slack:U1", "en") },
	} {
		t.Run(name, func(t *testing.T) {
			db := openBolt(t)
			if empty, err := storecopy.Empty(t.Context(), db); err != nil || !empty {
				t.Fatalf("a new store: empty = %v, %v", empty, err)
			}
			if err := fill(db); err != nil {
				t.Fatal(err)
			}
			if empty, err := storecopy.Empty(t.Context(), db); err != nil || empty {
				t.Errorf("a store holding a %s: empty = %v, %v; want false", name, empty, err)
			}
		})
	}
}

func update(t *testing.T, s crm.Store, fn func(crm.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
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
