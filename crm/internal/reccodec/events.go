package reccodec

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Events. A stored event is one event (EventFormat) or the message events
// of one transaction (EventBatchFormat), keyed by the first one's time and
// seq: a turn logs a message in and one out per reply, and one row (bbolt:
// one put) a turn costs the store a fraction of one an event. The store
// keeps the key (time, seq) beside the value; a batch member keeps its own
// time (at most MaxBatchSpan after the key's) and seq (at or after the
// key's) as offsets from it. Only message events are batched: no index
// by customer points at them (a customer's messages are its conversation
// log), so a batch needs one key only.
//
//	EventFormat:      format, kind code, body
//	EventBatchFormat: format, then per member: kind code, uvarint time
//	                  offset (ns), uvarint seq offset, body
//	body:             uvarint customer, interaction, order; varint
//	                  amount; channel, offer, from, to, rule, cause,
//	                  campaign as uvarint length + bytes
//
// The time, seq and (in a store with a column for it) customer of the key
// are the store's; a decoded event takes them from the key.
const (
	EventFormat      = 0x01
	EventBatchFormat = 0x02
)

// MaxBatchSpan bounds how much later than a batch's key a member's time
// may be: a reader of a period starts this much earlier. A message whose
// time is further from the batch's starts a batch of its own.
const MaxBatchSpan = 5 * time.Second

// MaxBatchMembers bounds a batch: a transaction that logs many messages (a
// copy between stores, a campaign page) writes batches of at most this
// many, so no read holds an unbounded batch's members.
const MaxBatchMembers = 64

// ErrBadEvent is wrapped by the errors of a value that does not decode.
var ErrBadEvent = errors.New("bad event")

// kindCodes numbers the event kinds in the stored form: append only
// (crm.EventKinds is).
var kindCodes = func() map[crm.EventKind]byte {
	m := make(map[crm.EventKind]byte, len(crm.EventKinds))
	for i, k := range crm.EventKinds {
		m[k] = byte(i + 1)
	}
	return m
}()

// IsMessageEvent reports whether k is batched (message in or out).
func IsMessageEvent(k crm.EventKind) bool {
	return k == crm.EventMessageIn || k == crm.EventMessageOut
}

// IsEvent reports whether data starts with an event format byte.
func IsEvent(data []byte) bool {
	return len(data) > 0 && (data[0] == EventFormat || data[0] == EventBatchFormat)
}

// IsEventBatch reports whether data is a batch of message events.
func IsEventBatch(data []byte) bool {
	return len(data) > 0 && data[0] == EventBatchFormat
}

// EncodeEvent returns e in EventFormat (its time and seq are the key's).
func EncodeEvent(e *crm.Event) []byte {
	b := make([]byte, 0, 32+len(e.Channel)+len(e.OfferID)+len(e.From)+len(e.To)+len(e.Rule)+len(e.Cause)+len(e.Campaign))
	b = append(b, EventFormat, kindCodes[e.Kind])
	return appendEventBody(b, e)
}

// NewEventBatch returns an empty batch value: AppendBatchMember adds to it.
func NewEventBatch() []byte {
	return append(make([]byte, 0, 64), EventBatchFormat)
}

// AppendBatchMember appends e to a batch value keyed by (at, seq). The
// caller keeps e.Time within [at, at+MaxBatchSpan] and e.Seq >= seq
// (BatchFits).
func AppendBatchMember(b []byte, at time.Time, seq uint64, e *crm.Event) []byte {
	b = append(b, kindCodes[e.Kind])
	b = binary.AppendUvarint(b, uint64(e.Time.Sub(at)))
	b = binary.AppendUvarint(b, uint64(e.Seq)-seq)
	return appendEventBody(b, e)
}

// BatchFits reports whether e may join a batch keyed by (at, seq) that
// holds n members.
func BatchFits(at time.Time, seq uint64, n int, e *crm.Event) bool {
	d := e.Time.Sub(at)
	return d >= 0 && d <= MaxBatchSpan && uint64(e.Seq) >= seq && n < MaxBatchMembers
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

// badEvent is a decoding error naming what did not decode.
func badEvent(what string) error {
	return &eventError{what}
}

type eventError struct{ what string }

func (e *eventError) Error() string { return "bad event (" + e.what + ")" }
func (e *eventError) Unwrap() error { return ErrBadEvent }

// DecodeEvents calls fn for each event of a value keyed by (at, seq): the
// one event, or a batch's members in the order they were appended. The
// caller has checked the format byte (IsEvent).
func DecodeEvents(at time.Time, seq uint64, v []byte, fn func(*crm.Event) error) error {
	if len(v) < 2 || !IsEvent(v) {
		return badEvent("format")
	}
	if v[0] == EventFormat {
		e := &crm.Event{Time: at, Seq: crm.ID(seq)}
		if _, err := readEventBody(v[1], v[2:], e); err != nil {
			return err
		}
		return fn(e)
	}
	for d := v[1:]; len(d) > 0; {
		e := new(crm.Event)
		code := d[0]
		dt, w := binary.Uvarint(d[1:])
		if w <= 0 {
			return badEvent("member time")
		}
		ds, w2 := binary.Uvarint(d[1+w:])
		if w2 <= 0 {
			return badEvent("member seq")
		}
		e.Time, e.Seq = at.Add(time.Duration(dt)), crm.ID(seq+ds)
		rest, err := readEventBody(code, d[1+w+w2:], e)
		if err != nil {
			return err
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
		return nil, badEvent("kind")
	}
	e.Kind = crm.EventKinds[code-1]
	var nums [3]uint64
	for i := range nums {
		n, w := binary.Uvarint(d)
		if w <= 0 {
			return nil, badEvent("ids")
		}
		nums[i], d = n, d[w:]
	}
	e.CustomerID, e.InteractionID, e.OrderID = crm.ID(nums[0]), crm.ID(nums[1]), crm.ID(nums[2])
	amount, w := binary.Varint(d)
	if w <= 0 {
		return nil, badEvent("amount")
	}
	e.Amount, d = amount, d[w:]
	var strs [7]string
	for i := range strs {
		n, w := binary.Uvarint(d)
		if w <= 0 || n > uint64(len(d)-w) {
			return nil, badEvent("string")
		}
		strs[i], d = string(d[w:w+int(n)]), d[w+int(n):]
	}
	e.Channel, e.OfferID, e.From, e.To, e.Rule, e.Cause, e.Campaign = crm.Channel(strs[0]), strs[1], strs[2], strs[3], strs[4], strs[5], strs[6]
	return d, nil
}

// EventQueue orders events by (time, seq), for container/heap: a reader
// holds batch members in it until every record keyed before them was
// handed out.
type EventQueue []*crm.Event

func (q EventQueue) Len() int { return len(q) }
func (q EventQueue) Less(i, j int) bool {
	if !q[i].Time.Equal(q[j].Time) {
		return q[i].Time.Before(q[j].Time)
	}
	return q[i].Seq < q[j].Seq
}
func (q EventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

// Push implements heap.Interface.
func (q *EventQueue) Push(x any) { *q = append(*q, x.(*crm.Event)) }

// Pop implements heap.Interface.
func (q *EventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
