package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/idicbot/idicbot/crm"
)

// Reps is what sales reps do to customers from a rep tool (Slack, the
// admin's customer picker): look them up, read their card, list a segment,
// read the stats, record an order, annotate and tag them, merge two of them
// and confirm the contact data one typed. It is a use case of its own beside
// the conversation (Core), which keeps the handoffs; both share the store,
// the live segment rules and the bookkeeping of segment moves and orders.
// Every operation is one store transaction and makes no network call.
type Reps struct {
	store    crm.Store
	segments interface{ Load() *crm.Segments }
	offers   interface{ Load() *crm.OfferSet }
	now      func() time.Time
	// countMoves counts committed segment moves in the metrics.
	countMoves func(moves ...*crm.SegmentChange)
}

// Reps returns the reps' operations on the core's store, with its live
// segment rules and offers (for names) and its clock; their segment moves
// count in the core's metrics.
func (c *Core) Reps() *Reps {
	return &Reps{store: c.store, segments: &c.segments, offers: &c.offers, now: c.now, countMoves: c.countMoves}
}

// Segments returns the live segment rules.
func (r *Reps) Segments() *crm.Segments { return r.segments.Load() }

// MaxFindResults bounds the customers FindCustomers returns.
const MaxFindResults = 20

// MaxFindCount bounds how many matches FindCustomersCounted counts: past
// it a rep is told "more than MaxFindCount" and asked to narrow the search.
const MaxFindCount = 500

// RecentOnCard is how many interactions a customer card shows.
const RecentOnCard = 10

// FindCustomers looks customers up by what a rep typed:
//   - a phone number in any common Vietnamese form (0912 345 678,
//     +84912345678, 84912345678): exact phone lookup;
//   - an email address: exact email lookup;
//   - "@username": the Telegram username (case-insensitive);
//   - "channel:userid" (telegram:123456, webchat:s1): that identity;
//   - a number or "#number": the customer with that id;
//   - anything else: the name, without diacritics and in any case
//     ("nguyen van a" finds "Nguyễn Văn A"), then the external id.
//
// It returns at most MaxFindResults customers; none is not an error.
func (r *Reps) FindCustomers(ctx context.Context, query string) ([]*crm.Customer, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, crm.Errorf(crm.EINVALID, "Tell me what to look for: a phone, a name, an email, @username or a customer id.").Say("find_empty")
	}
	var out []*crm.Customer
	err := r.store.View(ctx, func(tx crm.Tx) error {
		var err error
		out, err = findCustomers(tx, q, MaxFindResults)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
	}
	return out, nil
}

// FindCustomersCounted is FindCustomers with the number of customers that
// match: found holds at most MaxFindResults of them, total counts up to
// MaxFindCount+1 (more than MaxFindCount), so a rep reads "152 match,
// showing 20", not "20 match".
func (r *Reps) FindCustomersCounted(ctx context.Context, query string) (found []*crm.Customer, total int, err error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, 0, crm.Errorf(crm.EINVALID, "Tell me what to look for: a phone, a name, an email, @username or a customer id.").Say("find_empty")
	}
	err = r.store.View(ctx, func(tx crm.Tx) error {
		var err error
		found, err = findCustomers(tx, q, MaxFindCount+1)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find customers: %w", err)
	}
	total = len(found)
	if len(found) > MaxFindResults {
		found = found[:MaxFindResults]
	}
	return found, total, nil
}

