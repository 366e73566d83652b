// Package reccodec is the compact binary form of the records every
// message reads and writes: customer records, interactions and outbox
// items. Both stores keep them in it (bbolt as values, PostgreSQL in the
// data column), so it lives here, once. Each form starts with a format
// byte of its own; a store keeps whatever fallback it needs for values
// written before (the JSON of older binaries) and checks the byte with
// IsCustomer, IsInteraction or IsOutboxItem before decoding.
//
// Reading and writing them takes a fraction of the JSON's time, and they
// are about a third of its length (no field names, times in a few bytes
// instead of 30-odd characters).
//
// After the byte, the fields in the order of the Go type, nested structs
// inline: strings as uvarint length + bytes, ids and counts as uvarints,
// other ints as varints, bools as a byte, times as 0 (zero
// time) or 1 + varint Unix seconds + uvarint nanoseconds + varint zone
// offset in seconds, an optional value as a presence byte, a slice or map
// as a uvarint count then its elements (map keys sorted, so equal values
// encode equally). A change to a layout needs a new format byte;
// TestBinaryCodecsCoverEveryField fails when a field of the types is not
// carried.
package reccodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// The format bytes. None is '{' (0x7b), so a reader can tell them from
// JSON, nor bbolt's JSON format byte (1).
const (
	CustomerFormat    = 0x88
	InteractionFormat = 0x84
	OutboxFormat      = 0x87
	// CustomerFormatV1 is the customer layout before contact claims and
	// one-time codes (bbolt schema 5): it still decodes, without them.
	CustomerFormatV1 = 0x83
	// CustomerFormatV2 is the layout before the products bought (bbolt
	// schema 7): it still decodes, with none.
	CustomerFormatV2 = 0x86
	// OutboxFormatV1 is the outbox item layout before priorities, due
	// times and leases (bbolt schema 6): it still decodes, as priority 0,
	// due at once and not leased.
	OutboxFormatV1 = 0x85
)

// ErrNotBinary is returned by a decoder given bytes that do not start
// with one of its format bytes: the caller should have tried its own
// fallback (see IsCustomer and the others).
var ErrNotBinary = errors.New("not in a binary form")

// IsCustomer reports whether data starts with a customer format byte.
func IsCustomer(data []byte) bool {
	return len(data) > 0 && (data[0] == CustomerFormat || data[0] == CustomerFormatV2 || data[0] == CustomerFormatV1)
}

// IsInteraction reports whether data starts with the interaction format byte.
func IsInteraction(data []byte) bool {
	return len(data) > 0 && data[0] == InteractionFormat
}

// IsOutboxItem reports whether data starts with an outbox item format byte.
func IsOutboxItem(data []byte) bool {
	return len(data) > 0 && (data[0] == OutboxFormat || data[0] == OutboxFormatV1)
}

// notBinary is the error of a decoder given what is not its form.
func notBinary(what string, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("bad %s (empty): %w", what, ErrNotBinary)
	}
	return fmt.Errorf("bad %s (format byte %#x): %w", what, data[0], ErrNotBinary)
}

