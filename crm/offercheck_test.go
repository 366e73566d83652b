package crm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

// Every kind of problem CheckOffer finds, with the field, line and column
// an editor shows it at.
func TestCheckOfferProblems(t *testing.T) {
	now := date(2026, 11, 10)
	past := date(2026, 11, 1)
	segs := []string{"new", "vip"}
	products := func(id string) (string, int64) {
		if id == "sample" {
			return "Áo dài lụa", 1_500_000
		}
		return "", 0
	}
	tests := []struct {
		name    string
		edit    func(o *crm.Offer)
		want    crm.Problem // Message: a part of it
		wantLen int         // problems in all; 0 means 1
	}{
		{"no id", func(o *crm.Offer) { o.ID = "" },
			crm.Problem{Field: "id", Message: "is required"}, 0},
		{"long id", func(o *crm.Offer) { o.ID = strings.Repeat("a", 65) },
			crm.Problem{Field: "id", Message: "longer than 64"}, 0},
		{"id with spaces", func(o *crm.Offer) { o.ID = "Tết sale" },
			crm.Problem{Field: "id", Message: "may hold only a-z, 0-9, _ and -"}, 0},
		{"no name", func(o *crm.Offer) { o.Name = " " },
			crm.Problem{Field: "name", Message: "is required"}, 0},
		{"bad status", func(o *crm.Offer) { o.Status = "live" },
			crm.Problem{Field: "status", Message: `"live" must be draft, active or paused`}, 0},
		{"unknown segment", func(o *crm.Offer) { o.Segments = []string{"new", "gold"} },
			crm.Problem{Field: "segments", Message: `segment "gold" does not exist (segments: new, vip)`}, 0},
		{"eligibility does not parse", func(o *crm.Offer) { o.Eligibility = "order_count >" },
			crm.Problem{Field: "eligibility", Line: 1, Column: 13, Message: "unexpected token EOF"}, 0},
		{"eligibility names an unknown fact", func(o *crm.Offer) { o.Eligibility = "order_count > 1 &&\n  spend > 5" },
			crm.Problem{Field: "eligibility", Line: 2, Column: 3, Message: "unknown name spend"}, 0},
		{"until before from", func(o *crm.Offer) { o.Validity.From, o.Validity.Until = &now, &past },
			crm.Problem{Field: "validity.until", Message: "must be after validity.from"}, 0},
		{"active offer already ended", func(o *crm.Offer) { o.Status, o.Validity.Until = crm.OfferActive, &past },
			crm.Problem{Field: "validity.until", Message: "is in the past"}, 0},
		{"last days of month", func(o *crm.Offer) { o.Validity.LastDaysOfMonth = 29 },
			crm.Problem{Field: "validity.last_days_of_month", Message: "between 1 and 28"}, 0},
		{"negative priority", func(o *crm.Offer) { o.Priority = -1 },
			crm.Problem{Field: "priority", Message: "must not be negative"}, 0},
		{"negative cap", func(o *crm.Offer) { o.CapDays = -1 },
			crm.Problem{Field: "cap_days", Message: "must not be negative"}, 0},
		{"negative max shows", func(o *crm.Offer) { o.MaxShows = -2 },
			crm.Problem{Field: "max_shows", Message: "must not be negative"}, 0},
		{"bad button", func(o *crm.Offer) { o.Buttons = []string{"accept", "buy"} },
			crm.Problem{Field: "buttons", Message: `"buy" must be accept, more or decline`}, 0},
		{"no template", func(o *crm.Offer) { o.Templates = nil },
			crm.Problem{Field: "templates", Message: "at least one language is required (vi, en)"}, 0},
		{"unknown language", func(o *crm.Offer) { o.Templates["fr"] = "Salut" },
			crm.Problem{Field: "templates.fr", Message: `language "fr" is not one the bot speaks`}, 0},
		{"empty template", func(o *crm.Offer) { o.Templates["en"] = " \n" },
			crm.Problem{Field: "templates.en", Message: "is empty"}, 0},
		// A parse error has a line and no column.
		{"template does not parse", func(o *crm.Offer) { o.Templates["vi"] = "Chào {{.FirstName}}\nmã {{.Code}" },
			crm.Problem{Field: "templates.vi", Line: 2, Message: "bad character"}, 0},
		// Columns count characters, not bytes: "Chào bạn {{" is 11.
		{"unknown field", func(o *crm.Offer) { o.Templates["vi"] = "Hi\nChào bạn {{.Nickname}}" },
			crm.Problem{Field: "templates.vi", Line: 2, Column: 12, Segment: "new", Message: "there is no field .Nickname (fields: .Name .FirstName"}, 0},
		{"unknown field in a call", func(o *crm.Offer) { o.Templates["en"] = "{{upper .Voucher}}" },
			crm.Problem{Field: "templates.en", Line: 1, Column: 9, Segment: "new", Message: "there is no field .Voucher"}, 0},
		{"details", func(o *crm.Offer) { o.Details = map[string]string{"en": "More:\n{{.Discount}}"} },
			crm.Problem{Field: "details.en", Line: 2, Column: 3, Segment: "new", Message: "there is no field .Discount"}, 0},
		// Only the vip sample customer takes the branch that fails.
		{"fails for one segment", func(o *crm.Offer) { o.Templates["vi"] = `{{if eq .Segment "vip"}}{{.Nope}}{{end}}` },
			crm.Problem{Field: "templates.vi", Line: 1, Column: 27, Segment: "vip", Message: "there is no field .Nope"}, 0},
		{"other execution error", func(o *crm.Offer) { o.Templates["vi"] = "{{index .Name 99}}" },
			crm.Problem{Field: "templates.vi", Line: 1, Column: 3, Segment: "new", Message: "<index .Name 99>: error calling index: index out of range: 99"}, 0},
		// Bounds: placed at the call, at the loop, or nowhere.
		{"printf width", func(o *crm.Offer) { o.Templates["vi"] = "Chào\n  {{printf \"%0999999d\" 1}}" },
			crm.Problem{Field: "templates.vi", Line: 2, Column: 5, Segment: "new", Message: "printf width 999999 is more than 100"}, 0},
		{"endless loop", func(o *crm.Offer) { o.Templates["vi"] = "Chào\n\n{{range 1000000000000000}}{{end}}" },
			crm.Problem{Field: "templates.vi", Line: 3, Segment: "new", Message: "the template "}, 0},
		// Plain text past the bound: no loop, so no time bound can fire
		// first on a busy machine.
		{"text too long", func(o *crm.Offer) { o.Templates["vi"] = strings.Repeat("Chào bạn! ", 1000) + "{{.FirstName}}" },
			crm.Problem{Field: "templates.vi", Segment: "new", Message: "the text is longer than 8192 bytes"}, 0},
		{"several at once", func(o *crm.Offer) { o.Name, o.CapDays, o.Templates["en"] = "", -1, "{{.X}}" },
			crm.Problem{Field: "name", Message: "is required"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &crm.Offer{ID: "tet", Name: "Tết", Status: crm.OfferDraft, Segments: []string{"new", "vip"}, Code: "TET",
				Templates: map[string]string{"vi": "Chào {{.FirstName}}: {{.Product}}", "en": "Hi {{.FirstName}}"}}
			if got := crm.CheckOffer(o, segs, products, now); len(got) != 0 {
				t.Fatalf("the offer before the edit: %+v", got)
			}
			tt.edit(o)
			got := crm.CheckOffer(o, segs, products, now)
			if want := max(tt.wantLen, 1); len(got) != want {
				t.Fatalf("%d problems %+v, want %d", len(got), got, want)
			}
			p := got[0]
			if p.Field != tt.want.Field || p.Line != tt.want.Line || p.Column != tt.want.Column || p.Segment != tt.want.Segment ||
				!strings.Contains(p.Message, tt.want.Message) {
				t.Fatalf("problem = %#v, want %#v", p, tt.want)
			}
		})
	}
}