func findCustomers(tx crm.Tx, q string, limit int) ([]*crm.Customer, error) {
	one := func(cu *crm.Customer, err error) ([]*crm.Customer, error) {
		if err != nil || cu == nil {
			if crm.ErrorCode(err) == crm.ENOTFOUND {
				err = nil
			}
			return nil, err
		}
		return []*crm.Customer{cu}, nil
	}
	switch {
	case strings.HasPrefix(q, "@") && len(q) > 1:
		return findByUsername(tx, q[1:], limit)
	case strings.Contains(q, "@"):
		e, err := crm.NormalizeEmail(q)
		if err != nil {
			return nil, err
		}
		return withClaims(tx, e, tx.FindCustomerByEmail, limit)
	}
	if id, ok := parseCustomerID(q); ok {
		// A long number is a phone number; a short one an id.
		if p, err := crm.NormalizePhone(q); err == nil && len(strings.TrimPrefix(q, "#")) >= 9 {
			return withClaims(tx, p, tx.FindCustomerByPhone, limit)
		}
		return one(tx.Customer(id))
	}
	if looksLikePhone(q) {
		p, err := crm.NormalizePhone(q)
		if err != nil {
			return nil, err
		}
		return withClaims(tx, p, tx.FindCustomerByPhone, limit)
	}
	if ch, user, ok := strings.Cut(q, ":"); ok && user != "" && !strings.ContainsAny(q, " ") {
		return one(tx.FindCustomerByIdentity(crm.Channel(strings.ToLower(ch)), user))
	}
	found, err := tx.FindCustomersByName(q, limit)
	if err != nil || len(found) > 0 {
		return found, err
	}
	return one(tx.FindCustomerByExternalID(q))
}