// EncodeCustomer returns c in the binary form.
func EncodeCustomer(c *crm.Customer) []byte {
	e := binEncoder{b: make([]byte, 0, 384)}
	e.b = append(e.b, CustomerFormat)
	e.uint(uint64(c.ID))
	e.str(c.Name)
	e.str(c.Phone)
	e.str(c.Email)
	e.str(c.Address)
	e.str(c.Language)
	e.bool(c.Birthday != nil)
	if c.Birthday != nil {
		e.time(*c.Birthday)
	}
	e.bool(c.IsBusiness)
	e.str(c.Company)
	e.str(c.Source)
	e.str(c.ExternalID)
	e.uint(uint64(len(c.Identities)))
	for _, id := range c.Identities {
		e.str(string(id.Channel))
		e.str(id.UserID)
		e.str(id.ChatID)
		e.str(id.Username)
		e.bool(id.Unreachable)
		e.time(id.UnreachableSince)
		e.str(id.UnreachableWhy)
		e.time(id.FirstSeen)
	}
	e.strs(c.Tags)
	e.uint(uint64(len(c.Notes)))
	for _, n := range c.Notes {
		e.time(n.Time)
		e.str(n.Author)
		e.str(n.Text)
	}
	e.strs(c.Interests)
	e.str(c.Segment.Name)
	e.str(c.Segment.Rule)
	e.time(c.Segment.Since)
	e.bool(c.Consent.OptedOut)
	e.time(c.Consent.Since)
	e.bool(c.Handoff.Active)
	e.time(c.Handoff.RequestedAt)
	e.str(c.Handoff.Agent)
	e.time(c.Handoff.TakenAt)
	e.str(c.Handoff.Thread)
	s := &c.Stats
	e.time(s.FirstSeen)
	e.time(s.LastSeen)
	e.int(int64(s.MessagesIn))
	e.int(int64(s.MessagesOut))
	e.int(int64(s.Orders))
	e.int(s.TotalSpent)
	e.time(s.FirstOrder)
	e.time(s.LastOrder)
	e.int(int64(s.OffersShown))
	e.int(int64(s.OffersTaken))
	e.uint(uint64(len(s.Daily)))
	for _, day := range sortedKeys(s.Daily) {
		e.str(day)
		e.int(int64(s.Daily[day]))
	}
	e.uint(uint64(len(c.Offers)))
	for _, id := range sortedKeys(c.Offers) {
		e.str(id)
		st := c.Offers[id]
		e.bool(st != nil)
		if st != nil {
			e.int(int64(st.Shown))
			e.time(st.LastShown)
			e.int(int64(st.Accepted))
			e.int(int64(st.Declined))
		}
	}
	e.str(c.Sentiment)
	e.str(c.Dialog)
	e.time(c.CreatedAt)
	e.time(c.UpdatedAt)
	e.str(c.Claims.Phone)
	e.str(c.Claims.Email)
	e.str(string(c.Claims.Channel))
	e.time(c.Claims.At)
	e.bool(c.Verify != nil)
	if v := c.Verify; v != nil {
		e.uint(uint64(v.Target))
		e.str(v.Phone)
		e.str(v.Email)
		e.str(string(v.Via))
		e.str(v.CodeHash)
		e.time(v.Expires)
		e.int(int64(v.Attempts))
	}
	e.time(c.CodeSentAt)
	// Added with 0x86 at the end, out of the type's order, so that the
	// 0x83 layout above is a prefix of this one.
	e.str(string(c.Consent.Channel))
	// Added with 0x88, at the end for the same reason.
	e.strs(c.Bought)
	return e.b
}

// DecodeCustomer reads a customer record in a binary form (IsCustomer).
// The strings of c share one allocation, not data.
func DecodeCustomer(data []byte, c *crm.Customer) error {
	if !IsCustomer(data) {
		return notBinary("customer record", data)
	}
	d := newBinDecoder(data)
	c.ID = crm.ID(d.uint("id"))
	c.Name = d.str("name")
	c.Phone = d.str("phone")
	c.Email = d.str("email")
	c.Address = d.str("address")
	c.Language = d.str("language")
	if d.bool("birthday") {
		b := d.time("birthday")
		c.Birthday = &b
	}
	c.IsBusiness = d.bool("is_business")
	c.Company = d.str("company")
	c.Source = d.str("source")
	c.ExternalID = d.str("external_id")
	if n := d.count("identities"); n > 0 {
		c.Identities = make([]crm.Identity, n)
		for i := range c.Identities {
			id := &c.Identities[i]
			id.Channel = crm.Channel(d.str("identity channel"))
			id.UserID = d.str("identity user id")
			id.ChatID = d.str("identity chat id")
			id.Username = d.str("identity username")
			id.Unreachable = d.bool("identity unreachable")
			id.UnreachableSince = d.time("identity unreachable since")
			id.UnreachableWhy = d.str("identity unreachable why")
			id.FirstSeen = d.time("identity first seen")
		}
	}
	c.Tags = d.strs("tags")
	if n := d.count("notes"); n > 0 {
		c.Notes = make([]crm.Note, n)
		for i := range c.Notes {
			c.Notes[i] = crm.Note{Time: d.time("note time"), Author: d.str("note author"), Text: d.str("note text")}
		}
	}
	c.Interests = d.strs("interests")
	c.Segment = crm.SegmentAssignment{Name: d.str("segment"), Rule: d.str("segment rule"), Since: d.time("segment since")}
	c.Consent = crm.Consent{OptedOut: d.bool("opted out"), Since: d.time("consent since")}
	c.Handoff = crm.Handoff{Active: d.bool("handoff"), RequestedAt: d.time("handoff requested"), Agent: d.str("handoff agent"),
		TakenAt: d.time("handoff taken"), Thread: d.str("handoff thread")}
	s := &c.Stats
	s.FirstSeen = d.time("first seen")
	s.LastSeen = d.time("last seen")
	s.MessagesIn = d.int("messages in")
	s.MessagesOut = d.int("messages out")
	s.Orders = d.int("orders")
	s.TotalSpent = d.int64("total spent")
	s.FirstOrder = d.time("first order")
	s.LastOrder = d.time("last order")
	s.OffersShown = d.int("offers shown")
	s.OffersTaken = d.int("offers accepted")
	if n := d.count("daily"); n > 0 {
		s.Daily = make(map[string]int, n)
		for range n {
			day := d.str("daily day")
			s.Daily[day] = d.int("daily count")
		}
	}
	if n := d.count("offers"); n > 0 {
		c.Offers = make(map[string]*crm.OfferStat, n)
		for range n {
			id := d.str("offer id")
			var st *crm.OfferStat
			if d.bool("offer stat") {
				st = &crm.OfferStat{Shown: d.int("offer shown"), LastShown: d.time("offer last shown"),
					Accepted: d.int("offer accepted"), Declined: d.int("offer declined")}
			}
			c.Offers[id] = st
		}
	}
	c.Sentiment = d.str("sentiment")
	c.Dialog = d.str("dialog")
	c.CreatedAt = d.time("created at")
	c.UpdatedAt = d.time("updated at")
	if data[0] != CustomerFormatV1 {
		c.Claims = crm.ContactClaims{Phone: d.str("claimed phone"), Email: d.str("claimed email"),
			Channel: crm.Channel(d.str("claim channel")), At: d.time("claimed at")}
		if d.bool("verification") {
			c.Verify = &crm.Verification{Target: crm.ID(d.uint("verification target")), Phone: d.str("verification phone"),
				Email: d.str("verification email"), Via: crm.Channel(d.str("verification via")),
				CodeHash: d.str("verification code hash"), Expires: d.time("verification expires"),
				Attempts: d.int("verification attempts")}
		}
		c.CodeSentAt = d.time("code sent at")
		c.Consent.Channel = crm.Channel(d.str("consent channel"))
	}
	if data[0] == CustomerFormat {
		c.Bought = d.strs("products bought")
	}
	return d.done("customer record")
}

