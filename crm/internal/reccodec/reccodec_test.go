package reccodec

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

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
	decode func(data []byte, v any) error
}

var binaryCodecs = []binaryCodec{
	{"customer", func() any { return new(crm.Customer) },
		func(v any) []byte { return EncodeCustomer(v.(*crm.Customer)) },
		func(d []byte, v any) error { return DecodeCustomer(d, v.(*crm.Customer)) }},
	{"interaction", func() any { return new(crm.Interaction) },
		func(v any) []byte { return EncodeInteraction(v.(*crm.Interaction)) },
		func(d []byte, v any) error { return DecodeInteraction(d, v.(*crm.Interaction)) }},
	{"outbox item", func() any { return new(crm.OutboxItem) },
		func(v any) []byte { return EncodeOutboxItem(v.(*crm.OutboxItem)) },
		func(d []byte, v any) error { return DecodeOutboxItem(d, v.(*crm.OutboxItem)) }},
}

// legacyJSON are the JSON forms of older binaries, which the stores still
// read: bbolt's (json v2 with v1 semantics, as boltstore's jsonOptions)
// and PostgreSQL's (encoding/json).
var legacyJSON = []struct {
	name      string
	marshal   func(v any) ([]byte, error)
	unmarshal func(data []byte, v any) error
}{
	{"bbolt", func(v any) ([]byte, error) { return json.Marshal(v, boltJSON) },
		func(data []byte, v any) error { return json.Unmarshal(data, v, boltJSON) }},
	{"postgres", stdjson.Marshal, stdjson.Unmarshal},
}

var boltJSON = json.JoinOptions(json.FormatNilSliceAsNull(true), json.FormatNilMapAsNull(true),
	jsonv1.OmitEmptyWithLegacySemantics(true), jsontext.EscapeForHTML(false))

// checkRoundTrip checks that v survives the binary form, that its JSON
// forms (older binaries') decode to the same value, locations included,
// and that every truncated prefix and a trailing byte are refused.
func checkRoundTrip(t *testing.T, c binaryCodec, v any) {
	t.Helper()
	data := c.encode(v)
	got := c.value()
	if err := c.decode(data, got); err != nil {
		t.Fatal(err)
	}
	if want, have := asJSON(t, v), asJSON(t, got); want != have {
		t.Fatalf("a field is lost or changed by the binary form (carry it in both directions, with a new format byte):\nwant %s\nhave %s", want, have)
	}
	for _, j := range legacyJSON {
		js, err := j.marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fromJSON := c.value()
		if err := j.unmarshal(js, fromJSON); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromJSON, got) {
			t.Fatalf("binary and %s JSON forms decode differently:\nbinary %#v\nJSON   %#v", j.name, got, fromJSON)
		}
	}
	for i := 1; i < len(data); i++ {
		if err := c.decode(data[:i], c.value()); err == nil || !strings.Contains(err.Error(), "bad "+c.name) {
			t.Fatalf("the first %d of %d bytes decoded: %v", i, len(data), err)
		}
	}
	if err := c.decode(append(data, 0), c.value()); err == nil {
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
			js, err := json.Marshal(v, boltJSON)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("every field set: %d bytes binary, %d bytes JSON", len(data), len(js))
		})
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
	js, _ := json.Marshal(c, boltJSON)
	bin := EncodeCustomer(c)
	b.Logf("a bench customer: %d bytes binary, %d bytes JSON", len(bin), len(js))
	for _, f := range []struct {
		name   string
		data   []byte
		decode func(data []byte, c *crm.Customer) error
	}{{"json", js, func(data []byte, c *crm.Customer) error { return json.Unmarshal(data, c, boltJSON) }}, {"binary", bin, DecodeCustomer}} {
		b.Run("decode/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c crm.Customer
				if err := f.decode(f.data, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(c, boltJSON); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			EncodeCustomer(c)
		}
	})
}

// encodeOutboxItemV1 writes an item in the 0x85 layout of bbolt schema 6
// (no priority, due time or lease).
func encodeOutboxItemV1(it *crm.OutboxItem) []byte {
	v := *it
	v.Priority, v.Due, v.LeaseOwner, v.LeaseUntil = 0, time.Time{}, "", time.Time{}
	b := EncodeOutboxItem(&v)
	b = b[:len(b)-4] // the four zero fields 0x87 added, a byte each
	b[0] = OutboxFormatV1
	return b
}

// A JSON value (an older binary's) is refused, for the store's own
// fallback to read: no format byte is '{' or bbolt's 1.
func TestNotBinaryRefused(t *testing.T) {
	for _, c := range binaryCodecs {
		for _, data := range [][]byte{nil, []byte(`{"id":1}`), {1, '{', '}'}} {
			if err := c.decode(data, c.value()); !errors.Is(err, ErrNotBinary) {
				t.Errorf("%s: %q decoded: %v, want ErrNotBinary", c.name, data, err)
			}
		}
	}
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
	if err := DecodeOutboxItem(old, &got); err != nil {
		t.Fatal(err)
	}
	if a, b := asJSON(t, want), asJSON(t, &got); a != b {
		t.Fatalf("0x85 item decoded as\n%s\nwant\n%s", b, a)
	}
	if err := DecodeOutboxItem(append(old, 0), &got); err == nil {
		t.Fatal("a 0x85 item with a trailing byte decoded")
	}
}
