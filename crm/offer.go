package crm

import "time"

// Offer statuses.
const (
	OfferDraft  = "draft"
	OfferActive = "active"
	OfferPaused = "paused"
)

// Button kinds an offer can carry.
const (
	ButtonAccept  = "accept"
	ButtonMore    = "more"
	ButtonDecline = "decline"
)

// Offer is a promotion template the core picks for a customer (Customize).
// Every saved change is a new version; the store keeps them all.
type Offer struct {
	ID     string `json:"id" yaml:"id"`
	Name   string `json:"name" yaml:"name"`
	Status string `json:"status" yaml:"status"`
	// Segments the offer targets; empty means every segment.
	Segments []string `json:"segments" yaml:"segments"`
	// Eligibility is an optional expr expression over the customer's facts.
	Eligibility string   `json:"eligibility,omitempty" yaml:"eligibility,omitempty"`
	Validity    Validity `json:"validity" yaml:"validity"`
	// Priority: higher wins among eligible offers.
	Priority int `json:"priority" yaml:"priority"`
	// CapDays: show at most once per this many days to one customer (0: every time).
	CapDays int `json:"cap_days" yaml:"cap_days"`
	// MaxShows: show at most this many times in all to one customer (0: no limit).
	MaxShows int `json:"max_shows,omitempty" yaml:"max_shows,omitempty"`
	// Templates per language ("vi", "en"): Go text/template.
	Templates map[string]string `json:"templates" yaml:"templates"`
	// Details per language: the answer to "tell me more" (text/template too).
	Details map[string]string `json:"details,omitempty" yaml:"details,omitempty"`
	// Buttons: any of accept, more, decline; empty means all three.
	Buttons []string `json:"buttons,omitempty" yaml:"buttons,omitempty"`
	// Code is a voucher code the template can show.
	Code string `json:"code,omitempty" yaml:"code,omitempty"`

	Version   int       `json:"version" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at" yaml:"-"`
	UpdatedBy string    `json:"updated_by,omitempty" yaml:"-"`
	// Origin of the change: file, web, api, slack, seed.
	Origin string `json:"origin,omitempty" yaml:"-"`
}

// Validity is when an offer may be shown. All set conditions must hold.
type Validity struct {
	From  *time.Time `json:"from,omitempty" yaml:"from,omitempty"`
	Until *time.Time `json:"until,omitempty" yaml:"until,omitempty"`
	// LastDaysOfMonth: only in the last N days of the month (payday offers).
	LastDaysOfMonth int `json:"last_days_of_month,omitempty" yaml:"last_days_of_month,omitempty"`
	// BirthdayMonth: only in the customer's birthday month.
	BirthdayMonth bool `json:"birthday_month,omitempty" yaml:"birthday_month,omitempty"`
}

// ButtonKinds returns the offer's button kinds, defaulting to all three.
func (o *Offer) ButtonKinds() []string {
	if len(o.Buttons) == 0 {
		return []string{ButtonAccept, ButtonMore, ButtonDecline}
	}
	return o.Buttons
}

// Targets reports whether the offer targets the segment.
func (o *Offer) Targets(segment string) bool {
	if len(o.Segments) == 0 {
		return true
	}
	for _, s := range o.Segments {
		if s == segment {
			return true
		}
	}
	return false
}

// ValidAt reports whether the validity window holds at t for a customer.
func (v Validity) ValidAt(t time.Time, c *Customer) bool {
	if v.From != nil && t.Before(*v.From) {
		return false
	}
	if v.Until != nil && t.After(*v.Until) {
		return false
	}
	if v.LastDaysOfMonth > 0 {
		firstOfNext := time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
		lastDay := firstOfNext.AddDate(0, 0, -1).Day()
		if t.Day() <= lastDay-v.LastDaysOfMonth {
			return false
		}
	}
	if v.BirthdayMonth {
		if c == nil || c.Birthday == nil || c.Birthday.Month() != t.Month() {
			return false
		}
	}
	return true
}
