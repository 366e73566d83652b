package crm_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Reasons of a loop stopped by a bound: the time bound may stop it before
// the step bound does, depending on the machine's speed.
const (
	repeats = "repeats too much"
	slower  = "takes longer than"
)

// Templates that would run for ever or allocate without bound are refused
// when the offer is validated (for a sample customer) and stop with an error
// when rendered; none of these finishes without the bounds.
// dateFormatPasses is how often the date format bomb formats its own
// output (2^40 bytes in the end).
var dateFormatPasses = 40

var templateBombs = []struct {
	name, src string
	reason    string // what the refusal says (a regular expression)
}{
	{"infinite range", `{{range 1000000000000000}}{{end}}`, repeats + "|" + slower},
	{"nested range bomb", `{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}`, repeats + "|" + slower},
	{"huge printf width", `{{printf "%0999999d" 1}}`, "printf width 999999 is more than 100"},
	{"printf width from an argument", `{{printf "%*d" 999999 1}}`, "printf width"},
	{"huge printf width unused", `{{range 100000}}{{len (printf "%.999999f" 1.0)}}{{end}}`, "printf width 999999"},
	{"doubling string", `{{$s := "xx"}}{{range 60}}{{$s = printf "%s%s" $s $s}}{{end}}{{len $s}}`, "longer than"},
	{"escaper growth", `{{$s := "\\\\"}}{{range 40}}{{$s = js $s}}{{end}}{{len $s}}`, "longer than"},
	{"recursion through define", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, "deep|" + slower},
	{"exponential recursion", `{{define "a"}}{{if .}}{{template "a" slice . 1}}{{template "a" slice . 1}}{{end}}{{end}}{{template "a" "0123456789012345678901234567890123456789"}}`, repeats + "|" + slower},
	{"recursion through block", `{{block "b" .}}x{{template "b" .}}{{end}}`, "deep|" + slower},
	{"wide template calls", `{{define "a"}}{{range 1000}}{{template "b"}}{{end}}{{end}}{{define "b"}}{{range 1000}}{{end}}{{end}}{{template "a"}}`, repeats + "|" + slower},
	// With the month 11, each pass turns every "1" into "11".
	{"date format growth", `{{$s := "1"}}` + strings.Repeat(`{{$s = $.Now.Format $s}}`, dateFormatPasses) + `{{len $s}}`, "layout"},
	{"output bomb", `{{range 100000}}Chào {{$.FirstName}}, mã {{$.Code}} giảm 10%! {{end}}`, "longer than"},
}

