// Package report computes the reports the shop owner reads: the offer
// funnel, new customers, segments and their flows, churn and win-back,
// retention cohorts, customer value and response, for a period of the
// shop's days and the period before it.
//
// Figures come from the typed event log (crm.Events). Days are the shop's
// days (its time zone); the log is kept in UTC, so changing the zone loses
// nothing: rollups are per zone. A day is read from the log once and kept
// as a crm.DayRollup when it is closed for good (more than the reply window
// and crm.LateAfter after its end); the last days are read from the log at
// each request. Customer value (CLV) needs every customer, so it is
// computed once a day and kept in memory.
package report

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// DefaultZone is the shop's time zone when the configuration names none.
const DefaultZone = "Asia/Ho_Chi_Minh"

// CohortMonths is how many monthly cohorts a report shows.
const CohortMonths = 12

// TopCustomers is how many customers the value table lists.
const TopCustomers = 20

// Service computes reports. It is safe for concurrent use.
type Service struct {
	store    crm.Store
	loc      *time.Location
	now      func() time.Time
	segments func() []string
	model    crm.ValueModel

	log     *slog.Logger
	valueMu sync.Mutex // one value snapshot computed at a time
	liveMu  sync.Mutex // guards live
	live    *liveDays
	months  map[int32]*monthBuyers // guarded by mu

	// The background refresh (Open, Close); refreshing is guarded by mu.
	cancel     context.CancelFunc
	done       chan struct{}
	refreshing bool
	mu         sync.Mutex
	rollups    map[int64]*crm.DayRollup // by day start (unix seconds), this zone
	value      *valueSnapshot
}

// New returns a service reading store, with days in loc and time from now.
// segments lists the segment names in the shop's order (may be nil).
func New(store crm.Store, loc *time.Location, now func() time.Time, segments func() []string) *Service {
	if loc == nil {
		loc = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, loc: loc, now: now, segments: segments, model: crm.DefaultValueModel,
		rollups: map[int64]*crm.DayRollup{}, log: slog.Default()}
}

// Location returns the shop's time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Period is a run of the shop's days: From is the first day's local
// midnight, To the midnight after the last day.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Days is the period's length in days.
func (p Period) Days() int {
	return int(p.To.Sub(p.From).Round(24*time.Hour) / (24 * time.Hour))
}

// Label is "2026-11-01 – 2026-11-30" in the period's zone.
func (p Period) Label() string {
	return p.From.Format(time.DateOnly) + " – " + p.To.AddDate(0, 0, -1).Format(time.DateOnly)
}

// Previous is the period of the same length just before p.
func (p Period) Previous() Period {
	n := p.Days()
	return Period{From: p.From.AddDate(0, 0, -n), To: p.From}
}

// MaxDays bounds a period, so one request cannot read years of log.
const MaxDays = 400

// LastDays is the period of the n days ending today (shop time).
func (s *Service) LastDays(n int) (Period, error) {
	if n < 1 || n > MaxDays {
		return Period{}, crm.Errorf(crm.EINVALID, "Khoảng thời gian phải từ 1 đến %d ngày.", MaxDays)
	}
	now := s.now().In(s.loc)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, s.loc)
	return Period{From: to.AddDate(0, 0, -n), To: to}, nil
}

// Between is the period from day from to day to (YYYY-MM-DD, both
// included, shop time).
func (s *Service) Between(from, to string) (Period, error) {
	f, err1 := time.ParseInLocation(time.DateOnly, from, s.loc)
	t, err2 := time.ParseInLocation(time.DateOnly, to, s.loc)
	if err1 != nil || err2 != nil {
		return Period{}, crm.Errorf(crm.EINVALID, "Ngày phải có dạng YYYY-MM-DD (ví dụ 2026-11-01).")
	}
	p := Period{From: f, To: t.AddDate(0, 0, 1)}
	if !p.To.After(p.From) || p.Days() > MaxDays {
		return Period{}, crm.Errorf(crm.EINVALID, "Khoảng thời gian phải từ 1 đến %d ngày, ngày đầu trước ngày cuối.", MaxDays)
	}
	return p, nil
}