// EncodeInteraction returns i in the binary form.
func EncodeInteraction(i *crm.Interaction) []byte {
	e := binEncoder{b: make([]byte, 0, 96+len(i.Text)+len(i.Original))}
	e.b = append(e.b, InteractionFormat)
	e.uint(uint64(i.ID))
	e.uint(uint64(i.CustomerID))
	e.time(i.Time)
	e.str(string(i.Direction))
	e.str(string(i.Channel))
	e.str(i.ChatID)
	e.str(i.MessageID)
	e.str(i.Kind)
	e.str(i.Text)
	e.str(i.Original)
	e.bool(i.Edited)
	e.str(i.Intent)
	e.str(i.Sentiment)
	e.str(i.OfferID)
	e.buttons(i.Buttons)
	e.str(i.Payload)
	e.str(i.Author)
	e.uint(uint64(i.OutboxID))
	return e.b
}

// DecodeInteraction reads an interaction in the binary form
// (IsInteraction).
func DecodeInteraction(data []byte, i *crm.Interaction) error {
	if !IsInteraction(data) {
		return notBinary("interaction", data)
	}
	d := newBinDecoder(data)
	i.ID = crm.ID(d.uint("id"))
	i.CustomerID = crm.ID(d.uint("customer id"))
	i.Time = d.time("time")
	i.Direction = crm.Direction(d.str("direction"))
	i.Channel = crm.Channel(d.str("channel"))
	i.ChatID = d.str("chat id")
	i.MessageID = d.str("message id")
	i.Kind = d.str("kind")
	i.Text = d.str("text")
	i.Original = d.str("original")
	i.Edited = d.bool("edited")
	i.Intent = d.str("intent")
	i.Sentiment = d.str("sentiment")
	i.OfferID = d.str("offer id")
	i.Buttons = d.buttons()
	i.Payload = d.str("payload")
	i.Author = d.str("author")
	i.OutboxID = crm.ID(d.uint("outbox id"))
	return d.done("interaction")
}

// EncodeOutboxItem returns it in the binary form.
func EncodeOutboxItem(it *crm.OutboxItem) []byte {
	e := binEncoder{b: make([]byte, 0, 96+len(it.Text))}
	e.b = append(e.b, OutboxFormat)
	e.uint(uint64(it.ID))
	e.uint(uint64(it.CustomerID))
	e.uint(uint64(it.InteractionID))
	e.str(string(it.Channel))
	e.str(it.ChatID)
	e.str(it.UserID)
	e.str(it.Text)
	e.buttons(it.Buttons)
	e.bool(it.RequestPhone)
	e.str(it.OfferID)
	e.str(it.Status)
	e.int(int64(it.Attempts))
	e.time(it.NextAttempt)
	e.str(it.LastError)
	e.time(it.CreatedAt)
	e.time(it.SentAt)
	// Added with 0x87, so that the 0x85 layout above is a prefix of this one.
	e.int(int64(it.Priority))
	e.time(it.Due)
	e.str(it.LeaseOwner)
	e.time(it.LeaseUntil)
	return e.b
}