// Renders of one template from many goroutines each get their own budget
// and text.
func TestTemplateConcurrentRenders(t *testing.T) {
	now := date(2026, 11, 10)
	o := &crm.Offer{ID: "ok", Status: crm.OfferDraft, Code: "X1", Templates: map[string]string{
		"vi": `{{define "star"}}*{{end}}{{.FirstName}} {{range .Orders}}{{template "star"}}{{end}}`,
	}}
	co, err := crm.CompileOffer(o)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			// 3 orders: few enough steps that the time bound is not read,
			// however slowly a crowded machine runs the goroutines.
			c := crm.SampleCustomer(crm.SegmentLoyal, now)
			c.Name = fmt.Sprintf("Khách %d", g)
			want := fmt.Sprintf("%d ***", g)
			for range 200 {
				if got, err := co.Render("vi", c, nil, now); err != nil || got != want {
					errs <- fmt.Errorf("render = %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestTemplateBombs(t *testing.T) {
	now := date(2026, 11, 10)
	for _, tt := range templateBombs {
		t.Run(tt.name, func(t *testing.T) {
			o := &crm.Offer{ID: "bomb", Status: crm.OfferDraft, Code: "X1", Templates: map[string]string{"vi": tt.src}}
			co, err := crm.CompileOffer(o)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			err = crm.ValidateOffer(o, []string{crm.SegmentNew}, now)
			if got := crm.ErrorCode(err); got != crm.EINVALID {
				t.Fatalf("validate: code %q (%v), want %q", got, err, crm.EINVALID)
			}
			reason := regexp.MustCompile(tt.reason)
			if msg := crm.ErrorMessage(err); !reason.MatchString(msg) || !strings.Contains(msg, "templates.vi") {
				t.Fatalf("validate: %q does not say %q for templates.vi", msg, tt.reason)
			}
			text, err := co.Render("vi", crm.SampleCustomer(crm.SegmentNew, now), nil, now)
			var lim *crm.TemplateLimitError
			if !errors.As(err, &lim) || !reason.MatchString(err.Error()) {
				t.Fatalf("render: %d bytes, err %v; want an error saying %q", len(text), err, tt.reason)
			}
		})
	}
}

// A template within the bounds renders as before, loops and defines
// included.
func TestTemplateWithinBounds(t *testing.T) {
	now := date(2026, 11, 10)
	tests := []struct{ name, src, want string }{
		{"fields and helpers", `Chào {{.FirstName}}: {{vnd 1500000}} {{printf "%05d" 42}} {{upper .Code}}`, "Chào An: 1.500.000 ₫ 00042 X1"},
		{"a small range", `{{range 3}}*{{end}}`, "***"},
		{"define", `{{define "code"}}mã {{.Code}}{{end}}Hi {{template "code" .}}`, "Hi mã X1"},
		{"printf of text", `{{printf "%s/%s" .Code .Lang}}`, "X1/vi"},
		{"html", `{{html "<b>"}}`, "&lt;b&gt;"},
		{"the date", `{{.Now.Format "02/01/2006"}} {{.Now.Year}} {{.Now.Month}} {{(.Now.AddDate 0 0 1).Day}}`, "10/11/2026 2026 November 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &crm.Offer{ID: "ok", Name: "OK", Status: crm.OfferDraft, Code: "X1", Templates: map[string]string{"vi": tt.src}}
			if err := crm.ValidateOffer(o, []string{crm.SegmentNew}, now); err != nil {
				t.Fatalf("validate: %v", err)
			}
			co, err := crm.CompileOffer(o)
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the second render reuses what the first one left.
			for range 2 {
				got, err := co.Render("vi", crm.SampleCustomer(crm.SegmentNew, now), nil, now)
				if err != nil || got != tt.want {
					t.Fatalf("render = %q, %v; want %q", got, err, tt.want)
				}
			}
		})
	}
}

// BenchmarkRenderOffer renders a typical offer text, as every message that
// shows an offer does.
func BenchmarkRenderOffer(b *testing.B) {
	now := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	o := &crm.Offer{ID: "flash", Status: crm.OfferActive, Code: "FLASH5", Templates: map[string]string{
		"vi": "🔥 {{.Product}} đang giảm 5%{{if .ProductPrice}}: chỉ còn {{vnd (percent .ProductPrice 95)}}{{end}} với mã {{.Code}}. Chốt đơn ngay nhé!",
	}}
	co, err := crm.CompileOffer(o)
	if err != nil {
		b.Fatal(err)
	}
	c := crm.SampleCustomer(crm.SegmentPotential, now)
	products := func(string) (string, int64) { return "Tai nghe", 1_990_000 }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := co.Render("vi", c, products, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderOfferLoop renders a text with a loop and a template call,
// which pay for the budget checks on every turn.
func BenchmarkRenderOfferLoop(b *testing.B) {
	now := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	o := &crm.Offer{ID: "stars", Status: crm.OfferActive, Code: "VIP15", Templates: map[string]string{
		"vi": `{{define "star"}}⭐{{end}}👑 {{.FirstName}} ơi, {{range .Orders}}{{template "star"}}{{end}} cảm ơn bạn! Mã {{.Code}}.`,
	}}
	co, err := crm.CompileOffer(o)
	if err != nil {
		b.Fatal(err)
	}
	c := crm.SampleCustomer(crm.SegmentVIP, now) // 8 orders
	b.ReportAllocs()
	for b.Loop() {
		if _, err := co.Render("vi", c, nil, now); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFirstName(t *testing.T) {
	for _, tc := range []struct{ full, lang, want string }{
		{"Nguyễn Thị Lan", "vi", "Lan"},
		{"Lan Nguyen", "vi", "Lan"},
		{"Lan Nguyễn", "en", "Lan"},
		{"Trần Minh", "en", "Minh"},
		{"John Smith", "en", "John"},
		{"Minh", "vi", "Minh"},
		{"", "vi", ""},
	} {
		if got := crm.FirstName(tc.full, tc.lang); got != tc.want {
			t.Errorf("FirstName(%q, %s) = %q, want %q", tc.full, tc.lang, got, tc.want)
		}
	}
}
