package crm

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"time"
)

// Rollups are the reports' summaries of closed days: what the event log
// holds for one day of the shop's time zone, added up once, so a 90-day
// report reads 90 small records instead of every event of the period. A
// rollup is a cache: the event log stays the truth, and a rollup is built
// again when an event lands in its day after it was built (LateAppended).
//
// A store implements Rollups beside crm.Tx; reports reach it with a type
// assertion on the Tx (tx.(crm.Rollups)) and read the event log without
// rollups when it is missing.
type Rollups interface {
	// DayRollup returns the rollup of the day that starts at start in
	// zone, nil when none is stored.
	DayRollup(zone string, start time.Time) (*DayRollup, error)
	// PutDayRollup stores r under (r.Zone, r.Start), replacing what was
	// there.
	PutDayRollup(r *DayRollup) error
	// LateAppended returns the last time an event whose Time lies in
	// [from, to) was appended (or re-keyed by a merge) more than LateAfter
	// after its Time; the zero time when none was. A rollup built before
	// that time no longer holds every event of its day.
	LateAppended(from, to time.Time) (time.Time, error)
}

// LateAfter is how long after its own Time an event is late: appended
// when a rollup of its day may already exist, or after a report read past
// its time. Reports roll up a day only once more than LateAfter has passed
// since its end (and its reply window), and read the last LateAfter of the
// log again at each request. The hot path appends its events at their own
// time; imports, backdated orders and merges are late.
const LateAfter = time.Hour

// DayRollup adds up one day of the event log in one time zone.
type DayRollup struct {
	Zone string `json:"zone"`
	// Day is the local date (YYYY-MM-DD); Start and End the instants it
	// spans (End exclusive).
	Day   string    `json:"day"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Built is when the rollup was computed.
	Built time.Time `json:"built"`

	Funnel []FunnelCount `json:"funnel,omitempty"`
	// Orders and Revenue (VND) of the day; RevenueBySegment splits the
	// revenue by the buyer's segment at the time of the order.
	Orders           int64            `json:"orders,omitempty"`
	Revenue          int64            `json:"revenue,omitempty"`
	RevenueBySegment map[string]int64 `json:"revenue_by_segment,omitempty"`
	// NewCustomers counts customers created this day by first channel
	// and acquisition source.
	NewCustomers []NewCustomerCount `json:"new_customers,omitempty"`
	// Flows counts segment moves by (from, to).
	Flows []FlowCount `json:"flows,omitempty"`
	// Churned are the loyal or VIP customers who moved to at_risk this
	// day; WonBack the at_risk customers who ordered.
	Churned IDSet `json:"churned,omitempty"`
	WonBack IDSet `json:"won_back,omitempty"`
	// Buyers are the customers who ordered this day, each with the month
	// of their first order (BuyerCohorts, months since year 0), for the
	// retention cohorts.
	Buyers       IDSet   `json:"buyers,omitempty"`
	BuyerCohorts []int32 `json:"buyer_cohorts,omitempty"`
	// Response: customer messages, those the bot answered, those that
	// reached a person (during a handoff), and the seconds a person took
	// to answer each one they answered.
	MessagesIn   int64   `json:"messages_in,omitempty"`
	BotAnswered  int64   `json:"bot_answered,omitempty"`
	ToPerson     int64   `json:"to_person,omitempty"`
	HumanReplies []int32 `json:"human_replies,omitempty"`
	// Campaigns counts campaign messages sent this day and those the
	// customer answered within 48 hours.
	Campaigns []CampaignCount `json:"campaigns,omitempty"`
}

// FunnelCount is one offer's funnel for one segment and channel.
type FunnelCount struct {
	Offer    string  `json:"offer"`
	Segment  string  `json:"segment,omitempty"`
	Channel  Channel `json:"channel,omitempty"`
	Shown    int64   `json:"shown,omitempty"`
	Accepted int64   `json:"accepted,omitempty"`
	Ordered  int64   `json:"ordered,omitempty"`
	Revenue  int64   `json:"revenue,omitempty"`
}

// NewCustomerCount counts new customers of one channel and source.
type NewCustomerCount struct {
	Channel Channel `json:"channel,omitempty"`
	Source  string  `json:"source,omitempty"`
	Count   int64   `json:"count"`
}

// FlowCount counts the moves from one segment to another.
type FlowCount struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int64  `json:"count"`
}

// CampaignCount counts one campaign's messages and their answers.
type CampaignCount struct {
	Campaign string `json:"campaign"`
	Sent     int64  `json:"sent"`
	Replied  int64  `json:"replied,omitempty"`
}

// IDSet is a sorted list of ids without repeats. It is stored as
// base64 of varint deltas, a few bytes an id.
type IDSet []ID

// NewIDSet returns ids sorted, without repeats.
func NewIDSet(ids []ID) IDSet {
	s := slices.Clone(ids)
	slices.Sort(s)
	return IDSet(slices.Compact(s))
}

// MarshalJSON implements json.Marshaler.
func (s IDSet) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(s)*3)
	var prev ID
	for _, id := range s {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	return json.Marshal(base64.RawStdEncoding.EncodeToString(b))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *IDSet) UnmarshalJSON(data []byte) error {
	var str string
	if err := json.Unmarshal(data, &str); err != nil {
		return err
	}
	b, err := base64.RawStdEncoding.DecodeString(str)
	if err != nil {
		return Errorf(EINVALID, "id set: %v", err)
	}
	out := make(IDSet, 0, len(b)/2)
	var prev ID
	for len(b) > 0 {
		d, w := binary.Uvarint(b)
		if w <= 0 {
			return Errorf(EINVALID, "id set: bad varint")
		}
		prev += ID(d)
		out = append(out, prev)
		b = b[w:]
	}
	*s = out
	return nil
}