// Report is every figure for a period and the one before it.
type Report struct {
	Zone     string    `json:"zone"`
	Period   Period    `json:"period"`
	Previous Period    `json:"previous"`
	Now      time.Time `json:"now"`

	Sales      Sales      `json:"sales"`
	Funnel     Funnel     `json:"funnel"`
	Customers  Customers  `json:"customers"`
	Segments   Segments   `json:"segments"`
	Cohorts    []Cohort   `json:"cohorts"`
	Value      Value      `json:"value"`
	Response   Response   `json:"response"`
	Precompute Precompute `json:"precompute"`
}

// Sales are the orders and revenue (VND) of the period and the previous one.
type Sales struct {
	Orders      int64 `json:"orders"`
	PrevOrders  int64 `json:"prev_orders"`
	Revenue     int64 `json:"revenue"`
	PrevRevenue int64 `json:"prev_revenue"`
	// PerDay is the revenue of each day of the period.
	PerDay []DayValue `json:"per_day"`
}

// DayValue is one day's figure.
type DayValue struct {
	Day   string `json:"day"`
	Value int64  `json:"value"`
}

// FunnelRow is shown → accepted → ordered for one group.
type FunnelRow struct {
	Offer    string      `json:"offer,omitempty"`
	Segment  string      `json:"segment,omitempty"`
	Channel  crm.Channel `json:"channel,omitempty"`
	Shown    int64       `json:"shown"`
	Accepted int64       `json:"accepted"`
	Ordered  int64       `json:"ordered"`
	Revenue  int64       `json:"revenue"`
}

// AcceptRate is Accepted/Shown (0 when nothing was shown).
func (f FunnelRow) AcceptRate() float64 { return ratio(f.Accepted, f.Shown) }

// OrderRate is Ordered/Shown.
func (f FunnelRow) OrderRate() float64 { return ratio(f.Ordered, f.Shown) }

// Funnel is the offer funnel grouped three ways, with totals.
type Funnel struct {
	ByOffer   []FunnelRow `json:"by_offer"`
	BySegment []FunnelRow `json:"by_segment"`
	ByChannel []FunnelRow `json:"by_channel"`
	Total     FunnelRow   `json:"total"`
	Prev      FunnelRow   `json:"prev"`
}

// Customers are the new customers and where they came from.
type Customers struct {
	New       int64       `json:"new"`
	PrevNew   int64       `json:"prev_new"`
	PerDay    []DayValue  `json:"per_day"`
	PerWeek   []DayValue  `json:"per_week"` // Day: the week's Monday
	ByChannel []NameCount `json:"by_channel"`
	BySource  []NameCount `json:"by_source"`
}

// NameCount is a count under a name.
type NameCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// Segments are the segment sizes over the period, the moves between
// segments, churn and win-back.
type Segments struct {
	Names []string `json:"names"`
	// Sizes[i][j] is the size of Names[i] at the end of Days[j].
	Days  []string        `json:"days"`
	Sizes [][]int64       `json:"sizes"`
	Flows []crm.FlowCount `json:"flows"`
	// Churn: of the loyal and VIP customers at the period's start
	// (ChurnBase), those who moved to at_risk in it (Churned).
	ChurnBase     int64 `json:"churn_base"`
	Churned       int64 `json:"churned"`
	PrevChurnBase int64 `json:"prev_churn_base"`
	PrevChurned   int64 `json:"prev_churned"`
	// Win-back: of the at_risk customers at the start and those who
	// became at_risk in the period (WinBackBase), those who ordered again
	// (WonBack).
	WinBackBase     int64 `json:"win_back_base"`
	WonBack         int64 `json:"won_back"`
	PrevWinBackBase int64 `json:"prev_win_back_base"`
	PrevWonBack     int64 `json:"prev_won_back"`
	// Revenue by the buyer's segment at the time of the order.
	Revenue     []NameCount `json:"revenue"`
	PrevRevenue []NameCount `json:"prev_revenue"`
}

// ChurnRate is Churned/ChurnBase.
func (s Segments) ChurnRate() float64 { return ratio(s.Churned, s.ChurnBase) }

// PrevChurnRate is the previous period's churn rate.
func (s Segments) PrevChurnRate() float64 { return ratio(s.PrevChurned, s.PrevChurnBase) }

// WinBackRate is WonBack/WinBackBase.
func (s Segments) WinBackRate() float64 { return ratio(s.WonBack, s.WinBackBase) }

