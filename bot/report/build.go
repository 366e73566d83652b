package report

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// ReplyWindow is how long after a campaign message a customer's answer
// counts as a reply, and how long the builder looks past a day for the
// answers to its messages.
const ReplyWindow = 48 * time.Hour

// day is one local day of the shop.
type day struct {
	start, end time.Time // UTC instants
	label      string    // YYYY-MM-DD
}

// daysBetween returns the local days from the day of from to the day
// before to (both local midnights in loc).
func daysBetween(from, to time.Time, loc *time.Location) []day {
	var out []day
	for d := from.In(loc); d.Before(to); {
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		out = append(out, day{start: d.UTC(), end: next.UTC(), label: d.Format(time.DateOnly)})
		d = next
	}
	return out
}

// custState is what the builder knows of one customer while it reads the
// log in time order.
type custState struct {
	segment   string
	handoff   bool
	channel   crm.Channel
	cohort    int32
	botWait   time.Time // an inbound message waiting for the bot's answer
	botDay    int
	humanWait time.Time // an inbound message (or handoff) waiting for a person
	humanDay  int
	campaign  string // the last campaign message, waiting for an answer
	campTime  time.Time
	campDay   int
}

type funnelKey struct {
	offer, segment string
	channel        crm.Channel
}

type flowKey struct{ from, to string }

type newKey struct {
	channel crm.Channel
	source  string
}

// acc accumulates one day.
type acc struct {
	r         *crm.DayRollup
	funnel    map[funnelKey]*crm.FunnelCount
	flows     map[flowKey]int64
	newCust   map[newKey]int64
	campaigns map[string]*crm.CampaignCount
	churned   []crm.ID
	wonBack   []crm.ID
	buyers    map[crm.ID]int32
}

// builder reads the event log of consecutive days into day rollups.
type builder struct {
	tx    crm.Tx
	loc   *time.Location
	days  []day
	accs  []*acc
	custs map[crm.ID]*custState
	// scanStart is where the log is read from; state before it is looked up
	// per customer (customer record, their indexed events).
	scanStart time.Time
}

// monthIndex numbers months since year 0, so cohorts compare as integers.
func monthIndex(t time.Time, loc *time.Location) int32 {
	t = t.In(loc)
	return int32(t.Year()*12 + int(t.Month()) - 1)
}

// newBuilder returns a builder of days (consecutive, in order), whose
// state before the first day is looked up per customer.
func newBuilder(loc *time.Location, days []day, now time.Time) *builder {
	b := &builder{loc: loc, days: days, custs: map[crm.ID]*custState{}, scanStart: days[0].start}
	for _, d := range days {
		b.accs = append(b.accs, &acc{
			r:      &crm.DayRollup{Zone: loc.String(), Day: d.label, Start: d.start, End: d.end, Built: now},
			funnel: map[funnelKey]*crm.FunnelCount{}, flows: map[flowKey]int64{}, newCust: map[newKey]int64{},
			campaigns: map[string]*crm.CampaignCount{}, buyers: map[crm.ID]int32{},
		})
	}
	return b
}

// build reads the log over days (consecutive, in order) and the reply
// window after them, and returns one rollup per day.
func build(tx crm.Tx, loc *time.Location, days []day, now time.Time) ([]*crm.DayRollup, error) {
	if len(days) == 0 {
		return nil, nil
	}
	b := newBuilder(loc, days, now)
	if err := b.read(tx, b.scanStart, days[len(days)-1].end.Add(ReplyWindow), nil); err != nil {
		return nil, err
	}
	return b.rollups(), nil
}

// read adds the events of [from, to) (to zero: no end) that skip does not
// refuse.
func (b *builder) read(tx crm.Tx, from, to time.Time, skip func(*crm.Event) bool) error {
	b.tx = tx
	defer func() { b.tx = nil }()
	err := tx.EventsBetween(from, to, func(e *crm.Event) error {
		if skip != nil && skip(e) {
			return nil
		}
		idx := -1 // in the reply window after the last day
		if e.Time.Before(b.days[len(b.days)-1].end) {
			if idx = b.dayOf(e.Time); idx < 0 {
				return nil // before the first day: state only, looked up per customer
			}
		}
		return b.add(e, idx)
	})
	if err != nil {
		return fmt.Errorf("read the event log: %w", err)
	}
	return nil
}

// rollups returns the days as they stand; the builder may read on.
func (b *builder) rollups() []*crm.DayRollup {
	out := make([]*crm.DayRollup, len(b.accs))
	for i, a := range b.accs {
		out[i] = a.rollup()
	}
	return out
}

