package pgstore_test

import (
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

func TestPrune(t *testing.T) {
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	now := day
	db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	queue := func(status string, created, sent time.Time, msgID string) {
		t.Helper()
		if err := db.Update(t.Context(), func(tx crm.Tx) error {
			it := &crm.OutboxItem{CustomerID: 1, Text: msgID, CreatedAt: created}
			if err := tx.EnqueueOutbox(it); err != nil {
				return err
			}
			it.Status, it.SentAt = status, sent
			if err := tx.PutOutbox(it); err != nil {
				return err
			}
			return tx.MarkMessage(crm.ChannelTelegram, msgID, 0)
		}); err != nil {
			t.Fatal(err)
		}
	}
	queue(crm.OutboxSent, day, day, "old-sent")
	queue(crm.OutboxFailed, day, time.Time{}, "old-failed")
	queue(crm.OutboxPending, day, time.Time{}, "old-pending")
	now = day.AddDate(0, 0, 10)
	queue(crm.OutboxSent, now, now, "new-sent")

	st, err := db.Prune(t.Context(), day.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if st.Outbox != 2 || st.Seen != 3 {
		t.Errorf("Prune removed %d outbox items and %d markers, want 2 and 3", st.Outbox, st.Seen)
	}
	if err := db.View(t.Context(), func(tx crm.Tx) error {
		var left []string
		if err := tx.PendingOutbox(func(it *crm.OutboxItem) error { left = append(left, it.Text); return nil }); err != nil {
			return err
		}
		if len(left) != 1 || left[0] != "old-pending" {
			t.Errorf("pending after Prune = %v, want the old pending item kept", left)
		}
		for id, want := range map[string]bool{"old-sent": false, "new-sent": true} {
			if _, seen, err := tx.SeenMessage(crm.ChannelTelegram, id); err != nil || seen != want {
				t.Errorf("marker %s seen = %v, %v; want %v", id, seen, err, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCompactAfterErase runs what bot.Privacy runs after an erase: VACUUM
// of the tables with personal data, outside any transaction.
func TestCompactAfterErase(t *testing.T) {
	db, err := pgstore.Open(t.Context(), pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var id crm.ID
	if err := db.Update(t.Context(), func(tx crm.Tx) error {
		c := &crm.Customer{Name: "Lan", Phone: "+84900000001"}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		id = c.ID
		return tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Text: "số nhà 12"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(t.Context(), func(tx crm.Tx) error {
		_, err := tx.EraseCustomer(id, "admin", time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	var vacuumed int
	if err := db.Pool().QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_user_tables
WHERE schemaname = current_schema() AND relname IN ('customers', 'interactions') AND last_vacuum IS NOT NULL`).Scan(&vacuumed); err != nil {
		t.Fatal(err)
	}
	if vacuumed != 2 {
		t.Errorf("%d of customers and interactions vacuumed after Compact, want both", vacuumed)
	}
}
