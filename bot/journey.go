package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Journey kinds.
const (
	JourneyBirthday     = "birthday"      // on the customer's birthday
	JourneyPayday       = "payday"        // in the last Days days of the month, once a month
	JourneySegmentEntry = "segment_entry" // Days days after entering Segment
	JourneyAfterOrder   = "after_order"   // Days days after the last order
	JourneyReengage     = "reengage"      // Days days after the last message, still in Segment
	// JourneyUnfinished: asked a price or to buy, and neither ordered nor
	// left a phone within Hours hours. It is looked at every hour (one
	// occurrence an hour, for the asks of one hour).
	JourneyUnfinished = "unfinished"
)

// Journey is an always-on program: every day at At (local time) it becomes
// one occurrence, a campaign of kind journey named "j-<id>-<date>", sent
// to the customers of its audience its kind picks that day. A customer
// gets each occurrence at most once, and a payday journey once a month.
type Journey struct {
	ID       string            `yaml:"id" json:"id"`
	Name     string            `yaml:"name" json:"name"`
	Kind     string            `yaml:"kind" json:"kind"`
	At       string            `yaml:"at" json:"at,omitempty"` // "09:00" by default
	Days     int               `yaml:"days" json:"days,omitempty"`
	Hours    int               `yaml:"hours" json:"hours,omitempty"`
	Segment  string            `yaml:"segment" json:"segment,omitempty"`
	Audience crm.Audience      `yaml:"audience" json:"audience"`
	Offer    string            `yaml:"offer" json:"offer,omitempty"`
	Text     map[string]string `yaml:"text" json:"text,omitempty"`
	Off      bool              `yaml:"off" json:"off,omitempty"`
}