// Cohort is the customers whose first order was in Month, and how many
// of them ordered in each month after (Active[0] is Month itself, all
// of them).
type Cohort struct {
	Month  string  `json:"month"` // YYYY-MM
	Size   int64   `json:"size"`
	Active []int64 `json:"active"`
}

// Retention is Active[k]/Size.
func (c Cohort) Retention(k int) float64 { return ratio(c.Active[k], c.Size) }

// Value is what the value model expects of the customers.
type Value struct {
	Method    string         `json:"method"`
	AsOf      string         `json:"as_of"`
	Segments  []SegmentValue `json:"segments"`
	Top       []TopCustomer  `json:"top"`
	Customers int64          `json:"customers"`
	Total     int64          `json:"total"`
}

// SegmentValue is one segment's expected value.
type SegmentValue struct {
	Segment   string `json:"segment"`
	Customers int64  `json:"customers"`
	CLV       int64  `json:"clv"`
	Average   int64  `json:"average"`
}

// TopCustomer is one of the most valuable customers.
type TopCustomer struct {
	ID      crm.ID            `json:"id"`
	Name    string            `json:"name"`
	Segment string            `json:"segment"`
	Spent   int64             `json:"spent"`
	Orders  int               `json:"orders"`
	Value   crm.CustomerValue `json:"value"`
}

// Response is how customers' messages were answered.
type Response struct {
	MessagesIn      int64 `json:"messages_in"`
	PrevMessagesIn  int64 `json:"prev_messages_in"`
	BotAnswered     int64 `json:"bot_answered"`
	PrevBotAnswered int64 `json:"prev_bot_answered"`
	ToPerson        int64 `json:"to_person"`
	PrevToPerson    int64 `json:"prev_to_person"`
	// HumanReplies is how many waits a person answered; HumanMedian and
	// HumanP90 their response time in seconds.
	HumanReplies int64           `json:"human_replies"`
	HumanMedian  int64           `json:"human_median_s"`
	HumanP90     int64           `json:"human_p90_s"`
	Campaigns    []CampaignReply `json:"campaigns"`
}

// CampaignReply is a campaign's reply rate within ReplyWindow.
type CampaignReply struct {
	Campaign string `json:"campaign"`
	Sent     int64  `json:"sent"`
	Replied  int64  `json:"replied"`
}

// Precompute says where the report's days came from.
type Precompute struct {
	FromRollups int `json:"from_rollups"`
	FromLog     int `json:"from_log"`
	Built       int `json:"built"`
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Report computes the report of p and the period before it.
func (s *Service) Report(ctx context.Context, p Period) (*Report, error) {
	now := s.now()
	p = Period{From: p.From.In(s.loc), To: p.To.In(s.loc)}
	prev := p.Previous()
	rep := &Report{Zone: s.loc.String(), Period: p, Previous: prev, Now: now}
	// Cohorts read the CohortMonths months ending with the period's last.
	last := p.To.AddDate(0, 0, -1)
	cohortStart := time.Date(last.Year(), last.Month()-CohortMonths+1, 1, 0, 0, 0, 0, s.loc)
	from := prev.From
	if cohortStart.Before(from) {
		from = cohortStart
	}
	// Sizes over time run back from today's counts.
	today := now.In(s.loc)
	to := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, s.loc)
	if p.To.After(to) {
		to = p.To
	}
	days := daysBetween(from, to, s.loc)
	rolls, pre, err := s.dayRollups(ctx, days, now)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", p.Label(), err)
	}
	rep.Precompute = pre
	var counts map[string]int64
	if err := s.store.View(ctx, func(tx crm.Tx) error {
		counts, err = segmentCounts(tx, s.segmentNames(rolls))
		return err
	}); err != nil {
		return nil, fmt.Errorf("report %s: segment counts: %w", p.Label(), err)
	}
	in := func(q Period) []*crm.DayRollup {
		var out []*crm.DayRollup
		for _, r := range rolls {
			if !r.Start.Before(q.From) && r.Start.Before(q.To) {
				out = append(out, r)
			}
		}
		return out
	}
	cur, before := in(p), in(prev)
	rep.Sales = sales(cur, before)
	rep.Funnel = funnel(cur, before)
	rep.Customers = customers(cur, before, s.loc)
	rep.Segments = segments(rolls, p, prev, counts, s.segmentNames(rolls))
	rep.Cohorts = s.cohorts(rolls, cohortStart, last)
	rep.Response = response(cur, before)
	v, err := s.valueNow(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("report %s: customer value: %w", p.Label(), err)
	}
	rep.Value = v.report()
	return rep, nil
}

