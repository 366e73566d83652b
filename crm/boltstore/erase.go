package boltstore

import (
	"bytes"
	"fmt"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// Personal data, bucket by bucket, and what EraseCustomer does with it:
//
//	customers        the record: replaced by one that keeps only the id,
//	                 segment, aggregates, offer statistics, consent and
//	                 creation time (an allow-list, so a field added to
//	                 crm.Customer later is erased too); history keys (ids) kept
//	redirects        merged id → id: ids only, kept so old ids resolve
//	idx_identity     channel user ids: removed (the same user writing again
//	                 is a new customer)
//	idx_phone        phones: removed
//	idx_email        emails: removed
//	idx_external     external ids: removed
//	idx_name         name words: removed
//	idx_username     usernames: removed
//	idx_claim        typed (unverified) phones and emails: removed
//	idx_segment      segment, total spent, id: kept
//	interaction_log  texts, chat and message ids, buttons, payloads,
//	                 authors: replaced by crm.ErasedText / emptied; time,
//	                 direction, channel, kind, intent, offer kept
//	seen             channel message ids (a web chat's carry its session
//	                 id): markers of the customer's interactions removed,
//	                 and markers that logged nothing (interaction 0) whose
//	                 key holds one of their channel user or chat ids
//	orders           note erased; amount, time, ref, offer, source kept
//	idx_order_ref    order refs: kept (accounting)
//	events, idx_event_customer  kept: ids, kinds, offers, segments and
//	                 amounts, no text (reports still add up)
//	outbox           texts, chat and user ids, buttons: erased; a pending
//	                 item is cancelled
//	outbox_state     last error (may quote a chat id): emptied
//	outbox_pending   ids: the cancelled items leave it
//	counters         names hold no customer id (totals per day, offer,
//	                 segment, channel): kept
//	handoff_threads  <slack thread> → customer id: removed
//	meta             the erasure record is added (erasureKey)
//	offers, offer_versions  no customer data
//
// Outbox items, seen markers and handoff threads are keyed by id or value,
// not by customer, so finding a customer's entries scans them: fine for a data access or erase request,
// which is rare, and the reason these run in the single writer.
//
// The erased values stay in the file's free pages after the commit (bbolt
// reuses pages without zeroing them); Compact rewrites the file without
// them. EraseCustomer sets metaCompactPending in the same transaction, so
// a crash before the compaction is finished by the next Open.

// metaErasurePrefix + the 20-digit customer id keys an erasure record in
// meta (fixed width, so the records sort by id).
const metaErasurePrefix = "erasure:"

// metaCompactPending is set by an erase and cleared by the compaction that
// removes the erased bytes from the file.
const metaCompactPending = "erase_compact_pending"

func erasureKey(id crm.ID) []byte {
	return fmt.Appendf(nil, "%s%020d", metaErasurePrefix, uint64(id))
}

// mergedIDs returns the ids whose redirects (chains included) end at id.
func (t *Tx) mergedIDs(id crm.ID) ([]crm.ID, error) {
	var out []crm.ID
	err := t.scan(bktRedirects, nil, nil, func(k, _ []byte) error {
		if from := readID(k); from != 0 && t.resolve(from) == id {
			out = append(out, from)
		}
		return nil
	})
	return out, err
}

// idSet is a customer and the customers merged into it.
type idSet map[crm.ID]bool

func newIDSet(id crm.ID, merged []crm.ID) idSet {
	s := idSet{id: true}
	for _, m := range merged {
		s[m] = true
	}
	return s
}

// CustomerRecords implements crm.Tx.
func (t *Tx) CustomerRecords(id crm.ID) (*crm.CustomerExport, error) {
	// Scans: on an optimistic snapshot this fails first (errNeedsWriter).
	if _, err := t.bucket(bktRedirects); err != nil {
		return nil, err
	}
	c, err := t.Customer(id)
	if err != nil {
		return nil, err
	}
	merged, err := t.mergedIDs(c.ID)
	if err != nil {
		return nil, err
	}
	ids := newIDSet(c.ID, merged)
	x := &crm.CustomerExport{Customer: c, MergedIDs: merged,
		Interactions: []*crm.Interaction{}, Orders: []*crm.Order{}, Events: []*crm.Event{},
		Outbox: []*crm.OutboxItem{}}
	is, err := t.Interactions(c.ID, 0, 0)
	if err != nil {
		return nil, err
	}
	x.Interactions = append(x.Interactions, is...)
	orders, err := t.Orders(c.ID)
	if err != nil {
		return nil, err
	}
	x.Orders = append(x.Orders, orders...)
	if err := t.CustomerEvents(c.ID, time.Time{}, time.Time{}, func(e *crm.Event) error {
		x.Events = append(x.Events, e)
		return nil
	}); err != nil {
		return nil, err
	}
	keys, err := t.outboxOf(ids)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		it, err := t.OutboxItem(readID(k))
		if err != nil {
			return nil, err
		}
		x.Outbox = append(x.Outbox, it)
	}
	if x.Erasure, err = t.erasure(c.ID); err != nil {
		return nil, err
	}
	return x, nil
}

