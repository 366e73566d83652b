package boltstore

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// The typed event log.
//
//	events              time (timeKey) + seq → event (eventFormat), or the
//	                    message events of one transaction (batchFormat)
//	idx_event_customer  customer id + time + seq → empty
//
// Every event is appended to events in time order, so a report for a
// period is one seek and a read of that period. The customer index holds
// every kind but the message events: a customer's messages are already
// keyed by customer in the conversation log (the history keys), and a
// second random leaf written per message would cost the hot path about a
// fifth of its speed.
//
// A turn logs a message in and one out per reply. Their events share one
// record (batchFormat) keyed by the first one's time and seq: one put a
// turn instead of one an event. A member keeps its own time (at most
// maxBatchSpan after the key's) and seq, and EventsBetween hands members
// out in (time, seq) order among the other records. Only message events,
// which no index entry points at, are batched.
// A merge re-keys the merged customer's index entries and records.

// The event forms, the batches' bounds and the codec are package
// reccodec's, shared with the PostgreSQL store (schema 11 here).
const (
	eventFormat     = reccodec.EventFormat
	batchFormat     = reccodec.EventBatchFormat
	maxBatchSpan    = reccodec.MaxBatchSpan
	maxBatchMembers = reccodec.MaxBatchMembers
)

func isMessageEvent(k crm.EventKind) bool { return reccodec.IsMessageEvent(k) }

func encodeEvent(e *crm.Event) []byte { return reccodec.EncodeEvent(e) }

func appendBatchMember(b []byte, at time.Time, seq uint64, e *crm.Event) []byte {
	return reccodec.AppendBatchMember(b, at, seq, e)
}

// decodeEvent reads an events value holding one event; k is its key (time
// + seq).
func decodeEvent(k, v []byte) (*crm.Event, error) {
	if len(v) > 0 && v[0] == batchFormat {
		return nil, fmt.Errorf("%s/%x: a batch of message events where one event was expected", bktEvents, k)
	}
	var e *crm.Event
	err := decodeEvents(k, v, func(x *crm.Event) error { e = x; return nil })
	return e, err
}

// decodeEvents calls fn for each event of an events value: one, or the
// members of a batch in the order they were appended.
func decodeEvents(k, v []byte, fn func(*crm.Event) error) error {
	if len(k) != 16 {
		return fmt.Errorf("%s/%x: bad event (key)", bktEvents, k)
	}
	if len(v) > 0 && v[0] > batchFormat {
		return fmt.Errorf("%s/%x: stored by a newer idicbot (format %d); upgrade: %w", bktEvents, k, v[0], ErrNewerFormat)
	}
	fnFailed := false
	err := reccodec.DecodeEvents(keyTime(k), binary.BigEndian.Uint64(k[8:]), v, func(e *crm.Event) error {
		err := fn(e) // fn's own error is returned as it is
		fnFailed = err != nil
		return err
	})
	if err != nil && !fnFailed {
		return fmt.Errorf("%s/%x: %w", bktEvents, k, err)
	}
	return err
}

// keyTime reads the time of a timeKey.
func keyTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k)^(1<<63))).UTC()
}

func eventCustomerKey(customer crm.ID, tk []byte) []byte {
	return append(idKey(customer), tk...)
}

// AppendEvent implements crm.Tx. A message event joins the transaction's
// batch record when its time is within maxBatchSpan after the batch's key.
func (t *Tx) AppendEvent(e *crm.Event) error {
	if err := crm.CheckEvent(e); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	seq, err := t.ops.nextSeq(bktEvents)
	if err != nil {
		return err
	}
	e.Seq = crm.ID(seq)
	if err := t.markLate(e.Time); err != nil {
		return err
	}
	if isMessageEvent(e.Kind) {
		return t.batchMessageEvent(e)
	}
	tk := timeKey(e.Time, seq)
	if err := t.ops.put(bktEvents, tk, encodeEvent(e)); err != nil {
		return err
	}
	return t.ops.put(bktIdxEventCustomer, eventCustomerKey(e.CustomerID, tk), []byte{})
}

// msgBatch is the record of a transaction's message events being built.
type msgBatch struct {
	key []byte
	at  time.Time
	seq uint64
	val []byte
	n   int // members in val
}

