package crm

import "time"

// Campaign statuses.
const (
	CampaignScheduled = "scheduled" // waits for At
	CampaignRunning   = "running"   // expanding its audience into the outbox
	CampaignPaused    = "paused"    // expansion stopped, queued messages held
	CampaignCancelled = "cancelled" // nothing more is queued or sent
	CampaignDone      = "done"      // every customer expanded
)

// Campaign kinds: a one-off broadcast, or one occurrence of a journey (a
// birthday on a day, a payday month…), which the journey loop creates.
const (
	KindCampaign = "campaign"
	KindJourney  = "journey"
)

// Skip reasons: why a customer of the audience got nothing.
const (
	SkipOptedOut    = "opted_out"     // said stop to promotions
	SkipCapped      = "capped"        // had the most promotions allowed in the cap window
	SkipNoChannel   = "no_channel"    // no reachable identity
	SkipWindow      = "window_closed" // the channel does not allow a message the customer did not ask for now
	SkipNotEligible = "not_eligible"  // outside the offer's rules (validity, eligibility)
	SkipHandoff     = "handoff"       // a person is talking with them
	SkipNoMessage   = "no_message"    // the template does not render for them
)

// Audience is who a campaign or journey speaks to: customers of any of
// Segments (empty: every customer) for whom Rule (an expr expression over
// Facts; empty: true) holds.
type Audience struct {
	Segments []string `json:"segments,omitempty" yaml:"segments,omitempty"`
	Rule     string   `json:"rule,omitempty" yaml:"rule,omitempty"`
}

// Campaign is a message the shop sends first, to an audience, now or at a
// time. Its expansion walks the audience in pages; Cursor is the last
// customer id expanded, so a restart goes on where it stopped.
type Campaign struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Audience Audience `json:"audience"`
	// OfferID is the offer whose template is the message (its buttons go
	// with it); Text, per language, is used when there is no offer.
	OfferID string            `json:"offer_id,omitempty"`
	Text    map[string]string `json:"text,omitempty"`
	At      time.Time         `json:"at,omitzero"` // zero: at once
	Status  string            `json:"status"`
	Cursor  ID                `json:"cursor,omitzero"`
	// Audience size when the expansion started (an estimate: customers
	// come and go while it runs).
	Estimate   int64            `json:"estimate,omitzero"`
	Queued     int64            `json:"queued,omitzero"`
	Skipped    map[string]int64 `json:"skipped,omitempty"`
	Sent       int64            `json:"sent,omitzero"`
	Failed     int64            `json:"failed,omitzero"`
	CreatedAt  time.Time        `json:"created_at"`
	CreatedBy  string           `json:"created_by,omitempty"`
	StartedAt  time.Time        `json:"started_at,omitzero"`
	FinishedAt time.Time        `json:"finished_at,omitzero"`
	UpdatedAt  time.Time        `json:"updated_at,omitzero"`
}

// SkippedTotal is the number of customers skipped for any reason.
func (c *Campaign) SkippedTotal() int64 {
	var n int64
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// CampaignSend records what a campaign did for one customer: the outbox
// item it queued, or why it skipped them. It is written in the transaction
// that queues the item, so a crash never sends the campaign twice to a
// customer nor skips one.
type CampaignSend struct {
	Campaign string    `json:"campaign"`
	Customer ID        `json:"customer"`
	Time     time.Time `json:"time"`
	Channel  Channel   `json:"channel,omitempty"`
	Outbox   ID        `json:"outbox,omitzero"`
	Skipped  string    `json:"skipped,omitempty"`
}

// Campaigns is the storage of campaigns and their sends. A store's Tx
// implements it (reached with a type assertion until it is part of Tx).
type Campaigns interface {
	// Campaign returns a campaign by id (ENOTFOUND when there is none).
	Campaign(id string) (*Campaign, error)
	// ListCampaigns returns every campaign, newest first.
	ListCampaigns() ([]*Campaign, error)
	PutCampaign(c *Campaign) error
	// CampaignSend returns the send of a campaign to a customer, or nil.
	CampaignSend(campaign string, customer ID) (*CampaignSend, error)
	// PutCampaignSend stores s; with an Outbox id it also remembers which
	// campaign that item belongs to (CampaignOfOutbox).
	PutCampaignSend(s *CampaignSend) error
	// CampaignSends calls fn for a campaign's sends in customer id order.
	CampaignSends(campaign string, fn func(*CampaignSend) error) error
	// CampaignOfOutbox returns the campaign and customer of an outbox
	// item, or "" when it belongs to none.
	CampaignOfOutbox(id ID) (string, ID, error)
	// AddPromotion records a promotional message queued for a customer at
	// t; Promotions counts those at or after since (the per-customer cap).
	AddPromotion(customer ID, t time.Time, campaign string) error
	Promotions(customer ID, since time.Time) (int, error)
	// CustomersAfter returns at most limit customers with ids above after,
	// in id order: one page of an audience, read from where the last
	// page stopped.
	CustomersAfter(after ID, limit int) ([]*Customer, error)
}

// PromotionLog lists the promotions behind the per-customer cap
// (AddPromotion), for a copy of the shop to another store (idicbot
// migrate-store). A store's Tx implements it.
type PromotionLog interface {
	// ForEachPromotion calls fn for every promotion, by customer then
	// time. fn must not write through the transaction.
	ForEachPromotion(fn func(customer ID, at time.Time, campaign string) error) error
}
