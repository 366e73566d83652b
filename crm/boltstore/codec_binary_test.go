package boltstore

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/idicbot/idicbot/crm"
)

// fillAll sets every field reachable from v (structs, pointers, slices and
// maps of them) to a value that is not zero and differs from field to
// field, so a field the codec forgets shows in the round trip.
func fillAll(t *testing.T, v reflect.Value, path string, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d ✓", path, *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n * 1001))
	case reflect.Uint64:
		v.SetUint(uint64(*n * 7))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), path, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillAll(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fillAll(t, k, path+".key", n)
			e := reflect.New(v.Type().Elem()).Elem()
			fillAll(t, e, fmt.Sprintf("%s[%d]", path, i), n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			// Different times, and zones: UTC, a fixed offset, a zero-nanosecond one.
			zones := []*time.Location{time.UTC, time.FixedZone("ICT", 7*3600), time.FixedZone("", -(3*3600 + 30*60))}
			v.Set(reflect.ValueOf(time.Date(2020+*n%7, time.Month(1+*n%12), 1+*n%28, *n%24, *n%60, *n%60, *n*12345%1e9, zones[*n%3])))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fillAll(t, v.Field(i), path+"."+f.Name, n)
		}
	default:
		t.Fatalf("%s: fillAll does not know %s; teach it (and the customer codec)", path, v.Type())
	}
}

// asJSON is how values compare: JSON shows every field and each time's
// instant and offset.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// binaryCodec is one of the binary forms, for the tests common to them.
type binaryCodec struct {
	name   string
	value  func() any // a new zero value, as a pointer
	encode func(v any) []byte
	decode func(key, data []byte, v any) error
}

var binaryCodecs = []binaryCodec{
	{"customer", func() any { return new(crm.Customer) },
		func(v any) []byte { return encodeCustomer(v.(*crm.Customer)) },
		func(k, d []byte, v any) error { return decodeCustomer(k, d, v.(*crm.Customer)) }},
	{"interaction", func() any { return new(crm.Interaction) },
		func(v any) []byte { return encodeInteraction(v.(*crm.Interaction)) },
		func(k, d []byte, v any) error { return decodeInteraction(k, d, v.(*crm.Interaction)) }},
	{"outbox item", func() any { return new(crm.OutboxItem) },
		func(v any) []byte { return encodeOutboxItem(v.(*crm.OutboxItem)) },
		func(k, d []byte, v any) error { return decodeOutboxItem(k, d, v.(*crm.OutboxItem)) }},
}

// checkRoundTrip checks that v survives the binary form, that its JSON form
// (an older binary's) decodes to the same value, locations included, and
// that every truncated prefix and a trailing byte are refused.
func checkRoundTrip(t *testing.T, c binaryCodec, v any) {
	t.Helper()
	data := c.encode(v)
	got := c.value()
	if err := c.decode(idKey(1), data, got); err != nil {
		t.Fatal(err)
	}
	if want, have := asJSON(t, v), asJSON(t, got); want != have {
		t.Fatalf("a field is lost or changed by the binary form (carry it in both directions, with a new format byte):\nwant %s\nhave %s", want, have)
	}
	js, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON := c.value()
	if err := c.decode(idKey(1), js, fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, got) {
		t.Fatalf("binary and JSON forms decode differently:\nbinary %#v\nJSON   %#v", got, fromJSON)
	}
	for i := 1; i < len(data); i++ {
		if err := c.decode(idKey(1), data[:i], c.value()); err == nil || !strings.Contains(err.Error(), "bad "+c.name) {
			t.Fatalf("the first %d of %d bytes decoded: %v", i, len(data), err)
		}
	}
	if err := c.decode(idKey(1), append(data, 0), c.value()); err == nil {
		t.Fatal("a trailing byte decoded")
	}
}

