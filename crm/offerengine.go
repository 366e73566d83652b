package crm

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
)

// CompiledOffer is an offer with its templates and eligibility compiled.
type CompiledOffer struct {
	*Offer
	eligibility *vm.Program
	templates   map[string]*Template
	details     map[string]*Template
}

// Languages the bot speaks.
var Languages = []string{"vi", "en"}

// CompileOffer compiles an offer's expression and templates, refusing one
// the engine cannot run. Errors are EINVALID with the field, the line and
// the reason; CheckOffer is the complete check a save makes, every problem
// tied to its field.
func CompileOffer(o *Offer) (*CompiledOffer, error) {
	if o.ID == "" {
		return nil, Errorf(EINVALID, "offer: id is required")
	}
	for _, r := range o.ID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return nil, Errorf(EINVALID, "offer %s: id may hold only a-z, 0-9, _ and -", o.ID)
		}
	}
	switch o.Status {
	case OfferDraft, OfferActive, OfferPaused:
	default:
		return nil, Errorf(EINVALID, "offer %s: status %q must be draft, active or paused", o.ID, o.Status)
	}
	if o.CapDays < 0 || o.MaxShows < 0 {
		return nil, Errorf(EINVALID, "offer %s: cap_days and max_shows must not be negative", o.ID)
	}
	v := o.Validity
	if v.From != nil && v.Until != nil && !v.Until.After(*v.From) {
		return nil, Errorf(EINVALID, "offer %s: validity.until must be after validity.from", o.ID)
	}
	if v.LastDaysOfMonth < 0 || v.LastDaysOfMonth > 28 {
		return nil, Errorf(EINVALID, "offer %s: validity.last_days_of_month must be between 1 and 28", o.ID)
	}
	for _, b := range o.Buttons {
		if b != ButtonAccept && b != ButtonMore && b != ButtonDecline {
			return nil, Errorf(EINVALID, "offer %s: button %q must be accept, more or decline", o.ID, b)
		}
	}
	co := &CompiledOffer{Offer: o, templates: map[string]*Template{}, details: map[string]*Template{}}
	if o.Eligibility != "" {
		p, err := CompileRule(o.Eligibility)
		if err != nil {
			return nil, Errorf(EINVALID, "offer %s: eligibility: %v", o.ID, err)
		}
		co.eligibility = p
	}
	if len(o.Templates) == 0 {
		return nil, Errorf(EINVALID, "offer %s: templates: at least one language is required", o.ID)
	}
	for lang, src := range o.Templates {
		if strings.TrimSpace(src) == "" {
			return nil, Errorf(EINVALID, "offer %s: templates.%s is empty", o.ID, lang)
		}
		t, err := ParseTemplate("templates."+lang, src)
		if err != nil {
			return nil, Errorf(EINVALID, "offer %s: %v", o.ID, err)
		}
		co.templates[lang] = t
	}
	for lang, src := range o.Details {
		t, err := ParseTemplate("details."+lang, src)
		if err != nil {
			return nil, Errorf(EINVALID, "offer %s: %v", o.ID, err)
		}
		co.details[lang] = t
	}
	return co, nil
}

// SampleCustomer returns a made-up customer of a segment for previews and
// validation.
func SampleCustomer(segment string, now time.Time) *Customer {
	c := &Customer{ID: 1, Name: "Nguyễn Văn An", Language: "vi", Segment: SegmentAssignment{Name: segment, Since: now}, CreatedAt: now}
	c.Stats.FirstSeen = now.AddDate(0, -6, 0)
	c.Stats.LastSeen = now
	switch segment {
	case SegmentVIP:
		c.Stats.Orders, c.Stats.TotalSpent = 8, 32_000_000
	case SegmentLoyal:
		c.Stats.Orders, c.Stats.TotalSpent = 3, 4_500_000
	case SegmentAtRisk:
		c.Stats.Orders, c.Stats.TotalSpent = 2, 2_000_000
	case SegmentBusiness:
		c.IsBusiness, c.Company = true, "Công ty TNHH An Phát"
	case SegmentPotential:
		c.Interests = []string{"sample"}
	}
	return c
}

// Eligible reports whether the offer may be shown to c at now, cap aside.
func (co *CompiledOffer) Eligible(c *Customer, f Facts, now time.Time) bool {
	return co.eligible(c, &ruleRun{facts: f}, now)
}

