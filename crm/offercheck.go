package crm

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
)

// Problem is one thing wrong with an offer, tied to the field it is in so
// that an editor can show it next to that field. Every transport (admin
// page and API, Slack, the command line) shows the same problems.
type Problem struct {
	// Offer is the offer's id where problems of several offers are listed
	// together (an offers file); empty for the offer being saved.
	Offer string `json:"offer,omitempty"`
	// Field is the offer's field as written in offers.yaml: "name",
	// "templates.vi", "validity.until"; "offer" for the offer as a whole.
	Field string `json:"field"`
	// Line and Column place the problem in a template or the eligibility
	// expression, counted from 1; 0 when it has no place.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Segment is the segment of the sample customer a template failed to
	// render for.
	Segment string `json:"segment,omitempty"`
	Message string `json:"message"`
}

// String is the problem in one line: "templates.vi line 2, column 6
// (sample vip customer): reason".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Field)
	if p.Line > 0 {
		fmt.Fprintf(&b, " line %d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ", column %d", p.Column)
		}
	}
	if p.Segment != "" {
		fmt.Fprintf(&b, " (sample %s customer)", p.Segment)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// InvalidOfferError is the refusal of an offer, or of an offers file, that
// does not pass the checks: every problem found. It unwraps to an EINVALID
// *Error whose message lists them, so ErrorCode and ErrorMessage work on it.
type InvalidOfferError struct {
	// File names the offers file refused; empty for one offer.
	File string
	// ID is the offer refused, when File is empty.
	ID       string
	Problems []Problem
}

func (e *InvalidOfferError) Error() string { return e.domain().Error() }

// Unwrap returns the domain error.
func (e *InvalidOfferError) Unwrap() error { return e.domain() }

// domain words the problems: "offer ID: p1; p2", or for a file "FILE:
// offer a: p1; p2" with one line per offer.
func (e *InvalidOfferError) domain() *Error {
	if e.File == "" {
		return Errorf(EINVALID, "%s", offerProblemsLine(e.ID, e.Problems))
	}
	var lines []string
	for i := 0; i < len(e.Problems); {
		j := i + 1
		for j < len(e.Problems) && e.Problems[j].Offer == e.Problems[i].Offer {
			j++
		}
		if e.Problems[i].Offer == "" {
			for _, p := range e.Problems[i:j] {
				lines = append(lines, p.String())
			}
		} else {
			lines = append(lines, offerProblemsLine(e.Problems[i].Offer, e.Problems[i:j]))
		}
		i = j
	}
	return Errorf(EINVALID, "%s: %s", e.File, strings.Join(lines, "\n"))
}

func offerProblemsLine(id string, probs []Problem) string {
	parts := make([]string, len(probs))
	for i, p := range probs {
		parts[i] = p.String()
	}
	if id == "" {
		id = "(no id)"
	}
	return "offer " + id + ": " + strings.Join(parts, "; ")
}

// CheckOffer checks an offer completely, as every save does (see "What a
// save checks" in docs/admin.md), and returns every problem found, or none.
// segments are the segments there are; each template is rendered for a
// sample customer of every target segment (every segment when the offer
// targets none), with products resolving {{.Product}} (nil: none).
func CheckOffer(o *Offer, segments []string, products func(id string) (string, int64), now time.Time) []Problem {
	return checkOffer(o, segments, products, now, true)
}

// checkOffer is CheckOffer; saving adds the checks that depend on the
// moment of the save (an active offer that has already ended), which an
// offers file read at every start leaves out.
func checkOffer(o *Offer, segments []string, products func(string) (string, int64), now time.Time, saving bool) []Problem {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case o.ID == "":
		add("id", "is required")
	case len(o.ID) > 64:
		add("id", "is longer than 64 characters")
	default:
		for _, r := range o.ID {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				add("id", "may hold only a-z, 0-9, _ and -")
				break
			}
		}
	}
	if strings.TrimSpace(o.Name) == "" {
		add("name", "is required")
	}
	switch o.Status {
	case OfferDraft, OfferActive, OfferPaused:
	default:
		add("status", "%q must be draft, active or paused", o.Status)
	}
	if len(segments) > 0 {
		for _, s := range o.Segments {
			if !slices.Contains(segments, s) {
				add("segments", "segment %q does not exist (segments: %s)", s, strings.Join(segments, ", "))
			}
		}
	}
	if o.Eligibility != "" {
		if _, err := CompileRule(o.Eligibility); err != nil {
			probs = append(probs, RuleProblem("eligibility", err))
		}
	}
	v := o.Validity
	if v.From != nil && v.Until != nil && !v.Until.After(*v.From) {
		add("validity.until", "must be after validity.from (%s)", v.From.Format(time.RFC3339))
	}
	if saving && v.Until != nil && o.Status == OfferActive && v.Until.Before(now) {
		add("validity.until", "is in the past (%s): an active offer would never be shown; move the date or pause the offer", v.Until.Format(time.RFC3339))
	}
	if v.LastDaysOfMonth < 0 || v.LastDaysOfMonth > 28 {
		add("validity.last_days_of_month", "must be between 1 and 28 (0: any day)")
	}
	if o.Priority < 0 {
		add("priority", "must not be negative")
	}
	if o.CapDays < 0 {
		add("cap_days", "must not be negative (0: no waiting time between shows)")
	}
	if o.MaxShows < 0 {
		add("max_shows", "must not be negative (0: no limit)")
	}
	for _, b := range o.Buttons {
		if b != ButtonAccept && b != ButtonMore && b != ButtonDecline {
			add("buttons", "%q must be accept, more or decline", b)
		}
	}
	if len(o.Templates) == 0 {
		add("templates", "at least one language is required (%s)", strings.Join(Languages, ", "))
	}
	targets := o.Segments
	if len(targets) == 0 {
		targets = segments
	}
	co := &CompiledOffer{Offer: o} // what templates see of the offer
	for _, kind := range []string{"templates", "details"} {
		src := o.Templates
		if kind == "details" {
			src = o.Details
		}
		for _, lang := range sortedKeys(src) {
			field := kind + "." + lang
			if !slices.Contains(Languages, lang) {
				add(field, "language %q is not one the bot speaks (%s)", lang, strings.Join(Languages, ", "))
				continue
			}
			if kind == "templates" && strings.TrimSpace(src[lang]) == "" {
				add(field, "is empty")
				continue
			}
			t, err := ParseTemplate(field, src[lang])
			if err != nil {
				probs = append(probs, TemplateProblem(field, err))
				continue
			}
			// Render for a sample customer of every target segment; one
			// problem per field is enough to act on.
			for _, s := range targets {
				if _, err := t.Render(co.data(lang, SampleCustomer(s, now), products, now)); err != nil {
					p := TemplateProblem(field, err)
					p.Segment = s
					probs = append(probs, p)
					break
				}
			}
		}
	}
	if len(probs) == 0 {
		// The checks above are meant to cover everything the engine
		// refuses; should they ever miss something, it still stops here.
		if _, err := CompileOffer(o); err != nil {
			add("offer", "%s", ErrorMessage(err))
		}
	}
	return probs
}

// TemplateProblem is a template's parse or render error as a problem of
// field, placed where ParseTemplate or Render placed it.
func TemplateProblem(field string, err error) Problem {
	p := Problem{Field: field, Message: err.Error()}
	var te *TemplateError
	if errors.As(err, &te) {
		p.Line, p.Column, p.Message = te.Line, te.Column, te.Reason
	}
	return p
}

// RuleProblem is an expression's compile error (an eligibility or a
// segment rule) as a problem of field, placed where expr placed it.
func RuleProblem(field string, err error) Problem {
	first, _, _ := strings.Cut(err.Error(), "\n")
	p := Problem{Field: field, Message: strings.TrimSpace(first)}
	var fe *file.Error
	if errors.As(err, &fe) {
		p.Message = fe.Message
		if fe.Line > 0 {
			p.Line, p.Column = fe.Line, fe.Column+1 // expr counts columns from 0
		}
	}
	return p
}