// DecodeOutboxItem reads an outbox item in a binary form (IsOutboxItem).
// Every field is carried, the delivery state too, though both stores keep
// the current one apart and set it over what this returns.
func DecodeOutboxItem(data []byte, it *crm.OutboxItem) error {
	if !IsOutboxItem(data) {
		return notBinary("outbox item", data)
	}
	d := newBinDecoder(data)
	it.ID = crm.ID(d.uint("id"))
	it.CustomerID = crm.ID(d.uint("customer id"))
	it.InteractionID = crm.ID(d.uint("interaction id"))
	it.Channel = crm.Channel(d.str("channel"))
	it.ChatID = d.str("chat id")
	it.UserID = d.str("user id")
	it.Text = d.str("text")
	it.Buttons = d.buttons()
	it.RequestPhone = d.bool("request phone")
	it.OfferID = d.str("offer id")
	it.Status = d.str("status")
	it.Attempts = d.int("attempts")
	it.NextAttempt = d.time("next attempt")
	it.LastError = d.str("last error")
	it.CreatedAt = d.time("created at")
	it.SentAt = d.time("sent at")
	if data[0] == OutboxFormat {
		it.Priority = d.int("priority")
		it.Due = d.time("due")
		it.LeaseOwner = d.str("lease owner")
		it.LeaseUntil = d.time("lease until")
	}
	return d.done("outbox item")
}

type binEncoder struct{ b []byte }

func (e *binEncoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *binEncoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *binEncoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *binEncoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *binEncoder) buttons(bs []crm.Button) {
	e.uint(uint64(len(bs)))
	for _, b := range bs {
		e.str(b.Label)
		e.str(b.Payload)
	}
}

func (e *binEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *binEncoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	_, off := t.Zone()
	e.b = append(e.b, 1)
	e.int(t.Unix())
	e.uint(uint64(t.Nanosecond()))
	e.int(int64(off))
}

// binDecoder reads the binary form; the first problem sticks, and every
// read after it returns zero values.
type binDecoder struct {
	d   []byte // what is left to read
	s   string // the bytes d started with, as a string
	err string
}

// newBinDecoder reads the value after its format byte. One string holds the
// whole value: every string field is a slice of it, not an allocation of
// its own.
func newBinDecoder(data []byte) *binDecoder {
	return &binDecoder{d: data[1:], s: string(data[1:])}
}

// done reports the first problem met, or bytes left after the last field.
func (d *binDecoder) done(what string) error {
	if d.err == "" && len(d.d) != 0 {
		d.err = "bytes after the last field"
	}
	if d.err != "" {
		return fmt.Errorf("bad %s (%s)", what, d.err)
	}
	return nil
}

func (d *binDecoder) buttons() []crm.Button {
	n := d.count("buttons")
	if n == 0 {
		return nil
	}
	out := make([]crm.Button, n)
	for i := range out {
		out[i] = crm.Button{Label: d.str("button label"), Payload: d.str("button payload")}
	}
	return out
}

func (d *binDecoder) fail(what string) {
	if d.err == "" {
		d.err = "truncated at " + what
	}
	d.d = nil
}

func (d *binDecoder) uint(what string) uint64 {
	v, n := binary.Uvarint(d.d)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.d = d.d[n:]
	return v
}

func (d *binDecoder) int64(what string) int64 {
	v, n := binary.Varint(d.d)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.d = d.d[n:]
	return v
}

func (d *binDecoder) int(what string) int { return int(d.int64(what)) }

// count is a slice's or map's length, at most one element per byte left
// (every element takes at least one), so a damaged count cannot allocate
// without bound.
func (d *binDecoder) count(what string) int {
	n := d.uint(what)
	if n > uint64(len(d.d)) {
		d.fail(what)
		return 0
	}
	return int(n)
}

func (d *binDecoder) str(what string) string {
	n := d.uint(what)
	if n > uint64(len(d.d)) {
		d.fail(what)
		return ""
	}
	at := len(d.s) - len(d.d)
	d.d = d.d[n:]
	return d.s[at : at+int(n)]
}

func (d *binDecoder) strs(what string) []string {
	n := d.count(what)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str(what)
	}
	return out
}

func (d *binDecoder) bool(what string) bool {
	if len(d.d) == 0 || d.d[0] > 1 {
		d.fail(what)
		return false
	}
	v := d.d[0] == 1
	d.d = d.d[1:]
	return v
}

// time reads a time as encode wrote it, in the location JSON would have
// given it: UTC for offset 0, Local when Local had that offset then, a
// fixed zone otherwise (as time.Parse does with RFC 3339).
func (d *binDecoder) time(what string) time.Time {
	if !d.bool(what) {
		return time.Time{}
	}
	sec := d.int64(what)
	nsec := d.uint(what)
	off := d.int64(what)
	if d.err != "" || nsec >= 1e9 {
		d.fail(what)
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	if local := t.In(time.Local); zoneOffset(local) == int(off) {
		return local
	}
	return t.In(time.FixedZone("", int(off)))
}

func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// sortedKeys are m's keys in order, so that equal maps encode equally.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