func TestBinaryCodecsCoverEveryField(t *testing.T) {
	for _, c := range binaryCodecs {
		t.Run(c.name, func(t *testing.T) {
			v := c.value()
			n := 0
			fillAll(t, reflect.ValueOf(v).Elem(), c.name, &n)
			checkRoundTrip(t, c, v)
			data := c.encode(v)
			js, err := encode(v)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("every field set: %d bytes binary, %d bytes JSON", len(data), len(js))
		})
	}
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

func TestBinaryCodecs(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123, time.UTC)
	bday := time.Date(1990, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		codec int // index in binaryCodecs
		v     any
	}{
		{"zero customer", 0, &crm.Customer{}},
		{"a new web chat customer", 0, &crm.Customer{ID: 7, Language: "vi", CreatedAt: at, UpdatedAt: at,
			Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: "s1", ChatID: "s1", FirstSeen: at}},
			Segment:    crm.SegmentAssignment{Name: crm.SegmentNew, Rule: "messages_in <= 3", Since: at},
			Stats:      crm.Aggregates{FirstSeen: at, LastSeen: at, MessagesIn: 1, Daily: map[string]int{"20261130": 1}}}},
		{"a birthday, a nil offer stat, a negative total", 0, &crm.Customer{ID: 1 << 40, Birthday: &bday,
			Offers: map[string]*crm.OfferStat{"a": nil, "b": {Shown: 3, LastShown: at}},
			Stats:  crm.Aggregates{TotalSpent: -5, MessagesIn: 1 << 40}}},
		{"times in other zones", 0, &crm.Customer{CreatedAt: at.In(time.FixedZone("ICT", 7*3600)), UpdatedAt: at.In(time.Local),
			Notes: []crm.Note{{Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Author: "rep", Text: "năm 1"}}}},
		{"zero interaction", 1, &crm.Interaction{}},
		{"an inbound text", 1, &crm.Interaction{ID: 9, CustomerID: 7, Time: at, Direction: crm.Inbound, Channel: crm.ChannelTelegram,
			ChatID: "700000001", MessageID: "42", Kind: crm.KindText, Text: "giá iphone 15 bao nhiêu", Intent: "price"}},
		{"an offer with buttons", 1, &crm.Interaction{ID: 10, CustomerID: 7, Time: at, Direction: crm.Outbound, Kind: crm.KindOffer,
			Text: "Ưu đãi", OfferID: "welcome", Buttons: []crm.Button{{Label: "Nhận", Payload: "offer:accept:welcome"}, {Label: "", Payload: ""}}, OutboxID: 3}},
		{"zero outbox item", 2, &crm.OutboxItem{}},
		{"a pending reply", 2, &crm.OutboxItem{ID: 3, CustomerID: 7, InteractionID: 10, Channel: crm.ChannelZalo, ChatID: "z1", UserID: "z1",
			Text: "Chào bạn", Buttons: []crm.Button{{Label: "A", Payload: "a"}}, RequestPhone: true, Status: crm.OutboxPending, CreatedAt: at}},
		{"a failed reply", 2, &crm.OutboxItem{ID: 4, Status: crm.OutboxFailed, Attempts: 5, NextAttempt: at, LastError: "HTTP 500", SentAt: at}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRoundTrip(t, binaryCodecs[tc.codec], tc.v) })
	}
}

func BenchmarkCustomerCodec(b *testing.B) {
	at := time.Now()
	c := &crm.Customer{ID: 1000, Name: "Khách 999", Language: "vi",
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: "u999", ChatID: "u999", FirstSeen: at}},
		Interests:  []string{"redmi-note-13"},
		Segment:    crm.SegmentAssignment{Name: "at_risk", Rule: "order_count >= 1 && days_since_last_order > max(60, 2 * avg_order_interval_days)", Since: at},
		Stats: crm.Aggregates{FirstSeen: at, LastSeen: at, MessagesIn: 3, MessagesOut: 3, Orders: 1, TotalSpent: 8939410,
			FirstOrder: at, LastOrder: at, OffersShown: 1, Daily: map[string]int{"20261202": 2}},
		Offers:    map[string]*crm.OfferStat{"winback": {Shown: 1, LastShown: at}},
		CreatedAt: at, UpdatedAt: at}
	js, _ := encode(c)
	bin := encodeCustomer(c)
	b.Logf("a bench customer: %d bytes binary, %d bytes JSON", len(bin), len(js))
	for _, f := range []struct {
		name string
		data []byte
	}{{"json", js}, {"binary", bin}} {
		b.Run("decode/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c crm.Customer
				if err := decodeCustomer(nil, f.data, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encode(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodeCustomer(c)
		}
	})
}

// An outbox item in the 0x85 layout (schema 6) still decodes: priority 0,
// due at once, not leased.
func TestOutboxItemV1Decodes(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123, time.UTC)
	want := &crm.OutboxItem{ID: 3, CustomerID: 7, InteractionID: 10, Channel: crm.ChannelZalo, ChatID: "z1", UserID: "z1",
		Text: "Chào bạn", Buttons: []crm.Button{{Label: "A", Payload: "a"}}, Status: crm.OutboxPending, Attempts: 2,
		NextAttempt: at, LastError: "429", CreatedAt: at}
	old := encodeOutboxItemV1(want)
	if old[0] != 0x85 {
		t.Fatalf("format byte %#x, want 0x85", old[0])
	}
	var got crm.OutboxItem
	if err := decodeOutboxItem(idKey(3), old, &got); err != nil {
		t.Fatal(err)
	}
	if a, b := asJSON(t, want), asJSON(t, &got); a != b {
		t.Fatalf("0x85 item decoded as\n%s\nwant\n%s", b, a)
	}
	if err := decodeOutboxItem(idKey(3), append(old, 0), &got); err == nil {
		t.Fatal("a 0x85 item with a trailing byte decoded")
	}
}