// A file read at every start keeps an active offer that has ended; a save
// refuses it.
func TestValidateOfferLeavesEndedOffers(t *testing.T) {
	now, past := date(2026, 11, 10), date(2026, 11, 1)
	o := &crm.Offer{ID: "old", Name: "Old", Status: crm.OfferActive, Validity: crm.Validity{Until: &past},
		Templates: map[string]string{"vi": "Chào"}}
	if err := crm.ValidateOffer(o, []string{"new"}, now); err != nil {
		t.Fatalf("ValidateOffer: %v", err)
	}
	if got := crm.CheckOffer(o, []string{"new"}, nil, now); len(got) != 1 || got[0].Field != "validity.until" {
		t.Fatalf("CheckOffer = %+v", got)
	}
}

// The refusal of one offer and of a file carry the problems and word them
// in one message, each under its offer.
func TestInvalidOfferError(t *testing.T) {
	now := date(2026, 11, 10)
	o := &crm.Offer{ID: "x", Name: "X", Status: crm.OfferDraft, CapDays: -1, Templates: map[string]string{"vi": "{{.Nope}}"}}
	err := crm.ValidateOffer(o, []string{"new"}, now)
	var inv *crm.InvalidOfferError
	if !errors.As(err, &inv) || len(inv.Problems) != 2 || crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("err = %v", err)
	}
	if got, want := crm.ErrorMessage(err), "offer x: cap_days: must not be negative (0: no waiting time between shows); "+
		"templates.vi line 1, column 3 (sample new customer): there is no field .Nope"; !strings.HasPrefix(got, want) {
		t.Fatalf("message = %q, want %q…", got, want)
	}

	file := "offers:\n" +
		"  - {id: a, name: A, status: draft, templates: {vi: \"Chào\"}, cap_days: -1, priority: -2}\n" +
		"  - {id: b, name: B, status: draft, templates: {vi: \"Chào\\n{{.Code}\"}}\n" +
		"  - {id: a, name: A, status: draft, templates: {vi: \"Chào\"}}\n" +
		"  -\n"
	_, err = crm.ParseOffers("offers.yaml", []byte(file), []string{"new"}, now)
	if !errors.As(err, &inv) || inv.File != "offers.yaml" {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.Offer+" "+p.Field)
	}
	if g, want := strings.Join(got, ", "), "a priority, a cap_days, b templates.vi, a id, #4 offer"; g != want {
		t.Fatalf("problems %s, want %s", g, want)
	}
	if p := inv.Problems[2]; p.Line != 2 || !strings.Contains(p.Message, "bad character") {
		t.Fatalf("template problem = %+v", p)
	}
	want := "offers.yaml: offer a: priority: must not be negative; cap_days: must not be negative (0: no waiting time between shows)\n" +
		"offer b: templates.vi line 2: bad character U+007D '}'\n" +
		"offer a: id: defined twice\n" +
		"offer #4: offer: is empty"
	if got := crm.ErrorMessage(err); got != want {
		t.Fatalf("message:\n%s\nwant:\n%s", got, want)
	}
}

