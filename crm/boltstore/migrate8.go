package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// The meta keys schema 7 and before kept settings under (frozen: migration
// 8 must read what those versions wrote).
const (
	v7MetaSegmentsYAML    = "segments_yaml"
	v7MetaSegmentsHistory = "segments_history"
	v7MetaOffersSeeded    = "offers_seeded"
	v7MetaHandoffPrefix   = "handoff_thread:"
	v7MetaTokensSuffix    = ":tokens" // "zalo:tokens" → channel token "zalo"
)

// v7OfferEvent and v7SegmentChange are the JSON records of offer_events and
// segment_changes up to schema 7.
type v7OfferEvent struct {
	CustomerID crm.ID      `json:"customer_id"`
	OfferID    string      `json:"offer_id"`
	Time       time.Time   `json:"time"`
	Kind       string      `json:"kind"`
	Channel    crm.Channel `json:"channel"`
}

type v7SegmentChange struct {
	CustomerID crm.ID    `json:"customer_id"`
	Time       time.Time `json:"time"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Rule       string    `json:"rule"`
	Cause      string    `json:"cause"`
}

// migrateTypedLog is migration 8: offer events, segment changes and logged
// messages become events of the typed log, the settings kept in meta move
// to their typed buckets (unknown meta keys are left as they are), and
// outbox_pending goes: outbox_claim is the pending set.
// Orders recorded before become order events too.
func migrateTypedLog(tx *bbolt.Tx) error {
	var bk = map[string]*bbolt.Bucket{}
	for _, name := range [][]byte{bktEvents, bktIdxEventCustomer, bktSettings, bktHandoffThreads, bktChannelTokens} {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		bk[string(name)] = b
	}
	events, index := bk[string(bktEvents)], bk[string(bktIdxEventCustomer)]
	add := func(e *crm.Event) error {
		if !e.Kind.Valid() || e.CustomerID == 0 {
			return nil
		}
		seq, err := events.NextSequence()
		if err != nil {
			return err
		}
		tk := timeKey(e.Time, seq)
		if err := events.Put(tk, encodeEvent(e)); err != nil {
			return err
		}
		return index.Put(eventCustomerKey(e.CustomerID, tk), []byte{})
	}
	if old := tx.Bucket(bktOfferEvents); old != nil {
		if err := old.ForEach(func(k, v []byte) error {
			var e v7OfferEvent
			if err := decode(bktOfferEvents, k, v, &e); err != nil {
				return err
			}
			return add(&crm.Event{CustomerID: e.CustomerID, Time: e.Time, Kind: crm.OfferEventKind(e.Kind), Channel: e.Channel, OfferID: e.OfferID})
		}); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bktOfferEvents); err != nil {
			return err
		}
	}
	if old := tx.Bucket(bktSegmentChanges); old != nil {
		if err := old.ForEach(func(k, v []byte) error {
			var c v7SegmentChange
			if err := decode(bktSegmentChanges, k, v, &c); err != nil {
				return err
			}
			return add(&crm.Event{CustomerID: c.CustomerID, Time: c.Time, Kind: crm.EventSegmentChange, From: c.From, To: c.To, Rule: c.Rule, Cause: c.Cause})
		}); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bktSegmentChanges); err != nil {
			return err
		}
	}
	// Every logged message becomes its event, so that reports cover the
	// time before the upgrade too. Message events have no customer index
	// entry (see events.go).
	if err := tx.Bucket(bktInteractions).ForEach(func(k, v []byte) error {
		var i crm.Interaction
		if err := decodeInteraction(k, v, &i); err != nil {
			return err
		}
		kind := crm.EventMessageIn
		if i.Direction == crm.Outbound {
			kind = crm.EventMessageOut
		}
		seq, err := events.NextSequence()
		if err != nil {
			return err
		}
		return events.Put(timeKey(i.Time, seq), encodeEvent(&crm.Event{CustomerID: i.CustomerID, Time: i.Time, Kind: kind, Channel: i.Channel, InteractionID: i.ID}))
	}); err != nil {
		return err
	}
	if err := tx.Bucket(bktOrders).ForEach(func(k, v []byte) error {
		var o crm.Order
		if err := decode(bktOrders, k, v, &o); err != nil {
			return err
		}
		return add(&crm.Event{CustomerID: o.CustomerID, Time: o.Time, Kind: crm.EventOrder, OrderID: o.ID, Amount: o.Amount, OfferID: o.OfferID})
	}); err != nil {
		return err
	}
	// Merged customers' offer events named the old id; follow redirects
	// so the index names the customer they live in now.
	if err := followRedirects(tx, events, index); err != nil {
		return err
	}
	if err := dropOutboxPending(tx); err != nil {
		return err
	}
	return moveMetaSettings(tx, bk)
}

// dropOutboxPending removes outbox_pending, which repeated outbox_claim:
// the claim index is the pending set now. An item placed elsewhere than
// its record says (its pending entry named the claim key) gets the
// priority and due time of its place in its record, where claimKeyOf
// looks for them.
func dropOutboxPending(tx *bbolt.Tx) error {
	pending, items := tx.Bucket(bktOutboxPending), tx.Bucket(bktOutbox)
	if pending == nil {
		return nil
	}
	type fix struct {
		k  []byte
		it crm.OutboxItem
	}
	var fixes []fix
	if err := pending.ForEach(func(k, ck []byte) error {
		if len(ck) != 17 {
			return nil // a reply due at once: its key follows from the id
		}
		v := items.Get(k)
		if v == nil {
			return nil
		}
		var it crm.OutboxItem
		if err := decodeOutboxItem(k, v, &it); err != nil {
			return err
		}
		if p, due := int(ck[0]), claimDue(ck); p != it.Priority || !due.Equal(it.Due) {
			it.Priority, it.Due = p, due
			fixes = append(fixes, fix{bytes.Clone(k), it})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, f := range fixes {
		if err := items.Put(f.k, reccodec.EncodeOutboxItem(&f.it)); err != nil {
			return err
		}
	}
	return tx.DeleteBucket(bktOutboxPending)
}

// followRedirects re-keys index entries of merged (redirected) customers
// under the customer they were merged into.
func followRedirects(tx *bbolt.Tx, events, index *bbolt.Bucket) error {
	red := tx.Bucket(bktRedirects)
	if red == nil {
		return nil
	}
	resolve := func(id crm.ID) crm.ID {
		for range 64 {
			v := red.Get(idKey(id))
			if v == nil {
				return id
			}
			id = readID(v)
		}
		return id
	}
	type move struct{ old, tk []byte }
	var moves []move
	if err := index.ForEach(func(k, _ []byte) error {
		if red.Get(k[:8]) != nil {
			moves = append(moves, move{bytes.Clone(k), bytes.Clone(k[8:])})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, m := range moves {
		to := resolve(readID(m.old[:8]))
		e, err := decodeEvent(m.tk, events.Get(m.tk))
		if err != nil {
			return err
		}
		e.CustomerID = to
		if err := events.Put(m.tk, encodeEvent(e)); err != nil {
			return err
		}
		if err := index.Delete(m.old); err != nil {
			return err
		}
		if err := index.Put(eventCustomerKey(to, m.tk), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

func moveMetaSettings(tx *bbolt.Tx, bk map[string]*bbolt.Bucket) error {
	meta := tx.Bucket(bktMeta)
	settings, threads, tokens := bk[string(bktSettings)], bk[string(bktHandoffThreads)], bk[string(bktChannelTokens)]
	var moved [][]byte
	err := meta.ForEach(func(k, v []byte) error {
		key := string(k)
		var err error
		switch {
		case key == v7MetaSegmentsYAML:
			err = settings.Put([]byte(settingSegmentRules), bytes.Clone(v))
		case key == v7MetaSegmentsHistory:
			var hist []crm.SegmentRuleChange
			if err := json.Unmarshal(v, &hist); err != nil {
				return fmt.Errorf("meta/%s: %w", key, err)
			}
			var data []byte
			if data, err = encode(hist); err == nil {
				err = settings.Put([]byte(settingSegmentRuleChanges), data)
			}
		case key == v7MetaOffersSeeded:
			at, perr := time.Parse(time.RFC3339, string(v))
			if perr != nil {
				return fmt.Errorf("meta/%s: %w", key, perr)
			}
			err = settings.Put([]byte(settingOffersSeeded), []byte(at.UTC().Format(time.RFC3339Nano)))
		case strings.HasPrefix(key, v7MetaHandoffPrefix):
			id, perr := strconv.ParseUint(string(v), 10, 64)
			if perr != nil {
				return fmt.Errorf("meta/%s: %w", key, perr)
			}
			err = threads.Put([]byte(strings.TrimPrefix(key, v7MetaHandoffPrefix)), u64(id))
		case strings.HasSuffix(key, v7MetaTokensSuffix) && len(key) > len(v7MetaTokensSuffix):
			var tok crm.ChannelToken
			if err := json.Unmarshal(v, &tok); err != nil {
				return fmt.Errorf("meta/%s: %w", key, err)
			}
			var data []byte
			if data, err = encode(&tok); err == nil {
				err = tokens.Put([]byte(strings.TrimSuffix(key, v7MetaTokensSuffix)), data)
			}
		default:
			return nil
		}
		moved = append(moved, bytes.Clone(k))
		return err
	})
	if err != nil {
		return err
	}
	for _, k := range moved {
		if err := meta.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