// withClaims finds the customer proven to hold a phone or email, then the
// customers who typed it (unverified): a rep calling back a web visitor
// searches by the number they left.
func withClaims(tx crm.Tx, v string, proven func(string) (*crm.Customer, error), limit int) ([]*crm.Customer, error) {
	var out []*crm.Customer
	cu, err := proven(v)
	if err != nil {
		return nil, err
	}
	if cu != nil {
		out = append(out, cu)
	}
	claimed, err := tx.FindCustomersByClaim(v)
	if err != nil {
		return nil, err
	}
	for _, c := range claimed {
		if cu == nil || c.ID != cu.ID {
			out = append(out, c)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// parseCustomerID reads "123" or "#123".
func parseCustomerID(s string) (crm.ID, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	if s == "" || len(s) > 19 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return crm.ID(n), true
}

// looksLikePhone reports whether s is made of phone characters only and
// holds enough digits to be a phone number.
func looksLikePhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 9
}

// findByUsername finds customers by Telegram username through the store's
// username index (case-insensitive, without the @).
func findByUsername(tx crm.Tx, username string, limit int) ([]*crm.Customer, error) {
	out, err := tx.FindCustomersByUsername(crm.ChannelTelegram, username)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// ResolveCustomer finds the one customer a rep means by ref (anything
// FindCustomers takes). Several matches is an EINVALID error listing them,
// none is ENOTFOUND.
func (r *Reps) ResolveCustomer(ctx context.Context, ref string) (*crm.Customer, error) {
	found, err := r.FindCustomers(ctx, ref)
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, crm.Errorf(crm.ENOTFOUND, "No customer matches %q.", ref).Say("customer_not_found", ref)
	case 1:
		return found[0], nil
	}
	var names []string
	for i, cu := range found {
		if i == 5 {
			names = append(names, "…")
			break
		}
		// A customer without a name is their id alone, not "#7 Customer #7".
		names = append(names, strings.TrimSpace(fmt.Sprintf("#%d %s", cu.ID, cu.Name)))
	}
	return nil, crm.Errorf(crm.EINVALID, "%d customers match %q (%s): use the customer id.", len(found), ref, strings.Join(names, ", ")).
		Say("customer_ambiguous", len(found), ref, strings.Join(names, ", "))
}

// OrderSummary is a customer's buying history in numbers.
type OrderSummary struct {
	Count   int
	Total   int64 // VND
	Average int64 // VND per order
	Last    *crm.Order
	// PerYear is the estimated number of orders per year: 365 divided by the
	// mean days between orders (at most 52), 1 for a single order, 0 without.
	PerYear float64
	// Value is what crm.DefaultValueModel expects of the customer over the
	// next twelve months, from how often and how recently they bought;
	// LifetimeValue is its CLV.
	Value         crm.CustomerValue
	LifetimeValue int64
}

// OfferLine is what happened to one offer with a customer.
type OfferLine struct {
	ID       string
	Name     string
	Shown    int
	Accepted int
	Declined int
}

// CustomerCard is everything a rep sees about one customer.
type CustomerCard struct {
	Customer *crm.Customer
	// Recent holds the last RecentOnCard interactions, oldest first.
	Recent []*crm.Interaction
	Orders OrderSummary
	// Offers lists the offers shown to the customer, most shown first.
	Offers         []OfferLine
	OffersShown    int
	OffersAccepted int
}

// CustomerCard returns a customer's card.
func (r *Reps) CustomerCard(ctx context.Context, id crm.ID) (*CustomerCard, error) {
	card := &CustomerCard{}
	err := r.store.View(ctx, func(tx crm.Tx) error {
		cu, err := tx.Customer(id)
		if err != nil {
			return err
		}
		card.Customer = cu
		if card.Recent, err = tx.RecentInteractions(cu.ID, RecentOnCard); err != nil {
			return err
		}
		orders, err := tx.Orders(cu.ID)
		if err != nil {
			return err
		}
		card.Orders = summarizeOrders(cu, orders, r.now())
		for oid, st := range cu.Offers {
			line := OfferLine{ID: oid, Name: oid, Shown: st.Shown, Accepted: st.Accepted, Declined: st.Declined}
			if o := r.offers.Load().Get(oid); o != nil && o.Name != "" {
				line.Name = o.Name
			}
			card.Offers = append(card.Offers, line)
			card.OffersShown += st.Shown
			if st.Accepted > 0 {
				card.OffersAccepted++
			}
		}
		sort.Slice(card.Offers, func(i, j int) bool {
			a, b := card.Offers[i], card.Offers[j]
			if a.Shown != b.Shown {
				return a.Shown > b.Shown
			}
			return a.ID < b.ID
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("customer card %d: %w", id, err)
	}
	return card, nil
}

// summarizeOrders computes the order summary from the customer's running
// aggregates (which include imported history) and their stored orders.
func summarizeOrders(cu *crm.Customer, orders []*crm.Order, now time.Time) OrderSummary {
	s := OrderSummary{Count: cu.Stats.Orders, Total: cu.Stats.TotalSpent, Average: cu.Stats.AvgOrderValue()}
	for _, o := range orders {
		if s.Last == nil || o.Time.After(s.Last.Time) || (o.Time.Equal(s.Last.Time) && o.ID > s.Last.ID) {
			s.Last = o
		}
	}
	s.PerYear = OrdersPerYear(&cu.Stats)
	s.Value = crm.DefaultValueModel.Value(&cu.Stats, now)
	s.LifetimeValue = s.Value.CLV
	return s
}

// OrdersPerYear estimates how often a customer buys: 365 divided by the mean
// number of days between their orders (capped at 52, weekly), 1 with a
// single order, 0 without orders.
func OrdersPerYear(a *crm.Aggregates) float64 {
	switch {
	case a.Orders == 0:
		return 0
	case a.Orders == 1:
		return 1
	}
	iv := a.AvgOrderIntervalDays()
	if iv <= 365.0/52 {
		return 52
	}
	return math.Round(365/iv*10) / 10
}

// SegmentPage is one page of a segment's customers, most valuable first.
type SegmentPage struct {
	Segment string
	Count   int64
	Page    int // 1-based
	Pages   int
	Size    int
	// Customers are sorted by total spent, highest first (then by id).
	Customers []*crm.Customer
}

// SegmentPage returns page (1-based) of size customers of a segment, most
// valuable first. It reads every customer of the segment to sort them.
func (r *Reps) SegmentPage(ctx context.Context, name string, page, size int) (*SegmentPage, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	segs := r.segments.Load()
	if segs == nil || segs.Rule(name) == nil {
		var known []string
		if segs != nil {
			known = segs.Names()
		}
		return nil, crm.Errorf(crm.ENOTFOUND, "There is no segment %q. Segments: %s.", name, strings.Join(known, ", ")).
			Say("segment_unknown", name, strings.Join(known, ", "))
	}
	if size <= 0 {
		size = 10
	}
	if page < 1 {
		page = 1
	}
	out := &SegmentPage{Segment: name, Page: page, Size: size}
	// The index lists a segment most valuable first: a page is read as a
	// run of ids, and only its customers are decoded.
	err := r.store.View(ctx, func(tx crm.Tx) error {
		var err error
		if out.Count, err = tx.SegmentCount(name); err != nil {
			return err
		}
		out.Pages = int((out.Count + int64(size) - 1) / int64(size))
		from, i := (page-1)*size, 0
		err = tx.SegmentCustomers(name, func(id crm.ID) error {
			defer func() { i++ }()
			if i < from {
				return ctx.Err()
			}
			if i >= from+size {
				return errPageDone
			}
			cu, err := tx.Customer(id)
			if err != nil {
				return err
			}
			out.Customers = append(out.Customers, cu)
			return nil
		})
		if errors.Is(err, errPageDone) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", name, err)
	}
	return out, nil
}

// errPageDone stops a scan once a page is read.
var errPageDone = errors.New("page read")

// OfferPeriod is how one offer did over a period.
type OfferPeriod struct {
	ID       string
	Name     string
	Shown    int64
	Accepted int64
	Declined int64
	More     int64
	Ordered  int64
}

// Conversion is accepted / shown (0 when never shown).
func (o OfferPeriod) Conversion() float64 {
	if o.Shown == 0 {
		return 0
	}
	return float64(o.Accepted) / float64(o.Shown)
}

// SegmentCount is the number of customers in a segment now.
type SegmentCount struct {
	Name  string
	Count int64
}

// Stats are the business numbers over the last Days days (today included),
// read from counters in O(days).
type Stats struct {
	Days     int
	From, To string // YYYY-MM-DD (UTC days)

	Customers    int64          // now
	Segments     []SegmentCount // now, in rule order
	NewCustomers int64
	MessagesIn   map[string]int64 // per channel
	MessagesOut  map[string]int64 // per channel
	Offers       []OfferPeriod    // by shown, highest first
	SegmentMoves map[string]int64 // customers who moved into each segment
	Orders       int64
	Revenue      int64
	Handoffs     int64
	OptOuts      int64
	Answers      map[string]int64 // rules, llm
	Moods        map[string]int64 // messages the LLM read as positive, neutral, negative
}

// Stats returns the numbers of the last days days, today included (days < 1
// means today only). Days are UTC days, as the counters are.
func (r *Reps) Stats(ctx context.Context, days int) (*Stats, error) {
	if days < 1 {
		days = 1
	}
	if days > 366 {
		return nil, crm.Errorf(crm.EINVALID, "Stats cover at most 366 days.").Say("stats_too_long")
	}
	now := r.now().UTC()
	st := &Stats{Days: days, To: now.Format("2006-01-02"), From: now.AddDate(0, 0, -(days - 1)).Format("2006-01-02"),
		MessagesIn: map[string]int64{}, MessagesOut: map[string]int64{}, SegmentMoves: map[string]int64{}, Answers: map[string]int64{}, Moods: map[string]int64{}}
	offers := map[string]*OfferPeriod{}
	offer := func(id string) *OfferPeriod {
		o := offers[id]
		if o == nil {
			o = &OfferPeriod{ID: id, Name: id}
			if co := r.offers.Load().Get(id); co != nil && co.Name != "" {
				o.Name = co.Name
			}
			offers[id] = o
		}
		return o
	}
	err := r.store.View(ctx, func(tx crm.Tx) error {
		var err error
		if st.Customers, err = tx.CustomerCount(); err != nil {
			return err
		}
		if segs := r.segments.Load(); segs != nil {
			for _, n := range segs.Names() {
				cnt, err := tx.SegmentCount(n)
				if err != nil {
					return err
				}
				st.Segments = append(st.Segments, SegmentCount{Name: n, Count: cnt})
			}
		}
		for d := 0; d < days; d++ {
			prefix := "d:" + now.AddDate(0, 0, -d).Format("20060102") + ":"
			m, err := tx.Counters(prefix)
			if err != nil {
				return err
			}
			for k, v := range m {
				name := strings.TrimPrefix(k, prefix)
				switch {
				case name == "new_customers":
					st.NewCustomers += v
				case name == "orders":
					st.Orders += v
				case name == "revenue":
					st.Revenue += v
				case name == "handoffs":
					st.Handoffs += v
				case name == "opt_outs":
					st.OptOuts += v
				case strings.HasPrefix(name, "msg_in:"):
					st.MessagesIn[strings.TrimPrefix(name, "msg_in:")] += v
				case strings.HasPrefix(name, "msg_out:"):
					st.MessagesOut[strings.TrimPrefix(name, "msg_out:")] += v
				case strings.HasPrefix(name, "segment_moves:"):
					st.SegmentMoves[strings.TrimPrefix(name, "segment_moves:")] += v
				case strings.HasPrefix(name, "answers:"):
					st.Answers[strings.TrimPrefix(name, "answers:")] += v
				case strings.HasPrefix(name, "sentiment:"):
					st.Moods[strings.TrimPrefix(name, "sentiment:")] += v
				case strings.HasPrefix(name, "offer:"):
					rest := strings.TrimPrefix(name, "offer:")
					i := strings.LastIndexByte(rest, ':')
					if i <= 0 {
						continue
					}
					o := offer(rest[:i])
					switch rest[i+1:] {
					case crm.OfferShown:
						o.Shown += v
					case crm.OfferAccepted:
						o.Accepted += v
					case crm.OfferDeclined:
						o.Declined += v
					case crm.OfferMore:
						o.More += v
					case "ordered":
						o.Ordered += v
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for _, o := range offers {
		st.Offers = append(st.Offers, *o)
	}
	sort.Slice(st.Offers, func(i, j int) bool {
		if st.Offers[i].Shown != st.Offers[j].Shown {
			return st.Offers[i].Shown > st.Offers[j].Shown
		}
		return st.Offers[i].ID < st.Offers[j].ID
	})
	return st, nil
}

// RecordOrder adds an order to a customer and recomputes their segment at
// once. It returns the customer after the change and the segment change, if
// any. An order whose Ref was recorded before changes nothing (added=false).
func (r *Reps) RecordOrder(ctx context.Context, o crm.Order, cause string) (cust *crm.Customer, mv *crm.SegmentChange, added bool, err error) {
	if o.Amount <= 0 {
		return nil, nil, false, crm.Errorf(crm.EINVALID, "amount must be positive").Say("amount_not_positive")
	}
	now := r.now()
	if o.Time.IsZero() {
		o.Time = now
	}
	err = r.store.Update(ctx, func(tx crm.Tx) error {
		cust, mv, added = nil, nil, false
		cu, err := tx.Customer(o.CustomerID)
		if err != nil {
			return err
		}
		ord := o
		if added, err = addOrder(tx, cu, &ord); err != nil || !added {
			cust = cu
			return err
		}
		if mv, err = moveSegment(tx, r.segments.Load(), cu, now, cause); err != nil {
			return err
		}
		cu.UpdatedAt = now
		cust = cu
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return nil, nil, false, fmt.Errorf("record order: %w", err)
	}
	r.countMoves(mv)
	return cust, mv, added, nil
}

// updateCustomer loads a customer, lets fn change it, recomputes the segment
// under segs when there is a cause (tags are facts the rules see), and saves
// it, all in one transaction at now. The caller counts the move it returns
// once committed. Reps and the conversation's handoffs (TakeHandoff, no
// cause) share it.
func updateCustomer(ctx context.Context, store crm.Store, segs *crm.Segments, now time.Time, id crm.ID, cause string, fn func(cu *crm.Customer) error) (*crm.Customer, *crm.SegmentChange, error) {
	var cust *crm.Customer
	var mv *crm.SegmentChange
	err := store.Update(ctx, func(tx crm.Tx) error {
		cust, mv = nil, nil
		cu, err := tx.Customer(id)
		if err != nil {
			return err
		}
		if err := fn(cu); err != nil {
			return err
		}
		if cause != "" {
			if mv, err = moveSegment(tx, segs, cu, now, cause); err != nil {
				return err
			}
		}
		cu.UpdatedAt = now
		cust = cu
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return nil, nil, err
	}
	return cust, mv, nil
}

// updateCustomer is the package's updateCustomer on the reps' store, rules
// and clock, with the move counted.
func (r *Reps) updateCustomer(ctx context.Context, id crm.ID, cause string, fn func(cu *crm.Customer) error) (*crm.Customer, *crm.SegmentChange, error) {
	cu, mv, err := updateCustomer(ctx, r.store, r.segments.Load(), r.now(), id, cause, fn)
	if err != nil {
		return nil, nil, err
	}
	r.countMoves(mv)
	return cu, mv, nil
}

// noteReplayWindow covers Slack's signature window (±5 minutes) with a
// margin.
const noteReplayWindow = 15 * time.Minute

// AddNote leaves a rep's note on a customer; the same note by the same
// author again within noteReplayWindow changes nothing.
func (r *Reps) AddNote(ctx context.Context, id crm.ID, author, text string) (*crm.Customer, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, crm.Errorf(crm.EINVALID, "The note is empty.").Say("note_empty")
	}
	if len([]rune(text)) > MaxTextLen {
		return nil, crm.Errorf(crm.EINVALID, "A note is at most %d characters.", MaxTextLen).Say("note_long", MaxTextLen)
	}
	now := r.now()
	cu, _, err := r.updateCustomer(ctx, id, "", func(cu *crm.Customer) error {
		// The same note by the same author within noteReplayWindow is a
		// replayed request (a signed Slack command sent again, even after
		// a restart), not a second note.
		for _, n := range slices.Backward(cu.Notes) {
			if now.Sub(n.Time) > noteReplayWindow {
				break
			}
			if n.Author == author && n.Text == text {
				return nil
			}
		}
		cu.Notes = append(cu.Notes, crm.Note{Time: now, Author: author, Text: text})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add note to %d: %w", id, err)
	}
	return cu, nil
}

// NormalizeTag lower-cases a tag and checks it is one word of letters,
// digits, '-', '_' or '.', so it can be used in segment rules.
func NormalizeTag(tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if t == "" || len([]rune(t)) > 40 {
		return "", crm.Errorf(crm.EINVALID, "A tag is 1 to 40 characters.").Say("tag_length")
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return "", crm.Errorf(crm.EINVALID, "A tag is one word (letters, digits, - _ .): %q is not.", tag).Say("tag_word", tag)
		}
	}
	return t, nil
}

// Tag adds a tag to a customer and recomputes their segment.
func (r *Reps) Tag(ctx context.Context, id crm.ID, tag string) (*crm.Customer, *crm.SegmentChange, error) {
	t, err := NormalizeTag(tag)
	if err != nil {
		return nil, nil, err
	}
	cu, mv, err := r.updateCustomer(ctx, id, "tag", func(cu *crm.Customer) error { cu.AddTag(t); return nil })
	if err != nil {
		return nil, nil, fmt.Errorf("tag %d: %w", id, err)
	}
	return cu, mv, nil
}

// Untag removes a tag from a customer and recomputes their segment.
func (r *Reps) Untag(ctx context.Context, id crm.ID, tag string) (*crm.Customer, *crm.SegmentChange, error) {
	t, err := NormalizeTag(tag)
	if err != nil {
		return nil, nil, err
	}
	cu, mv, err := r.updateCustomer(ctx, id, "tag", func(cu *crm.Customer) error {
		if !cu.HasTag(t) {
			return crm.Errorf(crm.ENOTFOUND, "%s has no tag %q.", cu.DisplayName(), t).Say("tag_missing", nameOrID(cu), t)
		}
		cu.RemoveTag(t)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("untag %d: %w", id, err)
	}
	return cu, mv, nil
}

// nameOrID is a customer's name, or "#7" without one: what a translated
// message names them by (crm.Customer.DisplayName is English).
func nameOrID(cu *crm.Customer) string {
	if cu.Name == "" {
		return "#" + strconv.FormatUint(uint64(cu.ID), 10)
	}
	return cu.Name
}