// atMinutes is At in minutes after midnight.
func (j *Journey) atMinutes() (int, error) {
	if j.At == "" {
		return 9 * 60, nil
	}
	t, err := time.Parse("15:04", j.At)
	if err != nil {
		return 0, crm.Errorf(crm.EINVALID, "journey %s: at %q is not HH:MM", j.ID, j.At)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// CheckJourneys reports the first problem of a set of journeys.
func CheckJourneys(js []Journey) error {
	seen := map[string]bool{}
	for i := range js {
		j := &js[i]
		if j.ID == "" || strings.ContainsAny(j.ID, " :\x00") || seen[j.ID] {
			return crm.Errorf(crm.EINVALID, "journey %d: the id %q is empty, repeated or holds a space or colon", i+1, j.ID)
		}
		seen[j.ID] = true
		switch j.Kind {
		case JourneyBirthday:
		case JourneyPayday, JourneyAfterOrder:
			if j.Days < 1 {
				return crm.Errorf(crm.EINVALID, "journey %s: days must be at least 1", j.ID)
			}
		case JourneyUnfinished:
			if j.Hours < 1 {
				return crm.Errorf(crm.EINVALID, "journey %s: hours must be at least 1", j.ID)
			}
		case JourneySegmentEntry, JourneyReengage:
			if j.Days < 1 || j.Segment == "" {
				return crm.Errorf(crm.EINVALID, "journey %s: needs a segment and days of at least 1", j.ID)
			}
		default:
			return crm.Errorf(crm.EINVALID, "journey %s: kind %q is not birthday, payday, segment_entry, after_order, reengage or unfinished", j.ID, j.Kind)
		}
		if _, err := j.atMinutes(); err != nil {
			return err
		}
		if j.Offer == "" && len(j.Text) == 0 {
			return crm.Errorf(crm.EINVALID, "journey %s: needs an offer or a text", j.ID)
		}
	}
	return nil
}

// occurrenceID is the campaign id of a journey's occurrence on a day.
func occurrenceID(journey string, day time.Time) string {
	return "j-" + journey + "-" + day.Format("20060102")
}

// startJourneys creates today's occurrence of every journey whose local
// time has come and that has none yet.
func (o *Outreach) startJourneys(ctx context.Context) error {
	if len(o.opts.Journeys) == 0 {
		return nil
	}
	now := o.core.now()
	local := now.In(o.opts.Location)
	minute := local.Hour()*60 + local.Minute()
	return o.core.store.Update(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		for i := range o.opts.Journeys {
			j := &o.opts.Journeys[i]
			at, err := j.atMinutes()
			id := occurrenceID(j.ID, local)
			if j.Kind == JourneyUnfinished {
				id += local.Format("15") // every hour
			} else if minute < at {
				continue
			}
			if err != nil || j.Off || j.Kind == JourneyPayday && !lastDays(local, j.Days) {
				continue
			}
			if _, err := cs.Campaign(id); err == nil {
				continue
			} else if crm.ErrorCode(err) != crm.ENOTFOUND {
				return err
			}
			c := &crm.Campaign{ID: id, Name: fmt.Sprintf("%s %s", j.Name, local.Format("2006-01-02")), Kind: crm.KindJourney,
				Audience: j.Audience, OfferID: j.Offer, Text: j.Text, Status: crm.CampaignScheduled,
				CreatedAt: now, CreatedBy: "journey:" + j.ID, UpdatedAt: now}
			if err := cs.PutCampaign(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// lastDays reports whether day is in the last n days of its month.
func lastDays(day time.Time, n int) bool {
	last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, day.Location()).Day()
	return day.Day() > last-n
}

// journeyOf returns the journey of an occurrence campaign.
func (o *Outreach) journeyOf(c *crm.Campaign) *Journey {
	id := strings.TrimPrefix(c.CreatedBy, "journey:")
	for i := range o.opts.Journeys {
		if o.opts.Journeys[i].ID == id {
			return &o.opts.Journeys[i]
		}
	}
	return nil
}

// journeyWants reports whether the journey's kind picks the customer on
// the occurrence's day (in the shop's time zone).
func (o *Outreach) journeyWants(tx crm.Tx, cs crm.Campaigns, c *crm.Campaign, cu *crm.Customer, now time.Time) (bool, error) {
	j := o.journeyOf(c)
	if j == nil {
		return false, nil
	}
	loc := o.opts.Location
	day := c.CreatedAt.In(loc)
	sameDay := func(t time.Time, daysAgo int) bool {
		if t.IsZero() {
			return false
		}
		a, b := t.In(loc), day.AddDate(0, 0, -daysAgo)
		return a.Year() == b.Year() && a.YearDay() == b.YearDay()
	}
	switch j.Kind {
	case JourneyBirthday:
		// A birthday is a date without a zone: its month and day count.
		return cu.Birthday != nil && cu.Birthday.Month() == day.Month() && cu.Birthday.Day() == day.Day(), nil
	case JourneyPayday:
		// Once a month: not if an earlier day of this month's window sent it.
		for d := 1; d < j.Days; d++ {
			prev := day.AddDate(0, 0, -d)
			if prev.Month() != day.Month() {
				break
			}
			s, err := cs.CampaignSend(occurrenceID(j.ID, prev), cu.ID)
			if err != nil {
				return false, err
			}
			if s != nil {
				return false, nil
			}
		}
		return true, nil
	case JourneySegmentEntry:
		return cu.Segment.Name == j.Segment && sameDay(cu.Segment.Since, j.Days), nil
	case JourneyAfterOrder:
		return sameDay(cu.Stats.LastOrder, j.Days), nil
	case JourneyReengage:
		return cu.Segment.Name == j.Segment && sameDay(cu.Stats.LastSeen, j.Days), nil
	case JourneyUnfinished:
		return unfinished(tx, cu, c.CreatedAt, j.Hours)
	}
	return false, nil
}

// unfinished reports whether the customer's last price or buy question
// fell in the hour that ended hours before the occurrence's hour, and no
// order or phone followed.
func unfinished(tx crm.Tx, cu *crm.Customer, occ time.Time, hours int) (bool, error) {
	end := occ.Truncate(time.Hour).Add(-time.Duration(hours) * time.Hour)
	start := end.Add(-time.Hour)
	if cu.Stats.LastSeen.Before(start) || cu.Phone != "" || cu.Claims.Phone != "" {
		return false, nil
	}
	recent, err := tx.RecentInteractions(cu.ID, 30)
	if err != nil {
		return false, err
	}
	var asked time.Time
	for _, in := range recent {
		if in.Direction == crm.Inbound && (in.Intent == IntentPrice || in.Intent == IntentBuy) {
			asked = in.Time
		}
	}
	if asked.Before(start) || !asked.Before(end) {
		return false, nil
	}
	return !cu.Stats.LastOrder.After(asked), nil
}

// Journeys returns the journeys as configured.
func (o *Outreach) Journeys() []Journey { return append([]Journey(nil), o.opts.Journeys...) }