// segmentNames is the shop's segments in its order, then any other the
// log names, so a segment that was renamed still shows.
func (s *Service) segmentNames(rolls []*crm.DayRollup) []string {
	var names []string
	if s.segments != nil {
		names = append(names, s.segments()...)
	}
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	var extra []string
	for _, r := range rolls {
		for _, f := range r.Flows {
			for _, n := range []string{f.From, f.To} {
				if n != "" && !seen[n] {
					seen[n] = true
					extra = append(extra, n)
				}
			}
		}
	}
	sort.Strings(extra)
	return append(names, extra...)
}

func segmentCounts(tx crm.Tx, names []string) (map[string]int64, error) {
	out := make(map[string]int64, len(names))
	for _, n := range names {
		c, err := tx.SegmentCount(n)
		if err != nil {
			return nil, err
		}
		out[n] = c
	}
	return out, nil
}

// dayRollups returns one rollup per day: closed days from kept rollups
// still valid or read from the log (in runs of consecutive days, one scan
// each) and kept; open days from the live days in memory; days after
// today empty.
func (s *Service) dayRollups(ctx context.Context, days []day, now time.Time) ([]*crm.DayRollup, Precompute, error) {
	var pre Precompute
	out := make([]*crm.DayRollup, len(days))
	closedBefore := now.Add(-ReplyWindow - crm.LateAfter)
	cb := closedBefore.In(s.loc)
	today := now.In(s.loc)
	open := daysBetween(time.Date(cb.Year(), cb.Month(), cb.Day(), 0, 0, 0, 0, s.loc),
		time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, s.loc), s.loc)
	var fresh []*crm.DayRollup
	err := s.store.View(ctx, func(tx crm.Tx) error {
		rs, _ := tx.(crm.Rollups)
		live, closed, err := s.liveRollups(tx, rs, open, now)
		if err != nil {
			return err
		}
		fresh = append(fresh, closed...)
		byStart := make(map[int64]*crm.DayRollup, len(live)+len(closed))
		for _, r := range append(live, closed...) {
			byStart[r.Start.Unix()] = r
		}
		// One look at the late events of every closed day; each day's own
		// only when some landed since the oldest rollup was built.
		lateAll := time.Now().Add(24 * time.Hour)
		if rs != nil && len(days) > 0 {
			if lateAll, err = rs.LateAppended(days[0].start, closedBefore.Add(ReplyWindow)); err != nil {
				return err
			}
		}
		var missing []int
		for i, d := range days {
			if r := byStart[d.start.Unix()]; r != nil {
				out[i] = r
				pre.FromLog++
				continue
			}
			if d.end.After(closedBefore) { // after today: nothing yet
				out[i] = &crm.DayRollup{Zone: s.loc.String(), Day: d.label, Start: d.start, End: d.end, Built: now}
				continue
			}
			if r := s.cachedRollup(tx, rs, d, closedBefore, lateAll); r != nil {
				out[i] = r
				pre.FromRollups++
				continue
			}
			missing = append(missing, i)
		}
		// Build runs of consecutive missing days with one scan each.
		for len(missing) > 0 {
			n := 1
			for n < len(missing) && missing[n] == missing[n-1]+1 {
				n++
			}
			run := make([]day, n)
			for j := range n {
				run[j] = days[missing[j]]
			}
			built, err := build(tx, s.loc, run, now)
			if err != nil {
				return err
			}
			for j, r := range built {
				out[missing[j]] = r
				pre.FromLog++
				if rs != nil {
					fresh = append(fresh, r)
				}
			}
			missing = missing[n:]
		}
		return nil
	})
	if err != nil || len(fresh) == 0 {
		return out, pre, err
	}
	pre.Built = len(fresh)
	err = s.store.Update(ctx, func(tx crm.Tx) error {
		rs, ok := tx.(crm.Rollups)
		if !ok {
			return nil
		}
		for _, r := range fresh {
			if err := rs.PutDayRollup(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, pre, fmt.Errorf("keep %d day rollups: %w", len(fresh), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range fresh {
		s.rollups[r.Start.Unix()] = r
	}
	return out, pre, nil
}

// maxCachedRollups bounds the rollups kept decoded in memory (two years
// of days, a few MB).
const maxCachedRollups = 800

// cachedRollup returns the kept rollup of d when d is closed for good and
// no event landed in it (or in its reply window) since the rollup was
// built; nil otherwise.
func (s *Service) cachedRollup(tx crm.Tx, rs crm.Rollups, d day, closedBefore, lateAll time.Time) *crm.DayRollup {
	if rs == nil || d.end.After(closedBefore) {
		return nil
	}
	s.mu.Lock()
	r := s.rollups[d.start.Unix()]
	s.mu.Unlock()
	if r == nil {
		var err error
		if r, err = rs.DayRollup(s.loc.String(), d.start); err != nil || r == nil {
			return nil // a rollup that cannot be read is built again
		}
		s.mu.Lock()
		if len(s.rollups) >= maxCachedRollups {
			clear(s.rollups)
		}
		s.rollups[d.start.Unix()] = r
		s.mu.Unlock()
	}
	if !lateAll.After(r.Built.Add(-time.Minute)) {
		return r // no late event since it was built, in any closed day
	}
	late, err := rs.LateAppended(d.start, d.end.Add(ReplyWindow))
	if err != nil || late.After(r.Built.Add(-time.Minute)) {
		return nil
	}
	return r
}

func sales(cur, prev []*crm.DayRollup) Sales {
	var s Sales
	for _, r := range cur {
		s.Orders += r.Orders
		s.Revenue += r.Revenue
		s.PerDay = append(s.PerDay, DayValue{r.Day, r.Revenue})
	}
	for _, r := range prev {
		s.PrevOrders += r.Orders
		s.PrevRevenue += r.Revenue
	}
	return s
}

func funnel(cur, prev []*crm.DayRollup) Funnel {
	group := func(key func(crm.FunnelCount) FunnelRow) []FunnelRow {
		m := map[funnelKey]*FunnelRow{}
		for _, r := range cur {
			for _, f := range r.Funnel {
				k := key(f)
				row := m[funnelKey{k.Offer, k.Segment, k.Channel}]
				if row == nil {
					row = &k
					m[funnelKey{k.Offer, k.Segment, k.Channel}] = row
				}
				row.Shown += f.Shown
				row.Accepted += f.Accepted
				row.Ordered += f.Ordered
				row.Revenue += f.Revenue
			}
		}
		out := make([]FunnelRow, 0, len(m))
		for _, row := range m {
			out = append(out, *row)
		}
		slices.SortFunc(out, func(a, b FunnelRow) int {
			if c := cmp.Compare(b.Shown, a.Shown); c != 0 {
				return c
			}
			return cmpStrings(a.Offer, b.Offer, a.Segment, b.Segment, string(a.Channel), string(b.Channel))
		})
		return out
	}
	f := Funnel{
		ByOffer:   group(func(c crm.FunnelCount) FunnelRow { return FunnelRow{Offer: c.Offer} }),
		BySegment: group(func(c crm.FunnelCount) FunnelRow { return FunnelRow{Segment: c.Segment} }),
		ByChannel: group(func(c crm.FunnelCount) FunnelRow { return FunnelRow{Channel: c.Channel} }),
	}
	total := func(rs []*crm.DayRollup) FunnelRow {
		var t FunnelRow
		for _, r := range rs {
			for _, c := range r.Funnel {
				t.Shown += c.Shown
				t.Accepted += c.Accepted
				t.Ordered += c.Ordered
				t.Revenue += c.Revenue
			}
		}
		return t
	}
	f.Total, f.Prev = total(cur), total(prev)
	return f
}

func customers(cur, prev []*crm.DayRollup, loc *time.Location) Customers {
	var c Customers
	byCh, bySrc := map[string]int64{}, map[string]int64{}
	for _, r := range cur {
		var n int64
		for _, x := range r.NewCustomers {
			n += x.Count
			byCh[string(x.Channel)] += x.Count
			bySrc[x.Source] += x.Count
		}
		c.New += n
		c.PerDay = append(c.PerDay, DayValue{r.Day, n})
		d := r.Start.In(loc)
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)).Format(time.DateOnly)
		if len(c.PerWeek) == 0 || c.PerWeek[len(c.PerWeek)-1].Day != monday {
			c.PerWeek = append(c.PerWeek, DayValue{Day: monday})
		}
		c.PerWeek[len(c.PerWeek)-1].Value += n
	}
	for _, r := range prev {
		for _, x := range r.NewCustomers {
			c.PrevNew += x.Count
		}
	}
	c.ByChannel, c.BySource = sortedCounts(byCh), sortedCounts(bySrc)
	return c
}

// sortedCounts lists m largest first, then by name.
func sortedCounts(m map[string]int64) []NameCount {
	out := make([]NameCount, 0, len(m))
	for k, v := range m {
		out = append(out, NameCount{k, v})
	}
	slices.SortFunc(out, func(a, b NameCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// segments computes sizes back from today's counts: the size at the end
// of a day is today's minus the net moves into the segment after it.
func segments(rolls []*crm.DayRollup, p, prev Period, counts map[string]int64, names []string) Segments {
	s := Segments{Names: names}
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
	}
	size := make([]int64, len(names))
	for i, n := range names {
		size[i] = counts[n]
	}
	// Walk back from the last day: at each day's end the sizes are size.
	atEnd := make([][]int64, len(rolls))
	for j := len(rolls) - 1; j >= 0; j-- {
		atEnd[j] = slices.Clone(size)
		for _, f := range rolls[j].Flows {
			if i, ok := idx[f.To]; ok {
				size[i] -= f.Count
			}
			if i, ok := idx[f.From]; ok {
				size[i] += f.Count
			}
		}
	}
	s.Sizes = make([][]int64, len(names))
	sizeAt := func(t time.Time) []int64 { // sizes at instant t (a day start)
		for j, r := range rolls {
			if r.Start.Equal(t) {
				if j == 0 {
					return size // before the first day read
				}
				return atEnd[j-1]
			}
		}
		return make([]int64, len(names))
	}
	flows := map[flowKey]int64{}
	rev, prevRev := map[string]int64{}, map[string]int64{}
	var intoAtRisk, prevIntoAtRisk int64
	churned, wonBack := map[crm.ID]bool{}, map[crm.ID]bool{}
	pChurned, pWonBack := map[crm.ID]bool{}, map[crm.ID]bool{}
	for j, r := range rolls {
		switch {
		case !r.Start.Before(p.From) && r.Start.Before(p.To):
			s.Days = append(s.Days, r.Day)
			for i := range names {
				s.Sizes[i] = append(s.Sizes[i], atEnd[j][i])
			}
			for _, f := range r.Flows {
				flows[flowKey{f.From, f.To}] += f.Count
				if f.To == crm.SegmentAtRisk {
					intoAtRisk += f.Count
				}
			}
			for seg, v := range r.RevenueBySegment {
				rev[seg] += v
			}
			addAll(churned, r.Churned)
			addAll(wonBack, r.WonBack)
		case !r.Start.Before(prev.From) && r.Start.Before(prev.To):
			for _, f := range r.Flows {
				if f.To == crm.SegmentAtRisk {
					prevIntoAtRisk += f.Count
				}
			}
			for seg, v := range r.RevenueBySegment {
				prevRev[seg] += v
			}
			addAll(pChurned, r.Churned)
			addAll(pWonBack, r.WonBack)
		}
	}
	for k, n := range flows {
		s.Flows = append(s.Flows, crm.FlowCount{From: k.from, To: k.to, Count: n})
	}
	slices.SortFunc(s.Flows, func(a, b crm.FlowCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmpStrings(a.From, b.From, a.To, b.To)
	})
	base := func(sz []int64, segs ...string) int64 {
		var n int64
		for _, seg := range segs {
			if i, ok := idx[seg]; ok {
				n += sz[i]
			}
		}
		return n
	}
	start, pStart := sizeAt(p.From.UTC()), sizeAt(prev.From.UTC())
	s.ChurnBase, s.Churned = base(start, crm.SegmentLoyal, crm.SegmentVIP), int64(len(churned))
	s.PrevChurnBase, s.PrevChurned = base(pStart, crm.SegmentLoyal, crm.SegmentVIP), int64(len(pChurned))
	s.WinBackBase, s.WonBack = base(start, crm.SegmentAtRisk)+intoAtRisk, int64(len(wonBack))
	s.PrevWinBackBase, s.PrevWonBack = base(pStart, crm.SegmentAtRisk)+prevIntoAtRisk, int64(len(pWonBack))
	s.Revenue, s.PrevRevenue = sortedCounts(rev), sortedCounts(prevRev)
	return s
}

func addAll(m map[crm.ID]bool, ids crm.IDSet) {
	for _, id := range ids {
		m[id] = true
	}
}

// monthBuyers counts a month's distinct buyers by cohort (first-order
// month), with the rollups it was counted from: a month whose days are
// the same (kept, unchanged) rollups is not counted again.
type monthBuyers struct {
	rolls  []*crm.DayRollup
	counts map[int32]int64
}

// cohorts builds the triangle of the months from start to the month of
// last.
func (s *Service) cohorts(rolls []*crm.DayRollup, start, last time.Time) []Cohort {
	first, end := monthIndex(start, s.loc), monthIndex(last, s.loc)
	n := int(end-first) + 1
	byMonth := make([][]*crm.DayRollup, n)
	for _, r := range rolls {
		if m := monthIndex(r.Start, s.loc) - first; m >= 0 && int(m) < n {
			byMonth[m] = append(byMonth[m], r)
		}
	}
	counts := make([]map[int32]int64, n)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.months == nil {
		s.months = map[int32]*monthBuyers{}
	}
	for m := range n {
		mi := first + int32(m)
		if c := s.months[mi]; c != nil && slices.Equal(c.rolls, byMonth[m]) {
			counts[m] = c.counts
			continue
		}
		seen := map[crm.ID]int32{}
		for _, r := range byMonth[m] {
			for i, id := range r.Buyers {
				seen[id] = r.BuyerCohorts[i]
			}
		}
		cnt := map[int32]int64{}
		for _, cohort := range seen {
			cnt[cohort]++
		}
		counts[m] = cnt
		s.months[mi] = &monthBuyers{rolls: byMonth[m], counts: cnt}
	}
	if len(s.months) > 4*CohortMonths {
		clear(s.months)
	}
	out := make([]Cohort, n)
	for c := range n {
		mi := first + int32(c)
		out[c] = Cohort{Month: fmt.Sprintf("%04d-%02d", mi/12, mi%12+1), Active: make([]int64, n-c)}
		for k := c; k < n; k++ {
			out[c].Active[k-c] = counts[k][mi]
		}
		out[c].Size = out[c].Active[0]
	}
	return out
}

func response(cur, prev []*crm.DayRollup) Response {
	var r Response
	var waits []int32
	camps := map[string]*CampaignReply{}
	for _, d := range cur {
		r.MessagesIn += d.MessagesIn
		r.BotAnswered += d.BotAnswered
		r.ToPerson += d.ToPerson
		waits = append(waits, d.HumanReplies...)
		for _, c := range d.Campaigns {
			x := camps[c.Campaign]
			if x == nil {
				x = &CampaignReply{Campaign: c.Campaign}
				camps[c.Campaign] = x
			}
			x.Sent += c.Sent
			x.Replied += c.Replied
		}
	}
	for _, d := range prev {
		r.PrevMessagesIn += d.MessagesIn
		r.PrevBotAnswered += d.BotAnswered
		r.PrevToPerson += d.ToPerson
	}
	slices.Sort(waits)
	r.HumanReplies = int64(len(waits))
	r.HumanMedian, r.HumanP90 = quantile(waits, 0.5), quantile(waits, 0.9)
	for _, c := range camps {
		r.Campaigns = append(r.Campaigns, *c)
	}
	slices.SortFunc(r.Campaigns, func(a, b CampaignReply) int { return cmp.Compare(a.Campaign, b.Campaign) })
	return r
}

// quantile is the nearest-rank q-quantile of sorted values (0 when none).
func quantile(sorted []int32, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := max(1, min(int(math.Ceil(q*float64(len(sorted)))), len(sorted)))
	return int64(sorted[rank-1])
}
