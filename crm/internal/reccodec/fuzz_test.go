package reccodec

import (
	"bytes"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// codecSeeds are values of every binary form, JSON, and damaged bytes.
func codecSeeds() [][]byte {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123, time.FixedZone("ICT", 7*3600))
	cust := &crm.Customer{ID: 7, Name: "Nguyễn Thị Lan", Phone: "+84912345678", Language: "vi", CreatedAt: at, Tags: []string{"b2b"},
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: "s1", ChatID: "s1", FirstSeen: at}},
		Offers:     map[string]*crm.OfferStat{"a": nil, "b": {Shown: 3, LastShown: at}},
		Stats:      crm.Aggregates{FirstSeen: at, LastSeen: at, MessagesIn: 1, Daily: map[string]int{"20261130": 1}}}
	in := &crm.Interaction{ID: 10, CustomerID: 7, Time: at, Direction: crm.Outbound, Kind: crm.KindOffer, Text: "Ưu đãi",
		OfferID: "welcome", Buttons: []crm.Button{{Label: "Nhận", Payload: "offer:accept:welcome"}}, OutboxID: 3}
	it := &crm.OutboxItem{ID: 4, CustomerID: 7, Channel: crm.ChannelZalo, ChatID: "z1", Text: "Chào bạn", Status: crm.OutboxFailed,
		Attempts: 5, NextAttempt: at, LastError: "HTTP 500", SentAt: at, RequestPhone: true}
	return [][]byte{nil, {}, {CustomerFormat}, {InteractionFormat}, {OutboxFormat}, {CustomerFormatV1}, {CustomerFormatV2}, {OutboxFormatV1},
		{CustomerFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		[]byte("{}"), []byte("null"), []byte("\xff{"),
		EncodeCustomer(cust), EncodeInteraction(in), EncodeOutboxItem(it), encodeOutboxItemV1(it)}
}

// FuzzDecode: any bytes given to a decoder either are refused with an
// error or decode to a value whose binary form decodes again to a value
// with the same binary form. Nothing panics, and no damaged count
// allocates without bound.
func FuzzDecode(f *testing.F) {
	for _, s := range codecSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range binaryCodecs {
			v := c.value()
			if err := c.decode(data, v); err != nil {
				continue
			}
			b1 := c.encode(v)
			v2 := c.value()
			if err := c.decode(b1, v2); err != nil {
				t.Fatalf("%s: %x decoded, but its binary form %x does not: %v", c.name, data, b1, err)
			}
			if b2 := c.encode(v2); !bytes.Equal(b1, b2) {
				t.Fatalf("%s: binary form changes on a round trip:\n%x\n%x", c.name, b1, b2)
			}
		}
	})
}

// FuzzRoundTrip: values built from any strings, numbers and times survive
// the binary forms exactly.
func FuzzRoundTrip(f *testing.F) {
	f.Add("Nguyễn Thị Lan", "+84912345678", "giá iphone 15 bao nhiêu", uint64(7), int64(1_500_000), int64(1764489600), uint32(123), int32(7*3600))
	f.Add("", "", "", uint64(0), int64(0), int64(0), uint32(0), int32(0))
	f.Add("\x00\xff\xed\xa0\x80", "\ufffd", "\n\t\r", uint64(1<<63), int64(-1<<63), int64(-62135596800), uint32(999999999), int32(-12*3600))
	f.Add("a", "b", "c", uint64(1), int64(1<<62), int64(253402300800), uint32(1), int32(1<<30))
	f.Fuzz(func(t *testing.T, name, phone, text string, id uint64, n, sec int64, nsec uint32, off int32) {
		at := time.Unix(sec, int64(nsec%1e9)).In(time.FixedZone("", int(off)))
		cust := &crm.Customer{ID: crm.ID(id), Name: name, Phone: phone, Email: text, CreatedAt: at, UpdatedAt: at,
			Tags: []string{name, text}, Birthday: &at,
			Identities: []crm.Identity{{Channel: crm.Channel(text), UserID: phone, ChatID: name, FirstSeen: at}},
			Notes:      []crm.Note{{Time: at, Author: name, Text: text}},
			Offers:     map[string]*crm.OfferStat{name: {Shown: int(n), LastShown: at}, text + "x": nil},
			Stats:      crm.Aggregates{FirstSeen: at, TotalSpent: n, MessagesIn: int(n), Daily: map[string]int{name: int(n)}}}
		in := &crm.Interaction{ID: crm.ID(id), CustomerID: crm.ID(id), Time: at, Direction: crm.Inbound, Channel: crm.Channel(name),
			ChatID: phone, MessageID: text, Kind: crm.KindText, Text: text, Original: name, Edited: n%2 == 0,
			Buttons: []crm.Button{{Label: name, Payload: text}}, Payload: phone, OutboxID: crm.ID(id)}
		it := &crm.OutboxItem{ID: crm.ID(id), CustomerID: crm.ID(id), Channel: crm.Channel(phone), ChatID: name, UserID: text,
			Text: text, Buttons: []crm.Button{{Label: text, Payload: name}}, Status: crm.OutboxPending, Attempts: int(n),
			NextAttempt: at, CreatedAt: at, LastError: name}
		for i, v := range []any{cust, in, it} {
			c := binaryCodecs[i]
			data := c.encode(v)
			got := c.value()
			if err := c.decode(data, got); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if again := c.encode(got); !bytes.Equal(again, data) {
				t.Fatalf("%s: round trip changed the value:\n%x\n%x", c.name, data, again)
			}
		}
		got := new(crm.Customer)
		if err := DecodeCustomer(EncodeCustomer(cust), got); err != nil {
			t.Fatal(err)
		}
		// The zero instant is "unset" in whatever zone: it is stored as such.
		if got.Name != name || got.Phone != phone || !got.CreatedAt.Equal(at) || !at.IsZero() && zoneOffset(got.CreatedAt) != zoneOffset(at) ||
			got.Stats.TotalSpent != n || got.Identities[0].UserID != phone {
			t.Fatalf("customer changed: %+v", got)
		}
	})
}
