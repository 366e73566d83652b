package boltstore

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// customerFormat prefixes a customer record in its compact binary form.
// Every message decodes its customer and encodes it again, so the record's
// codec is on the hot path of the core: reading and writing this form takes
// a fraction of the JSON's time, and it is less than half as long (no field
// names, times in a few bytes instead of 30-odd characters), which also
// packs more customers into each page. Records in JSON, written by older
// binaries, still decode; older binaries, which know only formatVersion,
// refuse this form as newer instead of misreading it.
//
// After the byte, the fields in the order of crm.Customer, nested structs
// inline: strings and byte counts as uvarint length + bytes, counts and
// non-negative ints as uvarints, other ints as varints, bools as a byte,
// times as 0 (zero time) or 1 + varint Unix seconds + uvarint nanoseconds +
// varint zone offset in seconds, an optional value as a presence byte, a
// slice or map as a uvarint count then its elements (map keys sorted, so
// equal records encode equally). A change to the layout needs a new format
// byte; TestCustomerCodecCoversEveryField fails when a field of crm.Customer
// is not carried.
const customerFormat = 0x83

func encodeCustomer(c *crm.Customer) []byte {
	e := custEncoder{b: make([]byte, 0, 384)}
	e.b = append(e.b, customerFormat)
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
	for _, day := range slices.Sorted(maps.Keys(s.Daily)) {
		e.str(day)
		e.int(int64(s.Daily[day]))
	}
	e.uint(uint64(len(c.Offers)))
	for _, id := range slices.Sorted(maps.Keys(c.Offers)) {
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
	return e.b
}

type custEncoder struct{ b []byte }

func (e *custEncoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *custEncoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *custEncoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *custEncoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *custEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *custEncoder) time(t time.Time) {
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

// decodeCustomer reads a customer record: the binary form, or the JSON of
// older binaries.
func decodeCustomer(key, data []byte, c *crm.Customer) error {
	if len(data) == 0 || data[0] != customerFormat {
		return decode(bktCustomers, key, data, c)
	}
	// One string for the whole record: every string field is a slice of it,
	// not an allocation of its own.
	d := custDecoder{d: data[1:], s: string(data[1:])}
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
	if d.err == "" && len(d.d) != 0 {
		d.err = "bytes after the last field"
	}
	if d.err != "" {
		return fmt.Errorf("%s/%x: bad customer record (%s)", bktCustomers, key, d.err)
	}
	return nil
}

// custDecoder reads the binary form; the first problem sticks, and every
// read after it returns zero values.
type custDecoder struct {
	d   []byte // what is left to read
	s   string // the bytes d started with, as a string
	err string
}

func (d *custDecoder) fail(what string) {
	if d.err == "" {
		d.err = "truncated at " + what
	}
	d.d = nil
}

func (d *custDecoder) uint(what string) uint64 {
	v, n := binary.Uvarint(d.d)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.d = d.d[n:]
	return v
}

func (d *custDecoder) int64(what string) int64 {
	v, n := binary.Varint(d.d)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.d = d.d[n:]
	return v
}

func (d *custDecoder) int(what string) int { return int(d.int64(what)) }

// count is a slice's or map's length, at most one element per byte left
// (every element takes at least one), so a damaged count cannot allocate
// without bound.
func (d *custDecoder) count(what string) int {
	n := d.uint(what)
	if n > uint64(len(d.d)) {
		d.fail(what)
		return 0
	}
	return int(n)
}

func (d *custDecoder) str(what string) string {
	n := d.uint(what)
	if n > uint64(len(d.d)) {
		d.fail(what)
		return ""
	}
	at := len(d.s) - len(d.d)
	d.d = d.d[n:]
	return d.s[at : at+int(n)]
}

func (d *custDecoder) strs(what string) []string {
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

func (d *custDecoder) bool(what string) bool {
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
func (d *custDecoder) time(what string) time.Time {
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