// outboxOf returns the keys of the outbox items of the customers in ids.
func (t *Tx) outboxOf(ids idSet) ([][]byte, error) {
	var keys [][]byte
	err := t.scan(bktOutbox, nil, nil, func(k, v []byte) error {
		var it crm.OutboxItem
		if err := decodeOutboxItem(k, v, &it); err != nil {
			return err
		}
		if ids[it.CustomerID] {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	return keys, err
}

// erasure returns the erasure record of customer id, nil when none.
func (t *Tx) erasure(id crm.ID) (*crm.Erasure, error) {
	k := erasureKey(id)
	v := t.get(bktMeta, k)
	if v == nil {
		return nil, nil
	}
	e := new(crm.Erasure)
	if err := decode(bktMeta, k, v, e); err != nil {
		return nil, err
	}
	return e, nil
}

// EraseCustomer implements crm.Tx; the comment at the top of this file says
// what it does to each bucket.
func (t *Tx) EraseCustomer(id crm.ID, by string, at time.Time) (*crm.Erasure, error) {
	// Scans: on an optimistic snapshot this fails before any write.
	if _, err := t.bucket(bktRedirects); err != nil {
		return nil, err
	}
	old, err := t.Customer(id)
	if err != nil {
		return nil, err
	}
	id = old.ID
	if e, err := t.erasure(id); err != nil {
		return nil, err
	} else if e != nil {
		return nil, crm.Errorf(crm.ECONFLICT, "Customer %d was already erased (%s).", id, e.At.UTC().Format(time.RFC3339))
	}
	merged, err := t.mergedIDs(id)
	if err != nil {
		return nil, err
	}
	ids := newIDSet(id, merged)
	history, err := t.Interactions(id, 0, 0)
	if err != nil {
		return nil, err
	}
	erasure := &crm.Erasure{CustomerID: id, MergedIDs: merged, At: at.UTC(), By: by, Consent: old.Consent}
	if erasure.Consent.Channel == "" && !old.Consent.Since.IsZero() {
		for _, i := range history {
			if i.Direction == crm.Inbound && !i.Time.After(old.Consent.Since) {
				erasure.Consent.Channel = i.Channel
			}
		}
	}

	iids := make(map[crm.ID]bool, len(history))
	for _, i := range history {
		iids[i.ID] = true
		if err := t.ops.put(bktInteractions, idKey(i.ID), reccodec.EncodeInteraction(erasedInteraction(i))); err != nil {
			return nil, err
		}
	}
	if err := t.eraseSeen(iids, old.Identities); err != nil {
		return nil, err
	}
	if err := t.eraseOrders(id); err != nil {
		return nil, err
	}
	if err := t.eraseOutbox(ids); err != nil {
		return nil, err
	}
	if err := t.PutCustomer(erasedCustomer(old, at)); err != nil {
		return nil, err
	}
	if err := t.eraseIndexEntries(ids); err != nil {
		return nil, err
	}
	if err := t.eraseHandoffThreads(ids); err != nil {
		return nil, err
	}
	data, err := encode(erasure)
	if err != nil {
		return nil, err
	}
	if err := t.ops.put(bktMeta, erasureKey(id), data); err != nil {
		return nil, err
	}
	if err := t.ops.put(bktMeta, []byte(metaCompactPending), []byte{1}); err != nil {
		return nil, err
	}
	return erasure, nil
}

// erasedCustomer keeps from c only what is not personal data and what the
// reports need. It copies an allow-list, so fields added to crm.Customer
// later are erased unless added here.
func erasedCustomer(c *crm.Customer, at time.Time) *crm.Customer {
	return &crm.Customer{
		ID:        c.ID,
		Segment:   c.Segment,
		Consent:   c.Consent,
		Stats:     c.Stats,
		Offers:    c.Offers,
		CreatedAt: c.CreatedAt,
		UpdatedAt: at,
	}
}

// erasedInteraction keeps from i what the statistics use (an allow-list, as
// erasedCustomer); a text becomes crm.ErasedText.
func erasedInteraction(i *crm.Interaction) *crm.Interaction {
	e := &crm.Interaction{
		ID: i.ID, CustomerID: i.CustomerID, Time: i.Time, Direction: i.Direction,
		Channel: i.Channel, Kind: i.Kind, Edited: i.Edited, Intent: i.Intent,
		OfferID: i.OfferID, OutboxID: i.OutboxID,
	}
	if i.Text != "" || i.Original != "" || i.Payload != "" {
		e.Text = crm.ErasedText
	}
	return e
}

// eraseSeen removes the dedupe markers of the interactions in iids, and the
// markers that logged no interaction (unfollow and similar events) whose key
// holds one of the identities' user or chat ids on the same channel.
func (t *Tx) eraseSeen(iids map[crm.ID]bool, identities []crm.Identity) error {
	var del [][]byte
	err := t.scan(bktSeen, nil, nil, func(k, v []byte) error {
		switch id := readID(v); {
		case id != 0 && iids[id]:
			del = append(del, bytes.Clone(k))
		case id == 0:
			ch, rest, ok := bytes.Cut(k, []byte{0})
			if !ok {
				return nil
			}
			for _, idn := range identities {
				if string(ch) != string(idn.Channel) {
					continue
				}
				if containsID(rest, idn.UserID) || containsID(rest, idn.ChatID) {
					del = append(del, bytes.Clone(k))
					return nil
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range del {
		if err := t.ops.del(bktSeen, k); err != nil {
			return err
		}
	}
	return nil
}

// containsID reports whether key holds id, for ids long enough not to match
// by chance.
func containsID(key []byte, id string) bool {
	return len(id) >= 3 && bytes.Contains(key, []byte(id))
}

// eraseOrders erases the notes of the customer's orders (merged customers'
// orders were moved here at the merge).
func (t *Tx) eraseOrders(id crm.ID) error {
	orders, err := t.Orders(id)
	if err != nil {
		return err
	}
	for _, o := range orders {
		if o.Note == "" {
			continue
		}
		o.Note = crm.ErasedText
		if err := t.putJSON(bktOrders, pairKey(o.CustomerID, o.ID), o); err != nil {
			return err
		}
	}
	return nil
}

// eraseOutbox erases the texts and addresses of the customers' outbox items
// and cancels those still pending.
func (t *Tx) eraseOutbox(ids idSet) error {
	keys, err := t.outboxOf(ids)
	if err != nil {
		return err
	}
	for _, k := range keys {
		it, err := t.OutboxItem(readID(k))
		if err != nil {
			return err
		}
		it.Text, it.ChatID, it.UserID, it.Buttons, it.LastError = crm.ErasedText, "", "", nil, ""
		if it.Status == crm.OutboxPending {
			it.Status = crm.OutboxCancelled
		}
		if err := t.ops.put(bktOutbox, k, reccodec.EncodeOutboxItem(it)); err != nil {
			return err
		}
		if t.get(bktOutboxState, k) != nil {
			st := outboxState{Status: it.Status, Attempts: it.Attempts, NextAttempt: it.NextAttempt, SentAt: it.SentAt}
			if err := t.ops.put(bktOutboxState, k, encodeOutboxState(&st)); err != nil {
				return err
			}
		}
		if err := t.pending(k, it); err != nil {
			return err
		}
	}
	return nil
}

// eraseIndexEntries removes every index entry that still names one of ids:
// PutCustomer moves the entries of the record it saves, this also catches
// entries left behind (by a merged-away record, or an older bug).
func (t *Tx) eraseIndexEntries(ids idSet) error {
	for _, name := range [][]byte{bktIdxIdentity, bktIdxPhone, bktIdxEmail, bktIdxExternal} {
		if err := t.deleteKeys(name, func(_, v []byte) bool { return ids[readID(v)] }); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bktIdxName, bktIdxUsername, bktIdxClaim} {
		if err := t.deleteKeys(name, func(k, _ []byte) bool { return len(k) > 9 && ids[readID(k[len(k)-8:])] }); err != nil {
			return err
		}
	}
	return nil
}

// eraseHandoffThreads removes the Slack thread → customer links of ids.
func (t *Tx) eraseHandoffThreads(ids idSet) error {
	return t.deleteKeys(bktHandoffThreads, func(_, v []byte) bool { return ids[readID(v)] })
}

// deleteKeys deletes the keys of bucket name for which match is true.
func (t *Tx) deleteKeys(name []byte, match func(k, v []byte) bool) error {
	var del [][]byte
	if err := t.scan(name, nil, nil, func(k, v []byte) error {
		if match(k, v) {
			del = append(del, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range del {
		if err := t.ops.del(name, k); err != nil {
			return err
		}
	}
	return nil
}