// state returns what the builder knows of customer id, looking up what
// happened before the scan on first sight.
func (b *builder) state(id crm.ID, at time.Time) (*custState, error) {
	if st := b.custs[id]; st != nil {
		return st, nil
	}
	st := &custState{cohort: -1}
	b.custs[id] = st
	cu, err := b.tx.Customer(id)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	if len(cu.Identities) > 0 {
		st.channel = cu.Identities[0].Channel
	}
	if !cu.Stats.FirstOrder.IsZero() {
		st.cohort = monthIndex(cu.Stats.FirstOrder, b.loc)
	}
	if i := b.dayOf(cu.CreatedAt); i >= 0 {
		ch := crm.ChannelImport
		if len(cu.Identities) > 0 {
			ch = cu.Identities[0].Channel
		}
		b.accs[i].newCust[newKey{ch, cu.Source}]++
	}
	err = b.tx.CustomerEvents(id, time.Time{}, b.scanStart, func(e *crm.Event) error {
		switch e.Kind {
		case crm.EventSegmentChange:
			st.segment = e.To
		case crm.EventHandoff:
			st.handoff = true
		case crm.EventHandoffEnd:
			st.handoff = false
		}
		if e.Channel != "" {
			st.channel = e.Channel
		}
		return nil
	})
	return st, err
}

// dayOf returns the index of the day holding t, -1 when none does.
func (b *builder) dayOf(t time.Time) int {
	i, found := slices.BinarySearchFunc(b.days, t, func(d day, t time.Time) int {
		switch {
		case t.Before(d.start):
			return 1
		case !t.Before(d.end):
			return -1
		}
		return 0
	})
	if !found {
		return -1
	}
	return i
}

// segmentAt is st's segment at e: a new customer is classified at the end
// of their first turn, after its offer events, so a customer without one
// takes the segment of a move logged at the same instant.
func (b *builder) segmentAt(st *custState, e *crm.Event) (string, error) {
	if st.segment != "" {
		return st.segment, nil
	}
	seg := ""
	err := b.tx.CustomerEvents(e.CustomerID, e.Time, e.Time.Add(time.Nanosecond), func(x *crm.Event) error {
		if x.Kind == crm.EventSegmentChange && seg == "" {
			seg = x.To
		}
		return nil
	})
	return seg, err
}

func (b *builder) add(e *crm.Event, di int) error {
	st, err := b.state(e.CustomerID, e.Time)
	if err != nil {
		return err
	}
	segment := st.segment
	if di >= 0 && segment == "" && (e.Kind == crm.EventOfferShown || e.Kind == crm.EventOfferAccepted || e.Kind == crm.EventOrder) {
		if segment, err = b.segmentAt(st, e); err != nil {
			return err
		}
	}
	var a *acc
	if di >= 0 {
		a = b.accs[di]
	}
	if e.Channel != "" {
		st.channel = e.Channel
	}
	switch e.Kind {
	case crm.EventMessageIn:
		if !st.campTime.IsZero() && e.Time.Sub(st.campTime) <= ReplyWindow {
			b.accs[st.campDay].campaign(st.campaign).Replied++
			st.campTime = time.Time{}
		}
		if a == nil {
			return nil
		}
		a.r.MessagesIn++
		if st.handoff {
			a.r.ToPerson++
			if st.humanWait.IsZero() {
				st.humanWait, st.humanDay = e.Time, di
			}
		} else if st.botWait.IsZero() {
			st.botWait, st.botDay = e.Time, di
		}
	case crm.EventMessageOut:
		if st.handoff {
			if st.humanWait.IsZero() {
				return nil
			}
			it, err := b.tx.Interaction(e.CustomerID, e.InteractionID)
			if crm.ErrorCode(err) == crm.ENOTFOUND {
				return nil
			} else if err != nil {
				return err
			}
			if it.Kind == crm.KindAgent {
				secs := int32(min(e.Time.Sub(st.humanWait)/time.Second, 1<<30))
				b.accs[st.humanDay].r.HumanReplies = append(b.accs[st.humanDay].r.HumanReplies, secs)
				st.humanWait = time.Time{}
			}
			return nil
		}
		if !st.botWait.IsZero() {
			b.accs[st.botDay].r.BotAnswered++
			st.botWait = time.Time{}
		}
		if e.Campaign != "" && a != nil {
			a.campaign(e.Campaign).Sent++
			st.campaign, st.campTime, st.campDay = e.Campaign, e.Time, di
		}
	case crm.EventHandoff:
		st.handoff = true
		if !st.botWait.IsZero() {
			// The message that asked for a person reached one.
			b.accs[st.botDay].r.ToPerson++
			st.botWait = time.Time{}
		}
		if st.humanWait.IsZero() && a != nil {
			st.humanWait, st.humanDay = e.Time, di
		}
	case crm.EventHandoffEnd:
		st.handoff, st.humanWait = false, time.Time{}
	case crm.EventOfferShown, crm.EventOfferAccepted:
		if a == nil {
			return nil
		}
		f := a.funnelRow(e.OfferID, segment, st.channel)
		if e.Kind == crm.EventOfferShown {
			f.Shown++
		} else {
			f.Accepted++
		}
	case crm.EventOrder:
		if a == nil {
			return nil
		}
		a.r.Orders++
		a.r.Revenue += e.Amount
		if a.r.RevenueBySegment == nil {
			a.r.RevenueBySegment = map[string]int64{}
		}
		a.r.RevenueBySegment[segment] += e.Amount
		if e.OfferID != "" {
			f := a.funnelRow(e.OfferID, segment, st.channel)
			f.Ordered++
			f.Revenue += e.Amount
		}
		if segment == crm.SegmentAtRisk {
			a.wonBack = append(a.wonBack, e.CustomerID)
		}
		cohort := st.cohort
		if cohort < 0 || cohort > monthIndex(e.Time, b.loc) {
			cohort = monthIndex(e.Time, b.loc)
		}
		if c, ok := a.buyers[e.CustomerID]; !ok || cohort < c {
			a.buyers[e.CustomerID] = cohort
		}
	case crm.EventSegmentChange:
		if a != nil {
			a.flows[flowKey{e.From, e.To}]++
			if e.To == crm.SegmentAtRisk && (e.From == crm.SegmentLoyal || e.From == crm.SegmentVIP) {
				a.churned = append(a.churned, e.CustomerID)
			}
			if e.From == crm.SegmentAtRisk && e.Cause == "order" {
				a.wonBack = append(a.wonBack, e.CustomerID)
			}
		}
		st.segment = e.To
	}
	return nil
}