// batchMessageEvent stores e in the transaction's batch record, rewriting
// it under the same key (the overlay keeps the last value: one put), or
// starts a new batch with e.
func (t *Tx) batchMessageEvent(e *crm.Event) error {
	b := &t.batch
	if d := e.Time.Sub(b.at); b.key == nil || d < 0 || d > maxBatchSpan || b.n == maxBatchMembers {
		*b = msgBatch{key: timeKey(e.Time, uint64(e.Seq)), at: e.Time, seq: uint64(e.Seq), val: append(make([]byte, 0, 64), batchFormat)}
	}
	// The value put before keeps its length: appending writes only past
	// it, so what the overlay (or bbolt's node) holds is never changed.
	b.val = appendBatchMember(b.val, b.at, b.seq, e)
	b.n++
	return t.ops.put(bktEvents, b.key, b.val)
}

// EventsBetween implements crm.Tx. It starts maxBatchSpan before from (a
// batch keyed earlier may hold later members) and holds a batch's members
// back until every record before them was handed out.
func (t *Tx) EventsBetween(from, to time.Time, fn func(*crm.Event) error) error {
	var start, end []byte
	if !from.IsZero() {
		start = timeKey(from.Add(-maxBatchSpan), 0)
	}
	if !to.IsZero() {
		end = timeKey(to, 0)
	}
	in := func(e *crm.Event) bool {
		return !e.Time.Before(from) && (to.IsZero() || e.Time.Before(to))
	}
	var held reccodec.EventQueue
	release := func(before []byte) error {
		for len(held) > 0 && (before == nil || bytes.Compare(timeKey(held[0].Time, uint64(held[0].Seq)), before) < 0) {
			if e := heap.Pop(&held).(*crm.Event); in(e) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := t.scanUser(bktEvents, nil, start, func(k, v []byte) error {
		if end != nil && bytes.Compare(k, end) >= 0 {
			return errStopScan
		}
		if err := release(k); err != nil {
			return err
		}
		if len(v) > 0 && v[0] == batchFormat {
			return decodeEvents(k, v, func(e *crm.Event) error {
				heap.Push(&held, e)
				return nil
			})
		}
		e, err := decodeEvent(k, v)
		if err != nil || !in(e) {
			return err
		}
		return fn(e)
	})
	if err == errStopScan {
		err = nil
	}
	if err != nil {
		return err
	}
	return release(nil)
}

// errStopScan ends a scan early; the scanning function returns nil for it.
var errStopScan = errors.New("stop scan")

// CustomerEvents implements crm.Tx from the customer index.
func (t *Tx) CustomerEvents(customer crm.ID, from, to time.Time, fn func(*crm.Event) error) error {
	list, err := t.indexedEvents(t.resolve(customer), from, to)
	if err != nil {
		return err
	}
	for _, e := range list {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) indexedEvents(customer crm.ID, from, to time.Time) ([]*crm.Event, error) {
	p := idKey(customer)
	var end []byte
	if !to.IsZero() {
		end = eventCustomerKey(customer, timeKey(to, 0))
	}
	var out []*crm.Event
	err := t.scan(bktIdxEventCustomer, p, eventCustomerKey(customer, timeKey(from, 0)), func(k, _ []byte) error {
		if end != nil && bytes.Compare(k, end) >= 0 {
			return errStopScan
		}
		tk := k[8:]
		v := t.get(bktEvents, tk)
		if v == nil {
			return fmt.Errorf("%s/%x: no event for the index entry", bktIdxEventCustomer, k)
		}
		e, err := decodeEvent(tk, v)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err == errStopScan {
		err = nil
	}
	return out, err
}

// moveEvents re-keys from's indexed events under to and names to in them.
func (t *Tx) moveEvents(from, to crm.ID) error {
	var keys [][]byte
	if err := t.scan(bktIdxEventCustomer, idKey(from), nil, func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		tk := k[8:]
		v := t.get(bktEvents, tk)
		if v == nil {
			return fmt.Errorf("%s/%x: no event for the index entry", bktIdxEventCustomer, k)
		}
		e, err := decodeEvent(tk, v)
		if err != nil {
			return err
		}
		e.CustomerID = to
		if err := t.markLate(e.Time); err != nil {
			return err
		}
		if err := t.ops.put(bktEvents, bytes.Clone(tk), encodeEvent(e)); err != nil {
			return err
		}
		if err := t.ops.del(bktIdxEventCustomer, k); err != nil {
			return err
		}
		if err := t.ops.put(bktIdxEventCustomer, eventCustomerKey(to, bytes.Clone(tk)), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// Settings. Layout:
//
//	settings         "segment_rules" → YAML; "segment_rule_changes" → JSON
//	                 list; "offers_seeded" → RFC 3339 time
//	handoff_threads  thread → customer id
//	channel_tokens   name → ChannelToken (JSON)
const (
	settingSegmentRules       = "segment_rules"
	settingSegmentRuleChanges = "segment_rule_changes"
	settingOffersSeeded       = "offers_seeded"
)

// SegmentRules implements crm.Tx.
func (t *Tx) SegmentRules() ([]byte, error) {
	return bytes.Clone(t.get(bktSettings, []byte(settingSegmentRules))), nil
}

// PutSegmentRules implements crm.Tx; nil removes the saved rules.
func (t *Tx) PutSegmentRules(yaml []byte) error {
	if yaml == nil {
		return t.ops.del(bktSettings, []byte(settingSegmentRules))
	}
	return t.ops.put(bktSettings, []byte(settingSegmentRules), bytes.Clone(yaml))
}

// SegmentRuleChanges implements crm.Tx.
func (t *Tx) SegmentRuleChanges() ([]crm.SegmentRuleChange, error) {
	k := []byte(settingSegmentRuleChanges)
	v := t.get(bktSettings, k)
	if v == nil {
		return nil, nil
	}
	var out []crm.SegmentRuleChange
	if err := decode(bktSettings, k, v, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// PutSegmentRuleChanges implements crm.Tx.
func (t *Tx) PutSegmentRuleChanges(changes []crm.SegmentRuleChange) error {
	if len(changes) > crm.MaxSegmentRuleChanges {
		changes = changes[len(changes)-crm.MaxSegmentRuleChanges:]
	}
	return t.putJSON(bktSettings, []byte(settingSegmentRuleChanges), changes)
}

// HandoffThread implements crm.Tx.
func (t *Tx) HandoffThread(thread string) (crm.ID, error) {
	if thread == "" {
		return 0, nil
	}
	return readID(t.get(bktHandoffThreads, []byte(thread))), nil
}

// PutHandoffThread implements crm.Tx.
func (t *Tx) PutHandoffThread(thread string, customer crm.ID) error {
	if thread == "" || len(thread) > 256 {
		return crm.Errorf(crm.EINVALID, "A thread id of 1 to 256 bytes is required.")
	}
	if customer == 0 {
		return t.ops.del(bktHandoffThreads, []byte(thread))
	}
	return t.ops.put(bktHandoffThreads, []byte(thread), idKey(customer))
}

// ChannelToken implements crm.Tx.
func (t *Tx) ChannelToken(name string) (*crm.ChannelToken, error) {
	k := []byte(name)
	v := t.get(bktChannelTokens, k)
	if v == nil {
		return nil, nil
	}
	tok := new(crm.ChannelToken)
	if err := decode(bktChannelTokens, k, v, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// PutChannelToken implements crm.Tx; nil removes the token.
func (t *Tx) PutChannelToken(name string, tok *crm.ChannelToken) error {
	if name == "" || len(name) > 64 {
		return crm.Errorf(crm.EINVALID, "A token name of 1 to 64 bytes is required.")
	}
	if tok == nil {
		return t.ops.del(bktChannelTokens, []byte(name))
	}
	return t.putJSON(bktChannelTokens, []byte(name), tok)
}

// OffersSeeded implements crm.Tx.
func (t *Tx) OffersSeeded() (time.Time, error) {
	v := t.get(bktSettings, []byte(settingOffersSeeded))
	if v == nil {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s/%s: %w", bktSettings, settingOffersSeeded, err)
	}
	return at, nil
}

// MarkOffersSeeded implements crm.Tx.
func (t *Tx) MarkOffersSeeded(at time.Time) error {
	return t.ops.put(bktSettings, []byte(settingOffersSeeded), []byte(at.UTC().Format(time.RFC3339Nano)))
}
