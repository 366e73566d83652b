package boltstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// Check names each kind of damage it finds.
func TestCheckFindsBrokenIndexes(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tx *bbolt.Tx) error
		want   string
	}{
		{"identity entry lost", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktIdxIdentity).Delete([]byte("telegram:42"))
		}, `idx_identity lacks "telegram:42" (customer 1)`},
		{"phone entry pointing elsewhere", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktIdxPhone).Put([]byte("+84912345678"), idKey(9))
		}, `idx_phone "+84912345678" points at customer 9, want 1`},
		{"stray name entry", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktIdxName).Put(strIDKey("ghost", 1), []byte("ghost"))
		}, `idx_name has an entry "ghost`},
		{"claim entry lost", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktIdxClaim).Delete(strIDKey("lan@example.com", 1))
		}, `idx_claim lacks the entry "lan@example.com`},
		{"segment count off", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktCounters).Put([]byte(counterSegmentPrefix+"new"), intValue(5))
		}, `segment "new" count says 5, the records 1`},
		{"customer count off", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktCounters).Put([]byte(counterCustomers), intValue(2))
		}, `the customer count says 2, the records 1`},
		{"redirect to nowhere", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktRedirects).Put(idKey(7), idKey(8))
		}, `customer 7 was merged into 8, which leads to no customer`},
		{"outbox claim entry lost", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktOutboxClaim).Delete(claimKey(crm.PriorityProactive, testNow, 1))
		}, `outbox item 1 is pending but the pending set says false`},
		{"stray outbox claim entry", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktOutboxClaim).Put(claimKey(0, time.Time{}, 9), []byte{})
		}, `outbox_claim has an entry`},
		{"sent item still pending", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktOutboxState).Put(idKey(1), encodeOutboxState(&outboxState{Status: crm.OutboxSent}))
		}, `outbox item 1 is sent but the pending set says true`},
		{"event index entry lost", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktIdxEventCustomer).Delete(eventCustomerKey(1, timeKey(testNow, 1)))
		}, `idx_event_customer lacks the entry`},
		{"message event indexed", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktIdxEventCustomer).Put(eventCustomerKey(1, timeKey(testNow, 2)), []byte{})
		}, `idx_event_customer has an entry`},
		{"event unreadable", func(tx *bbolt.Tx) error {
			return tx.Bucket(bktEvents).Put(timeKey(testNow, 2), []byte{eventFormat, 99})
		}, `bad event (kind)`},
		{"batch holding an indexed kind", func(tx *bbolt.Tx) error {
			e := &crm.Event{CustomerID: 1, Time: testNow, Seq: 9, Kind: crm.EventOrder}
			return tx.Bucket(bktEvents).Put(timeKey(testNow, 9), appendBatchMember([]byte{batchFormat}, testNow, 9, e))
		}, `a batch holds a order event`},
		{"batch member too late", func(tx *bbolt.Tx) error {
			e := &crm.Event{CustomerID: 1, Time: testNow.Add(time.Hour), Seq: 9, Kind: crm.EventMessageOut}
			return tx.Bucket(bktEvents).Put(timeKey(testNow, 9), appendBatchMember([]byte{batchFormat}, testNow, 9, e))
		}, `is not within 5s after the batch's`},
		{"batch cut short", func(tx *bbolt.Tx) error {
			e := &crm.Event{CustomerID: 1, Time: testNow, Seq: 9, Kind: crm.EventMessageOut, Channel: crm.ChannelWeb}
			b := appendBatchMember([]byte{batchFormat}, testNow, 9, e)
			return tx.Bucket(bktEvents).Put(timeKey(testNow, 9), b[:len(b)-2])
		}, `bad event (string)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpenUnchecked(t, t.TempDir()+"/idicbot.db")
			putCustomer(t, db, &crm.Customer{Name: "Lan", Phone: "+84912345678", Segment: crm.SegmentAssignment{Name: "new"},
				Claims:     crm.ContactClaims{Email: "lan@example.com"},
				Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "42", Username: "lan"}}})
			update(t, db, func(tx crm.Tx) error {
				return tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: 1, Text: "sinh nhật", Priority: crm.PriorityProactive, Due: testNow,
					LeaseOwner: "a", LeaseUntil: testNow})
			})
			update(t, db, func(tx crm.Tx) error {
				if err := tx.AppendEvent(&crm.Event{CustomerID: 1, Time: testNow, Kind: crm.EventOrder, Amount: 5}); err != nil {
					return err
				}
				return tx.AppendEvent(&crm.Event{CustomerID: 1, Time: testNow, Kind: crm.EventMessageIn})
			})
			if problems, err := db.Check(context.Background()); err != nil || len(problems) != 0 {
				t.Fatalf("a sound store: %v, %v", problems, err)
			}
			if err := db.bolt.Update(tt.damage); err != nil {
				t.Fatal(err)
			}
			problems, err := db.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tt.want) {
				t.Fatalf("problems %q, want one containing %q", problems, tt.want)
			}
		})
	}
}
