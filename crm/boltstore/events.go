package boltstore

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/idicbot/idicbot/crm"
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

// eventFormat marks the binary form of an event value; batchFormat a
// record of several message events (schema 11).
const (
	eventFormat = 0x01
	batchFormat = 0x02
)

// maxBatchSpan bounds how much later than a batch's key a member's time
// may be: EventsBetween starts reading that much before from. A message
// whose time is further from the batch's starts a record of its own.
const maxBatchSpan = 5 * time.Second

// maxBatchMembers bounds a batch record: a transaction that logs many
// messages (a copy between stores, a campaign page) writes records of at
// most this many, so no read holds an unbounded record's members.
const maxBatchMembers = 64

// kindCodes numbers the event kinds in the stored form: append only.
var kindCodes = func() map[crm.EventKind]byte {
	m := make(map[crm.EventKind]byte, len(crm.EventKinds))
	for i, k := range crm.EventKinds {
		m[k] = byte(i + 1)
	}
	return m
}()

func isMessageEvent(k crm.EventKind) bool {
	return k == crm.EventMessageIn || k == crm.EventMessageOut
}

func encodeEvent(e *crm.Event) []byte {
	b := make([]byte, 0, 32+len(e.Channel)+len(e.OfferID)+len(e.From)+len(e.To)+len(e.Rule)+len(e.Cause)+len(e.Campaign))
	b = append(b, eventFormat, kindCodes[e.Kind])
	return appendEventBody(b, e)
}

// appendEventBody appends e's ids, amount and strings.
func appendEventBody(b []byte, e *crm.Event) []byte {
	b = binary.AppendUvarint(b, uint64(e.CustomerID))
	b = binary.AppendUvarint(b, uint64(e.InteractionID))
	b = binary.AppendUvarint(b, uint64(e.OrderID))
	b = binary.AppendVarint(b, e.Amount)
	for _, s := range []string{string(e.Channel), e.OfferID, e.From, e.To, e.Rule, e.Cause, e.Campaign} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// appendBatchMember appends e to a batch record keyed by (at, seq): its
// kind, time and seq after the key's, and its body.
func appendBatchMember(b []byte, at time.Time, seq uint64, e *crm.Event) []byte {
	b = append(b, kindCodes[e.Kind])
	b = binary.AppendUvarint(b, uint64(e.Time.Sub(at)))
	b = binary.AppendUvarint(b, uint64(e.Seq)-seq)
	return appendEventBody(b, e)
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
	bad := func(what string) error { return fmt.Errorf("%s/%x: bad event (%s)", bktEvents, k, what) }
	if len(k) != 16 {
		return bad("key")
	}
	if len(v) < 2 || (v[0] != eventFormat && v[0] != batchFormat) {
		if len(v) > 0 && v[0] > batchFormat {
			return fmt.Errorf("%s/%x: stored by a newer idicbot (format %d); upgrade: %w", bktEvents, k, v[0], ErrNewerFormat)
		}
		return bad("format")
	}
	at, seq := keyTime(k), binary.BigEndian.Uint64(k[8:])
	if v[0] == eventFormat {
		e := &crm.Event{Time: at, Seq: crm.ID(seq)}
		if _, err := readEventBody(v[1], v[2:], e); err != nil {
			return bad(err.Error())
		}
		return fn(e)
	}
	for d := v[1:]; len(d) > 0; {
		e := new(crm.Event)
		code := d[0]
		dt, w := binary.Uvarint(d[1:])
		if w <= 0 {
			return bad("member time")
		}
		ds, w2 := binary.Uvarint(d[1+w:])
		if w2 <= 0 {
			return bad("member seq")
		}
		e.Time, e.Seq = at.Add(time.Duration(dt)), crm.ID(seq+ds)
		rest, err := readEventBody(code, d[1+w+w2:], e)
		if err != nil {
			return bad(err.Error())
		}
		d = rest
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// readEventBody reads a kind code and a body (appendEventBody) into e and
// returns what follows the body.
func readEventBody(code byte, d []byte, e *crm.Event) ([]byte, error) {
	if code < 1 || int(code) > len(crm.EventKinds) {
		return nil, errors.New("kind")
	}
	e.Kind = crm.EventKinds[code-1]
	var nums [3]uint64
	for i := range nums {
		n, w := binary.Uvarint(d)
		if w <= 0 {
			return nil, errors.New("ids")
		}
		nums[i], d = n, d[w:]
	}
	e.CustomerID, e.InteractionID, e.OrderID = crm.ID(nums[0]), crm.ID(nums[1]), crm.ID(nums[2])
	amount, w := binary.Varint(d)
	if w <= 0 {
		return nil, errors.New("amount")
	}
	e.Amount, d = amount, d[w:]
	var strs [7]string
	for i := range strs {
		n, w := binary.Uvarint(d)
		if w <= 0 || n > uint64(len(d)-w) {
			return nil, errors.New("string")
		}
		strs[i], d = string(d[w:w+int(n)]), d[w+int(n):]
	}
	e.Channel, e.OfferID, e.From, e.To, e.Rule, e.Cause, e.Campaign = crm.Channel(strs[0]), strs[1], strs[2], strs[3], strs[4], strs[5], strs[6]
	return d, nil
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
	var held eventQueue
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

// eventQueue orders batch members by (time, seq): container/heap.
type eventQueue []*crm.Event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].Time.Equal(q[j].Time) {
		return q[i].Time.Before(q[j].Time)
	}
	return q[i].Seq < q[j].Seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*crm.Event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
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
