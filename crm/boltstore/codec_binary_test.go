package boltstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// The binary forms themselves are tested in package reccodec; these tests
// check what bbolt adds: the JSON fallback, the bucket and key in errors,
// and that older binaries refuse the binary forms.

// binaryCodec is one of the binary forms as bbolt reads it.
type binaryCodec struct {
	name   string
	value  func() any // a new zero value, as a pointer
	encode func(v any) []byte
	decode func(key, data []byte, v any) error
}

var binaryCodecs = []binaryCodec{
	{"customer", func() any { return new(crm.Customer) },
		func(v any) []byte { return reccodec.EncodeCustomer(v.(*crm.Customer)) },
		func(k, d []byte, v any) error { return decodeCustomer(k, d, v.(*crm.Customer)) }},
	{"interaction", func() any { return new(crm.Interaction) },
		func(v any) []byte { return reccodec.EncodeInteraction(v.(*crm.Interaction)) },
		func(k, d []byte, v any) error { return decodeInteraction(k, d, v.(*crm.Interaction)) }},
	{"outbox item", func() any { return new(crm.OutboxItem) },
		func(v any) []byte { return reccodec.EncodeOutboxItem(v.(*crm.OutboxItem)) },
		func(k, d []byte, v any) error { return decodeOutboxItem(k, d, v.(*crm.OutboxItem)) }},
}

func TestBinaryCodecsCompatibility(t *testing.T) {
	// What only knows JSON (an older binary) refuses every binary form as newer.
	for _, c := range binaryCodecs {
		if err := decode([]byte("b"), idKey(3), c.encode(c.value()), c.value()); !errors.Is(err, ErrNewerFormat) {
			t.Errorf("%s: JSON-only decode of the binary form: %v, want ErrNewerFormat", c.name, err)
		}
	}
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	old, err := encode(&crm.Customer{ID: 3, Name: "Khách", Phone: "+84912345678", CreatedAt: at, Stats: crm.Aggregates{MessagesIn: 2}})
	if err != nil {
		t.Fatal(err)
	}
	var got crm.Customer
	if err := decodeCustomer(idKey(3), old, &got); err != nil || got.Name != "Khách" || got.Phone != "+84912345678" || got.Stats.MessagesIn != 2 {
		t.Fatalf("JSON record decoded as %+v, %v", got, err)
	}
}

// Every form read through bbolt's decoders: the binary one and the JSON of
// older binaries decode alike, and a damaged value names its bucket and key.
func TestBinaryCodecsInBolt(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123, time.FixedZone("ICT", 7*3600))
	values := []any{
		&crm.Customer{ID: 7, Name: "Khách", CreatedAt: at, Offers: map[string]*crm.OfferStat{"a": {Shown: 1, LastShown: at}}},
		&crm.Interaction{ID: 9, CustomerID: 7, Time: at, Direction: crm.Inbound, Text: "giá bao nhiêu"},
		&crm.OutboxItem{ID: 3, CustomerID: 7, Text: "Chào bạn", Status: crm.OutboxPending, CreatedAt: at, Due: at, Priority: 2},
	}
	for i, c := range binaryCodecs {
		data := c.encode(values[i])
		bin, fromJSON := c.value(), c.value()
		if err := c.decode(idKey(7), data, bin); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		js, err := encode(values[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := c.decode(idKey(7), js, fromJSON); err != nil {
			t.Fatalf("%s from JSON: %v", c.name, err)
		}
		if a, b := string(c.encode(bin)), string(c.encode(fromJSON)); a != b {
			t.Errorf("%s: binary and JSON forms decode differently", c.name)
		}
		err = c.decode(idKey(7), data[:len(data)-1], c.value())
		if want := "/0000000000000007: bad " + c.name; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: a truncated value: %v, want an error with %q", c.name, err, want)
		}
	}
}
