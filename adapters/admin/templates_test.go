package admin_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
)

// An offer template that would run for ever or build a huge text is refused
// when saved, with the field, the line and the reason, and the preview the
// page asks for while the admin types shows the same reason at once.
func TestOfferTemplateBombs(t *testing.T) {
	e := newEnv(t)
	loop := "repeats too much|takes longer than" // whichever bound stops it first
	tests := []struct {
		name, src string
		line      int
		reason    string
	}{
		{"infinite range", "Chào {{.FirstName}}\n{{range 1000000000000000}}{{end}}", 2, loop},
		{"nested range bomb", "{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}", 1, loop},
		{"huge printf width", `{{printf "%0999999d" 1}}`, 1, "printf width 999999 is more than 100"},
		{"recursion through define", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, 1, "more than 100 deep|" + loop},
		// Plain text past the bound: no loop, so the time bound cannot
		// stop it first on a busy machine.
		{"output bomb", strings.Repeat("Chào bạn, mã WELCOME10! ", 400), 0, "the text is longer than 8192 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason := regexp.MustCompile(tt.reason)
			o := e.getOffer("welcome-new")
			o.Templates["vi"] = tt.src
			var er apiError
			if st := e.call("PUT", "/api/admin/offers/welcome-new", o, &er); st != 422 || er.Error.Code != "invalid" {
				t.Fatalf("put: %d %+v", st, er)
			}
			p := er.Error.Problems
			if len(p) == 0 || p[0].Field != "templates.vi" || p[0].Line != tt.line || !reason.MatchString(p[0].Message) {
				t.Fatalf("problems = %+v, want templates.vi line %d %q", p, tt.line, tt.reason)
			}

			var pv bot.OfferPreview
			if st := e.call("POST", "/api/admin/offers/preview", map[string]any{"offer": o}, &pv); st != 200 {
				t.Fatalf("preview: %d", st)
			}
			if len(pv.Problems) == 0 || pv.Problems[0].Field != "templates.vi" || !reason.MatchString(pv.Problems[0].Message) {
				t.Fatalf("preview problems = %+v", pv.Problems)
			}
			if vi := pv.Texts[0]; vi.Error == nil || !reason.MatchString(vi.Error.Message) || vi.Text != "" {
				t.Fatalf("preview of vi = %+v", vi)
			}
		})
	}
	if o := e.getOffer("welcome-new"); o.Version != 1 {
		t.Fatalf("a refused template was stored: version %d", o.Version)
	}
}

// A template that passes for the sample customers but goes past a bound for
// a real one is stopped at send time: the customer gets the ordinary answer
// without the offer.
func TestOfferTemplateBoundAtSend(t *testing.T) {
	e := newEnv(t)
	o := e.getOffer("welcome-new")
	// The sample customer is called An; a web chat visitor has no name.
	o.Templates["vi"] = `{{if eq .FirstName "bạn"}}{{range 1000000000000000}}{{end}}{{end}}Chào mừng {{.FirstName}}!`
	if st := e.call("PUT", "/api/admin/offers/welcome-new", o, nil); st != 200 {
		t.Fatalf("put: %d", st)
	}
	got := e.chat("s", "xin chào")
	if len(got) == 0 {
		t.Fatal("no answer")
	}
	for _, m := range got {
		if strings.Contains(m, "Chào mừng") {
			t.Fatalf("the offer was shown: %q", got)
		}
	}
}