func (co *CompiledOffer) eligible(c *Customer, run *ruleRun, now time.Time) bool {
	if co.Status != OfferActive || !co.Targets(c.Segment.Name) || !co.Validity.ValidAt(now, c) {
		return false
	}
	if co.eligibility != nil {
		ok, err := run.eval(co.eligibility)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// Capped reports whether the per-customer frequency cap forbids showing now.
func (co *CompiledOffer) Capped(c *Customer, now time.Time) bool {
	st := c.Offers[co.ID]
	if st == nil {
		return false
	}
	if co.MaxShows > 0 && st.Shown >= co.MaxShows {
		return true
	}
	if co.CapDays > 0 && !st.LastShown.IsZero() && now.Sub(st.LastShown) < time.Duration(co.CapDays)*24*time.Hour {
		return true
	}
	if co.CapDays == 0 && co.MaxShows == 0 && st.Accepted > 0 {
		return true
	}
	return false
}

// Render renders the offer's text for c in lang (falling back to Vietnamese,
// then any language). products resolves product ids for {{.Product}}.
func (co *CompiledOffer) Render(lang string, c *Customer, products func(id string) (string, int64), now time.Time) (string, error) {
	return co.renderWith(co.templates, lang, c, products, now)
}

// RenderDetails renders the "tell me more" text, or "" when there is none.
func (co *CompiledOffer) RenderDetails(lang string, c *Customer, products func(id string) (string, int64), now time.Time) (string, error) {
	if len(co.details) == 0 {
		return "", nil
	}
	return co.renderWith(co.details, lang, c, products, now)
}

func (co *CompiledOffer) renderWith(ts map[string]*Template, lang string, c *Customer, products func(string) (string, int64), now time.Time) (string, error) {
	t := ts[lang]
	if t == nil {
		t = ts["vi"]
	}
	if t == nil {
		for _, l := range sortedKeys(ts) {
			t = ts[l]
			break
		}
	}
	if t == nil {
		return "", fmt.Errorf("no template")
	}
	return RenderTemplate(t, co.data(lang, c, products, now))
}

func (co *CompiledOffer) data(lang string, c *Customer, products func(string) (string, int64), now time.Time) TemplateData {
	d := TemplateData{
		Name: c.Name, Segment: c.Segment.Name, Lang: lang, Code: co.Code, Offer: co.Name,
		Orders: c.Stats.Orders, TotalSpent: c.Stats.TotalSpent, Points: c.Stats.TotalSpent / 10000, Now: now,
	}
	if d.Name == "" {
		if lang == "en" {
			d.Name = "there"
		} else {
			d.Name = "bạn"
		}
		d.FirstName = d.Name
	} else {
		d.FirstName = FirstName(c.Name, lang)
	}
	if n := len(c.Interests); n > 0 {
		d.Product = c.Interests[n-1]
		if products != nil {
			if name, price := products(c.Interests[n-1]); name != "" {
				d.Product, d.ProductPrice = name, price
			}
		}
	}
	if d.Product == "" {
		if lang == "en" {
			d.Product = "our products"
		} else {
			d.Product = "sản phẩm của shop"
		}
	}
	until := time.Time{}
	if co.Validity.Until != nil {
		until = *co.Validity.Until
	}
	if co.Validity.LastDaysOfMonth > 0 || co.Validity.BirthdayMonth {
		eom := time.Date(now.Year(), now.Month()+1, 0, 0, 0, 0, 0, now.Location())
		if until.IsZero() || eom.Before(until) {
			until = eom
		}
	}
	if !until.IsZero() {
		if lang == "en" {
			d.Until = until.Format("Jan 2, 2006")
		} else {
			d.Until = until.Format("02/01/2006")
		}
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OfferSet is the catalogue of compiled offers, the set the core selects from.
type OfferSet struct {
	Offers []*CompiledOffer
}

// NewOfferSet compiles stored offers; offers that fail to compile are
// returned in errs and left out (a stored offer was validated when saved, so
// this only happens after a downgrade or a manual edit).
func NewOfferSet(offers []*Offer) (*OfferSet, []error) {
	s := &OfferSet{}
	var errs []error
	for _, o := range offers {
		co, err := CompileOffer(o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Offers = append(s.Offers, co)
	}
	sort.SliceStable(s.Offers, func(i, j int) bool {
		if s.Offers[i].Priority != s.Offers[j].Priority {
			return s.Offers[i].Priority > s.Offers[j].Priority
		}
		return s.Offers[i].ID < s.Offers[j].ID
	})
	return s, errs
}

// Get returns the compiled offer with id, or nil.
func (s *OfferSet) Get(id string) *CompiledOffer {
	for _, o := range s.Offers {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// Eligible returns the offers c may be shown at now, best first. With
// ignoreCap the frequency cap is not applied (the customer asked for
// promotions). Opted-out customers get none.
func (s *OfferSet) Eligible(c *Customer, now time.Time, ignoreCap bool) []*CompiledOffer {
	if c.Consent.OptedOut {
		return nil
	}
	run := ruleRun{facts: FactsOf(c, now)}
	var out []*CompiledOffer
	for _, o := range s.Offers {
		if !o.eligible(c, &run, now) {
			continue
		}
		if !ignoreCap && o.Capped(c, now) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// Select returns the best offer for c at now, or nil.
func (s *OfferSet) Select(c *Customer, now time.Time, ignoreCap bool) *CompiledOffer {
	if e := s.Eligible(c, now, ignoreCap); len(e) > 0 {
		return e[0]
	}
	return nil
}

// RecordOfferShown notes on c that offer id was shown at now.
func (c *Customer) RecordOfferShown(id string, now time.Time) {
	if c.Offers == nil {
		c.Offers = map[string]*OfferStat{}
	}
	st := c.Offers[id]
	if st == nil {
		st = &OfferStat{}
		c.Offers[id] = st
	}
	st.Shown++
	st.LastShown = now
	c.Stats.OffersShown++
}