func (a *acc) funnelRow(offer, segment string, ch crm.Channel) *crm.FunnelCount {
	k := funnelKey{offer, segment, ch}
	f := a.funnel[k]
	if f == nil {
		f = &crm.FunnelCount{Offer: offer, Segment: segment, Channel: ch}
		a.funnel[k] = f
	}
	return f
}

func (a *acc) campaign(name string) *crm.CampaignCount {
	c := a.campaigns[name]
	if c == nil {
		c = &crm.CampaignCount{Campaign: name}
		a.campaigns[name] = c
	}
	return c
}

// rollup turns the maps into a new rollup with sorted lists, so equal
// days give equal rollups; the accumulator is left as it is.
func (a *acc) rollup() *crm.DayRollup {
	r := *a.r
	r.RevenueBySegment = maps.Clone(a.r.RevenueBySegment)
	r.HumanReplies = slices.Clone(a.r.HumanReplies)
	r.Funnel, r.Flows, r.NewCustomers, r.Campaigns, r.BuyerCohorts = nil, nil, nil, nil, nil
	for _, f := range a.funnel {
		r.Funnel = append(r.Funnel, *f)
	}
	slices.SortFunc(r.Funnel, func(x, y crm.FunnelCount) int {
		return cmpStrings(x.Offer, y.Offer, x.Segment, y.Segment, string(x.Channel), string(y.Channel))
	})
	for k, n := range a.flows {
		r.Flows = append(r.Flows, crm.FlowCount{From: k.from, To: k.to, Count: n})
	}
	slices.SortFunc(r.Flows, func(x, y crm.FlowCount) int { return cmpStrings(x.From, y.From, x.To, y.To) })
	for k, n := range a.newCust {
		r.NewCustomers = append(r.NewCustomers, crm.NewCustomerCount{Channel: k.channel, Source: k.source, Count: n})
	}
	slices.SortFunc(r.NewCustomers, func(x, y crm.NewCustomerCount) int {
		return cmpStrings(string(x.Channel), string(y.Channel), x.Source, y.Source)
	})
	for _, c := range a.campaigns {
		r.Campaigns = append(r.Campaigns, *c)
	}
	slices.SortFunc(r.Campaigns, func(x, y crm.CampaignCount) int { return cmpStrings(x.Campaign, y.Campaign) })
	r.Churned, r.WonBack = crm.NewIDSet(a.churned), crm.NewIDSet(a.wonBack)
	ids := make([]crm.ID, 0, len(a.buyers))
	for id := range a.buyers {
		ids = append(ids, id)
	}
	r.Buyers = crm.NewIDSet(ids)
	for _, id := range r.Buyers {
		r.BuyerCohorts = append(r.BuyerCohorts, a.buyers[id])
	}
	return &r
}

// cmpStrings compares pairs (a[0] with a[1], then a[2] with a[3]…).
func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != pairs[i+1] {
			if pairs[i] < pairs[i+1] {
				return -1
			}
			return 1
		}
	}
	return 0
}