// Template errors keep text/template's text (what logs show) and carry
// their place, so nobody reads the text back.
func TestTemplateErrorPlace(t *testing.T) {
	_, err := crm.ParseTemplate("templates.vi", "a\n{{if .Code}}")
	var te *crm.TemplateError
	if !errors.As(err, &te) || te.Name != "templates.vi" || te.Line != 2 || te.Column != 0 || te.Reason != "unexpected EOF" {
		t.Fatalf("parse error = %#v", te)
	}
	if got, want := err.Error(), "template: templates.vi:2: unexpected EOF"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	tpl, err := crm.ParseTemplate("details.en", "ok\nxy {{.Oops}}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render(crm.TemplateData{})
	if !errors.As(err, &te) || te.Line != 2 || te.Column != 6 || !strings.HasPrefix(te.Reason, "there is no field .Oops") {
		t.Fatalf("render error = %#v", te)
	}
	if got, want := err.Error(), `template: details.en:2:5: executing "details.en" at <.Oops>: can't evaluate field Oops`; !strings.HasPrefix(got, want) {
		t.Fatalf("Error() = %q, want %q…", got, want)
	}
	tpl, err = crm.ParseTemplate("templates.en", `{{printf "%*d" 5 1}}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render(crm.TemplateData{})
	var lim *crm.TemplateLimitError
	if !errors.As(err, &te) || !errors.As(err, &lim) || te.Line != 1 || te.Column != 3 || te.Reason != lim.Reason {
		t.Fatalf("bound error = %#v", te)
	}
	if got, want := err.Error(), "template: templates.en:1:2: "+lim.Reason; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
